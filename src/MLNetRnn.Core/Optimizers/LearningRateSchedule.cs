namespace MLNetRnn.Core.Optimizers;

/// <summary>How the learning rate changes over epochs.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>The base rate throughout.</summary>
    Constant,

    /// <summary>lr₀ · γ^⌊epoch / StepSize⌋ (torch StepLR).</summary>
    Step,

    /// <summary>lr_min + (lr₀ − lr_min)·(1 + cos(π·epoch/E))/2 over E = the configured epochs (torch CosineAnnealingLR).</summary>
    Cosine,
}

/// <summary>A learning-rate schedule evaluated at the start of each epoch.</summary>
public sealed record LearningRateSchedule
{
    /// <summary>The constant schedule.</summary>
    public static LearningRateSchedule Constant { get; } = new();

    /// <summary>The schedule's shape. Default: constant.</summary>
    public LearningRateScheduleKind Kind { get; init; } = LearningRateScheduleKind.Constant;

    /// <summary>Epochs between decays for <see cref="LearningRateScheduleKind.Step"/>, at least 1. Default: 10.</summary>
    public int StepSize { get; init; } = 10;

    /// <summary>Decay factor γ in (0, 1] for <see cref="LearningRateScheduleKind.Step"/>. Default: 0.5.</summary>
    public float Gamma { get; init; } = 0.5f;

    /// <summary>Final rate of <see cref="LearningRateScheduleKind.Cosine"/>, ≥ 0. Default: 0.</summary>
    public float MinimumLearningRate { get; init; }

    /// <summary>The learning rate for 0-based <paramref name="epoch"/> of <paramref name="epochs"/>.</summary>
    public float At(float baseRate, int epoch, int epochs) => Kind switch
    {
        LearningRateScheduleKind.Step => baseRate * MathF.Pow(Gamma, epoch / StepSize),
        LearningRateScheduleKind.Cosine => MinimumLearningRate + (baseRate - MinimumLearningRate) * 0.5f * (1f + MathF.Cos(MathF.PI * epoch / Math.Max(1, epochs))),
        _ => baseRate,
    };

    /// <summary>Throws, naming the option, if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown schedule.");
        if (StepSize < 1) throw new ArgumentOutOfRangeException(nameof(StepSize), StepSize, "StepSize must be at least 1.");
        if (!(Gamma > 0f && Gamma <= 1f)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "Gamma must be in (0, 1].");
        if (!(MinimumLearningRate >= 0f && float.IsFinite(MinimumLearningRate))) throw new ArgumentOutOfRangeException(nameof(MinimumLearningRate), MinimumLearningRate, "MinimumLearningRate must be non-negative.");
    }
}

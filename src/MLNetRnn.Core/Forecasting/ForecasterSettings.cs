using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

/// <summary>
/// The defaults of the recurrent forecasters, in one place: series mode (<c>ForecastByRnn</c>) and window mode
/// (<c>Regression.Trainers.Rnn</c>) both take theirs from here. They were chosen on the 21 series of the accuracy
/// protocol (docs/accuracy.md), one configuration for every series.
/// </summary>
public static class ForecastingDefaults
{
    /// <summary>Cell of every layer.</summary>
    public const RecurrentCellKind Cell = RecurrentCellKind.Gru;

    /// <summary>Hidden units of the single default layer.</summary>
    public const int HiddenSize = 32;

    /// <summary>Networks trained from different seeds, each holding out its own block of the series, and averaged.</summary>
    public const int EnsembleSize = 5;

    /// <summary>Training loss: Huber (δ = 1 in network units, about one typical step of the series), which weighs
    /// the rare large miss linearly instead of quadratically, closer to the absolute errors forecasts are judged by.</summary>
    public const LossKind Loss = LossKind.Huber;

    /// <summary>Ceiling on epochs; early stopping and <see cref="MaximumSteps"/> usually end training first.</summary>
    public const int Epochs = 200;

    /// <summary>Windows per mini-batch.</summary>
    public const int BatchSize = 16;

    /// <summary>Windows sampled per epoch (all of them when there are fewer), so an epoch costs the same on a
    /// series of 100 or 100,000 values.</summary>
    public const int WindowsPerEpoch = 256;

    /// <summary>Ceiling on optimiser steps per network: the training budget that keeps a fit's time bounded.</summary>
    public const int MaximumSteps = 2000;

    /// <summary>The optimiser: Adam with decoupled weight decay.</summary>
    public const OptimizerKind Optimizer = OptimizerKind.AdamW;

    /// <summary>Decoupled weight decay of the forecaster's networks. Their heads start at zero (the base itself), so
    /// decay pulls the correction back towards the base unless the data keep pushing it away: a prior that the base
    /// is right. (Window mode, which has no base, keeps plain Adam.)</summary>
    public const float WeightDecay = 0.5f;

    /// <summary>Adam's learning rate.</summary>
    public const float LearningRate = 3e-3f;

    /// <summary>Global-norm clipping threshold.</summary>
    public const float GradientClippingThreshold = 1f;

    /// <summary>Fraction of windows (series mode) or rows (window mode), from the end, held out for validation.</summary>
    public const float ValidationFraction = 0.2f;

    /// <summary>Epochs without a better validation loss before training stops.</summary>
    public const int EarlyStoppingPatience = 20;
}

/// <summary>Everything the forecaster needs to train and to forecast, resolved from the user's options.</summary>
internal sealed record ForecasterSettings
{
    public required int WindowSize { get; init; }             // W: past values the net reads
    public required int Horizon { get; init; }                // H: steps forecast at once
    public int SeasonalPeriod { get; init; } = 1;             // m: 1 = no season
    public int CovariateCount { get; init; }                  // C: known numeric features per row
    public SeriesScaling Scaling { get; init; } = SeriesScaling.Auto;
    public SeasonalAdjustment SeasonalAdjustment { get; init; } = SeasonalAdjustment.Auto;
    public ForecastBase Base { get; init; } = ForecastBase.Auto;
    public bool ZeroHeadInitialization { get; init; } = true; // start from "no correction": the head's weights at 0
    public bool CorrectionDamping { get; init; } = true;      // damp the correction by λ fitted on validation windows
    public bool SeasonalFeatures { get; init; }               // add sin/cos of the position in the season
    public bool Recursive { get; init; }                      // one-step head applied H times instead of a direct H-step head
    public RecurrentCellKind Cell { get; init; } = ForecastingDefaults.Cell;
    public IReadOnlyList<int> HiddenSizes { get; init; } = [ForecastingDefaults.HiddenSize];
    public ElmanActivation Activation { get; init; } = ElmanActivation.Tanh;
    public bool LayerNormalization { get; init; }
    public int EnsembleSize { get; init; } = ForecastingDefaults.EnsembleSize;
    public float ValidationFraction { get; init; } = ForecastingDefaults.ValidationFraction;
    public int WindowsPerEpoch { get; init; } = ForecastingDefaults.WindowsPerEpoch;
    public int MaximumSteps { get; init; } = ForecastingDefaults.MaximumSteps;
    public TimeSpan? TimeLimit { get; init; }                 // wall clock per network; null = none (results then depend only on the seed)
    public int MaximumDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
    public TrainingOptions Training { get; init; } = new();
    public float? ConfidenceLevel { get; init; }             // the level the caller will ask for, to say in the summary if it is extrapolated; not persisted

    /// <summary>Inputs per step: the scaled value, the base's one-step error (with a base), the covariates, and two
    /// seasonal features when enabled.</summary>
    public int InputSize => 1 + (BaseErrorFeature ? 1 : 0) + CovariateCount + (UsesSeasonalFeatures ? 2 : 0);

    /// <summary>Each step also carries the base's one-step error at that step, so the networks see how the base
    /// has been missing lately (what they are asked to correct). Version-1 models have no such input.</summary>
    public bool BaseErrorFeature => Base != ForecastBase.None && !Version1;

    /// <summary>Read from a version-1 payload: the networks' inputs are the scaled value (and covariates) only.</summary>
    public bool Version1 { get; init; }

    public bool UsesSeasonalFeatures => SeasonalFeatures && SeasonalPeriod > 1;

    /// <summary>Outputs of the head: H for the direct strategy, 1 for the recursive one.</summary>
    public int OutputSize => Recursive ? 1 : Horizon;

    public RecurrentNetworkSpec NetworkSpec => new()
    {
        Cell = Cell, InputSize = InputSize, HiddenSizes = HiddenSizes.ToArray(), OutputSize = OutputSize,
        Activation = Activation, LayerNormalization = LayerNormalization,
        Initialization = ZeroHeadInitialization ? new InitializationSpec { HeadWeights = InitializerKind.Zeros } : InitializationSpec.Default,
    };

    /// <summary>Windows each ensemble member holds out as its validation block (early stopping; with the other
    /// members' blocks, the damping λ and the intervals).</summary>
    public int ValidationWindows(int windows) => ValidationFraction <= 0 ? 0 : Math.Max(1, (int)Math.Round(windows * ValidationFraction));

    /// <summary>
    /// Windows dropped on each side of a validation block, so that no validation target is also a training target:
    /// H − 1 with the direct strategy, 0 with the recursive one (whose training target is one step). Never shrunk:
    /// on a short series a smaller gap would let the networks see the very values they are judged on, and the
    /// held-out evidence for their correction (λ) would be worthless.
    /// </summary>
    public int FoldGap => Recursive ? 0 : Horizon - 1;

    /// <summary>The shortest series a fit accepts: one window and the H values after it. Shorter than what the
    /// networks need (<see cref="MinimumNetworkWindows"/> training windows and a validation window), a fit keeps
    /// the base alone and says so.</summary>
    public int MinimumLength => WindowSize + Horizon;

    /// <summary>Windows of a validation block that early stopping evaluates after each epoch (evenly spaced through
    /// the block); λ and the bounds use every held-out window.</summary>
    public const int MaximumEarlyStoppingWindows = 256;

    /// <summary>Training windows below which the networks are not trained (the base alone is kept).</summary>
    public const int MinimumNetworkWindows = 8;

    /// <summary>Values of raw history a forecast reads: the window, and one season for seasonal naive.</summary>
    public int HistoryLength => Math.Max(WindowSize, SeasonalPeriod);

    // *** Binary format (forecaster payload version 2; enums by name) ***
    // int32 W, H, m, C; string scaling, adjustment, base; bool zero head, damping, seasonal features, recursive;
    // string cell; int32 L, int32[L] hidden; string activation; bool layer norm; int32 K; float validation fraction
    public void Write(BinaryWriter w)
    {
        w.Write(WindowSize); w.Write(Horizon); w.Write(SeasonalPeriod); w.Write(CovariateCount);
        Persisted.WriteEnum(w, Scaling); Persisted.WriteEnum(w, SeasonalAdjustment); Persisted.WriteEnum(w, Base);
        w.Write(ZeroHeadInitialization); w.Write(CorrectionDamping); w.Write(SeasonalFeatures); w.Write(Recursive);
        Persisted.WriteEnum(w, Cell);
        w.Write(HiddenSizes.Count);
        foreach (int h in HiddenSizes) w.Write(h);
        Persisted.WriteEnum(w, Activation);
        w.Write(LayerNormalization); w.Write(EnsembleSize); w.Write(ValidationFraction);
    }

    /// <summary>Reads what <see cref="Write"/> wrote. Training options are not persisted: a loaded model
    /// forecasts, it does not retrain.</summary>
    public static ForecasterSettings Read(BinaryReader r)
    {
        int w = r.ReadInt32(), h = r.ReadInt32(), m = r.ReadInt32(), c = r.ReadInt32();
        var scaling = Persisted.ReadEnum<SeriesScaling>(r);
        var adjustment = Persisted.ReadEnum<SeasonalAdjustment>(r);
        var b = Persisted.ReadEnum<ForecastBase>(r);
        bool zeroHead = r.ReadBoolean(), damping = r.ReadBoolean(), seasonal = r.ReadBoolean(), recursive = r.ReadBoolean();
        var cell = Persisted.ReadEnum<RecurrentCellKind>(r);
        var hidden = ReadHidden(r);
        var activation = Persisted.ReadEnum<ElmanActivation>(r);
        bool ln = r.ReadBoolean();
        int ensemble = r.ReadInt32();
        float vf = r.ReadSingle();
        return Checked(new ForecasterSettings
        {
            WindowSize = w, Horizon = h, SeasonalPeriod = m, CovariateCount = c, Scaling = scaling, SeasonalAdjustment = adjustment, Base = b,
            ZeroHeadInitialization = zeroHead, CorrectionDamping = damping, SeasonalFeatures = seasonal, Recursive = recursive,
            Cell = cell, HiddenSizes = hidden, Activation = activation, LayerNormalization = ln, EnsembleSize = ensemble, ValidationFraction = vf,
        });
    }

    /// <summary>Reads the settings of payload version 1 (enums as integers, seasonal naive as the only base), as
    /// the equivalent version-2 settings: a v1 model is a seasonal-naive base without seasonal adjustment.</summary>
    public static ForecasterSettings ReadVersion1(BinaryReader r)
    {
        int w = r.ReadInt32(), h = r.ReadInt32(), m = r.ReadInt32(), c = r.ReadInt32();
        var scaling = Version1Enum<SeriesScaling>(r.ReadInt32());
        bool seasonal = r.ReadBoolean(), recursive = r.ReadBoolean(), baseline = r.ReadBoolean(), shrink = r.ReadBoolean();
        var cell = Version1Enum<RecurrentCellKind>(r.ReadInt32());
        var hidden = ReadHidden(r);
        var activation = Version1Enum<ElmanActivation>(r.ReadInt32());
        bool ln = r.ReadBoolean();
        int ensemble = r.ReadInt32();
        float vf = r.ReadSingle();
        r.ReadBoolean();   // v1's RefitOnFullSeries: the networks were refitted before saving; nothing to do at load
        return Checked(new ForecasterSettings
        {
            WindowSize = w, Horizon = h, SeasonalPeriod = m, CovariateCount = c, Scaling = scaling, SeasonalAdjustment = SeasonalAdjustment.None,
            Base = baseline ? ForecastBase.SeasonalNaive : ForecastBase.None, ZeroHeadInitialization = baseline, CorrectionDamping = shrink,
            SeasonalFeatures = seasonal, Recursive = recursive, Cell = cell, HiddenSizes = hidden, Activation = activation, LayerNormalization = ln,
            EnsembleSize = ensemble, ValidationFraction = vf, Version1 = true,
        });
    }

    // Version 1 wrote these enums as their integer values; these are the values of that release, pinned here so
    // that reordering the enums can never change what an old file means.
    private static T Version1Enum<T>(int value) where T : struct, Enum
    {
        string[] names = typeof(T) == typeof(SeriesScaling) ? ["Auto", "LogRatio", "Difference", "Global"]
            : typeof(T) == typeof(RecurrentCellKind) ? ["Elman", "Lstm", "Gru"]
            : typeof(T) == typeof(ElmanActivation) ? ["Tanh", "Sigmoid", "Relu", "LeakyRelu", "RandomizedLeakyRelu", "Elu"]
            : throw new InvalidOperationException($"No version-1 table for {typeof(T).Name}.");
        if (value < 0 || value >= names.Length) throw new InvalidDataException($"{typeof(T).Name} value {value} is out of range for format version 1.");
        return Enum.Parse<T>(names[value]);
    }

    private static int[] ReadHidden(BinaryReader r)
    {
        int layers = r.ReadInt32();
        if (layers < 1 || layers > 64) throw new InvalidDataException($"Layer count {layers} is out of range.");
        var hidden = new int[layers];
        for (int i = 0; i < layers; i++) hidden[i] = r.ReadInt32();
        return hidden;
    }

    private static ForecasterSettings Checked(ForecasterSettings s)
    {
        if (s.WindowSize < 1 || s.Horizon < 1 || s.SeasonalPeriod < 1 || s.CovariateCount < 0 || s.EnsembleSize < 0 || s.EnsembleSize > 1024
            || s.WindowSize > 1 << 20 || s.Horizon > 1 << 20 || s.SeasonalPeriod > 1 << 20 || s.CovariateCount > 4096)
            throw new InvalidDataException($"Saved forecaster settings are out of range (window {s.WindowSize}, horizon {s.Horizon}, period {s.SeasonalPeriod}, covariates {s.CovariateCount}, ensemble {s.EnsembleSize}).");
        try
        {
            s.NetworkSpec.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The saved network settings are invalid: {ex.Message}", ex);
        }
        return s;
    }
}

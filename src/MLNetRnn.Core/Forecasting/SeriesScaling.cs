using System.ComponentModel;
using System.Diagnostics;
using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting;

/// <summary>How each input window is scaled before it reaches the network, and its forecasts scaled back.</summary>
/// <remarks>
/// A global z-score from the training data fails on trending series: values beyond the training range map to
/// inputs the net never saw and targets it cannot produce. Local scaling divides (or subtracts) each window's
/// own level — the mean of its last season (last value when there is no season) — so the net learns shapes
/// and relative changes, which carry over to any level.
/// </remarks>
public enum SeriesScaling
{
    /// <summary><see cref="LogRatio"/> when every training value is positive, otherwise <see cref="Difference"/>.</summary>
    Auto,

    /// <summary>x̃ = ln(x / level) / s, with s the mean absolute log step of the training series: relative changes, suited to positive series with multiplicative trend or
    /// seasonality; forecasts stay positive.</summary>
    LogRatio,

    /// <summary>x̃ = (x − level) / s, with s the mean absolute step of the training series: additive changes,
    /// for series that cross zero.</summary>
    Difference,

    /// <summary>x̃ = (x − μ) / σ with μ, σ from the training series: the plain baseline, for comparison.</summary>
    Global,
}

/// <summary>
/// A fitted scaling: one level per window, plus the training statistics the mode needs. The one scaling module of
/// both modes: series mode scales each window of a series by the mean of its last season; window mode
/// (<c>Regression.Trainers.Rnn</c>) scales each row by the last value (or the mean) of its target feature. They
/// differ only in where the level comes from and in what sets the unit s (<see cref="Fit"/>,
/// <see cref="FitToTargets"/>). Allocation-free per window.
/// </summary>
/// <remarks>Public for the ML.NET layer (MLNetRnn), not part of the stable API: it may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WindowScaler
{
    /// <summary>A scaling of kind <paramref name="kind"/> whose level is the mean of the last <paramref name="levelSteps"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public WindowScaler(SeriesScaling kind, int levelSteps, float scale, float mean, float floor)
    {
        Debug.Assert(kind != SeriesScaling.Auto);
        Kind = kind; LevelSteps = levelSteps; Scale = scale; Mean = mean; Floor = floor;
    }

    /// <summary>The resolved mode (never <see cref="SeriesScaling.Auto"/>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public SeriesScaling Kind { get; }

    /// <summary>Trailing values averaged into the level (capped by the window): series mode the seasonal period,
    /// window mode 1 (the last value) or every step (the window mean).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int LevelSteps { get; }

    /// <summary>Difference: mean |Δx| of the training series; LogRatio: mean |Δ ln x|; Global: σ. Puts a
    /// typical one-step change at about 1 in network units.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float Scale { get; }

    /// <summary>Global: μ.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float Mean { get; }

    /// <summary>LogRatio: the smallest value taken as positive (a fraction of the training minimum), so a later
    /// zero or negative observation does not produce an infinite input.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float Floor { get; }

    /// <summary>Fits the scaling to the training values.</summary>
    internal static WindowScaler Fit(SeriesScaling requested, ReadOnlySpan<float> train, int windowSize, int seasonalPeriod)
    {
        float min = float.MaxValue;
        double sum = 0, steps = 0;
        foreach (float v in train) { if (v < min) min = v; sum += v; }
        double logSteps = 0;
        for (int i = 1; i < train.Length; i++)
        {
            steps += Math.Abs(train[i] - train[i - 1]);
            if (train[i] > 0 && train[i - 1] > 0) logSteps += Math.Abs(Math.Log(train[i] / train[i - 1]));
        }
        double mean = sum / train.Length;
        double var = 0;
        foreach (float v in train) var += (v - mean) * (v - mean);
        float std = (float)Math.Sqrt(var / Math.Max(1, train.Length - 1));
        float meanStep = (float)(steps / Math.Max(1, train.Length - 1));

        var kind = requested == SeriesScaling.Auto ? (min > 0 ? SeriesScaling.LogRatio : SeriesScaling.Difference) : requested;
        if (kind == SeriesScaling.LogRatio && !(min > 0))
            throw new ArgumentException($"LogRatio scaling needs a positive series; the training values reach {min}. Use SeriesScaling.Difference or Auto.", "Scaling");
        int levelSteps = Math.Clamp(seasonalPeriod, 1, windowSize);
        return new WindowScaler(kind, levelSteps,
            kind switch
            {
                SeriesScaling.Global => Positive(std),
                SeriesScaling.LogRatio => Positive((float)(logSteps / Math.Max(1, train.Length - 1))),
                _ => Positive(meanStep),
            },
            (float)mean,
            kind == SeriesScaling.LogRatio ? min * 1e-3f : 0f);
    }

    /// <summary>
    /// Fits the unit to what is predicted rather than to the series' steps (window mode): s = the root mean square of
    /// the targets in level units, G(y) − G(ℓ) (G = ln for log ratios, identity otherwise), so a typical target is
    /// about 1 network unit. Global: level μ and unit σ of the targets.
    /// </summary>
    /// <param name="kind">The scaling (not Auto).</param>
    /// <param name="levelSteps">Trailing values averaged into each level (1: the last value).</param>
    /// <param name="levels">The level of each training row.</param>
    /// <param name="targets">The target of each row; positive for log ratios (the caller checks).</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static WindowScaler FitToTargets(SeriesScaling kind, int levelSteps, ReadOnlySpan<float> levels, ReadOnlySpan<float> targets)
    {
        Debug.Assert(kind != SeriesScaling.Auto && levels.Length == targets.Length);
        int N = targets.Length;
        double sum = 0;
        foreach (float y in targets) sum += y;
        double mean = sum / N, sq = 0;
        for (int n = 0; n < N; n++)
        {
            double d = kind switch
            {
                SeriesScaling.LogRatio => Math.Log(targets[n] / levels[n]),
                SeriesScaling.Global => targets[n] - mean,
                _ => targets[n] - levels[n],
            };
            sq += d * d;
        }
        return new WindowScaler(kind, levelSteps, PositiveScale(Math.Sqrt(sq / N)), (float)mean, 0f);
    }

    private static float Positive(float s) => s > 0 && float.IsFinite(s) ? s : 1f;

    // A constant target has no spread to divide by; 1 keeps its values as they are.
    private static float PositiveScale(double s) => s > 1e-30 && double.IsFinite(s) ? (float)s : 1f;

    /// <summary>The level of a window of raw values: mean of its last <see cref="LevelSteps"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float Level(ReadOnlySpan<float> window)
    {
        if (Kind == SeriesScaling.Global) return Mean;
        if (LevelSteps == 1) return window[^1];
        int steps = Math.Min(LevelSteps, window.Length);
        double s = 0;
        for (int i = window.Length - steps; i < window.Length; i++) s += Kind == SeriesScaling.LogRatio ? Math.Log(Math.Max(window[i], Floor)) : window[i];
        s /= steps;
        return (float)(Kind == SeriesScaling.LogRatio ? Math.Exp(s) : s);
    }

    /// <summary>Raw value → network units, relative to <paramref name="level"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float Forward(float x, float level) => Kind switch
    {
        SeriesScaling.LogRatio => MathF.Log(MathF.Max(x, Floor) / level) / Scale,
        _ => (x - level) / Scale,
    };

    /// <summary>Network units → raw value.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float Inverse(float y, float level) => Kind switch
    {
        SeriesScaling.LogRatio => level * MathF.Exp(y * Scale),
        _ => level + Scale * y,
    };

    internal void Write(BinaryWriter w)
    {
        Persisted.WriteEnum(w, Kind); w.Write(LevelSteps); w.Write(Scale); w.Write(Mean); w.Write(Floor);
    }

    internal static WindowScaler Read(BinaryReader r)
    {
        var kind = Persisted.ReadEnum<SeriesScaling>(r);
        if (kind == SeriesScaling.Auto) throw new InvalidDataException("A saved scaling is never Auto.");
        return Checked(kind, r);
    }

    /// <summary>Payload version 1 wrote the kind as its integer value: 1 LogRatio, 2 Difference, 3 Global.</summary>
    internal static WindowScaler ReadVersion1(BinaryReader r)
    {
        int value = r.ReadInt32();
        var kind = value switch
        {
            1 => SeriesScaling.LogRatio, 2 => SeriesScaling.Difference, 3 => SeriesScaling.Global,
            _ => throw new InvalidDataException($"Unknown version-1 scaling {value}."),
        };
        return Checked(kind, r);
    }

    private static WindowScaler Checked(SeriesScaling kind, BinaryReader r)
    {
        int levelSteps = r.ReadInt32();
        float scale = r.ReadSingle(), mean = r.ReadSingle(), floor = r.ReadSingle();
        if (levelSteps < 1 || !(scale > 0) || !float.IsFinite(scale) || !float.IsFinite(mean) || !(floor >= 0))
            throw new InvalidDataException($"Saved scaling out of range: level steps {levelSteps}, scale {scale}, mean {mean}, floor {floor}.");
        return new WindowScaler(kind, levelSteps, scale, mean, floor);
    }
}

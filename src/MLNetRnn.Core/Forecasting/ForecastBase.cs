using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Forecasting;

/// <summary>
/// The statistical forecast the networks learn to correct. Zero correction gives the base itself, so a network
/// that learns nothing useful (or whose correction the validation windows do not support) leaves a sound
/// forecast rather than a bad one.
/// </summary>
public enum ForecastBase
{
    /// <summary>Chosen per series by a rolling-origin evaluation on the training data among naive, seasonal
    /// naive, drift, SES, Holt, damped trend, Theta and the SES/Holt/damped combination.</summary>
    Auto = 0,

    /// <summary>No base: the networks forecast the series relative to the window's level (a plain recurrent forecast).</summary>
    None = 1,

    /// <summary>The last value, repeated (on the seasonally adjusted series).</summary>
    Naive = 2,

    /// <summary>The last season, repeated.</summary>
    SeasonalNaive = 3,

    /// <summary>Random walk with drift.</summary>
    Drift = 4,

    /// <summary>Simple exponential smoothing.</summary>
    SimpleExponentialSmoothing = 5,

    /// <summary>Holt's linear trend.</summary>
    Holt = 6,

    /// <summary>Damped trend.</summary>
    DampedTrend = 7,

    /// <summary>The Theta method (SES with drift).</summary>
    Theta = 8,

    /// <summary>The mean of SES, Holt and damped trend (the M4 "Comb" benchmark).</summary>
    Combination = 9,
}

/// <summary>One candidate base of a series and its validation score, as the training summary shows it.</summary>
/// <param name="Methods">The methods averaged: single methods of <see cref="ForecastBase"/> (never Auto, None or Combination).</param>
/// <param name="Score">Mean absolute error over the validation origins and steps, divided by the in-sample mean
/// absolute seasonal difference (a MASE); NaN when no origin could be scored.</param>
public sealed record BaselineCandidate(IReadOnlyList<ForecastBase> Methods, double Score)
{
    /// <summary>"Theta", or "SimpleExponentialSmoothing+Holt+DampedTrend".</summary>
    public override string ToString() => $"{string.Join("+", Methods)} {Score:F3}";
}

/// <summary>
/// The one mapping between the base users name (<see cref="ForecastBase"/>) and the methods the Baselines layer
/// fits (<see cref="BaselineMethod"/>), and the code a model file holds for a method: its <see cref="BaselineMethod"/>
/// name, which is also its <see cref="ForecastBase"/> name. Readers and writers of methods go through here.
/// </summary>
internal static class BaseMethodCodes
{
    /// <summary>The methods a fixed base averages; null for Auto and None.</summary>
    public static BaselineMethod[]? Methods(this ForecastBase b) => b switch
    {
        ForecastBase.Naive or ForecastBase.SeasonalNaive or ForecastBase.Drift or ForecastBase.SimpleExponentialSmoothing
            or ForecastBase.Holt or ForecastBase.DampedTrend or ForecastBase.Theta => [ToMethod(b)],
        ForecastBase.Combination => [BaselineMethod.SimpleExponentialSmoothing, BaselineMethod.Holt, BaselineMethod.DampedTrend],
        _ => null,
    };

    /// <summary>The Baselines method a single-method base names.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Auto, None or Combination.</exception>
    public static BaselineMethod ToMethod(ForecastBase b) => b switch
    {
        ForecastBase.Naive => BaselineMethod.Naive,
        ForecastBase.SeasonalNaive => BaselineMethod.SeasonalNaive,
        ForecastBase.Drift => BaselineMethod.Drift,
        ForecastBase.SimpleExponentialSmoothing => BaselineMethod.SimpleExponentialSmoothing,
        ForecastBase.Holt => BaselineMethod.Holt,
        ForecastBase.DampedTrend => BaselineMethod.DampedTrend,
        ForecastBase.Theta => BaselineMethod.Theta,
        _ => throw new ArgumentOutOfRangeException(nameof(b), b, "Not a single method."),
    };

    /// <summary>The base that names a Baselines method.</summary>
    public static ForecastBase ToBase(BaselineMethod m) => m switch
    {
        BaselineMethod.Naive => ForecastBase.Naive,
        BaselineMethod.SeasonalNaive => ForecastBase.SeasonalNaive,
        BaselineMethod.Drift => ForecastBase.Drift,
        BaselineMethod.SimpleExponentialSmoothing => ForecastBase.SimpleExponentialSmoothing,
        BaselineMethod.Holt => ForecastBase.Holt,
        BaselineMethod.DampedTrend => ForecastBase.DampedTrend,
        BaselineMethod.Theta => ForecastBase.Theta,
        _ => throw new ArgumentOutOfRangeException(nameof(m), m, "Unknown method."),
    };

    /// <summary>A ranked candidate of the base selection, as users see it.</summary>
    public static BaselineCandidate ToCandidate(RankedBase r) => new(r.Methods.Select(ToBase).ToArray(), r.Score);

    /// <summary>Writes a method of a candidate by its <see cref="BaselineMethod"/> name.</summary>
    public static void WriteMethod(BinaryWriter w, ForecastBase method) => Persisted.WriteEnum(w, ToMethod(method));

    /// <summary>Reads what <see cref="WriteMethod"/> wrote; an unknown name is invalid data.</summary>
    public static ForecastBase ReadMethod(BinaryReader r) => ToBase(Persisted.ReadEnum<BaselineMethod>(r));
}

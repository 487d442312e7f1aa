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

internal static class ForecastBaseExtensions
{
    /// <summary>The methods a fixed base averages; null for Auto and None.</summary>
    public static BaselineMethod[]? Methods(this ForecastBase b) => b switch
    {
        ForecastBase.Naive => [BaselineMethod.Naive],
        ForecastBase.SeasonalNaive => [BaselineMethod.SeasonalNaive],
        ForecastBase.Drift => [BaselineMethod.Drift],
        ForecastBase.SimpleExponentialSmoothing => [BaselineMethod.SimpleExponentialSmoothing],
        ForecastBase.Holt => [BaselineMethod.Holt],
        ForecastBase.DampedTrend => [BaselineMethod.DampedTrend],
        ForecastBase.Theta => [BaselineMethod.Theta],
        ForecastBase.Combination => [BaselineMethod.SimpleExponentialSmoothing, BaselineMethod.Holt, BaselineMethod.DampedTrend],
        _ => null,
    };
}

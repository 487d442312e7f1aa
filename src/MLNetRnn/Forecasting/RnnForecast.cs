namespace MLNetRnn;

/// <summary>A forecast from <see cref="RnnForecastingEngine"/>.</summary>
/// <param name="Forecast">The next values, one per step ahead.</param>
/// <param name="LowerBound">Lower bounds at <paramref name="ConfidenceLevel"/> (NaN when the model was trained
/// without validation windows).</param>
/// <param name="UpperBound">Upper bounds at <paramref name="ConfidenceLevel"/>.</param>
/// <param name="ConfidenceLevel">Coverage the bounds aim at.</param>
public sealed record RnnForecast(float[] Forecast, float[] LowerBound, float[] UpperBound, float ConfidenceLevel)
{
    /// <summary>With quantile heads: the quantiles of every step, step-major (step k's levels at k·Q … k·Q + Q − 1),
    /// ascending within a step; empty otherwise.</summary>
    public float[] Quantiles { get; init; } = [];

    /// <summary>The levels of <see cref="Quantiles"/> (Q of them, the median among them); empty without quantile heads.</summary>
    public IReadOnlyList<float> QuantileLevels { get; init; } = [];
}

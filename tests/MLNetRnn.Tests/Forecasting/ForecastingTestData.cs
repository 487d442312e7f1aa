using Microsoft.ML;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>A row of a univariate series with one covariate.</summary>
public sealed class SeriesRow
{
    public float Value { get; set; }

    public float Promo { get; set; }
}

internal static class ForecastingTestData
{
    /// <summary>Trend + yearly season (m = 12) + Gaussian noise, positive throughout.</summary>
    public static float[] Seasonal(int n, int seed, double noise = 2.0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(t =>
            (float)(100 + 0.5 * t + 15 * Math.Sin(2 * Math.PI * t / 12) + noise * Normal(rng))).ToArray();
    }

    /// <summary>Trend + season with noise proportional to the level (σ = <paramref name="relativeNoise"/> of it).</summary>
    public static float[] SeasonalMultiplicative(int n, int seed, double relativeNoise)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(t =>
            (float)((100 + 0.5 * t + 15 * Math.Sin(2 * Math.PI * t / 12)) * (1 + relativeNoise * Normal(rng)))).ToArray();
    }

    public static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static IDataView View(MLContext ml, float[] values, float[]? promo = null)
        => ml.Data.LoadFromEnumerable(values.Select((v, i) => new SeriesRow { Value = v, Promo = promo?[i] ?? 0 }).ToArray());

    /// <summary>Small, fast options: one GRU member, few epochs. Enough to learn a clean seasonal series.</summary>
    public static RnnForecastingOptions Fast(int window = 24, int horizon = 6, int season = 12) => new()
    {
        OutputColumnName = "Forecast", InputColumnName = nameof(SeriesRow.Value), WindowSize = window, Horizon = horizon, SeasonalPeriod = season,
        ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper", ConfidenceLevel = 0.9f,
        EnsembleSize = 1, Epochs = 60, HiddenSizes = [16], Seed = 1,
    };
}

using Microsoft.ML;
using MLNetRnn.Persistence;
using MLNetRnn.Tests.Persistence;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>Each series of a panel takes the networks' correction by its own weight λ_s: a shared network that helps
/// some series and misleads others is damped where it misleads.</summary>
public sealed class SeriesWeightTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class Row
    {
        public string Product { get; set; } = "";

        public float Sales { get; set; }

        public float Promo { get; set; }
    }

    /// <summary>Half the products triple their sales on a promotion day; for the other half the same column means
    /// nothing. With a window of 3 days (rarely a past promotion in it), no static feature and no scale feature (the
    /// lifting products are larger on average, so their scale would tell them apart), the network cannot tell them
    /// apart, so it learns an average lift: right in direction for the first half, a pure error for the second.</summary>
    private static Row[] Panel(int products, int days, int seed)
    {
        var rng = new Random(seed);
        var rows = new List<Row>();
        for (int p = 0; p < products; p++)
        {
            bool lifts = p % 2 == 0;
            double level = 50 + 50 * rng.NextDouble();
            for (int t = 0; t < days; t++)
            {
                bool promo = rng.NextDouble() < 0.15;
                double mean = level * (1 + 0.2 * Math.Sin(2 * Math.PI * t / 7)) * (lifts && promo ? 3 : 1);
                rows.Add(new Row { Product = $"P{p}", Promo = promo ? 1 : 0, Sales = (float)(mean * (1 + 0.05 * (rng.NextDouble() - 0.5))) });
            }
        }
        return rows.ToArray();
    }

    [Fact]
    public void SeriesTheSharedCorrectionMisleadsGetASmallerWeightThanSeriesItHelps_AndKeepItThroughSaveAndLoad()
    {
        var rows = Panel(products: 8, days: 220, seed: 4);
        var o = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(Row.Sales), SeriesIdColumnName = nameof(Row.Product),
            KnownFutureColumnNames = [nameof(Row.Promo)], WindowSize = 3, Horizon = 7, SeasonalPeriod = 7,
            EnsembleSize = 2, HiddenSizes = [16], MaximumSteps = 600, Seed = 1, SeriesScaleFeature = false,
            // Without the ids (or the scale) the shared networks cannot tell the products apart, so the correction they
            // learn for promotions that lift sales misleads the products whose promotions mean nothing: the case λ_s is for.
            SeriesIdFeature = false,
        };
        var data = _ml.Data.LoadFromEnumerable(rows);
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(data);

        float?[] weights = model.Model.Series.Select(f => f.CorrectionWeight).ToArray();
        Assert.All(weights, w => Assert.NotNull(w));
        // What users see: every series' weight by its id.
        Assert.Equal(Enumerable.Range(0, 8).Select(p => weights[p]!.Value), Enumerable.Range(0, 8).Select(p => model.CorrectionWeights[$"P{p}"]));
        double helped = Enumerable.Range(0, 8).Where(p => p % 2 == 0).Average(p => model.CorrectionWeights[$"P{p}"]);
        double misled = Enumerable.Range(0, 8).Where(p => p % 2 == 1).Average(p => model.CorrectionWeights[$"P{p}"]);
        Assert.True(misled < helped - 0.2, $"mean λ_s where promotions lift sales {helped:F2}, where they mean nothing {misled:F2}; panel λ {model.Model.CorrectionWeight:F2}");
        Assert.Contains(model.TrainingSummary.Notes, n => n.StartsWith("λ per series: 8 of 8 series", StringComparison.Ordinal));

        string path = _dir.File("weights.zip");
        _ml.Model.SaveAtomically(model, data.Schema, path);
        var loaded = (RnnForecastingTransformer)_ml.Model.Load(path, out _);
        Assert.Equal(weights, loaded.Model.Series.Select(f => f.CorrectionWeight).ToArray());
        var future = new Dictionary<string, float[]> { [nameof(Row.Promo)] = [1, 0, 0, 1, 0, 0, 0] };
        Assert.Equal(model.CreateForecastingEngine().Predict("P1", futureCovariates: future).Forecast,
            loaded.CreateForecastingEngine().Predict("P1", futureCovariates: future).Forecast);
    }
}

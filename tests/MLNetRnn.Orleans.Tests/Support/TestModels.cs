using Microsoft.ML;
using MLNetRnn.Orleans.Models;
using MLNetRnn.Samples;

namespace MLNetRnn.Orleans.Tests.Support;

/// <summary>
/// A retail panel and two versions of one model of it, saved in a model store: version v1 is fitted on the first
/// <see cref="FirstEnd"/> days of products P00000–P00009, v2 on five days more; products P00010 and P00011 are in
/// neither (they start cold). The model has a known-future covariate (Promo) and quantile heads, so every call
/// exercises covariates, known-future values and quantiles.
/// </summary>
internal static class TestModels
{
    public const int Days = 140, FirstEnd = 100, SecondEnd = 105, Horizon = 7;
    public const string Name = "retail";

    public static readonly RetailPanel.Sale[] Rows = RetailPanel.Generate(12, Days, seed: 5);

    public static readonly string[] Trained = [.. Enumerable.Range(0, 10).Select(i => $"P{i:D5}")];

    public static readonly string[] Cold = ["P00010", "P00011"];

    private static readonly Lazy<(string Root, ITransformer V1, ITransformer V2)> Store = new(Build);

    /// <summary>The model store's folder, holding retail@v1 and retail@v2.</summary>
    public static string StoreRoot => Store.Value.Root;

    public static ITransformer V1 => Store.Value.V1;

    public static ITransformer V2 => Store.Value.V2;

    public static RnnForecastingOptions Options(int seed = 1) => new()
    {
        OutputColumnName = "Forecast", InputColumnName = nameof(RetailPanel.Sale.Sales), SeriesIdColumnName = nameof(RetailPanel.Sale.Product),
        KnownFutureColumnNames = [nameof(RetailPanel.Sale.Promo)], Quantiles = [0.1f, 0.5f, 0.9f],
        WindowSize = 14, Horizon = Horizon, SeasonalPeriod = 7, ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper",
        ConfidenceLevel = 0.8f, EnsembleSize = 1, HiddenSizes = [8], Epochs = 10, MaximumSteps = 150, Seed = seed,
    };

    /// <summary>Whether a grain's forecast is the engine's, bit for bit: point forecast, bounds and quantiles.</summary>
    public static bool Same(RnnForecast a, SeriesForecast b)
        => a.Forecast.AsSpan().SequenceEqual(b.Forecast) && a.LowerBound.AsSpan().SequenceEqual(b.LowerBound)
           && a.UpperBound.AsSpan().SequenceEqual(b.UpperBound) && a.Quantiles.AsSpan().SequenceEqual(b.Quantiles);

    /// <summary>An engine of v2 fed days <see cref="SecondEnd"/> to <paramref name="end"/> − 1 of <paramref name="ids"/>:
    /// what grains swapped from v1 to v2 after observing up to <paramref name="end"/> must forecast.</summary>
    public static RnnForecastingEngine V2Through(string[] ids, int end)
    {
        var v2 = V2.CreateForecastingEngine();
        for (int day = SecondEnd; day < end; day++)
            foreach (string id in ids)
            {
                var o = Observation(id, day);
                v2.Observe(id, o.Value, o.Covariates);
            }
        return v2;
    }

    /// <summary>Product <paramref name="id"/>'s rows.</summary>
    public static RetailPanel.Sale[] Of(string id) => Rows.Where(r => r.Product == id).ToArray();

    /// <summary>Day <paramref name="day"/> of <paramref name="id"/> as an observation.</summary>
    public static Observation Observation(string id, int day)
    {
        var r = Of(id)[day];
        return new Observation(r.Sales, [r.Promo]);
    }

    /// <summary>The promotions of the <see cref="Horizon"/> days after day <paramref name="day"/> (0 past the data).</summary>
    public static Dictionary<string, float[]> Future(string id, int day)
    {
        var rows = Of(id);
        return new() { ["Promo"] = [.. Enumerable.Range(day + 1, Horizon).Select(d => d < rows.Length ? rows[d].Promo : 0f)] };
    }

    private static (string, ITransformer, ITransformer) Build()
    {
        var ml = new MLContext(seed: 1);
        string root = Path.Combine(Path.GetTempPath(), "mlnetrnn-orleans-tests", Guid.NewGuid().ToString("N"));
        var store = new FileSystemModelStore(root);
        ITransformer Fit(int end, string version, int seed)
        {
            var rows = Rows.Where(r => Trained.Contains(r.Product) && (r.Date - Rows[0].Date).Days < end).ToArray();
            var data = ml.Data.LoadFromEnumerable(rows);
            var model = ml.Forecasting.ForecastByRnn(Options(seed)).Fit(data);
            using var stream = new MemoryStream();
            ml.Model.Save(model, data.Schema, stream);
            store.SaveAsync(Name, version, stream.ToArray()).GetAwaiter().GetResult();
            stream.Position = 0;
            return ml.Model.Load(stream, out _);
        }
        return (root, Fit(FirstEnd, "v1", 1), Fit(SecondEnd, "v2", 2));
    }
}

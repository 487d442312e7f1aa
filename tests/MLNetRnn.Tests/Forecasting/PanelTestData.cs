using Microsoft.ML;
using MLNetRnn.Samples;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>Small panels from the samples' retail generator, and fast options for them.</summary>
internal static class PanelTestData
{
    public static RetailPanel.Sale[] Retail(int products, int days, int seed = 1) => RetailPanel.Generate(products, days, seed);

    public static IDataView View(MLContext ml, IEnumerable<RetailPanel.Sale> rows) => ml.Data.LoadFromEnumerable(rows.ToArray());

    /// <summary>One member, a small GRU, a few hundred steps: a panel model in about a second.</summary>
    public static RnnForecastingOptions FastPanel(int window = 14, int horizon = 7) => new()
    {
        OutputColumnName = "Forecast", InputColumnName = nameof(RetailPanel.Sale.Sales), SeriesIdColumnName = nameof(RetailPanel.Sale.Product),
        WindowSize = window, Horizon = horizon, SeasonalPeriod = 7, ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper",
        ConfidenceLevel = 0.8f, EnsembleSize = 1, HiddenSizes = [16], Epochs = 40, MaximumSteps = 400, Seed = 1,
    };

    /// <summary>The promotions of a product's days [from, from + count).</summary>
    public static Dictionary<string, float[]> Promotions(RetailPanel.Sale[] rows, string product, int from, int count)
        => new() { ["Promo"] = rows.Where(r => r.Product == product).Skip(from).Take(count).Select(r => r.Promo).ToArray() };

    public static bool SameBits(float[] a, float[] b) => a.Length == b.Length && a.AsSpan().SequenceEqual(b);
}

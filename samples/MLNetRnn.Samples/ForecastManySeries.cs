using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Samples;

/// <summary>
/// Many series, one model. A synthetic retail panel (<see cref="RetailPanel"/>: products of very different size, each
/// with its trend and weekly pattern, and promotions planned in advance) is fitted with one <c>ForecastByRnn</c>: the
/// product id groups the rows, the date gives calendar features, the promotions are known for the forecast's days, the
/// category is a static feature, and quantile heads give a second kind of interval. The same panel without the
/// promotions, and a few products fitted one at a time, show what the global model and the covariates buy. Then the nine
/// monthly series of the accuracy protocol (bundled in Data/Monthly) are fitted together and one at a time.
/// </summary>
public static class ForecastManySeries
{
    /// <summary>How big a run is: the sample's defaults, or a small run for the tests.</summary>
    /// <param name="Products">Products in the panel.</param>
    /// <param name="Days">Days per product; the last <paramref name="Horizon"/> are held out.</param>
    /// <param name="Horizon">Days forecast.</param>
    /// <param name="Alone">Products also fitted one at a time.</param>
    /// <param name="Steps">Optimiser steps per network, at most.</param>
    public sealed record Size(int Products = 300, int Days = 730, int Horizon = 28, int Alone = 8, int Steps = 2000);

    private sealed class MonthRow
    {
        public string Series { get; set; } = "";

        public float Value { get; set; }
    }

    private sealed class Value
    {
        public float Sales { get; set; }
    }

    /// <summary>Runs the sample, writing its report to <paramref name="output"/>. Returns 0 on success.</summary>
    public static int Run(TextWriter output, Size? size = null)
    {
        size ??= new Size();
        var inv = CultureInfo.InvariantCulture;
        var ml = new MLContext(seed: 0);
        int H = size.Horizon, days = size.Days;
        var sales = RetailPanel.Generate(size.Products, days, seed: 42);
        var train = sales.Where((_, i) => i % days < days - H).ToArray();
        output.WriteLine($"Retail panel: {size.Products} products × {days} days of sales, the last {H} held out.");

        // One model for every product. Rows are grouped by Product; each product keeps its own season, base and scale.
        RnnForecastingOptions Options(bool promotions, bool panel) => new()
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(RetailPanel.Sale.Sales), WindowSize = 2 * H, Horizon = H, SeasonalPeriod = 7,
            SeriesIdColumnName = panel ? nameof(RetailPanel.Sale.Product) : null,
            DateColumnName = nameof(RetailPanel.Sale.Date),                                     // calendar features, gaps checked
            KnownFutureColumnNames = promotions ? [nameof(RetailPanel.Sale.Promo)] : [],        // planned, known for the forecast's days
            StaticFeatureColumnNames = panel ? [nameof(RetailPanel.Sale.Category)] : [],
            SeriesScaleFeature = panel,
            Quantiles = [0.1f, 0.9f],
            ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper", ConfidenceLevel = 0.8f,
            MaximumSteps = size.Steps,
        };
        var options = Options(promotions: true, panel: true);
        var clock = Stopwatch.StartNew();
        var model = ml.Forecasting.ForecastByRnn(options).Fit(ml.Data.LoadFromEnumerable(train));
        double seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine(string.Format(inv, "  one model trained in {0:F0} s on {1} windows; λ = {2:F2}; bases: {3}",
            seconds, model.TrainingSummary.TotalWindows, model.TrainingSummary.CorrectionWeight, model.TrainingSummary.Base));

        // Forecast every product at once (one network call per member for many products), with each product's
        // promotions for the next H days.
        var byProduct = sales.GroupBy(s => s.Product).ToDictionary(g => g.Key, g => g.ToArray());
        var futures = byProduct.ToDictionary(p => p.Key,
            p => (IReadOnlyDictionary<string, float[]>)new Dictionary<string, float[]> { ["Promo"] = p.Value[(days - H)..].Select(s => s.Promo).ToArray() });
        var engine = model.CreateForecastingEngine();
        clock.Restart();
        var forecasts = engine.PredictAll(futureCovariates: futures);
        output.WriteLine(string.Format(inv, "  forecast all {0} products in {1:F2} s", forecasts.Count, clock.Elapsed.TotalSeconds));
        var scores = Score(byProduct, forecasts, days, H);

        // The same model without the promotions.
        var blind = Options(promotions: false, panel: true);
        var blindModel = ml.Forecasting.ForecastByRnn(blind).Fit(ml.Data.LoadFromEnumerable(train));
        var blindScores = Score(byProduct, blindModel.CreateForecastingEngine().PredictAll(), days, H);

        // A few products fitted one at a time with the same options (no series id, nothing to share).
        var alone = byProduct.Keys.Where((_, i) => i % Math.Max(1, size.Products / size.Alone) == 0).Take(size.Alone).ToArray();
        var single = Options(promotions: true, panel: false);
        var aloneMase = new List<double>();
        foreach (string product in alone)
        {
            var own = ml.Forecasting.ForecastByRnn(single).Fit(ml.Data.LoadFromEnumerable(byProduct[product][..(days - H)]));
            var f = own.CreateForecastingEngine().Predict((Dictionary<string, float[]>)futures[product]);
            aloneMase.Add(Mase(byProduct[product], f.Forecast, days, H));
        }

        output.WriteLine();
        output.WriteLine("                                                mean MASE   80% bounds cover");
        output.WriteLine(string.Format(inv, "  one model, promotions known in advance         {0,6:F3}      {1:P0} conformal, {2:P0} quantile heads", scores.Mase, scores.Conformal, scores.Quantile));
        output.WriteLine(string.Format(inv, "  one model, without the promotions              {0,6:F3}      {1:P0} conformal", blindScores.Mase, blindScores.Conformal));
        output.WriteLine(string.Format(inv, "  one model per product ({0} products)             {1,6:F3}      (the panel model on them: {2:F3})",
            alone.Length, aloneMase.Average(), alone.Average(p => scores.ByProduct[p])));

        // A product the model has never seen starts cold from its own history: its season, base and scale are fitted
        // on what the engine observed, the networks are shared.
        var newcomer = RetailPanel.Generate(size.Products + 1, 120, seed: 42).Where(s => s.Product == $"P{size.Products:D5}").ToArray();
        foreach (var s in newcomer) engine.Observe(s.Product, s.Sales, [s.Promo], s.Date);
        var cold = engine.Predict(newcomer[0].Product, futureCovariates: new Dictionary<string, float[]> { ["Promo"] = new float[H] });
        output.WriteLine(string.Format(inv, "  a new product, {0} days of history: next week {1}", newcomer.Length,
            string.Join(" ", cold.Forecast.Take(7).Select(v => v.ToString("F0", inv)))));

        output.WriteLine();
        return MonthlyTogether(output, ml) == 0 && scores.Mase < blindScores.Mase ? 0 : 1;
    }

    /// <summary>The accuracy protocol's nine monthly series, the last 12 months held out: fitted together (one model,
    /// the series name as id, which the networks also read by default; then without that) and one at a time.</summary>
    private static int MonthlyTogether(TextWriter output, MLContext ml)
    {
        var inv = CultureInfo.InvariantCulture;
        const int h = 12;
        string dir = Path.Combine(AppContext.BaseDirectory, "Data", "Monthly");
        var series = Directory.GetFiles(dir, "*.csv").Order(StringComparer.Ordinal).Select(f => (Name: Path.GetFileNameWithoutExtension(f),
            Values: File.ReadLines(f).Skip(1).Where(l => l.Length > 0).Select(l => float.Parse(l.Split(',')[1], inv)).ToArray())).ToArray();
        var options = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(MonthRow.Value), WindowSize = 2 * h, Horizon = h, SeasonalPeriod = 12,
            SeriesIdColumnName = nameof(MonthRow.Series),
        };
        var rows = series.SelectMany(s => s.Values[..^h].Select(v => new MonthRow { Series = s.Name, Value = v })).ToArray();
        var engine = ml.Forecasting.ForecastByRnn(options).Fit(ml.Data.LoadFromEnumerable(rows)).CreateForecastingEngine();
        // The networks read a panel's ids by default (up to 10,000 series: a learned offset per series); without them the
        // shared networks see nine unrelated series through their windows and scales alone.
        options.SeriesIdFeature = false;
        var withoutId = ml.Forecasting.ForecastByRnn(options).Fit(ml.Data.LoadFromEnumerable(rows)).CreateForecastingEngine();
        output.WriteLine("The 9 monthly series of the accuracy protocol, last 12 months held out (MASE):");
        output.WriteLine("  series           together   together, no id feature   one at a time");
        var together = new List<double>();
        var togetherNoId = new List<double>();
        var apart = new List<double>();
        foreach (var (name, values) in series)
        {
            var history = values[..^h];
            var actual = values[^h..];
            double a = ForecastMetrics.Mase(actual, engine.Predict(name).Forecast, history, 12);
            double c = ForecastMetrics.Mase(actual, withoutId.Predict(name).Forecast, history, 12);
            var alone = new RnnForecastingOptions
            {
                OutputColumnName = "Forecast", InputColumnName = nameof(Value.Sales), Horizon = h, SeasonalPeriod = 12,
                WindowSize = Math.Max(1, Math.Min(2 * h, (history.Length - h) / 3)),   // the accuracy protocol's window rule
            };
            var f = ml.Forecasting.ForecastByRnn(alone).Fit(ml.Data.LoadFromEnumerable(history.Select(v => new Value { Sales = v })))
                .CreateForecastingEngine().Predict().Forecast;
            double b = ForecastMetrics.Mase(actual, f, history, 12);
            together.Add(a);
            togetherNoId.Add(c);
            apart.Add(b);
            output.WriteLine(string.Format(inv, "  {0,-15} {1,9:F3} {2,25:F3} {3,15:F3}", name, a, c, b));
        }
        output.WriteLine(string.Format(inv, "  mean            {0,9:F3} {1,25:F3} {2,15:F3}", together.Average(), togetherNoId.Average(), apart.Average()));
        return 0;
    }

    private sealed record Scores(double Mase, double Conformal, double Quantile, Dictionary<string, double> ByProduct);

    private static Scores Score(Dictionary<string, RetailPanel.Sale[]> byProduct, IReadOnlyDictionary<string, RnnForecast> forecasts, int days, int H)
    {
        var mase = new Dictionary<string, double>();
        int inside = 0, insideQuantile = 0, total = 0;
        foreach (var (product, f) in forecasts)
        {
            var all = byProduct[product];
            mase[product] = Mase(all, f.Forecast, days, H);
            int Q = f.QuantileLevels.Count;
            for (int k = 0; k < H; k++, total++)
            {
                float y = all[days - H + k].Sales;
                if (y >= f.LowerBound[k] && y <= f.UpperBound[k]) inside++;
                if (Q > 0 && y >= f.Quantiles[k * Q] && y <= f.Quantiles[k * Q + Q - 1]) insideQuantile++;
            }
        }
        return new Scores(mase.Values.Average(), (double)inside / total, (double)insideQuantile / total, mase);
    }

    private static double Mase(RetailPanel.Sale[] all, float[] forecast, int days, int H)
        => ForecastMetrics.Mase(all[(days - H)..].Select(s => s.Sales).ToArray(), forecast, all[..(days - H)].Select(s => s.Sales).ToArray(), 7);
}

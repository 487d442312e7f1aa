using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Samples;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The global-models command (docs/design/global-models.md, docs/benchmarks.md): many series, one model.
/// <list type="bullet">
/// <item><c>global retail</c>: the samples' synthetic retail panel (default 1,000 products × 730 days, horizon 28),
/// the last 28 days held out: one global model with the promotions known in advance, the same model without them, and
/// per-series models on a sample of the products; mean MASE of each, and the coverage of the conformal and quantile
/// bounds.</item>
/// <item><c>global monthly</c>: the 9 monthly series of the accuracy protocol fitted together (one model per origin and
/// seed), against the same protocol fitted one series at a time with the defaults.</item>
/// <item><c>global scale</c>: 10,000 series × 200 points: training time and peak memory, and the time to forecast
/// every series.</item>
/// </list>
/// Flags: --series N, --days N (retail) / --points N (scale), --horizon H, --window W, --sample N (per-series models),
/// --seed S, --seeds 0,1,2 (monthly), --dates true (monthly: a monthly date column, so calendar months; the files' own time columns differ), --shared PATH, --hidden N, --windows-per-epoch N, --max-steps N, --ensemble K,
/// --quantiles 0.1,0.9, --without false (retail: skip the model without promotions), --per-series false (retail: skip the
/// per-series fits, report the global model on their sample only), --scale-feature true|false, --id-feature true|false (the
/// networks read the series ids; by default on for panels of up to 10,000 series), --weighting windows|squareroot|series (monthly: how training draws the series),
/// --cold N (retail: the last N products left out of training and started cold by the engine).
/// </summary>
internal static class GlobalModels
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "retail";
        var flags = Accuracy.Flags.Parse(args.Skip(1).ToArray());
        Console.WriteLine($"# global {mode}, {DateTime.UtcNow:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, load average {LoadAverage()}; settings: {flags}");
        return mode switch
        {
            "retail" => Retail(flags),
            "monthly" => Monthly(flags),
            "scale" => Scale(flags),
            _ => throw new ArgumentException($"Unknown mode '{mode}': retail, monthly or scale."),
        };
    }

    /// <summary>Options shared by every model of a comparison; flags override the library's defaults.</summary>
    private static RnnForecastingOptions Options(int window, int horizon, int season, Accuracy.Flags flags, int seed)
    {
        var o = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(RetailPanel.Sale.Sales), WindowSize = window, Horizon = horizon, SeasonalPeriod = season,
            ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper", ConfidenceLevel = 0.8f, Seed = seed,
        };
        if (flags.TryGet("hidden") is string hidden) o.HiddenSizes = [int.Parse(hidden, Inv)];
        if (flags.TryGet("windows-per-epoch") is string wpe) o.WindowsPerEpoch = int.Parse(wpe, Inv);
        if (flags.TryGet("max-steps") is string steps) o.MaximumSteps = int.Parse(steps, Inv);
        if (flags.TryGet("ensemble") is string k) o.EnsembleSize = int.Parse(k, Inv);
        if (flags.TryGet("batch") is string batch) o.BatchSize = int.Parse(batch, Inv);
        if (flags.TryGet("lr") is string lr) o.LearningRate = float.Parse(lr, Inv);
        if (flags.TryGet("patience") is string patience) o.EarlyStoppingPatience = int.Parse(patience, Inv);
        return o;
    }

    /// <summary>The flags that only a panel has: --id-feature true|false, --scale-feature true|false, --base-combination
    /// and --decoder-steps true|false|auto, --weighting windows|squareroot|series. Shared with the collection command.</summary>
    internal static void PanelFlags(RnnForecastingOptions o, Accuracy.Flags flags)
    {
        if (flags.TryGet("id-feature") is string idFeature) o.SeriesIdFeature = idFeature == "true";
        if (flags.TryGet("scale-feature") is string scaleFeature) o.SeriesScaleFeature = scaleFeature == "true";
        if (flags.TryGet("base-combination") is string combination) o.LearnedBaseCombination = combination == "auto" ? null : combination == "true";
        if (flags.TryGet("decoder-steps") is string steps) o.DecoderSteps = steps == "auto" ? null : steps == "true";
        if (flags.TryGet("weighting") is string weighting) o.SeriesWeighting = Enum.Parse<SeriesWeighting>(weighting, ignoreCase: true);
    }

    // ------------------------------------------------------------------ retail

    private static int Retail(Accuracy.Flags flags)
    {
        int products = int.Parse(flags.Get("series", "1000"), Inv), days = int.Parse(flags.Get("days", "730"), Inv);
        int H = int.Parse(flags.Get("horizon", "28"), Inv), W = int.Parse(flags.Get("window", (2 * H).ToString(Inv)), Inv);
        int sample = int.Parse(flags.Get("sample", "50"), Inv), seed = int.Parse(flags.Get("seed", "0"), Inv);
        var quantiles = flags.Get("quantiles", "0.1,0.9").Split(',').Select(q => float.Parse(q, Inv)).ToArray();
        var ml = new MLContext(seed: seed);
        var sales = RetailPanel.Generate(products, days, seed: 42);
        var train = sales.Where((_, i) => i % days < days - H).ToArray();
        var byProduct = sales.GroupBy(x => x.Product).ToDictionary(g => g.Key, g => g.ToArray());
        var ids = byProduct.Keys.ToArray();
        Console.WriteLine($"panel: {products} products × {days} days, horizon {H}, window {W}; {train.Length} training rows");

        var global = Options(W, H, 7, flags, seed);
        global.SeriesIdColumnName = nameof(RetailPanel.Sale.Product);
        global.DateColumnName = nameof(RetailPanel.Sale.Date);
        global.StaticFeatureColumnNames = [nameof(RetailPanel.Sale.Category)];
        PanelFlags(global, flags);
        global.SeriesScaleFeature = true;
        global.KnownFutureColumnNames = [nameof(RetailPanel.Sale.Promo)];
        global.Quantiles = quantiles;
        global.QuantilesColumnName = "Quantiles";

        if (flags.TryGet("cold") is string coldFlag) return ColdStarts(ml, global, train, byProduct, ids, int.Parse(coldFlag, Inv), H, days);

        var withPromo = Evaluate("global, promotions known in advance", ml, global, train, byProduct, ids, H, days);
        var noPromo = global.Clone();
        noPromo.KnownFutureColumnNames = [];
        noPromo.Quantiles = [];
        noPromo.QuantilesColumnName = null;
        var without = flags.Get("without", "true") == "true" ? Evaluate("global, no promotions", ml, noPromo, train, byProduct, ids, H, days) : null;

        // Per-series models: each product alone, the same options (promotions known in advance) without an id column.
        var picked = ids.Where((_, i) => i % Math.Max(1, products / Math.Max(1, sample)) == 0).Take(sample).ToArray();
        var perSeries = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        bool fitAlone = flags.Get("per-series", "true") == "true";
        foreach (string id in fitAlone ? picked : [])
        {
            var o = global.Clone();
            o.SeriesIdColumnName = null;
            o.StaticFeatureColumnNames = [];
            o.SeriesScaleFeature = false;
            var rows = train.Where(x => x.Product == id).ToArray();
            var model = ml.Forecasting.ForecastByRnn(o).Fit(ml.Data.LoadFromEnumerable(rows));
            var all = byProduct[id];
            var f = model.CreateForecastingEngine().Predict(new Dictionary<string, float[]> { ["Promo"] = all[(days - H)..].Select(x => x.Promo).ToArray() });
            perSeries[id] = Mase(all, f.Forecast, days, H);
        }
        clock.Stop();
        if (picked.Length > 0)
        {
            double globalOnSample = picked.Average(id => withPromo.Mase[id]);
            if (fitAlone)
            {
                double perMean = perSeries.Values.Average();
                Console.WriteLine(string.Format(Inv, "per-series models on {0} products: mean MASE {1:F3} ({2:F1} s per fit); the global model on the same products {3:F3}: {4:P1} lower",
                    picked.Length, perMean, clock.Elapsed.TotalSeconds / picked.Length, globalOnSample, 1 - globalOnSample / perMean));
            }
            else
                Console.WriteLine(string.Format(Inv, "the global model on the per-series sample of {0} products: mean MASE {1:F3} (per-series models not fitted: --per-series false)", picked.Length, globalOnSample));
        }
        if (without is not null)
            Console.WriteLine(string.Format(Inv, "known-future promotions: mean MASE {0:F3} with, {1:F3} without: {2:P1} lower",
                withPromo.Mase.Values.Average(), without.Mase.Values.Average(), 1 - withPromo.Mase.Values.Average() / without.Mase.Values.Average()));

        // The floor: the generator's own median of every held-out day. What separates a model from it is all that any
        // model, global or not, could still gain on this panel.
        var oracle = ids.ToDictionary(id => id, id => Mase(byProduct[id], byProduct[id][(days - H)..].Select(x => x.Median).ToArray(), days, H));
        Console.WriteLine(string.Format(Inv, "the generator's median (the floor): mean MASE {0:F3} over all products{1}",
            oracle.Values.Average(), picked.Length > 0 ? string.Format(Inv, ", {0:F3} on the per-series sample", picked.Average(id => oracle[id])) : ""));
        return 0;
    }

    private sealed record Evaluation(Dictionary<string, double> Mase, double ConformalCoverage, double QuantileCoverage, double Seconds);

    /// <summary>Fits <paramref name="options"/> on the training rows, forecasts every product's last H days (with its
    /// promotions when the model knows them in advance) and scores them.</summary>
    private static Evaluation Evaluate(string name, MLContext ml, RnnForecastingOptions options, RetailPanel.Sale[] train,
        Dictionary<string, RetailPanel.Sale[]> byProduct, string[] ids, int H, int days)
    {
        var clock = Stopwatch.StartNew();
        var model = ml.Forecasting.ForecastByRnn(options).Fit(ml.Data.LoadFromEnumerable(train));
        double fit = clock.Elapsed.TotalSeconds;
        var engine = model.CreateForecastingEngine();
        var futures = options.KnownFutureColumnNames.Length == 0 ? null
            : ids.ToDictionary(id => id, id => (IReadOnlyDictionary<string, float[]>)new Dictionary<string, float[]> { ["Promo"] = byProduct[id][(days - H)..].Select(x => x.Promo).ToArray() });
        clock.Restart();
        var conformal = engine.PredictAll(futureCovariates: futures, confidenceLevel: 0.8f);
        double predict = clock.Elapsed.TotalSeconds;
        var mase = new Dictionary<string, double>();
        int inside = 0, insideQ = 0, total = 0;
        bool quantiles = model.Quantiles.Count > 0;
        int Q = model.Quantiles.Count, lo = quantiles ? model.Quantiles.ToList().IndexOf(0.1f) : -1, hi = quantiles ? model.Quantiles.ToList().IndexOf(0.9f) : -1;
        foreach (string id in ids)
        {
            var f = conformal[id];
            var all = byProduct[id];
            mase[id] = Mase(all, f.Forecast, days, H);
            for (int k = 0; k < H; k++, total++)
            {
                float y = all[days - H + k].Sales;
                if (y >= f.LowerBound[k] && y <= f.UpperBound[k]) inside++;
                if (quantiles && lo >= 0 && hi >= 0 && y >= f.Quantiles[k * Q + lo] && y <= f.Quantiles[k * Q + hi]) insideQ++;
            }
        }
        var summary = model.TrainingSummary;
        Console.WriteLine(string.Format(Inv,
            "{0}: mean MASE {1:F3}; 80% conformal bounds cover {2:P1}{3}; fit {4:F1} s, forecast all {5} series {6:F2} s; λ {7:F2}, {8} windows, members stopped at {9}",
            name, mase.Values.Average(), (double)inside / total, quantiles ? string.Format(Inv, ", quantile 10–90% bounds {0:P1}", (double)insideQ / total) : "",
            fit, ids.Length, predict, summary.CorrectionWeight, summary.TotalWindows,
            string.Join(" ", summary.Members.Select(m => $"{m.Steps}s/{m.StoppedBy}"))));
        return new Evaluation(mase, (double)inside / total, quantiles ? (double)insideQ / total : double.NaN, fit);
    }

    /// <summary>--cold N: the last N products are left out of training and started cold by the engine from their
    /// history (their season, base and scale fitted on it, the networks shared); mean MASE of those and of the rest.</summary>
    private static int ColdStarts(MLContext ml, RnnForecastingOptions options, RetailPanel.Sale[] train,
        Dictionary<string, RetailPanel.Sale[]> byProduct, string[] ids, int cold, int H, int days)
    {
        var unseen = ids[^cold..].ToHashSet(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var model = ml.Forecasting.ForecastByRnn(options).Fit(ml.Data.LoadFromEnumerable(train.Where(x => !unseen.Contains(x.Product))));
        double fit = clock.Elapsed.TotalSeconds;
        var engine = model.CreateForecastingEngine();
        double Score(string id)
        {
            var all = byProduct[id];
            var future = new Dictionary<string, float[]> { ["Promo"] = all[(days - H)..].Select(x => x.Promo).ToArray() };
            return Mase(all, engine.Predict(id, futureCovariates: options.KnownFutureColumnNames.Length > 0 ? future : null).Forecast, days, H);
        }
        var warm = ids.Where(id => !unseen.Contains(id)).Select(Score).ToArray();
        foreach (string id in unseen)
            foreach (var x in byProduct[id][..(days - H)]) engine.Observe(id, x.Sales, options.KnownFutureColumnNames.Length > 0 ? [x.Promo] : [], x.Date);
        var started = unseen.Select(Score).ToArray();
        Console.WriteLine(string.Format(Inv, "trained on {0} products in {1:F1} s (static features: {2}): mean MASE {3:F3}; {4} products started cold: {5:F3}",
            warm.Length, fit, string.Join(", ", model.StaticFeatureColumnNames), warm.Average(), started.Length, started.Average()));
        return 0;
    }

    // ------------------------------------------------------------------ monthly

    private sealed class MonthRow
    {
        public string Series { get; set; } = "";

        public DateTime Date { get; set; }

        public float Value { get; set; }
    }

    /// <summary>The accuracy protocol's monthly series (m = 12, h = 12), fitted together: at each of the three origins
    /// (n − 3h, n − 2h, n − h of each series) and each seed, one model on the nine series' histories; rolling3 MASE per
    /// series as the accuracy command computes it, beside the same protocol fitted one series at a time with the
    /// defaults (the accuracy command's own fits, run here in the same session).</summary>
    private static int Monthly(Accuracy.Flags flags)
    {
        // The protocol's files travel with the benchmarks (Accuracy/, as the accuracy command reads them); --shared PATH
        // reads PATH/accuracy and PATH/data instead.
        var (accuracyDir, dataDir) = flags.TryGet("shared") is string shared
            ? (Path.Combine(shared, "accuracy"), Path.Combine(shared, "data"))
            : (Path.Combine(AppContext.BaseDirectory, "Accuracy"), Path.Combine(AppContext.BaseDirectory, "Accuracy", "data"));
        int[] seeds = flags.Get("seeds", "0,1,2").Split(',').Select(x => int.Parse(x, Inv)).ToArray();
        bool dates = flags.Get("dates", "false") == "true";
        var rows = Accuracy.ReadCsv(Path.Combine(accuracyDir, "series.csv")).Where(r => r["m"] == "12").ToArray();
        var series = rows.Select(r => (Name: r["series"], Data: Accuracy.ReadCsv(Path.Combine(dataDir, r["file"]))
            .Select((x, t) => (Date: new DateTime(2000, 1, 1).AddMonths(t), Value: float.Parse(x["value"], Inv))).ToArray())).ToArray();
        const int h = 12, m = 12;
        int W = int.Parse(flags.Get("window", (2 * h).ToString(Inv)), Inv);
        var global = new Dictionary<string, double[]>();
        var single = new Dictionary<string, double[]>();
        var both = new Dictionary<string, double[]>();   // the mean of the two forecasts: does combining them beat either?
        foreach (var (name, _) in series) { global[name] = new double[3]; single[name] = new double[3]; both[name] = new double[3]; }
        var clock = new Stopwatch();
        double singleSeconds = 0;
        for (int k = 0; k < 3; k++)
            foreach (int seed in seeds)
            {
                var train = series.SelectMany(x => x.Data[..(x.Data.Length - (3 - k) * h)].Select(d => new MonthRow { Series = x.Name, Date = d.Date, Value = d.Value })).ToArray();
                var o = new RnnForecastingOptions
                {
                    OutputColumnName = "Forecast", InputColumnName = nameof(MonthRow.Value), WindowSize = W, Horizon = h, SeasonalPeriod = m, Seed = seed,
                    SeriesIdColumnName = nameof(MonthRow.Series), DateColumnName = dates ? nameof(MonthRow.Date) : null,
                };
                PanelFlags(o, flags);
                if (flags.TryGet("hidden") is string hidden) o.HiddenSizes = [int.Parse(hidden, Inv)];
                if (flags.TryGet("max-steps") is string steps) o.MaximumSteps = int.Parse(steps, Inv);
                var ml = new MLContext(seed: seed);
                clock.Start();
                var engine = ml.Forecasting.ForecastByRnn(o).Fit(ml.Data.LoadFromEnumerable(train)).CreateForecastingEngine();
                clock.Stop();
                foreach (var (name, data) in series)
                {
                    int origin = data.Length - (3 - k) * h;
                    var history = data[..origin].Select(d => d.Value).ToArray();
                    var actual = data[origin..(origin + h)].Select(d => d.Value).ToArray();
                    var together = engine.Predict(name).Forecast;
                    global[name][k] += ForecastMetrics.Mase(actual, together, history, m) / seeds.Length;
                    // The same origin and seed fitted alone, exactly as the accuracy command fits it.
                    var alone = Accuracy.Options(history.Length, h, m, seed, Accuracy.Flags.Parse([]));
                    var mlAlone = new MLContext(seed: seed);
                    var watch = Stopwatch.StartNew();
                    var f = mlAlone.Forecasting.ForecastByRnn(alone).Fit(mlAlone.Data.LoadFromEnumerable(history.Select(v => new AccuracyRow { Value = v })))
                        .CreateForecastingEngine().Predict(h, 0.95f).Forecast;
                    singleSeconds += watch.Elapsed.TotalSeconds;
                    single[name][k] += ForecastMetrics.Mase(actual, f, history, m) / seeds.Length;
                    both[name][k] += ForecastMetrics.Mase(actual, f.Zip(together, (x, y) => (x + y) / 2).ToArray(), history, m) / seeds.Length;
                }
            }
        Console.WriteLine("series          per-series   together   mean of both");
        foreach (var (name, _) in series)
            Console.WriteLine(string.Format(Inv, "{0,-15} {1,10:F3} {2,10:F3} {3,14:F3}", name, single[name].Average(), global[name].Average(), both[name].Average()));
        double a = single.Values.Average(v => v.Average()), b = global.Values.Average(v => v.Average());
        // Paired over the 27 series × origin cells (each averaged over the seeds): is together distinguishable from alone?
        var d = series.SelectMany(x => Enumerable.Range(0, 3).Select(k => global[x.Name][k] - single[x.Name][k])).ToArray();
        double dm = d.Average(), se = Math.Sqrt(d.Sum(x => (x - dm) * (x - dm)) / (d.Length - 1) / d.Length);
        Console.WriteLine(string.Format(Inv, "together − per-series, per series and origin: mean {0:+0.000;-0.000}, standard error {1:0.000} over {2} cells", dm, se, d.Length));
        Console.WriteLine(string.Format(Inv, "mean rolling3 MASE over the {0} monthly series: per-series defaults {1:F3}, fitted together {2:F3} ({3:+0.0%;-0.0%} ); {4:F1} s per joint fit, {5:F1} s per single fit",
            series.Length, a, b, b / a - 1, clock.Elapsed.TotalSeconds / (3 * seeds.Length), singleSeconds / (3 * seeds.Length * series.Length)));
        Console.WriteLine(string.Format(Inv, "the mean of the two forecasts of each series: {0:F3}", both.Values.Average(v => v.Average())));
        return 0;
    }

    private sealed class AccuracyRow
    {
        public float Value { get; set; }
    }

    // ------------------------------------------------------------------ scale

    private sealed class ScaleRow
    {
        public string Product { get; set; } = "";

        public float Sales { get; set; }
    }

    /// <summary>10,000 series × 200 points (the retail generator's sales, without its promotions as an input): one
    /// model with the library's defaults, window 28, horizon 14, weekly season. Reports the training time, the process's
    /// peak memory, and the time to forecast every series (first call, then steady).</summary>
    private static int Scale(Accuracy.Flags flags)
    {
        int products = int.Parse(flags.Get("series", "10000"), Inv), points = int.Parse(flags.Get("points", "200"), Inv);
        int H = int.Parse(flags.Get("horizon", "14"), Inv), W = int.Parse(flags.Get("window", (2 * H).ToString(Inv)), Inv);
        var rows = RetailPanel.Generate(products, points, seed: 7).Select(x => new ScaleRow { Product = x.Product, Sales = x.Sales }).ToArray();
        var ml = new MLContext(seed: 0);
        var o = Options(W, H, 7, flags, seed: 0);
        o.InputColumnName = nameof(ScaleRow.Sales);
        o.SeriesIdColumnName = nameof(ScaleRow.Product);
        PanelFlags(o, flags);
        GC.Collect();
        long before = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        var model = ml.Forecasting.ForecastByRnn(o).Fit(ml.Data.LoadFromEnumerable(rows));
        double fit = clock.Elapsed.TotalSeconds;
        var engine = model.CreateForecastingEngine();
        clock.Restart();
        var first = engine.PredictAll();
        double firstCall = clock.Elapsed.TotalSeconds;
        clock.Restart();
        int repeats = 3;
        for (int i = 0; i < repeats; i++) engine.PredictAll();
        double steady = clock.Elapsed.TotalSeconds / repeats;
        long peak = System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64;
        var summary = model.TrainingSummary;
        Console.WriteLine(string.Format(Inv,
            "{0} series × {1} points (window {2}, horizon {3}): fit {4:F1} s; peak working set {5:F0} MB (before fitting {6:F0} MB, the data's rows included); " +
            "forecast all {7} series: first call {8:F2} s, then {9:F2} s; {10} windows, members {11}",
            products, points, W, H, fit, peak / 1e6, before / 1e6, first.Count, firstCall, steady, summary.TotalWindows,
            string.Join(" ", summary.Members.Select(x => $"{x.Steps}s/{x.StoppedBy}"))));
        return 0;
    }

    private static double Mase(RetailPanel.Sale[] all, float[] forecast, int days, int H)
    {
        var history = all[..(days - H)].Select(x => x.Sales).ToArray();
        var actual = all[(days - H)..].Select(x => x.Sales).ToArray();
        return ForecastMetrics.Mase(actual, forecast, history, 7);
    }

    internal static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}

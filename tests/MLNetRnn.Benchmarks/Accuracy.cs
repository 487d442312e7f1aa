using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Optimizers;
using Microsoft.ML;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The accuracy command: the protocol of ../shared/accuracy/README.md (five series, origins n−3h, n−2h, n−h,
/// seeds 0–2, sMAPE/MASE/RMSE per origin, holdout and rolling3), ranked beside the reference methods in
/// anchors.csv. Flags change one setting at a time so variants can be compared; the defaults are the
/// library's.
/// </summary>
internal static class Accuracy
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var flags = Flags.Parse(args);
        string shared = flags.TryGet("shared") ?? FindShared();
        string accuracyDir = Path.Combine(shared, "accuracy"), dataDir = Path.Combine(shared, "data");
        var series = ReadCsv(Path.Combine(accuracyDir, "series.csv"));
        var anchors = ReadCsv(Path.Combine(accuracyDir, "anchors.csv"));
        int[] seeds = flags.Get("seeds", "0,1,2").Split(',').Select(int.Parse).ToArray();
        string method = flags.Get("name", "rnn");
        string? only = flags.TryGet("series");
        var forecastsOut = flags.TryGet("forecasts") is string path ? new StreamWriter(path) : null;
        forecastsOut?.WriteLine("series,method,origin,seed,step,y,f");

        Console.WriteLine($"# accuracy protocol, method '{method}', seeds {string.Join(",", seeds)}, {DateTime.UtcNow:yyyy-MM-dd}; settings: {flags}");
        var ours = new Dictionary<string, (double Smape, double Mase, double Rmse, double HoldoutMase, double Seconds)>();
        foreach (var row in series)
        {
            string name = row["series"];
            if (only is not null && only != name) continue;
            int m = int.Parse(row["m"], Inv), h = int.Parse(row["h"], Inv), n = int.Parse(row["n"], Inv);
            var values = ReadCsv(Path.Combine(dataDir, row["file"])).Select(r => float.Parse(r["value"], Inv)).ToArray();
            var perOrigin = new List<(double Smape, double Mase, double Rmse)>();
            int inside = 0, total = 0;
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < 3; k++)
            {
                int origin = n - (3 - k) * h;
                var history = values.AsSpan(0, origin).ToArray();
                var actual = values.AsSpan(origin, h).ToArray();
                var metrics = new List<(double, double, double)>();
                foreach (int seed in seeds)
                {
                    var f = flags.TryGet("model") is string model && model.StartsWith("base", StringComparison.Ordinal)
                        ? BaseForecast(history, h, m, model)
                        : Forecast(history, h, m, seed, flags);
                    for (int s = 0; s < h; s++, total++) if (actual[s] >= LastBounds.Lower[s] && actual[s] <= LastBounds.Upper[s]) inside++;
                    metrics.Add((ForecastMetrics.SymmetricMape(actual, f), ForecastMetrics.Mase(actual, f, history, m), ForecastMetrics.RootMeanSquaredError(actual, f)));
                    for (int s = 0; s < h; s++) forecastsOut?.WriteLine(string.Format(Inv, "{0},{1},{2},{3},{4},{5},{6}", name, method, k + 1, seed, s + 1, actual[s], f[s]));
                }
                perOrigin.Add((metrics.Average(x => x.Item1), metrics.Average(x => x.Item2), metrics.Average(x => x.Item3)));
            }
            double seconds = clock.Elapsed.TotalSeconds / (3 * seeds.Length);
            ours[name] = (perOrigin.Average(x => x.Smape), perOrigin.Average(x => x.Mase), perOrigin.Average(x => x.Rmse), perOrigin[2].Mase, seconds);
            Console.WriteLine(string.Format(Inv, "{0,-15} rolling3 sMAPE {1,7:F3}  MASE {2,6:F3}  RMSE {3,9:F3} | holdout MASE {4,6:F3} | origins MASE {5} | 95% coverage {7:P0} | {6:F1} s/fit",
                name, ours[name].Smape, ours[name].Mase, ours[name].Rmse, ours[name].HoldoutMase,
                string.Join(" ", perOrigin.Select(p => p.Mase.ToString("F3", Inv))), seconds, (double)inside / total));
        }
        forecastsOut?.Dispose();
        PrintRanks(anchors, ours, method);
        return 0;
    }

    private sealed class Row
    {
        public float Value { get; set; }
    }

    /// <summary>One fit and forecast through the public front door, <c>ForecastByRnn</c>, with the library's
    /// defaults unless a flag overrides one. The window follows the protocol's rule: settings may depend on m, h
    /// and the training length only.</summary>
    private static float[] Forecast(float[] history, int h, int m, int seed, Flags flags)
    {
        var ml = new MLContext(seed: seed);
        var options = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(Row.Value),
            WindowSize = WindowRule(history.Length, h, m, flags), Horizon = h, SeasonalPeriod = m,
            Seed = seed,
        };
        if (flags.TryGet("scaling") is string scaling) options.Scaling = Enum.Parse<SeriesScaling>(scaling);
        if (flags.TryGet("base") is string b) options.Base = Enum.Parse<ForecastBase>(b);
        if (flags.TryGet("adjustment") is string adjustment) options.SeasonalAdjustment = Enum.Parse<MLNetRnn.Core.Forecasting.Baselines.SeasonalAdjustment>(adjustment);
        if (flags.TryGet("damping") is string damping) options.CorrectionDamping = damping == "true";
        if (flags.TryGet("windows-per-epoch") is string wpe) options.WindowsPerEpoch = int.Parse(wpe, Inv);
        if (flags.TryGet("max-steps") is string maxSteps) options.MaximumSteps = int.Parse(maxSteps, Inv);
        if (flags.TryGet("seasonal-features") is string sf) options.SeasonalFeatures = sf == "true";
        if (flags.TryGet("recursive") == "true") options.Strategy = ForecastingStrategy.Recursive;
        if (flags.TryGet("cell") is string cell) options.Cell = Enum.Parse<RecurrentCellKind>(cell);
        if (flags.TryGet("hidden") is string hidden) options.HiddenSizes = hidden.Split('x').Select(int.Parse).ToArray();
        if (flags.TryGet("ensemble") is string ensemble) options.EnsembleSize = int.Parse(ensemble, Inv);
        if (flags.TryGet("validation") is string validation) options.ValidationFraction = float.Parse(validation, Inv);
        if (flags.TryGet("epochs") is string epochs) options.Epochs = int.Parse(epochs, Inv);
        if (flags.TryGet("batch") is string batch) options.BatchSize = int.Parse(batch, Inv);
        if (flags.TryGet("patience") is string patience) options.EarlyStoppingPatience = int.Parse(patience, Inv);
        if (flags.TryGet("lr") is string lr) options.LearningRate = float.Parse(lr, Inv);
        if (flags.TryGet("optimizer") is string optimizer) options.Optimizer = Enum.Parse<OptimizerKind>(optimizer);
        var data = ml.Data.LoadFromEnumerable(history.Select(v => new Row { Value = v }));
        var model = ml.Forecasting.ForecastByRnn(options).Fit(data);
        if (flags.TryGet("verbose") == "true")
        {
            var sum = model.TrainingSummary;
            Console.WriteLine(string.Format(Inv, "  n={0} W={1} base [{2}] λ={3:F2} shift={4:F3} windows {5}/{6}/{7} members {8} | {9}",
                history.Length, options.WindowSize, sum.Base, sum.CorrectionWeight, sum.MeanCorrection, sum.TrainingWindows, sum.ValidationWindows, sum.TotalWindows,
                string.Join(" ", sum.Members.Select(m => $"{m.BestEpoch}/{m.TrainingLoss.Length}e/{m.Steps}s/{m.StoppedBy}/{m.BestValidationLoss:F3}")),
                string.Join("; ", sum.Notes)));
        }
        var forecast = model.CreateForecastingEngine().Predict();
        LastBounds = (forecast.LowerBound, forecast.UpperBound);
        return forecast.Forecast;
    }

    /// <summary>The statistical base alone (no network): "base" chooses it on the training series as the
    /// forecaster does; "base:Theta" or "base:SimpleExponentialSmoothing+Holt+DampedTrend" fixes it.</summary>
    private static float[] BaseForecast(float[] history, int h, int m, string model)
    {
        if (model.StartsWith("base-top", StringComparison.Ordinal))
        {
            // Experiment: the equal-weight mean of the top-k candidates' forecasts.
            int top = int.Parse(model["base-top".Length..], Inv);
            var ranked = MLNetRnn.Core.Forecasting.Baselines.BaselineSelection.Rank(history, m, h, MLNetRnn.Core.Forecasting.Baselines.SeasonalAdjustment.Auto,
                MLNetRnn.Core.Forecasting.Baselines.BaselineSelection.DefaultCandidates, 8);
            var sumF = new float[h];
            foreach (var c in ranked.Take(top))
            {
                var bb = MLNetRnn.Core.Forecasting.Baselines.Baseline.Fit(history, m, MLNetRnn.Core.Forecasting.Baselines.SeasonalAdjustment.Auto, c.Methods);
                var st = new double[bb.StateSize];
                bb.ObserveAll(st, history);
                var ff = new float[h];
                bb.Forecast(st, history, history.Length, ff, new float[h]);
                for (int k = 0; k < h; k++) sumF[k] += ff[k] / top;
            }
            LastBounds = (sumF, sumF);
            return sumF;
        }
        IReadOnlyList<MLNetRnn.Core.Forecasting.Baselines.BaselineMethod> methods = model.Contains(':')
            ? model[(model.IndexOf(':') + 1)..].Split('+').Select(Enum.Parse<MLNetRnn.Core.Forecasting.Baselines.BaselineMethod>).ToArray()
            : MLNetRnn.Core.Forecasting.Baselines.BaselineSelection.Rank(history, m, h, MLNetRnn.Core.Forecasting.Baselines.SeasonalAdjustment.Auto,
                MLNetRnn.Core.Forecasting.Baselines.BaselineSelection.DefaultCandidates, 8)[0].Methods;
        var b = MLNetRnn.Core.Forecasting.Baselines.Baseline.Fit(history, m, MLNetRnn.Core.Forecasting.Baselines.SeasonalAdjustment.Auto, methods);
        var state = new double[b.StateSize];
        b.ObserveAll(state, history);
        var f = new float[h];
        b.Forecast(state, history, history.Length, f, new float[h]);
        LastBounds = (f, f);
        return f;
    }

    /// <summary>Bounds of the last forecast, for the coverage column.</summary>
    private static (float[] Lower, float[] Upper) LastBounds;

    internal static int WindowRule(int length, int h, int m, Flags flags)
    {
        if (flags.TryGet("window") is string w) return int.Parse(w, Inv);
        // Two horizons when the series allows, never more than a third of what is left after the horizon. Seasons
        // are removed before the networks read a window, so it need not cover one.
        return Math.Max(1, Math.Min(2 * h, (length - h) / 3));
    }

    private static void PrintRanks(List<Dictionary<string, string>> anchors, Dictionary<string, (double Smape, double Mase, double Rmse, double HoldoutMase, double Seconds)> ours, string method)
    {
        var methods = anchors.Select(a => a["method"]).Distinct().ToList();
        methods.Add(method);
        Console.WriteLine();
        Console.WriteLine("rolling3 MASE (lower is better); rank among " + methods.Count + " methods");
        Console.WriteLine("series          " + string.Join(" ", methods.Select(x => x.PadLeft(10))));
        var ranks = methods.ToDictionary(x => x, _ => new List<double>());
        foreach (var (name, mine) in ours)
        {
            var scores = methods.ToDictionary(x => x, x => x == method ? mine.Mase
                : double.Parse(anchors.Single(a => a["series"] == name && a["method"] == x && a["variant"] == "rolling3")["MASE"], Inv));
            var order = scores.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToList();
            foreach (var x in methods) ranks[x].Add(order.IndexOf(x) + 1);
            Console.WriteLine(name.PadRight(15) + " " + string.Join(" ", methods.Select(x => scores[x].ToString("F3", Inv).PadLeft(10))));
        }
        Console.WriteLine("mean rank       " + string.Join(" ", methods.Select(x => ranks[x].Average().ToString("F2", Inv).PadLeft(10))));
        var snaive = ours.Keys.Where(name => ours[name].Mase >= double.Parse(anchors.Single(a => a["series"] == name && a["method"] == "snaive" && a["variant"] == "rolling3")["MASE"], Inv)).ToList();
        Console.WriteLine(snaive.Count == 0 ? "MASE below seasonal naive on every series." : "Not below seasonal naive on: " + string.Join(", ", snaive));
    }

    internal static string FindShared()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLNetRnn.sln")) && Directory.Exists(Path.Combine(dir.FullName, "..", "shared")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
        throw new DirectoryNotFoundException("Could not find ../shared beside the repository; pass --shared PATH.");
    }

    internal static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l => l.Split(',')).Select(cells => header.Select((hname, i) => (hname, cells[i])).ToDictionary(x => x.hname, x => x.Item2)).ToList();
    }

    internal sealed class Flags
    {
        private readonly Dictionary<string, string> _values = new();

        public static Flags Parse(string[] args)
        {
            var f = new Flags();
            for (int i = 0; i < args.Length; i++)
                if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length) f._values[args[i][2..]] = args[++i];
            return f;
        }

        public string Get(string key, string fallback) => _values.TryGetValue(key, out var v) ? v : fallback;

        public string? TryGet(string key) => _values.GetValueOrDefault(key);

        public override string ToString() => _values.Count == 0 ? "defaults" : string.Join(" ", _values.Select(kv => $"--{kv.Key} {kv.Value}"));
    }
}

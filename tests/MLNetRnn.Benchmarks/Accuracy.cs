using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Optimizers;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The accuracy command: the protocol of the protocol (docs/accuracy-protocol.md)/README.md (21 series, origins n−3h, n−2h, n−h, seeds
/// 0–2, sMAPE/MASE/RMSE per origin, holdout and rolling3), ranked beside the reference methods in anchors.csv.
/// Every forecast goes through the public front door, <c>ForecastByRnn</c>, with the library's defaults; flags
/// change one setting at a time so that variants can be compared. Also measured: seconds per fit, the empirical
/// coverage of the 80/90/95/99% bounds pooled over all test values, and whether the bounds are strictly nested.
/// </summary>
/// <remarks>
/// Flags: --shared PATH (a folder with accuracy/ and data/; default the copy in Accuracy/), --series NAME (default all), --seeds 0,1,2,
/// --name LABEL, --markdown FILE (writes the tables of docs/accuracy.md), --forecasts FILE (every forecast, in
/// anchor_forecasts.csv's format), --model base (the statistical base alone, no network), --verbose true, and one
/// flag per option (see <see cref="Options"/>).
/// </remarks>
internal static class Accuracy
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly float[] Levels = [0.80f, 0.90f, 0.95f, 0.99f];

    private sealed record SeriesResult(string Name, int M, int H, int N, double Smape, double Mase, double Rmse, double HoldoutMase,
        double[] OriginMase, double Seconds, int[] Inside, int Values, int NestingViolations, string Bases, double MeanLambda, double NetworkShare);

    public static int Run(string[] args)
    {
        var flags = Flags.Parse(args);
        // The protocol's files travel with the command (Accuracy/: the series list, the references' scores and the data);
        // --shared PATH reads PATH/accuracy and PATH/data instead.
        string accuracyDir, dataDir;
        if (flags.TryGet("shared") is string shared)
            (accuracyDir, dataDir) = (Path.Combine(shared, "accuracy"), Path.Combine(shared, "data"));
        else
            (accuracyDir, dataDir) = (Path.Combine(AppContext.BaseDirectory, "Accuracy"), Path.Combine(AppContext.BaseDirectory, "Accuracy", "data"));
        if (!File.Exists(Path.Combine(accuracyDir, "series.csv")))
            throw new FileNotFoundException($"The accuracy protocol's series list is not at {Path.Combine(accuracyDir, "series.csv")}; pass --shared PATH (a folder with accuracy/ and data/).");
        var series = ReadCsv(Path.Combine(accuracyDir, "series.csv"));
        var anchors = ReadCsv(Path.Combine(accuracyDir, "anchors.csv"));
        int[] seeds = flags.Get("seeds", "0,1,2").Split(',').Select(s => int.Parse(s, Inv)).ToArray();
        string method = flags.Get("name", "rnn");
        string? only = flags.TryGet("series");
        using var forecastsOut = flags.TryGet("forecasts") is string path ? new StreamWriter(path) : null;
        forecastsOut?.WriteLine("series,method,origin,seed,step,y,f");

        Console.WriteLine($"# accuracy protocol, method '{method}', seeds {string.Join(",", seeds)}, {DateTime.UtcNow:yyyy-MM-dd}, " +
            $"{Environment.ProcessorCount} cores; settings: {flags}");
        var results = new List<SeriesResult>();
        foreach (var row in series)
        {
            string name = row["series"];
            if (only is not null && only != name) continue;
            int m = int.Parse(row["m"], Inv), h = int.Parse(row["h"], Inv), n = int.Parse(row["n"], Inv);
            var values = ReadCsv(Path.Combine(dataDir, row["file"])).Select(r => float.Parse(r["value"], Inv)).ToArray();
            var perOrigin = new List<(double Smape, double Mase, double Rmse)>();
            var inside = new int[Levels.Length];
            int total = 0, violations = 0, fits = 0, networkFits = 0;
            double lambdaSum = 0;
            var bases = new Dictionary<string, int>();
            var clock = new Stopwatch();
            for (int k = 0; k < 3; k++)
            {
                int origin = n - (3 - k) * h;
                var history = values.AsSpan(0, origin).ToArray();
                var actual = values.AsSpan(origin, h).ToArray();
                var metrics = new List<(double, double, double)>();
                foreach (int seed in seeds)
                {
                    clock.Start();
                    var fit = flags.TryGet("model") == "base" ? BaseForecast(history, h, m) : Forecast(history, h, m, seed, flags);
                    clock.Stop();
                    fits++;
                    bases[fit.Base] = bases.GetValueOrDefault(fit.Base) + 1;
                    lambdaSum += fit.Lambda;
                    if (fit.Lambda > 0) networkFits++;
                    var f = fit.Forecast;
                    for (int s = 0; s < h; s++, total++)
                    {
                        for (int l = 0; l < Levels.Length; l++)
                            if (actual[s] >= fit.Lower[l][s] && actual[s] <= fit.Upper[l][s]) inside[l]++;
                        for (int l = 1; l < Levels.Length; l++)
                            if (!(fit.Lower[l][s] < fit.Lower[l - 1][s] && fit.Upper[l][s] > fit.Upper[l - 1][s]) && fit.Upper[l][s] != fit.Lower[l][s]) violations++;
                    }
                    metrics.Add((ForecastMetrics.SymmetricMape(actual, f), ForecastMetrics.Mase(actual, f, history, m), ForecastMetrics.RootMeanSquaredError(actual, f)));
                    for (int s = 0; s < h; s++) forecastsOut?.WriteLine(string.Format(Inv, "{0},{1},{2},{3},{4},{5},{6}", name, method, k + 1, seed, s + 1, actual[s], f[s]));
                }
                perOrigin.Add((metrics.Average(x => x.Item1), metrics.Average(x => x.Item2), metrics.Average(x => x.Item3)));
            }
            var r = new SeriesResult(name, m, h, n, perOrigin.Average(x => x.Smape), perOrigin.Average(x => x.Mase), perOrigin.Average(x => x.Rmse),
                perOrigin[2].Mase, perOrigin.Select(p => p.Mase).ToArray(), clock.Elapsed.TotalSeconds / fits, inside, total, violations,
                string.Join(" / ", bases.OrderByDescending(b => b.Value).Select(b => $"{b.Key} ({b.Value})")), lambdaSum / fits, (double)networkFits / fits);
            results.Add(r);
            Console.WriteLine(string.Format(Inv,
                "{0,-15} rolling3 sMAPE {1,7:F3}  MASE {2,6:F3}  RMSE {3,9:F3} | holdout MASE {4,6:F3} | origins MASE {5} | coverage 80% {6:P0} 95% {7:P0} | λ {8:F2} | {9:F1} s/fit | {10}",
                name, r.Smape, r.Mase, r.Rmse, r.HoldoutMase, string.Join(" ", r.OriginMase.Select(x => x.ToString("F3", Inv))),
                (double)inside[0] / total, (double)inside[2] / total, r.MeanLambda, r.Seconds, r.Bases));
        }

        var ranking = Rank(anchors, results, method);
        PrintRanks(ranking, results, method);
        int tested = results.Sum(r => r.Values);
        Console.WriteLine();
        Console.WriteLine("pooled coverage over " + tested + " test values: " + string.Join(", ",
            Levels.Select((l, i) => $"{l:P0} → {(double)results.Sum(r => r.Inside[i]) / tested:P1}")) +
            $"; bounds not strictly nested at {results.Sum(r => r.NestingViolations)} of {tested * (Levels.Length - 1)} level pairs");
        // A rank moves when a score crosses another method's; the geometric mean of the MASE ratios to a reference
        // says how much more or less accurate the forecasts are, whoever else is close by.
        Console.WriteLine("geometric mean of rolling3 MASE relative to: " + string.Join(", ", new[] { "snaive", "ets", "auto.arima", "thetaf", "nnetar" }.Select(x =>
            string.Format(Inv, "{0} {1:F3}", x, Math.Exp(results.Average(r => Math.Log(r.Mase / AnchorScore(anchors, r.Name, x, "MASE"))))))));
        var worse = results.Where(r => r.Mase > 1.05 * AnchorScore(anchors, r.Name, "snaive", "MASE")).Select(r => r.Name).ToList();
        Console.WriteLine(worse.Count == 0 ? "Within 5% of seasonal naive's MASE, or better, on every series."
            : "More than 5% worse than seasonal naive (MASE) on: " + string.Join(", ", worse));
        if (flags.TryGet("markdown") is string markdown) WriteMarkdown(markdown, ranking, results, method, seeds, flags);
        Console.WriteLine(string.Format(Inv, "mean rolling3 MASE rank: {0:F2} of {1} methods over {2} series",
            ranking["MASE"].MeanRank[method], ranking["MASE"].Methods.Count, results.Count));
        return 0;
    }

    private sealed class Row
    {
        public float Value { get; set; }
    }

    private sealed record Fit(float[] Forecast, float[][] Lower, float[][] Upper, string Base, float Lambda);

    /// <summary>One fit through the public front door, <c>ForecastByRnn</c>, with the library's defaults unless a
    /// flag overrides one, and its forecast with bounds at every level of <see cref="Levels"/>. The window follows
    /// the rule below: settings may depend on m, h and the training length only.</summary>
    private static Fit Forecast(float[] history, int h, int m, int seed, Flags flags)
    {
        var ml = new MLContext(seed: seed);
        var options = Options(history.Length, h, m, seed, flags);
        var data = ml.Data.LoadFromEnumerable(history.Select(v => new Row { Value = v }));
        var model = ml.Forecasting.ForecastByRnn(options).Fit(data);
        var summary = model.TrainingSummary;
        if (flags.TryGet("verbose") == "true")
            Console.WriteLine(string.Format(Inv, "  n={0} W={1} base [{2}] λ={3:F2} shift={4:F3} windows {5}/{6}/{7} members {8} | {9}",
                history.Length, options.WindowSize, summary.Base, summary.CorrectionWeight, summary.MeanCorrection, summary.TrainingWindows,
                summary.ValidationWindows, summary.TotalWindows,
                string.Join(" ", summary.Members.Select(x => $"{x.BestEpoch}/{x.TrainingLoss.Length}e/{x.Steps}s/{x.StoppedBy}")), string.Join("; ", summary.Notes)));
        var engine = model.CreateForecastingEngine();
        var forecasts = Levels.Select(l => engine.Predict(h, l)).ToArray();
        return new Fit(forecasts[0].Forecast, forecasts.Select(f => f.LowerBound).ToArray(), forecasts.Select(f => f.UpperBound).ToArray(),
            ShortBase(summary.Base), summary.CorrectionWeight);
    }

    /// <summary>The options of one fit: defaults, the window rule, and any flag.</summary>
    internal static RnnForecastingOptions Options(int length, int h, int m, int seed, Flags flags)
    {
        var options = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(Row.Value),
            WindowSize = WindowRule(length, h, flags), Horizon = h, SeasonalPeriod = m, Seed = seed,
        };
        if (flags.TryGet("scaling") is string scaling) options.Scaling = Enum.Parse<SeriesScaling>(scaling);
        if (flags.TryGet("loss") is string loss) options.Loss = Enum.Parse<LossKind>(loss);
        if (flags.TryGet("base") is string b) options.Base = Enum.Parse<ForecastBase>(b);
        if (flags.TryGet("adjustment") is string adjustment) options.SeasonalAdjustment = Enum.Parse<SeasonalAdjustment>(adjustment);
        if (flags.TryGet("damping") is string damping) options.CorrectionDamping = damping == "true";
        if (flags.TryGet("windows-per-epoch") is string wpe) options.WindowsPerEpoch = int.Parse(wpe, Inv);
        if (flags.TryGet("max-steps") is string maxSteps) options.MaximumSteps = int.Parse(maxSteps, Inv);
        if (flags.TryGet("seasonal-features") is string sf) options.SeasonalFeatures = sf == "true";
        if (flags.TryGet("recursive") == "true") options.Strategy = ForecastingStrategy.Recursive;
        if (flags.TryGet("cell") is string cell) options.Cell = Enum.Parse<RecurrentCellKind>(cell);
        if (flags.TryGet("hidden") is string hidden) options.HiddenSizes = hidden.Split('x').Select(x => int.Parse(x, Inv)).ToArray();
        if (flags.TryGet("dilations") is string dilations) options.Dilations = dilations.Split(',').Select(x => int.Parse(x, Inv)).ToArray();
        if (flags.TryGet("residual") is string residual) options.ResidualConnections = residual == "true";
        if (flags.TryGet("seasonal-dilation") is string sd) options.SeasonalDilation = sd == "auto" ? null : sd == "true";
        if (flags.TryGet("ensemble") is string ensemble) options.EnsembleSize = int.Parse(ensemble, Inv);
        if (flags.TryGet("base-combination") is string bc) options.LearnedBaseCombination = bc == "auto" ? null : bc == "true";
        if (flags.TryGet("decoder-steps") is string ds) options.DecoderSteps = ds == "auto" ? null : ds == "true";
        if (flags.TryGet("validation") is string validation) options.ValidationFraction = float.Parse(validation, Inv);
        if (flags.TryGet("epochs") is string epochs) options.Epochs = int.Parse(epochs, Inv);
        if (flags.TryGet("batch") is string batch) options.BatchSize = int.Parse(batch, Inv);
        if (flags.TryGet("patience") is string patience) options.EarlyStoppingPatience = int.Parse(patience, Inv);
        if (flags.TryGet("lr") is string lr) options.LearningRate = float.Parse(lr, Inv);
        if (flags.TryGet("optimizer") is string optimizer) options.Optimizer = Enum.Parse<OptimizerKind>(optimizer);
        if (flags.TryGet("weight-decay") is string wd) options.WeightDecay = float.Parse(wd, Inv);
        if (flags.TryGet("weight-averaging") is string wa) options.WeightAveraging = wa == "none" ? null : float.Parse(wa, Inv);
        if (flags.TryGet("quantiles") is string quantiles) options.Quantiles = quantiles.Split(',').Select(x => float.Parse(x, Inv)).ToArray();
        if (flags.TryGet("interval") is string interval) options.IntervalMethod = Enum.Parse<ForecastIntervalMethod>(interval);
        return options;
    }

    /// <summary>The statistical base alone (<c>--model base</c>): the forecaster with no networks, so the tables show
    /// what the networks add. Its bounds are calibrated on every window, as the forecaster's base-only fallback.</summary>
    private static Fit BaseForecast(float[] history, int h, int m) =>
        Forecast(history, h, m, 0, Flags.Parse(["--ensemble", "0"]));

    private static string ShortBase(string description) => description.Replace("SimpleExponentialSmoothing", "SES", StringComparison.Ordinal)
        .Replace("mean of SES, Holt, DampedTrend", "Comb", StringComparison.Ordinal)
        .Replace(" seasonal adjustment", "", StringComparison.Ordinal);

    /// <summary>The window rule: two horizons, never more than a third of what is left after the horizon. Seasons
    /// are removed before the networks read a window, so it need not cover one.</summary>
    internal static int WindowRule(int length, int h, Flags flags)
    {
        if (flags.TryGet("window") is string w) return int.Parse(w, Inv);
        int horizons = flags.TryGet("window-horizons") is string k ? int.Parse(k, Inv) : 2;
        return Math.Max(1, Math.Min(horizons * h, (length - h) / 3));
    }

    private sealed record Ranking(List<string> Methods, Dictionary<string, Dictionary<string, double>> Scores, Dictionary<string, double> MeanRank);

    /// <summary>Per metric: every method's rolling3 score per series, and its mean rank (ties share the better rank).</summary>
    private static Dictionary<string, Ranking> Rank(List<Dictionary<string, string>> anchors, List<SeriesResult> ours, string method)
    {
        var methods = anchors.Select(a => a["method"]).Distinct().Append(method).ToList();
        var result = new Dictionary<string, Ranking>();
        foreach (string metric in new[] { "MASE", "sMAPE", "RMSE" })
        {
            var scores = new Dictionary<string, Dictionary<string, double>>();
            var ranks = methods.ToDictionary(x => x, _ => new List<double>());
            foreach (var r in ours)
            {
                double mine = metric == "MASE" ? r.Mase : metric == "sMAPE" ? r.Smape : r.Rmse;
                var s = methods.ToDictionary(x => x, x => x == method ? mine : AnchorScore(anchors, r.Name, x, metric));
                scores[r.Name] = s;
                foreach (var x in methods) ranks[x].Add(1 + s.Values.Count(v => v < s[x]));
            }
            result[metric] = new Ranking(methods, scores, methods.ToDictionary(x => x, x => ranks[x].Count == 0 ? double.NaN : ranks[x].Average()));
        }
        return result;
    }

    private static double AnchorScore(List<Dictionary<string, string>> anchors, string series, string method, string metric) =>
        double.Parse(anchors.Single(a => a["series"] == series && a["method"] == method && a["variant"] == "rolling3")[metric], Inv);

    private static void PrintRanks(Dictionary<string, Ranking> ranking, List<SeriesResult> results, string method)
    {
        var mase = ranking["MASE"];
        Console.WriteLine();
        Console.WriteLine("rolling3 MASE (lower is better); rank among " + mase.Methods.Count + " methods");
        Console.WriteLine("series          " + string.Join(" ", mase.Methods.Select(x => x.PadLeft(10))));
        foreach (var r in results)
            Console.WriteLine(r.Name.PadRight(15) + " " + string.Join(" ", mase.Methods.Select(x => mase.Scores[r.Name][x].ToString("F3", Inv).PadLeft(10))));
        foreach (var (metric, rank) in ranking)
            Console.WriteLine(($"mean rank {metric}").PadRight(16) + string.Join(" ", rank.Methods.Select(x => rank.MeanRank[x].ToString("F2", Inv).PadLeft(10))));
    }

    private static void WriteMarkdown(string path, Dictionary<string, Ranking> ranking, List<SeriesResult> results, string method, int[] seeds, Flags flags)
    {
        var md = new StringBuilder();
        var mase = ranking["MASE"];
        md.AppendLine($"<!-- written by: dotnet run -c Release --project tests/MLNetRnn.Benchmarks -- accuracy {flags}; {DateTime.UtcNow:yyyy-MM-dd}, seeds {string.Join(",", seeds)} -->");
        md.AppendLine();
        md.AppendLine("| series | m | h | n | " + string.Join(" | ", mase.Methods.Select(x => x == method ? $"**{x}**" : x)) + " | rank |");
        md.AppendLine("| --- | ---: | ---: | ---: | " + string.Join(" | ", mase.Methods.Select(_ => "---:")) + " | ---: |");
        foreach (var r in results)
        {
            var s = mase.Scores[r.Name];
            double best = s.Values.Min();
            int rank = 1 + s.Values.Count(v => v < s[method]);
            md.AppendLine($"| {r.Name} | {r.M} | {r.H} | {r.N} | " + string.Join(" | ", mase.Methods.Select(x =>
                (s[x] == best ? "**" : "") + s[x].ToString("F3", Inv) + (s[x] == best ? "**" : ""))) + $" | {rank} |");
        }
        foreach (var (metric, rank) in ranking)
            md.AppendLine($"| **mean rank, {metric}** | | | | " + string.Join(" | ", rank.Methods.Select(x => rank.MeanRank[x].ToString("F2", Inv))) + " | |");
        md.AppendLine();
        md.AppendLine("| series | base chosen (fits) | mean λ | fits using the networks | holdout MASE | MASE per origin | 80% coverage | 95% coverage | s/fit |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
        foreach (var r in results)
            md.AppendLine(string.Format(Inv, "| {0} | {1} | {2:F2} | {3:P0} | {4:F3} | {5} | {6:P0} | {7:P0} | {8:F1} |", r.Name, r.Bases, r.MeanLambda, r.NetworkShare,
                r.HoldoutMase, string.Join(" ", r.OriginMase.Select(x => x.ToString("F3", Inv))), (double)r.Inside[0] / r.Values, (double)r.Inside[2] / r.Values, r.Seconds));
        int values = results.Sum(r => r.Values);
        md.AppendLine();
        md.AppendLine($"Pooled over the {values} test values of {results.Count} series × 3 origins × {seeds.Length} seeds: " + string.Join(", ",
            Levels.Select((l, i) => string.Format(Inv, "{0:P0} bounds cover {1:P1}", l, (double)results.Sum(r => r.Inside[i]) / values))) +
            $"; the 80/90/95/99% bounds are strictly nested at every step of every fit except {results.Sum(r => r.NestingViolations)} level pairs (of {values * (Levels.Length - 1)}), zero-width bounds of a constant forecast excluded.");
        File.WriteAllText(path, md.ToString());
        Console.WriteLine($"wrote {path}");
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

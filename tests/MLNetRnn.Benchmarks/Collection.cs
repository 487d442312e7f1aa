using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The collection command: a held-out collection of ../shared/benchmarks (README.md there: series.csv, data/, the
/// competition's split, anchors.csv), forecast from the end of each training part and scored as the M competitions
/// score it, beside the collection's anchors.
/// <list type="bullet">
/// <item><c>--model global</c> (default): per frequency, one <c>ForecastByRnn</c> with <c>SeriesIdColumnName</c> on all
/// that frequency's training parts. The window is the accuracy protocol's rule (two horizons, at most a third of what
/// is left after the horizon; <see cref="Accuracy.WindowRule"/>) at the frequency's median training length, raised to the
/// longest candidate season where that cap leaves room (hourly: 168): one window serves the whole panel, and the rule's
/// cap keeps the typical series, not the shortest, supplied with windows.</item>
/// <item><c>--model local</c>: one single-series fit per series, exactly as the accuracy command fits one.</item>
/// <item><c>--model base</c>: the statistical base alone (<c>EnsembleSize = 0</c>), as the accuracy command's.</item>
/// </list>
/// Everything else is the library's defaults. A series the chosen model cannot forecast (in a panel: kept pending,
/// shorter than the window, or shorter than what its base reads) falls back to the single-series fit, then to the base
/// alone, then to the last value; every fallback is counted and printed, and every series is scored.
/// <para>Flags: --path DIR (required: a collection folder), --model global|local|base, --forecasts FILE (the scorer's
/// format: series,method,origin,seed,step,y,f), --limit N (the first N series of each frequency), --every K (every K-th
/// series of each frequency, the first included: a sample across the collection; with --limit, the first N of those),
/// --series ID1,ID2,… (only those series; the anchors are then scored on them alone), --period P (one
/// frequency: YEARLY, QUARTERLY, MONTHLY, HOURLY…), --seed S (default 0), --name LABEL (the method column; default
/// mlnetrnn-MODEL), --verbose true (one line per series), the options flags of the accuracy command (--window,
/// --hidden 32x32, --dilations 1,24, --residual true, --ensemble, --max-steps, --windows-per-epoch, --lr…, see <see cref="Accuracy.Options"/>) and the panel
/// flags of the global command (--id-feature, --scale-feature, --weighting, see <see cref="GlobalModels.PanelFlags"/>).
/// A study, not a model: --fine-tune STEPS [--fine-tune-lr LR] with --model global forecasts each series with the global
/// members trained further on its own windows (<see cref="FineTuneStudy"/>); --series-heads true [--series-heads-t T | --series-heads-last true] with
/// its own linear heads (<see cref="HeadStudy"/>); --combiner true [--combiner-variant learned|selected|mean] with --model base
/// prints the base combination learned across each frequency's series, alone, beside the best-scored candidate and the
/// equal mean, and writes the variant's forecasts (<see cref="CombinerStudy"/>).</para>
/// <para>Seasons: --season P (the period of every series, in place of the collection's m), --seasons P1,P2,… (candidate
/// periods, each series choosing its own: <c>SeasonalPeriods</c>; SeasonalPeriod is --season when given, else the
/// smallest). With neither, <see cref="DefaultSeasons"/> by frequency. The MASE is scored at the collection's m either way.</para>
/// </summary>
internal static class Collection
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One series of the collection: <see cref="Values"/> holds the n training values, then the h test values.</summary>
    private sealed record Series(string Name, string Period, int M, int H, int N, double[] Values)
    {
        public float[] Training => Values[..N].Select(v => (float)v).ToArray();
    }

    private sealed class Row
    {
        public string Series { get; set; } = "";

        public float Value { get; set; }
    }

    /// <summary>How a series was forecast: by the chosen model, or by which fallback.</summary>
    private enum Route { Model, Local, Base, Naive }

    private sealed record Result(Series Series, float[] Forecast, Route Route, double Smape, double Mase);

    public static int Run(string[] args)
    {
        var flags = Accuracy.Flags.Parse(args);
        string folder = flags.TryGet("path") ?? throw new ArgumentException("--path DIR is required: a collection folder with series.csv and data/ (e.g. ../shared/benchmarks/m1).");
        if (!File.Exists(Path.Combine(folder, "series.csv")))
            throw new FileNotFoundException($"No series.csv in '{Path.GetFullPath(folder)}'; --path names a collection folder such as ../shared/benchmarks/m1.");
        string model = flags.Get("model", "global");
        if (model is not ("global" or "local" or "base")) throw new ArgumentException($"--model must be global, local or base; got '{model}'.");
        int seed = int.Parse(flags.Get("seed", "0"), Inv);
        int limit = int.Parse(flags.Get("limit", int.MaxValue.ToString(Inv)), Inv);
        int every = int.Parse(flags.Get("every", "1"), Inv);
        if (every < 1) throw new ArgumentOutOfRangeException("--every", every, "--every K takes every K-th series of each frequency, K at least 1.");
        string method = flags.Get("name", "mlnetrnn-" + model);
        string? only = flags.TryGet("period");
        var named = flags.TryGet("series") is string list ? list.Split(',').ToHashSet(StringComparer.Ordinal) : null;
        // The studies change how the global model forecasts; on another model they would be silently ignored.
        bool fineTune = flags.TryGet("fine-tune") is not null, heads = flags.TryGet("series-heads") == "true";
        if ((fineTune || heads) && model != "global")
            throw new ArgumentException($"--fine-tune and --series-heads study the global model; --model is {model}.");
        if (fineTune && heads) throw new ArgumentException("--fine-tune and --series-heads are two studies: give one.");
        bool combiner = flags.TryGet("combiner") == "true";
        if (combiner && model != "base") throw new ArgumentException($"--combiner studies the base alone; --model is {model}.");
        if (combiner && flags.Get("combiner-variant", "learned") is not ("learned" or "selected" or "mean"))
            throw new ArgumentException($"--combiner-variant must be learned, selected or mean; got '{flags.Get("combiner-variant", "")}'.");
        if (fineTune && !(int.Parse(flags.Get("fine-tune", "0"), Inv) >= 1))
            throw new ArgumentOutOfRangeException("--fine-tune", flags.Get("fine-tune", ""), "--fine-tune STEPS takes at least 1 step.");

        var all = Accuracy.ReadCsv(Path.Combine(folder, "series.csv"));
        if (named is not null)
        {
            var unknown = named.Except(all.Select(r => r["series"])).ToArray();
            if (unknown.Length > 0) throw new ArgumentException($"--series: {string.Join(", ", unknown)} not in {Path.Combine(folder, "series.csv")}.");
            all = all.Where(r => named.Contains(r["series"])).ToList();
        }
        var periods = all.Select(r => r["period"]).Distinct().Order(StringComparer.Ordinal).Where(p => only is null || string.Equals(p, only, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (periods.Length == 0) throw new ArgumentException($"--period {only}: the collection has {string.Join(", ", all.Select(r => r["period"]).Distinct())}.");
        Console.WriteLine($"# collection {Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'))}, model {model}, method '{method}', seed {seed}, {DateTime.UtcNow:yyyy-MM-dd HH:mm}, " +
            $"{Environment.ProcessorCount} cores, load average {GlobalModels.LoadAverage()}; settings: {flags}");

        using var output = flags.TryGet("forecasts") is string file ? new StreamWriter(file) : null;
        output?.WriteLine("series,method,origin,seed,step,y,f");
        var anchors = ReadAnchors(folder, all.Select(r => r["period"]).Distinct().ToArray());
        var results = new List<Result>();
        double fitSeconds = 0;
        foreach (string period in periods)
        {
            var series = all.Where(r => r["period"] == period).Where((_, i) => i % every == 0).Take(limit).Select(r => Read(folder, r)).ToArray();
            var clock = Stopwatch.StartNew();
            var (forecasts, seconds, note) = model switch
            {
                "global" => Global(series, seed, flags),
                _ => Separately(series, seed, flags, model == "base"),
            };
            if (combiner)
            {
                var variants = CombinerStudy.Run(series.Select(x => (x.Name, x.Training)).ToArray(), series[0].M, series[0].H, Console.Out);
                foreach (var (variant, bySeries) in variants)
                    Console.WriteLine($"  combiner {variant,-12}: " + Summary(series.Select(x => bySeries.TryGetValue(x.Name, out var f) ? Score(x, f, Route.Model) : Score(x, forecasts[x.Name].Forecast, Route.Base)).ToList()));
                var chosen = variants[flags.Get("combiner-variant", "learned")];
                forecasts = series.ToDictionary(x => x.Name, x => chosen.TryGetValue(x.Name, out var f) ? (f, Route.Model) : (forecasts[x.Name].Forecast, Route.Base));
            }
            var scored = series.Select(s => Score(s, forecasts[s.Name].Forecast, forecasts[s.Name].Route)).ToList();
            results.AddRange(scored);
            fitSeconds += seconds;
            foreach (var r in scored)
            {
                for (int k = 0; k < r.Series.H; k++)
                    output?.WriteLine(string.Format(Inv, "{0},{1},1,{2},{3},{4},{5}", r.Series.Name, method, seed, k + 1, r.Series.Values[r.Series.N + k], r.Forecast[k]));
                if (flags.TryGet("verbose") == "true")
                    Console.WriteLine(string.Format(Inv, "  {0,-10} n {1,4} sMAPE {2,8:F3} MASE {3,7:F3} {4}", r.Series.Name, r.Series.N, r.Smape, r.Mase, r.Route));
            }
            Console.WriteLine(string.Format(Inv, "{0} (m {1}, h {2}): {3}; fit {4:F1} s, all {5:F1} s; peak working set so far {6:F0} MB; {7}",
                period, series[0].M, series[0].H, Summary(scored), seconds, clock.Elapsed.TotalSeconds, PeakMegabytes(), Fallbacks(scored, model)));
            Console.WriteLine("  " + note);
            PrintAnchors(period, method, scored, anchors);
        }
        Console.WriteLine(string.Format(Inv, "ALL: {0}; fit {1:F1} s; peak working set {2:F0} MB; {3}", Summary(results), fitSeconds, PeakMegabytes(), Fallbacks(results, model)));
        if (periods.Length > 1) PrintAnchors("ALL", method, results, anchors);
        if (output is not null) Console.WriteLine($"wrote {results.Sum(r => r.Series.H)} forecasts of {results.Count} series to {flags.TryGet("forecasts")}");
        return 0;
    }

    // ------------------------------------------------------------------ the models

    private static (Dictionary<string, (float[] Forecast, Route Route)> Forecasts, double Seconds, string Note) Global(Series[] series, int seed, Accuracy.Flags flags)
    {
        int m = series[0].M, h = series[0].H;
        if (series.Any(s => s.M != m || s.H != h))
            throw new InvalidOperationException($"Series of period {series[0].Period} differ in m or h ({string.Join(", ", series.Select(s => (s.M, s.H)).Distinct())}); one model needs one season and horizon.");
        int median = Median(series.Select(s => s.N));
        var options = Accuracy.Options(median, h, m, seed, flags);
        Seasons(options, series[0].Period, m, flags);
        // The window sees the longest season a series may take (issue 19: "windows long enough to see the longest season
        // by default"), where the rule's cap at the median length leaves room for it; M1's seasons are within the rule.
        int longest = options.SeasonalPeriods.Length > 0 ? options.SeasonalPeriods.Max() : m;
        if (flags.TryGet("window") is null && longest > options.WindowSize && longest <= (median - h) / 3)
            options.WindowSize = longest;
        options.InputColumnName = nameof(Row.Value);
        options.SeriesIdColumnName = nameof(Row.Series);
        GlobalModels.PanelFlags(options, flags);
        var ml = new MLContext(seed: seed);
        // Only the training parts reach the fit: each series' first n values.
        var rows = series.SelectMany(s => s.Training.Select(v => new Row { Series = s.Name, Value = v })).ToArray();
        var clock = Stopwatch.StartNew();
        RnnForecastingTransformer? fitted = null;
        string note;
        try
        {
            fitted = ml.Forecasting.ForecastByRnn(options).Fit(ml.Data.LoadFromEnumerable(rows));
            var summary = fitted.TrainingSummary;
            note = string.Format(Inv, "window {0} ({1}), {2} pending, λ {3:F2}, {4} windows, members {5}; {6}",
                options.WindowSize, flags.TryGet("window") is null ? $"the rule at the median training length {median}, at least the longest season" : "--window",
                fitted.PendingSeriesIds.Count, summary.CorrectionWeight, summary.TotalWindows, string.Join(" ", summary.Members.Select(x => $"{x.Steps}s/{x.StoppedBy}")),
                PeriodCounts(options, fitted.Model.Series.Select(f => f.SeasonalPeriod)))
                + string.Concat(summary.Notes.Where(n => n.Contains("learn a combination", StringComparison.Ordinal) || n.Contains("combines the candidates", StringComparison.Ordinal) || n.Contains("learned combination:", StringComparison.Ordinal) || n.Contains("not its mean with the learned combination", StringComparison.Ordinal)).Select(n => "\n  " + n));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // Every series shorter than the window: the library refuses the panel, and every series falls back.
            note = $"window {options.WindowSize}: the panel's fit failed: {e.Message}";
        }
        double seconds = clock.Elapsed.TotalSeconds;
        // PredictAll leaves out what the model cannot forecast: the pending series and those shorter than their base reads.
        var predicted = fitted?.CreateForecastingEngine().PredictAll() ?? new Dictionary<string, RnnForecast>();
        if (fitted is not null && flags.TryGet("fine-tune") is string steps)
        {
            clock.Restart();
            predicted = FineTuneStudy.Run(fitted, series.Select(x => x.Training).ToArray(), int.Parse(steps, Inv), flags);
            seconds += clock.Elapsed.TotalSeconds;
        }
        if (fitted is not null && flags.TryGet("series-heads") == "true")
        {
            clock.Restart();
            predicted = HeadStudy.Run(fitted, series.Select(x => x.Training).ToArray(), double.Parse(flags.Get("series-heads-t", "0"), Inv),
                flags.TryGet("series-heads-last") == "true");
            seconds += clock.Elapsed.TotalSeconds;
        }
        var result = new Dictionary<string, (float[], Route)>(StringComparer.Ordinal);
        foreach (var s in series)
        {
            if (predicted.TryGetValue(s.Name, out var f) && f.Forecast.All(float.IsFinite)) result[s.Name] = (f.Forecast, Route.Model);
            else
            {
                clock.Restart();
                result[s.Name] = Fallback(s, seed, flags, Route.Local);
                seconds += clock.Elapsed.TotalSeconds;
            }
        }
        return (result, seconds, note);
    }

    private static (Dictionary<string, (float[] Forecast, Route Route)> Forecasts, double Seconds, string Note) Separately(Series[] series, int seed, Accuracy.Flags flags, bool baseOnly)
    {
        var result = new Dictionary<string, (float[], Route)>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        int baseAlone = 0, done = 0;
        var chosen = new List<int>();
        foreach (var s in series)
        {
            (float[] Forecast, Route Route, bool Networks, int Period)? fit = null;
            try
            {
                fit = Fit(s, seed, flags, baseOnly);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                Console.WriteLine($"  {s.Name}: {e.Message}");
            }
            result[s.Name] = fit is { } x && x.Forecast.All(float.IsFinite) ? (x.Forecast, Route.Model) : Fallback(s, seed, flags, baseOnly ? Route.Naive : Route.Base);
            if (fit is { Networks: false } && !baseOnly) baseAlone++;
            if (fit is { } chosenFit) chosen.Add(chosenFit.Period);
            if (++done % 100 == 0) Console.WriteLine(string.Format(Inv, "  … {0} of {1} series, {2:F0} s", done, series.Length, clock.Elapsed.TotalSeconds));
        }
        var seasons = Accuracy.Options(series[0].N, series[0].H, series[0].M, seed, flags);
        Seasons(seasons, series[0].Period, series[0].M, flags);
        string note = (baseOnly ? "base alone" : string.Format(Inv, "{0} of {1} fits kept the base alone (the library's rule: too short for networks, or λ = 0)", baseAlone, series.Length))
            + "; " + PeriodCounts(seasons, chosen);
        return (result, clock.Elapsed.TotalSeconds, note);
    }

    /// <summary>One series fitted alone, exactly as the accuracy command fits it (its window rule on the series' own
    /// length); <paramref name="baseOnly"/>: the base alone; <paramref name="ownWindow"/>: the rule even when --window
    /// sets one (a fallback is for a series too short for that window). Throws what the fit throws.</summary>
    private static (float[] Forecast, Route Route, bool Networks, int Period) Fit(Series s, int seed, Accuracy.Flags flags, bool baseOnly, bool ownWindow = false)
    {
        var options = Accuracy.Options(s.N, s.H, s.M, seed, flags);
        Seasons(options, s.Period, s.M, flags);
        options.InputColumnName = nameof(Row.Value);
        if (baseOnly) options.EnsembleSize = 0;
        if (ownWindow) options.WindowSize = Accuracy.WindowRule(s.N, s.H, Accuracy.Flags.Parse([]));
        var ml = new MLContext(seed: seed);
        var fitted = ml.Forecasting.ForecastByRnn(options).Fit(ml.Data.LoadFromEnumerable(s.Training.Select(v => new Row { Series = s.Name, Value = v })));
        return (fitted.CreateForecastingEngine().Predict().Forecast, Route.Model, fitted.TrainingSummary.UsesNetworks, fitted.Model.Series[0].SeasonalPeriod);
    }

    /// <summary>
    /// The candidate seasonal periods of a frequency when neither --season nor --seasons is given: hourly data has a
    /// day and a week (24 and 168 hours), which comes from the calendar, not from tuning on M4 Hourly; every other
    /// frequency keeps the collection's m alone (one candidate: the fit is the one without SeasonalPeriods).
    /// </summary>
    internal static int[] DefaultSeasons(string frequency, int m)
        => string.Equals(frequency, "HOURLY", StringComparison.OrdinalIgnoreCase) && m == 24 ? [24, 168] : [m];

    /// <summary>Sets SeasonalPeriod and SeasonalPeriods from --season, --seasons, or <see cref="DefaultSeasons"/>.</summary>
    private static void Seasons(RnnForecastingOptions options, string frequency, int m, Accuracy.Flags flags)
    {
        int? season = flags.TryGet("season") is string p ? int.Parse(p, Inv) : null;
        int[] candidates = flags.TryGet("seasons") is string list ? list.Split(',').Select(x => int.Parse(x, Inv)).ToArray()
            : season is int one ? [one] : DefaultSeasons(frequency, m);
        options.SeasonalPeriod = season ?? candidates.Min();
        options.SeasonalPeriods = candidates.Length > 1 ? candidates : [];
    }

    private static string PeriodCounts(RnnForecastingOptions options, IEnumerable<int> chosen)
        => options.SeasonalPeriods.Length == 0 ? $"m = {options.SeasonalPeriod}"
            : "periods chosen: " + string.Join(", ", chosen.GroupBy(p => p).OrderBy(g => g.Key).Select(g => $"{g.Key} ({g.Count()})"));

    /// <summary>What the library offers a series the chosen model could not forecast, starting at <paramref name="from"/>:
    /// the single-series fit, then the base alone; the last value when even that fails (never seen so far).</summary>
    private static (float[] Forecast, Route Route) Fallback(Series s, int seed, Accuracy.Flags flags, Route from)
    {
        for (var route = from; route < Route.Naive; route++)
        {
            try
            {
                var f = Fit(s, seed, flags, baseOnly: route == Route.Base, ownWindow: true).Forecast;
                if (f.All(float.IsFinite)) return (f, route);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                Console.WriteLine($"  {s.Name} ({route}): {e.Message}");
            }
        }
        return (Enumerable.Repeat((float)s.Values[s.N - 1], s.H).ToArray(), Route.Naive);
    }

    // ------------------------------------------------------------------ scoring

    /// <summary>sMAPE and MASE as score.py computes them, on the forecast as the forecasts file writes it (shortest
    /// round-trip text, read back as a double), so the two agree to the last printed decimal.</summary>
    private static Result Score(Series s, float[] forecast, Route route)
    {
        var (smape, mase) = Score(s, forecast.Select(f => double.Parse(f.ToString(Inv), Inv)).ToArray());
        return new Result(s, forecast, route, smape, mase);
    }

    private static (double Smape, double Mase) Score(Series s, double[] f)
    {
        int n = s.N, h = s.H, m = Math.Max(1, s.M);
        var x = s.Values;
        double scale = 0;
        for (int t = m; t < n; t++) scale += Math.Abs(x[t] - x[t - m]);
        scale /= n - m;
        double smape = 0, error = 0;
        for (int k = 0; k < h; k++)
        {
            double y = x[n + k];
            smape += 200 * Math.Abs(y - f[k]) / (Math.Abs(y) + Math.Abs(f[k]));
            error += Math.Abs(y - f[k]);
        }
        return (smape / h, error / h / scale);
    }

    private static string Summary(IReadOnlyCollection<Result> r) =>
        string.Format(Inv, "sMAPE {0:F3} MASE {1:F3} over {2} series", r.Average(x => x.Smape), r.Average(x => x.Mase), r.Count);

    private static string Fallbacks(IReadOnlyCollection<Result> r, string model)
    {
        var taken = r.Where(x => x.Route != Route.Model).GroupBy(x => x.Route).OrderBy(g => g.Key).ToArray();
        return taken.Length == 0 ? "fallbacks: none"
            : $"fallbacks: {taken.Sum(g => g.Count())} of {r.Count} series (" + string.Join(", ", taken.Select(g => $"{g.Count()} {model} → {Describe(g.Key)}")) + ")";
    }

    private static string Describe(Route route) => route switch
    {
        Route.Local => "single-series fit",
        Route.Base => "base alone",
        _ => "last value",
    };

    // ------------------------------------------------------------------ anchors

    private sealed record Anchors(Dictionary<string, List<(string Method, double Smape, double Mase)>> Published,
        Dictionary<string, Dictionary<string, double[]>> Forecasts);   // method → series → (h) forecast

    /// <summary>anchors.csv per period (and ALL; a file without a period column describes the only period there is), and
    /// anchor_forecasts.csv, so that the anchors can be scored on exactly the series a run scored.</summary>
    private static Anchors ReadAnchors(string folder, string[] collectionPeriods)
    {
        var published = new Dictionary<string, List<(string, double, double)>>(StringComparer.Ordinal);
        string path = Path.Combine(folder, "anchors.csv");
        foreach (var a in File.Exists(path) ? Accuracy.ReadCsv(path) : [])
        {
            string period = a.TryGetValue("period", out var p) ? p : collectionPeriods.Length == 1 ? collectionPeriods[0] : "ALL";
            if (!published.TryGetValue(period, out var list)) published[period] = list = [];
            list.Add((a["method"], double.Parse(a["sMAPE"], Inv), double.Parse(a["MASE"], Inv)));
        }
        var forecasts = new Dictionary<string, Dictionary<string, double[]>>(StringComparer.Ordinal);
        path = Path.Combine(folder, "anchor_forecasts.csv");
        var lines = File.Exists(path) ? File.ReadLines(path) : [];
        string[]? header = null;
        foreach (string line in lines)
        {
            var cells = line.Split(',');
            if (header is null) { header = cells; continue; }
            string method = cells[Array.IndexOf(header, "method")], series = cells[Array.IndexOf(header, "series")], f = cells[Array.IndexOf(header, "f")];
            if (f is "" or "NA" or "nan" or "NaN") continue;
            if (!forecasts.TryGetValue(method, out var bySeries)) forecasts[method] = bySeries = new(StringComparer.Ordinal);
            if (!bySeries.TryGetValue(series, out var steps)) bySeries[series] = steps = [];
            int step = int.Parse(cells[Array.IndexOf(header, "step")], Inv);
            if (steps.Length < step) Array.Resize(ref steps, step);
            steps[step - 1] = double.Parse(f, Inv);
            bySeries[series] = steps;
        }
        return new Anchors(published, forecasts);
    }

    /// <summary>Ours beside the anchors: their published figures (anchors.csv, over the whole collection) and, from
    /// anchor_forecasts.csv, their forecasts scored here on the same series as ours (a method that misses a series is
    /// scored on the ones it has, as score.py does, and the count says so).</summary>
    private static void PrintAnchors(string period, string method, IReadOnlyCollection<Result> ours, Anchors anchors)
    {
        anchors.Published.TryGetValue(period, out var published);
        var rows = new List<(string Method, string Published, double PublishedMase, double Smape, double Mase, int Count)>
        {
            (method, "", double.NaN, ours.Average(x => x.Smape), ours.Average(x => x.Mase), ours.Count),
        };
        foreach (var p in published ?? [])
            rows.Add((p.Method, string.Format(Inv, "{0,8:F3} {1,8:F3}", p.Smape, p.Mase), p.Mase, double.NaN, double.NaN, 0));
        foreach (var (name, bySeries) in anchors.Forecasts)
        {
            var scored = ours.Where(r => bySeries.TryGetValue(r.Series.Name, out var f) && f.Length >= r.Series.H).Select(r => Score(r.Series, bySeries[r.Series.Name])).ToArray();
            if (scored.Length == 0) continue;
            int at = rows.FindIndex(x => x.Method == name);
            var row = (name, at >= 0 ? rows[at].Published : "", at >= 0 ? rows[at].PublishedMase : double.NaN, scored.Average(x => x.Smape), scored.Average(x => x.Mase), scored.Length);
            if (at >= 0) rows[at] = row;
            else rows.Add(row);
        }
        if (rows.Count == 1) return;
        Console.WriteLine($"  {period}: ours beside the anchors, as published (anchors.csv: the whole collection) and scored here on our {ours.Count} series (anchor_forecasts.csv)");
        Console.WriteLine("    method            published sMAPE     MASE   same series: sMAPE     MASE  series");
        // Ranked by MASE on our series where the anchor's forecasts are here, then by its published MASE.
        foreach (var r in rows.OrderBy(x => double.IsNaN(x.Mase) ? 1 : 0).ThenBy(x => double.IsNaN(x.Mase) ? x.PublishedMase : x.Mase))
            Console.WriteLine(string.Format(Inv, "    {0,-16} {1,26} {2,20} {3,8} {4,7}{5}", r.Method, r.Published,
                double.IsNaN(r.Smape) ? "" : r.Smape.ToString("F3", Inv), double.IsNaN(r.Mase) ? "" : r.Mase.ToString("F3", Inv),
                r.Count == 0 ? "" : r.Count.ToString(Inv), r.Method == method ? "   <- ours" : ""));
    }

    // ------------------------------------------------------------------ reading

    private static Series Read(string folder, Dictionary<string, string> row)
    {
        int n = int.Parse(row["n"], Inv), h = int.Parse(row["h"], Inv);
        var values = Accuracy.ReadCsv(Path.Combine(folder, "data", row["file"])).Select(r => double.Parse(r["value"], Inv)).ToArray();
        if (values.Length != n + h)
            throw new InvalidDataException($"Series '{row["series"]}': series.csv says n {n} + h {h} = {n + h} values; data/{row["file"]} has {values.Length}.");
        return new Series(row["series"], row["period"], int.Parse(row["m"], Inv), h, n, values);
    }

    private static int Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[(sorted.Length - 1) / 2];
    }

    private static double PeakMegabytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64 / 1e6;
    }
}

using System.Globalization;
using MLNetRnn.Core.Forecasting;
using Spectre.Console;

namespace MLNetRnn.Cli;

/// <summary>
/// What <c>fit</c> and <c>backtest</c> say about the seasonal period: every candidate the detection tested (from the dates'
/// calendar, the data's autocorrelations, or <c>--season</c>), its strength against the test's limit and its verdict; the
/// season the model uses, detected or set; and a warning, in the tool's own terms, for each significant season a set
/// <c>--season</c> leaves out. The library words the same warning for its options (a note in the training summary), so
/// the summary's copy is left out of the notes the tool prints (<see cref="IsSeasonWarning"/>).
/// </summary>
internal static class SeasonReport
{
    /// <summary>The library's warning for a season left out starts so (SeasonalPeriodNotes.LeftOut in Core).</summary>
    private const string LibraryWarning = "The data has a significant season of period ";

    /// <summary>Whether a training-summary note is the library's warning for a season left out.</summary>
    public static bool IsSeasonWarning(string note) => note.StartsWith(LibraryWarning, StringComparison.Ordinal);

    /// <summary>Detects seasonal periods in <paramref name="series"/> as the forecaster does with these options (the set
    /// season, if any, tested too), for a command that reports them before the model is fitted (backtest).</summary>
    public static SeasonalPeriodDetection Detect(RnnForecastingOptions options, CsvSeries series)
    {
        var values = series.IdColumn is null ? [series.Values] : series.SeriesIds.Select(id => series.Part(id).Values).ToArray();
        // The set season (if any) is tested too, as the forecaster's own report does, so the warning can compare them.
        int[] given = options.SeasonalPeriod == 0 && options.SeasonalPeriods.Length == 0 ? []
            : options.SeasonalPeriods.Append(options.SeasonalPeriod).Where(p => p > 1).Distinct().ToArray();
        return SeasonalPeriodDetector.Detect(values, series.Step.Frequency, given);
    }

    /// <summary>The candidates table, the season used and the warnings. <paramref name="setPeriod"/> is <c>--season</c>
    /// (0: detected); <paramref name="chosen"/>, when known (after a fit), the periods the series use.</summary>
    public static void Show(IAnsiConsole console, SeasonalPeriodDetection detection, int setPeriod, IReadOnlyList<int>? chosen = null)
    {
        bool panel = detection.SeriesCount > 1;
        string what = detection.Frequency == SamplingFrequency.Unknown ? "no dates" : $"{detection.Frequency.ToString().ToLowerInvariant()} data";
        if (panel) what += $", {detection.SeriesCount} series";
        if (detection.Candidates.Count == 0)
            console.MarkupLine(Markup.Escape($"Seasonal periods ({what}): no candidate (no calendar period and no peak in the data's autocorrelations)."));
        else
        {
            var table = new Table().Title($"Seasonal periods ({Markup.Escape(what)})").AddColumns("period", "from", panel ? "median r" : "r", panel ? "median limit" : "90 % limit");
            if (panel) table.AddColumn("passes in");
            table.AddColumn("verdict");
            foreach (var c in detection.Candidates)
            {
                var row = new List<string> { I(c.Period), Sources(c.Source), F(c.Strength), F(c.Threshold) };
                if (panel) row.Add(c.Tested ? $"{I(c.SeriesPassing)} of {I(c.SeriesTested)} series" : "–");
                row.Add(Verdict(c));
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }
            console.Write(table);
        }
        console.MarkupLine(Markup.Escape(Used(detection, setPeriod, chosen)));
        if (setPeriod == 0) return;
        foreach (var c in detection.LeftOut([setPeriod]))
        {
            string where = panel ? $"median r = {F(c.Strength)} > {F(c.Threshold)}, in {I(c.SeriesPassing)} of {I(c.SeriesTested)} series" : $"r = {F(c.Strength)} > {F(c.Threshold)}";
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape($"the data has a significant season of period {I(c.Period)} ({where}) that --season {I(setPeriod)} leaves out: pass --season {I(c.Period)}, or leave --season out to have it detected.")}");
        }
    }

    /// <summary>The line that says which season the model uses and why.</summary>
    private static string Used(SeasonalPeriodDetection detection, int setPeriod, IReadOnlyList<int>? chosen)
    {
        if (setPeriod == 1) return "Season: none (--season 1).";
        if (setPeriod > 1) return $"Season: {I(setPeriod)}, set by --season.";
        var periods = detection.Periods;
        if (periods.Count == 0) return "Season: none detected (no candidate passes the test); --season sets one.";
        if (periods.Count == 1) return $"Season: {I(periods[0])}, detected; --season sets another.";
        string among = string.Join(", ", periods.Order().Select(I));
        string took = chosen is { Count: > 0 } ? $" (the series use {string.Join(", ", chosen.Select(I))})" : "";
        return $"Seasons: {among} detected; each series chooses its own among them{took}; --season sets one.";
    }

    private static string Sources(SeasonalPeriodSource source)
    {
        var from = new List<string>();
        if (source.HasFlag(SeasonalPeriodSource.Dates)) from.Add("dates");
        if (source.HasFlag(SeasonalPeriodSource.Autocorrelation)) from.Add("autocorrelation");
        if (source.HasFlag(SeasonalPeriodSource.Given)) from.Add("--season");
        return string.Join(", ", from);
    }

    private static string Verdict(SeasonalPeriodCandidate c)
        => !c.Tested ? $"not tested: fewer than {I(SeasonalPeriodDetector.MinimumSeasons)} seasons"
            : !c.Passes ? "does not pass"
            : c.Repeats > 0 ? $"passes, but only repeats {I(c.Repeats)}"
            : "passes";

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";
}

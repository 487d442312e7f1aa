using System.Globalization;
using MLNetRnn.Plots;
using Spectre.Console;

namespace MLNetRnn.Cli;

// What the commands show and write: the summary and forecast tables, the forecast CSVs, the plots and the diagnostics
// files, and the number formats they share.
internal static partial class CliApp
{
    // ------------------------------------------------------------------ shared output

    private static void ShowSummary(IAnsiConsole console, RnnForecastingTransformer model)
    {
        var t = model.TrainingSummary;
        var table = new Table().Title("Training").AddColumns("member", "epochs", "best", "val. loss", "clipped", "skipped", "reach early→late", "σ₁ start→end");
        for (int k = 0; k < model.Diagnostics.Count; k++)
        {
            var d = model.Diagnostics[k];
            var m = t.Members[k];
            string sigma = d.InitialSpectrum is { } s0 && d.FinalSpectrum is { } s1
                ? $"{s0.Gates.Max(g => g.LargestSingularValue).ToString("F2", CultureInfo.InvariantCulture)} → {s1.Gates.Max(g => g.LargestSingularValue).ToString("F2", CultureInfo.InvariantCulture)}" : "–";
            table.AddRow(I(k + 1), I(d.Epochs.Count), I(m.BestEpoch), F(m.BestValidationLoss),
                double.IsNaN(d.ClipRate) ? "–" : d.ClipRate.ToString("P0", CultureInfo.InvariantCulture), I(d.SkippedSteps),
                $"{G(d.EarlyGradientReach)} → {G(d.LateGradientReach)}", sigma);
        }
        console.Write(table);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Base {t.Base}; scaling {t.Scaling}; {t.TrainingWindows} training and {t.ValidationWindows} validation windows of {t.TotalWindows}; correction weight λ = {t.CorrectionWeight:F2}.")));
        // A season left out is told after the seasons' table, in the tool's words (SeasonReport).
        foreach (string note in t.Notes.Where(n => !SeasonReport.IsSeasonWarning(n))) console.MarkupLine($"[yellow]note:[/] {Markup.Escape(note)}");
    }

    private static void ShowForecast(IAnsiConsole console, CsvSeries? series, RnnForecast f, long observed)
    {
        var dates = series?.FutureDates(f.Forecast.Length, observed);
        var table = new Table().Title($"Forecast ({f.ConfidenceLevel.ToString("P0", CultureInfo.InvariantCulture)} interval)").AddColumns("step", "date", "forecast", "lower", "upper");
        for (int h = 0; h < f.Forecast.Length; h++)
            table.AddRow(I(h + 1), dates is null ? "–" : series!.FormatDate(dates[h]), F(f.Forecast[h]), F(f.LowerBound[h]), F(f.UpperBound[h]));
        console.Write(table);
    }

    /// <summary>The forecasts of every series, the first <see cref="ShownSeries"/> in a table: the first step's date, the
    /// first and last steps, and the last step's interval (the widest).</summary>
    private static void ShowPanelForecast(IAnsiConsole console, CsvSeries? panel, IReadOnlyDictionary<string, RnnForecast> all, Func<string, long> observed)
    {
        var any = all.Values.First();
        int H = any.Forecast.Length;
        var table = new Table().Title($"Forecast of {all.Count} series")
            .AddColumns("series", "from", "step 1", $"step {H}", $"step {H}, {any.ConfidenceLevel.ToString("P0", CultureInfo.InvariantCulture)} interval");
        foreach (var (id, f) in all.Take(ShownSeries))
        {
            var dates = panel is not null && panel.HasSeries(id) ? panel.Part(id).FutureDates(H, observed(id)) : null;
            table.AddRow(Markup.Escape(id), dates is null ? "–" : panel!.FormatDate(dates[0]),
                F(f.Forecast[0]), F(f.Forecast[H - 1]), $"{F(f.LowerBound[H - 1])} – {F(f.UpperBound[H - 1])}");
        }
        console.Write(table);
        if (all.Count > ShownSeries) console.MarkupLine($"… and {all.Count - ShownSeries} more series; `forecast --output` writes every step of every series.");
        else console.MarkupLine("`forecast --output` writes every step of every series.");
    }

    private static void WritePanelForecastCsv(string path, CsvSeries? panel, IReadOnlyDictionary<string, RnnForecast> all, Func<string, long> observed)
    {
        using var w = new StreamWriter(path);
        w.WriteLine("series,step,date,forecast,lower,upper");
        foreach (var (id, f) in all)
        {
            var dates = panel is not null && panel.HasSeries(id) ? panel.Part(id).FutureDates(f.Forecast.Length, observed(id)) : null;
            string quoted = id.Contains(',') || id.Contains('"') ? $"\"{id.Replace("\"", "\"\"")}\"" : id;
            for (int h = 0; h < f.Forecast.Length; h++)
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{quoted},{h + 1},{(dates is null ? "" : panel!.FormatDate(dates[h]))},{f.Forecast[h]:R},{f.LowerBound[h]:R},{f.UpperBound[h]:R}"));
        }
    }

    private static void WriteForecastCsv(string path, CsvSeries? series, RnnForecast f, long observed)
    {
        var dates = series?.FutureDates(f.Forecast.Length, observed);
        using var w = new StreamWriter(path);
        w.WriteLine("step,date,forecast,lower,upper");
        for (int h = 0; h < f.Forecast.Length; h++)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{h + 1},{(dates is null ? "" : series!.FormatDate(dates[h]))},{f.Forecast[h]:R},{f.LowerBound[h]:R},{f.UpperBound[h]:R}"));
    }

    private static void WritePlots(IAnsiConsole console, string dir, RnnForecastingTransformer model, CsvSeries? series, RnnForecast? forecast, long observed,
        PlotView view = default)
    {
        // The base alone (too short a series for the networks) has no training run to draw.
        var written = model.Diagnostics.Count > 0 ? TrainingPlots.WriteAll(model.Diagnostics, dir, $"{model.InputColumnName}").ToList() : [];
        Directory.CreateDirectory(dir);
        if (series is not null && forecast is not null)
        {
            string png = Path.Combine(dir, ForecastPlots.FileName);
            ForecastPlots.Forecast(ForecastPicture(series, forecast, observed, view), png);
            written.Insert(0, png);
        }
        console.MarkupLine($"Plots written: {string.Join(", ", written.Select(p => Markup.Escape(Path.GetFileName(p))))} in [bold]{Markup.Escape(dir)}[/].");
        if (series is null || forecast is null) console.MarkupLine("[yellow]note:[/] no forecast picture without the series; give it with --data.");
    }

    /// <summary>The series as far as the model has seen it, and the forecast that follows.</summary>
    private static ForecastPlotData ForecastPicture(CsvSeries series, RnnForecast f, long observed, PlotView view)
    {
        int n = (int)Math.Min(observed, series.Values.Length);
        return new ForecastPlotData(series.Values[..n], [new ForecastPath(n - 1, f.Forecast, f.LowerBound, f.UpperBound)], series.Dates?[..n], series.ValueColumn, f.ConfidenceLevel,
            Math.Max(view.Season, 1), view.All);
    }

    private static void WriteDiagnostics(IAnsiConsole console, string dir, RnnForecastingTransformer model)
    {
        for (int k = 0; k < model.Diagnostics.Count; k++)
        {
            string member = Path.Combine(dir, $"member{k + 1}");
            model.Diagnostics[k].WriteCsv(member);
            using var json = File.Create(Path.Combine(member, "diagnostics.json"));
            model.Diagnostics[k].WriteJson(json);
        }
        console.MarkupLine($"Diagnostics (CSV, JSON) written to [bold]{Markup.Escape(dir)}[/].");
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => double.IsFinite(v) ? v.ToString(Math.Abs(v) >= 100 ? "F1" : "G4", CultureInfo.InvariantCulture) : "–";

    private static string G(double v) => double.IsFinite(v) ? v.ToString("G2", CultureInfo.InvariantCulture) : "–";
}

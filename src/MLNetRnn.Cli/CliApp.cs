using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Cli.Shared;
using MLNetRnn.Cli.Study;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Training;
using MLNetRnn.Persistence;
using MLNetRnn.Plots;
using Spectre.Console;

namespace MLNetRnn.Cli;

/// <summary>
/// The <c>mlnetrnn</c> commands: <c>fit</c>, <c>forecast</c>, <c>backtest</c> and <c>plot</c> on a CSV file of one series
/// or, with <c>--series-id</c>, of many (one model for all), and the <c>study</c> behind docs/diagnostics.md. Output goes to an <see cref="IAnsiConsole"/> so tests can read it.
/// </summary>
internal static partial class CliApp
{
    /// <summary>Runs the tool: 0 on success, 2 on bad input (the message says what), 1 on other failures.</summary>
    /// <param name="args">Command line.</param>
    /// <param name="console">Where tables, progress and messages go.</param>
    /// <param name="text">Where System.CommandLine writes help and parse errors; the process's console when null.</param>
    public static int Run(string[] args, IAnsiConsole console, TextWriter? text = null)
    {
        var root = new RootCommand("Recurrent forecasting (Elman RNN, LSTM, GRU) on a CSV series, or many series in one file, with MLNetRnn: fit, forecast, backtest, plot.")
        {
            Fit(console), Forecast(console), Backtest(console), Plot(console), StudyCommand.Create(),
        };
        return Invoke(root, args, console, text);
    }

    /// <summary>Runs <paramref name="root"/>: whatever is thrown ends as one <c>error:</c> line and a non-zero exit code,
    /// never a stack trace. 2 for bad input (the message says what), 1 for anything else, which also names its type.</summary>
    internal static int Invoke(RootCommand root, string[] args, IAnsiConsole console, TextWriter? text = null)
    {
        var config = new InvocationConfiguration { Output = text ?? Console.Out, Error = text ?? Console.Error, EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (Exception thrown)
        {
            var ex = thrown;
            while (ex is AggregateException or System.Reflection.TargetInvocationException or TypeInitializationException && ex.InnerException is not null) ex = ex.InnerException!;
            bool known = ex is CliException or ArgumentException or InvalidOperationException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                or TrainingDivergedException;
            string message = string.Join(" ", ex.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            if (!known) message = $"{message} ({ex.GetType().Name})";
            console.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
            return ex is CliException or ArgumentException or FileNotFoundException or DirectoryNotFoundException ? 2 : 1;
        }
    }

    // ------------------------------------------------------------------ how CSV files are read (every command that reads one)

    private sealed class ReadingOptions
    {
        public readonly Option<char?> Separator = new("--separator") { Description = "Field separator: ',' (comma), ';' (semicolon), '|' or tab ('\\t' or 'tab'). Default: detected from the header line.", CustomParser = ParseSeparator };
        public readonly Option<bool> Sort = new("--sort") { Description = "Sort each series' rows by date (a newest-first or shuffled export). Without it, rows out of time order are refused, naming the first." };
        public readonly Option<GapFilling> FillGaps = new("--fill-gaps") { HelpName = "linear|previous", Description = "Fill dates missing from a series: 'linear' interpolates the value, 'previous' repeats it (covariates repeat the previous row's). Without it, a gap is refused, naming the first.", CustomParser = ParseGaps };

        public IEnumerable<Option> All => [Separator, Sort, FillGaps];

        public CsvReading Get(ParseResult r) => new() { Separator = r.GetValue(Separator), Sort = r.GetValue(Sort), Gaps = r.GetValue(FillGaps) };

        private static char? ParseSeparator(System.CommandLine.Parsing.ArgumentResult r)
        {
            string v = r.Tokens.Count == 0 ? "" : r.Tokens[0].Value;
            switch (v.ToLowerInvariant())
            {
                case "," or "comma": return ',';
                case ";" or "semicolon": return ';';
                case "|" or "pipe": return '|';
                case "\t" or "\\t" or "tab": return '\t';
                default:
                    r.AddError($"--separator must be ',', ';', '|' or tab ('\\t' or 'tab'); got '{v}'.");
                    return null;
            }
        }

        private static GapFilling ParseGaps(System.CommandLine.Parsing.ArgumentResult r)
        {
            string v = r.Tokens.Count == 0 ? "" : r.Tokens[0].Value;
            switch (v.ToLowerInvariant())
            {
                case "linear": return GapFilling.Linear;
                case "previous": return GapFilling.PreviousValue;
                default:
                    r.AddError($"--fill-gaps must be 'linear' or 'previous'; got '{v}'.");
                    return GapFilling.None;
            }
        }
    }

    /// <summary>The date column as given: null finds a column named 'date', 'none' reads no dates.</summary>
    private static CsvColumns WithDate(CsvColumns columns, string? date)
        => date is not null && date.Equals("none", StringComparison.OrdinalIgnoreCase) ? columns with { Date = null, FindDate = false }
            : columns with { Date = date, FindDate = date is null };

    /// <summary>What the dates of a file are, and what reading it did to them (sorting, filling).</summary>
    private static void DescribeDates(IAnsiConsole console, CsvSeries series)
    {
        if (series.Dates is not { Length: > 0 } d) return;
        if (series.Step.IsKnown)
            console.MarkupLine(Markup.Escape($"Dates in '{series.Columns.Date}': {series.Frequency}, {series.FormatDate(d.Min())} to {series.FormatDate(d.Max())}."));
        if (series.Sorted) console.MarkupLine("[yellow]note:[/] rows were out of time order; sorted by date (--sort).");
        if (series.FilledSteps > 0)
            console.MarkupLine($"[yellow]note:[/] {Markup.Escape($"{series.FilledSteps} missing {series.Frequency} time step(s) filled (--fill-gaps), the first at {series.FirstFill}.")}");
    }

    /// <summary>Creates the folder of a file to be written (before the work, so a run does not fail at its end).</summary>
    private static string OutputFile(string path, string option)
    {
        if (Directory.Exists(path)) throw new CliException($"{option} '{path}' is a folder; give a file name.");
        OutputFolder(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", option);
        return path;
    }

    /// <summary>Creates a folder to be written to, or says why it cannot be.</summary>
    private static void OutputFolder(string dir, string option)
    {
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"Cannot create folder '{dir}' for {option}: {ex.Message}");
        }
    }

    // ------------------------------------------------------------------ options shared by fit and backtest

    private sealed class SeriesOptions
    {
        public readonly Argument<string> Data = new("data") { Description = "CSV file with a header row; each series' rows in time order (or --sort)." };
        public readonly Option<string> Value = new("--value", "-v") { Description = "Column holding the series.", DefaultValueFactory = _ => "value" };
        public readonly Option<string?> Date = new("--date") { Description = "Column holding each row's date (or year): the time step (hourly, daily, weekly, monthly, quarterly, yearly, …) is inferred from it, each series must advance one step per row (see --sort, --fill-gaps), and forecasts are dated on that calendar. Default: 'date' when the file has it; 'none' reads no dates (rows are consecutive steps)." };
        public readonly Option<string[]> Covariates = new("--covariates") { Description = "Columns of covariates observed with each row, comma-separated (used by the direct strategy).", AllowMultipleArgumentsPerToken = true, CustomParser = CommaList };
        public readonly Option<string[]> KnownFuture = new("--known-future") { Description = "Columns known in advance (promotions, prices, holidays), comma-separated: fed for the steps forecast too. `forecast --data` reads them from rows that leave the value empty after each series' last value.", AllowMultipleArgumentsPerToken = true, CustomParser = CommaList };
        public readonly Option<string[]> Static = new("--static") { Description = "Columns constant within each series (with --series-id), comma-separated: text is a category (one-hot, read by index), numbers are standardised.", AllowMultipleArgumentsPerToken = true, CustomParser = CommaList };
        public readonly Option<int> Window = new("--window", "-w") { Description = "Past values each forecast reads (W).", DefaultValueFactory = _ => 24 };
        public readonly Option<int> Horizon = new("--horizon") { Description = "Values forecast (H).", DefaultValueFactory = _ => 12 };
        public readonly Option<int?> Season = new("--season", "-s") { Description = "Seasonal period m: 12 for monthly data with a yearly season, 7 for daily data with a weekly one, 24 for hourly data with a daily one, 1 for none. Default: detected from the dates' frequency and the data (an autocorrelation test); the candidates, their strengths and the season used are printed, and a significant season a given m leaves out is warned about." };
        public readonly Option<RecurrentCellKind> Cell = new("--cell") { Description = "Recurrent cell: Elman, Lstm or Gru.", DefaultValueFactory = _ => RnnForecastingOptions.Defaults.Cell };
        public readonly Option<int> Hidden = new("--hidden") { Description = "Hidden units.", DefaultValueFactory = _ => RnnForecastingOptions.Defaults.HiddenSize };
        public readonly Option<int> Ensemble = new("--ensemble") { Description = "Networks averaged.", DefaultValueFactory = _ => RnnForecastingOptions.Defaults.EnsembleSize };
        public readonly Option<int> Epochs = new("--epochs", "-e") { Description = "Maximum epochs per network.", DefaultValueFactory = _ => RnnForecastingOptions.Defaults.Epochs };
        public readonly Option<int> Patience = new("--patience") { Description = "Epochs without a lower validation loss before training stops.", DefaultValueFactory = _ => RnnForecastingOptions.Defaults.EarlyStoppingPatience };
        public readonly Option<float> LearningRate = new("--learning-rate") { Description = "Adam learning rate.", DefaultValueFactory = _ => RnnForecastingOptions.Defaults.LearningRate };
        public readonly Option<string> Clip = new("--clip") { Description = "Gradient clipping: a threshold τ (global norm), 'auto' (AutoClip: each step at the 10th percentile of the norms so far) or 'none'.", DefaultValueFactory = _ => "1" };
        public readonly Option<float> Confidence = new("--confidence") { Description = "Level of the forecast intervals.", DefaultValueFactory = _ => 0.9f };
        public readonly Option<int> Seed = new("--seed") { Description = "Seed of initialisation and shuffling.", DefaultValueFactory = _ => 0 };
        public readonly Option<string?> SeriesId = new("--series-id") { Description = "Column naming each row's series: the file holds many series (rows grouped by id, in time order within each), fitted as one model." };

        public readonly ReadingOptions Reading = new();

        public IEnumerable<Symbol> All => [Data, Value, Date, .. Reading.All, Covariates, KnownFuture, Static, Window, Horizon, Season, Cell, Hidden, Ensemble, Epochs, Patience, LearningRate, Clip, Confidence, Seed, SeriesId];

        private static string[] CommaList(System.CommandLine.Parsing.ArgumentResult r) => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray();

        public CsvSeries Load(MLContext ml, ParseResult r) => CsvSeries.Load(ml, r.GetValue(Data)!, WithDate(new CsvColumns(r.GetValue(Value)!)
        {
            Covariates = r.GetValue(Covariates) ?? [], KnownFuture = r.GetValue(KnownFuture) ?? [], Static = r.GetValue(Static) ?? [], SeriesId = r.GetValue(SeriesId),
        }, r.GetValue(Date)), Reading.Get(r));

        public RnnForecastingOptions Options(ParseResult r, CsvSeries series)
        {
            string clip = r.GetValue(Clip)!.Trim();
            var o = new RnnForecastingOptions
            {
                OutputColumnName = "Forecast", InputColumnName = series.ValueColumn, CovariateColumnNames = series.CovariateColumns, SeriesIdColumnName = series.IdColumn,
                // The model knows its dates (its time step, each series' last date), as the library checks them; the file
                // was read to one row per step already. No calendar features: the dates check and label, they do not feed the networks.
                DateColumnName = series.Columns.Date, CalendarFeatures = series.Columns.Date is null ? null : CalendarFeatures.None,
                KnownFutureColumnNames = series.Columns.KnownFuture, StaticFeatureColumnNames = series.Columns.Static,
                ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper", ConfidenceLevel = r.GetValue(Confidence),
                WindowSize = r.GetValue(Window), Horizon = r.GetValue(Horizon), SeasonalPeriod = r.GetValue(Season) ?? RnnForecastingOptions.Defaults.SeasonalPeriod,
                Cell = r.GetValue(Cell), HiddenSizes = [r.GetValue(Hidden)], EnsembleSize = r.GetValue(Ensemble), Epochs = r.GetValue(Epochs),
                EarlyStoppingPatience = r.GetValue(Patience), LearningRate = r.GetValue(LearningRate), Seed = r.GetValue(Seed),
            };
            if (clip.Equals("none", StringComparison.OrdinalIgnoreCase)) o.GradientClippingThreshold = null;
            else if (clip.Equals("auto", StringComparison.OrdinalIgnoreCase)) o.GradientClipping = GradientClippingMode.AutoClip;
            else if (float.TryParse(clip, NumberStyles.Float, CultureInfo.InvariantCulture, out float tau) && tau > 0 && float.IsFinite(tau)) o.GradientClippingThreshold = tau;
            else throw new CliException($"--clip must be a positive threshold, 'auto' or 'none'; got '{clip}'.");
            return o;
        }
    }

    // ------------------------------------------------------------------ fit

    private static Command Fit(IAnsiConsole console)
    {
        var s = new SeriesOptions();
        var model = new Option<string>("--model", "-m") { Description = "Where to save the fitted model (an ML.NET zip); its folder is created.", DefaultValueFactory = _ => "model.zip" };
        var plots = new Option<string?>("--plots", "-p") { Description = "Folder for PNG plots (created): forecast, loss, gradient norm, backward signal, W_hh spectrum." };
        var diagnostics = new Option<string?>("--diagnostics") { Description = "Folder for the training diagnostics as CSV and JSON (created; one subfolder per ensemble member)." };
        var command = new Command("fit", "Fit a forecaster to the series in a CSV file, with a live progress display; save it as an ML.NET zip.");
        foreach (var o in s.All) Add(command, o);
        command.Options.Add(model);
        command.Options.Add(plots);
        var plotAll = PlotAll();
        command.Options.Add(plotAll);
        command.Options.Add(diagnostics);
        command.SetAction(r =>
        {
            var ml = new MLContext(seed: r.GetValue(s.Seed));
            var series = s.Load(ml, r);
            var options = s.Options(r, series);
            var estimator = ml.Forecasting.ForecastByRnn(options);
            // Every output's folder exists before training, so a long run does not fail at its end.
            string path = OutputFile(r.GetValue(model)!, "--model");
            if (r.GetValue(plots) is { } plotFolder) OutputFolder(plotFolder, "--plots");
            if (r.GetValue(diagnostics) is { } diagnosticsFolder) OutputFolder(diagnosticsFolder, "--diagnostics");
            string what = series.IdColumn is null ? $"[bold]{series.Values.Length}[/] values"
                : $"[bold]{series.SeriesIds.Length}[/] series ('{Markup.Escape(series.IdColumn)}'), {series.Values.Length} rows";
            console.MarkupLine($"Fitting {options.EnsembleSize} × {options.Cell}({options.HiddenSizes[0]}) on {what} of '{Markup.Escape(series.ValueColumn)}' from {Markup.Escape(series.Path)}: window {options.WindowSize}, horizon {options.Horizon}, season {(options.SeasonalPeriod == 0 ? "detected" : options.SeasonalPeriod.ToString(CultureInfo.InvariantCulture))}.");
            DescribeDates(console, series);
            var fitted = TrainingDisplay.Fit(console, estimator, series.View);
            ShowSummary(console, fitted);
            var summary = fitted.TrainingSummary;
            if (summary.SeasonalPeriodDetection is { } seasons) SeasonReport.Show(console, seasons, options.SeasonalPeriod, summary.SeasonalPeriods);
            // The forecast picture's recent stretch reads the model's longest season (ForecastPlots.RecentValues).
            int season = summary.SeasonalPeriods.Count > 0 ? summary.SeasonalPeriods.Max() : Math.Max(options.SeasonalPeriod, 1);
            ml.Model.SaveAtomically(fitted, series.View.Schema, path);
            console.MarkupLine($"Model saved to [bold]{Markup.Escape(path)}[/].");
            var engine = fitted.CreateForecastingEngine();
            if (series.Columns.KnownFuture.Length > 0)
            {
                // The forecast reads the known-future columns of the steps ahead, which the training file does not hold.
                console.MarkupLine("[yellow]note:[/] the forecast needs the known-future columns of the next steps: give them to `forecast --data` as rows that leave the value empty.");
                if (r.GetValue(plots) is { } trainingPlots) WritePlots(console, trainingPlots, fitted, null, null, 0);
                if (r.GetValue(diagnostics) is { } trainingDiagnostics) WriteDiagnostics(console, trainingDiagnostics, fitted);
                return 0;
            }
            if (series.IdColumn is not null)
            {
                var all = engine.PredictAll();
                ShowPanelForecast(console, series, all, engine.GetObservationCount);
                string first = series.SeriesIds[0];
                if (r.GetValue(plots) is { } panelDir) WritePlots(console, panelDir, fitted, series.Part(first), all[first], engine.GetObservationCount(first), new(season, r.GetValue(plotAll)));
                if (r.GetValue(diagnostics) is { } panelDiagnostics) WriteDiagnostics(console, panelDiagnostics, fitted);
                return 0;
            }
            var forecast = engine.Predict();
            ShowForecast(console, series, forecast, series.Values.Length);
            if (r.GetValue(plots) is { } dir) WritePlots(console, dir, fitted, series, forecast, series.Values.Length, new(season, r.GetValue(plotAll)));
            if (r.GetValue(diagnostics) is { } ddir) WriteDiagnostics(console, ddir, fitted);
            return 0;
        });
        return command;
    }

    // ------------------------------------------------------------------ forecast

    private static Command Forecast(IAnsiConsole console)
    {
        var (model, data, value, date) = SavedModelOptions("The series' CSV: rows after those the model has seen are observed before forecasting (with their dates, which must continue the model's); dates label the table.");
        var output = new Option<string?>("--output", "-o") { Description = "Also write the forecast as CSV (step, date, forecast, lower, upper; with many series, the series first); its folder is created." };
        var plot = new Option<string?>("--plot") { Description = "Also draw the forecast against the series as a PNG." };
        var pick = PickedSeries("The series to draw, for a model of many series. Default: the first in --data.");
        var reading = new ReadingOptions();
        var command = new Command("forecast", "Forecast the next values with a saved model (every series of a model of many).") { model, data, value, date, output, plot, pick };
        foreach (var o in reading.All) command.Options.Add(o);
        var plotAll = PlotAll();
        command.Options.Add(plotAll);
        command.SetAction(r =>
        {
            var ml = new MLContext();
            if (r.GetValue(output) is { } outputCsv) OutputFile(outputCsv, "--output");
            if (r.GetValue(plot) is { } outputPng) OutputFile(outputPng, "--plot");
            var (forecaster, engine) = LoadEngine(ml, r.GetValue(model)!);
            if (forecaster.SeriesIdColumnName is not null)
            {
                var panel = ObserveNewPanelRows(ml, forecaster, engine, r.GetValue(data), r.GetValue(value), r.GetValue(date), reading.Get(r));
                var all = engine.PredictAll(futureCovariates: Futures(forecaster, engine, panel));
                ShowPanelForecast(console, panel, all, engine.GetObservationCount);
                if (r.GetValue(output) is { } panelCsv) WritePanelForecastCsv(panelCsv, panel, all, engine.GetObservationCount);
                if (r.GetValue(plot) is { } panelPng)
                {
                    if (panel is null) throw new CliException("--plot draws the forecast against the series: give the series with --data.");
                    string id = r.GetValue(pick) ?? panel.SeriesIds[0];
                    var part = panel.Part(id);
                    if (!all.TryGetValue(id, out var drawn))
                        throw new CliException($"Series '{id}' has no forecast: it has {engine.GetObservationCount(id)} values, fewer than a forecast reads.");
                    ForecastPlots.Forecast(ForecastPicture(part, drawn, engine.GetObservationCount(id), new(All: r.GetValue(plotAll))), panelPng);
                    console.MarkupLine($"Plot of series '{Markup.Escape(id)}' written to [bold]{Markup.Escape(panelPng)}[/].");
                }
                return 0;
            }
            var series = ObserveNewRows(ml, forecaster, engine, r.GetValue(data), r.GetValue(value), r.GetValue(date), reading.Get(r));
            if (series is not null && engine.ObservationCount > series.Values.Length)
                console.MarkupLine($"[yellow]note:[/] the model has seen {engine.ObservationCount} values, more than the {series.Values.Length} rows of {Markup.Escape(series.Path)}; it forecasts from its own state.");
            var forecast = Predict(forecaster, engine, series);
            ShowForecast(console, series, forecast, engine.ObservationCount);
            if (r.GetValue(output) is { } csv) WriteForecastCsv(csv, series, forecast, engine.ObservationCount);
            if (r.GetValue(plot) is { } png)
            {
                if (series is null) throw new CliException("--plot draws the forecast against the series: give the series with --data.");
                ForecastPlots.Forecast(ForecastPicture(series, forecast, engine.ObservationCount, new(All: r.GetValue(plotAll))), png);
                console.MarkupLine($"Plot written to [bold]{Markup.Escape(png)}[/].");
            }
            return 0;
        });
        return command;
    }

    // ------------------------------------------------------------------ backtest

    private static Command Backtest(IAnsiConsole console)
    {
        var s = new SeriesOptions();
        var origins = new Option<int>("--origins") { Description = "Forecast origins, each a horizon apart, over the end of the series.", DefaultValueFactory = _ => 3 };
        var noRefit = new Option<bool>("--no-refit") { Description = "Fit once at the first origin and observe the rest (faster) instead of refitting at each." };
        var plot = new Option<string?>("--plot") { Description = "Draw the forecasts from every origin against the series as a PNG." };
        var pick = PickedSeries("The series to draw with --series-id. Default: the first.");
        var command = new Command("backtest", "Rolling-origin evaluation: fit, forecast from several origins near the end, score against what followed, beside baselines on the same origins (the model's base alone, seasonal naive, naive).");
        foreach (var o in s.All) Add(command, o);
        command.Options.Add(origins);
        command.Options.Add(noRefit);
        command.Options.Add(plot);
        command.Options.Add(pick);
        var plotAll = PlotAll();
        command.Options.Add(plotAll);
        command.SetAction(r =>
        {
            var ml = new MLContext(seed: r.GetValue(s.Seed));
            var series = s.Load(ml, r);
            var options = s.Options(r, series);
            var estimator = ml.Forecasting.ForecastByRnn(options);
            if (r.GetValue(plot) is { } plotFile) OutputFile(plotFile, "--plot");
            DescribeDates(console, series);
            SeasonReport.Show(console, SeasonReport.Detect(options, series), options.SeasonalPeriod);
            if (options.SeasonalPeriod == 0) console.MarkupLine("The model detects its season again at each origin, from the values before it.");
            RnnBacktestResult result = null!;
            console.Status().Start($"Backtesting over {r.GetValue(origins)} origins…", _ =>
                result = ml.Forecasting.Backtest(estimator, series.View, r.GetValue(origins), refit: !r.GetValue(noRefit)));
            var table = new Table().Title("Accuracy per step ahead").AddColumns("step", "MAE", "RMSE", "sMAPE %", "MASE", $"coverage ({options.ConfidenceLevel:P0})");
            foreach (var h in result.ByHorizon)
                table.AddRow(I(h.Step), F(h.Metrics.MeanAbsoluteError), F(h.Metrics.RootMeanSquaredError), F(h.Smape), F(h.Mase), double.IsNaN(h.Coverage) ? "–" : h.Coverage.ToString("P0", CultureInfo.InvariantCulture));
            console.Write(table);
            if (series.IdColumn is not null)
            {
                var bySeries = new Table().Title("Accuracy per series").AddColumns("series", "origins", "sMAPE %", "MASE", "RMSE");
                foreach (var b in result.Series.Take(ShownSeries)) bySeries.AddRow(Markup.Escape(b.SeriesId), I(b.Origins.Count), F(b.Smape), F(b.Mase), F(b.RootMeanSquaredError));
                console.Write(bySeries);
                if (result.Series.Count > ShownSeries) console.MarkupLine($"… and {result.Series.Count - ShownSeries} more series.");
                if (result.SeriesLeftOut.Count > 0)
                    console.MarkupLine(Markup.Escape($"Left out, too short to forecast at the first origin: {string.Join(", ", result.SeriesLeftOut.Take(ShownSeries))}" +
                        (result.SeriesLeftOut.Count > ShownSeries ? $" and {result.SeriesLeftOut.Count - ShownSeries} more." : ".")));
            }
            string over = series.IdColumn is null ? $"{result.Origins.Count} origins" : $"{result.Series.Count} series, {result.Origins.Count} origins (means over series)";
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Over {over}: sMAPE [bold]{result.Smape:F2}%[/], MASE [bold]{result.Mase:F3}[/], RMSE {result.RootMeanSquaredError:F3}."));
            ShowBaselines(console, result);
            console.MarkupLine(Markup.Escape($"Every MASE above is scaled by the seasonal period detected in the whole file, m = {I(result.MaseSeasonalPeriod)}, whatever season the model uses, so backtests with different --season compare."));
            if (r.GetValue(plot) is { } png)
            {
                string id = r.GetValue(pick) ?? series.SeriesIds.FirstOrDefault() ?? "";
                var drawn = series.Part(id);
                var mine = result.Series.FirstOrDefault(b => b.SeriesId == id)
                    ?? throw new InvalidOperationException($"Series '{id}' was left out of the backtest: too short to forecast at its first origin. Draw another with --series.");
                var paths = mine.Origins.Select(o => new ForecastPath(o.Origin - 1, o.Forecast, o.LowerBound, o.UpperBound)).ToArray();
                ForecastPlots.Forecast(new ForecastPlotData(drawn.Values, paths, drawn.Dates, drawn.ValueColumn, options.ConfidenceLevel, options.SeasonalPeriod > 0 ? options.SeasonalPeriod : result.MaseSeasonalPeriod, r.GetValue(plotAll)), png,
                    $"{drawn.ValueColumn}: backtest from {mine.Origins.Count} origins (sMAPE {mine.Smape.ToString("F1", CultureInfo.InvariantCulture)}%, MASE {mine.Mase.ToString("F2", CultureInfo.InvariantCulture)})");
                console.MarkupLine($"Plot written to [bold]{Markup.Escape(png)}[/].");
            }
            return 0;
        });
        return command;
    }

    /// <summary>The model's MASE per step beside its baselines' on the same origins, then each one's overall figures.</summary>
    private static void ShowBaselines(IAnsiConsole console, RnnBacktestResult result)
    {
        if (result.Baselines.Count == 0) return;
        var perStep = new Table().Title("MASE per step ahead, beside baselines on the same origins (lower is better)").AddColumns("step", "model");
        foreach (var b in result.Baselines) perStep.AddColumn(Markup.Escape(b.Name));
        for (int k = 0; k < result.ByHorizon.Count; k++)
            perStep.AddRow([I(k + 1), F(result.ByHorizon[k].Mase), .. result.Baselines.Select(b => F(b.ByHorizon[k].Mase))]);
        console.Write(perStep);
        var overall = new Table().Title("Model and baselines over all steps").AddColumns("forecaster", "sMAPE %", "MASE", "RMSE");
        overall.AddRow("model", F(result.Smape), F(result.Mase), F(result.RootMeanSquaredError));
        foreach (var b in result.Baselines) overall.AddRow(Markup.Escape(b.Name), F(b.Smape), F(b.Mase), F(b.RootMeanSquaredError));
        console.Write(overall);
        console.MarkupLine("'base alone' is this model without its networks (--ensemble 0): what the networks add is the difference to it.");
    }

    // ------------------------------------------------------------------ plot

    private static Command Plot(IAnsiConsole console)
    {
        var (model, data, value, date) = SavedModelOptions("The series' CSV, to draw the forecast against the whole series (else against the model's last window).");
        var output = new Option<string>("--output", "-o") { Description = "Folder for the PNG files.", DefaultValueFactory = _ => "plots" };
        var pick = PickedSeries("The series to draw, for a model of many series. Default: the first in --data (or the model's first).");
        var all = PlotAll();
        var command = new Command("plot", "Draw a saved model's forecast and training diagnostics as PNG files.") { model, data, value, date, output, pick, all };
        var reading = new ReadingOptions();
        foreach (var o in reading.All) command.Options.Add(o);
        command.SetAction(r =>
        {
            var ml = new MLContext();
            var (forecaster, engine) = LoadEngine(ml, r.GetValue(model)!);
            if (forecaster.SeriesIdColumnName is not null)
            {
                var panel = ObserveNewPanelRows(ml, forecaster, engine, r.GetValue(data), r.GetValue(value), r.GetValue(date), reading.Get(r));
                string id = r.GetValue(pick) ?? panel?.SeriesIds[0] ?? engine.SeriesIds[0];
                WritePlots(console, r.GetValue(output)!, forecaster, panel?.Part(id), engine.Predict(id, futureCovariates: Future(forecaster, engine, panel, id)),
                    engine.GetObservationCount(id), new(All: r.GetValue(all)));
                return 0;
            }
            var series = ObserveNewRows(ml, forecaster, engine, r.GetValue(data), r.GetValue(value), r.GetValue(date), reading.Get(r));
            WritePlots(console, r.GetValue(output)!, forecaster, series, Predict(forecaster, engine, series), engine.ObservationCount, new(All: r.GetValue(all)));
            return 0;
        });
        return command;
    }

    /// <summary>How much of the series the forecast picture shows.</summary>
    private static Option<bool> PlotAll() => new("--plot-all")
    {
        Description = "Draw the whole series in the forecast picture. By default a long series is drawn from six horizons (or three seasons, if longer) before the forecast, so the forecast stays readable.",
    };

    /// <summary>The season (1 when the command does not know it: a saved model's is not public) and --plot-all, for the
    /// forecast picture's range (ForecastPlots.RecentValues).</summary>
    private readonly record struct PlotView(int Season = 1, bool All = false);

    // ------------------------------------------------------------------ a saved model and its series

    /// <summary>The options of the commands that read a saved model and, optionally, its series.</summary>
    private static (Option<string> Model, Option<string?> Data, Option<string?> Value, Option<string?> Date) SavedModelOptions(string dataDescription) => (
        new Option<string>("--model", "-m") { Description = "A model saved by fit.", DefaultValueFactory = _ => "model.zip" },
        new Option<string?>("--data", "-d") { Description = dataDescription },
        new Option<string?>("--value", "-v") { Description = "Column of the series in --data. Default: the model's input column." },
        new Option<string?>("--date") { Description = "Date column of --data, read as fit reads it (time order, one step per row, the step inferred; see --sort, --fill-gaps); the forecast is dated on its calendar. Default: 'date' when present; 'none' reads no dates." });

    private static Option<string?> PickedSeries(string description) => new("--series") { Description = description };

    /// <summary>Series listed in full in a table; the CSV output holds them all.</summary>
    private const int ShownSeries = 20;

    /// <summary>Reads the panel in <paramref name="path"/> (null: none), the series by the model's id column, and has the
    /// engine observe each series' rows after those it has seen (a series new to the model is started cold from them).</summary>
    private static CsvSeries? ObserveNewPanelRows(MLContext ml, RnnForecastingTransformer forecaster, RnnForecastingEngine engine, string? path, string? valueColumn,
        string? dateColumn, CsvReading reading)
    {
        if (path is null) return null;
        var panel = LoadLike(ml, path, valueColumn ?? forecaster.InputColumnName, dateColumn, reading, forecaster, forecaster.SeriesIdColumnName);
        foreach (string id in panel.SeriesIds) Observe(engine, panel.Part(id), id, engine.GetObservationCount(id), forecaster.DateColumnName is not null);
        return panel;
    }

    /// <summary>Has the engine observe the rows of <paramref name="series"/> from the <paramref name="seen"/>-th on. A model
    /// with dates gets each row's date, so it checks that the file continues its series one step at a time (and a series
    /// new to it starts at its first date).</summary>
    private static void Observe(RnnForecastingEngine engine, CsvSeries series, string id, long seen, bool dated)
    {
        int C = series.ObservedWidth;
        var dates = dated ? series.Dates : null;
        for (long i = seen; i < series.Values.Length; i++)
        {
            try
            {
                engine.Observe(id, series.Values[i], series.Observed.AsSpan((int)i * C, C), dates?[i]);
            }
            catch (ArgumentException ex) when (ex.ParamName == "date")
            {
                string which = id.Length == 0 ? "the series" : $"series '{id}'";
                string reason = ex.Message.Split(" (Parameter")[0];
                throw new CliException(dates is null ? $"{reason} The model reads dates: give '{series.Path}' its date column (--date)."
                    : $"The rows of '{series.Path}' after the {seen} of {which} the model has seen do not continue its dates: {reason}");
            }
        }
    }

    /// <summary>Reads the series in <paramref name="path"/> (null: none) and has the engine observe the rows after
    /// those the model has seen, with their covariates.</summary>
    private static CsvSeries? ObserveNewRows(MLContext ml, RnnForecastingTransformer forecaster, RnnForecastingEngine engine, string? path, string? valueColumn,
        string? dateColumn, CsvReading reading)
    {
        if (path is null) return null;
        var series = LoadLike(ml, path, valueColumn ?? forecaster.InputColumnName, dateColumn, reading, forecaster);
        Observe(engine, series, "", engine.ObservationCount, forecaster.DateColumnName is not null);
        return series;
    }

    /// <summary>The known-future columns of series <paramref name="id"/>'s steps ahead ("" for one series), from the rows
    /// of <paramref name="data"/> that leave the value empty; null when the model reads none.</summary>
    private static IReadOnlyDictionary<string, float[]>? Future(RnnForecastingTransformer forecaster, RnnForecastingEngine engine, CsvSeries? data, string id)
    {
        if (forecaster.KnownFutureColumnNames.Count == 0) return null;
        if (data is null) throw new CliException("The model reads known-future columns: give --data with the rows to forecast (the value left empty).");
        return data.FutureCovariates(id, engine.Horizon);
    }

    /// <summary>A single series' forecast, with the known-future columns of the steps ahead when the model reads them.</summary>
    private static RnnForecast Predict(RnnForecastingTransformer forecaster, RnnForecastingEngine engine, CsvSeries? series)
        => Future(forecaster, engine, series, "") is { } future ? engine.Predict(future) : engine.Predict();

    /// <summary>Every series' known-future columns of the steps ahead (null when the model reads none).</summary>
    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, float[]>>? Futures(RnnForecastingTransformer forecaster, RnnForecastingEngine engine, CsvSeries? panel)
        => forecaster.KnownFutureColumnNames.Count == 0 ? null
            : engine.SeriesIds.ToDictionary(id => id, id => Future(forecaster, engine, panel, id)!, StringComparer.Ordinal);

    private static (RnnForecastingTransformer Forecaster, RnnForecastingEngine Engine) LoadEngine(MLContext ml, string path)
    {
        if (!File.Exists(path)) throw new CliException($"Model file '{path}' was not found; fit one with `mlnetrnn fit`.");
        var loaded = ml.Model.LoadValidated(path, out _);
        var forecaster = loaded as RnnForecastingTransformer
            ?? (loaded as IEnumerable<ITransformer>)?.OfType<RnnForecastingTransformer>().FirstOrDefault()
            ?? throw new CliException($"'{path}' holds no MLNetRnn forecaster.");
        return (forecaster, loaded.CreateForecastingEngine());
    }

    /// <summary>Reads a file of the model's columns; rows that leave the value empty give the steps to forecast.</summary>
    private static CsvSeries LoadLike(MLContext ml, string path, string value, string? date, CsvReading reading, RnnForecastingTransformer forecaster, string? idColumn = null)
        => CsvSeries.Load(ml, path, WithDate(new CsvColumns(value)
        {
            Covariates = forecaster.CovariateColumnNames.ToArray(), KnownFuture = forecaster.KnownFutureColumnNames.ToArray(), SeriesId = idColumn, FutureRows = true,
        }, date ?? forecaster.DateColumnName), reading);

    private static void Add(Command command, Symbol symbol)
    {
        if (symbol is Argument a) command.Arguments.Add(a);
        else command.Options.Add((Option)symbol);
    }
}

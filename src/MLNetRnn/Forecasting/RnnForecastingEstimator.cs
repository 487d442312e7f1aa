using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Training;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Training;

namespace MLNetRnn;

/// <summary>
/// Forecasts a time series with a recurrent network: trained in <see cref="Fit"/> on one series (rows in time
/// order), it produces for each row a vector of <see cref="RnnForecastingOptions.Horizon"/> forecasts made from
/// the rows up to and including it, with optional lower and upper bounds.
/// </summary>
/// <remarks>
/// <para><b>Estimator characteristics</b></para>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description><see cref="float"/> (the series), plus optional <see cref="float"/> covariate columns</description></item>
/// <item><term>Output column data type</term><description>Known-size vector of <see cref="float"/> (length = horizon), and the same for each bound column</description></item>
/// </list>
/// <para>
/// Each window of W past values is scaled by its own level (so trends beyond the training range carry over),
/// the networks forecast the correction to the seasonal naive forecast, and several of them are averaged. The
/// bounds are split-conformal: per horizon step, a quantile of the absolute errors on validation windows the
/// networks did not train on. Scaling, calibration and the series' last window are part of the model, so raw
/// units go in and come out, and <see cref="RnnForecastingTransformer.CreateForecastingEngine"/> continues from
/// the end of the training series. Create it with
/// <see cref="RnnCatalog.ForecastByRnn(ForecastingCatalog, string, string, int, int, int, string, string, float)"/>.
/// </para>
/// <para>
/// As ML.NET's trainers do, the estimator registers with the <see cref="MLContext"/> it was created from: <see cref="Fit"/>
/// writes what it trains, one <see cref="ChannelMessageKind.Trace"/> line per epoch and one
/// <see cref="ChannelMessageKind.Info"/> line per phase (each ensemble member), to <see cref="MLContext.Log"/>,
/// and when <see cref="RnnOptionsBase.Seed"/> is <see langword="null"/> the seed is drawn from the context's
/// random source, so <c>new MLContext(seed: s)</c> makes training repeatable and different <c>s</c> give different models.
/// </para>
/// </remarks>
public sealed class RnnForecastingEstimator : IEstimator<RnnForecastingTransformer>
{
    private readonly IHost _host;
    private readonly RnnForecastingOptions _options;

    internal RnnForecastingEstimator(IHostEnvironment env, RnnForecastingOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(RnnForecastingEstimator));
        _options = options.Clone();
        _options.Validate();
        // As ML.NET's trainers (PCA, LightGBM): an unset seed comes from the context's random source, once, here,
        // so the same estimator fits the same model every time and the seed it used can be read back from Options.
        _options.Seed ??= _host.Rand.Next();
    }

    /// <summary>A copy of the options this estimator trains with; <see cref="RnnOptionsBase.Seed"/> is the seed
    /// drawn from the <see cref="MLContext"/> when the options given left it <see langword="null"/>.</summary>
    public RnnForecastingOptions Options => _options.Clone();

    /// <summary>Progress of each epoch during <see cref="Fit"/>, naming the phase (<see cref="TrainingProgress.Phase"/>:
    /// "member 2 of 3"), if set. The same progress also goes to <see cref="MLContext.Log"/>. Members train in parallel,
    /// but reports reach this one at a time, so it need not be thread-safe.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Cancels <see cref="Fit"/> when signalled.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Trains on the series in <paramref name="input"/>: one series in row order, or, with a series id
    /// column, every series of the panel (rows grouped by id, in row order within each) with one shared ensemble.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The data view is empty; a value is NaN or infinite; a series id or a
    /// static feature is missing or a static feature changes within a series; dates go backwards or skip steps; the
    /// series is too short (in a panel: every series is shorter than a window; a panel's series shorter than a window are
    /// otherwise kept pending, see <see cref="RnnForecastingTransformer.PendingSeriesIds"/>); or the panel gives more
    /// than 2³¹ − 1 windows (each message names the column, the series and the row).</exception>
    public RnnForecastingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var draft = _options.Columns();
        // A static column is categorical (text, key, integer) or numeric (Single, Boolean) by its type; PanelReader checks the type.
        draft = new ForecastColumns
        {
            Input = draft.Input, Covariates = draft.Covariates, KnownFuture = draft.KnownFuture, Holiday = draft.Holiday, SeriesId = draft.SeriesId,
            Date = draft.Date, Calendar = draft.Calendar, Step = draft.Step, Gaps = draft.Gaps,
            Static = draft.Static.Select(e => new StaticEncoder
            {
                Column = e.Column, Categorical = input.Schema.GetColumnOrNull(e.Column) is { } c && PanelReader.IsCategorical(c.Type),
            }).ToArray(),
        };
        var (rows, step) = PanelReader.Bind(draft, input.Schema).Read(input, TimeStep.Unknown);
        if (rows.RowCount == 0)
            throw new InvalidOperationException($"The training data view is empty: input column '{_options.InputColumnName}' has no rows.");
        // A series of a panel shorter than a window (a product launched last week) cannot be forecast yet. Rather than
        // fail the whole fit, it is left out of training and kept pending in the model, so that an engine starts it once
        // it has observed a window of it. Its categories do not become the encoders' (nothing would train them).
        PanelRows? pendingRows = null;
        int minimum = ForecasterSettings.ForecastLength(_options.WindowSize);
        var enough = rows.Values.Select(v => v.Count >= minimum).ToArray();
        if (draft.SeriesId is not null && enough.Contains(true) && enough.Contains(false))
        {
            pendingRows = rows.Subset(Enumerable.Range(0, rows.Count).Where(s => !enough[s]));
            rows = rows.Subset(Enumerable.Range(0, rows.Count).Where(s => enough[s]));
        }
        var encoders = draft.Static.Select((e, i) => StaticEncoder.Fit(e.Column, e.Categorical, rows.Static.Select(x => x[i]).ToArray())).ToList();
        var columns = new ForecastColumns
        {
            Input = draft.Input, Covariates = draft.Covariates, KnownFuture = draft.KnownFuture, Holiday = draft.Holiday, SeriesId = draft.SeriesId,
            Date = draft.Date, Step = step, Gaps = draft.Gaps,
            Calendar = _options.CalendarFeatures ?? (draft.Date is null ? CalendarFeatures.None : Calendar.For(step)),
            Static = encoders.ToArray(),
        };
        var settings = _options.ToSettings(columns);
        // The ids as a one-hot input given by index: each series' position, which the model keeps in order.
        if (UsesIdFeature(rows.Count, draft)) settings = settings with { SeriesCategories = rows.Count };
        // One series' scale, standardised over the series, is a constant input: a panel of one is the single-series model.
        if (rows.Count == 1 && settings.ScaleFeature) settings = settings with { ScaleFeature = false };
        CheckLengths(rows, columns, settings);
        var panel = Panel(rows, columns);
        // Periods left unset are detected on the training series (and the dates' calendar); set ones are only compared with
        // what the data holds, for the summary and a warning.
        var seasons = SeasonalPeriodChoice.Detect(_options, panel.Values, step);
        settings = SeasonalPeriodChoice.Apply(settings, _options, seasons);
        bool detected = SeasonalPeriodChoice.Detects(_options);

        ForecastModel model;
        using (var ch = _host.Start("Training"))
        {
            ch.Info(MessageSensitivity.None, Describe(rows, settings, idFeature: settings.SeriesCategories > 0 || columns.Static.Any(e => e.Column == columns.SeriesId)));
            ch.Info(MessageSensitivity.None, SeasonalPeriodChoice.Describe(seasons, settings, detected));
            var progress = new ChannelProgress(ch, Progress);
            model = ForecastModel.Train(settings, panel, progress, CancellationToken);
            model.ReportSeasonalPeriods(seasons, detected);
            if (pendingRows is not null)
                model.AddNote(string.Create(CultureInfo.InvariantCulture,
                    $"{pendingRows.Count} of {rows.Count + pendingRows.Count} series {(pendingRows.Count == 1 ? "is" : "are")} shorter than the window ({minimum} values): " +
                    $"{string.Join(", ", pendingRows.Ids.Take(5).Select(x => $"'{x}'"))}{(pendingRows.Count > 5 ? ", …" : "")}. They were not trained on; " +
                    $"the model keeps them (PendingSeriesIds), and an engine forecasts each once it has observed {minimum} values of it."));
            var summary = model.Summary;
            ch.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
                $"Trained {Counted.Of(summary.Members.Count, "network")} on {summary.TotalWindows} windows ({summary.TrainingWindows} for training, " +
                $"{summary.ValidationWindows} for validation); base {summary.Base}, seasonal adjustment {summary.SeasonalAdjustment}, " +
                $"scaling {summary.Scaling}, correction weight {summary.CorrectionWeight:G4}."));
            // What a user should know about the fit (a fallback to the base, extrapolated bounds): warnings, as ML.NET's are.
            foreach (string note in summary.Notes) ch.Warning(MessageSensitivity.None, note);
        }
        var states = new ForecastState[rows.Count];
        for (int i = 0; i < rows.Count; i++) states[i] = ForecastState.AfterSeries(settings, model.Series[i], panel.Values[i], panel.Covariates[i]);
        var dates = rows.Dates.Select(d => d.Count > 0 ? d[^1] : default).ToArray();
        var pending = Array.Empty<PendingSeries>();
        if (pendingRows is not null)
        {
            var held = Panel(pendingRows, columns);
            pending = Enumerable.Range(0, pendingRows.Count).Select(s => new PendingSeries(pendingRows.Ids[s], held.Values[s], held.Covariates[s],
                pendingRows.Dates[s].Count > 0 ? pendingRows.Dates[s][^1] : default, held.StaticFeatures[s])).ToArray();
        }
        return new RnnForecastingTransformer(_options, columns, model, new SeriesSet(rows.Ids.ToArray(), states, dates, pending));
    }

    /// <summary>Whether the networks read the series ids (<see cref="RnnForecastingOptions.SeriesIdFeature"/>): as asked,
    /// or by default for a panel of 2 to <see cref="RnnForecastingOptions.Defaults.SeriesIdFeatureMaximumSeries"/>
    /// series; never twice when the id column is already among the static columns.</summary>
    private bool UsesIdFeature(int series, ForecastColumns draft)
    {
        bool uses = draft.SeriesId is not null && series >= 2 && !draft.Static.Any(e => e.Column == draft.SeriesId)
            && (_options.SeriesIdFeature ?? series <= RnnForecastingOptions.Defaults.SeriesIdFeatureMaximumSeries);
        if (uses && series > Core.Network.RecurrentNetworkSpec.MaximumInputCategories)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Series id column '{draft.SeriesId}' gives {series} series; SeriesIdFeature reads at most {Core.Network.RecurrentNetworkSpec.MaximumInputCategories} ids. Set SeriesIdFeature = false."));
        return uses;
    }

    /// <summary>Every series must hold what a forecast reads (a single series: a window and a horizon, as before), and
    /// the panel's windows must be countable.</summary>
    private void CheckLengths(PanelRows rows, ForecastColumns columns, ForecasterSettings settings)
    {
        int W = _options.WindowSize, H = _options.Horizon;
        if (columns.SeriesId is null)
        {
            int n = rows.Values[0].Count;
            if (n < settings.MinimumLength)
                throw new InvalidOperationException(
                    $"Input column '{_options.InputColumnName}' has {Counted.Of(n, "row")}; WindowSize {W} + Horizon {H} needs at least {settings.MinimumLength}.");
            return;
        }
        int minimum = ForecasterSettings.ForecastLength(W);
        for (int s = 0; s < rows.Count; s++)
        {
            int n = rows.Values[s].Count;
            if (n < minimum)
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Series id column '{columns.SeriesId}': series '{rows.Ids[s]}' (first at row {rows.Rows[s].First(r => r >= 0)}) has {Counted.Of(n, "row")}; a forecast reads at least {minimum} (WindowSize {W}). Remove it, or fit with a smaller WindowSize."));
        }
        CheckWindowCount(columns.SeriesId, Enumerable.Range(0, rows.Count).Select(s => (rows.Ids[s], (long)rows.Values[s].Count, rows.Rows[s][^1])), W, H);
    }

    /// <summary>The windows of every series (at most n − max(W, 2) − H + 1 each) must be countable by one model: more than
    /// 2³¹ − 1 is refused before anything is fitted, naming the series (and its last row) where the count passes it.</summary>
    internal static void CheckWindowCount(string idColumn, IEnumerable<(string Id, long Rows, long LastRow)> series, int windowSize, int horizon)
    {
        int minimum = ForecasterSettings.ForecastLength(windowSize);
        long windows = 0;
        foreach (var (id, n, lastRow) in series)
        {
            windows += Math.Max(0, n - minimum - horizon + 1);
            if (windows > int.MaxValue)
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Series id column '{idColumn}': the series up to '{id}' (its last row {lastRow}) give {windows} windows of {windowSize} + {horizon} rows, more than one model can index ({int.MaxValue}, 2³¹ − 1). Fit the panel in parts (by a hash of the series id, say) or with fewer rows per series."));
        }
    }

    /// <summary>The forecaster's view of the rows: per series the values, the covariates (observed, then calendar) and
    /// the encoded static features.</summary>
    private static SeriesPanel Panel(PanelRows rows, ForecastColumns columns)
    {
        int S = rows.Count, Cu = columns.Observed.Length, C = columns.CovariateCount;
        var values = new float[S][];
        var covariates = new float[S][];
        var features = new float[S][];
        for (int s = 0; s < S; s++)
        {
            values[s] = rows.Values[s].ToArray();
            int n = values[s].Length;
            var observed = rows.Observed[s];
            var c = new float[n * C];
            var one = new float[Cu];
            for (int t = 0; t < n; t++)
            {
                observed.CopyTo(t * Cu, one, 0, Cu);
                columns.WriteCovariates(one, rows.Dates[s].Count > 0 ? rows.Dates[s][t] : default, c.AsSpan(t * C, C));
            }
            covariates[s] = c;
            features[s] = columns.EncodeStatic(rows.Static[s]);
        }
        return new SeriesPanel(rows.Ids.ToArray(), values, covariates, features);
    }

    private string Describe(PanelRows rows, ForecasterSettings settings, bool idFeature)
    {
        var o = _options;
        var net = settings.WithSeasonalDilation();
        string series = o.SeriesIdColumnName is null ? $"{rows.RowCount} rows of '{o.InputColumnName}'"
            : $"{rows.Count} series ('{o.SeriesIdColumnName}') of '{o.InputColumnName}', {rows.RowCount} rows" + (idFeature ? ", the ids as an input" : "");
        var covariates = o.CovariateColumnNames.Concat(o.KnownFutureColumnNames.Select(c => c + " (known in advance)")).ToArray();
        return string.Create(CultureInfo.InvariantCulture,
            $"Training {o.EnsembleSize} {o.Cell}({string.Join(", ", net.HiddenSizes)}{(net.Dilations.Count > 0 ? ", dilations " + string.Join(", ", net.Dilations) : "")}) {(o.EnsembleSize == 1 ? "network" : "networks")} on {series}" +
            $"{(covariates.Length > 0 ? $" with covariates {string.Join(", ", covariates.Select(c => $"'{c}'"))}" : "")}: " +
            $"window {o.WindowSize}, horizon {o.Horizon}, seasonal period {(settings.SeasonalPeriods.Count > 0 ? "chosen per series among " + string.Join(", ", settings.SeasonalPeriods) : settings.SeasonalPeriod)}, at most {o.Epochs} epochs, seed {o.Seed}.");
    }

    /// <summary>The schema after transformation: the input's columns plus the forecast and bound vectors.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var o = _options;
        var floats = o.CovariateColumnNames.Prepend(o.InputColumnName).Concat(o.KnownFutureColumnNames);
        foreach (string name in floats)
        {
            if (!inputSchema.TryFindColumn(name, out var column))
                throw SeriesColumns.Missing(name, inputSchema.Select(c => c.Name));
            if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Single)
                throw SeriesColumns.Mismatch(name, column.ItemType?.ToString() + (column.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        }
        var others = new[] { o.SeriesIdColumnName, o.DateColumnName, o.HolidayColumnName }.OfType<string>().Concat(o.StaticFeatureColumnNames);
        foreach (string name in others)
            if (!inputSchema.TryFindColumn(name, out _)) throw SeriesColumns.Missing(name, inputSchema.Select(c => c.Name));
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (string name in RnnForecastingTransformer.OutputNames(o))
            result[name] = new SchemaShape.Column(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}

/// <summary>The messages of a missing or mistyped input column, as ML.NET words them.</summary>
internal static class SeriesColumns
{
    public static ArgumentOutOfRangeException Missing(string name, IEnumerable<string> present) =>
        new("inputSchema", $"Could not find input column '{name}'. Columns present: {string.Join(", ", present)}.");

    public static ArgumentOutOfRangeException Mismatch(string name, string actual) =>
        new("inputSchema", $"Schema mismatch for input column '{name}': expected Single, got {actual}.");
}

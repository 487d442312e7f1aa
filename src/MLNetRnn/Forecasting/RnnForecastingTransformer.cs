using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Persistence;

[assembly: LoadableClass(typeof(RnnForecastingTransformer), null, typeof(SignatureLoadModel),
    RnnForecastingTransformer.UserName, RnnForecastingTransformer.LoaderSignature)]

namespace MLNetRnn;

/// <summary>
/// A fitted recurrent forecaster (from <see cref="RnnForecastingEstimator"/>) of one series or of every series of a
/// panel. Transforming a data view adds, for each row, the forecast of the next <see cref="Horizon"/> values of its
/// series made from that series' rows up to and including it (NaN until <see cref="WindowSize"/> rows have been
/// seen), and the bounds and quantiles if configured; rows that only continue a series the model knows (its newer rows)
/// are forecast from where the model left off (<see cref="Transform"/>). The transformer also remembers where each
/// series it was fitted on ended (or where the checkpoint it was saved from stood), so that
/// <see cref="CreateForecastingEngine"/> forecasts what comes next.
/// </summary>
/// <remarks>
/// Rows depend on the rows before them, so this is not a row-to-row mapper: a <c>PredictionEngine</c> cannot
/// serve it. Use <see cref="RnnCatalog.CreateForecastingEngine{TSrc, TDst}"/> (typed, like ML.NET's
/// <c>CreateTimeSeriesEngine</c>) or <see cref="RnnCatalog.CreateForecastingEngine"/> (on the transformer or a loaded
/// pipeline) for one-at-a-time forecasting.
/// </remarks>
public sealed class RnnForecastingTransformer : ITransformer, ICanSaveModel
{
    internal const string LoaderSignature = "MLNetRnnForecaster";
    internal const string UserName = "MLNetRnn Recurrent Forecaster";

    /// <summary>Format version 7: version 2's column names and confidence level, then the panel's columns (series id,
    /// date, known-future, static features), the quantile column and interval method, the forecast model with one
    /// fitted part per series (its settings end with the count of series and the static categories the networks read by
    /// index), one state per series, each member's training diagnostics, each series' own correction weight λ, and the
    /// series an engine had observed but not yet started when it was checkpointed. Version-6 readers read it, without
    /// those pending series (appended last for that). Still read: version 6 (no pending series), 5 (neither what is read
    /// by index: static categories one-hot), 4 (without per-series λ either: every series takes the panel's), 3
    /// (version 2 and the diagnostics), 2 (one series, enums by name) and 1 (a seasonal-naive base only). A version-5 reader refuses version 6, whose settings it would misread.
    /// Version 8 is version 7 with the candidate seasonal periods at the end of the settings and each series' own period
    /// at the end of its fitted part; readable only by version-8 readers, which would otherwise misread the settings. It is
    /// written only for a model that uses candidate periods (<see cref="ForecastModel.HasSeasonalPeriods"/>); any other
    /// model is written as version 7 (<see cref="FormatWithoutPeriods"/>), so the readers version 7 promised still read it.
    /// Version 9 is version 8 (the periods block always written, empty without candidates) with the networks' dilations
    /// and residual flag after the periods; readable only by version-9 readers, which would otherwise rebuild other
    /// networks. It is written only for a model whose networks use them (<see cref="ForecastModel.HasArchitectureOptions"/>);
    /// any other model is written as version 8 or 7, as before.
    /// Version 10 is version 9 with each series' base weights inside its fitted part and the learned combination of the
    /// candidate bases at the end of the forecast model; readable only by version-10 readers, which would otherwise
    /// misread every series after the first. It is written only for a model whose panel learned a combination
    /// (<see cref="ForecastModel.HasBaseCombination"/>); any other model is written as version 9, 8 or 7, as before.
    /// Version 11 is version 10 with the decoder-steps flag at the end of the settings; readable only by version-11 readers,
    /// which would otherwise rebuild networks without decoder steps. It is written only for a model whose networks step
    /// through the horizon without known-future covariates (<see cref="ForecastModel.HasDecoderSteps"/>); any other model
    /// is written as version 10, 9, 8 or 7, as before.</summary>
    internal static readonly ModelFormat Format = new(
        modelSignature: "MLNRFCST",
        loaderSignature: LoaderSignature,
        currentVersion: 11,
        readableByVersion: 11,
        oldestReadableVersion: 1);

    /// <summary>Version 10, readable by version-10 readers: what a model with a learned base combination and without
    /// decoder steps is written as.</summary>
    internal static readonly ModelFormat FormatWithBaseCombination = Format.AsWrittenBy(version: 10, readableByVersion: 10);

    /// <summary>Version 9, readable by version-9 readers: what a model with dilations or residual connections and without
    /// a learned base combination is written as.</summary>
    internal static readonly ModelFormat FormatWithArchitecture = Format.AsWrittenBy(version: 9, readableByVersion: 9);

    /// <summary>Version 8, readable by version-8 readers: what a model with candidate seasonal periods and without
    /// dilations or residual connections is written as.</summary>
    internal static readonly ModelFormat FormatWithPeriods = Format.AsWrittenBy(version: 8, readableByVersion: 8);

    /// <summary>Version 7, readable by version-6 readers: what a model without candidate seasonal periods is written as.</summary>
    internal static readonly ModelFormat FormatWithoutPeriods = Format.AsWrittenBy(version: 7, readableByVersion: 6);

    /// <summary>The oldest format that holds <paramref name="model"/>, so a model costs compatibility only for the
    /// options it uses.</summary>
    internal static ModelFormat FormatFor(ForecastModel model)
        => model.HasDecoderSteps ? Format : model.HasBaseCombination ? FormatWithBaseCombination : model.HasArchitectureOptions ? FormatWithArchitecture : model.HasSeasonalPeriods ? FormatWithPeriods : FormatWithoutPeriods;

    internal RnnForecastingTransformer(RnnForecastingOptions options, ForecastColumns columns, ForecastModel model, SeriesSet series)
        : this(options.OutputColumnName, columns, options.ConfidenceLowerBoundColumn, options.ConfidenceUpperBoundColumn, options.QuantilesColumnName,
            options.ConfidenceLevel, options.IntervalMethod, model, series)
    {
    }

    private RnnForecastingTransformer(string output, ForecastColumns columns, string? lower, string? upper, string? quantiles, float level,
        ForecastIntervalMethod method, ForecastModel model, SeriesSet series)
    {
        OutputColumnName = output; Columns = columns;
        LowerBoundColumnName = lower; UpperBoundColumnName = upper; QuantilesColumnName = quantiles; ConfidenceLevel = level; IntervalMethod = method;
        Model = model; Series = series;
    }

    /// <summary>Name of the forecast vector column.</summary>
    public string OutputColumnName { get; }

    /// <summary>Name of the series column.</summary>
    public string InputColumnName => Columns.Input;

    /// <summary>Names of the past-only covariate columns.</summary>
    public IReadOnlyList<string> CovariateColumnNames => Columns.Covariates;

    /// <summary>Names of the covariate columns whose values for the forecast steps are given with each forecast.</summary>
    public IReadOnlyList<string> KnownFutureColumnNames => Columns.KnownFuture;

    /// <summary>Name of the holiday flag column (a known-future covariate), or null.</summary>
    public string? HolidayColumnName => Columns.Holiday;

    /// <summary>Name of the series id column, or null for a model of one series.</summary>
    public string? SeriesIdColumnName => Columns.SeriesId;

    /// <summary>Name of the date column, or null.</summary>
    public string? DateColumnName => Columns.Date;

    /// <summary>The calendar features fed to the networks (resolved from the time step when the options left them open).</summary>
    public CalendarFeatures CalendarFeatures => Columns.Calendar;

    /// <summary>Names of the static feature columns.</summary>
    public IReadOnlyList<string> StaticFeatureColumnNames => Columns.Static.Select(e => e.Column).ToArray();

    /// <summary>Name of the lower-bound column, or null.</summary>
    public string? LowerBoundColumnName { get; }

    /// <summary>Name of the upper-bound column, or null.</summary>
    public string? UpperBoundColumnName { get; }

    /// <summary>Name of the quantiles column, or null.</summary>
    public string? QuantilesColumnName { get; }

    /// <summary>Confidence level of the bound columns.</summary>
    public float ConfidenceLevel { get; }

    /// <summary>Where the bounds come from: conformal calibration or the quantile heads.</summary>
    public ForecastIntervalMethod IntervalMethod { get; }

    /// <summary>Levels of the quantile heads, ascending (the median among them); empty without quantile heads.</summary>
    public IReadOnlyList<float> Quantiles => Model.Settings.Quantiles;

    /// <summary>Values each forecast is made from (W).</summary>
    public int WindowSize => Model.Settings.WindowSize;

    /// <summary>Steps forecast (H).</summary>
    public int Horizon => Model.Settings.Horizon;

    /// <summary>The ids of the series the model knows, in the order of its training data ("" for a model of one series).</summary>
    public IReadOnlyList<string> SeriesIds => Series.Ids;

    /// <summary>The ids of the series the model holds but cannot forecast yet, shorter than a window: series of the
    /// training data with fewer than <see cref="WindowSize"/> rows (not trained on), and series an engine had observed
    /// as little of when it was checkpointed. An engine starts each once it has observed a window of it.</summary>
    public IReadOnlyList<string> PendingSeriesIds => Series.Pending.Select(p => p.Id).ToArray();

    /// <summary>Each series' weight λ_s on the networks' correction, by series id: 0 forecasts with the series' base
    /// alone, 1 with the full correction. In a panel each series with enough held-out windows has its own, pulled towards
    /// the panel's mean; the others, and series first seen after training, take the panel's λ
    /// (<see cref="ForecastTrainingSummary.CorrectionWeight"/>). A model of one series has one entry, "".</summary>
    public IReadOnlyDictionary<string, float> CorrectionWeights =>
        Series.Ids.Select((id, i) => (id, i)).ToDictionary(x => x.id,
            x => (x.i < Model.Series.Count ? Model.Series[x.i].CorrectionWeight : null) ?? Model.CorrectionWeight, StringComparer.Ordinal);

    /// <summary>How the model was trained: per series the base and scaling; the ensemble members' loss and gradient-norm
    /// curves; λ and the calibration.</summary>
    public ForecastTrainingSummary TrainingSummary => Model.Summary;

    /// <summary>Each ensemble member's training diagnostics (empty when the forecast is the base alone): loss and ‖g‖
    /// per step with the clipping threshold, losses per epoch, the backward signal across the window (gradient
    /// reach), the W_hh singular values from start to end. Saved with the model; plot with MLNetRnn.Plots or export
    /// to CSV/JSON. For a model saved before diagnostics were kept (format versions 1 and 2), rebuilt from the
    /// training summary: curves and the final spectrum, without the backward signal or the initial spectrum.</summary>
    public IReadOnlyList<TrainingDiagnostics> Diagnostics => Model.Diagnostics;

    internal ForecastColumns Columns { get; }

    internal ForecastModel Model { get; }

    internal SeriesSet Series { get; }

    /// <summary>The state of a single-series model's series.</summary>
    internal ForecastState State => Series.States[0];

    /// <summary>Test seam: the format Save writes, to produce models "from another version"; null: <see cref="FormatFor"/>.</summary>
    internal ModelFormat? WriteFormat { get; init; }

    /// <summary>
    /// True, although no row-to-row mapper exists: each row's forecast depends on the rows before it. ML.NET's
    /// <c>CreatePredictionEngine</c> refuses a transformer that answers false with a bare "Must be a row to row
    /// mapper"; answering true makes it call <see cref="GetRowToRowMapper"/>, whose exception says what to use instead.
    /// </summary>
    public bool IsRowToRowMapper => true;

    /// <summary>Not supported: rows are not independent. Use <see cref="RnnCatalog.CreateForecastingEngine{TSrc, TDst}"/>
    /// or <see cref="CreateForecastingEngine"/>.</summary>
    /// <exception cref="InvalidOperationException">Always, naming the forecasting engine.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new InvalidOperationException(
        $"{nameof(RnnForecastingTransformer)} forecasts each row from the rows before it, so it has no row-to-row mapper and " +
        "mlContext.Model.CreatePredictionEngine cannot serve it (nor a pipeline containing it). For one-at-a-time forecasts use " +
        "model.CreateForecastingEngine<TSrc, TDst>(mlContext) (observe and forecast in one call, like CreateTimeSeriesEngine) or " +
        "model.CreateForecastingEngine(); for a whole series use Transform.");

    /// <summary>The input schema plus the forecast, bound and quantile vector columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        PanelReader.Bind(Columns, inputSchema);
        return ForecastDataView.OutputSchema(inputSchema, this);
    }

    /// <summary>Adds the forecast (and bound, quantile) columns. Lazy, as every ML.NET transform: rows are forecast as
    /// a cursor reaches them, each from the window of its series' rows ending at it. A series the model was not trained
    /// on is fitted on its rows in this data view first (a cold start); with known-future covariates, each row's
    /// forecast reads them from its series' next H rows (NaN where the data ends sooner).</summary>
    /// <remarks>
    /// <para>
    /// A series' rows here either restate its history (the training data, or any part of it: forecasts from those rows
    /// alone, NaN until a window of them) or continue it (only rows newer than the model's: forecasts from the model's
    /// state of the series plus those rows, exactly what an engine gives after observing them). Which, is decided per
    /// series at its first row here:
    /// </para>
    /// <list type="bullet">
    /// <item>With <see cref="DateColumnName"/>: the rows continue the series when the first is dated after the series'
    /// last date in the model (<see cref="SeriesIds"/>, trained or checkpointed). Steps missing between the two are filled
    /// per the model's gap filling, or refused naming both dates; a series the model holds as pending continues from its
    /// pending values.</item>
    /// <item>Without a date column nothing tells new rows from old, so the rows continue the series when there are fewer
    /// of them here than its first forecast reads (the window, and one season for a seasonal base): too few to forecast
    /// from on their own, and before this rule every one of them was NaN. A longer run is read as the series' history.
    /// To continue the model with more rows than that, give the model a date column or use an engine
    /// (<see cref="CreateForecastingEngine"/>, <c>Observe</c>).</item>
    /// </list>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new ForecastDataView(input, this, PanelReader.Bind(Columns, input.Schema));
    }

    /// <summary>A stateful engine that starts from the end of the training series (or of the checkpoint this
    /// transformer was loaded from): <c>Predict</c> forecasts a series, <c>Observe</c> moves it on.</summary>
    public RnnForecastingEngine CreateForecastingEngine() => new(this, null);

    /// <summary>
    /// Writes the forecaster as an ONNX model to <paramref name="stream"/>: one graph that turns what a forecast reads at
    /// an origin (the last <see cref="WindowSize"/> values, the base's forecasts, the covariates, the position in the
    /// season) into the forecast of the next <see cref="Horizon"/> values and its bounds, for N origins at once, with the
    /// seasonal adjustment, scaling, ensemble and damping in the graph. ONNX Runtime then gives the forecasts of
    /// <see cref="RnnForecastingEngine.Predict()"/> (within 1e-5 relative) on the inputs
    /// <see cref="RnnForecastingEngine.GetOnnxInputs"/> produces. ML.NET's <c>ConvertToOnnx</c> cannot carry a forecaster,
    /// whose rows depend on the rows before them, and says so.
    /// </summary>
    /// <remarks>
    /// The statistical base's smoothing state stays outside the graph: it runs over the whole history, which is what the
    /// engine keeps. Inputs and outputs are named in <see cref="RnnForecastingOnnxNames"/>; the graph also says them in
    /// its documentation strings and metadata. Stages of a pipeline before the forecaster are not in the graph. The model
    /// is built in memory and written in one piece: when it cannot be exported, nothing reaches the stream. A model of
    /// one series without known-future covariates, calendar, static or scale features, or quantile heads.
    /// </remarks>
    /// <param name="stream">A writable stream; the model is written from its current position and the stream is left open.</param>
    /// <param name="confidenceLevel">Coverage of the bounds the graph computes, in (0, 1), fixed in the graph; null =
    /// <see cref="ConfidenceLevel"/>.</param>
    /// <exception cref="NotSupportedException">The model has a part the export cannot express, named in the message:
    /// many series, a decoder, static or scale features, quantile heads, the recursive strategy, or layer normalisation.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="confidenceLevel"/> is not in (0, 1).</exception>
    public void ExportToOnnx(Stream stream, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream must be writable.", nameof(stream));
        float level = confidenceLevel ?? ConfidenceLevel;
        if (!(level > 0f && level < 1f))
            throw new ArgumentOutOfRangeException(nameof(confidenceLevel), level, $"confidenceLevel must be in (0, 1); got {level}.");
        stream.Write(Onnx.ForecastModelOnnx.Export(Model, level));
    }

    internal RnnForecastingTransformer WithSeries(ForecastModel model, SeriesSet series)
        => new(OutputColumnName, Columns, LowerBoundColumnName, UpperBoundColumnName, QuantilesColumnName, ConfidenceLevel, IntervalMethod, model, series);

    internal RnnForecastingTransformer WithWriteFormat(ModelFormat format)
        => new(OutputColumnName, Columns, LowerBoundColumnName, UpperBoundColumnName, QuantilesColumnName, ConfidenceLevel, IntervalMethod, Model, Series) { WriteFormat = format };

    internal static IEnumerable<string> OutputNames(RnnForecastingOptions o)
        => new[] { o.OutputColumnName, o.ConfidenceLowerBoundColumn, o.ConfidenceUpperBoundColumn, o.QuantilesColumnName }.Where(n => n is not null)!;

    // ------------------------------------------------------------------ persistence

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var format = WriteFormat ?? FormatFor(Model);
        format.Save(ctx, w =>
        {
            // *** Binary format, version 10 (version 9 with the bases' weights and the learned combination inside
            // ForecastModel.Write), version 9 (version 8 with the dilations and residual flag inside ForecastModel.Write),
            // version 8 (version 7 with the seasonal periods inside ForecastModel.Write), or version 7 for a model without
            // either (ForecastModel.Write then leaves them out) ***
            // string: output column, input column; int32 + strings: past-only covariate columns
            // bool + string: lower-bound column (if present); likewise the upper-bound column
            // float: confidence level
            // ForecastColumns.WriteExtension (known-future, holiday, series id, date, calendar, time step, gaps, static encoders)
            // bool + string: quantiles column; string: interval method
            // ForecastModel (ForecastModel.Write: settings, one fitted part per series, networks, calibration, summary)
            // int32 S; per series: string id, int64 last date (ticks), ForecastState (ForecastState.Write)
            // int32 K, then each member's TrainingDiagnostics.Write; per-series λ (ForecastModel.WriteSeriesWeights)
            // the series observed by an engine and not yet started (SeriesSet.WritePending)
            // (Version 7: the same without the seasonal periods. Version 6: also without the pending series; a version-6 reader skips them. Version 5: the settings
            // without the series read by index. Version 4: also without per-series λ.)
            // (Version 3: version 2's layout, then the diagnostics. Version 2: the same up to the confidence level, then
            // the version-2 model and one state. Version 1: likewise, model and state in their version-1 layouts.)
            w.Write(OutputColumnName);
            w.Write(InputColumnName);
            w.Write(CovariateColumnNames.Count);
            foreach (string c in CovariateColumnNames) w.Write(c);
            ForecastColumns.WriteOptional(w, LowerBoundColumnName);
            ForecastColumns.WriteOptional(w, UpperBoundColumnName);
            w.Write(ConfidenceLevel);
            Columns.WriteExtension(w);
            ForecastColumns.WriteOptional(w, QuantilesColumnName);
            Core.Serialization.Persisted.WriteEnum(w, IntervalMethod);
            Model.Write(w);
            Series.Write(w);
            w.Write(Model.Diagnostics.Length);
            // Version 1 of the diagnostics: version-6 and -7 readers knew only that version (it holds the same content),
            // and keeping it leaves the diagnostics as they were.
            foreach (var d in Model.Diagnostics) d.WriteVersion(w, 1);
            Model.WriteSeriesWeights(w);
            Series.WritePending(w);
        });
    }

    // Factory method for SignatureLoadModel; ML.NET finds it by name and parameter types.
    private static RnnForecastingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        return Format.Load(ctx, static (r, version) =>
        {
            string output = r.ReadString(), input = r.ReadString();
            var covariates = ForecastColumns.ReadNames(r, "covariate");
            string? lower = ForecastColumns.ReadOptional(r), upper = ForecastColumns.ReadOptional(r);
            float level = r.ReadSingle();
            if (version < 4)
            {
                var columns = new ForecastColumns { Input = input, Covariates = covariates, KnownFuture = [] };
                var model = version == 1 ? ForecastModel.ReadVersion1(r) : ForecastModel.ReadVersion2(r);
                var state = version == 1 ? ForecastState.ReadVersion1(r, model.Settings, model.Single) : ForecastState.Read(r, model.Settings, model.Single);
                model.Diagnostics = version == 3 ? ReadDiagnostics(r) : RebuildDiagnostics(model);
                return new RnnForecastingTransformer(output, columns, lower, upper, null, level, ForecastIntervalMethod.Conformal, model, SeriesSet.One(state));
            }
            var panel = ForecastColumns.ReadExtension(r, input, covariates, version);
            string? quantiles = ForecastColumns.ReadOptional(r);
            var method = Core.Serialization.Persisted.ReadEnum<ForecastIntervalMethod>(r);
            var forecaster = ForecastModel.Read(r, seriesCategories: version >= 6, seasonalPeriods: version >= 8, architecture: version >= 9, baseCombination: version >= 10,
                decoderSteps: version >= 11);
            if (panel.CovariateCount != forecaster.Settings.CovariateCount)
                throw new InvalidDataException($"The saved columns give {panel.CovariateCount} covariates; the saved model reads {forecaster.Settings.CovariateCount}.");
            var series = SeriesSet.Read(r, forecaster);
            forecaster.Diagnostics = ReadDiagnostics(r);
            if (version >= 5) forecaster.ReadSeriesWeights(r);
            if (version >= 7) series = series.ReadPending(r, forecaster);
            return new RnnForecastingTransformer(output, panel, lower, upper, quantiles, level, method, forecaster, series);
        });
    }

    private static TrainingDiagnostics[] ReadDiagnostics(BinaryReader r)
    {
        int k = r.ReadInt32();
        if (k < 0 || k > 1024) throw new InvalidDataException($"Diagnostics count {k} is out of range.");
        var d = new TrainingDiagnostics[k];
        for (int i = 0; i < k; i++) d[i] = TrainingDiagnostics.Read(r);
        return d;
    }

    // Versions 1 and 2 kept each member's curves in the training summary; its network gives the final spectrum.
    private static TrainingDiagnostics[] RebuildDiagnostics(ForecastModel model)
        => model.Summary.Members.Take(model.Members.Length).Select((m, k) => TrainingDiagnostics.FromCurves(model.Members[k], model.Settings.Training,
            m.GradientNormBefore, m.GradientNormAfter, m.TrainingLoss.Select(v => (double)v).ToArray(), m.ValidationLoss.Select(v => (double)v).ToArray(),
            m.BestEpoch, m.StoppedBy == Core.Training.TrainingStop.EarlyStopping, restoredBestWeights: m.BestEpoch >= 0)).ToArray();
}

/// <summary>The series a forecaster knows: their ids (aligned with the model's fitted parts), where each stands, and
/// the date of each one's last row; and the series too short to forecast yet (pending): a training series shorter than
/// a window, or one an engine had observed too little of when it was checkpointed, so a restarted engine keeps them.</summary>
internal sealed class SeriesSet
{
    public SeriesSet(IReadOnlyList<string> ids, IReadOnlyList<ForecastState> states, IReadOnlyList<DateTime> lastDates,
        IReadOnlyList<PendingSeries>? pending = null)
    {
        Ids = ids; States = states; LastDates = lastDates; Pending = pending ?? [];
        var index = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++)
            if (!index.TryAdd(ids[i], i)) throw new InvalidDataException($"Series id '{ids[i]}' appears twice.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in Pending)
            if (index.ContainsKey(p.Id) || !seen.Add(p.Id)) throw new InvalidDataException($"Series id '{p.Id}' appears twice.");
        Index = index;
    }

    public static SeriesSet One(ForecastState state) => new([""], [state], [default]);

    public IReadOnlyList<string> Ids { get; }               // (S)
    public IReadOnlyList<ForecastState> States { get; }     // (S)
    public IReadOnlyList<DateTime> LastDates { get; }       // (S) default without a date column
    public IReadOnlyDictionary<string, int> Index { get; }
    public IReadOnlyList<PendingSeries> Pending { get; }    // (P) shorter than a window: no fitted part yet

    /// <summary>Writes the pending series (format version 7, after everything version 6 wrote, so that a version-6
    /// reader, which skips what it does not know, still reads the rest).</summary>
    public void WritePending(BinaryWriter w)
    {
        // int32 P; per series: string id, int64 last date (ticks), int32 n, n × float32 values, n·C × float32 covariates,
        // Z × float32 static features
        w.Write(Pending.Count);
        foreach (var p in Pending)
        {
            w.Write(p.Id);
            w.Write(p.LastDate.Ticks);
            w.Write(p.Values.Length);
            foreach (float v in p.Values) w.Write(v);
            foreach (float c in p.Covariates) w.Write(c);
            foreach (float z in p.Static) w.Write(z);
        }
    }

    /// <summary>Reads what <see cref="WritePending"/> wrote, checking it against the model: fewer values than a cold
    /// start needs (else the engine would have started the series), finite, C covariates per value.</summary>
    public SeriesSet ReadPending(BinaryReader r, ForecastModel model)
    {
        int P = r.ReadInt32(), C = model.Settings.CovariateCount, Z = model.Settings.StaticFeatureCount, most = model.Settings.MinimumForecastLength - 1;
        if (P < 0 || P > 1 << 26) throw new InvalidDataException($"Pending series count {P} is out of range (0 to {1 << 26}).");
        var pending = new PendingSeries[P];
        for (int j = 0; j < P; j++)
        {
            string id = r.ReadString();
            long ticks = r.ReadInt64();
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks) throw new InvalidDataException($"The saved date of pending series '{id}' is out of range.");
            int n = r.ReadInt32();
            if (n < 1 || n > most) throw new InvalidDataException($"Pending series '{id}' holds {Training.Counted.Of(n, "value")}; a series not yet started holds 1 to {most}.");
            var values = new float[n];
            var covariates = new float[n * C];
            for (int i = 0; i < n; i++) values[i] = r.ReadSingle();
            for (int i = 0; i < covariates.Length; i++) covariates[i] = r.ReadSingle();
            var features = new float[Z];
            for (int i = 0; i < Z; i++) features[i] = r.ReadSingle();
            if (!values.All(float.IsFinite) || !covariates.All(float.IsFinite) || !features.All(float.IsFinite))
                throw new InvalidDataException($"Pending series '{id}' holds a value that is not finite.");
            pending[j] = new PendingSeries(id, values, covariates, new DateTime(ticks), features);
        }
        return new SeriesSet(Ids, States, LastDates, pending);
    }

    public void Write(BinaryWriter w)
    {
        w.Write(Ids.Count);
        for (int i = 0; i < Ids.Count; i++)
        {
            w.Write(Ids[i]);
            w.Write(LastDates[i].Ticks);
            States[i].Write(w);
        }
    }

    public static SeriesSet Read(BinaryReader r, ForecastModel model)
    {
        int S = r.ReadInt32();
        if (S != model.Series.Count) throw new InvalidDataException($"The saved model has {model.Series.Count} series but {S} states.");
        var ids = new string[S];
        var states = new ForecastState[S];
        var dates = new DateTime[S];
        for (int i = 0; i < S; i++)
        {
            ids[i] = r.ReadString();
            long ticks = r.ReadInt64();
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks) throw new InvalidDataException($"The saved date of series '{ids[i]}' is out of range.");
            dates[i] = new DateTime(ticks);
            states[i] = ForecastState.Read(r, model.Settings, model.Series[i]);
        }
        return new SeriesSet(ids, states, dates);
    }
}

/// <summary>A series the model cannot forecast yet, too short for a window: one of the training data, or one an engine
/// observed. Its values, each value's C covariates (as the model reads them, calendar included), the date of its last
/// value (default without a date column), and its Z encoded static features (none known: numbers 0, categories −1).</summary>
internal sealed record PendingSeries(string Id, float[] Values, float[] Covariates, DateTime LastDate, float[] Static);

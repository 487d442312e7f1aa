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
/// A fitted recurrent forecaster (from <see cref="RnnForecastingEstimator"/>). Transforming a data view adds,
/// for each row, the forecast of the next <see cref="Horizon"/> values made from the rows up to and including
/// it (NaN until <see cref="WindowSize"/> rows have been seen), and the bounds if configured. The transformer
/// also remembers the last window of its training series (or of the checkpoint it was saved from), so that
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

    /// <summary>Format version 3: column names, confidence level, the forecast model (with its base), the series
    /// state; enums by name; then each member's training diagnostics. Version 2 lacked the diagnostics (version 2
    /// readers skip them; reading version 2 rebuilds them from the training summary); version 1 (a seasonal-naive
    /// base only, enums as integers) is still read.</summary>
    internal static readonly ModelFormat Format = new(
        modelSignature: "MLNRFCST",
        loaderSignature: LoaderSignature,
        currentVersion: 3,
        readableByVersion: 2,
        oldestReadableVersion: 1);

    internal RnnForecastingTransformer(RnnForecastingOptions options, ForecastModel model, ForecastState state)
        : this(options.OutputColumnName, options.InputColumnName, options.CovariateColumnNames, options.ConfidenceLowerBoundColumn,
            options.ConfidenceUpperBoundColumn, options.ConfidenceLevel, model, state)
    {
    }

    private RnnForecastingTransformer(string output, string input, string[] covariates, string? lower, string? upper, float level,
        ForecastModel model, ForecastState state)
    {
        OutputColumnName = output; InputColumnName = input; CovariateColumnNames = covariates;
        LowerBoundColumnName = lower; UpperBoundColumnName = upper; ConfidenceLevel = level;
        Model = model; State = state;
    }

    /// <summary>Name of the forecast vector column.</summary>
    public string OutputColumnName { get; }

    /// <summary>Name of the series column.</summary>
    public string InputColumnName { get; }

    /// <summary>Names of the covariate columns.</summary>
    public IReadOnlyList<string> CovariateColumnNames { get; }

    /// <summary>Name of the lower-bound column, or null.</summary>
    public string? LowerBoundColumnName { get; }

    /// <summary>Name of the upper-bound column, or null.</summary>
    public string? UpperBoundColumnName { get; }

    /// <summary>Confidence level of the bound columns.</summary>
    public float ConfidenceLevel { get; }

    /// <summary>Values each forecast is made from (W).</summary>
    public int WindowSize => Model.Settings.WindowSize;

    /// <summary>Steps forecast (H).</summary>
    public int Horizon => Model.Settings.Horizon;

    /// <summary>How the model was trained: scaling, windows, each ensemble member's loss and gradient-norm curves.</summary>
    public ForecastTrainingSummary TrainingSummary => Model.Summary;

    /// <summary>Each ensemble member's training diagnostics (empty when the forecast is the base alone): loss and ‖g‖
    /// per step with the clipping threshold, losses per epoch, the backward signal across the window (gradient
    /// reach), the W_hh singular values from start to end. Saved with the model; plot with MLNetRnn.Plots or export
    /// to CSV/JSON. For a model saved before diagnostics were kept (format versions 1 and 2), rebuilt from the
    /// training summary: curves and the final spectrum, without the backward signal or the initial spectrum.</summary>
    public IReadOnlyList<TrainingDiagnostics> Diagnostics => Model.Diagnostics;

    internal ForecastModel Model { get; }

    internal ForecastState State { get; }

    /// <summary>Test seam: the format Save writes, to produce models "from another version".</summary>
    internal ModelFormat WriteFormat { get; init; } = Format;

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

    /// <summary>The input schema plus the forecast and bound vector columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The series or a covariate column is missing or not <see cref="float"/>.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SeriesColumns.Bind(inputSchema, InputColumnName, CovariateColumnNames.ToArray());
        return ForecastDataView.OutputSchema(inputSchema, this);
    }

    /// <summary>Adds the forecast (and bound) columns. Lazy, as every ML.NET transform: rows are forecast as a
    /// cursor reaches them, each from the window of rows ending at it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The series or a covariate column is missing or not <see cref="float"/>.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var columns = SeriesColumns.Bind(input.Schema, InputColumnName, CovariateColumnNames.ToArray());
        return new ForecastDataView(input, this, columns);
    }

    /// <summary>A stateful engine that starts from the end of the training series (or of the checkpoint this
    /// transformer was loaded from): <c>Predict()</c> forecasts, <c>Observe(value)</c> moves the state on.</summary>
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
    /// is built in memory and written in one piece: when it cannot be exported, nothing reaches the stream.
    /// </remarks>
    /// <param name="stream">A writable stream; the model is written from its current position and the stream is left open.</param>
    /// <param name="confidenceLevel">Coverage of the bounds the graph computes, in (0, 1), fixed in the graph; null =
    /// <see cref="ConfidenceLevel"/>.</param>
    /// <exception cref="NotSupportedException">The model has a part the export cannot express, named in the message:
    /// the recursive strategy, or layer normalisation.</exception>
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

    internal RnnForecastingTransformer WithState(ForecastState state) => new(OutputColumnName, InputColumnName, CovariateColumnNames.ToArray(),
        LowerBoundColumnName, UpperBoundColumnName, ConfidenceLevel, Model, state);

    internal RnnForecastingTransformer WithWriteFormat(ModelFormat format) => new(OutputColumnName, InputColumnName, CovariateColumnNames.ToArray(),
        LowerBoundColumnName, UpperBoundColumnName, ConfidenceLevel, Model, State) { WriteFormat = format };

    internal static IEnumerable<string> OutputNames(RnnForecastingOptions o)
        => new[] { o.OutputColumnName, o.ConfidenceLowerBoundColumn, o.ConfidenceUpperBoundColumn }.Where(n => n is not null)!;

    // ------------------------------------------------------------------ persistence

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        WriteFormat.Save(ctx, w =>
        {
            // *** Binary format, version 2 (version 1: the same fields, model and state in their version-1 layouts) ***
            // string: output column, input column; int32 + strings: covariate columns
            // bool + string: lower-bound column (if present); likewise the upper-bound column
            // float: confidence level
            // ForecastModel (ForecastModel.Write), ForecastState (ForecastState.Write)
            w.Write(OutputColumnName);
            w.Write(InputColumnName);
            w.Write(CovariateColumnNames.Count);
            foreach (string c in CovariateColumnNames) w.Write(c);
            WriteOptional(w, LowerBoundColumnName);
            WriteOptional(w, UpperBoundColumnName);
            w.Write(ConfidenceLevel);
            Model.Write(w);
            State.Write(w);
            // Version 3: int32 K, then each member's TrainingDiagnostics.Write.
            if (WriteFormat.CurrentVersion >= 3)
            {
                w.Write(Model.Diagnostics.Length);
                foreach (var d in Model.Diagnostics) d.Write(w);
            }
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
            int count = r.ReadInt32();
            if (count < 0 || count > 4096) throw new InvalidDataException($"Covariate count {count} is out of range.");
            var covariates = new string[count];
            for (int i = 0; i < count; i++) covariates[i] = r.ReadString();
            string? lower = ReadOptional(r), upper = ReadOptional(r);
            float level = r.ReadSingle();
            var model = version == 1 ? ForecastModel.ReadVersion1(r) : ForecastModel.Read(r);
            var state = version == 1 ? ForecastState.ReadVersion1(r, model) : ForecastState.Read(r, model);
            model.Diagnostics = version >= 3 ? ReadDiagnostics(r) : RebuildDiagnostics(model);
            return new RnnForecastingTransformer(output, input, covariates, lower, upper, level, model, state);
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

    private static void WriteOptional(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null) w.Write(s);
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}

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
/// serve it. Use <see cref="CreateForecastingEngine"/> (or <see cref="RnnCatalog.CreateForecastingEngine"/> on a
/// loaded pipeline) for one-at-a-time forecasting.
/// </remarks>
public sealed class RnnForecastingTransformer : ITransformer, ICanSaveModel
{
    internal const string LoaderSignature = "MLNetRnnForecaster";
    internal const string UserName = "MLNetRnn Recurrent Forecaster";

    /// <summary>Format version 2: column names, confidence level, the forecast model, the series state, each member's
    /// training diagnostics. Version 1 lacked the diagnostics; it is still read (they are rebuilt from the training
    /// summary), and version 1 readers can read version 2 (they skip the appended diagnostics).</summary>
    internal static readonly ModelFormat Format = new(
        modelSignature: "MLNRFCST",
        loaderSignature: LoaderSignature,
        currentVersion: 2,
        readableByVersion: 1,
        oldestReadableVersion: 1);

    internal RnnForecastingTransformer(RnnForecastingOptions options, ForecastModel model, SeriesState state)
        : this(options.OutputColumnName, options.InputColumnName, options.CovariateColumnNames, options.ConfidenceLowerBoundColumn,
            options.ConfidenceUpperBoundColumn, options.ConfidenceLevel, model, state)
    {
    }

    private RnnForecastingTransformer(string output, string input, string[] covariates, string? lower, string? upper, float level,
        ForecastModel model, SeriesState state)
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

    /// <summary>Each ensemble member's training diagnostics: loss and ‖g‖ per step with the clipping threshold,
    /// losses per epoch, the backward signal across the window (gradient reach), the W_hh singular values from start
    /// to end. The run shown is the validated one that chose the member's epochs (the refit on the whole series, if
    /// any, is summarised in <see cref="TrainingSummary"/>). Saved with the model; plot with MLNetRnn.Plots or export
    /// to CSV/JSON. For a model saved before diagnostics were kept (format version 1), rebuilt from the training
    /// summary: curves and the final spectrum, without the backward signal or the initial spectrum.</summary>
    public IReadOnlyList<TrainingDiagnostics> Diagnostics => Model.Diagnostics;

    internal ForecastModel Model { get; }

    internal SeriesState State { get; }

    /// <summary>Test seam: the format Save writes, to produce models "from another version".</summary>
    internal ModelFormat WriteFormat { get; init; } = Format;

    /// <summary>False: each row's output depends on earlier rows.</summary>
    public bool IsRowToRowMapper => false;

    /// <summary>Not supported: rows are not independent. Use <see cref="CreateForecastingEngine"/>.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new InvalidOperationException(
        $"{nameof(RnnForecastingTransformer)} forecasts from the rows before each row, so it has no row-to-row mapper and a PredictionEngine cannot " +
        "serve it; use CreateForecastingEngine() for one-at-a-time forecasts, or Transform for a whole series.");

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

    internal RnnForecastingTransformer WithState(SeriesState state) => new(OutputColumnName, InputColumnName, CovariateColumnNames.ToArray(),
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
            // *** Binary format, version 1 ***
            // string: output column, input column; int32 + strings: covariate columns
            // bool + string: lower-bound column (if present); likewise the upper-bound column
            // float: confidence level
            // ForecastModel (ForecastModel.Write), SeriesState (SeriesState.Write)
            w.Write(OutputColumnName);
            w.Write(InputColumnName);
            w.Write(CovariateColumnNames.Count);
            foreach (string c in CovariateColumnNames) w.Write(c);
            WriteOptional(w, LowerBoundColumnName);
            WriteOptional(w, UpperBoundColumnName);
            w.Write(ConfidenceLevel);
            Model.Write(w);
            State.Write(w);
            // Version 2: int32 K, then each member's TrainingDiagnostics.Write.
            if (WriteFormat.CurrentVersion >= 2)
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
            var model = ForecastModel.Read(r);
            var state = SeriesState.Read(r, model.Settings.WindowSize, model.Settings.CovariateCount);
            model.Diagnostics = version >= 2 ? ReadDiagnostics(r) : RebuildDiagnostics(model);
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

    // Version 1 kept each member's curves in the training summary; its final network gives the final spectrum.
    private static TrainingDiagnostics[] RebuildDiagnostics(ForecastModel model)
        => model.Summary.Members.Select((m, k) => TrainingDiagnostics.FromCurves(model.Members[Math.Min(k, model.Members.Length - 1)],
            model.Settings.Training, m.GradientNormBefore, m.GradientNormAfter, m.TrainingLoss.Select(v => (double)v).ToArray(),
            m.ValidationLoss.Select(v => (double)v).ToArray(), m.BestEpoch, stoppedEarly: false, restoredBestWeights: m.BestEpoch >= 0)).ToArray();

    private static void WriteOptional(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null) w.Write(s);
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}

/// <summary>
/// The last W values (and covariates) of a series and how many values came before them: what a forecast from
/// "now" needs. Held by the transformer (the end of its training series) and advanced by the engine.
/// </summary>
internal sealed class SeriesState
{
    public SeriesState(float[] window, float[] covariates, long count)
    {
        Window = window; Covariates = covariates; Count = count;
    }

    public float[] Window { get; }        // (W) newest last; only the last min(Count, W) are meaningful
    public float[] Covariates { get; }    // (W·C)
    public long Count { get; private set; } // values observed so far

    public static SeriesState FromEnd(float[] values, float[] covariates, int W, int C)
    {
        int n = values.Length, take = Math.Min(n, W);
        var window = new float[W];
        var cov = new float[W * C];
        values.AsSpan(n - take, take).CopyTo(window.AsSpan(W - take));
        if (C > 0) covariates.AsSpan((n - take) * C, take * C).CopyTo(cov.AsSpan((W - take) * C));
        return new SeriesState(window, cov, n);
    }

    public SeriesState Clone() => new((float[])Window.Clone(), (float[])Covariates.Clone(), Count);

    /// <summary>Appends one observation, dropping the oldest. No allocation.</summary>
    public void Push(float value, ReadOnlySpan<float> covariates)
    {
        int W = Window.Length, C = W == 0 ? 0 : Covariates.Length / W;
        Array.Copy(Window, 1, Window, 0, W - 1);
        Window[W - 1] = value;
        if (C > 0)
        {
            Array.Copy(Covariates, C, Covariates, 0, (W - 1) * C);
            covariates.CopyTo(Covariates.AsSpan((W - 1) * C, C));
        }
        Count++;
    }

    public void Write(BinaryWriter w)
    {
        w.Write(Count);
        foreach (float v in Window) w.Write(v);
        foreach (float v in Covariates) w.Write(v);
    }

    public static SeriesState Read(BinaryReader r, int W, int C)
    {
        long count = r.ReadInt64();
        if (count < 0) throw new InvalidDataException($"Series length {count} is out of range.");
        var window = new float[W];
        var cov = new float[W * C];
        for (int i = 0; i < W; i++) window[i] = r.ReadSingle();
        for (int i = 0; i < cov.Length; i++) cov[i] = r.ReadSingle();
        return new SeriesState(window, cov, count);
    }
}

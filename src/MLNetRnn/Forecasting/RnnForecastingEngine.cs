using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Persistence;

namespace MLNetRnn;

/// <summary>A forecast from <see cref="RnnForecastingEngine.Predict()"/>.</summary>
/// <param name="Forecast">The next values, one per step ahead.</param>
/// <param name="LowerBound">Lower bounds at <paramref name="ConfidenceLevel"/> (NaN when the model was trained
/// without validation windows).</param>
/// <param name="UpperBound">Upper bounds at <paramref name="ConfidenceLevel"/>.</param>
/// <param name="ConfidenceLevel">Coverage the bounds aim at.</param>
public sealed record RnnForecast(float[] Forecast, float[] LowerBound, float[] UpperBound, float ConfidenceLevel);

/// <summary>
/// Stateful forecasting, one observation at a time, like ML.NET's time-series prediction engine: it starts from
/// the last window of the series the model was trained on (or checkpointed with); <see cref="Predict()"/>
/// forecasts the next horizon from the current state, <see cref="Observe(float)"/> moves the state on by one
/// value, and <see cref="CheckPoint(MLContext, string, DataViewSchema)"/> saves model and state together so a restarted service continues exactly
/// where it stopped. Not thread-safe: use one engine per thread.
/// </summary>
public sealed class RnnForecastingEngine
{
    private readonly RnnForecastingTransformer _forecaster;
    private readonly ITransformer? _pipeline;   // the chain the forecaster came from, if any
    private readonly ForecastState _state;
    private readonly ForecastModel.Scratch _scratch;

    internal RnnForecastingEngine(RnnForecastingTransformer forecaster, ITransformer? pipeline)
    {
        _forecaster = forecaster;
        _pipeline = pipeline;
        _state = forecaster.State.Clone();
        _scratch = forecaster.Model.CreateScratch();
    }

    /// <summary>Values seen so far: the training series (or checkpoint) and every observation since.</summary>
    public long ObservationCount => _state.Count;

    /// <summary>Steps forecast by <see cref="Predict()"/>.</summary>
    public int Horizon => _forecaster.Horizon;

    /// <summary>Forecasts the next <see cref="Horizon"/> values at the model's confidence level.</summary>
    public RnnForecast Predict() => Predict(_forecaster.Horizon, _forecaster.ConfidenceLevel);

    /// <summary>Forecasts the next <paramref name="horizon"/> values with bounds at <paramref name="confidenceLevel"/>.</summary>
    /// <param name="horizon">1 to the model's horizon.</param>
    /// <param name="confidenceLevel">In (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public RnnForecast Predict(int horizon, float confidenceLevel)
    {
        int H = _forecaster.Horizon;
        CheckForecastArguments(horizon, confidenceLevel, H);
        var model = _forecaster.Model;
        CheckCanForecast();
        var f = new float[H];
        var lo = new float[H];
        var hi = new float[H];
        model.Forecast(_state, confidenceLevel, _scratch, f, lo, hi);
        return new RnnForecast(f[..horizon], lo[..horizon], hi[..horizon], confidenceLevel);
    }

    /// <summary>
    /// The inputs of the ONNX graph <see cref="RnnForecastingTransformer.ExportToOnnx"/> writes, for the forecast from
    /// the current state (N = 1): on them ONNX Runtime gives what <see cref="Predict()"/> gives now. They carry what the
    /// graph cannot: the window of raw values, the base's forecasts from its smoothing state over the whole history,
    /// and the position in the season. <see cref="RnnForecastingOnnxInputs.Concatenate"/> batches several engines.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine has seen too few values for a forecast.</exception>
    public RnnForecastingOnnxInputs GetOnnxInputs()
    {
        CheckCanForecast();
        return Onnx.ForecastModelOnnx.InputsFor(_forecaster.Model, _state, _scratch);
    }

    private void CheckCanForecast()
    {
        var model = _forecaster.Model;
        if (_state.Count < model.FirstOrigin)
            throw new InvalidOperationException($"The engine has seen {_state.Count} values; a forecast needs {model.FirstOrigin} (the window, and one season for seasonal naive).");
    }

    /// <summary>Confidence level of the bounds unless a call asks for another.</summary>
    internal float ConfidenceLevel => _forecaster.ConfidenceLevel;

    internal static void CheckForecastArguments(int horizon, float confidenceLevel, int modelHorizon)
    {
        if (horizon < 1 || horizon > modelHorizon)
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"horizon must be between 1 and the model's Horizon ({modelHorizon}).");
        if (!(confidenceLevel > 0f && confidenceLevel < 1f))
            throw new ArgumentOutOfRangeException(nameof(confidenceLevel), confidenceLevel, "confidenceLevel must be in (0, 1).");
    }

    /// <summary>Adds the next value of the series (a model without covariates).</summary>
    /// <exception cref="ArgumentException">The value is not finite, or the model has covariates.</exception>
    public void Observe(float value) => Observe(value, ReadOnlySpan<float>.Empty);

    /// <summary>Adds the next value of the series and its row's covariates, in the order of
    /// <see cref="RnnForecastingTransformer.CovariateColumnNames"/>.</summary>
    /// <exception cref="ArgumentException">A value is not finite, or the number of covariates is wrong.</exception>
    public void Observe(float value, ReadOnlySpan<float> covariates)
    {
        int C = _forecaster.Model.Settings.CovariateCount;
        if (covariates.Length != C)
            throw new ArgumentException($"The model has {C} covariate column(s) ({string.Join(", ", _forecaster.CovariateColumnNames)}); got {covariates.Length} value(s).", nameof(covariates));
        if (!float.IsFinite(value)) throw new ArgumentException($"The observed value of '{_forecaster.InputColumnName}' must be finite; got {value}.", nameof(value));
        foreach (float c in covariates)
            if (!float.IsFinite(c)) throw new ArgumentException($"Covariates must be finite; got {c}.", nameof(covariates));
        _state.Push(_forecaster.Model.Baseline, value, covariates);
    }

    /// <summary>
    /// Saves the model with the engine's current state to <paramref name="modelPath"/>, atomically (a failed save
    /// leaves an earlier file untouched). Loading it with <c>mlContext.Model.Load</c> and calling
    /// <see cref="RnnCatalog.CreateForecastingEngine"/> gives an engine that continues exactly from here.
    /// </summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="modelPath">The zip file to write; its directory must exist.</param>
    /// <param name="inputSchema">The schema of the data the pipeline consumes, saved with the model; optional.</param>
    public void CheckPoint(MLContext mlContext, string modelPath, DataViewSchema? inputSchema = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        mlContext.Model.SaveAtomically(CurrentModel(), inputSchema, modelPath);
    }

    /// <summary>
    /// Writes the model with the engine's current state to <paramref name="stream"/>, as <c>mlContext.Model.Save</c>
    /// does (the counterpart of SSA's <c>CheckPoint(IHostEnvironment, Stream)</c>). The stream is written from its
    /// current position and left open.
    /// </summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="stream">A writable stream; a zip archive is written to it.</param>
    /// <param name="inputSchema">The schema of the data the pipeline consumes, saved with the model; optional.</param>
    public void CheckPoint(MLContext mlContext, Stream stream, DataViewSchema? inputSchema = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream must be writable.", nameof(stream));
        mlContext.Model.Save(CurrentModel(), inputSchema, stream);
    }

    /// <summary>The model the engine came from, with the forecaster carrying the engine's current state.</summary>
    private ITransformer CurrentModel()
    {
        var current = _forecaster.WithState(_state.Clone());
        // A fitted pipeline is a TransformerChain<last stage's type>, a loaded one a TransformerChain<ITransformer>.
        return _pipeline is IEnumerable<ITransformer> stages
            ? new TransformerChain<ITransformer>(stages.Select(t => ReferenceEquals(t, _forecaster) ? current : t).ToArray())
            : current;
    }
}

/// <summary>
/// A typed forecasting engine, the counterpart of ML.NET's <c>TimeSeriesPredictionEngine&lt;TSrc, TDst&gt;</c> (what
/// <c>CreateTimeSeriesEngine</c> gives for <c>ForecastBySsa</c>): <see cref="Predict(TSrc, int?, float?)"/> observes
/// one example and forecasts from the state that includes it, <see cref="Predict(int?, float?)"/> forecasts without
/// observing, <see cref="Observe(TSrc)"/> only observes, and <see cref="CheckPoint(MLContext, string)"/> saves model
/// and state. Create it with <see cref="RnnCatalog.CreateForecastingEngine{TSrc, TDst}"/>.
/// </summary>
/// <typeparam name="TSrc">The example type. Its members feed the pipeline's input columns by name (honouring
/// <see cref="ColumnNameAttribute"/>, as a <c>PredictionEngine</c> does); after the pipeline's stages before the
/// forecaster, the forecaster's input column and covariates must be <see cref="float"/>.</typeparam>
/// <typeparam name="TDst">The forecast type: <c>float[]</c> members named like the forecast column and, if wanted, the
/// bound columns. Each forecast fills them with <c>horizon</c> values.</typeparam>
/// <remarks>
/// The engine starts where the model left off (the end of its training series, or its checkpoint) and is not
/// thread-safe: use one per thread, as with ML.NET's engines. The stages before the forecaster run on each
/// example, as in a <c>PredictionEngine</c>; the forecaster must be the last stage.
/// </remarks>
public sealed class RnnForecastingEngine<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private readonly RnnForecastingEngine _engine;
    private readonly DataViewSchema _inputSchema;
    private readonly DataViewConstructionUtils.InputRow<TSrc> _inputRow;
    private readonly DataViewRow _row;                  // the input row after the stages before the forecaster
    private readonly ValueGetter<float> _getValue;
    private readonly ValueGetter<float>[] _getCovariates;
    private readonly float[] _covariates;              // (C) the current example's covariates
    private readonly Action<TDst, float[]>? _setForecast, _setLower, _setUpper;
    private readonly string _forecastColumn;
    private bool _disposed;

    internal RnnForecastingEngine(IHostEnvironment env, RnnForecastingTransformer forecaster, ITransformer model, ITransformer[] before,
        bool ignoreMissingColumns, SchemaDefinition? inputSchemaDefinition, SchemaDefinition? outputSchemaDefinition)
    {
        _engine = new RnnForecastingEngine(forecaster, model is RnnForecastingTransformer ? null : model);
        _forecastColumn = forecaster.OutputColumnName;

        // Outputs first: they depend on nothing but the types, and a wrong TDst is the likelier mistake.
        var outputs = new[] { forecaster.OutputColumnName, forecaster.LowerBoundColumnName, forecaster.UpperBoundColumnName };
        var setters = OutputSetters(outputs, outputSchemaDefinition, ignoreMissingColumns);
        _setForecast = setters.GetValueOrDefault(forecaster.OutputColumnName);
        if (forecaster.LowerBoundColumnName is { } lower) _setLower = setters.GetValueOrDefault(lower);
        if (forecaster.UpperBoundColumnName is { } upper) _setUpper = setters.GetValueOrDefault(upper);
        if (_setForecast is null)
            throw new ArgumentException(
                $"{typeof(TDst).Name} has no member for the forecast column '{forecaster.OutputColumnName}'; add " +
                $"'public float[] {forecaster.OutputColumnName} {{ get; set; }}' (or a float[] member with [ColumnName(\"{forecaster.OutputColumnName}\")]).",
                nameof(TDst));

        _inputRow = DataViewConstructionUtils.CreateInputRow<TSrc>(env, inputSchemaDefinition);
        _inputSchema = _inputRow.Schema;
        var names = forecaster.CovariateColumnNames.Prepend(forecaster.InputColumnName).ToArray();
        DataViewSchema schema = _inputSchema;
        _row = _inputRow;
        if (before.Length > 0)
        {
            for (int i = 0; i < before.Length; i++)
                if (!before[i].IsRowToRowMapper)
                    throw new ArgumentException($"Stage {i} of the pipeline ({before[i].GetType().Name}) comes before the forecaster and is not a " +
                        "row-to-row transformer, so it cannot run on one example at a time.", nameof(model));
            var mapper = ((ITransformer)new TransformerChain<ITransformer>(before)).GetRowToRowMapper(_inputSchema);
            schema = mapper.OutputSchema;
            var needed = names.Select(n => schema.GetColumnOrNull(n) ?? throw MissingInput(n, before.Length)).ToArray();
            _row = mapper.GetRow(_inputRow, needed);
        }
        var columns = names.Select(n => schema.GetColumnOrNull(n) ?? throw MissingInput(n, 0)).ToArray();
        foreach (var c in columns)
            if (c.Type != NumberDataViewType.Single)
                throw new ArgumentException(before.Length == 0
                    ? $"Member '{c.Name}' of {typeof(TSrc).Name} feeds the forecaster's input column '{c.Name}', which must be Single (float); it is {c.Type}."
                    : $"Column '{c.Name}' reaches the forecaster as {c.Type}; the forecaster needs Single (float).", nameof(TSrc));
        _getValue = _row.GetGetter<float>(columns[0]);
        _getCovariates = columns.Skip(1).Select(c => _row.GetGetter<float>(c)).ToArray();
        _covariates = new float[_getCovariates.Length];
    }

    /// <summary>Values seen so far: the training series (or checkpoint) and every example observed since.</summary>
    public long ObservationCount => _engine.ObservationCount;

    /// <summary>The most steps a forecast can have: the model's horizon.</summary>
    public int Horizon => _engine.Horizon;

    /// <summary>Observes <paramref name="example"/>, then forecasts from the state that includes it: the next
    /// values after <paramref name="example"/>.</summary>
    /// <param name="example">The next row of the series.</param>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">A value of the example is not finite, or an argument is out of range.</exception>
    public TDst Predict(TSrc example, int? horizon = null, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(example);
        var prediction = new TDst();
        Predict(example, ref prediction, horizon, confidenceLevel);
        return prediction;
    }

    /// <summary>Forecasts from the current state without observing anything.</summary>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    public TDst Predict(int? horizon = null, float? confidenceLevel = null)
    {
        var prediction = new TDst();
        Predict(null, ref prediction, horizon, confidenceLevel);
        return prediction;
    }

    /// <summary>As ML.NET's time-series engine: with an <paramref name="example"/>, observes it and forecasts; without,
    /// only forecasts. The forecast goes into <paramref name="prediction"/> (created when null).</summary>
    /// <param name="example">The next row of the series, or null to forecast without observing.</param>
    /// <param name="prediction">The object to fill; null creates one.</param>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    public void Predict(TSrc? example, ref TDst prediction, int? horizon = null, float? confidenceLevel = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int h = horizon ?? _engine.Horizon;
        float level = confidenceLevel ?? _engine.ConfidenceLevel;
        // Check the arguments before observing, so a bad call leaves the state as it was.
        RnnForecastingEngine.CheckForecastArguments(h, level, _engine.Horizon);
        if (example is not null) Observe(example);
        var forecast = _engine.Predict(h, level);
        prediction ??= new TDst();
        _setForecast!(prediction, forecast.Forecast);
        _setLower?.Invoke(prediction, forecast.LowerBound);
        _setUpper?.Invoke(prediction, forecast.UpperBound);
    }

    /// <summary>The inputs of the exported ONNX graph for the forecast from the current state
    /// (<see cref="RnnForecastingEngine.GetOnnxInputs"/>).</summary>
    /// <exception cref="InvalidOperationException">The engine has seen too few values for a forecast.</exception>
    public RnnForecastingOnnxInputs GetOnnxInputs()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _engine.GetOnnxInputs();
    }

    /// <summary>Adds <paramref name="example"/> to the series without forecasting.</summary>
    /// <exception cref="ArgumentException">A value of the example is not finite.</exception>
    public void Observe(TSrc example)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(example);
        _inputRow.ExtractValues(example);
        float value = 0;
        _getValue(ref value);
        for (int c = 0; c < _getCovariates.Length; c++) _getCovariates[c](ref _covariates[c]);
        _engine.Observe(value, _covariates);
    }

    /// <summary>Saves the model with the engine's current state to <paramref name="modelPath"/>, atomically, with the
    /// schema of <typeparamref name="TSrc"/> as the input schema.</summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="modelPath">The zip file to write; its directory must exist.</param>
    public void CheckPoint(MLContext mlContext, string modelPath) => _engine.CheckPoint(mlContext, modelPath, _inputSchema);

    /// <summary>Writes the model with the engine's current state to <paramref name="stream"/>, with the schema of
    /// <typeparamref name="TSrc"/> as the input schema.</summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="stream">A writable stream; a zip archive is written to it.</param>
    public void CheckPoint(MLContext mlContext, Stream stream) => _engine.CheckPoint(mlContext, stream, _inputSchema);

    /// <summary>Releases the rows the engine reads examples through.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!ReferenceEquals(_row, _inputRow)) _row.Dispose();
        _inputRow.Dispose();
    }

    private ArgumentException MissingInput(string column, int stagesBefore) => new(stagesBefore == 0
        ? $"{typeof(TSrc).Name} has no member for the forecaster's input column '{column}' (members: " +
          $"{string.Join(", ", _inputSchema.Where(c => !c.IsHidden).Select(c => c.Name))}); add a float member named '{column}' or marked [ColumnName(\"{column}\")]."
        : $"The {stagesBefore} stage(s) before the forecaster do not produce its input column '{column}' from {typeof(TSrc).Name}.", nameof(TSrc));

    /// <summary>One setter per TDst member that receives a forecaster column, keyed by column name.</summary>
    private static Dictionary<string, Action<TDst, float[]>> OutputSetters(string?[] outputs, SchemaDefinition? definition, bool ignoreMissingColumns)
    {
        definition ??= SchemaDefinition.Create(typeof(TDst), SchemaDefinition.Direction.Write);
        var setters = new Dictionary<string, Action<TDst, float[]>>(StringComparer.Ordinal);
        var present = outputs.OfType<string>().ToArray();
        foreach (var column in definition)
        {
            if (!present.Contains(column.ColumnName, StringComparer.Ordinal))
            {
                if (ignoreMissingColumns) continue;
                throw new ArgumentException(
                    $"Member '{column.MemberName}' of {typeof(TDst).Name} names column '{column.ColumnName}', which the forecaster does not produce " +
                    $"(its columns: {string.Join(", ", present)}). Rename it, mark it [NoColumn], or pass ignoreMissingColumns: true.", nameof(TDst));
            }
            var member = (MemberInfo?)typeof(TDst).GetField(column.MemberName) ?? typeof(TDst).GetProperty(column.MemberName)!;
            var type = member is FieldInfo f ? f.FieldType : ((PropertyInfo)member).PropertyType;
            if (type != typeof(float[]))
                throw new ArgumentException(
                    $"Member '{column.MemberName}' of {typeof(TDst).Name} receives column '{column.ColumnName}', a vector of Single; declare it float[] (it is {type.Name}).",
                    nameof(TDst));
            setters[column.ColumnName] = member is FieldInfo field
                ? (dst, values) => field.SetValue(dst, values)
                : (dst, values) => ((PropertyInfo)member).SetValue(dst, values);
        }
        return setters;
    }
}

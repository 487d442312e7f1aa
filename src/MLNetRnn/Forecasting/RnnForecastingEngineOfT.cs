using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MLNetRnn;

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
/// bound columns. Each forecast fills them with <c>horizon</c> values. With stages after the forecaster, members named
/// like any column of the last stage's output, as for a <c>PredictionEngine</c>.</typeparam>
/// <remarks>
/// <para>
/// The engine starts where the model left off (the end of its training series, or its checkpoint) and is not
/// thread-safe: use one per thread, as with ML.NET's engines. The stages before the forecaster run on each
/// example, as in a <c>PredictionEngine</c>. The stages after it (a column copy, a custom mapping of the forecast, …)
/// run on each forecast: they read a row holding the columns that reach the forecaster (the last example's; before
/// the first, those of a <typeparamref name="TSrc"/> made with its parameterless constructor) and the forecast, bound
/// and quantile vectors, each of the model's <see cref="Horizon"/>, so a forecast then has the whole horizon.
/// </para>
/// <para>
/// A model with known-future covariates (<see cref="RnnForecastingOptions.KnownFutureColumnNames"/>, the holiday
/// column) needs their values for the steps ahead with every forecast, given as the untyped engine takes them: per
/// column name, one value per step of the model's horizon
/// (<see cref="Predict(TSrc, IReadOnlyDictionary{string, float[]}, int?, float?)"/>). The example's own values of those
/// columns are its row's, observed with it.
/// </para>
/// </remarks>
public sealed class RnnForecastingEngine<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private readonly RnnForecastingEngine _engine;
    private readonly ExampleBinding<TSrc, TDst> _binding;
    private string _lastId = "";
    private bool _disposed;

    internal RnnForecastingEngine(IHostEnvironment env, RnnForecastingTransformer forecaster, ITransformer model, ITransformer[] before,
        ITransformer[] after, bool ignoreMissingColumns, SchemaDefinition? inputSchemaDefinition, SchemaDefinition? outputSchemaDefinition)
    {
        _engine = new RnnForecastingEngine(forecaster, model is RnnForecastingTransformer ? null : model);
        _binding = new ExampleBinding<TSrc, TDst>(env, forecaster, before, after, ignoreMissingColumns, inputSchemaDefinition, outputSchemaDefinition);
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
    /// <exception cref="ArgumentException">A value of the example is not finite, an argument is out of range, or the
    /// model needs known-future covariates (use the overload that takes them).</exception>
    public TDst Predict(TSrc example, int? horizon = null, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(example);
        var prediction = new TDst();
        Predict(example, null, ref prediction, horizon, confidenceLevel);
        return prediction;
    }

    /// <summary>Observes <paramref name="example"/>, then forecasts from the state that includes it, with the
    /// known-future covariates of the steps ahead.</summary>
    /// <param name="example">The next row of the series (its known-future columns are its own row's values).</param>
    /// <param name="futureCovariates">Per known-future column (and the holiday column) of the model, one value per step
    /// of the model's <see cref="Horizon"/>, the first for the step after <paramref name="example"/>, as
    /// <see cref="RnnForecastingEngine.Predict(IReadOnlyDictionary{string, float[]}, int?, float?)"/> takes them.</param>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">A value is not finite, a column is missing, unknown or of the wrong length
    /// (the message names it), or an argument is out of range; nothing is observed then.</exception>
    public TDst Predict(TSrc example, IReadOnlyDictionary<string, float[]> futureCovariates, int? horizon = null, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(futureCovariates);
        var prediction = new TDst();
        Predict(example, futureCovariates, ref prediction, horizon, confidenceLevel);
        return prediction;
    }

    /// <summary>Forecasts from the current state without observing anything.</summary>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    public TDst Predict(int? horizon = null, float? confidenceLevel = null)
    {
        var prediction = new TDst();
        Predict(null, null, ref prediction, horizon, confidenceLevel);
        return prediction;
    }

    /// <summary>Forecasts from the current state without observing anything, with the known-future covariates of the
    /// steps ahead (per column, one value per step of the model's <see cref="Horizon"/>).</summary>
    /// <param name="futureCovariates">Per known-future column (and the holiday column), one value per step of the horizon.</param>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">A column is missing, unknown, of the wrong length or not finite (named).</exception>
    public TDst Predict(IReadOnlyDictionary<string, float[]> futureCovariates, int? horizon = null, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(futureCovariates);
        var prediction = new TDst();
        Predict(null, futureCovariates, ref prediction, horizon, confidenceLevel);
        return prediction;
    }

    /// <summary>As ML.NET's time-series engine: with an <paramref name="example"/>, observes it and forecasts; without,
    /// only forecasts. The forecast goes into <paramref name="prediction"/> (created when null).</summary>
    /// <param name="example">The next row of the series, or null to forecast without observing.</param>
    /// <param name="prediction">The object to fill; null creates one.</param>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    public void Predict(TSrc? example, ref TDst prediction, int? horizon = null, float? confidenceLevel = null)
        => Predict(example, null, ref prediction, horizon, confidenceLevel);

    /// <summary>As <see cref="Predict(TSrc, ref TDst, int?, float?)"/>, with the known-future covariates of the steps
    /// ahead (null for a model without them).</summary>
    /// <param name="example">The next row of the series, or null to forecast without observing.</param>
    /// <param name="futureCovariates">Per known-future column (and the holiday column), one value per step of the
    /// model's <see cref="Horizon"/>; null for a model without known-future covariates.</param>
    /// <param name="prediction">The object to fill; null creates one.</param>
    /// <param name="horizon">Steps to forecast, 1 to <see cref="Horizon"/>; null = <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">An argument is out of range, or the known-future covariates are missing or bad
    /// (the message names the column); nothing is observed then.</exception>
    public void Predict(TSrc? example, IReadOnlyDictionary<string, float[]>? futureCovariates, ref TDst prediction, int? horizon = null, float? confidenceLevel = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int h = horizon ?? _engine.Horizon;
        float level = confidenceLevel ?? _engine.ConfidenceLevel;
        // Check the arguments before observing, so a bad call leaves the state as it was.
        RnnForecastingEngine.CheckForecastArguments(h, level, _engine.Horizon);
        if (_binding.HasStagesAfter && h != _engine.Horizon)
            throw new ArgumentOutOfRangeException(nameof(horizon), h,
                $"The stages after the forecaster read its columns as vectors of the model's horizon ({_engine.Horizon}), so a forecast has all of it; " +
                $"got horizon {h}. Leave horizon unset and take the first {h} values.");
        string id = example is not null && _binding.HasSeriesId ? _binding.PeekSeriesId(example) ?? _lastId : _lastId;
        _engine.CheckFutureCovariates(id, futureCovariates);
        if (example is not null) Observe(example);
        var forecast = _binding.HasSeriesId ? _engine.Predict(_lastId, h, futureCovariates, level)
            : futureCovariates is null ? _engine.Predict(h, level) : _engine.Predict(futureCovariates, h, level);
        prediction ??= new TDst();
        _binding.Write(prediction, forecast);
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
        var row = _binding.Read(example);
        if (row.SeriesId is null && row.Date is null)
        {
            _engine.Observe(row.Value, row.Covariates);
            return;
        }
        if (row.SeriesId is not null) _lastId = row.SeriesId;
        _engine.Observe(row.SeriesId ?? "", row.Value, row.Covariates, row.Date);
    }

    /// <summary>Saves the model with the engine's current state to <paramref name="modelPath"/>, atomically, with the
    /// schema of <typeparamref name="TSrc"/> as the input schema.</summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="modelPath">The zip file to write; its directory must exist.</param>
    public void CheckPoint(MLContext mlContext, string modelPath) => _engine.CheckPoint(mlContext, modelPath, _binding.InputSchema);

    /// <summary>Writes the model with the engine's current state to <paramref name="stream"/>, with the schema of
    /// <typeparamref name="TSrc"/> as the input schema.</summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="stream">A writable stream; a zip archive is written to it.</param>
    public void CheckPoint(MLContext mlContext, Stream stream) => _engine.CheckPoint(mlContext, stream, _binding.InputSchema);

    /// <summary>Releases the rows the engine reads examples through.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _binding.Dispose();
    }
}

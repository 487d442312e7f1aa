using Microsoft.ML;
using Microsoft.ML.Data;
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
/// value, and <see cref="CheckPoint"/> saves model and state together so a restarted service continues exactly
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
        if (horizon < 1 || horizon > H)
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"horizon must be between 1 and the model's Horizon ({H}).");
        if (!(confidenceLevel > 0f && confidenceLevel < 1f))
            throw new ArgumentOutOfRangeException(nameof(confidenceLevel), confidenceLevel, "confidenceLevel must be in (0, 1).");
        var model = _forecaster.Model;
        if (_state.Count < model.Settings.WindowSize)
            throw new InvalidOperationException($"The engine has seen {_state.Count} values; a forecast needs WindowSize = {model.Settings.WindowSize}.");
        var f = new float[H];
        var lo = new float[H];
        var hi = new float[H];
        model.Forecast(_state, confidenceLevel, _scratch, f, lo, hi);
        return new RnnForecast(f[..horizon], lo[..horizon], hi[..horizon], confidenceLevel);
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
        var current = _forecaster.WithState(_state.Clone());
        // A fitted pipeline is a TransformerChain<last stage's type>, a loaded one a TransformerChain<ITransformer>.
        ITransformer model = _pipeline is IEnumerable<ITransformer> stages
            ? new TransformerChain<ITransformer>(stages.Select(t => ReferenceEquals(t, _forecaster) ? current : t).ToArray())
            : current;
        mlContext.Model.SaveAtomically(model, inputSchema, modelPath);
    }
}

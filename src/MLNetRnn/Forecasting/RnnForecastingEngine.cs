using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Persistence;

namespace MLNetRnn;

/// <summary>
/// Stateful forecasting, one observation at a time, like ML.NET's time-series prediction engine, for one series or
/// every series of a panel: it starts from where each series the model was trained on (or checkpointed with) ended;
/// <c>Predict</c> forecasts the next horizon of a series from its current state (<see cref="PredictAll"/> every series,
/// in batches through the networks), <c>Observe</c> moves a series on by one value, and
/// <see cref="CheckPoint(MLContext, string, DataViewSchema)"/> saves the model and every series' state together, so a
/// restarted service continues exactly where it stopped. A series the model was not trained on is started cold: the
/// engine keeps what it observes of it and, at its first forecast, fits its season, base and scaling on that history
/// (the networks are shared). Not thread-safe: use one engine per thread.
/// </summary>
public sealed class RnnForecastingEngine
{
    private readonly RnnForecastingTransformer _forecaster;
    private readonly ITransformer? _pipeline;   // the chain the forecaster came from, if any
    private readonly ForecastModel _model;
    private readonly ForecastColumns _columns;
    private readonly SeriesRegistry _series;                // every series' fit and state, and those not started yet
    private readonly ForecastRunner.Scratch _scratch;       // one series at a time
    private ForecastRunner.Scratch? _batch;                  // PredictAll
    private readonly float[] _future;                       // (H·Cf) one forecast's known-future covariates (columns, then calendar)
    private readonly float[] _given;                        // (H·Cg) the known-future columns' values given for one forecast

    internal RnnForecastingEngine(RnnForecastingTransformer forecaster, ITransformer? pipeline)
        : this(forecaster, pipeline, new SeriesRegistry(forecaster.Model, forecaster.Columns, forecaster.Series, forecaster.SeriesIds.Count))
    {
    }

    /// <summary>An engine over <paramref name="series"/>: the model's series, or (RnnSeriesForecaster) one series at a time.</summary>
    internal RnnForecastingEngine(RnnForecastingTransformer forecaster, ITransformer? pipeline, SeriesRegistry series)
    {
        _forecaster = forecaster;
        _pipeline = pipeline;
        _model = forecaster.Model;
        _columns = forecaster.Columns;
        _series = series;
        _scratch = _model.CreateScratch();
        _future = new float[_model.Settings.Horizon * _model.Settings.FutureCovariateCount];
        _given = new float[_model.Settings.Horizon * _columns.Future.Length];
    }

    /// <summary>Values seen so far of the only series of a single-series model: its training series (or checkpoint)
    /// and every observation since.</summary>
    /// <exception cref="InvalidOperationException">The model holds several series (use <see cref="GetObservationCount"/>).</exception>
    public long ObservationCount => _series.State(_series.SingleIndex()).Count;

    /// <summary>Values seen so far of series <paramref name="seriesId"/> (0 for a series the engine does not know).</summary>
    public long GetObservationCount(string seriesId)
    {
        ArgumentNullException.ThrowIfNull(seriesId);
        return _series.ObservationCount(seriesId);
    }

    /// <summary>The most steps a forecast can have: the model's horizon.</summary>
    public int Horizon => _forecaster.Horizon;

    /// <summary>The series the engine can forecast: the model's, then those it started cold.</summary>
    public IReadOnlyList<string> SeriesIds => _series.Ids;

    /// <summary>
    /// The inputs of the ONNX graph <see cref="RnnForecastingTransformer.ExportToOnnx"/> writes, for the forecast from
    /// the current state (N = 1): on them ONNX Runtime gives what <see cref="Predict()"/> gives now. They carry what the
    /// graph cannot: the window of raw values, the base's forecasts from its smoothing state over the whole history,
    /// and the position in the season. <see cref="RnnForecastingOnnxInputs.Concatenate"/> batches several engines.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine has seen too few values for a forecast.</exception>
    /// <exception cref="InvalidOperationException">The model holds several series (the export is for one series).</exception>
    public RnnForecastingOnnxInputs GetOnnxInputs()
    {
        int series = _series.SingleIndex();
        CheckCanForecast(series);
        return Onnx.ForecastModelOnnx.InputsFor(_model, _series.State(series));
    }

    private void CheckCanForecast(int series)
    {
        int first = _series.Fit(series).FirstOrigin(_model.Settings);
        long seen = _series.State(series).Count;
        if (seen < first)
            throw new InvalidOperationException($"The engine has seen {Training.Counted.Of(seen, "value")} of {_series.Name(series)}; a forecast needs {first} (the window, and one season for seasonal naive).");
    }

    /// <summary>Confidence level of the bounds unless a call asks for another.</summary>
    internal float ConfidenceLevel => _forecaster.ConfidenceLevel;

    /// <summary>Forecasts the next <see cref="Horizon"/> values of a single-series model's series at the model's confidence level.</summary>
    public RnnForecast Predict() => Predict(_forecaster.Horizon, _forecaster.ConfidenceLevel);

    /// <summary>Forecasts the next <paramref name="horizon"/> values of a single-series model's series with bounds at
    /// <paramref name="confidenceLevel"/>.</summary>
    /// <param name="horizon">1 to the model's horizon.</param>
    /// <param name="confidenceLevel">In (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    /// <exception cref="InvalidOperationException">The model holds several series, or needs known-future covariates.</exception>
    public RnnForecast Predict(int horizon, float confidenceLevel) => Predict(_series.SingleIndex(), horizon, null, confidenceLevel);

    /// <summary>Forecasts a single-series model's series with its known-future covariates for the horizon.</summary>
    /// <param name="futureCovariates">Per known-future column (and the holiday column), one value per step of the
    /// model's <see cref="Horizon"/>.</param>
    /// <param name="horizon">1 to the model's horizon; null = the model's.</param>
    /// <param name="confidenceLevel">In (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">A known-future column is missing, has the wrong number of values, or a NaN.</exception>
    public RnnForecast Predict(IReadOnlyDictionary<string, float[]> futureCovariates, int? horizon = null, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(futureCovariates);
        return Predict(_series.SingleIndex(), horizon ?? Horizon, futureCovariates, confidenceLevel ?? ConfidenceLevel);
    }

    /// <summary>Forecasts the next values of series <paramref name="seriesId"/>. A series the model was not trained on
    /// is started cold from what the engine has observed of it.</summary>
    /// <param name="seriesId">The series' id.</param>
    /// <param name="horizon">1 to the model's horizon; null = the model's.</param>
    /// <param name="futureCovariates">With known-future covariates: per column, one value per step of the model's
    /// <see cref="Horizon"/> (the networks read the whole horizon's); null otherwise.</param>
    /// <param name="confidenceLevel">In (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">An argument is out of range, or the known-future covariates are missing, of
    /// the wrong length or NaN (the message names the column and the step).</exception>
    /// <exception cref="InvalidOperationException">The series is unknown, or too short to start cold.</exception>
    public RnnForecast Predict(string seriesId, int? horizon = null, IReadOnlyDictionary<string, float[]>? futureCovariates = null, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(seriesId);
        int h = horizon ?? Horizon;
        float level = confidenceLevel ?? ConfidenceLevel;
        CheckForecastArguments(h, level, Horizon);
        return Predict(_series.Resolve(seriesId), h, futureCovariates, level);
    }

    /// <summary>
    /// Forecasts every series the engine knows (and starts cold every observed new series long enough for it), the
    /// windows of many series going through the networks in one call per member.
    /// </summary>
    /// <param name="horizon">1 to the model's horizon; null = the model's.</param>
    /// <param name="futureCovariates">With known-future covariates: per series id, per column, one value per step of the
    /// model's <see cref="Horizon"/>.</param>
    /// <param name="confidenceLevel">In (0, 1); null = the model's.</param>
    /// <returns>The forecast of each series, by id.</returns>
    /// <exception cref="ArgumentException">An argument is out of range, or a series' known-future covariates are missing or bad.</exception>
    public IReadOnlyDictionary<string, RnnForecast> PredictAll(int? horizon = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, float[]>>? futureCovariates = null, float? confidenceLevel = null)
    {
        int h = horizon ?? Horizon, H = Horizon, Q = _model.Settings.QuantileCount, F = _future.Length;
        float level = confidenceLevel ?? ConfidenceLevel;
        CheckForecastArguments(h, level, H);
        _series.StartReadyColdSeries();
        var ready = Enumerable.Range(0, _series.Ids.Count).Where(i => _series.State(i).Count >= _series.Fit(i).FirstOrigin(_model.Settings)).ToArray();
        var result = new Dictionary<string, RnnForecast>(ready.Length, StringComparer.Ordinal);
        const int Batch = 1024;
        _batch ??= _model.CreateScratch(Batch);
        var fits = new SeriesFit[Batch];
        var states = new ForecastState[Batch];
        var futures = new float[Batch * F];
        var f = new float[Batch * H];
        var lo = new float[Batch * H];
        var hi = new float[Batch * H];
        var q = new float[Batch * H * Q];
        for (int from = 0; from < ready.Length; from += Batch)
        {
            int count = Math.Min(Batch, ready.Length - from);
            for (int b = 0; b < count; b++)
            {
                int i = ready[from + b];
                fits[b] = _series.Fit(i);
                states[b] = _series.State(i);
                if (F > 0)
                {
                    IReadOnlyDictionary<string, float[]>? given = null;
                    futureCovariates?.TryGetValue(_series.Ids[i], out given);
                    FillFuture(i, given, futures.AsSpan(b * F, F));
                }
            }
            _model.Forecast(fits, states, futures.AsSpan(0, count * F), count, level, _forecaster.IntervalMethod, _batch, f, lo, hi, Q > 0 ? q : Span<float>.Empty);
            for (int b = 0; b < count; b++)
                result[_series.Ids[ready[from + b]]] = Result(f.AsSpan(b * H, H), lo.AsSpan(b * H, H), hi.AsSpan(b * H, H), Q > 0 ? q.AsSpan(b * H * Q, H * Q) : [], h, level);
        }
        return result;
    }

    private RnnForecast Predict(int series, int horizon, IReadOnlyDictionary<string, float[]>? futureCovariates, float confidenceLevel)
    {
        int H = Horizon, Q = _model.Settings.QuantileCount;
        CheckForecastArguments(horizon, confidenceLevel, H);
        CheckCanForecast(series);
        FillFuture(series, futureCovariates, _future);
        var f = new float[H];
        var lo = new float[H];
        var hi = new float[H];
        var q = new float[H * Q];
        _model.Forecast(_series.Fit(series), _series.State(series), _future, confidenceLevel, _forecaster.IntervalMethod, _scratch, f, lo, hi, q);
        return Result(f, lo, hi, q, horizon, confidenceLevel);
    }

    private RnnForecast Result(ReadOnlySpan<float> f, ReadOnlySpan<float> lo, ReadOnlySpan<float> hi, ReadOnlySpan<float> q, int horizon, float level)
    {
        int Q = _model.Settings.QuantileCount;
        return new RnnForecast(f[..horizon].ToArray(), lo[..horizon].ToArray(), hi[..horizon].ToArray(), level)
        {
            Quantiles = Q > 0 ? q[..(horizon * Q)].ToArray() : [], QuantileLevels = _model.Settings.Quantiles,
        };
    }

    /// <summary>Checks and lays out a forecast's known-future covariates: (H, Cf) step-major, the model's known-future
    /// columns in their order, then the calendar features of the horizon's dates.</summary>
    private void FillFuture(int seriesIndex, IReadOnlyDictionary<string, float[]>? given, Span<float> destination)
    {
        CheckFutureCovariates(_series.Ids[seriesIndex], given);
        int H = Horizon;
        if (_columns.Future.Length == 0)
        {
            _columns.WriteFuture([], _series.LastDate(seriesIndex), destination.Length == 0 ? 0 : H, destination);
            return;
        }
        _columns.WriteFuture(_given, _series.LastDate(seriesIndex), H, destination);
    }

    /// <summary>Checks a forecast's known-future covariates (and keeps them, (H, Cg) step-major, for
    /// <see cref="FillFuture"/>): one finite value per step of the horizon for each known-future column, none for others.
    /// The typed engine calls it before observing, so a bad call leaves the state as it was.</summary>
    /// <exception cref="ArgumentException">A column is missing, unknown, of the wrong length or not finite (names it).</exception>
    internal void CheckFutureCovariates(string seriesId, IReadOnlyDictionary<string, float[]>? given)
    {
        var names = _columns.Future;
        int H = Horizon, Cf = names.Length;
        string series = _columns.SeriesId is null ? "" : $" of series '{seriesId}'";
        if (Cf == 0)
        {
            if (given is { Count: > 0 })
                throw new ArgumentException($"The model has no known-future covariates; got values for {string.Join(", ", given.Keys.Select(k => $"'{k}'"))}.", "futureCovariates");
            return;
        }
        if (given is null)
            throw new ArgumentException($"The model needs the known-future covariates {string.Join(", ", names.Select(n => $"'{n}'"))} for the {Training.Counted.Of(H, "step")} of the forecast{series}; none were given.", "futureCovariates");
        foreach (string key in given.Keys)
            if (Array.IndexOf(names, key) < 0)
                throw new ArgumentException($"'{key}' is not a known-future column of the model (they are {string.Join(", ", names.Select(n => $"'{n}'"))}).", "futureCovariates");
        for (int c = 0; c < Cf; c++)
        {
            if (!given.TryGetValue(names[c], out var values) || values is null)
                throw new ArgumentException($"Known-future column '{names[c]}' has no values for the forecast{series}; give one per step of the model's horizon ({H}).", "futureCovariates");
            if (values.Length != H)
                throw new ArgumentException($"Known-future column '{names[c]}' has {Training.Counted.Of(values.Length, "value")} for the forecast{series}; it needs {H}, one per step of the model's horizon (the networks read the whole horizon's).", "futureCovariates");
            for (int k = 0; k < H; k++)
            {
                if (!float.IsFinite(values[k]))
                    throw new ArgumentException($"Known-future column '{names[c]}' is {values[k]} at step {k + 1} of {H} of the forecast{series}; it must be finite.", "futureCovariates");
                _given[k * Cf + c] = values[k];
            }
        }
    }

    internal static void CheckForecastArguments(int horizon, float confidenceLevel, int modelHorizon)
    {
        if (horizon < 1 || horizon > modelHorizon)
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"horizon must be between 1 and the model's Horizon ({modelHorizon}).");
        if (!(confidenceLevel > 0f && confidenceLevel < 1f))
            throw new ArgumentOutOfRangeException(nameof(confidenceLevel), confidenceLevel, "confidenceLevel must be in (0, 1).");
    }

    /// <summary>Adds the next value of a single-series model's series (a model without covariates).</summary>
    /// <exception cref="ArgumentException">The value is not finite, or the model has covariates.</exception>
    public void Observe(float value) => Observe(value, ReadOnlySpan<float>.Empty);

    /// <summary>Adds the next value of a single-series model's series and its row's covariates, in the order of
    /// <see cref="RnnForecastingTransformer.CovariateColumnNames"/>, then the known-future columns, then the holiday column.</summary>
    /// <exception cref="ArgumentException">A value is not finite, or the number of covariates is wrong.</exception>
    public void Observe(float value, ReadOnlySpan<float> covariates) => _series.Observe(_series.SingleIndex(), "", value, covariates, null);

    /// <summary>
    /// Adds the next value of series <paramref name="seriesId"/> and its row's covariates (in the order of
    /// <see cref="RnnForecastingTransformer.CovariateColumnNames"/>, then the known-future columns, then the holiday
    /// column). A series the model does not know is kept until its first forecast starts it cold.
    /// </summary>
    /// <param name="seriesId">The series' id.</param>
    /// <param name="value">The value, finite.</param>
    /// <param name="covariates">The row's covariates.</param>
    /// <param name="date">With a date column: the row's date (null: one time step after the series' last; required for
    /// the first row of a new series). A date further on is a gap: refused, or filled per the model's gap filling.</param>
    /// <exception cref="ArgumentException">A value is not finite, the number of covariates is wrong, or the date is not the next step.</exception>
    public void Observe(string seriesId, float value, ReadOnlySpan<float> covariates = default, DateTime? date = null)
    {
        ArgumentNullException.ThrowIfNull(seriesId);
        if (_series.TryGetIndex(seriesId, out int i)) _series.Observe(i, seriesId, value, covariates, date);
        else _series.ObserveCold(seriesId, value, covariates, date);
    }

    /// <summary>
    /// Saves the model with every series' current state to <paramref name="modelPath"/>, atomically (a failed save
    /// leaves an earlier file untouched). Series started cold are saved as series of the model; new series observed but
    /// too short to start are saved with what was observed of them, and start once enough more is observed. Loading it
    /// with <c>mlContext.Model.Load</c> and calling
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
    /// Writes the model with every series' current state to <paramref name="stream"/>, as <c>mlContext.Model.Save</c>
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

    /// <summary>The model the engine came from, with the forecaster carrying the engine's series and their states.</summary>
    private ITransformer CurrentModel()
    {
        var (model, series) = _series.Snapshot();
        var current = _forecaster.WithSeries(model, series);
        // A fitted pipeline is a TransformerChain<last stage's type>, a loaded one a TransformerChain<ITransformer>.
        return _pipeline is IEnumerable<ITransformer> stages
            ? new TransformerChain<ITransformer>(stages.Select(t => ReferenceEquals(t, _forecaster) ? current : t).ToArray())
            : current;
    }
}

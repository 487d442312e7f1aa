using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Persistence;

namespace MLNetRnn;

/// <summary>A forecast from <see cref="RnnForecastingEngine"/>.</summary>
/// <param name="Forecast">The next values, one per step ahead.</param>
/// <param name="LowerBound">Lower bounds at <paramref name="ConfidenceLevel"/> (NaN when the model was trained
/// without validation windows).</param>
/// <param name="UpperBound">Upper bounds at <paramref name="ConfidenceLevel"/>.</param>
/// <param name="ConfidenceLevel">Coverage the bounds aim at.</param>
public sealed record RnnForecast(float[] Forecast, float[] LowerBound, float[] UpperBound, float ConfidenceLevel)
{
    /// <summary>With quantile heads: the quantiles of every step, step-major (step k's levels at k·Q … k·Q + Q − 1),
    /// ascending within a step; empty otherwise.</summary>
    public float[] Quantiles { get; init; } = [];

    /// <summary>The levels of <see cref="Quantiles"/> (Q of them, the median among them); empty without quantile heads.</summary>
    public IReadOnlyList<float> QuantileLevels { get; init; } = [];
}

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
    private readonly List<SeriesFit> _fits;                 // the model's series, then the ones started cold here
    private readonly List<string> _ids;
    private readonly List<ForecastState> _states;
    private readonly List<DateTime> _dates;                 // each series' last date (with a date column)
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<string, ColdSeries> _cold = new(StringComparer.Ordinal);   // observed, not yet started
    private readonly ForecastRunner.Scratch _scratch;       // one series at a time
    private ForecastRunner.Scratch? _batch;                  // PredictAll
    private readonly float[] _row;                          // (C) one row's covariates
    private readonly float[] _future;                       // (H·Cf) one forecast's known-future covariates (columns, then calendar)
    private readonly float[] _given;                        // (H·Cg) the known-future columns' values given for one forecast
    private bool _startedCold;

    /// <summary>Series observed by the engine that the model was not trained on, not started yet.</summary>
    private sealed class ColdSeries
    {
        public List<float> Values { get; } = [];
        public List<float> Covariates { get; } = [];        // (n·C)
        public DateTime LastDate;
        public float[]? Static;                             // (Z) encoded, for a series of the training data; null: none known
    }

    internal RnnForecastingEngine(RnnForecastingTransformer forecaster, ITransformer? pipeline)
    {
        _forecaster = forecaster;
        _pipeline = pipeline;
        _model = forecaster.Model;
        _columns = forecaster.Columns;
        var set = forecaster.Series;
        _fits = [.. _model.Series];
        _ids = [.. set.Ids];
        _states = set.States.Select(x => x.Clone()).ToList();
        _dates = [.. set.LastDates];
        _index = new Dictionary<string, int>(set.Index, StringComparer.Ordinal);
        foreach (var p in set.Pending)
        {
            var cold = new ColdSeries { LastDate = p.LastDate, Static = p.Static };
            cold.Values.AddRange(p.Values);
            cold.Covariates.AddRange(p.Covariates);
            _cold[p.Id] = cold;
        }
        _scratch = _model.CreateScratch();
        _row = new float[_model.Settings.CovariateCount];
        _future = new float[_model.Settings.Horizon * _model.Settings.FutureCovariateCount];
        _given = new float[_model.Settings.Horizon * _columns.Future.Length];
    }

    /// <summary>Values seen so far of the only series of a single-series model: its training series (or checkpoint)
    /// and every observation since.</summary>
    /// <exception cref="InvalidOperationException">The model holds several series (use <see cref="GetObservationCount"/>).</exception>
    public long ObservationCount => _states[SingleIndex()].Count;

    /// <summary>Values seen so far of series <paramref name="seriesId"/> (0 for a series the engine does not know).</summary>
    public long GetObservationCount(string seriesId)
    {
        ArgumentNullException.ThrowIfNull(seriesId);
        return _index.TryGetValue(seriesId, out int i) ? _states[i].Count : _cold.TryGetValue(seriesId, out var c) ? c.Values.Count : 0;
    }

    /// <summary>The most steps a forecast can have: the model's horizon.</summary>
    public int Horizon => _forecaster.Horizon;

    /// <summary>The series the engine can forecast: the model's, then those it started cold.</summary>
    public IReadOnlyList<string> SeriesIds => _ids;

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
        int series = SingleIndex();
        CheckCanForecast(series);
        return Onnx.ForecastModelOnnx.InputsFor(_model, _states[series], _scratch);
    }

    private void CheckCanForecast(int series)
    {
        int first = _fits[series].FirstOrigin(_model.Settings);
        if (_states[series].Count < first)
            throw new InvalidOperationException($"The engine has seen {_states[series].Count} values of {Name(series)}; a forecast needs {first} (the window, and one season for seasonal naive).");
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
    public RnnForecast Predict(int horizon, float confidenceLevel) => Predict(SingleIndex(), horizon, null, confidenceLevel);

    /// <summary>Forecasts a single-series model's series with its known-future covariates for the horizon.</summary>
    /// <param name="futureCovariates">Per known-future column (and the holiday column), one value per step of the
    /// model's <see cref="Horizon"/>.</param>
    /// <param name="horizon">1 to the model's horizon; null = the model's.</param>
    /// <param name="confidenceLevel">In (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">A known-future column is missing, has the wrong number of values, or a NaN.</exception>
    public RnnForecast Predict(IReadOnlyDictionary<string, float[]> futureCovariates, int? horizon = null, float? confidenceLevel = null)
    {
        ArgumentNullException.ThrowIfNull(futureCovariates);
        return Predict(SingleIndex(), horizon ?? Horizon, futureCovariates, confidenceLevel ?? ConfidenceLevel);
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
        return Predict(Resolve(seriesId), h, futureCovariates, level);
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
        foreach (string id in _cold.Keys.ToArray())
            if (_cold[id].Values.Count >= _model.Settings.MinimumForecastLength) StartCold(id);
        var ready = Enumerable.Range(0, _ids.Count).Where(i => _states[i].Count >= _fits[i].FirstOrigin(_model.Settings)).ToArray();
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
                fits[b] = _fits[i];
                states[b] = _states[i];
                if (F > 0)
                {
                    IReadOnlyDictionary<string, float[]>? given = null;
                    futureCovariates?.TryGetValue(_ids[i], out given);
                    FillFuture(i, given, futures.AsSpan(b * F, F));
                }
            }
            _model.Forecast(fits, states, futures.AsSpan(0, count * F), count, level, _forecaster.IntervalMethod, _batch, f, lo, hi, Q > 0 ? q : Span<float>.Empty);
            for (int b = 0; b < count; b++)
                result[_ids[ready[from + b]]] = Result(f.AsSpan(b * H, H), lo.AsSpan(b * H, H), hi.AsSpan(b * H, H), Q > 0 ? q.AsSpan(b * H * Q, H * Q) : [], h, level);
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
        _model.Forecast(_fits[series], _states[series], _future, confidenceLevel, _forecaster.IntervalMethod, _scratch, f, lo, hi, q);
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
        var names = _columns.Future;
        int H = Horizon, Cf = names.Length;
        string series = _columns.SeriesId is null ? "" : $" of series '{_ids[seriesIndex]}'";
        if (Cf == 0)
        {
            if (given is { Count: > 0 })
                throw new ArgumentException($"The model has no known-future covariates; got values for {string.Join(", ", given.Keys.Select(k => $"'{k}'"))}.", "futureCovariates");
            _columns.WriteFuture([], _dates[seriesIndex], destination.Length == 0 ? 0 : H, destination);
            return;
        }
        if (given is null)
            throw new ArgumentException($"The model needs the known-future covariates {string.Join(", ", names.Select(n => $"'{n}'"))} for the {H} steps of the forecast{series}; none were given.", "futureCovariates");
        foreach (string key in given.Keys)
            if (Array.IndexOf(names, key) < 0)
                throw new ArgumentException($"'{key}' is not a known-future column of the model (they are {string.Join(", ", names.Select(n => $"'{n}'"))}).", "futureCovariates");
        for (int c = 0; c < Cf; c++)
        {
            if (!given.TryGetValue(names[c], out var values) || values is null)
                throw new ArgumentException($"Known-future column '{names[c]}' has no values for the forecast{series}; give one per step of the model's horizon ({H}).", "futureCovariates");
            if (values.Length != H)
                throw new ArgumentException($"Known-future column '{names[c]}' has {values.Length} values for the forecast{series}; it needs {H}, one per step of the model's horizon (the networks read the whole horizon's).", "futureCovariates");
            for (int k = 0; k < H; k++)
            {
                if (!float.IsFinite(values[k]))
                    throw new ArgumentException($"Known-future column '{names[c]}' is {values[k]} at step {k + 1} of {H} of the forecast{series}; it must be finite.", "futureCovariates");
                _given[k * Cf + c] = values[k];
            }
        }
        _columns.WriteFuture(_given, _dates[seriesIndex], H, destination);
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
    public void Observe(float value, ReadOnlySpan<float> covariates) => Observe(SingleIndex(), "", value, covariates, null);

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
        if (_index.TryGetValue(seriesId, out int i)) Observe(i, seriesId, value, covariates, date);
        else ObserveCold(seriesId, value, covariates, date);
    }

    private void Observe(int series, string id, float value, ReadOnlySpan<float> covariates, DateTime? date)
    {
        CheckObservation(id, value, covariates);
        var fit = _fits[series];
        var state = _states[series];
        if (_columns.Date is not null)
        {
            DateTime last = _dates[series], next = _columns.Step.Add(last, 1);
            DateTime at = date ?? next;
            long k = _columns.Step.StepsBetween(last, at);
            CheckStep(id, last, at, k);
            // A gap the model may fill: the missing steps get the last value (or the line to this one) and the last covariates.
            float previous = state.History[^1];
            for (long j = 1; j < k; j++)
            {
                float filled = _columns.Gaps == GapFilling.Linear ? previous + (value - previous) / (k - j + 1) : previous;
                previous = filled;
                _columns.WriteCovariates(state.Covariates.AsSpan(state.Covariates.Length - _columns.Observed.Length - Calendar.Count(_columns.Calendar), _columns.Observed.Length), _columns.Step.Add(last, j), _row);
                state.Push(fit.Baseline, filled, _row);
            }
            _columns.WriteCovariates(covariates, at, _row);
            _dates[series] = at;
        }
        else covariates.CopyTo(_row);
        state.Push(fit.Baseline, value, _row);
    }

    private void ObserveCold(string id, float value, ReadOnlySpan<float> covariates, DateTime? date)
    {
        CheckObservation(id, value, covariates);
        if (!_cold.TryGetValue(id, out var cold)) _cold[id] = cold = new ColdSeries();
        DateTime at = default;
        if (_columns.Date is not null)
        {
            if (cold.Values.Count == 0)
                at = date ?? throw new ArgumentException($"Series '{id}' is new to the model: give the date of its first observation.", nameof(date));
            else
            {
                at = date ?? _columns.Step.Add(cold.LastDate, 1);
                long k = _columns.Step.StepsBetween(cold.LastDate, at);
                CheckStep(id, cold.LastDate, at, k);
                int Cu = _columns.Observed.Length, C = _row.Length;
                float previous = cold.Values[^1];
                for (long j = 1; j < k; j++)
                {
                    previous = _columns.Gaps == GapFilling.Linear ? previous + (value - previous) / (k - j + 1) : previous;
                    cold.Values.Add(previous);
                    _columns.WriteCovariates(cold.Covariates.GetRange(cold.Covariates.Count - C, Cu).ToArray(), _columns.Step.Add(cold.LastDate, j), _row);
                    cold.Covariates.AddRange(_row);
                }
            }
            cold.LastDate = at;
        }
        _columns.WriteCovariates(covariates, at, _row);
        cold.Values.Add(value);
        cold.Covariates.AddRange(_row);
    }

    private void CheckObservation(string id, float value, ReadOnlySpan<float> covariates)
    {
        var names = _columns.Observed;
        if (covariates.Length != names.Length)
            throw new ArgumentException($"The model has {names.Length} covariate column(s) ({string.Join(", ", names)}); got {covariates.Length} value(s).", nameof(covariates));
        string series = _columns.SeriesId is null ? "" : $" of series '{id}'";
        if (!float.IsFinite(value)) throw new ArgumentException($"The observed value of '{_columns.Input}'{series} must be finite; got {value}.", nameof(value));
        for (int c = 0; c < covariates.Length; c++)
            if (!float.IsFinite(covariates[c])) throw new ArgumentException($"Covariates must be finite; '{names[c]}'{series} is {covariates[c]}.", nameof(covariates));
    }

    private void CheckStep(string id, DateTime last, DateTime at, long k)
    {
        if (k == 1) return;
        if (k < 1)
            throw new ArgumentException($"Series '{id}': the date {at:yyyy-MM-dd HH:mm:ss} is not a whole number of time steps ({_columns.Step}) after its last, {last:yyyy-MM-dd HH:mm:ss}.", "date");
        if (_columns.Gaps == GapFilling.None)
            throw new ArgumentException($"Series '{id}' has a gap: {at:yyyy-MM-dd HH:mm:ss} follows {last:yyyy-MM-dd HH:mm:ss}, {k - 1} time step(s) of {_columns.Step} missing. Observe them, or fit with GapFilling.", "date");
    }

    /// <summary>The index of a series the engine can forecast, starting it cold when it has observed enough of it.</summary>
    private int Resolve(string seriesId)
    {
        if (_index.TryGetValue(seriesId, out int i)) return i;
        int minimum = _model.Settings.MinimumForecastLength;
        if (_cold.TryGetValue(seriesId, out var cold) && cold.Values.Count < minimum)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Series '{seriesId}' has {cold.Values.Count} values; a forecast reads at least {minimum} (the window). Observe {minimum - cold.Values.Count} more and it starts then, its season, base and scale fitted on its own history."));
        if (cold is null)
            throw new InvalidOperationException(_columns.SeriesId is null
                ? $"The model holds one series without an id; got series id '{seriesId}'. Use Predict() or Predict(horizon, confidenceLevel)."
                : $"Series '{seriesId}' is unknown: the model was trained on {_forecaster.SeriesIds.Count} series and the engine has observed none under this id. Observe its history first (a cold start needs at least {minimum} values).");
        return StartCold(seriesId);
    }

    /// <summary>Fits a new series' season, base and scaling on what the engine observed of it, and starts its state.</summary>
    private int StartCold(string id)
    {
        var cold = _cold[id];
        SeriesFit fit;
        try
        {
            // A series observed only here has no static values: numbers 0, categories none (−1).
            fit = _model.FitSeries(cold.Values.ToArray(), cold.Static ?? _columns.EncodeStatic([]));
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"Series '{id}' is not one the model was trained on, and cannot be started cold from its {cold.Values.Count} observed values: {ex.Message}", ex);
        }
        var state = ForecastState.AfterSeries(_model.Settings, fit, cold.Values.ToArray(), cold.Covariates.ToArray());
        _cold.Remove(id);
        _index[id] = _ids.Count;
        _ids.Add(id);
        _fits.Add(fit);
        _states.Add(state);
        _dates.Add(cold.LastDate);
        _startedCold = true;
        return _ids.Count - 1;
    }

    private int SingleIndex() => _columns.SeriesId is null ? 0
        : throw new InvalidOperationException($"The model holds {_ids.Count} series ('{_columns.SeriesId}': {string.Join(", ", _ids.Take(3).Select(x => $"'{x}'"))}{(_ids.Count > 3 ? ", …" : "")}); name one: Predict(seriesId, …), Observe(seriesId, …).");

    private string Name(int series) => _columns.SeriesId is null ? "the series" : $"series '{_ids[series]}'";

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
        foreach (string id in _cold.Keys.ToArray())
            if (_cold[id].Values.Count >= _model.Settings.MinimumForecastLength) StartCold(id);
        var model = _startedCold ? _model.WithSeries(_fits.ToArray()) : _model;
        // The series still too short to start keep what was observed of them, so a restarted engine goes on from there.
        var pending = _cold.Select(c => new PendingSeries(c.Key, c.Value.Values.ToArray(), c.Value.Covariates.ToArray(), c.Value.LastDate,
            c.Value.Static ?? _columns.EncodeStatic([]))).ToArray();
        var current = _forecaster.WithSeries(model, new SeriesSet(_ids.ToArray(), _states.Select(x => x.Clone()).ToArray(), _dates.ToArray(), pending));
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
    private readonly Func<float>[] _getCovariates;
    private readonly Func<string?>? _getId;             // a panel's series id
    private readonly ValueGetter<DateTime>? _getDate;
    private readonly float[] _covariates;              // (Cu) the current example's covariates
    private readonly string? _idColumn;
    private string _lastId = "";
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
        var columnsOf = forecaster.Columns;
        _idColumn = columnsOf.SeriesId;
        var names = columnsOf.Observed.Prepend(forecaster.InputColumnName).Concat(new[] { columnsOf.SeriesId, columnsOf.Date }.OfType<string>()).ToArray();
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
        int Cu = columnsOf.Observed.Length;
        for (int i = 0; i <= Cu; i++)
        {
            var c = columns[i];
            bool ok = c.Type == NumberDataViewType.Single || (c.Name == columnsOf.Holiday && c.Type == BooleanDataViewType.Instance);
            if (!ok)
                throw new ArgumentException(before.Length == 0
                    ? $"Member '{c.Name}' of {typeof(TSrc).Name} feeds the forecaster's input column '{c.Name}', which must be Single (float); it is {c.Type}."
                    : $"Column '{c.Name}' reaches the forecaster as {c.Type}; the forecaster needs Single (float).", nameof(TSrc));
        }
        int next = Cu + 1;
        if (columnsOf.SeriesId is not null)
        {
            var id = columns[next++];
            if (!PanelReader.IsCategorical(id.Type))
                throw new ArgumentException($"Member '{id.Name}' of {typeof(TSrc).Name} feeds the series id column, which must be text, a key or an integer; it is {id.Type}.", nameof(TSrc));
            _getId = PanelReader.TextGetter(_row, id);
        }
        if (columnsOf.Date is not null)
        {
            var date = columns[next];
            if (date.Type is not DateTimeDataViewType)
                throw new ArgumentException($"Member '{date.Name}' of {typeof(TSrc).Name} feeds the date column, which must be DateTime; it is {date.Type}.", nameof(TSrc));
            _getDate = _row.GetGetter<DateTime>(date);
        }
        _getValue = _row.GetGetter<float>(columns[0]);
        _getCovariates = columns.Skip(1).Take(Cu).Select(c => PanelReader.FloatGetter(_row, c)).ToArray();
        _covariates = new float[Cu];
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
        var forecast = _idColumn is null ? _engine.Predict(h, level) : _engine.Predict(_lastId, h, null, level);
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
        for (int c = 0; c < _getCovariates.Length; c++) _covariates[c] = _getCovariates[c]();
        DateTime? date = null;
        if (_getDate is not null)
        {
            DateTime d = default;
            _getDate(ref d);
            date = d;
        }
        if (_getId is null && date is null)
        {
            _engine.Observe(value, _covariates);
            return;
        }
        string id = "";
        if (_getId is not null)
        {
            id = _getId() ?? throw new ArgumentException($"The example's series id ('{_idColumn}') is missing.", nameof(example));
            _lastId = id;
        }
        _engine.Observe(id, value, _covariates, date);
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

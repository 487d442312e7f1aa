using System.Globalization;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>
/// The series a <see cref="RnnForecastingEngine"/> forecasts and their states: the model's series (or its checkpoint's),
/// those it started cold, and those observed but too short to start yet. It takes observations in (filling a gap the
/// model may fill), resolves an id to a series, starting a new one cold from its own history once it has a window, and
/// gives back the whole set for a checkpoint. The engine forecasts from it; nothing here forecasts.
/// </summary>
internal sealed partial class SeriesRegistry
{
    private readonly ForecastModel _model;
    private readonly ForecastColumns _columns;
    private readonly int _trainedSeries;                    // the series the forecaster was trained on, for messages
    private readonly List<SeriesFit> _fits;                 // the model's series, then the ones started cold here
    private readonly List<string> _ids;
    private readonly List<ForecastState> _states;
    private readonly List<DateTime> _dates;                 // each series' last date (with a date column)
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<string, ColdSeries> _cold = new(StringComparer.Ordinal);   // observed, not yet started
    private readonly float[] _row;                          // (C) one row's covariates
    private bool _startedCold;

    /// <summary>Series observed by the engine that the model was not trained on, not started yet.</summary>
    internal sealed class ColdSeries
    {
        public List<float> Values { get; } = [];
        public List<float> Covariates { get; } = [];        // (n·C)
        public DateTime LastDate;
        public float[]? Static;                             // (Z) encoded, for a series of the training data; null: none known
    }

    /// <summary>Starts from <paramref name="set"/>, copying its states, so the forecaster's own stay as they are.</summary>
    public SeriesRegistry(ForecastModel model, ForecastColumns columns, SeriesSet set, int trainedSeries)
    {
        _model = model;
        _columns = columns;
        _trainedSeries = trainedSeries;
        _fits = [.. model.Series];
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
        _row = new float[model.Settings.CovariateCount];
    }

    /// <summary>The series that can be forecast: the model's, then those started cold.</summary>
    public IReadOnlyList<string> Ids => _ids;

    /// <summary>Series i's season, base and scaling.</summary>
    public SeriesFit Fit(int series) => _fits[series];

    /// <summary>Series i's state: what a forecast reads.</summary>
    public ForecastState State(int series) => _states[series];

    /// <summary>Series i's last date (with a date column).</summary>
    public DateTime LastDate(int series) => _dates[series];

    /// <summary>The index of a series that can be forecast, without starting any.</summary>
    public bool TryGetIndex(string seriesId, out int series) => _index.TryGetValue(seriesId, out series);

    /// <summary>Values seen so far of <paramref name="seriesId"/>: 0 for a series never observed.</summary>
    public long ObservationCount(string seriesId)
        => _index.TryGetValue(seriesId, out int i) ? _states[i].Count : _cold.TryGetValue(seriesId, out var c) ? c.Values.Count : 0;

    /// <summary>Adds the next value (and row) of a series the engine forecasts, filling a gap the model may fill.</summary>
    public void Observe(int series, string id, float value, ReadOnlySpan<float> covariates, DateTime? date)
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

    /// <summary>Adds the next value (and row) of a series not started yet; a new id starts a new cold series.</summary>
    public void ObserveCold(string id, float value, ReadOnlySpan<float> covariates, DateTime? date)
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
            throw new ArgumentException($"The model has {Training.Counted.Of(names.Length, "covariate column")} ({string.Join(", ", names)}); got {Training.Counted.Of(covariates.Length, "value")}.", nameof(covariates));
        string series = _columns.SeriesId is null ? "" : $" of series '{id}'";
        if (!float.IsFinite(value)) throw new ArgumentException($"The observed value of '{_columns.Input}'{series} must be finite; got {value}.", nameof(value));
        for (int c = 0; c < covariates.Length; c++)
            if (!float.IsFinite(covariates[c])) throw new ArgumentException($"Covariates must be finite; '{names[c]}'{series} is {covariates[c]}.", nameof(covariates));
    }

    // A single-series model's one series has no id: its messages say "The series".
    private string Who(string id) => _columns.SeriesId is null ? "The series" : $"Series '{id}'";

    private void CheckStep(string id, DateTime last, DateTime at, long k)
    {
        if (k == 1) return;
        if (k < 1)
            throw new ArgumentException($"{Who(id)}: the date {at:yyyy-MM-dd HH:mm:ss} is not a whole number of time steps ({_columns.Step}) after its last, {last:yyyy-MM-dd HH:mm:ss}.", "date");
        if (_columns.Gaps == GapFilling.None)
            throw new ArgumentException($"{Who(id)} has a gap: {at:yyyy-MM-dd HH:mm:ss} follows {last:yyyy-MM-dd HH:mm:ss}, {Training.Counted.Of(k - 1, "time step")} of {_columns.Step} missing. Observe them, or fit with GapFilling.", "date");
    }

    /// <summary>The index of a series the engine can forecast, starting it cold when it has observed enough of it.</summary>
    public int Resolve(string seriesId)
    {
        if (_index.TryGetValue(seriesId, out int i)) return i;
        int minimum = _model.Settings.MinimumForecastLength;
        if (_cold.TryGetValue(seriesId, out var cold) && cold.Values.Count < minimum)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Series '{seriesId}' has {Training.Counted.Of(cold.Values.Count, "value")}; a forecast reads at least {minimum} (the window). Observe {minimum - cold.Values.Count} more and it starts then, its season, base and scale fitted on its own history."));
        if (cold is null)
            throw new InvalidOperationException(_columns.SeriesId is null
                ? $"The model holds one series without an id; got series id '{seriesId}'. Use Predict() or Predict(horizon, confidenceLevel)."
                : $"Series '{seriesId}' is unknown: the model was trained on {_trainedSeries} series and the engine has observed none under this id. Observe its history first (a cold start needs at least {minimum} values).");
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

    /// <summary>0 for a single-series model; a panel must name its series.</summary>
    public int SingleIndex() => _columns.SeriesId is null ? 0
        : throw new InvalidOperationException($"The model holds {_ids.Count} series ('{_columns.SeriesId}': {string.Join(", ", _ids.Take(3).Select(x => $"'{x}'"))}{(_ids.Count > 3 ? ", …" : "")}); name one: Predict(seriesId, …), Observe(seriesId, …).");

    /// <summary>How messages name a series.</summary>
    public string Name(int series) => _columns.SeriesId is null ? "the series" : $"series '{_ids[series]}'";

    /// <summary>Starts every series observed long enough for a forecast.</summary>
    public void StartReadyColdSeries()
    {
        foreach (string id in _cold.Keys.ToArray())
            if (_cold[id].Values.Count >= _model.Settings.MinimumForecastLength) StartCold(id);
    }

    /// <summary>What a checkpoint saves: the model with the series started cold, and every series' state (copied);
    /// the series still too short to start keep what was observed of them, so a restarted engine goes on from there.</summary>
    public (ForecastModel Model, SeriesSet Series) Snapshot()
    {
        StartReadyColdSeries();
        var model = _startedCold ? _model.WithSeries(_fits.ToArray()) : _model;
        var pending = _cold.Select(c => new PendingSeries(c.Key, c.Value.Values.ToArray(), c.Value.Covariates.ToArray(), c.Value.LastDate,
            c.Value.Static ?? _columns.EncodeStatic([]))).ToArray();
        return (model, new SeriesSet(_ids.ToArray(), _states.Select(x => x.Clone()).ToArray(), _dates.ToArray(), pending));
    }
}

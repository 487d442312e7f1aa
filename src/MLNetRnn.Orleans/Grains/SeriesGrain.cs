using Microsoft.Extensions.Options;
using MLNetRnn.Orleans.Hosting;
using MLNetRnn.Orleans.Models;

namespace MLNetRnn.Orleans;

/// <summary>The persisted state of a series grain: the series' state bytes under one model version, and its latest
/// observations, which a swap to another version replays.</summary>
[GenerateSerializer]
public sealed class SeriesGrainState
{
    /// <summary>The model the state is of.</summary>
    [Id(0)] public string ModelName { get; set; } = "";

    /// <summary>Its version.</summary>
    [Id(1)] public string Version { get; set; } = "";

    /// <summary><see cref="RnnSeriesState.ToBytes"/>.</summary>
    [Id(2)] public byte[] Series { get; set; } = [];

    /// <summary>The latest observations, oldest first, each with the count of values before it.</summary>
    [Id(3)] public LoggedObservation[] Recent { get; set; } = [];
}

/// <summary>An observation and where it fell: <paramref name="At"/> values of the series came before it.</summary>
[GenerateSerializer, Immutable]
public sealed record LoggedObservation([property: Id(0)] long At, [property: Id(1)] Observation Observation);

internal sealed class SeriesGrain(
    [PersistentState("series", ForecastingStorage.Name)] IPersistentState<SeriesGrainState> state,
    LoadedModels models, DeploymentDirectory directory, IOptions<ForecastingServiceOptions> options) : Grain, ISeriesGrain
{
    private string _deployment = "", _id = "";
    private RnnSeriesForecaster _forecaster = null!;
    private ShardModel _bound = null!;          // the model the live state is of
    private RnnSeriesState? _series;            // null until the first call binds it
    private ShardModel? _behind;                // the shard's model, when the series could not move to it
    private int _shard;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_deployment, _id) = SeriesKey.Parse(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public async Task<ObservationReceipt> Observe(Observation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        await Bind();
        long before = _series!.ObservationCount;
        try { Apply(observation); }
        catch { Restore(); throw; }
        await Persist([new LoggedObservation(before, observation)]);
        return new ObservationReceipt(_id, _series.ObservationCount);
    }

    public async Task<ObservationReceipt> ObserveMany(Observation[] observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        await Bind();
        var logged = new LoggedObservation[observations.Length];
        int i = 0;
        try
        {
            for (; i < observations.Length; i++)
            {
                logged[i] = new LoggedObservation(_series!.ObservationCount, observations[i] ?? throw new ArgumentNullException(nameof(observations)));
                Apply(observations[i]);
            }
        }
        catch (Exception ex)
        {
            Restore();
            if (ex is ArgumentException) throw new ArgumentException($"Observation {i + 1} of {observations.Length} of series '{_id}': {ex.Message} None of the {observations.Length} was kept.", nameof(observations), ex);
            throw;
        }
        await Persist(logged);
        return new ObservationReceipt(_id, _series!.ObservationCount);
    }

    public async Task<SeriesForecast> Predict(ForecastRequest? request = null)
    {
        await Bind();
        try { return Forecast(request); }
        catch
        {
            // A first forecast that failed after starting the series cold leaves it as it was (not started).
            Restore();
            if (!state.RecordExists && !_forecaster.Knows(_id)) DeactivateOnIdle();   // nothing here: do not keep an empty activation
            throw;
        }
    }

    public async Task<SeriesForecast> ObserveAndPredict(Observation observation, ForecastRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(observation);
        await Bind();
        long before = _series!.ObservationCount;
        SeriesForecast forecast;
        try
        {
            Apply(observation);
            forecast = Forecast(request);
        }
        catch { Restore(); throw; }
        await Persist([new LoggedObservation(before, observation)]);
        return forecast;
    }

    public async Task<SeriesStatus> GetStatus()
    {
        await Bind();
        return new SeriesStatus(_id, _bound.ToString(), _series!.ObservationCount, _series.IsStarted, _behind is not null, _shard, RuntimeIdentity);
    }

    private void Apply(Observation o) => _forecaster.Observe(_series!, o.Value, o.Covariates ?? [], o.Date);

    private SeriesForecast Forecast(ForecastRequest? r)
    {
        var f = _forecaster.Predict(_series!, r?.Horizon, r?.FutureCovariates, r?.ConfidenceLevel);
        return new SeriesForecast(_id, _bound.ToString(), _series!.ObservationCount, f.Forecast, f.LowerBound, f.UpperBound, f.ConfidenceLevel,
            f.Quantiles, [.. f.QuantileLevels]);
    }

    /// <summary>Brings the live state up to the deployment's current model for the series' shard: loads it on the first
    /// call (from the store, or the model's own start), and moves it to a new version when the shard was swapped.</summary>
    private async Task Bind()
    {
        var map = await directory.GetAsync(_deployment);
        _shard = map.ShardOf(_id);
        var target = map.Shards[_shard];
        if (_series is null)
        {
            if (state.RecordExists && state.State.Series.Length > 0)
            {
                _bound = new ShardModel(state.State.ModelName, state.State.Version);
                _forecaster = await models.GetAsync(_bound.ModelName, _bound.Version);
                _series = _forecaster.ReadState(state.State.Series);
                if (_series.SeriesId != _id) throw new InvalidOperationException($"The stored state of grain '{this.GetPrimaryKeyString()}' is of series '{_series.SeriesId}'.");
            }
            else
            {
                _bound = target;
                _forecaster = await models.GetAsync(target.ModelName, target.Version);
                _series = _forecaster.CreateState(_id);
            }
        }
        if (target != _bound && target != _behind) await MoveTo(target);
    }

    /// <summary>
    /// Moves the series to another model version: that version's state of the series (where its training data, or
    /// checkpoint, ended), then the observations since then from the replay log, so the series forecasts as an engine
    /// made from that version and fed the same observations. When the log does not reach back far enough, the series
    /// stays on its version (<see cref="SeriesStatus.Behind"/>): moving would lose what it observed.
    /// </summary>
    private async Task MoveTo(ShardModel target)
    {
        var next = await models.GetAsync(target.ModelName, target.Version);
        var moved = next.CreateState(_id);
        long from = moved.ObservationCount, now = _series!.ObservationCount;
        var recent = state.State.Recent;
        if (from < now)
        {
            int start = Array.FindIndex(recent, o => o.At == from);
            if (start < 0) { _behind = target; return; }
            try
            {
                for (int i = start; i < recent.Length; i++)
                    next.Observe(moved, recent[i].Observation.Value, recent[i].Observation.Covariates ?? [], recent[i].Observation.Date);
            }
            catch (ArgumentException)
            {
                _behind = target;   // the new version reads other covariates: it cannot continue this series
                return;
            }
            if (moved.ObservationCount != now) { _behind = target; return; }
        }
        else recent = [];           // the new version has seen at least as much: the log is of its past
        var (previous, previousForecaster, previousSeries) = (_bound, _forecaster, _series);
        (_bound, _forecaster, _series, _behind) = (target, next, moved, null);
        if (!state.RecordExists) return;
        state.State.Recent = recent;
        try { await Persist([]); }
        catch
        {
            (_bound, _forecaster, _series) = (previous, previousForecaster, previousSeries);
            throw;
        }
    }

    /// <summary>Writes the live state with <paramref name="logged"/> added to the replay log, before the call returns.
    /// A failed write puts the live state back to the stored one and rethrows: nothing unwritten is acknowledged.</summary>
    private async Task Persist(LoggedObservation[] logged)
    {
        var s = state.State;
        var (model, version, bytes, recent) = (s.ModelName, s.Version, s.Series, s.Recent);
        int keep = options.Value.ReplayLength;
        s.ModelName = _bound.ModelName;
        s.Version = _bound.Version;
        s.Series = _series!.ToBytes();
        s.Recent = keep == 0 ? [] : recent.Length + logged.Length <= keep ? [.. recent, .. logged] : [.. recent.Concat(logged).TakeLast(keep)];
        try { await state.WriteStateAsync(); }
        catch
        {
            (s.ModelName, s.Version, s.Series, s.Recent) = (model, version, bytes, recent);
            Restore();
            throw;
        }
    }

    /// <summary>The live state back to what the store holds (or the model's start, before any write).</summary>
    private void Restore()
    {
        if (state.RecordExists && state.State.Series.Length > 0 && state.State.ModelName == _bound.ModelName && state.State.Version == _bound.Version)
            _series = _forecaster.ReadState(state.State.Series);
        else if (state.RecordExists && state.State.Series.Length > 0)
            _series = null;   // stored under another version: the next call binds it again
        else
            _series = _forecaster.CreateState(_id);
    }
}

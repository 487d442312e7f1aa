using MLNetRnn.Orleans.Models;

namespace MLNetRnn.Orleans;

/// <summary>
/// One series' live state and its stored copy, as a series grain or a group grain holds it: binding to the
/// deployment's model for the series' shard (and moving to a new version by replaying its log), applying observations,
/// forecasting, and putting the live state back to the stored one when something failed. It does no storage I/O: its
/// owner writes the stored copy (<see cref="Stored"/>, changed by <see cref="Stage"/>) and calls <see cref="Unstage"/>
/// and <see cref="Restore"/> when that write failed, so nothing unwritten is ever acknowledged.
/// </summary>
internal sealed class SeriesSlot(string id, SeriesGrainState stored, int replayLength)
{
    private ShardModel _bound = null!;          // the model the live state is of
    private RnnSeriesForecaster _forecaster = null!;
    private RnnSeriesState? _series;            // null until the first call binds it
    private ShardModel? _behind;                // the shard's model, when the series could not move to it
    private (string Model, string Version, byte[] Series, LoggedObservation[] Recent)? _staged;   // the stored copy before Stage

    public string Id => id;

    /// <summary>What the store holds (or will, once the owner's write returns) of the series.</summary>
    public SeriesGrainState Stored => stored;

    /// <summary>Whether anything of the series was ever written.</summary>
    public bool HasStored => stored.Series.Length > 0;

    public int Shard { get; private set; }

    public long ObservationCount => _series!.ObservationCount;

    /// <summary>Brings the live state up to the deployment's current model for the series' shard: loads it on the first
    /// call (from the stored copy, or the model's own start), and moves it to a new version when the shard was swapped.
    /// Returns whether it moved a stored series (the owner writes it then).</summary>
    public async Task<bool> Bind(DeploymentMap map, LoadedModels models, string grainKey)
    {
        Shard = map.ShardOf(id);
        var target = map.Shards[Shard];
        if (_series is null)
        {
            if (HasStored)
            {
                _bound = new ShardModel(stored.ModelName, stored.Version);
                _forecaster = await models.GetAsync(_bound.ModelName, _bound.Version);
                _series = _forecaster.ReadState(stored.Series);
                if (_series.SeriesId != id) throw new InvalidOperationException($"The stored state of grain '{grainKey}' is of series '{_series.SeriesId}'.");
            }
            else
            {
                _bound = target;
                _forecaster = await models.GetAsync(target.ModelName, target.Version);
                _series = _forecaster.CreateState(id);
            }
        }
        return target != _bound && target != _behind && await MoveTo(target, models);
    }

    /// <summary>
    /// Moves the series to another model version: that version's state of the series (where its training data, or
    /// checkpoint, ended), then the observations since then from the replay log, so the series forecasts as an engine
    /// made from that version and fed the same observations. When the log does not reach back far enough, the series
    /// stays on its version (<see cref="SeriesStatus.Behind"/>): moving would lose what it observed. Returns whether
    /// the stored copy was staged for a write.
    /// </summary>
    private async Task<bool> MoveTo(ShardModel target, LoadedModels models)
    {
        var next = await models.GetAsync(target.ModelName, target.Version);
        var moved = next.CreateState(id);
        long from = moved.ObservationCount, now = _series!.ObservationCount;
        var recent = stored.Recent;
        if (from < now)
        {
            int start = Array.FindIndex(recent, o => o.At == from);
            if (start < 0) { _behind = target; return false; }
            try
            {
                for (int i = start; i < recent.Length; i++)
                    next.Observe(moved, recent[i].Observation.Value, recent[i].Observation.Covariates ?? [], recent[i].Observation.Date);
            }
            catch (ArgumentException)
            {
                _behind = target;   // the new version reads other covariates: it cannot continue this series
                return false;
            }
            if (moved.ObservationCount != now) { _behind = target; return false; }
        }
        else recent = [];           // the new version has seen at least as much: the log is of its past
        bool write = HasStored;
        if (write) StageCopy();
        (_bound, _forecaster, _series, _behind) = (target, next, moved, null);
        if (write)
        {
            stored.Recent = recent;
            WriteLive([]);
        }
        return write;
    }

    /// <summary>Applies the next observation to the live state; on an exception the live state is as it was.</summary>
    public LoggedObservation Apply(Observation o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var logged = new LoggedObservation(_series!.ObservationCount, o);
        try { _forecaster.Observe(_series, o.Value, o.Covariates ?? [], o.Date); }
        catch { Restore(); throw; }
        return logged;
    }

    public SeriesForecast Forecast(ForecastRequest? r)
    {
        var f = _forecaster.Predict(_series!, r?.Horizon, r?.FutureCovariates, r?.ConfidenceLevel);
        return new SeriesForecast(id, _bound.ToString(), _series!.ObservationCount, f.Forecast, f.LowerBound, f.UpperBound, f.ConfidenceLevel,
            f.Quantiles, [.. f.QuantileLevels]);
    }

    /// <summary>Whether a first forecast that failed left nothing of the series (no stored copy, a series the model does
    /// not know): its owner need not keep it.</summary>
    public bool IsEmpty => !HasStored && !_forecaster.Knows(id);

    public SeriesStatus Status(string silo) => new(id, _bound.ToString(), _series!.ObservationCount, _series.IsStarted, _behind is not null, Shard, silo);

    /// <summary>Copies the live state, with <paramref name="logged"/> added to the replay log, into the stored copy, keeping
    /// what was there for <see cref="Unstage"/>.</summary>
    public void Stage(IReadOnlyList<LoggedObservation> logged)
    {
        StageCopy();
        WriteLive(logged);
    }

    private void StageCopy() => _staged ??= (stored.ModelName, stored.Version, stored.Series, stored.Recent);

    private void WriteLive(IReadOnlyList<LoggedObservation> logged)
    {
        var recent = stored.Recent;
        stored.ModelName = _bound.ModelName;
        stored.Version = _bound.Version;
        stored.Series = _series!.ToBytes();
        stored.Recent = replayLength == 0 ? [] : recent.Length + logged.Count <= replayLength ? [.. recent, .. logged] : [.. recent.Concat(logged).TakeLast(replayLength)];
    }

    /// <summary>The owner's write succeeded: what was staged is what the store holds.</summary>
    public void Committed() => _staged = null;

    /// <summary>The owner's write failed: the stored copy and the live state back to what the store holds.</summary>
    public void Unstage()
    {
        if (_staged is { } s) (stored.ModelName, stored.Version, stored.Series, stored.Recent) = s;
        _staged = null;
        Restore();
    }

    /// <summary>The live state back to the stored copy (or the model's start, before any write).</summary>
    public void Restore()
    {
        if (HasStored && stored.ModelName == _bound.ModelName && stored.Version == _bound.Version)
            _series = _forecaster.ReadState(stored.Series);
        else if (HasStored)
            _series = null;   // stored under another version: the next call binds it again
        else
            _series = _forecaster.CreateState(id);
    }
}

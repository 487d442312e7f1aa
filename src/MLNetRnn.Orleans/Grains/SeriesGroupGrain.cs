using Microsoft.Extensions.Options;
using MLNetRnn.Orleans.Hosting;
using MLNetRnn.Orleans.Models;

namespace MLNetRnn.Orleans;

/// <summary>The persisted state of a group grain: each series' stored state (as a series grain stores its own), by id.</summary>
[GenerateSerializer]
public sealed class SeriesGroupState
{
    /// <summary>The group's series that were ever written.</summary>
    [Id(0)] public Dictionary<string, SeriesGrainState> Series { get; set; } = new(StringComparer.Ordinal);
}

// Groups are few, large and long-lived: spread evenly over the silos by number (group k on silo k mod N).
[NumberedSpreadPlacement]
internal sealed class SeriesGroupGrain(
    [PersistentState("group", ForecastingStorage.Name)] IPersistentState<SeriesGroupState> state,
    LoadedModels models, DeploymentDirectory directory, IOptions<ForecastingServiceOptions> options) : Grain, ISeriesGroupGrain
{
    private readonly IPersistentState<SeriesGroupState> _state = state;
    private string _deployment = "";
    private int _group;
    private readonly Dictionary<string, SeriesSlot> _slots = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_deployment, string group) = SeriesKey.Parse(this.GetPrimaryKeyString());
        if (!int.TryParse(group, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _group))
            throw new ArgumentException($"A group grain's key is '{{deployment}}/{{group number}}' (SeriesGroups.Key); got '{this.GetPrimaryKeyString()}'.");
        return Task.CompletedTask;
    }

    public async Task<ForecastBatch> ObserveAndPredict(SeriesObservation[] observations, ForecastRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var forecasts = new List<SeriesForecast>(observations.Length);
        // Each series' forecast request: its last item's own, else the call's.
        var requests = new Dictionary<string, ForecastRequest>(StringComparer.Ordinal);
        foreach (var item in observations)
            if (item?.Request is not null && item.SeriesId is not null) requests[item.SeriesId] = item.Request;
        var errors = await ObserveEach(observations, slot => forecasts.Add(slot.Forecast(requests.GetValueOrDefault(slot.Id, request!))));
        return new ForecastBatch([.. forecasts], errors);
    }

    public Task<SeriesError[]> Observe(SeriesObservation[] observations) => ObserveEach(observations, null);

    public async Task<ForecastBatch> Predict(string[] seriesIds, ForecastRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(seriesIds);
        var map = await Map();
        var forecasts = new List<SeriesForecast>(seriesIds.Length);
        var errors = new List<SeriesError>();
        var changed = new Changes(this);
        foreach (string id in seriesIds)
        {
            SeriesSlot? slot = null;
            try
            {
                slot = await Bind(map, id, changed);
                forecasts.Add(slot.Forecast(request));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                errors.Add(new SeriesError(id ?? "", ex.Message));
                if (slot is null) continue;
                // A first forecast that failed after starting the series cold leaves it as it was (not started).
                slot.Restore();
                if (slot.IsEmpty) _slots.Remove(slot.Id);
            }
        }
        await changed.Write();
        return new ForecastBatch([.. forecasts], [.. errors]);
    }

    public async Task<SeriesStatus> GetStatus(string seriesId)
    {
        var changed = new Changes(this);
        var slot = await Bind(await Map(), seriesId, changed);
        await changed.Write();
        return slot.Status(RuntimeIdentity);
    }

    /// <summary>Applies each series' observations (all or none per series), runs <paramref name="then"/> on each series
    /// that took them (a failure there undoes its observations too), and writes every changed series in one write.</summary>
    private async Task<SeriesError[]> ObserveEach(SeriesObservation[] observations, Action<SeriesSlot>? then)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var map = await Map();
        var errors = new List<SeriesError>();
        var changed = new Changes(this);
        // Each series' values in the order given; the series in the order of their first value.
        var bySeries = new Dictionary<string, List<Observation>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var item in observations)
        {
            if (item?.SeriesId is null || item.Observation is null)
            {
                errors.Add(new SeriesError(item?.SeriesId ?? "", "An observation of a group call needs a series id and an observation."));
                continue;
            }
            if (!bySeries.TryGetValue(item.SeriesId, out var list)) { bySeries[item.SeriesId] = list = []; order.Add(item.SeriesId); }
            list.Add(item.Observation);
        }
        foreach (string id in order)
        {
            try
            {
                var slot = await Bind(map, id, changed);
                var logged = SeriesGrain.ApplyAll(slot, [.. bySeries[id]]);
                try { then?.Invoke(slot); }
                catch { slot.Restore(); throw; }
                slot.Stage(logged);
                changed.Add(slot);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                errors.Add(new SeriesError(id, ex.Message));
            }
        }
        await changed.Write();
        return [.. errors];
    }

    private async Task<DeploymentMap> Map()
    {
        var map = await directory.GetAsync(_deployment);
        if (map.Groups == 0)
            throw new InvalidOperationException($"Deployment '{_deployment}' keeps each series in its own grain; call ISeriesGrain, or deploy under a new name with IDeploymentGrain.DeployGrouped.");
        return map;
    }

    /// <summary>The series' slot, bound to the deployment's model (a move to a new version is staged in <paramref name="changed"/>).</summary>
    private async Task<SeriesSlot> Bind(DeploymentMap map, string id, Changes changed)
    {
        ArgumentNullException.ThrowIfNull(id);
        int group = map.GroupOf(id);
        if (group != _group || map.Groups <= _group)
            throw new ArgumentException($"Series '{id}' belongs to group {group} of deployment '{_deployment}' ({map.Groups} groups), not to group {_group}: call SeriesGroups.KeyOf.");
        if (!_slots.TryGetValue(id, out var slot))
            _slots[id] = slot = new SeriesSlot(id, _state.State.Series.TryGetValue(id, out var stored) ? stored : new SeriesGrainState(), options.Value.ReplayLength);
        if (await slot.Bind(map, models, this.GetPrimaryKeyString())) changed.Add(slot);
        return slot;
    }

    /// <summary>The series a call staged, written together: on success each is committed; on failure each goes back
    /// to what the store holds (a series new to the store leaves it again) and the call fails, acknowledging nothing.</summary>
    private sealed class Changes(SeriesGroupGrain grain)
    {
        private readonly HashSet<SeriesSlot> _staged = [];
        private readonly List<string> _added = [];

        public void Add(SeriesSlot slot)
        {
            if (!_staged.Add(slot)) return;
            if (grain._state.State.Series.TryAdd(slot.Id, slot.Stored)) _added.Add(slot.Id);
        }

        public async Task Write()
        {
            if (_staged.Count == 0) return;
            try { await grain._state.WriteStateAsync(); }
            catch
            {
                foreach (string id in _added) grain._state.State.Series.Remove(id);
                foreach (var slot in _staged) slot.Unstage();
                throw;
            }
            foreach (var slot in _staged) slot.Committed();
        }
    }
}

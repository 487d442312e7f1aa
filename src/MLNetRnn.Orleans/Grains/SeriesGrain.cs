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
    private string _deployment = "";
    private SeriesSlot _slot = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_deployment, string id) = SeriesKey.Parse(this.GetPrimaryKeyString());
        _slot = new SeriesSlot(id, state.State, options.Value.ReplayLength);
        return Task.CompletedTask;
    }

    public async Task<ObservationReceipt> Observe(Observation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        await Bind();
        var logged = _slot.Apply(observation);
        await Persist([logged]);
        return new ObservationReceipt(_slot.Id, _slot.ObservationCount);
    }

    public async Task<ObservationReceipt> ObserveMany(Observation[] observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        await Bind();
        await Persist(ApplyAll(_slot, observations));
        return new ObservationReceipt(_slot.Id, _slot.ObservationCount);
    }

    /// <summary>Applies <paramref name="observations"/> in order, all or none: on a bad one the live state goes back to
    /// the stored one and the message says which it was.</summary>
    internal static LoggedObservation[] ApplyAll(SeriesSlot slot, Observation[] observations)
    {
        var logged = new LoggedObservation[observations.Length];
        int i = 0;
        try
        {
            for (; i < observations.Length; i++) logged[i] = slot.Apply(observations[i] ?? throw new ArgumentNullException(nameof(observations)));
        }
        catch (Exception ex)
        {
            slot.Restore();
            if (ex is ArgumentException) throw new ArgumentException($"Observation {i + 1} of {observations.Length} of series '{slot.Id}': {ex.Message} None of the {observations.Length} was kept.", nameof(observations), ex);
            throw;
        }
        return logged;
    }

    public async Task<SeriesForecast> Predict(ForecastRequest? request = null)
    {
        await Bind();
        try { return _slot.Forecast(request); }
        catch
        {
            // A first forecast that failed after starting the series cold leaves it as it was (not started).
            _slot.Restore();
            if (_slot.IsEmpty) DeactivateOnIdle();   // nothing here: do not keep an empty activation
            throw;
        }
    }

    public async Task<SeriesForecast> ObserveAndPredict(Observation observation, ForecastRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(observation);
        await Bind();
        var logged = _slot.Apply(observation);
        SeriesForecast forecast;
        try { forecast = _slot.Forecast(request); }
        catch { _slot.Restore(); throw; }
        await Persist([logged]);
        return forecast;
    }

    public async Task<SeriesStatus> GetStatus()
    {
        await Bind();
        return _slot.Status(RuntimeIdentity);
    }

    private async Task Bind()
    {
        var map = await directory.GetAsync(_deployment);
        // Two homes for one series would be two states that drift apart.
        if (map.Groups > 0)
            throw new InvalidOperationException($"Deployment '{_deployment}' keeps its series in {map.Groups} group grains; call ISeriesGroupGrain (SeriesGroups.Key) or IForecastGateway for series '{_slot.Id}'.");
        if (await _slot.Bind(map, models, this.GetPrimaryKeyString())) await Write();
    }

    /// <summary>Writes the live state with <paramref name="logged"/> added to the replay log, before the call returns.
    /// A failed write puts the live state back to the stored one and rethrows: nothing unwritten is acknowledged.</summary>
    private async Task Persist(LoggedObservation[] logged)
    {
        _slot.Stage(logged);
        await Write();
    }

    private async Task Write()
    {
        try { await state.WriteStateAsync(); }
        catch
        {
            _slot.Unstage();
            throw;
        }
        _slot.Committed();
    }
}

using Orleans.Concurrency;

namespace MLNetRnn.Orleans;

/// <summary>A stateless front door for calls about many series at once: it fans them out to the series grains
/// (wherever they live), or on a grouped deployment to the group grains that hold them, one call per group, and
/// gathers the answers. Any silo runs as many of it as the load needs.</summary>
public interface IForecastGateway : IGrainWithIntegerKey
{
    /// <summary>Forecasts each of <paramref name="seriesIds"/>; a series that cannot be forecast is listed with the reason.</summary>
    Task<ForecastBatch> PredictMany(string deployment, string[] seriesIds, ForecastRequest? request = null);

    /// <summary>Observes one value of each series (<paramref name="seriesIds"/>[i] gets <paramref name="observations"/>[i]);
    /// returns once all are in the store. A refused observation is listed with the reason and changes nothing.</summary>
    Task<SeriesError[]> ObserveMany(string deployment, string[] seriesIds, Observation[] observations);

    /// <summary>Observes one value of each series and forecasts it from the state that includes it; returns once all
    /// are in the store. A refused observation (or forecast) is listed with the reason and changes nothing.</summary>
    Task<ForecastBatch> ObserveAndPredictMany(string deployment, string[] seriesIds, Observation[] observations, ForecastRequest? request = null);
}

[StatelessWorker]
internal sealed class ForecastGateway(Hosting.DeploymentDirectory directory) : Grain, IForecastGateway
{
    public async Task<ForecastBatch> PredictMany(string deployment, string[] seriesIds, ForecastRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(seriesIds);
        var map = await directory.GetAsync(deployment);
        if (map.Groups > 0)
            return Merge(await Task.WhenAll(ByGroup(map, seriesIds).Select(g => GroupGrain(map, g.Key).Predict([.. g.Select(i => seriesIds[i])], request))));
        return await Gather(seriesIds, [.. seriesIds.Select(id => GrainFactory.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, id)).Predict(request))]);
    }

    public async Task<SeriesError[]> ObserveMany(string deployment, string[] seriesIds, Observation[] observations)
    {
        Check(seriesIds, observations);
        var map = await directory.GetAsync(deployment);
        if (map.Groups > 0)
            return [.. (await Task.WhenAll(ByGroup(map, seriesIds).Select(g => GroupGrain(map, g.Key).Observe([.. g.Select(i => new SeriesObservation(seriesIds[i], observations[i]))])))).SelectMany(e => e)];
        var calls = seriesIds.Select((id, i) => GrainFactory.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, id)).Observe(observations[i])).ToArray();
        try { await Task.WhenAll(calls); } catch { /* each failure is read below */ }
        return calls.Select((c, i) => c.IsCompletedSuccessfully ? null : new SeriesError(seriesIds[i], c.Exception?.InnerException?.Message ?? "cancelled"))
            .OfType<SeriesError>().ToArray();
    }

    public async Task<ForecastBatch> ObserveAndPredictMany(string deployment, string[] seriesIds, Observation[] observations, ForecastRequest? request = null)
    {
        Check(seriesIds, observations);
        var map = await directory.GetAsync(deployment);
        if (map.Groups > 0)
            return Merge(await Task.WhenAll(ByGroup(map, seriesIds).Select(g => GroupGrain(map, g.Key).ObserveAndPredict([.. g.Select(i => new SeriesObservation(seriesIds[i], observations[i]))], request))));
        return await Gather(seriesIds, [.. seriesIds.Select((id, i) => GrainFactory.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, id)).ObserveAndPredict(observations[i], request))]);
    }

    // Each series grain's forecast, or why it has none: call i is of seriesIds[i].
    private static async Task<ForecastBatch> Gather(string[] seriesIds, Task<SeriesForecast>[] calls)
    {
        try { await Task.WhenAll(calls); } catch { /* each failure is read below */ }
        var forecasts = new List<SeriesForecast>(calls.Length);
        var errors = new List<SeriesError>();
        for (int i = 0; i < calls.Length; i++)
            if (calls[i].IsCompletedSuccessfully) forecasts.Add(calls[i].Result);
            else errors.Add(new SeriesError(seriesIds[i], calls[i].Exception?.InnerException?.Message ?? "cancelled"));
        return new ForecastBatch([.. forecasts], [.. errors]);
    }

    private static void Check(string[] seriesIds, Observation[] observations)
    {
        ArgumentNullException.ThrowIfNull(seriesIds);
        ArgumentNullException.ThrowIfNull(observations);
        if (seriesIds.Length != observations.Length)
            throw new ArgumentException($"{seriesIds.Length} series ids but {observations.Length} observations; give one observation per id.", nameof(observations));
    }

    // The positions of the ids, by the group that holds them.
    private static IEnumerable<IGrouping<int, int>> ByGroup(DeploymentMap map, string[] seriesIds)
    {
        foreach (string id in seriesIds) ArgumentNullException.ThrowIfNull(id, nameof(seriesIds));
        return Enumerable.Range(0, seriesIds.Length).GroupBy(i => map.GroupOf(seriesIds[i]));
    }

    private ISeriesGroupGrain GroupGrain(DeploymentMap map, int group) => GrainFactory.GetGrain<ISeriesGroupGrain>(SeriesGroups.Key(map.Deployment, group));

    private static ForecastBatch Merge(ForecastBatch[] batches) => new([.. batches.SelectMany(b => b.Forecasts)], [.. batches.SelectMany(b => b.Errors)]);
}


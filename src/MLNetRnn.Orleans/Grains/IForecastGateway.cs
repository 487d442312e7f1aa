using Orleans.Concurrency;

namespace MLNetRnn.Orleans;

/// <summary>A stateless front door for calls about many series at once: it fans them out to the series grains
/// (wherever they live) and gathers the answers. Any silo runs as many of it as the load needs.</summary>
public interface IForecastGateway : IGrainWithIntegerKey
{
    /// <summary>Forecasts each of <paramref name="seriesIds"/>; a series that cannot be forecast is listed with the reason.</summary>
    Task<ForecastBatch> PredictMany(string deployment, string[] seriesIds, ForecastRequest? request = null);

    /// <summary>Observes one value of each series (<paramref name="seriesIds"/>[i] gets <paramref name="observations"/>[i]);
    /// returns once all are in the store. A refused observation is listed with the reason and changes nothing.</summary>
    Task<SeriesError[]> ObserveMany(string deployment, string[] seriesIds, Observation[] observations);
}

[StatelessWorker]
internal sealed class ForecastGateway : Grain, IForecastGateway
{
    public async Task<ForecastBatch> PredictMany(string deployment, string[] seriesIds, ForecastRequest? request = null)
    {
        ArgumentNullException.ThrowIfNull(seriesIds);
        var calls = seriesIds.Select(id => GrainFactory.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, id)).Predict(request)).ToArray();
        try { await Task.WhenAll(calls); } catch { /* each failure is read below */ }
        var forecasts = new List<SeriesForecast>(calls.Length);
        var errors = new List<SeriesError>();
        for (int i = 0; i < calls.Length; i++)
            if (calls[i].IsCompletedSuccessfully) forecasts.Add(calls[i].Result);
            else errors.Add(new SeriesError(seriesIds[i], calls[i].Exception?.InnerException?.Message ?? "cancelled"));
        return new ForecastBatch([.. forecasts], [.. errors]);
    }

    public async Task<SeriesError[]> ObserveMany(string deployment, string[] seriesIds, Observation[] observations)
    {
        ArgumentNullException.ThrowIfNull(seriesIds);
        ArgumentNullException.ThrowIfNull(observations);
        if (seriesIds.Length != observations.Length)
            throw new ArgumentException($"{seriesIds.Length} series ids but {observations.Length} observations; give one observation per id.", nameof(observations));
        var calls = seriesIds.Select((id, i) => GrainFactory.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, id)).Observe(observations[i])).ToArray();
        try { await Task.WhenAll(calls); } catch { /* each failure is read below */ }
        return calls.Select((c, i) => c.IsCompletedSuccessfully ? null : new SeriesError(seriesIds[i], c.Exception?.InnerException?.Message ?? "cancelled"))
            .OfType<SeriesError>().ToArray();
    }
}

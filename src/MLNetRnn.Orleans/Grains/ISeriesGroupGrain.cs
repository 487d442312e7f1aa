namespace MLNetRnn.Orleans;

/// <summary>
/// A group of a grouped deployment's series (<see cref="IDeploymentGrain.DeployGrouped"/>), keyed
/// <c>"{deployment}/{group}"</c> (<see cref="SeriesGroups.Key"/>): each series' state is what an
/// <see cref="RnnForecastingEngine"/> keeps of it, as in a series grain, but one call serves many of the group's series
/// and one write stores them all before the call returns. Forecasts equal an engine's fed the same observations, bit for
/// bit, across silo failures. A series whose input is bad is listed with the reason and changes nothing; the others go on.
/// </summary>
public interface ISeriesGroupGrain : IGrainWithStringKey
{
    /// <summary>Observes each series' next values (a series may appear several times: its values in order, all or none)
    /// and forecasts each series from the state that includes them, with its own request where its item has one
    /// (<see cref="SeriesObservation.Request"/>), else <paramref name="request"/>; returns once all are in the store.</summary>
    /// <exception cref="InvalidOperationException">The deployment keeps a grain per series.</exception>
    Task<ForecastBatch> ObserveAndPredict(SeriesObservation[] observations, ForecastRequest? request = null);

    /// <summary>Observes each series' next values; returns once all are in the store. The refused are listed.</summary>
    Task<SeriesError[]> Observe(SeriesObservation[] observations);

    /// <summary>Forecasts each of <paramref name="seriesIds"/> with <paramref name="request"/> (the first forecast of a series the model does not know starts it cold).</summary>
    Task<ForecastBatch> Predict(string[] seriesIds, ForecastRequest? request = null);

    /// <summary>Where series <paramref name="seriesId"/> stands.</summary>
    /// <exception cref="ArgumentException">The series belongs to another group.</exception>
    Task<SeriesStatus> GetStatus(string seriesId);
}

/// <summary>Series ids to the group grains of a grouped deployment.</summary>
public static class SeriesGroups
{
    /// <summary>The group, 0 to <paramref name="groupCount"/> − 1, of <paramref name="seriesId"/>: a stable hash (FNV-1a of
    /// the UTF-8 bytes, as <see cref="Sharding.ShardMap"/>, then mixed), so every silo and client agrees without asking.</summary>
    public static int GroupOf(string seriesId, int groupCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groupCount, 1);
        // FNV-1a's bits barely differ between ids that differ in their last characters (P00001, P00002, …): all twelve
        // test ids once fell in one of eight groups. MurmurHash3's finaliser spreads every input bit over the output,
        // and makes the group independent of the shard (FNV-1a modulo the shard count).
        ulong h = Sharding.ShardMap.Hash(seriesId);
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return (int)(h % (ulong)groupCount);
    }

    /// <summary>The key of group <paramref name="group"/> of <paramref name="deployment"/>.</summary>
    public static string Key(string deployment, int group)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(group);
        return SeriesKey.Of(deployment, group.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The key of the group that holds <paramref name="seriesId"/> in <paramref name="map"/>.</summary>
    /// <exception cref="InvalidOperationException">The deployment keeps a grain per series.</exception>
    public static string KeyOf(DeploymentMap map, string seriesId)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Groups == 0) throw new InvalidOperationException($"Deployment '{map.Deployment}' keeps each series in its own grain (ISeriesGrain).");
        return Key(map.Deployment, map.GroupOf(seriesId));
    }
}

namespace MLNetRnn.Orleans;

/// <summary>
/// A forecasting deployment, by name: which model (and version) serves each of its shards, kept in the store. Every
/// change is checked first: a model or version the store does not hold, or that does not load, is refused and the
/// map stays as it was.
/// </summary>
public interface IDeploymentGrain : IGrainWithStringKey
{
    /// <summary>The map; null when nothing was deployed under this name.</summary>
    Task<DeploymentMap?> GetMap();

    /// <summary>Serves every series with one model.</summary>
    /// <exception cref="Models.ModelNotFoundException">The store has no such model or version.</exception>
    Task<DeploymentMap> Deploy(string modelName, string version);

    /// <summary>Serves every series with one model, keeping the series in <paramref name="groups"/> group grains
    /// (<see cref="ISeriesGroupGrain"/>) instead of a grain each: for streams that arrive in batches, where one call and
    /// one write serve a whole group's series. The count is fixed by the first deployment (it decides which group holds
    /// a series); later calls may swap the model.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groups"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The deployment exists with another group count, or with a grain per series.</exception>
    /// <exception cref="Models.ModelNotFoundException">The store has no such model or version.</exception>
    Task<DeploymentMap> DeployGrouped(string modelName, string version, int groups);

    /// <summary>Serves each shard with its own model (sharded training writes this). Once deployed, the shard count
    /// stays: it decides which shard holds a series (deploy under a new name to reshard).</summary>
    /// <exception cref="Models.ModelNotFoundException">The store lacks one of them.</exception>
    /// <exception cref="ArgumentException">No shards, or another count than the deployment's.</exception>
    Task<DeploymentMap> DeployShards(ShardModel[] shards);

    /// <summary>Swaps shard <paramref name="shard"/> to another version of its model. Series move to it on their next
    /// call (within <see cref="Hosting.ForecastingServiceOptions.DeploymentRefreshInterval"/>), keeping what they observed.</summary>
    /// <exception cref="Models.ModelNotFoundException">The store has no such version.</exception>
    /// <exception cref="ArgumentOutOfRangeException">No such shard.</exception>
    Task<DeploymentMap> SetVersion(int shard, string version);
}

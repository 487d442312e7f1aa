namespace MLNetRnn.Orleans.Sharding;

/// <summary>
/// Trains a panel as shards across the cluster (keyed by <c>"{deployment}@{version}"</c>): starts a trainer per shard,
/// watches them (restarting one whose silo died), and when all are saved writes the shard map to the deployment
/// grain, so forecasts route to each series' shard's model. Its progress is kept in the store.
/// </summary>
public interface IShardedTrainingGrain : IGrainWithStringKey
{
    /// <summary>Starts the training (again: returns the progress of the one under way).</summary>
    /// <exception cref="ArgumentException">The request is bad: no such panel file, a shard count below 1, options that do not read.</exception>
    Task<ShardedTrainingProgress> Start(ShardedTrainingRequest request);

    /// <summary>Where it is.</summary>
    /// <exception cref="InvalidOperationException">Nothing was started under this key.</exception>
    Task<ShardedTrainingProgress> GetProgress();
}

/// <summary>Fits one shard (keyed by <c>"{deployment}@{version}/{shard}"</c>) on a silo chosen for its free CPU and memory.</summary>
public interface IShardTrainerGrain : IGrainWithStringKey
{
    /// <summary>Starts fitting shard <paramref name="shard"/> of <paramref name="request"/> in the background, unless it
    /// is already under way or done; returns its progress.</summary>
    Task<ShardProgress> Train(ShardedTrainingRequest request, int shard);

    /// <summary>Its progress (Pending when this activation never started it: its silo may have died).</summary>
    Task<ShardProgress> GetProgress();
}

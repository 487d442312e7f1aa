using MLNetRnn.Orleans.Hosting;
using MLNetRnn.Orleans.Models;

namespace MLNetRnn.Orleans;

/// <summary>The persisted state of a <see cref="DeploymentGrain"/>.</summary>
[GenerateSerializer]
public sealed class DeploymentState
{
    /// <summary>Bumped by every change.</summary>
    [Id(0)] public long Revision { get; set; }

    /// <summary>The model of each shard; empty: nothing deployed.</summary>
    [Id(1)] public ShardModel[] Shards { get; set; } = [];

    /// <summary>0: a grain per series; G: the series kept in G group grains. Fixed by the first deployment.</summary>
    [Id(2)] public int Groups { get; set; }
}

internal sealed class DeploymentGrain(
    [PersistentState("deployment", ForecastingStorage.Name)] IPersistentState<DeploymentState> state, LoadedModels models) : Grain, IDeploymentGrain
{
    public Task<DeploymentMap?> GetMap() => Task.FromResult(Map());

    public Task<DeploymentMap> Deploy(string modelName, string version) => DeployShards([new ShardModel(modelName, version)]);

    public async Task<DeploymentMap> DeployGrouped(string modelName, string version, int groups)
    {
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "A grouped deployment keeps its series in at least 1 group grain.");
        if (state.State.Shards.Length > 0 && state.State.Groups != groups)
            throw new ArgumentException(state.State.Groups == 0
                ? $"Deployment '{this.GetPrimaryKeyString()}' keeps each series in its own grain; the series' state is there. Deploy under a new name to keep them in groups."
                : $"Deployment '{this.GetPrimaryKeyString()}' keeps its series in {state.State.Groups} groups; the count decides which group holds a series. Deploy under a new name to regroup.", nameof(groups));
        var shard = new ShardModel(modelName, version);
        await CheckLoads(shard);
        state.State.Shards = [shard];
        state.State.Groups = groups;
        state.State.Revision++;
        await state.WriteStateAsync();
        return Map()!;
    }

    public async Task<DeploymentMap> DeployShards(ShardModel[] shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Length == 0) throw new ArgumentException("A deployment needs at least one shard's model.", nameof(shards));
        if (state.State.Shards.Length > 0 && shards.Length != state.State.Shards.Length)
            throw new ArgumentException($"Deployment '{this.GetPrimaryKeyString()}' has {state.State.Shards.Length} shards; a new map must keep the count (it decides which shard holds a series). Deploy under a new name to reshard.", nameof(shards));
        foreach (var shard in shards) await CheckLoads(shard);
        state.State.Shards = shards;
        state.State.Revision++;
        await state.WriteStateAsync();
        return Map()!;
    }

    public async Task<DeploymentMap> SetVersion(int shard, string version)
    {
        var shards = state.State.Shards;
        if (shards.Length == 0) throw new InvalidOperationException($"Nothing is deployed under '{this.GetPrimaryKeyString()}'; Deploy a model first.");
        if (shard < 0 || shard >= shards.Length)
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"Deployment '{this.GetPrimaryKeyString()}' has shards 0 to {shards.Length - 1}.");
        var next = shards[shard] with { Version = version };
        await CheckLoads(next);
        var copy = (ShardModel[])shards.Clone();
        copy[shard] = next;
        state.State.Shards = copy;
        state.State.Revision++;
        await state.WriteStateAsync();
        return Map()!;
    }

    /// <summary>Refuses a model that the store lacks or that does not load, before anything changes.</summary>
    private async Task CheckLoads(ShardModel shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentException.ThrowIfNullOrEmpty(shard.ModelName);
        ArgumentException.ThrowIfNullOrEmpty(shard.Version);
        await models.GetAsync(shard.ModelName, shard.Version);
    }

    private DeploymentMap? Map() => state.State.Shards.Length == 0 ? null : new DeploymentMap(this.GetPrimaryKeyString(), state.State.Revision, state.State.Shards, state.State.Groups);
}

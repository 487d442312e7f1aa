using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace MLNetRnn.Orleans.Sharding;

/// <summary>
/// Places shard k's trainer on the k-th of the cluster's silos (in address order, modulo their count), so a training's
/// shards start spread over the silos. Orleans' resource-optimised placement put all three of a training's shards on
/// one silo of the local cluster: they are placed at once, before any silo's load shows in the statistics it reads.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ShardSpreadPlacement : PlacementStrategy
{
    internal static readonly ShardSpreadPlacement Instance = new();
}

/// <summary>Marks a grain keyed <c>".../{shard}"</c> for <see cref="ShardSpreadPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardSpreadPlacementAttribute() : PlacementAttribute(ShardSpreadPlacement.Instance);

internal sealed class ShardSpreadPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target).Order().ToArray();
        string key = target.GrainIdentity.Key.ToString() ?? "";
        int slash = key.LastIndexOf('/');
        // A key without a shard number goes where its hash says: still a spread, and still the same silo each time.
        int shard = slash >= 0 && int.TryParse(key.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k)
            ? k : (int)(ShardMap.Hash(key) % int.MaxValue);
        return Task.FromResult(silos[shard % silos.Length]);
    }
}

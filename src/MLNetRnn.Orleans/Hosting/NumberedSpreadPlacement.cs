using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace MLNetRnn.Orleans.Hosting;

/// <summary>
/// Places a grain keyed <c>".../{k}"</c> (a training's shard k, a deployment's group k) on the k-th of the cluster's
/// silos (in address order, modulo their count), so a few large grains placed at once start spread evenly. Orleans'
/// resource-optimised placement put all three of a training's shards on one silo of the local cluster (they are placed
/// at once, before any silo's load shows in the statistics it reads), and could put a test's eight groups on one silo.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class NumberedSpreadPlacement : PlacementStrategy
{
    internal static readonly NumberedSpreadPlacement Instance = new();
}

/// <summary>Marks a grain keyed <c>".../{k}"</c> for <see cref="NumberedSpreadPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class NumberedSpreadPlacementAttribute() : PlacementAttribute(NumberedSpreadPlacement.Instance);

internal sealed class NumberedSpreadPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target).Order().ToArray();
        string key = target.GrainIdentity.Key.ToString() ?? "";
        int slash = key.LastIndexOf('/');
        // A key without a shard number goes where its hash says: still a spread, and still the same silo each time.
        int shard = slash >= 0 && int.TryParse(key.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k)
            ? k : (int)(Sharding.ShardMap.Hash(key) % int.MaxValue);
        return Task.FromResult(silos[shard % silos.Length]);
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace MLNetRnn.Orleans.Hosting;

/// <summary>A silo's copy of each deployment's shard map, asked of the deployment grain at most once per
/// <see cref="ForecastingServiceOptions.DeploymentRefreshInterval"/>, so a series call does not become two grain calls.</summary>
public sealed class DeploymentDirectory(IGrainFactory grains, IOptions<ForecastingServiceOptions> options)
{
    private readonly ConcurrentDictionary<string, (DeploymentMap? Map, long At)> _maps = new(StringComparer.Ordinal);
    private readonly long _ttl = (long)(options.Value.DeploymentRefreshInterval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

    /// <summary>The map of <paramref name="deployment"/>.</summary>
    /// <exception cref="InvalidOperationException">Nothing is deployed under that name.</exception>
    public async ValueTask<DeploymentMap> GetAsync(string deployment)
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_ttl > 0 && _maps.TryGetValue(deployment, out var cached) && cached.Map is not null && now - cached.At < _ttl) return cached.Map;
        var map = await grains.GetGrain<IDeploymentGrain>(deployment).GetMap();
        _maps[deployment] = (map, now);
        return map ?? throw new InvalidOperationException($"Nothing is deployed under '{deployment}': deploy a model first (IDeploymentGrain.Deploy).");
    }
}

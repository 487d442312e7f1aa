using System.Collections.Concurrent;
using Microsoft.ML;

namespace MLNetRnn.Orleans.Models;

/// <summary>
/// The models a silo forecasts with, each read from the <see cref="IModelStore"/> and loaded once per silo however
/// many series grains use it (a model's networks, calibration and per-series fits are shared; each grain holds only
/// its series' state). A version stays loaded while grains may still be on it: a swap moves series one by one.
/// </summary>
public sealed class LoadedModels
{
    private readonly IModelStore _store;
    private readonly MLContext _ml = new();
    private readonly ConcurrentDictionary<(string Name, string Version), Lazy<Task<RnnSeriesForecaster>>> _loaded = new();
    private readonly ConcurrentDictionary<(string Name, string Version), int> _loads = new();

    /// <summary>Models read from <paramref name="store"/>.</summary>
    public LoadedModels(IModelStore store) => _store = store;

    /// <summary>How many times the silo read version <paramref name="version"/> of <paramref name="name"/> from the
    /// store and loaded it: 1 once any grain used it, however many did.</summary>
    public int LoadCount(string name, string version) => _loads.TryGetValue((name, version), out int n) ? n : 0;

    /// <summary>The forecaster of version <paramref name="version"/> of <paramref name="name"/>, loading it on first use.</summary>
    /// <exception cref="ModelNotFoundException">The store has no such model or version.</exception>
    public Task<RnnSeriesForecaster> GetAsync(string name, string version)
    {
        var lazy = _loaded.GetOrAdd((name, version), key => new Lazy<Task<RnnSeriesForecaster>>(() => LoadAsync(key.Name, key.Version)));
        var task = lazy.Value;
        // A failed load (missing version, unreadable file) is not cached: the store may hold it later.
        if (task.IsFaulted) _loaded.TryRemove(new KeyValuePair<(string, string), Lazy<Task<RnnSeriesForecaster>>>((name, version), lazy));
        return task;
    }

    private async Task<RnnSeriesForecaster> LoadAsync(string name, string version)
    {
        try
        {
            byte[] bytes = await _store.ReadAsync(name, version).ConfigureAwait(false);
            _loads.AddOrUpdate((name, version), 1, (_, n) => n + 1);
            using var stream = new MemoryStream(bytes, writable: false);
            return new RnnSeriesForecaster(_ml.Model.Load(stream, out _));
        }
        catch
        {
            _loaded.TryRemove((name, version), out _);
            throw;
        }
    }
}

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
    private int _loads;

    /// <summary>Models read from <paramref name="store"/>.</summary>
    public LoadedModels(IModelStore store) => _store = store;

    /// <summary>How many times a model was read from the store and loaded in this silo (once per name and version).</summary>
    public int LoadCount => Volatile.Read(ref _loads);

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
            Interlocked.Increment(ref _loads);
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

using System.Diagnostics;
using MLNetRnn.Orleans.Models;
using MLNetRnn.Orleans.Hosting;

namespace MLNetRnn.Orleans.Sharding;

[NumberedSpreadPlacement]
internal sealed class ShardTrainerGrain(IModelStore store) : Grain, IShardTrainerGrain
{
    private volatile ShardProgress _progress = new(-1, ShardPhase.Pending, 0, "", 0, 0, "");
    private readonly Stopwatch _clock = new();
    private Task? _work;

    public Task<ShardProgress> Train(ShardedTrainingRequest request, int shard)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_work is null)
        {
            // Training outlives any call: keep the activation until it is done (and a while after, for the progress).
            DelayDeactivation(TimeSpan.FromDays(1));
            _progress = _progress with { Shard = shard, Phase = ShardPhase.Reading, Silo = RuntimeIdentity };
            _clock.Start();
            // A fit holds a core for minutes: on a thread of its own, not one of the pool's that the silo's messaging
            // and membership probes need (a silo whose pool stalls misses its probes and is declared dead).
            _work = Task.Factory.StartNew(() => Fit(request, shard), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
        return GetProgress();
    }

    public Task<ShardProgress> GetProgress()
    {
        var p = _progress;
        return Task.FromResult(p.Phase is ShardPhase.Done or ShardPhase.Failed || p.Shard < 0 ? p : p with { Seconds = _clock.Elapsed.TotalSeconds });
    }

    private async Task Fit(ShardedTrainingRequest request, int shard)
    {
        try
        {
            var rows = ShardTraining.ReadShard(request.PanelPath, request.ShardCount, shard);
            int series = rows.Select(r => r.Series).Distinct().Count();
            _progress = _progress with { Phase = ShardPhase.Training, Series = series, Message = $"{rows.Count} rows of {series} series read" };
            var model = ShardTraining.Fit(rows, request.OptionsJson, line => _progress = _progress with { Message = line });
            await store.SaveAsync(ShardTraining.ModelName(request.Deployment, shard), request.Version, ShardTraining.Save(model));
            _progress = _progress with
            {
                Phase = ShardPhase.Done, Seconds = _clock.Elapsed.TotalSeconds, PeakWorkingSetBytes = Process.GetCurrentProcess().PeakWorkingSet64,
                Message = $"saved {ShardTraining.ModelName(request.Deployment, shard)}@{request.Version}",
            };
        }
        catch (Exception ex)
        {
            _progress = _progress with { Phase = ShardPhase.Failed, Seconds = _clock.Elapsed.TotalSeconds, Message = ex.Message };
        }
    }
}

using MLNetRnn.Orleans.Hosting;

namespace MLNetRnn.Orleans.Sharding;

/// <summary>The persisted state of a sharded training.</summary>
[GenerateSerializer]
public sealed class ShardedTrainingState
{
    /// <summary>What was asked; null before the start.</summary>
    [Id(0)] public ShardedTrainingRequest? Request { get; set; }

    /// <summary>Each shard's latest progress.</summary>
    [Id(1)] public ShardProgress[] Shards { get; set; } = [];

    /// <summary>Whether the shard map was written to the deployment.</summary>
    [Id(2)] public bool Deployed { get; set; }

    /// <summary>When it started.</summary>
    [Id(3)] public DateTime StartedUtc { get; set; }

    /// <summary>Seconds from start to deployment.</summary>
    [Id(4)] public double Seconds { get; set; }
}

internal sealed class ShardedTrainingGrain(
    [PersistentState("training", ForecastingStorage.Name)] IPersistentState<ShardedTrainingState> state) : Grain, IShardedTrainingGrain
{
    private IGrainTimer? _timer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A training whose coordinator's silo died goes on from the stored progress.
        if (state.State.Request is not null && !state.State.Deployed && state.State.Shards.All(s => s.Phase != ShardPhase.Failed)) Watch();
        return Task.CompletedTask;
    }

    public async Task<ShardedTrainingProgress> Start(ShardedTrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (state.State.Request is not null) return Progress();
        string key = this.GetPrimaryKeyString();
        if (key != $"{request.Deployment}@{request.Version}")
            throw new ArgumentException($"A sharded training's key is '{{deployment}}@{{version}}'; this one is '{key}', the request '{request.Deployment}@{request.Version}'.", nameof(request));
        if (request.Deployment.Contains('/')) throw new ArgumentException($"A deployment's name has no '/'; got '{request.Deployment}'.", nameof(request));
        if (request.ShardCount < 1) throw new ArgumentException($"ShardCount must be at least 1; got {request.ShardCount}.", nameof(request));
        if (!File.Exists(request.PanelPath)) throw new ArgumentException($"The panel file '{request.PanelPath}' does not exist (on silo {RuntimeIdentity}; every silo must see it).", nameof(request));
        _ = ShardTraining.Options(request.OptionsJson);
        state.State.Request = request;
        state.State.StartedUtc = DateTime.UtcNow;
        state.State.Shards = [.. Enumerable.Range(0, request.ShardCount).Select(k => new ShardProgress(k, ShardPhase.Pending, 0, "", 0, 0, ""))];
        await state.WriteStateAsync();
        Watch();
        return Progress();
    }

    public Task<ShardedTrainingProgress> GetProgress()
        => state.State.Request is null
            ? throw new InvalidOperationException($"No sharded training was started under '{this.GetPrimaryKeyString()}'.")
            : Task.FromResult(Progress());

    private ShardedTrainingProgress Progress() => new(state.State.Request!, state.State.Shards, state.State.Deployed,
        state.State.Deployed ? state.State.Seconds : (DateTime.UtcNow - state.State.StartedUtc).TotalSeconds);

    private void Watch() => _timer ??= this.RegisterGrainTimer(Poll, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromSeconds(1)) { KeepAlive = true });

    /// <summary>Starts the shards not under way (a trainer whose silo died answers Pending from a new activation),
    /// records their progress, and deploys the shard map once every shard is saved.</summary>
    private async Task Poll(CancellationToken cancellationToken)
    {
        var request = state.State.Request!;
        string key = this.GetPrimaryKeyString();
        var shards = await Task.WhenAll(state.State.Shards.Select(async s =>
        {
            if (s.Phase is ShardPhase.Done or ShardPhase.Failed) return s;
            var trainer = GrainFactory.GetGrain<IShardTrainerGrain>($"{key}/{s.Shard}");
            var p = await trainer.GetProgress();
            return p.Shard < 0 ? await trainer.Train(request, s.Shard) : p;
        }));
        bool changed = !shards.Select(s => s.Phase).SequenceEqual(state.State.Shards.Select(s => s.Phase));
        state.State.Shards = shards;
        if (shards.All(s => s.Phase == ShardPhase.Done))
        {
            await GrainFactory.GetGrain<IDeploymentGrain>(request.Deployment)
                .DeployShards([.. Enumerable.Range(0, request.ShardCount).Select(k => new ShardModel(ShardTraining.ModelName(request.Deployment, k), request.Version))]);
            state.State.Deployed = true;
            state.State.Seconds = (DateTime.UtcNow - state.State.StartedUtc).TotalSeconds;
            changed = true;
        }
        if (changed) await state.WriteStateAsync();
        if (state.State.Deployed || shards.Any(s => s.Phase == ShardPhase.Failed))
        {
            _timer?.Dispose();
            _timer = null;
        }
    }
}

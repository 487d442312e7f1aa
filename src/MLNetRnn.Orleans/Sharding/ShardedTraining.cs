namespace MLNetRnn.Orleans.Sharding;

/// <summary>
/// A panel to train as shards: the series of <see cref="PanelPath"/> split by <see cref="ShardMap.ShardOf"/> into
/// <see cref="ShardCount"/> shards, each fitted as one global model on whichever silo has room, saved to the model
/// store as <c>{Deployment}/shard-{k}</c> version <see cref="Version"/>; when all are done the deployment serves each
/// series from its shard's model.
/// </summary>
/// <param name="Deployment">The deployment the shards will serve (no '/').</param>
/// <param name="Version">The models' version in the store.</param>
/// <param name="PanelPath">A CSV file every silo can read: a header, then rows <c>series,value</c>, each series' rows in
/// time order.</param>
/// <param name="ShardCount">Shards, at least 1.</param>
/// <param name="OptionsJson">The <see cref="RnnForecastingOptions"/> as JSON (System.Text.Json); the column names are
/// set by the trainer (Series, Value, Forecast).</param>
[GenerateSerializer, Immutable]
public sealed record ShardedTrainingRequest([property: Id(0)] string Deployment, [property: Id(1)] string Version, [property: Id(2)] string PanelPath,
    [property: Id(3)] int ShardCount, [property: Id(4)] string OptionsJson);

/// <summary>Where a shard's training is.</summary>
public enum ShardPhase
{
    /// <summary>Not started.</summary>
    Pending = 0,
    /// <summary>Reading its series from the panel.</summary>
    Reading = 1,
    /// <summary>Fitting.</summary>
    Training = 2,
    /// <summary>Fitted and saved to the model store.</summary>
    Done = 3,
    /// <summary>Failed (<see cref="ShardProgress.Message"/> says why).</summary>
    Failed = 4,
}

/// <summary>One shard's training.</summary>
/// <param name="Shard">Its index.</param>
/// <param name="Phase">Where it is.</param>
/// <param name="Series">Series in the shard (once read).</param>
/// <param name="Silo">The silo training it.</param>
/// <param name="Seconds">Time so far (or in all, when done).</param>
/// <param name="PeakWorkingSetBytes">The training silo's peak working set when the shard finished (the process's, so
/// shards trained on the same silo share it).</param>
/// <param name="Message">The trainer's latest log line, or the error.</param>
[GenerateSerializer, Immutable]
public sealed record ShardProgress([property: Id(0)] int Shard, [property: Id(1)] ShardPhase Phase, [property: Id(2)] int Series, [property: Id(3)] string Silo,
    [property: Id(4)] double Seconds, [property: Id(5)] long PeakWorkingSetBytes, [property: Id(6)] string Message);

/// <summary>A sharded training's progress.</summary>
/// <param name="Request">What was asked.</param>
/// <param name="Shards">Each shard's progress.</param>
/// <param name="Deployed">Whether the deployment now serves the shards' models.</param>
/// <param name="Seconds">Time since the start (until deployed).</param>
[GenerateSerializer, Immutable]
public sealed record ShardedTrainingProgress([property: Id(0)] ShardedTrainingRequest Request, [property: Id(1)] ShardProgress[] Shards,
    [property: Id(2)] bool Deployed, [property: Id(3)] double Seconds)
{
    /// <summary>Shards done, of all.</summary>
    public override string ToString()
        => $"{Request.Deployment}@{Request.Version}: {Shards.Count(s => s.Phase == ShardPhase.Done)}/{Shards.Length} shards done{(Deployed ? ", deployed" : "")}, {Seconds:F0} s";
}

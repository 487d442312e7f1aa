using Microsoft.Extensions.DependencyInjection;
using MLNetRnn.Orleans.Storage;
using MLNetRnn.Orleans.Tests.Support;
using Orleans.Serialization;
using Orleans.Storage;

namespace MLNetRnn.Orleans.Tests;

/// <summary>The storage's group commit: writes waiting together share one commit, and each keeps its own version check.</summary>
public sealed class GroupCommitTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private static PostgresGrainStorage Storage() =>
        new(PostgresServer.ConnectionString!, "group-commit-" + Guid.NewGuid().ToString("N")[..8], Serializer);

    // The storage's unit: a series grain's state, whose model name carries the value written.
    private static GrainId Grain(int i) => GrainId.Create("test", "g" + i);

    [PostgresFact]
    public async Task WritesArrivingTogetherShareCommitsAndEachIsStored()
    {
        using var storage = Storage();
        var states = Enumerable.Range(0, 64).Select(i => new GrainState<SeriesGrainState> { State = new() { ModelName = "value " + i } }).ToArray();
        await storage.ReadStateAsync("s", Grain(0), new GrainState<SeriesGrainState>());   // the table exists before the burst
        await Task.WhenAll(states.Select((g, i) => storage.WriteStateAsync("s", Grain(i), g)));

        var (writes, commits) = storage.WriteCounts;
        Assert.Equal(64, writes);
        Assert.True(commits <= 8, $"64 writes waiting together took {commits} commits; a group commit takes a few.");
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal("1", states[i].ETag);
            var read = new GrainState<SeriesGrainState>();
            await storage.ReadStateAsync("s", Grain(i), read);
            Assert.Equal("value " + i, read.State!.ModelName);
        }
    }

    [PostgresFact]
    public async Task AStaleWriteInAGroupIsRefusedAloneAndTheOthersCommit()
    {
        using var storage = Storage();
        var first = new GrainState<SeriesGrainState> { State = new() { ModelName = "first" } };
        await storage.WriteStateAsync("s", Grain(0), first);
        // A second activation of grain 0 that never read the row (no ETag) writes in the same group as 31 others.
        var stale = new GrainState<SeriesGrainState> { State = new() { ModelName = "stale" } };
        var others = Enumerable.Range(1, 31).Select(i => new GrainState<SeriesGrainState> { State = new() { ModelName = "other " + i } }).ToArray();
        var staleWrite = storage.WriteStateAsync("s", Grain(0), stale);
        var otherWrites = others.Select((g, i) => storage.WriteStateAsync("s", Grain(i + 1), g)).ToArray();

        await Assert.ThrowsAsync<InconsistentStateException>(() => staleWrite);
        await Task.WhenAll(otherWrites);
        var read = new GrainState<SeriesGrainState>();
        await storage.ReadStateAsync("s", Grain(0), read);
        Assert.Equal(("first", "1"), (read.State!.ModelName, read.ETag));
        for (int i = 1; i <= 31; i++)
        {
            await storage.ReadStateAsync("s", Grain(i), read);
            Assert.Equal("other " + i, read.State!.ModelName);
        }
        // The activation that holds the stored version goes on from it.
        first.State.ModelName = "second";
        await storage.WriteStateAsync("s", Grain(0), first);
        Assert.Equal("2", first.ETag);
    }
}

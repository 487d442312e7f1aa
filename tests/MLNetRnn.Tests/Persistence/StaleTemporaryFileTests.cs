using Microsoft.ML;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Persistence;

namespace MLNetRnn.Tests.Persistence;

/// <summary>
/// A save killed mid-way leaves its temporary file; the next save to the same path removes it, and touches nothing
/// else: not a user's file, not another destination's, not a live save's.
/// </summary>
public sealed class StaleTemporaryFileTests : IDisposable
{
    // Above Linux's pid_max and not a multiple of 4 (Windows process ids are): no process has this id.
    private const int DeadProcessId = int.MaxValue - 1;

    private readonly TempDirectory _dir = new();
    private readonly MLContext _mlContext = new(seed: 1);
    private readonly IDataView _data;

    public StaleTemporaryFileTests() => _data = Probe.Data(_mlContext);

    public void Dispose() => _dir.Dispose();

    private void Save(string path) => _mlContext.Model.SaveAtomically(Probe.Pipeline(_mlContext, _data), _data.Schema, path);

    private string Ours(string destination, int processId) => _dir.File(AtomicFile.TemporaryName(destination, processId, Guid.NewGuid()));

    private string[] Files() => Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    [Trait("Category", "Slow")]
    public void NextSaveRemovesWhatAKilledSaveLeft()
    {
        string path = _dir.File("model.zip");
        Save(path);
        byte[] before = File.ReadAllBytes(path);

        ModelLoaderProcess.KillWhileSaving(path);

        string leftover = Assert.Single(Files(), f => f != "model.zip");
        Assert.Matches(@"^\.model\.zip\.mlnetrnn-\d+-[0-9a-f]{32}\.tmp$", leftover);
        Assert.Equal(before, File.ReadAllBytes(path));   // the kill cost nothing

        Save(path);

        Assert.Equal(["model.zip"], Files());
        Assert.IsAssignableFrom<IEnumerable<ITransformer>>(_mlContext.Model.LoadValidated(path, out _));
    }

    [Fact]
    public void CleanupTouchesOnlyOurTemporaryFilesForThatPath()
    {
        string[] others =
        [
            ".model.zip.tmp", "model.zip.tmp", "model.zip.mlnetrnn-1-" + new string('a', 32) + ".tmp",
            ".model.zip." + new string('b', 32) + ".tmp",                                   // no mark of ours
            ".model.zip.mlnetrnn-x1-" + new string('c', 32) + ".tmp",                       // malformed id
            ".model.zip.mlnetrnn-12-" + new string('d', 31) + ".tmp",                       // short random part
            Path.GetFileName(Ours("model.zip", DeadProcessId)) + ".bak",
            Path.GetFileName(Ours("other.zip", DeadProcessId)),                             // another destination
            Path.GetFileName(Ours("model.zip.old", DeadProcessId)),                         // a longer name
        ];
        foreach (string name in others) File.WriteAllText(_dir.File(name), "the user's");
        string stale = Ours("model.zip", DeadProcessId);
        File.WriteAllText(stale, "left by a killed save");

        Save(_dir.File("model.zip"));

        Assert.False(File.Exists(stale));
        Assert.Equal(others.Append("model.zip").Order(StringComparer.Ordinal), Files());
        Assert.All(others, name => Assert.Equal("the user's", File.ReadAllText(_dir.File(name))));
    }

    [Fact]
    public void TemporaryFileOfALiveSaveIsKept()
    {
        // Held open as a live save holds its own (FileShare.None): kept, even though its process id is dead.
        string held = Ours("model.zip", DeadProcessId);
        using var live = new FileStream(held, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);

        Save(_dir.File("model.zip"));

        Assert.True(File.Exists(held));
    }

    [Fact]
    public void TemporaryFileOfALiveProcessIsKeptUntilItIsOld()
    {
        // Not held, but its process is alive (it may be about to lock it): kept while recent.
        string recent = Ours("model.zip", Environment.ProcessId);
        string old = Ours("model.zip", Environment.ProcessId);
        File.WriteAllText(recent, "");
        File.WriteAllText(old, "");
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow - AtomicFile.StaleAfter - TimeSpan.FromMinutes(1));

        Save(_dir.File("model.zip"));

        Assert.True(File.Exists(recent));
        Assert.False(File.Exists(old));
    }
}

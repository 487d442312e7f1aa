using System.Buffers.Binary;
using System.Text;
using Microsoft.ML;
using MLNetRnn.Persistence;

namespace MLNetRnn.Tests.Persistence;

/// <summary>
/// A damaged file and an interrupted save are told apart (issue 21: a bit-flipped file was described as "what a save
/// that failed part-way leaves behind"): a checksum or a directory that disagrees with the entries is damage; a model
/// stream whose header was never completed, or that ends before its header's length, is an interrupted save.
/// </summary>
public sealed class DamagedModelFileMessagesTests : IDisposable
{
    private const string LastStage = "TransformerChain/Transform_001/Model.key";
    private readonly TempDirectory _dir = new();
    private readonly MLContext _ml = new(seed: 1);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ABitFlippedInTheZipDirectorysEntryNameIsReportedAsDamage()
    {
        string path = SaveGoodModel();
        byte[] bytes = File.ReadAllBytes(path);
        int name = CentralDirectoryName(bytes, LastStage);
        bytes[name + LastStage.Length - 1] ^= 0x04;   // Model.key → Model.ke}
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<InvalidDataException>(() => _ml.Model.LoadValidated(path, out _));

        Assert.Contains(path, ex.Message);
        Assert.Contains("it is corrupted", ex.Message);
        Assert.Contains("'TransformerChain/Transform_001/Model.ke}'", ex.Message);
        Assert.DoesNotContain("failed part-way", ex.Message);
    }

    [Fact]
    public void ABitFlippedInAnEntrysDataIsReportedAsAChecksumMismatch()
    {
        string path = SaveGoodModel();
        Probe.RewriteEntry(path, LastStage, content => content, store: true);   // stored, so the flip is in the data itself
        byte[] bytes = File.ReadAllBytes(path);
        int at = bytes.AsSpan().IndexOf("MLNETRNN"u8) + 40;
        bytes[at] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<InvalidDataException>(() => _ml.Model.LoadValidated(path, out _));

        Assert.Contains($"'{LastStage}' is corrupted (its CRC-32 is", ex.Message);
        Assert.DoesNotContain("failed part-way", ex.Message);
    }

    [Fact]
    public void AModelStreamCutShortIsReportedAsAnInterruptedSave()
    {
        // The last 16 bytes cut and the zip's CRC recomputed: what the zip holds is what was written, and it stops early.
        string path = SaveGoodModel();
        Probe.RewriteEntry(path, LastStage, content => content[..^16]);

        var ex = Assert.Throws<InvalidDataException>(() => _ml.Model.LoadValidated(path, out _));

        Assert.Contains($"'{LastStage}' is an unfinished ML.NET model stream", ex.Message);
        Assert.Contains("bytes its header records", ex.Message);
        Assert.Contains("failed part-way", ex.Message);
    }

    [Fact]
    public void AFinishedModelStreamWithDamagedBytesIsReportedAsDamage()
    {
        // The tail signature damaged and the CRC recomputed over it: the stream's header says the save finished.
        string path = SaveGoodModel();
        Probe.RewriteEntry(path, LastStage, content =>
        {
            content[^1] ^= 0x01;
            return content;
        });

        var ex = Assert.Throws<InvalidDataException>(() => _ml.Model.LoadValidated(path, out _));

        Assert.Contains($"'{LastStage}' is corrupted", ex.Message);
        Assert.Contains("tail signature is missing", ex.Message);
        Assert.DoesNotContain("failed part-way", ex.Message);
    }

    private string SaveGoodModel()
    {
        string path = _dir.File("model.zip");
        var data = Probe.Data(_ml);
        _ml.Model.SaveAtomically(Probe.Pipeline(_ml, data), data.Schema, path);
        return path;
    }

    /// <summary>Where the central directory's copy of <paramref name="entry"/>'s name starts (46 bytes into its
    /// header, whose signature is "PK\x01\x02").</summary>
    private static int CentralDirectoryName(byte[] bytes, string entry)
    {
        byte[] name = Encoding.ASCII.GetBytes(entry);
        for (int i = 0; i + 46 <= bytes.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)) != 0x02014b50) continue;
            int length = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i + 28));
            if (bytes.AsSpan(i + 46, length).SequenceEqual(name)) return i + 46;
        }
        throw new InvalidOperationException($"No central directory header for '{entry}'.");
    }
}

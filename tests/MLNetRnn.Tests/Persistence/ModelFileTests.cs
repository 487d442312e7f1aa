using System.Reflection;
using Microsoft.ML;
using MLNetRnn.Persistence;

namespace MLNetRnn.Tests.Persistence;

/// <summary>
/// <see cref="ModelFile"/>: saving never destroys an earlier model, and loading a damaged or
/// unreadable file fails with an exception that names the file and the problem. Where ML.NET's own
/// behaviour is the reason for a helper, a test pins that behaviour too.
/// </summary>
public sealed class ModelFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly MLContext _mlContext = new(seed: 1);
    private readonly IDataView _data;

    public ModelFileTests() => _data = Probe.Data(_mlContext);

    public void Dispose() => _dir.Dispose();

    private string SaveGoodModel(string name = "model.zip")
    {
        string path = _dir.File(name);
        _mlContext.Model.SaveAtomically(Probe.Pipeline(_mlContext, _data), _data.Schema, path);
        return path;
    }

    private PersistenceProbeTransformer FailingProbe() => new(_mlContext, "Y", "X", 2f) { FailWhileSaving = true };

    // ---- saving ----

    [Fact]
    public void FailedSaveLeavesEarlierFileUntouched()
    {
        string path = SaveGoodModel();
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<IOException>(() => _mlContext.Model.SaveAtomically(FailingProbe(), _data.Schema, path));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.IsAssignableFrom<IEnumerable<ITransformer>>(_mlContext.Model.LoadValidated(path, out _));
    }

    [Fact]
    public void FailedSaveLeavesNoTemporaryFile()
    {
        string path = SaveGoodModel();

        Assert.Throws<IOException>(() => _mlContext.Model.SaveAtomically(FailingProbe(), _data.Schema, path));

        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void FailedFirstSaveCreatesNoFile()
    {
        string path = _dir.File("new.zip");

        Assert.Throws<IOException>(() => _mlContext.Model.SaveAtomically(FailingProbe(), _data.Schema, path));

        Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void SaveIntoMissingDirectoryNamesTheDirectory()
    {
        string missing = Path.Combine(_dir.Path, "no-such-dir");
        string path = Path.Combine(missing, "model.zip");

        var ex = Assert.Throws<DirectoryNotFoundException>(() =>
            _mlContext.Model.SaveAtomically(new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f), _data.Schema, path));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void SaveOverDirectoryFailsAndLeavesNoTemporaryFile()
    {
        string path = _dir.File("taken");
        Directory.CreateDirectory(path);

        Assert.ThrowsAny<IOException>(() =>
            _mlContext.Model.SaveAtomically(new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f), _data.Schema, path));

        Assert.Equal([path], Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void SaveAtomicallyReplacesEarlierFile()
    {
        string path = SaveGoodModel();

        _mlContext.Model.SaveAtomically(new PersistenceProbeTransformer(_mlContext, "Y", "X", 4f), _data.Schema, path);

        var loaded = Assert.IsType<PersistenceProbeTransformer>(_mlContext.Model.LoadValidated(path, out _));
        Assert.Equal(4f, loaded.Factor);
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    /// <summary>Why <see cref="ModelFile.SaveAtomically"/> exists: ML.NET truncates the destination first.</summary>
    [Fact]
    public void PlainModelSaveDestroysEarlierFileWhenSaveFails()
    {
        string path = SaveGoodModel();
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<IOException>(() => _mlContext.Model.Save(FailingProbe(), _data.Schema, path));

        Assert.NotEqual(before, File.ReadAllBytes(path));
        Assert.ThrowsAny<Exception>(() => _mlContext.Model.Load(path, out _));
        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Model.LoadValidated(path, out _));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("failed part-way", ex.Message, StringComparison.Ordinal);
    }

    // ---- loading ----

    [Fact]
    public void LoadingMissingFileNamesTheFile()
    {
        string path = _dir.File("absent.zip");

        var ex = Assert.Throws<FileNotFoundException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Equal(path, ex.FileName);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void LoadingTruncatedZipNamesTheFile(double keptFraction)
    {
        string path = SaveGoodModel();
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keptFraction)]);

        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a readable zip archive", ex.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    /// <summary>What ML.NET itself does with a truncated file: a FormatException that does not name it.</summary>
    [Fact]
    public void PlainLoadOfTruncatedZipThrowsFormatExceptionWithoutTheFileName()
    {
        string path = SaveGoodModel();
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var ex = Assert.Throws<FormatException>(() => _mlContext.Model.Load(path, out _));

        Assert.Equal("Failed to open a zip archive", ex.Message);
        Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    [Fact]
    public void LoadingCorruptedEntryNamesTheFileAndTheEntry()
    {
        string path = SaveGoodModel();
        FlipStoredByte(path, "TransformerChain/Transform_001/Model.key");

        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'TransformerChain/Transform_001/Model.key' is corrupted", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Why <see cref="ModelFile"/> checks CRCs itself: .NET's zip reader does not, so a flipped byte in an
    /// entry reaches ML.NET as different content, and whatever happens next depends on where it fell.
    /// </summary>
    [Fact]
    public void ZipReaderDoesNotCheckCrcOfCorruptedEntry()
    {
        string path = SaveGoodModel();
        byte[] original = Probe.ReadEntry(path, "TransformerChain/Transform_001/Model.key");
        FlipStoredByte(path, "TransformerChain/Transform_001/Model.key");

        byte[] read = Probe.ReadEntry(path, "TransformerChain/Transform_001/Model.key");

        Assert.NotEqual(original, read);
    }

    [Fact]
    public void LoadingTamperedPayloadReportsChecksumMismatch()
    {
        string path = SaveGoodModel();
        // Rewritten with fresh zip CRCs and an intact ML.NET header and tail: only our payload hash can notice.
        Probe.RewriteEntry(path, "TransformerChain/Transform_001/Model.key", stream =>
        {
            int magic = stream.AsSpan().IndexOf("MLNETRNN"u8);
            int body = magic + 8 + 4 + 4 + 1 + PersistenceProbeTransformer.LoaderSignature.Length + 8 + 32;
            stream[body + 2] ^= 0x01;
            return stream;
        });

        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{PersistenceProbeTransformer.LoaderSignature}' is corrupted", ex.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);

        // Plain ML.NET reports the same failure under its reflection wrappers, without the file name.
        var plain = Assert.ThrowsAny<Exception>(() => _mlContext.Model.Load(path, out _));
        Assert.IsType<TargetInvocationException>(plain);
        var ours = Assert.Single(Chain(plain).OfType<InvalidDataException>());
        Assert.Contains("checksum", ours.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(path, ours.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e != null; e = e.InnerException)
            yield return e;
    }

    [Fact]
    public void LoadingNonZipFileNamesTheFile()
    {
        string path = _dir.File("notes.zip");
        File.WriteAllText(path, "this is not a model");

        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a readable zip archive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadingZipWithoutModelNamesTheFile()
    {
        string path = _dir.File("empty.zip");
        using (System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
        {
        }

        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("holds no ML.NET model", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadingNewerFormatVersionNamesFoundAndSupportedVersions()
    {
        string path = _dir.File("newer.zip");
        var fromTheFuture = new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f)
        {
            WriteFormat = PersistenceProbeTransformer.Format.AsWrittenBy(version: 7, readableByVersion: 5),
        };
        _mlContext.Model.SaveAtomically(fromTheFuture, _data.Schema, path);

        var ex = Assert.Throws<UnsupportedModelVersionException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.IsAssignableFrom<InvalidOperationException>(ex);
        Assert.Equal(path, ex.FilePath);
        Assert.Equal(PersistenceProbeTransformer.LoaderSignature, ex.Component);
        Assert.Equal(7, ex.FoundVersion);
        Assert.Equal(1, ex.NewestSupportedVersion);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("format version 7", ex.Message, StringComparison.Ordinal);
        Assert.Contains("reads format versions 1 to 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NewerVersionThatOlderReadersMayReadLoads()
    {
        string path = _dir.File("newer-compatible.zip");
        var compatible = new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f)
        {
            WriteFormat = PersistenceProbeTransformer.Format.AsWrittenBy(version: 2, readableByVersion: 1),
        };
        _mlContext.Model.SaveAtomically(compatible, _data.Schema, path);

        var loaded = Assert.IsType<PersistenceProbeTransformer>(_mlContext.Model.LoadValidated(path, out _));

        Assert.Equal(2f, loaded.Factor);
    }

    [Fact]
    public void LoadingModelThatNeedsMissingAssemblyNamesTheAssembly()
    {
        string path = SaveGoodModel();
        // The same length keeps ML.NET's header valid; only the recorded loader assembly changes.
        Probe.RewriteEntry(path, "TransformerChain/Transform_001/Model.key", stream =>
        {
            byte[] from = System.Text.Encoding.Unicode.GetBytes("MLNetRnn");
            int at = stream.AsSpan().IndexOf(from);
            Assert.True(at >= 0);
            System.Text.Encoding.Unicode.GetBytes("MLNetRnX").CopyTo(stream, at);
            return stream;
        });

        var ex = Assert.Throws<InvalidOperationException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("needs the assembly 'MLNetRnX", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Damaged version fields in ML.NET's header (offsets 0x48 written, 0x4C readable-by, as 0x0001_0000 | version)
    /// are corruption, not "a newer MLNetRnn": a genuine newer model carries the same versions in our payload.
    /// </summary>
    [Theory]
    [InlineData(0x0001_0001u, 0x0001_0003u)]   // readable-by above written: what a flipped bit gave (issue 7)
    [InlineData(0x0001_0003u, 0x0001_0003u)]   // consistent, but the payload says 1
    [InlineData(0x0001_0001u, 0x0000_0001u)]   // MLNetRnn's mark gone
    [InlineData(0x0001_0001u, 0x0001_0000u)]   // version 0
    public void CorruptedHeaderVersionsAreReportedAsCorruption(uint written, uint readable)
    {
        string path = SaveGoodModel();
        Probe.RewriteEntry(path, "TransformerChain/Transform_001/Model.key", stream =>
        {
            Assert.True(stream.AsSpan(0x40, 8).SequenceEqual("MLNRPRBE"u8));   // ML.NET's header: our model signature
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(stream.AsSpan(0x48), written);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(stream.AsSpan(0x4C), readable);
            return stream;
        });

        var ex = Assert.ThrowsAny<Exception>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.IsType<InvalidDataException>(ex);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("corrupted", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("newer", ex.Message, StringComparison.Ordinal);
        var plain = Assert.ThrowsAny<Exception>(() => _mlContext.Model.Load(path, out _));
        Assert.DoesNotContain(Chain(plain), e => e is UnsupportedModelVersionException);
    }

    [Fact]
    public void CorruptedPayloadVersionIsReportedAsCorruption()
    {
        string path = SaveGoodModel();
        Probe.RewriteEntry(path, "TransformerChain/Transform_001/Model.key", stream =>
        {
            int magic = stream.AsSpan().IndexOf("MLNETRNN"u8);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(stream.AsSpan(magic + 8), 3);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(stream.AsSpan(magic + 12), 2);
            return stream;
        });

        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Model.LoadValidated(path, out _));

        Assert.Contains("corrupted", ex.Message, StringComparison.Ordinal);
        Assert.Contains("format version 1 (readable by 1), the payload 3 (readable by 2)", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Through plain ML.NET the same failure arrives wrapped in a TargetInvocationException.</summary>
    [Fact]
    public void PlainLoadOfNewerFormatVersionWrapsOurException()
    {
        string path = _dir.File("newer.zip");
        var fromTheFuture = new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f)
        {
            WriteFormat = PersistenceProbeTransformer.Format.AsWrittenBy(version: 7, readableByVersion: 5),
        };
        _mlContext.Model.Save(fromTheFuture, _data.Schema, path);

        var ex = Assert.Throws<TargetInvocationException>(() => _mlContext.Model.Load(path, out _));

        Assert.IsType<UnsupportedModelVersionException>(ex.InnerException);
    }

    /// <summary>
    /// Flips one bit in the middle of an entry's data as it lies in the file, leaving the zip's recorded
    /// CRC-32 as it was. The entry is first rewritten uncompressed so that the flip cannot make the
    /// deflate stream undecodable: the zip reader then returns different content and nothing else.
    /// </summary>
    private static void FlipStoredByte(string zipPath, string entryName)
    {
        Probe.RewriteEntry(zipPath, entryName, content => content, store: true);
        long offset;
        using (var archive = System.IO.Compression.ZipFile.OpenRead(zipPath))
            offset = LocalDataOffset(zipPath, entryName) + archive.GetEntry(entryName)!.CompressedLength / 2;
        byte[] bytes = File.ReadAllBytes(zipPath);
        bytes[offset] ^= 0x10;
        File.WriteAllBytes(zipPath, bytes);
    }

    /// <summary>Where an entry's data starts: after its local header (30 bytes, the name, the extra field).</summary>
    private static long LocalDataOffset(string zipPath, string entryName)
    {
        byte[] bytes = File.ReadAllBytes(zipPath);
        byte[] name = System.Text.Encoding.UTF8.GetBytes(entryName);
        for (int i = 0; i + 30 <= bytes.Length; i++)
        {
            if (BitConverter.ToUInt32(bytes, i) != 0x04034b50)
                continue;
            int nameLength = BitConverter.ToUInt16(bytes, i + 26);
            int extraLength = BitConverter.ToUInt16(bytes, i + 28);
            if (bytes.AsSpan(i + 30, nameLength).SequenceEqual(name))
                return i + 30 + nameLength + extraLength;
        }
        throw new InvalidOperationException($"No local header for '{entryName}'.");
    }
}

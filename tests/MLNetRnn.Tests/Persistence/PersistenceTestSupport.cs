using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Persistence;

namespace MLNetRnn.Tests.Persistence;

/// <summary>Input rows for the persistence tests: a scalar column and two more to concatenate.</summary>
public sealed class ProbeInput
{
    public float X { get; set; }

    public float A { get; set; }

    public float B { get; set; }
}

/// <summary>What a prediction engine over the probe returns.</summary>
public sealed class ProbeOutput
{
    public float Y { get; set; }
}

/// <summary>A directory under the system temp path, removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlnetrnn-persistence-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class Probe
{
    public static readonly ProbeInput[] Rows =
    [
        new() { X = 1.5f, A = 1f, B = -2f },
        new() { X = -2.25f, A = 0.1f, B = 3.3f },
        new() { X = 3.1415927f, A = float.Epsilon, B = 1e30f },
        new() { X = 0f, A = -0f, B = 7f },
        new() { X = 123456.79f, A = 2.5e-8f, B = -1f },
    ];

    public static IDataView Data(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(Rows);

    /// <summary>Concatenate(A, B) → probe on the vector → CopyColumns: our transformer between ordinary ML.NET ones.</summary>
    public static TransformerChain<ITransformer> Pipeline(MLContext mlContext, IDataView data)
    {
        var concatenated = mlContext.Transforms.Concatenate("Features", "A", "B").Fit(data);
        var withProbe = new TransformerChain<ITransformer>(
            concatenated,
            new PersistenceProbeTransformer(mlContext, "Scaled", "Features", -0.7f),
            new PersistenceProbeTransformer(mlContext, "Y", "X", 2.5f));
        var copy = mlContext.Transforms.CopyColumns("ScaledCopy", "Scaled").Fit(withProbe.Transform(data));
        return withProbe.Append<ITransformer>(copy);
    }

    /// <summary>The bit patterns of a Single or vector-of-Single column, row by row.</summary>
    public static List<int[]> Bits(IDataView view, string column)
    {
        var col = view.Schema[column];
        if (col.Type is VectorDataViewType)
        {
            return view.GetColumn<VBuffer<float>>(col)
                .Select(v => v.DenseValues().Select(BitConverter.SingleToInt32Bits).ToArray())
                .ToList();
        }
        return view.GetColumn<float>(col).Select(v => new[] { BitConverter.SingleToInt32Bits(v) }).ToList();
    }

    /// <summary>The bytes of one zip entry.</summary>
    public static byte[] ReadEntry(string zipPath, string entryName)
    {
        using var archive = ZipFile.OpenRead(zipPath);
        using var stream = archive.GetEntry(entryName)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The written and readable-by format versions of one of our transformers in a model zip: after ML.NET's
    /// 256-byte header, our magic, then the two versions.</summary>
    public static (int Version, int ReadableBy) FormatVersions(string zipPath, string entryName = "TransformerChain/Model.key")
    {
        var bytes = ReadEntry(zipPath, entryName);
        using var reader = new BinaryReader(new MemoryStream(bytes, 256, bytes.Length - 256));
        Assert.Equal("MLNETRNN"u8.ToArray(), reader.ReadBytes(8));
        return (reader.ReadInt32(), reader.ReadInt32());
    }

    /// <summary>Rewrites a zip with one entry's content changed; the rewritten archive is well-formed
    /// (fresh CRCs), so only checks inside the model can notice. The changed entry is stored uncompressed
    /// when <paramref name="store"/> is set, so that its bytes can be located in the file.</summary>
    public static void RewriteEntry(string zipPath, string entryName, Func<byte[], byte[]> change, bool store = false)
    {
        var entries = new List<(string Name, byte[] Content)>();
        using (var archive = ZipFile.OpenRead(zipPath))
        {
            foreach (var entry in archive.Entries)
            {
                using var stream = entry.Open();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                var content = copy.ToArray();
                entries.Add((entry.FullName, entry.FullName == entryName ? change(content) : content));
            }
        }

        File.Delete(zipPath);
        using var rewritten = ZipFile.Open(zipPath, ZipArchiveMode.Create);
        foreach (var (name, content) in entries)
        {
            var level = store && name == entryName ? CompressionLevel.NoCompression : CompressionLevel.Optimal;
            using var stream = rewritten.CreateEntry(name, level).Open();
            stream.Write(content);
        }
    }
}

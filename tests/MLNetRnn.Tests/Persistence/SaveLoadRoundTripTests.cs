using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Persistence;

namespace MLNetRnn.Tests.Persistence;

/// <summary>
/// Save and load in the same process through ML.NET's own API: our transformer comes back as our
/// type, computes the same bits, and works where ML.NET puts transformers (chains, prediction engines).
/// </summary>
public sealed class SaveLoadRoundTripTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly MLContext _mlContext = new(seed: 1);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SaveLoadRoundTripGivesOurTypeAndIdenticalOutputs()
    {
        var data = Probe.Data(_mlContext);
        var probe = new PersistenceProbeTransformer(_mlContext, "Y", "X", 2.5f);
        string path = _dir.File("probe.zip");

        _mlContext.Model.Save(probe, data.Schema, path);
        var loaded = _mlContext.Model.Load(path, out var inputSchema);

        var typed = Assert.IsType<PersistenceProbeTransformer>(loaded);
        Assert.Equal(("Y", "X", 2.5f), (typed.OutputColumnName, typed.InputColumnName, typed.Factor));
        Assert.Equal(data.Schema.Select(c => (c.Name, c.Type)), inputSchema.Select(c => (c.Name, c.Type)));
        Assert.Equal(Probe.Bits(probe.Transform(data), "Y"), Probe.Bits(loaded.Transform(data), "Y"));
    }

    /// <summary>The library registers its own components with ML.NET (assembly-level LoadableClass attributes, read
    /// by every process that loads one of its models) and no test component: the probe lives in the tests.</summary>
    [Fact]
    public void LibraryRegistersNoTestComponent()
    {
        var library = typeof(ModelFile).Assembly;
        var loaderSignatures = library.GetCustomAttributesData()
            .Where(a => a.AttributeType.Name == "LoadableClassAttribute")
            .SelectMany(a => a.ConstructorArguments[^1].Value switch   // params string[] loadNames
            {
                IEnumerable<System.Reflection.CustomAttributeTypedArgument> names => names.Select(n => (string)n.Value!),
                string name => [name],
                _ => [],
            })
            .ToArray();

        Assert.Contains("MLNetRnnForecaster", loaderSignatures);
        Assert.DoesNotContain(PersistenceProbeTransformer.LoaderSignature, loaderSignatures);
        Assert.DoesNotContain(library.GetTypes(), t => t.Name.Contains("Probe", StringComparison.Ordinal));
        Assert.NotEqual(library, typeof(PersistenceProbeTransformer).Assembly);
    }

    [Fact]
    public void SaveLoadRoundTripInsidePipelineKeepsOurTypeAndIdenticalOutputs()
    {
        var data = Probe.Data(_mlContext);
        var pipeline = Probe.Pipeline(_mlContext, data);
        string path = _dir.File("pipeline.zip");

        _mlContext.Model.Save(pipeline, data.Schema, path);
        var loaded = _mlContext.Model.Load(path, out _);

        var stages = Assert.IsAssignableFrom<IEnumerable<ITransformer>>(loaded).ToList();
        Assert.Collection(stages,
            s => Assert.IsType<ColumnConcatenatingTransformer>(s),
            s => Assert.IsType<PersistenceProbeTransformer>(s),
            s => Assert.IsType<PersistenceProbeTransformer>(s),
            s => Assert.IsType<Microsoft.ML.Transforms.ColumnCopyingTransformer>(s));

        var expected = pipeline.Transform(data);
        var actual = loaded.Transform(data);
        foreach (string column in new[] { "Features", "Scaled", "Y", "ScaledCopy" })
            Assert.Equal(Probe.Bits(expected, column), Probe.Bits(actual, column));
    }

    [Fact]
    public void AtomicSaveAndValidatedLoadRoundTripGivesIdenticalOutputs()
    {
        var data = Probe.Data(_mlContext);
        var pipeline = Probe.Pipeline(_mlContext, data);
        string path = _dir.File("pipeline.zip");

        _mlContext.Model.SaveAtomically(pipeline, data.Schema, path);
        var loaded = _mlContext.Model.LoadValidated(path, out var inputSchema);

        Assert.NotNull(inputSchema);
        Assert.Equal(Probe.Bits(pipeline.Transform(data), "ScaledCopy"), Probe.Bits(loaded.Transform(data), "ScaledCopy"));
    }

    [Fact]
    public void LoadedModelServesPredictionEngineWithIdenticalOutputs()
    {
        var data = Probe.Data(_mlContext);
        var probe = new PersistenceProbeTransformer(_mlContext, "Y", "X", -1.75f);
        string path = _dir.File("probe.zip");
        _mlContext.Model.Save(probe, data.Schema, path);

        var loaded = _mlContext.Model.Load(path, out var inputSchema);
        // PredictionEngine maps single rows through ITransformer.GetRowToRowMapper, not Transform.
        Assert.True(loaded.IsRowToRowMapper);
        var engine = _mlContext.Model.CreatePredictionEngine<ProbeInput, ProbeOutput>(loaded, inputSchema);

        var expected = Probe.Bits(probe.Transform(data), "Y").Select(b => b[0]);
        var actual = Probe.Rows.Select(r => BitConverter.SingleToInt32Bits(engine.Predict(r).Y));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void SavedPayloadStartsWithMagicAndFormatVersions()
    {
        var data = Probe.Data(_mlContext);
        string path = _dir.File("probe.zip");
        _mlContext.Model.Save(new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f), data.Schema, path);

        // A single transformer is saved in the chain's directory; ML.NET's model header takes 256 bytes.
        var stream = Probe.ReadEntry(path, "TransformerChain/Model.key");
        using var reader = new BinaryReader(new MemoryStream(stream, 256, stream.Length - 256));

        Assert.Equal("MLNETRNN"u8.ToArray(), reader.ReadBytes(8));
        Assert.Equal(PersistenceProbeTransformer.Format.CurrentVersion, reader.ReadInt32());
        Assert.Equal(PersistenceProbeTransformer.Format.ReadableByVersion, reader.ReadInt32());
        Assert.Equal(PersistenceProbeTransformer.LoaderSignature, reader.ReadString());
    }

    [Fact]
    public void SavedModelNamesOurAssemblyByItsSimpleName()
    {
        var data = Probe.Data(_mlContext);
        string path = _dir.File("probe.zip");
        _mlContext.Model.Save(new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f), data.Schema, path);

        // ML.NET stores the loader assembly name as UTF-16 after the string table and Assembly.Loads it,
        // which lets a fresh process find our LoadableClass attributes without a registration call. No
        // version in it: our format versions, not the assembly version, decide what a build can read.
        var stream = Probe.ReadEntry(path, "TransformerChain/Model.key");
        var simpleName = System.Text.Encoding.Unicode.GetBytes("MLNetRnn");
        var versioned = System.Text.Encoding.Unicode.GetBytes("MLNetRnn, Version=");
        Assert.True(stream.AsSpan().IndexOf(simpleName) >= 0, "the loader assembly name is not in the model stream");
        Assert.True(stream.AsSpan().IndexOf(versioned) < 0, "the loader assembly name carries a version");
    }
}

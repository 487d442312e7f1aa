using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Persistence;

namespace MLNetRnn.Tests.Persistence;

/// <summary>
/// A model saved here loads back as our type in another process: tests/MLNetRnn.ModelLoader, an
/// application that references MLNetRnn and calls nothing of it before <c>mlContext.Model.Load</c>.
/// ML.NET must find our assembly from the name recorded in the model; no registration call is made.
/// </summary>
[Trait("Category", "Slow")]
public sealed class FreshProcessLoadTests : IDisposable
{
    private static readonly string[] CsvColumns = ["X", "A", "B"];

    private readonly TempDirectory _dir = new();
    private readonly MLContext _mlContext = new(seed: 1);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ModelLoadsInFreshProcessWithoutRegistration()
    {
        var (data, csv) = WriteData();
        var probe = new PersistenceProbeTransformer(_mlContext, "Y", "X", 2.5f);
        string path = _dir.File("probe.zip");
        _mlContext.Model.Save(probe, data.Schema, path);

        var output = RunLoader(path, csv, "Y");

        Assert.Equal("preloaded: False", output[0]);
        Assert.Equal($"type: {typeof(PersistenceProbeTransformer).FullName}", output[1]);
        Assert.Equal(ExpectedRows(probe.Transform(data), "Y"), output.Skip(2));
    }

    [Fact]
    public void PipelineLoadsInFreshProcessWithIdenticalOutputs()
    {
        var (data, csv) = WriteData();
        var pipeline = Probe.Pipeline(_mlContext, data);
        string path = _dir.File("pipeline.zip");
        _mlContext.Model.Save(pipeline, data.Schema, path);

        var output = RunLoader(path, csv, "Scaled,Y,ScaledCopy");

        Assert.Equal("preloaded: False", output[0]);
        Assert.Equal(
        [
            $"stage: {typeof(ColumnConcatenatingTransformer).FullName}",
            $"stage: {typeof(PersistenceProbeTransformer).FullName}",
            $"stage: {typeof(PersistenceProbeTransformer).FullName}",
            $"stage: {typeof(Microsoft.ML.Transforms.ColumnCopyingTransformer).FullName}",
        ], output.Where(l => l.StartsWith("stage: ", StringComparison.Ordinal)));
        var transformed = pipeline.Transform(data);
        var expected = new[] { "Scaled", "Y", "ScaledCopy" }.SelectMany(c => ExpectedRows(transformed, c));
        Assert.Equal(expected, output.Where(l => l.StartsWith("row ", StringComparison.Ordinal)));
    }

    [Fact]
    public void ValidatedLoadInFreshProcessGivesOurTypeAndIdenticalOutputs()
    {
        var (data, csv) = WriteData();
        var probe = new PersistenceProbeTransformer(_mlContext, "Y", "X", -3f);
        string path = _dir.File("probe.zip");
        _mlContext.Model.SaveAtomically(probe, data.Schema, path);

        var output = RunLoader(path, csv, "Y", "--validated");

        Assert.Equal($"type: {typeof(PersistenceProbeTransformer).FullName}", output[1]);
        Assert.Equal(ExpectedRows(probe.Transform(data), "Y"), output.Skip(2));
    }

    [Fact]
    public void NewerFormatVersionFailsInFreshProcessNamingFileAndVersions()
    {
        var (data, csv) = WriteData();
        var fromTheFuture = new PersistenceProbeTransformer(_mlContext, "Y", "X", 2f)
        {
            WriteFormat = PersistenceProbeTransformer.Format.AsWrittenBy(version: 3, readableByVersion: 2),
        };
        string path = _dir.File("newer.zip");
        _mlContext.Model.SaveAtomically(fromTheFuture, data.Schema, path);

        var (exitCode, _, stderr) = RunLoaderProcess(path, csv, "Y", "--validated");

        Assert.Equal(1, exitCode);
        string firstLine = stderr.Split('\n')[0];
        Assert.StartsWith(typeof(UnsupportedModelVersionException).FullName + ": Cannot load model file '" + path + "'", firstLine, StringComparison.Ordinal);
        Assert.Contains("format version 3", firstLine, StringComparison.Ordinal);
        Assert.Contains("reads format versions 1 to 1", firstLine, StringComparison.Ordinal);
    }

    /// <summary>The probe rows as the loader will read them back: through a CSV text file.</summary>
    private (IDataView Data, string CsvPath) WriteData()
    {
        string csv = _dir.File("data.csv");
        // "R" round-trips every float exactly, so both processes see the same input bits.
        var lines = Probe.Rows.Select(r => string.Join(",", new[] { r.X, r.A, r.B }.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        File.WriteAllLines(csv, lines.Prepend(string.Join(",", CsvColumns)));

        var columns = CsvColumns.Select((name, i) => new TextLoader.Column(name, DataKind.Single, i)).ToArray();
        var data = _mlContext.Data.LoadFromTextFile(csv, columns, separatorChar: ',', hasHeader: true);
        Assert.Equal(Probe.Rows.Select(r => BitConverter.SingleToInt32Bits(r.X)), Probe.Bits(data, "X").Select(b => b[0]));
        return (data, csv);
    }

    /// <summary>The lines the loader prints for one column, in its format.</summary>
    private static IEnumerable<string> ExpectedRows(IDataView view, string column)
        => Probe.Bits(view, column).Select((bits, row) => $"row {row} {column}: {string.Join(" ", bits.Select(b => b.ToString("x8", CultureInfo.InvariantCulture)))}");

    private static List<string> RunLoader(params string[] arguments) => ModelLoaderProcess.Run(arguments);

    private static (int ExitCode, string Stdout, string Stderr) RunLoaderProcess(params string[] arguments) => ModelLoaderProcess.Start(arguments);
}

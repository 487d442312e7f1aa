// Loads an ML.NET model zip the way an application would and prints what it computes, so that a test
// can compare it with what the saving process computed.
//
// Usage: MLNetRnn.ModelLoader <model.zip> <data.csv> <output column>[,<output column>...] [--validated]
//
// data.csv has a header row naming the model's input columns; every input column must be Single.
// Without --validated the model is loaded with plain mlContext.Model.Load and nothing of MLNetRnn is
// touched before: ML.NET has to find our assembly by itself. With --validated it goes through
// MLNetRnn's ModelFile.LoadValidated, as an application following our advice would.
//
// Output, one fact a line:
//   preloaded: <whether the MLNetRnn assembly was loaded before the model>
//   type: <full name of the loaded transformer>
//   stage: <full name of each transformer, when the model is a chain>
//   row <i> <column>: <value as hex bits>[ <value as hex bits>...]
// Exit code 0 on success, 1 when loading or transforming fails (the exception goes to stderr), 2 on bad usage.
//
// Usage: MLNetRnn.ModelLoader --hang-while-saving <model.zip>
//
// Starts mlContext.Model.SaveAtomically to <model.zip> with a transformer whose save prints "saving" and then
// never returns, so that a test can kill the process mid-save, as a crash or kill -9 would.

using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length == 2 && args[0] == "--hang-while-saving")
{
    HangWhileSaving(new MLContext(seed: 0), args[1]);
    return 0;
}

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: MLNetRnn.ModelLoader <model.zip> <data.csv> <column>[,<column>...] [--validated]");
    return 2;
}

string modelPath = args[0];
string dataPath = args[1];
string[] outputColumns = args[2].Split(',', StringSplitOptions.RemoveEmptyEntries);
bool validated = args.Skip(3).Contains("--validated");

var mlContext = new MLContext(seed: 0);
bool preloaded = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MLNetRnn");
Console.WriteLine($"preloaded: {preloaded}");

try
{
    ITransformer model;
    DataViewSchema? inputSchema;
    if (validated)
    {
        model = LoadValidated(mlContext, modelPath, out inputSchema);
    }
    else
    {
        model = mlContext.Model.Load(modelPath, out var schema);
        inputSchema = schema;
    }

    Console.WriteLine($"type: {model.GetType().FullName}");
    if (model is IEnumerable<ITransformer> chain)
    {
        foreach (var stage in chain)
            Console.WriteLine($"stage: {stage.GetType().FullName}");
    }

    if (inputSchema is null)
        throw new InvalidOperationException("The model was saved without an input schema.");

    string[] header = File.ReadLines(dataPath).First().Split(',');
    var columns = inputSchema
        .Where(c => !c.IsHidden)
        .Select(c => new TextLoader.Column(c.Name, DataKind.Single, Array.IndexOf(header, c.Name)))
        .ToArray();
    var missing = columns.Where(c => c.Source[0].Min < 0).Select(c => c.Name).ToList();
    if (missing.Count > 0)
        throw new InvalidOperationException($"The data file has no column for model inputs: {string.Join(", ", missing)}.");

    var data = mlContext.Data.LoadFromTextFile(dataPath, columns, separatorChar: ',', hasHeader: true);
    var transformed = model.Transform(data);

    foreach (string name in outputColumns)
    {
        var column = transformed.Schema[name];
        int row = 0;
        if (column.Type is VectorDataViewType)
        {
            foreach (var value in transformed.GetColumn<VBuffer<float>>(column))
                Console.WriteLine($"row {row++} {name}: {string.Join(" ", value.DenseValues().Select(Bits))}");
        }
        else
        {
            foreach (float value in transformed.GetColumn<float>(column))
                Console.WriteLine($"row {row++} {name}: {Bits(value)}");
        }
    }
    return 0;
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex);
    return 1;
}

// Kept out of the top-level method: the JIT loads every assembly a method mentions when it compiles
// the method, and the plain path must not load MLNetRnn before ML.NET does.
[MethodImpl(MethodImplOptions.NoInlining)]
static ITransformer LoadValidated(MLContext mlContext, string path, out DataViewSchema? inputSchema)
    => MLNetRnn.Persistence.ModelFile.LoadValidated(mlContext.Model, path, out inputSchema);

[MethodImpl(MethodImplOptions.NoInlining)]
static void HangWhileSaving(MLContext mlContext, string path)
    => MLNetRnn.Persistence.ModelFile.SaveAtomically(mlContext.Model, new HangingTransformer(), null, path);

static string Bits(float value) => BitConverter.SingleToInt32Bits(value).ToString("x8", CultureInfo.InvariantCulture);

/// <summary>A transformer whose save never finishes: it stands for any save interrupted by a killed process.</summary>
internal sealed class HangingTransformer : ITransformer, ICanSaveModel
{
    public bool IsRowToRowMapper => false;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();

    public IDataView Transform(IDataView input) => input;

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        Console.WriteLine("saving");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Persistence;
using MLNetRnn.Testing;

// As in the library (src/MLNetRnn/Persistence/IgnoresAccessChecksToAttribute.cs): this assembly touches ML.NET's
// internals too, and the CLR checks access per assembly. The attribute type is the library's (visible through
// InternalsVisibleTo); the CLR recognises it by name.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

[assembly: LoadableClass(typeof(PersistenceProbeTransformer), null, typeof(SignatureLoadModel),
    PersistenceProbeTransformer.UserName, PersistenceProbeTransformer.LoaderSignature)]

// Lets ML.NET re-create the mapper alone when a RowToRowMapperTransform built on it is saved as a data
// transform (legacy IDataView pipelines); cheap to support, and a real transformer should do the same.
[assembly: LoadableClass(typeof(IRowMapper), typeof(PersistenceProbeTransformer), null, typeof(SignatureLoadRowMapper),
    PersistenceProbeTransformer.UserName, PersistenceProbeTransformer.LoaderSignature)]

namespace MLNetRnn.Testing;

/// <summary>
/// Multiplies a <see cref="float"/> column, or a vector of them, by a stored factor into a new column.
/// </summary>
/// <remarks>
/// <para>
/// This transformer has no use of its own. It exists to pin down, in tests, the mechanism every MLNetRnn
/// transformer relies on to survive <c>mlContext.Model.Save</c> and <c>Load</c> — in the same process,
/// inside pipelines, and in a fresh process with no registration call — and to be the worked example a
/// real transformer is built after. Keep it small and keep it in step with the real transformers. It lives in
/// its own test assembly, which models record as their loader assembly (see <see cref="Format"/>), so that the
/// library ships and registers no test component.
/// </para>
/// <para>
/// It derives from ML.NET's <see cref="RowToRowTransformerBase"/> with a nested mapper derived from
/// <c>MapperBase</c>, as ML.NET's own column transformers do. Their constructor and abstract hooks are
/// <c>private protected</c> in ML.NET; we see them as <c>protected</c> through the publicized references.
/// This gives, for a few lines: <c>Transform</c>, <c>GetOutputSchema</c>, <c>IsRowToRowMapper</c> and
/// <c>GetRowToRowMapper</c> (which <c>PredictionEngine</c> uses), cursor handling with column-activity
/// propagation, and the <c>SignatureLoadRowMapper</c> path. Implementing <see cref="ITransformer"/> and
/// <see cref="IRowToRowMapper"/> by hand would reimplement all of that.
/// </para>
/// <para>The three persistence pieces are: the assembly-level <c>LoadableClass</c> attributes above, the
/// static <c>Create</c> methods they point at, and <see cref="SaveModel"/>, all going through <see cref="Format"/>.</para>
/// </remarks>
internal sealed class PersistenceProbeTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "MLNetRnnPersistProbe";
    internal const string UserName = "MLNetRnn Persistence Probe";

    /// <summary>Format version 1: output name, input name, factor.</summary>
    internal static readonly ModelFormat Format = new(
        modelSignature: "MLNRPRBE",
        loaderSignature: LoaderSignature,
        currentVersion: 1,
        readableByVersion: 1,
        oldestReadableVersion: 1,
        loaderAssemblyName: typeof(PersistenceProbeTransformer).Assembly.GetName().Name);

    internal PersistenceProbeTransformer(IHostEnvironment env, string outputColumnName, string inputColumnName, float factor)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(PersistenceProbeTransformer)))
    {
        Host.CheckNonEmpty(outputColumnName, nameof(outputColumnName));
        Host.CheckNonEmpty(inputColumnName, nameof(inputColumnName));
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Factor = factor;
    }

    internal string OutputColumnName { get; }

    internal string InputColumnName { get; }

    internal float Factor { get; }

    /// <summary>Test seam: the format <see cref="SaveModel"/> writes, to produce models "from another version".</summary>
    internal ModelFormat WriteFormat { get; init; } = Format;

    /// <summary>Test seam: makes <see cref="SaveModel"/> throw after the ML.NET header has been written,
    /// as a transformer failing half-way through its save would.</summary>
    internal bool FailWhileSaving { get; init; }

    // Factory method for SignatureLoadModel; ML.NET finds it by name and parameter types.
    private static PersistenceProbeTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));

        var (output, input, factor) = Format.Load(ctx, static (reader, version) =>
        {
            // *** Binary format, version 1 ***
            // string: output column name
            // string: input column name
            // float:  factor
            string output = reader.ReadString();
            string input = reader.ReadString();
            float factor = reader.ReadSingle();
            return (output, input, factor);
        });
        return new PersistenceProbeTransformer(env, output, input, factor);
    }

    // Factory method for SignatureLoadRowMapper.
    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    protected override void SaveModel(ModelSaveContext ctx)
    {
        Host.CheckValue(ctx, nameof(ctx));
        if (FailWhileSaving)
        {
            ctx.SetVersionInfo(WriteFormat.GetVersionInfo());
            ctx.Writer.Write(0x0BADF00D);
            throw new IOException("Simulated failure while saving the persistence probe.");
        }

        WriteFormat.Save(ctx, writer =>
        {
            writer.Write(OutputColumnName);
            writer.Write(InputColumnName);
            writer.Write(Factor);
        });
    }

    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    private sealed class Mapper : MapperBase
    {
        private readonly PersistenceProbeTransformer _transformer;
        private readonly int _inputColumnIndex;
        private readonly DataViewType _type;

        public Mapper(PersistenceProbeTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _transformer = parent;
            if (!inputSchema.TryGetColumnIndex(parent.InputColumnName, out _inputColumnIndex))
                throw Host.ExceptSchemaMismatch(nameof(inputSchema), "input", parent.InputColumnName);
            _type = inputSchema[_inputColumnIndex].Type;
            if (_type != NumberDataViewType.Single && !(_type is VectorDataViewType vector && vector.ItemType == NumberDataViewType.Single))
                throw Host.ExceptSchemaMismatch(nameof(inputSchema), "input", parent.InputColumnName, "Single or vector of Single", _type.ToString());
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
            => [new DataViewSchema.DetachedColumn(_transformer.OutputColumnName, _type)];

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            bool active = activeOutput(0);
            return col => active && col == _inputColumnIndex;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            Host.Assert(iinfo == 0);
            disposer = null;
            float factor = _transformer.Factor;
            var column = input.Schema[_inputColumnIndex];

            if (_type is VectorDataViewType)
            {
                var getSource = input.GetGetter<VBuffer<float>>(column);
                VBuffer<float> source = default;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> destination) =>
                {
                    getSource(ref source);
                    var editor = VBufferEditor.Create(ref destination, source.Length, source.GetValues().Length);
                    source.GetValues().CopyTo(editor.Values);
                    for (int i = 0; i < editor.Values.Length; i++)
                        editor.Values[i] *= factor;
                    if (!source.IsDense)
                        source.GetIndices().CopyTo(editor.Indices);
                    destination = editor.Commit();
                });
            }

            var getScalar = input.GetGetter<float>(column);
            return (ValueGetter<float>)((ref float destination) =>
            {
                float value = 0;
                getScalar(ref value);
                destination = value * factor;
            });
        }

        protected override void SaveModel(ModelSaveContext ctx) => _transformer.SaveModel(ctx);
    }
}

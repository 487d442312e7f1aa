using System.Buffers.Binary;
using System.Text;

namespace MLNetRnn.Onnx;

/// <summary>
/// An <see cref="IOnnxGraph"/> that builds a whole ONNX model by itself and encodes it as ONNX's protobuf
/// (<c>onnx.proto</c>, the ModelProto message), with no dependency on ML.NET's converter or on a protobuf library.
/// Series mode uses it: its forecaster is no row-to-row transform, so ML.NET's <c>ConvertToOnnx</c> cannot carry it
/// (docs/design/onnx.md). Besides the graph interface it declares the graph's inputs and outputs, whose first
/// dimension is the symbolic batch N.
/// </summary>
/// <remarks>
/// Only what the writers of this folder use is encoded: float, int64 and bool initializers (as raw little-endian
/// bytes), nodes of the standard domain with int, float, string and list attributes, tensor inputs and outputs.
/// The field numbers are those of onnx.proto, quoted beside each write.
/// </remarks>
internal sealed class OnnxModelWriter : IOnnxGraph
{
    /// <summary>The operator set the model imports: every operator written here exists in it with the attributes
    /// used (Mod, for the position in the season, needs 10; attribute-form ReduceMean holds up to 17).</summary>
    public const int OpSet = 12;

    /// <summary>The IR version that goes with <see cref="OpSet"/> (ONNX 1.7).</summary>
    private const long IrVersion = 7;

    // onnx.proto TensorProto.DataType
    internal const int Float = 1, Int64 = 7, Bool = 9, Double = 11;

    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<byte[]> _nodes = [];          // NodeProto, encoded
    private readonly List<byte[]> _initializers = [];   // TensorProto, encoded
    private readonly List<byte[]> _inputs = [];         // ValueInfoProto, encoded
    private readonly List<byte[]> _outputs = [];        // ValueInfoProto, encoded
    private readonly List<(string Key, string Value)> _metadata = [];
    private int _nodeCount;

    public string NewVariable(string name) => Unique(name);

    public string AddInitializer(string name, IReadOnlyList<float> values, params long[] dims)
    {
        var raw = new byte[4 * values.Count];
        for (int i = 0; i < values.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), values[i]);
        return AddTensor(name, Float, raw, dims, values.Count);
    }

    public string AddInitializer(string name, IReadOnlyList<long> values, params long[] dims)
    {
        var raw = new byte[8 * values.Count];
        for (int i = 0; i < values.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(8 * i), values[i]);
        return AddTensor(name, Int64, raw, dims, values.Count);
    }

    public string AddInitializer(string name, IReadOnlyList<bool> values, params long[] dims)
    {
        var raw = new byte[values.Count];
        for (int i = 0; i < values.Count; i++) raw[i] = values[i] ? (byte)1 : (byte)0;
        return AddTensor(name, Bool, raw, dims, values.Count);
    }

    public void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes)
    {
        var node = new ProtoWriter();
        foreach (string i in inputs) node.String(1, i);               // NodeProto.input
        foreach (string o in outputs) node.String(2, o);              // NodeProto.output
        node.String(3, $"{opType}{_nodeCount++}");                    // NodeProto.name
        node.String(4, opType);                                       // NodeProto.op_type
        foreach (var a in attributes) node.Message(5, Attribute(a)); // NodeProto.attribute
        node.String(7, "");                                           // NodeProto.domain: the standard one
        _nodes.Add(node.ToArray());
    }

    /// <summary>Declares a graph input of element type <paramref name="elementType"/> (an onnx.proto DataType) and
    /// shape (N, <paramref name="dims"/>…); returns its name, which must not be taken.</summary>
    public string AddInput(string name, int elementType, string docString, params long[] dims)
    {
        Claim(name);
        _inputs.Add(ValueInfo(name, elementType, docString, dims));
        return name;
    }

    /// <summary>Declares <paramref name="variable"/> as a graph output named <paramref name="name"/>, of floats of shape
    /// (N, <paramref name="dims"/>…).</summary>
    public void AddOutput(string name, string variable, string docString, params long[] dims)
    {
        Claim(name);
        AddNode("Identity", [variable], [name]);
        _outputs.Add(ValueInfo(name, Float, docString, dims));
    }

    /// <summary>Adds a key/value pair to the model's metadata (ONNX Runtime: <c>ModelMetadata.CustomMetadataMap</c>).</summary>
    public void AddMetadata(string key, string value) => _metadata.Add((key, value));

    /// <summary>The encoded ModelProto. Allocates.</summary>
    public byte[] ToModel(string graphName, string producerVersion, string docString)
    {
        var graph = new ProtoWriter();
        foreach (var n in _nodes) graph.Bytes(1, n);          // GraphProto.node
        graph.String(2, graphName);                           // GraphProto.name
        foreach (var t in _initializers) graph.Bytes(5, t);   // GraphProto.initializer
        graph.String(10, docString);                          // GraphProto.doc_string
        foreach (var i in _inputs) graph.Bytes(11, i);        // GraphProto.input
        foreach (var o in _outputs) graph.Bytes(12, o);       // GraphProto.output

        var opset = new ProtoWriter().String(1, "").Int(2, OpSet);   // OperatorSetIdProto: domain, version

        var model = new ProtoWriter();
        model.Int(1, IrVersion);                  // ModelProto.ir_version
        model.String(2, "MLNetRnn");              // ModelProto.producer_name
        model.String(3, producerVersion);         // ModelProto.producer_version
        model.String(4, "mlnetrnn");              // ModelProto.domain
        model.Int(5, 1);                          // ModelProto.model_version
        model.String(6, docString);               // ModelProto.doc_string
        model.Message(7, graph);                  // ModelProto.graph
        model.Message(8, opset);                  // ModelProto.opset_import
        foreach (var (key, value) in _metadata)   // ModelProto.metadata_props: StringStringEntryProto key, value
            model.Message(14, new ProtoWriter().String(1, key).String(2, value));
        return model.ToArray();
    }

    private string AddTensor(string name, int dataType, byte[] raw, long[] dims, int count)
    {
        long size = 1;
        foreach (long d in dims) size *= d;
        if (size != count) throw new ArgumentException($"Initializer '{name}' has {count} values for shape ({string.Join(", ", dims)}).", nameof(dims));
        string unique = Unique(name);
        var tensor = new ProtoWriter();
        foreach (long d in dims) tensor.Int(1, d);   // TensorProto.dims
        tensor.Int(2, dataType);                     // TensorProto.data_type
        tensor.String(8, unique);                    // TensorProto.name
        tensor.Bytes(9, raw);                        // TensorProto.raw_data
        _initializers.Add(tensor.ToArray());
        return unique;
    }

    private static byte[] ValueInfo(string name, int elementType, string docString, long[] dims)
    {
        var shape = new ProtoWriter();
        shape.Message(1, new ProtoWriter().String(2, "N"));              // TensorShapeProto.dim: dim_param, the batch
        foreach (long d in dims) shape.Message(1, new ProtoWriter().Int(1, d));   // dim_value
        var tensorType = new ProtoWriter().Int(1, elementType).Message(2, shape); // TypeProto.Tensor: elem_type, shape
        var type = new ProtoWriter().Message(1, tensorType);                      // TypeProto.tensor_type
        return new ProtoWriter().String(1, name).Message(2, type).String(3, docString).ToArray();   // ValueInfoProto
    }

    private static ProtoWriter Attribute(OnnxAttribute a)
    {
        // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, strings 9, type 20
        // (AttributeType FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7, STRINGS 8).
        var w = new ProtoWriter().String(1, a.Name);
        switch (a.Value)
        {
            case long v: w.Int(3, v).Int(20, 2); break;
            case float v: w.Float(2, v).Int(20, 1); break;
            case string v: w.String(4, v).Int(20, 3); break;
            case float[] v: foreach (float x in v) w.Float(7, x); w.Int(20, 6); break;
            case long[] v: foreach (long x in v) w.Int(8, x); w.Int(20, 7); break;
            case string[] v: foreach (string x in v) w.String(9, x); w.Int(20, 8); break;
            default: throw new ArgumentException($"ONNX attribute '{a.Name}' has unsupported type {a.Value?.GetType().Name ?? "null"}.", nameof(a));
        }
        return w;
    }

    private string Unique(string name)
    {
        string unique = name;
        for (int k = 1; !_names.Add(unique); k++) unique = $"{name}_{k}";
        return unique;
    }

    private void Claim(string name)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"The ONNX name '{name}' is already taken.");
    }

    /// <summary>Protobuf's wire format, the part ONNX needs: varints (wire type 0), 32-bit floats (5) and
    /// length-delimited bytes, strings and messages (2).</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _bytes = new();

        public ProtoWriter Int(int field, long value)
        {
            Tag(field, 0);
            Varint((ulong)value);   // negative int64: ten bytes, two's complement, as protobuf encodes them
            return this;
        }

        public ProtoWriter Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _bytes.Write(b);
            return this;
        }

        public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
        {
            Tag(field, 2);
            Varint((ulong)value.Length);
            _bytes.Write(value);
            return this;
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void Tag(int field, int wireType) => Varint((ulong)(field << 3 | wireType));

        private void Varint(ulong v)
        {
            for (; v >= 0x80; v >>= 7) _bytes.WriteByte((byte)(v | 0x80));
            _bytes.WriteByte((byte)v);
        }
    }
}

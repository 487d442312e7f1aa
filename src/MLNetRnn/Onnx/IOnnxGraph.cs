namespace MLNetRnn.Onnx;

/// <summary>
/// The few things a graph writer needs from an ONNX model under construction: fresh variable names, constant
/// tensors, and nodes of the standard (<c>ai.onnx</c>) domain. The writers of this folder and of window mode speak
/// only this interface, so they carry no ML.NET types; <see cref="OnnxContextGraph"/> implements it over ML.NET's
/// converter context, and another front end (a protobuf writer, series mode's export) can implement it too.
/// </summary>
/// <remarks>Tensors are row-major, last index fastest, as everywhere in MLNetRnn and in ONNX.</remarks>
internal interface IOnnxGraph
{
    /// <summary>A variable name not used before in the graph, derived from <paramref name="name"/>. Its type and
    /// shape are left to the runtime's inference.</summary>
    string NewVariable(string name);

    /// <summary>Adds a constant float tensor of shape <paramref name="dims"/>; returns its (unique) name.</summary>
    string AddInitializer(string name, IReadOnlyList<float> values, params long[] dims);

    /// <summary>Adds a constant int64 tensor of shape <paramref name="dims"/>; returns its (unique) name.</summary>
    string AddInitializer(string name, IReadOnlyList<long> values, params long[] dims);

    /// <summary>Adds a constant bool tensor of shape <paramref name="dims"/>; returns its (unique) name.</summary>
    string AddInitializer(string name, IReadOnlyList<bool> values, params long[] dims);

    /// <summary>Adds a node of the standard ONNX domain. An empty string in <paramref name="outputs"/> leaves that
    /// optional output unproduced, as ONNX allows.</summary>
    void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes);
}

/// <summary>A node attribute: <see cref="Value"/> is a <see cref="long"/>, <see cref="float"/>, <see cref="string"/>,
/// or an array of one of those.</summary>
internal readonly record struct OnnxAttribute(string Name, object Value)
{
    public static OnnxAttribute Int(string name, long value) => new(name, value);

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, values);

    public static OnnxAttribute Float(string name, float value) => new(name, value);

    public static OnnxAttribute Floats(string name, params float[] values) => new(name, values);

    public static OnnxAttribute Strings(string name, params string[] values) => new(name, values);
}

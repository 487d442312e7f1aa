using Microsoft.ML.Model.OnnxConverter;

namespace MLNetRnn.Onnx;

/// <summary><see cref="IOnnxGraph"/> over ML.NET's ONNX converter context, the one <c>mlContext.Model.ConvertToOnnx</c>
/// hands to each component that saves itself as ONNX.</summary>
internal sealed class OnnxContextGraph(OnnxContext ctx) : IOnnxGraph
{
    // ML.NET's converter names the standard domain "" and its own ML operators "ai.onnx.ml" (its default).
    private const string StandardDomain = "";

    public string NewVariable(string name) => ctx.AddIntermediateVariable(null, name, skip: true);

    public string AddInitializer(string name, IReadOnlyList<float> values, params long[] dims) => ctx.AddInitializer(values, dims, name);

    public string AddInitializer(string name, IReadOnlyList<long> values, params long[] dims) => ctx.AddInitializer(values, dims, name);

    public string AddInitializer(string name, IReadOnlyList<bool> values, params long[] dims) => ctx.AddInitializer(values, dims, name);

    public void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes)
    {
        var node = ctx.CreateNode(opType, inputs, outputs, ctx.GetNodeName(opType), StandardDomain);
        foreach (var (name, value) in attributes)
        {
            switch (value)
            {
                case long v: node.AddAttribute(name, v); break;
                case float v: node.AddAttribute(name, (double)v); break;   // ONNX stores it as a float attribute
                case string v: node.AddAttribute(name, v); break;
                case long[] v: node.AddAttribute(name, (IEnumerable<long>)v); break;
                case float[] v: node.AddAttribute(name, (IEnumerable<float>)v); break;
                case string[] v: node.AddAttribute(name, v); break;
                default: throw new ArgumentException($"ONNX attribute '{name}' has unsupported type {value?.GetType().Name ?? "null"}.", nameof(attributes));
            }
        }
    }
}

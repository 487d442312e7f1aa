using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Network;
using MLNetRnn.Onnx.Cells;

namespace MLNetRnn.Onnx;

// T = steps, N = rows (the graph's dynamic batch), I = input features, H = hidden, O = outputs, G = gate blocks.
// ONNX's recurrent operators take X (T, N, I), W (1, G·H, I), R (1, G·H, H), B (1, 2·G·H) = [Wb | Rb], and write
// Y (T, 1, N, H) and Y_h (1, N, H). Our parameters have PyTorch's names, shapes and gate order; ONNX orders the
// gate blocks differently:
//   LSTM  PyTorch i|f|g|o  →  ONNX i|o|f|c   (c is PyTorch's g)
//   GRU   PyTorch r|z|n    →  ONNX z|r|h     (h is PyTorch's n), with linear_before_reset = 1, PyTorch's variant
//   RNN   one block, same in both
// Each cell's operator, gate order and attributes are in Onnx/Cells/ (one file per cell, CellOnnxCatalog).

/// <summary>
/// Writes a <see cref="RecurrentNetwork"/> (any cell, stacked layers, linear head) into an ONNX graph with the
/// standard <c>RNN</c>, <c>LSTM</c> and <c>GRU</c> operators, from a zero initial state. No ML.NET here: the graph is
/// reached through <see cref="IOnnxGraph"/>, so window mode and series mode can share it. docs/design/onnx.md says
/// why the standard operators rather than an unrolled graph.
/// </summary>
internal static class RecurrentNetworkOnnx
{
    /// <summary>The ONNX operator set the nodes written here need: 9 (the lowest ML.NET's converter writes) has every
    /// one of them with the attributes used here.</summary>
    public const int MinimumOpSet = 9;

    /// <summary>Throws if <paramref name="spec"/> has a part the standard operators cannot express.</summary>
    /// <exception cref="NotSupportedException">Layer normalisation is on, a layer is dilated or stacked layers have residual
    /// connections (each names the option and what to do), or the last input is a category index.</exception>
    public static void CheckExportable(RecurrentNetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.InputCategories.Count > 0)
            throw new NotSupportedException(
                $"This {spec.Cell} network reads its last {(spec.InputCategories.Count == 1 ? "input" : $"{spec.InputCategories.Count} inputs")} as category indices (InputCategories), " +
                "which the graph's RNN, LSTM and GRU operators do not read; it cannot be exported to ONNX.");
        if (spec.LayerNormalization)
            throw new NotSupportedException(
                $"This {spec.Cell} network normalises its gate pre-activations (LayerNormalization = true), which ONNX's " +
                "RNN, LSTM and GRU operators cannot express, so it cannot be exported to ONNX. Train with LayerNormalization " +
                "off to export the model.");
        if (spec.IsDilated)
            throw new NotSupportedException(
                $"This {spec.Cell} network has dilated layers (Dilations = [{string.Join(", ", spec.Dilations)}]): a step reads the state of d steps " +
                "back, which ONNX's RNN, LSTM and GRU operators cannot express, so it cannot be exported to ONNX. Train without Dilations to export the model " +
                "(a forecaster dilates its networks itself when its seasons nest, as 24 and 168 hours do: set SeasonalDilation = false).");
        if (spec.ResidualConnections && spec.Layers > 1)
            throw new NotSupportedException(
                $"This {spec.Cell} network adds each layer's input to its output (ResidualConnections = true), which this exporter does not write; " +
                "it cannot be exported to ONNX. Train with ResidualConnections off to export the model.");
    }

    /// <summary>
    /// Reshapes batch-first rows <paramref name="rows"/> (N, T·I) into the time-major (T, N, I) the recurrent operators
    /// read; returns the new variable.
    /// </summary>
    public static string ToTimeMajor(IOnnxGraph g, string rows, int T, int I, string prefix)
    {
        string shape = g.AddInitializer($"{prefix}.shape_NTI", [-1L, T, I], 3);
        string batchFirst = g.NewVariable($"{prefix}.x_NTI");
        g.AddNode("Reshape", [rows, shape], [batchFirst]);
        string timeMajor = g.NewVariable($"{prefix}.x_TNI");
        g.AddNode("Transpose", [batchFirst], [timeMajor], OnnxAttribute.Ints("perm", 1, 0, 2));
        return timeMajor;
    }

    /// <summary>
    /// Runs <paramref name="network"/> over <paramref name="input"/> (T, N, I) from a zero state and applies its head
    /// to the top layer's last state. Returns the variable holding the head's output, (N, O).
    /// </summary>
    /// <exception cref="NotSupportedException">The network cannot be expressed (see <see cref="CheckExportable"/>).</exception>
    public static string WriteLastStep(IOnnxGraph g, RecurrentNetwork network, string input, int T, string prefix)
    {
        ArgumentNullException.ThrowIfNull(network);
        var spec = network.Spec;
        CheckExportable(spec);
        var p = network.Parameters;
        int L = spec.Layers, G = spec.GateCount;
        var cell = CellOnnxCatalog.Of(spec.Cell);
        int[] order = cell.GateOrder;
        string x = input;
        string lastState = "";
        for (int l = 0; l < L; l++)
        {
            int H = spec.HiddenSizes[l], I = spec.LayerInputSize(l);
            string w = g.AddInitializer($"{prefix}.W_l{l}", Reorder(p.Value(p[ParameterNames.WeightIH(l)]), order, H * I), 1, G * H, I);
            string r = g.AddInitializer($"{prefix}.R_l{l}", Reorder(p.Value(p[ParameterNames.WeightHH(l)]), order, H * H), 1, G * H, H);
            float[] bias = [.. Reorder(p.Value(p[ParameterNames.BiasIH(l)]), order, H), .. Reorder(p.Value(p[ParameterNames.BiasHH(l)]), order, H)];
            string b = g.AddInitializer($"{prefix}.B_l{l}", bias, 1, 2 * G * H);

            bool top = l == L - 1;
            // Below the top only the sequence Y feeds the next layer; at the top only the last state Y_h is needed.
            string y = top ? "" : g.NewVariable($"{prefix}.Y_l{l}");
            string yh = top ? g.NewVariable($"{prefix}.Y_h_l{l}") : "";
            g.AddNode(cell.Operator, [x, w, r, b], [y, yh], cell.Attributes(spec, H));
            if (top)
            {
                string shape = g.AddInitializer($"{prefix}.shape_NH", [-1L, H], 2);
                lastState = g.NewVariable($"{prefix}.h_last");
                g.AddNode("Reshape", [yh, shape], [lastState]);   // (1, N, H) → (N, H)
            }
            else
            {
                string shape = g.AddInitializer($"{prefix}.shape_TNH", [(long)T, -1L, H], 3);
                x = g.NewVariable($"{prefix}.x_l{l + 1}");
                g.AddNode("Reshape", [y, shape], [x]);            // (T, 1, N, H) → (T, N, H)
            }
        }

        // The head, PyTorch's nn.Linear: y = h·Wᵀ + b with W (O, H).
        var head = p[ParameterNames.HeadWeight];
        string headWeight = g.AddInitializer($"{prefix}.head_weight", p.Value(head).ToArray(), head.Rows, head.Columns);
        string headBias = g.AddInitializer($"{prefix}.head_bias", p.Value(p[ParameterNames.HeadBias]).ToArray(), spec.OutputSize);
        string output = g.NewVariable($"{prefix}.head");
        g.AddNode("Gemm", [lastState, headWeight, headBias], [output], OnnxAttribute.Int("transB", 1));
        return output;
    }

    /// <summary>For each ONNX gate block k, the PyTorch block it takes.</summary>
    internal static int[] OnnxGateOrder(RecurrentCellKind cell) => CellOnnxCatalog.Of(cell).GateOrder;

    /// <summary>Gate blocks of <paramref name="blockLength"/> values, in ONNX's order.</summary>
    private static float[] Reorder(ReadOnlySpan<float> pyTorch, int[] order, int blockLength)
    {
        var onnx = new float[pyTorch.Length];
        for (int k = 0; k < order.Length; k++)
            pyTorch.Slice(order[k] * blockLength, blockLength).CopyTo(onnx.AsSpan(k * blockLength, blockLength));
        return onnx;
    }
}

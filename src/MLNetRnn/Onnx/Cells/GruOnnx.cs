using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Onnx.Cells;

/// <summary>GRU → ONNX GRU. PyTorch's gate order r|z|n becomes ONNX's z|r|h (h is PyTorch's n).</summary>
internal sealed class GruOnnx : ICellOnnx
{
    public RecurrentCellKind Kind => RecurrentCellKind.Gru;

    public string Operator => "GRU";

    public int[] GateOrder => [1, 0, 2];       // z, r, h ← r, z, n

    // PyTorch applies r to (W_hn·h + b_hn), after the product: ONNX's linear_before_reset = 1.
    public OnnxAttribute[] Attributes(RecurrentNetworkSpec spec, int H)
        => [OnnxAttribute.Int("hidden_size", H), OnnxAttribute.Int("linear_before_reset", 1)];
}

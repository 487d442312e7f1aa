using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Onnx.Cells;

/// <summary>LSTM → ONNX LSTM. PyTorch's gate order i|f|g|o becomes ONNX's i|o|f|c (c is PyTorch's g).</summary>
internal sealed class LstmOnnx : ICellOnnx
{
    public RecurrentCellKind Kind => RecurrentCellKind.Lstm;

    public string Operator => "LSTM";

    public int[] GateOrder => [0, 3, 1, 2];   // i, o, f, c ← i, f, g, o

    public OnnxAttribute[] Attributes(RecurrentNetworkSpec spec, int H) => [OnnxAttribute.Int("hidden_size", H)];
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Onnx.Cells;

/// <summary>Elman → ONNX RNN: one gate block, the nonlinearity as the operator's activation.</summary>
internal sealed class ElmanOnnx : ICellOnnx
{
    public RecurrentCellKind Kind => RecurrentCellKind.Elman;

    public string Operator => "RNN";

    public int[] GateOrder => [0];

    public OnnxAttribute[] Attributes(RecurrentNetworkSpec spec, int H)
    {
        var hidden = OnnxAttribute.Int("hidden_size", H);
        // The randomised leaky ReLU uses the mean of its slope range at inference, as our forward pass does.
        return spec.Activation switch
        {
            ElmanActivation.Tanh => [hidden, OnnxAttribute.Strings("activations", "Tanh")],
            ElmanActivation.Sigmoid => [hidden, OnnxAttribute.Strings("activations", "Sigmoid")],
            ElmanActivation.Relu => [hidden, OnnxAttribute.Strings("activations", "Relu")],
            ElmanActivation.LeakyRelu => [hidden, OnnxAttribute.Strings("activations", "LeakyRelu"), OnnxAttribute.Floats("activation_alpha", spec.LeakySlope)],
            ElmanActivation.RandomizedLeakyRelu => [hidden, OnnxAttribute.Strings("activations", "LeakyRelu"),
                OnnxAttribute.Floats("activation_alpha", 0.5f * (spec.RandomizedLeakyLower + spec.RandomizedLeakyUpper))],
            ElmanActivation.Elu => [hidden, OnnxAttribute.Strings("activations", "Elu"), OnnxAttribute.Floats("activation_alpha", spec.EluAlpha)],
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Activation, "Unknown Elman activation."),
        };
    }
}

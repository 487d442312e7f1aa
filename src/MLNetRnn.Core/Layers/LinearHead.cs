using System.Runtime.CompilerServices;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Memory;

namespace MLNetRnn.Core.Layers;

// B = batch, H = top layer's hidden size, O = outputs, P = steps the head is applied to.
//   y (P·B, O) = h (P·B, H) · Wᵀ + b       for the last P steps of the window

/// <summary>The linear output head, PyTorch's nn.Linear(H, O) applied at the last P steps.</summary>
internal sealed class LinearHead
{
    public const string WeightName = "head.weight";
    public const string BiasName = "head.bias";
    public readonly int H, O;
    public readonly ParameterTensor Weight;   // (O, H)
    public readonly ParameterTensor Bias;     // (O)

    public LinearHead(ParameterBuffer p, int hidden, int outputs)
    {
        H = hidden; O = outputs;
        Weight = p[WeightName];
        Bias = p[BiasName];
    }

    /// <summary>y = h · Wᵀ + b. Writes (=) <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ParameterBuffer p, float[] weightT,
        ReadOnlySpan<float> h,    // (P·B, H) the top layer's last P states
        Span<float> y,            // (P·B, O)
        int rows)
    {
        Gemm.Transpose(p.Value(Weight), weightT, O, H);
        Gemm.NN(rows, O, H, h, weightT, y, accumulate: false);
        RecurrentLayer.AddRows(y, p.Value(Bias), rows);
    }

    /// <summary>Accumulates (+=) dW, db; writes (=) <paramref name="dh"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ParameterBuffer p,
        ReadOnlySpan<float> h,    // (P·B, H) as given to Forward
        ReadOnlySpan<float> dy,   // (P·B, O)
        Span<float> dh,           // (P·B, H) written
        int rows)
    {
        Gemm.TN(O, H, rows, dy, h, p.Gradient(Weight), accumulate: true);
        RecurrentLayer.SumRows(dy, p.Gradient(Bias), rows);
        Gemm.NN(rows, H, O, dy, p.Value(Weight), dh, accumulate: false);
    }
}

using MLNetRnn.Core.Memory;

namespace MLNetRnn.Core.Training;

/// <summary>How the mini-batch gradient is bounded before the optimiser step.</summary>
public enum GradientClippingMode
{
    /// <summary>No clipping.</summary>
    None,

    /// <summary>Pascanu et al. (2013): if ‖g‖ &gt; τ over all parameters, g ← τ·g/‖g‖. Keeps the direction,
    /// bounds the step length (PyTorch's clip_grad_norm_).</summary>
    GlobalNorm,

    /// <summary>Each partial derivative clamped to [−τ, τ] (Keras clipvalue). Changes the direction.</summary>
    Value,

    /// <summary>Each named tensor (weight_hh_l0, head.weight, …) rescaled to norm ≤ τ on its own (Keras clipnorm).</summary>
    PerParameterNorm,
}

/// <summary>Gradient clipping over a <see cref="ParameterBuffer"/>. One loop each; no allocation.</summary>
public static class GradientClipping
{
    /// <summary>‖g‖₂ over all of <paramref name="gradient"/>, accumulated in double so that large
    /// networks do not lose the small terms.</summary>
    public static double Norm(ReadOnlySpan<float> gradient)
    {
        double s = 0;
        for (int k = 0; k < gradient.Length; k++) s += (double)gradient[k] * gradient[k];
        return Math.Sqrt(s);
    }

    /// <summary>
    /// Clips <see cref="ParameterBuffer.Gradients"/> in place and returns the global norm before and
    /// after. Call once per step, on the gradient summed over the mini-batch, before the optimiser.
    /// </summary>
    /// <param name="parameters">Parameters whose gradients are clipped.</param>
    /// <param name="mode">Clipping mode.</param>
    /// <param name="threshold">τ &gt; 0 (ignored for <see cref="GradientClippingMode.None"/>).</param>
    public static (double NormBefore, double NormAfter) Apply(ParameterBuffer parameters, GradientClippingMode mode, float threshold)
    {
        Span<float> g = parameters.Gradients;
        double before = Norm(g);
        switch (mode)
        {
            case GradientClippingMode.None:
                return (before, before);
            case GradientClippingMode.GlobalNorm:
                if (before > threshold)
                {
                    // PyTorch adds 1e-6 to the norm; we scale to exactly τ so the property "norm after ≤ τ" is exact up to rounding.
                    float scale = (float)(threshold / before);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(g, scale, g);
                }
                break;
            case GradientClippingMode.Value:
                for (int k = 0; k < g.Length; k++) g[k] = Math.Clamp(g[k], -threshold, threshold);
                break;
            case GradientClippingMode.PerParameterNorm:
                foreach (var t in parameters.Tensors)
                {
                    Span<float> gt = parameters.Gradient(t);
                    double n = Norm(gt);
                    if (n > threshold) System.Numerics.Tensors.TensorPrimitives.Multiply(gt, (float)(threshold / n), gt);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown clipping mode.");
        }
        return (before, Norm(g));
    }
}

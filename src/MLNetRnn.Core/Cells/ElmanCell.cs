using System.Diagnostics;

namespace MLNetRnn.Core.Cells;

// B = batch, H = hidden. One Elman step on a batch; the layer has already formed the pre-activation
//   pre (B,H) = x·W_ihᵀ + b_ih + h_prev·W_hhᵀ + b_hh   (and layer-normalised it, if enabled).

/// <summary>The nonlinearity of an Elman cell with its parameters, resolved once from the spec.</summary>
internal readonly struct Activation
{
    public readonly ElmanActivation Kind;
    public readonly float LeakySlope, RandomLower, RandomUpper, EluAlpha;

    public Activation(ElmanActivation kind, float leakySlope, float randomLower, float randomUpper, float eluAlpha)
    {
        Kind = kind; LeakySlope = leakySlope; RandomLower = randomLower; RandomUpper = randomUpper; EluAlpha = eluAlpha;
    }

    /// <summary>Whether the slope of each element is random while training (and so kept for Backward).</summary>
    public bool IsRandomized => Kind == ElmanActivation.RandomizedLeakyRelu;

    /// <summary>The slope used at inference for randomised leaky ReLU: the mean of its distribution.</summary>
    public float MeanRandomSlope => 0.5f * (RandomLower + RandomUpper);

    /// <summary>Whether σ'' is zero almost everywhere (piecewise-linear σ), which lets Pascanu's
    /// regulariser skip the curvature term.</summary>
    public bool IsPiecewiseLinear => Kind is ElmanActivation.Relu or ElmanActivation.LeakyRelu or ElmanActivation.RandomizedLeakyRelu;
}

/// <summary>Elman cell: h = σ(pre). Forward and Backward on one step of a batch.</summary>
internal static class ElmanCell
{
    /// <summary>h = σ(pre). With randomised leaky ReLU, writes each element's slope into
    /// <paramref name="slope"/> for Backward: drawn when training, the mean otherwise.</summary>
    public static void Forward(
        ReadOnlySpan<float> pre,   // (B,H)
        Span<float> h,             // (B,H) written
        Span<float> slope,         // (B,H) written for randomised leaky ReLU, else unused
        in Activation act, bool training, Random rng)
    {
        Debug.Assert(h.Length == pre.Length);
        int n = pre.Length;
        switch (act.Kind)
        {
            case ElmanActivation.Tanh:
                for (int k = 0; k < n; k++) h[k] = MathF.Tanh(pre[k]);
                break;
            case ElmanActivation.Sigmoid:
                for (int k = 0; k < n; k++) h[k] = Sigmoid(pre[k]);
                break;
            case ElmanActivation.Relu:
                for (int k = 0; k < n; k++) h[k] = pre[k] > 0f ? pre[k] : 0f;
                break;
            case ElmanActivation.LeakyRelu:
                for (int k = 0; k < n; k++) h[k] = pre[k] > 0f ? pre[k] : act.LeakySlope * pre[k];
                break;
            case ElmanActivation.RandomizedLeakyRelu:
                if (training)
                {
                    float width = act.RandomUpper - act.RandomLower;
                    for (int k = 0; k < n; k++)
                    {
                        // Drawn for every element, as PyTorch's RReLU does, so the random stream does
                        // not depend on the signs of the data.
                        float s = act.RandomLower + width * rng.NextSingle();
                        slope[k] = s;
                        h[k] = pre[k] > 0f ? pre[k] : s * pre[k];
                    }
                }
                else
                {
                    // The mean slope is kept too, so a Backward after an inference Forward stays consistent.
                    float s = act.MeanRandomSlope;
                    for (int k = 0; k < n; k++) { slope[k] = s; h[k] = pre[k] > 0f ? pre[k] : s * pre[k]; }
                }
                break;
            case ElmanActivation.Elu:
                for (int k = 0; k < n; k++) h[k] = pre[k] > 0f ? pre[k] : act.EluAlpha * (MathF.Exp(pre[k]) - 1f);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(act), act.Kind, "Unknown Elman activation.");
        }
    }

    /// <summary>dPre = dh ⊙ σ'(pre), with σ' written in terms of the output h (and the kept slope).
    /// Writes (=) <paramref name="dPre"/>.</summary>
    public static void Backward(
        ReadOnlySpan<float> dh,     // (B,H) total gradient w.r.t. this step's output
        ReadOnlySpan<float> h,      // (B,H) this step's output, from Forward
        ReadOnlySpan<float> slope,  // (B,H) from Forward (randomised leaky ReLU only)
        in Activation act,
        Span<float> dPre)           // (B,H) written
    {
        int n = dh.Length;
        for (int k = 0; k < n; k++) dPre[k] = dh[k] * Derivative(h[k], slope.IsEmpty ? 0f : slope[k], act);
    }

    /// <summary>σ'(a) from the output h = σ(a). Mirrors PyTorch's backward formulas: ReLU family uses
    /// 1 where h &gt; 0, ELU uses h + α where h ≤ 0.</summary>
    public static float Derivative(float h, float slope, in Activation act) => act.Kind switch
    {
        ElmanActivation.Tanh => 1f - h * h,
        ElmanActivation.Sigmoid => h * (1f - h),
        ElmanActivation.Relu => h > 0f ? 1f : 0f,
        ElmanActivation.LeakyRelu => h > 0f ? 1f : act.LeakySlope,
        ElmanActivation.RandomizedLeakyRelu => h > 0f ? 1f : slope,
        ElmanActivation.Elu => h > 0f ? 1f : h + act.EluAlpha,
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>σ''(a) from the output h, for Pascanu's regulariser: the derivative of σ' through the
    /// pre-activation. Zero for the piecewise-linear activations.</summary>
    public static float SecondDerivative(float h, in Activation act) => act.Kind switch
    {
        ElmanActivation.Tanh => -2f * h * (1f - h * h),
        ElmanActivation.Sigmoid => h * (1f - h) * (1f - 2f * h),
        ElmanActivation.Elu => h > 0f ? 0f : h + act.EluAlpha,
        _ => 0f,
    };

    internal static float Sigmoid(float a) => 1f / (1f + MathF.Exp(-a));
}

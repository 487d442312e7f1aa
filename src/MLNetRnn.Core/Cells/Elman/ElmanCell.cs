using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MLNetRnn.Core.Kernels;

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
internal sealed class ElmanCell : IRecurrentCell
{
    public const int Gates = 1;

    public static readonly ElmanCell Instance = new();

    private ElmanCell() { }

    public RecurrentCellKind Kind => RecurrentCellKind.Elman;
    int IRecurrentCell.Gates => Gates;
    public IReadOnlyList<string> GateNames { get; } = ["h"];
    public bool HasCellState => false;
    public bool SeparateRecurrentProduct => false;
    public int ForgetGate => -1;
    public bool SupportsVanishingRegularizer => true;
    public bool NeedsSlopes(in Activation act) => act.IsRandomized;
    void IRecurrentCell.DrawSlopes(Span<float> slopes, in Activation act, Random rng) => DrawSlopes(slopes, act, rng);

    /// <summary>pre += h_prev·W_hhᵀ, layer-normalised if enabled, then h = σ(pre).</summary>
    public void Forward(in CellStep s)
    {
        int H = s.H;
        Gemm.Packed(s.B, s.HPrev, H, s.WeightHHT, s.Gates, H, accumulate: true);
        if (s.Ln.Enabled)
            for (int b = 0; b < s.B; b++) s.Ln.Forward(s.Gates.Slice(b * H, H), b, 0, H, 1);
        Forward(s.Gates, s.HOut, s.Slopes, s.Activation, s.Training);
    }

    /// <summary>dPre = dh ⊙ σ'(pre) (through the layer norm if enabled), then dh_prev = dPre·W_hh.</summary>
    public void Backward(in CellStep s)
    {
        int H = s.H;
        // h = σ(pre)
        Backward(s.Dh, s.HOut, s.Slopes, s.Activation, s.DGates);
        if (s.Ln.Enabled)
            for (int b = 0; b < s.B; b++) s.Ln.Backward(s.DGates.Slice(b * H, H), b, 0, H, 1);
        // pre = … + h_prev · W_hhᵀ
        Gemm.Packed(s.B, s.DGates, H, s.WeightHH, s.DhPrev, H, accumulate: false);
    }

    /// <summary>h = σ(pre). With randomised leaky ReLU, uses each element's slope from
    /// <paramref name="slope"/> when training (drawn beforehand by <see cref="DrawSlopes"/>) and writes the
    /// mean slope there otherwise, so Backward reads the slope that was used either way.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(
        ReadOnlySpan<float> pre,   // (B,H)
        Span<float> h,             // (B,H) written
        Span<float> slope,         // (B,H) randomised leaky ReLU only: read when training, written otherwise
        in Activation act, bool training)
    {
        if (h.Length != pre.Length) throw new ArgumentException($"Elman forward: h has {h.Length} elements, pre-activations {pre.Length}.");
        int n = pre.Length;
        switch (act.Kind)
        {
            case ElmanActivation.Tanh:
                if (Simd.Wide) Map<Simd512, Vector512<float>, TanhOp>(pre, h); else Map<Simd256, Vector256<float>, TanhOp>(pre, h);
                break;
            case ElmanActivation.Sigmoid:
                if (Simd.Wide) Map<Simd512, Vector512<float>, SigmoidOp>(pre, h); else Map<Simd256, Vector256<float>, SigmoidOp>(pre, h);
                break;
            case ElmanActivation.Relu:
                for (int k = 0; k < n; k++) h[k] = pre[k] > 0f ? pre[k] : 0f;
                break;
            case ElmanActivation.LeakyRelu:
                for (int k = 0; k < n; k++) h[k] = pre[k] > 0f ? pre[k] : act.LeakySlope * pre[k];
                break;
            case ElmanActivation.RandomizedLeakyRelu:
                if (slope.Length < n) throw new ArgumentException($"Elman forward: randomised leaky ReLU needs {n} slopes; got {slope.Length}.");
                if (!training) slope.Slice(0, n).Fill(act.MeanRandomSlope);
                for (int k = 0; k < n; k++) h[k] = pre[k] > 0f ? pre[k] : slope[k] * pre[k];
                break;
            case ElmanActivation.Elu:
                for (int k = 0; k < n; k++) h[k] = pre[k] > 0f ? pre[k] : act.EluAlpha * (MathF.Exp(pre[k]) - 1f);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(act), act.Kind, "Unknown Elman activation.");
        }
    }

    /// <summary>Draws the randomised leaky ReLU slope of every element of a window, in (t, b, j) order:
    /// uniform in [lower, upper]. Drawn for every element, as PyTorch's RReLU does, so the random stream
    /// does not depend on the signs of the data; drawn before the steps run, so it does not depend on how
    /// the batch is split between threads either.</summary>
    public static void DrawSlopes(Span<float> slope, in Activation act, Random rng)
    {
        float width = act.RandomUpper - act.RandomLower;
        for (int k = 0; k < slope.Length; k++) slope[k] = act.RandomLower + width * rng.NextSingle();
    }

    private interface IRowOp
    {
        static abstract TV Apply<TS, TV>(TV x) where TS : struct, ISimd<TV> where TV : struct;
        static abstract float Apply(float x);
    }

    private readonly struct TanhOp : IRowOp
    {
        public static TV Apply<TS, TV>(TV x) where TS : struct, ISimd<TV> where TV : struct => Simd.Tanh<TS, TV>(x);
        public static float Apply(float x) => Simd.Tanh(x);
    }

    private readonly struct SigmoidOp : IRowOp
    {
        public static TV Apply<TS, TV>(TV x) where TS : struct, ISimd<TV> where TV : struct => Simd.Sigmoid<TS, TV>(x);
        public static float Apply(float x) => Simd.Sigmoid(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Map<TS, TV, TOp>(ReadOnlySpan<float> x, Span<float> y)
        where TS : struct, ISimd<TV> where TV : struct where TOp : struct, IRowOp
    {
        int n = x.Length, W = TS.Count, k = 0;
        fixed (float* px = x, py = y)
        {
            for (; k + W <= n; k += W) TS.Store(py + k, TOp.Apply<TS, TV>(TS.Load(px + k)));
            for (; k < n; k++) py[k] = TOp.Apply(px[k]);
        }
    }

    /// <summary>dPre = dh ⊙ σ'(pre), with σ' written in terms of the output h (and the kept slope).
    /// Writes (=) <paramref name="dPre"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(
        ReadOnlySpan<float> dh,     // (B,H) total gradient w.r.t. this step's output
        ReadOnlySpan<float> h,      // (B,H) this step's output, from Forward
        ReadOnlySpan<float> slope,  // (B,H) from Forward (randomised leaky ReLU only)
        in Activation act,
        Span<float> dPre)           // (B,H) written
    {
        int n = dh.Length;
        if (act.Kind == ElmanActivation.Tanh)
        {
            // dh ⊙ (1 − h²), the common case, in one vector pass.
            System.Numerics.Tensors.TensorPrimitives.Multiply(h, h, dPre);
            System.Numerics.Tensors.TensorPrimitives.Subtract(1f, dPre, dPre);
            System.Numerics.Tensors.TensorPrimitives.Multiply(dPre, dh, dPre);
            return;
        }
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

    internal static float Sigmoid(float a) => Simd.Sigmoid(a);
}

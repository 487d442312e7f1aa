using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetRnn.Core.Kernels;

// The optimisers' element-wise updates over the whole parameter vector, a register at a time. The update runs
// once per step over every parameter, the weight columns of a category input included (one column per series
// id: about a million floats per member at 10,000 series), so its scalar loop, with a square root and a division
// per element, was a large part of a panel's fit. Each lane does the scalar update's operations in the scalar
// update's order, without fusing a multiply into an add, and sqrt and division are correctly rounded in both:
// the result is bit-identical to the scalar loop at either width. The elements after the last full register
// take that scalar loop.

/// <summary>Adam's constants for one step (Optimizers/Optimizer.cs, the Adam class).</summary>
/// <param name="Beta1">β₁.</param>
/// <param name="Beta2">β₂.</param>
/// <param name="L2">λ added to the gradient as λ·p (Adam's weight decay; 0 for AdamW).</param>
/// <param name="Shrink">1 − lr·λ for AdamW's decoupled decay, 1 otherwise.</param>
/// <param name="StepSize">lr / (1 − β₁ᵗ).</param>
/// <param name="RsqrtBc2">1 / √(1 − β₂ᵗ).</param>
/// <param name="Epsilon">ε.</param>
internal readonly record struct AdamStep(float Beta1, float Beta2, float L2, float Shrink, float StepSize, float RsqrtBc2, float Epsilon);

internal static class OptimizerKernels
{
    /// <summary>g = grad + λp; m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; p = p·shrink − stepSize·m / (√v·rsqrtBc2 + ε),
    /// in place over p, m and v. No allocation.</summary>
    public static unsafe void Adam(Span<float> p, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, in AdamStep c)
    {
        int n = p.Length;
        if (grad.Length < n || m.Length < n || v.Length < n) throw new ArgumentException("The gradient and both moments need one value per parameter.");
        fixed (float* pp = p, pg = grad, pm = m, pv = v)
        {
            int k = Simd.Wide ? Adam<Simd512, Vector512<float>>(pp, pg, pm, pv, n, c) : Adam<Simd256, Vector256<float>>(pp, pg, pm, pv, n, c);
            float a1 = 1f - c.Beta1, a2 = 1f - c.Beta2;
            for (; k < n; k++)
            {
                float g = pg[k] + c.L2 * pp[k];
                float mk = pm[k] = c.Beta1 * pm[k] + a1 * g;
                float vk = pv[k] = c.Beta2 * pv[k] + a2 * g * g;
                pp[k] = pp[k] * c.Shrink - c.StepSize * mk / (MathF.Sqrt(vk) * c.RsqrtBc2 + c.Epsilon);
            }
        }
    }

    /// <summary>The full registers of <see cref="Adam(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, in AdamStep)"/>;
    /// returns the first element it did not update.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Adam<TS, TV>(float* p, float* grad, float* m, float* v, int n, in AdamStep c)
        where TS : struct, ISimd<TV> where TV : struct
    {
        TV b1 = TS.Splat(c.Beta1), a1 = TS.Splat(1f - c.Beta1), b2 = TS.Splat(c.Beta2), a2 = TS.Splat(1f - c.Beta2);
        TV l2 = TS.Splat(c.L2), shrink = TS.Splat(c.Shrink), step = TS.Splat(c.StepSize), rb = TS.Splat(c.RsqrtBc2), eps = TS.Splat(c.Epsilon);
        int k = 0;
        for (; k + TS.Count <= n; k += TS.Count)
        {
            TV pk = TS.Load(p + k);
            TV g = TS.Add(TS.Load(grad + k), TS.Mul(l2, pk));
            TV mk = TS.Add(TS.Mul(b1, TS.Load(m + k)), TS.Mul(a1, g));
            TV vk = TS.Add(TS.Mul(b2, TS.Load(v + k)), TS.Mul(TS.Mul(a2, g), g));
            TS.Store(m + k, mk);
            TS.Store(v + k, vk);
            TS.Store(p + k, TS.Sub(TS.Mul(pk, shrink), TS.Div(TS.Mul(step, mk), TS.Add(TS.Mul(TS.Sqrt(vk), rb), eps))));
        }
        return k;
    }
}

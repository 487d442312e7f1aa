using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Tests.Kernels;

/// <summary>The optimisers' register-wide updates against the scalar update written out here, bit for bit: any
/// length (full registers and a tail), any values, Adam's and AdamW's decay.</summary>
public sealed class OptimizerKernelTests
{
    [Property(MaxTest = 200)]
    public bool AdamInRegistersEqualsTheScalarUpdateBitForBit(NormalFloat[] values, PositiveInt steps, bool decoupled, NormalFloat lr)
    {
        int n = values.Length;
        var rng = new Random(n * 31 + steps.Get);
        float[] Draw(double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * scale)).ToArray();
        float[] p = values.Select(v => (float)Math.Clamp(v.Get, -1e3, 1e3)).ToArray(), q = (float[])p.Clone();
        float[] m = Draw(1), v = Draw(1).Select(Math.Abs).ToArray(), m2 = (float[])m.Clone(), v2 = (float[])v.Clone();
        const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, decay = 0.01f;
        float rate = (float)Math.Clamp(Math.Abs(lr.Get), 1e-5, 1.0);
        for (int t = 1; t <= Math.Min(steps.Get, 5); t++)
        {
            var grad = Draw(10);
            double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
            var c = new AdamStep(beta1, beta2, decoupled ? 0f : decay, decoupled ? 1f - rate * decay : 1f, (float)(rate / bc1), (float)(1 / Math.Sqrt(bc2)), eps);
            OptimizerKernels.Adam(p, grad, m, v, c);
            for (int k = 0; k < n; k++)
            {
                float g = grad[k] + c.L2 * q[k];
                float mk = m2[k] = beta1 * m2[k] + (1f - beta1) * g;
                float vk = v2[k] = beta2 * v2[k] + (1f - beta2) * g * g;
                q[k] = q[k] * c.Shrink - c.StepSize * mk / (MathF.Sqrt(vk) * c.RsqrtBc2 + eps);
            }
        }
        return Bits(p).SequenceEqual(Bits(q)) && Bits(m).SequenceEqual(Bits(m2)) && Bits(v).SequenceEqual(Bits(v2));
    }

    private static IEnumerable<int> Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits);
}

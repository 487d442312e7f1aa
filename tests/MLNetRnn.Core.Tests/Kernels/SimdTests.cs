using System.Runtime.Intrinsics;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Tests.Kernels;

/// <summary>The vector σ, tanh and e^x of the cells against double precision, at both register widths
/// and in the scalar tail, over the whole range including saturation (no NaN, no infinity).</summary>
public sealed class SimdTests
{
    [Fact]
    public void ActivationsMatchDoublePrecisionAtBothWidthsAndInTheTail()
    {
        var xs = Enumerable.Range(-4000, 8001).Select(i => i * 0.025f).Concat([-1e30f, -200f, -88f, 88f, 200f, 1e30f, 0f, 1e-8f, -1e-8f]).ToArray();
        foreach (float x in xs)
        {
            double sig = 1 / (1 + Math.Exp(-(double)x)), tanh = Math.Tanh(x);
            Check("σ 512", x, sig, Simd.Sigmoid<Simd512, Vector512<float>>(Vector512.Create(x))[3]);
            Check("σ 256", x, sig, Simd.Sigmoid<Simd256, Vector256<float>>(Vector256.Create(x))[5]);
            Check("σ scalar", x, sig, Simd.Sigmoid(x));
            Check("tanh 512", x, tanh, Simd.Tanh<Simd512, Vector512<float>>(Vector512.Create(x))[0]);
            Check("tanh 256", x, tanh, Simd.Tanh<Simd256, Vector256<float>>(Vector256.Create(x))[7]);
            Check("tanh scalar", x, tanh, Simd.Tanh(x));
            if (Math.Abs(x) < 87)
            {
                double e = Math.Exp(x), got = Simd.Exp(x);
                Assert.True(Math.Abs(got - e) <= 3e-7 * e, $"e^{x}: expected {e}, got {got}.");
                Assert.Equal(Simd.Exp(x), Simd512.Exp(Vector512.Create(x))[1]);
            }
        }
    }

    /// <summary>Absolute error ≤ 2.5e-7 (a couple of ulps of 1): what σ and tanh are used for.</summary>
    private static void Check(string what, float x, double expected, float actual)
    {
        Assert.True(float.IsFinite(actual), $"{what}({x}) = {actual}");
        Assert.True(Math.Abs(expected - actual) <= 2.5e-7, $"{what}({x}): expected {expected}, got {actual} (error {Math.Abs(expected - actual):E2}).");
    }
}

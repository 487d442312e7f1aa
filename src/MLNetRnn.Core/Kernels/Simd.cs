using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetRnn.Core.Kernels;

// One source for the kernels, two register widths. The kernels are generic over an ISimd<TV>
// implementation, a struct, so the JIT compiles one specialised copy per width with every call below
// inlined: no virtual call and no abstraction left in the machine code. The width is chosen once, at
// start-up (Simd.Wide): 512-bit where Vector512 is hardware-accelerated (AVX-512), 256-bit otherwise.
// Every operation here is lane-wise, so a lane computes the same value at either width; only the
// transcendental helpers (Exp and what is built on it) may differ in the last bit between widths.

/// <summary>Lane-wise float operations on one register width.</summary>
internal interface ISimd<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract unsafe TV Load(float* p);
    static abstract unsafe void Store(float* p, TV v);
    static abstract TV Splat(float x);
    /// <summary>a·b + c with one rounding.</summary>
    static abstract TV Fma(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
    static abstract TV Sub(TV a, TV b);
    static abstract TV Mul(TV a, TV b);
    static abstract TV Div(TV a, TV b);
    static abstract TV Exp(TV a);
}

/// <summary>512-bit registers (AVX-512): 16 floats.</summary>
internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(float* p, Vector512<float> v) => Vector512.Store(v, p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exp(Vector512<float> a) => Vector512.Exp(a);
}

/// <summary>256-bit registers (AVX2, or AVX-512 machines where 512-bit is not accelerated): 8 floats.</summary>
internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(float* p, Vector256<float> v) => Vector256.Store(v, p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exp(Vector256<float> a) => Vector256.Exp(a);
}

/// <summary>The width chosen for this process, and the activations built on the lane-wise operations.</summary>
internal static class Simd
{
    /// <summary>Whether the kernels run on 512-bit registers (decided once; a JIT-time constant).</summary>
    public static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>Floats per register at the chosen width.</summary>
    public static int Width => Wide ? Vector512<float>.Count : Vector256<float>.Count;

    /// <summary>σ(a) = 1 / (1 + e^−a). Saturates cleanly: e^−a = ∞ gives 0, e^−a = 0 gives 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TS, TV>(TV a) where TS : struct, ISimd<TV> where TV : struct
    {
        TV one = TS.Splat(1f);
        return TS.Div(one, TS.Add(one, TS.Exp(TS.Sub(TS.Zero, a))));
    }

    /// <summary>tanh(a) = 1 − 2 / (1 + e^{2a}): exact limits ±1 at overflow and underflow of e^{2a};
    /// near 0 the absolute error is about one ulp of 1 (the relative error of tiny results is larger
    /// than MathF.Tanh's, which no gradient here can see).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TS, TV>(TV a) where TS : struct, ISimd<TV> where TV : struct
    {
        TV one = TS.Splat(1f);
        return TS.Sub(one, TS.Div(TS.Splat(2f), TS.Add(one, TS.Exp(TS.Add(a, a)))));
    }

    /// <summary>Scalar <see cref="Sigmoid{TS, TV}"/> for the elements after the last full register.</summary>
    public static float Sigmoid(float a) => 1f / (1f + MathF.Exp(-a));

    /// <summary>Scalar <see cref="Tanh{TS, TV}"/> for the elements after the last full register.</summary>
    public static float Tanh(float a) => 1f - 2f / (1f + MathF.Exp(a + a));
}

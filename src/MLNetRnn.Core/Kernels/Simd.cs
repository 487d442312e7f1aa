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
    /// <summary>√a, correctly rounded (as MathF.Sqrt).</summary>
    static abstract TV Sqrt(TV a);
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> a)
    {
        // e^a = 2^n · e^r, n = round(a·log2 e), |r| ≤ ln2/2 (see Simd.Exp for the constants).
        a = Vector512.Min(Vector512.Max(a, Vector512.Create(-Simd.ExpLimit)), Vector512.Create(Simd.ExpLimit));
        Vector512<float> n = Vector512.Floor(Vector512.FusedMultiplyAdd(a, Vector512.Create(Simd.Log2E), Vector512.Create(0.5f)));
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Simd.Ln2Hi), a);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Simd.Ln2Lo), r);
        Vector512<float> p = Vector512.Create(Simd.P0);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(Simd.P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(Simd.P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(Simd.P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(Simd.P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(Simd.P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        Vector512<int> e = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23);
        return p * e.AsSingle();
    }
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> a)
    {
        a = Vector256.Min(Vector256.Max(a, Vector256.Create(-Simd.ExpLimit)), Vector256.Create(Simd.ExpLimit));
        Vector256<float> n = Vector256.Floor(Vector256.FusedMultiplyAdd(a, Vector256.Create(Simd.Log2E), Vector256.Create(0.5f)));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Simd.Ln2Hi), a);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Simd.Ln2Lo), r);
        Vector256<float> p = Vector256.Create(Simd.P0);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Simd.P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Simd.P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Simd.P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Simd.P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Simd.P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        Vector256<int> e = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23);
        return p * e.AsSingle();
    }
}

/// <summary>The width chosen for this process, and the activations built on the lane-wise operations.</summary>
internal static class Simd
{
    /// <summary>Whether the kernels run on 512-bit registers (decided once; a JIT-time constant).</summary>
    public static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>Floats per register at the chosen width.</summary>
    public static int Width => Wide ? Vector512<float>.Count : Vector256<float>.Count;

    // e^x for the activations (Cephes' expf): n = ⌊x·log₂e + ½⌋, r = x − n·ln2 in two parts (exact first
    // part), e^r by a degree-5 minimax polynomial (relative error about 1e-7), times 2ⁿ built in the
    // exponent bits. The argument is clamped to ±87, where e^x and 1/e^x are still normal floats, so
    // σ and tanh saturate to their limits without ever producing denormals, infinities or NaN.
    // (Vector512.Exp of the runtime measured 30× slower here: it widens to double.)
    internal const float ExpLimit = 87f, Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    internal const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    /// <summary>Scalar e^x with the same algorithm as the vector versions, for the elements after the last register.</summary>
    public static float Exp(float a)
    {
        a = Math.Clamp(a, -ExpLimit, ExpLimit);
        float n = MathF.Floor(MathF.FusedMultiplyAdd(a, Log2E, 0.5f));
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, a);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float p = P0;
        p = MathF.FusedMultiplyAdd(p, r, P1); p = MathF.FusedMultiplyAdd(p, r, P2); p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4); p = MathF.FusedMultiplyAdd(p, r, P5);
        p = MathF.FusedMultiplyAdd(p, r * r, r + 1f);
        return p * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }

    /// <summary>σ(a) = 1 / (1 + e^−a); saturates to 0 and 1 (e^x is clamped, see above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TS, TV>(TV a) where TS : struct, ISimd<TV> where TV : struct
    {
        TV one = TS.Splat(1f);
        return TS.Div(one, TS.Add(one, TS.Exp(TS.Sub(TS.Zero, a))));
    }

    /// <summary>tanh(a) = 1 − 2 / (1 + e^{2a}): limits ±1 for large |a|; near 0 the absolute error is about one ulp of 1 (the relative error of tiny results is larger
    /// than MathF.Tanh's, which no gradient here can see).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TS, TV>(TV a) where TS : struct, ISimd<TV> where TV : struct
    {
        TV one = TS.Splat(1f);
        return TS.Sub(one, TS.Div(TS.Splat(2f), TS.Add(one, TS.Exp(TS.Add(a, a)))));
    }

    /// <summary>Scalar <see cref="Sigmoid{TS, TV}"/> for the elements after the last full register.</summary>
    public static float Sigmoid(float a) => 1f / (1f + Exp(-a));

    /// <summary>Scalar <see cref="Tanh{TS, TV}"/> for the elements after the last full register.</summary>
    public static float Tanh(float a) => 1f - 2f / (1f + Exp(a + a));
}

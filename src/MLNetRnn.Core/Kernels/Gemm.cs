using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNetRnn.Core.Kernels;

/// <summary>
/// The one seam through which every matrix product in the numeric core goes, so that faster
/// kernels can be swapped in without touching the cells.
/// </summary>
/// <remarks>
/// M, N, K = rows of C, columns of C, and the summed dimension. All matrices are row-major
/// (last index fastest) and densely packed: a matrix with C columns has leading dimension C.
///
///   NN:  C (M,N) [+]= A (M,K) · B (K,N)
///   TN:  C (M,N) [+]= Aᵀ · B     with A stored (K,M), B (K,N)
///   NT:  C (M,N) [+]= A · Bᵀ     with A (M,K), B stored (N,K)
///
/// NN and TN share one register-blocked kernel: for a block of 4 rows of C and 2·W columns
/// (W = SIMD width) it keeps 8 accumulators in registers and streams one row of B per k, so B is
/// read once per 4 rows of C. NT cannot stream rows of B, so it falls back to dot products; the
/// core avoids it on hot paths by keeping transposed copies of the weights.
///
/// Single-threaded on purpose for now: the result does not depend on the machine's core count,
/// and nothing is allocated. No allocation in any entry point.
/// </remarks>
internal static class Gemm
{
    /// <summary>C (M,N) = [C +] op(A) · op(B). Writes into <paramref name="c"/>; no allocation.</summary>
    public static void Multiply(bool transA, bool transB, int M, int N, int K,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate)
    {
        Debug.Assert(a.Length >= M * K && b.Length >= K * N && c.Length >= M * N);
        if (M == 0 || N == 0) return;
        if (K == 0)
        {
            if (!accumulate) c.Slice(0, M * N).Clear();
            return;
        }
        if (transB)
        {
            if (transA) throw new NotSupportedException("Aᵀ·Bᵀ is not used by the core.");
            MultiplyNT(M, N, K, a, b, c, accumulate);
            return;
        }
        // Element (i,k) of op(A) sits at a[i·rowStride + k·colStride].
        int rowStride = transA ? 1 : K, kStride = transA ? M : 1;
        Blocked(M, N, K, a, rowStride, kStride, b, c, accumulate);
    }

    /// <summary>C (M,N) = [C +] A (M,K) · B (K,N).</summary>
    public static void NN(int M, int N, int K, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate)
        => Multiply(false, false, M, N, K, a, b, c, accumulate);

    /// <summary>C (M,N) = [C +] Aᵀ · B with A stored (K,M) and B (K,N).</summary>
    public static void TN(int M, int N, int K, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate)
        => Multiply(true, false, M, N, K, a, b, c, accumulate);

    /// <summary>C (M,N) = [C +] A (M,K) · Bᵀ with B stored (N,K).</summary>
    public static void NT(int M, int N, int K, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate)
        => Multiply(false, true, M, N, K, a, b, c, accumulate);

    /// <summary>dst (C,R) = srcᵀ for src (R,C). No allocation.</summary>
    public static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols)
    {
        Debug.Assert(src.Length >= rows * cols && dst.Length >= rows * cols);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = src.Slice(r * cols, cols);
            for (int col = 0; col < cols; col++) dst[col * rows + r] = row[col];
        }
    }

    private static void MultiplyNT(int M, int N, int K, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate)
    {
        for (int i = 0; i < M; i++)
        {
            ReadOnlySpan<float> ai = a.Slice(i * K, K);
            Span<float> ci = c.Slice(i * N, N);
            for (int j = 0; j < N; j++)
            {
                float dot = System.Numerics.Tensors.TensorPrimitives.Dot(ai, b.Slice(j * K, K));
                ci[j] = accumulate ? ci[j] + dot : dot;
            }
        }
    }

    private static void Blocked(int M, int N, int K, ReadOnlySpan<float> aSpan, int rowStride, int kStride,
        ReadOnlySpan<float> bSpan, Span<float> cSpan, bool accumulate)
    {
        ref float a = ref MemoryMarshal.GetReference(aSpan);
        ref float b = ref MemoryMarshal.GetReference(bSpan);
        ref float c = ref MemoryMarshal.GetReference(cSpan);
        int W = Vector<float>.Count;
        int i = 0;
        for (; i + 4 <= M; i += 4)
        {
            int j = 0;
            for (; j + 2 * W <= N; j += 2 * W) Kernel4x2W(K, ref a, i, rowStride, kStride, ref b, N, ref c, j, accumulate);
            for (; j + W <= N; j += W) Kernel4x1W(K, ref a, i, rowStride, kStride, ref b, N, ref c, j, accumulate);
            for (int r = 0; r < 4; r++) Tail(K, ref a, i + r, rowStride, kStride, ref b, N, ref c, j, accumulate);
        }
        for (; i < M; i++)
        {
            int j = 0;
            for (; j + W <= N; j += W) Kernel1x1W(K, ref a, i, rowStride, kStride, ref b, N, ref c, j, accumulate);
            Tail(K, ref a, i, rowStride, kStride, ref b, N, ref c, j, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(ref float p, int offset) => Unsafe.ReadUnaligned<Vector<float>>(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref p, offset)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float p, int offset, Vector<float> v) => Unsafe.WriteUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref p, offset)), v);

    private static void Kernel4x2W(int K, ref float a, int i, int rs, int ks, ref float b, int N, ref float c, int j, bool accumulate)
    {
        int W = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default,
                      c20 = default, c21 = default, c30 = default, c31 = default;
        int a0 = i * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs;
        for (int k = 0; k < K; k++)
        {
            int bk = k * N + j, ak = k * ks;
            Vector<float> b0 = Load(ref b, bk), b1 = Load(ref b, bk + W);
            var x = new Vector<float>(Unsafe.Add(ref a, a0 + ak)); c00 = Vector.FusedMultiplyAdd(x, b0, c00); c01 = Vector.FusedMultiplyAdd(x, b1, c01);
            x = new Vector<float>(Unsafe.Add(ref a, a1 + ak)); c10 = Vector.FusedMultiplyAdd(x, b0, c10); c11 = Vector.FusedMultiplyAdd(x, b1, c11);
            x = new Vector<float>(Unsafe.Add(ref a, a2 + ak)); c20 = Vector.FusedMultiplyAdd(x, b0, c20); c21 = Vector.FusedMultiplyAdd(x, b1, c21);
            x = new Vector<float>(Unsafe.Add(ref a, a3 + ak)); c30 = Vector.FusedMultiplyAdd(x, b0, c30); c31 = Vector.FusedMultiplyAdd(x, b1, c31);
        }
        int r0 = i * N + j;
        Put(ref c, r0, c00, accumulate); Put(ref c, r0 + W, c01, accumulate); r0 += N;
        Put(ref c, r0, c10, accumulate); Put(ref c, r0 + W, c11, accumulate); r0 += N;
        Put(ref c, r0, c20, accumulate); Put(ref c, r0 + W, c21, accumulate); r0 += N;
        Put(ref c, r0, c30, accumulate); Put(ref c, r0 + W, c31, accumulate);
    }

    private static void Kernel4x1W(int K, ref float a, int i, int rs, int ks, ref float b, int N, ref float c, int j, bool accumulate)
    {
        Vector<float> c0 = default, c1 = default, c2 = default, c3 = default;
        int a0 = i * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs;
        for (int k = 0; k < K; k++)
        {
            int ak = k * ks;
            Vector<float> b0 = Load(ref b, k * N + j);
            c0 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a0 + ak)), b0, c0);
            c1 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a1 + ak)), b0, c1);
            c2 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a2 + ak)), b0, c2);
            c3 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a3 + ak)), b0, c3);
        }
        int r0 = i * N + j;
        Put(ref c, r0, c0, accumulate); Put(ref c, r0 + N, c1, accumulate);
        Put(ref c, r0 + 2 * N, c2, accumulate); Put(ref c, r0 + 3 * N, c3, accumulate);
    }

    private static void Kernel1x1W(int K, ref float a, int i, int rs, int ks, ref float b, int N, ref float c, int j, bool accumulate)
    {
        Vector<float> c0 = default;
        int a0 = i * rs;
        for (int k = 0; k < K; k++)
            c0 = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, a0 + k * ks)), Load(ref b, k * N + j), c0);
        Put(ref c, i * N + j, c0, accumulate);
    }

    /// <summary>Columns j..N-1 of row i, scalar: the part narrower than one SIMD vector.</summary>
    private static void Tail(int K, ref float a, int i, int rs, int ks, ref float b, int N, ref float c, int j, bool accumulate)
    {
        for (; j < N; j++)
        {
            float sum = 0f;
            for (int k = 0; k < K; k++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i * rs + k * ks), Unsafe.Add(ref b, k * N + j), sum);
            ref float cij = ref Unsafe.Add(ref c, i * N + j);
            cij = accumulate ? cij + sum : sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(ref float c, int offset, Vector<float> v, bool accumulate)
        => Store(ref c, offset, accumulate ? Load(ref c, offset) + v : v);
}

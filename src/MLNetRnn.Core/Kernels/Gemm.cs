using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetRnn.Core.Kernels;

// M, N, K = rows of C, columns of C, and the summed dimension. Row-major everywhere (last index fastest).
//
//   NN:  C (M,N) [+]= A (M,K) · B (K,N)
//   TN:  C (M,N) [+]= Aᵀ · B     with A stored (K,M), B (K,N)
//   NT:  C (M,N) [+]= A · Bᵀ     with A (M,K), B stored (N,K)
//
// Inside, every operand is a pointer with a row and a column stride, so the three are one routine.
// It is the GotoBLAS/BLIS layering:
//   for each K block of KC (KC depends on K alone):
//     pack B's block into panels of NR columns, (KC, NR) each, zero-padded    → stays in L2/L3
//     for each M block of MC rows:
//       pack A's block into slivers of MR = 8 rows, (KC, 8) each               → stays in L2
//       for each group of ≤ 4 panels, for each sliver: micro-kernel            → B panel in L1
// The micro-kernel keeps an 8 × NR tile of C in registers (NR = 2 registers: 32 floats at 512 bits,
// 16 at 256): 16 accumulators, 2 loads of B and 8 broadcasts of A per k. Rows after the last full
// sliver use a 4-row kernel, then a 1-row kernel that spans 4 panels at once (8 accumulators), so a
// matrix–vector product (inference at batch 1) still keeps the FMA units busy.
//
// Weights that stay fixed across many products (W_ihᵀ, W_hhᵀ for T steps) are packed once into a
// PackedMatrix in the same panel layout and passed instead of B.
//
// Determinism: every element of C is C₀ + Σ_k a_ik·b_kj accumulated as one FMA chain, k ascending from
// zero in every kernel, with the partial sum of each K block added to C at the block's end. KC depends
// on K alone, so the arithmetic of an element does not depend on M, on the tile the element falls in,
// on how rows or columns are split between threads, or on the register width: results are bit-identical
// for any thread count.
//
// Threads: with threads > 1 the rows (or, for few rows, the panels) are split into contiguous ranges,
// one per part, run on the WorkerPool; each part packs what it needs into its own thread's scratch.
//
// Shapes are checked in every build before any pointer is formed (ArgumentException).
//
// The loops are marked AggressiveOptimization, as are the cells and step loops: compiled optimised from the first
// call, instead of running at tier 0 until the runtime sees 100 ms without new methods (docs/design/numeric-core.md).

/// <summary>
/// The one seam through which every matrix product in the numeric core goes: a packed, cache-blocked
/// GEMM on 512-bit registers where available (256-bit otherwise), optionally split across the worker pool.
/// </summary>
[SkipLocalsInit]   // the stack tile of Macro is written before it is read; zeroing it cost more than a small product
internal static unsafe class Gemm
{
    /// <summary>Rows of A per packed sliver and per full micro-kernel.</summary>
    public const int MR = 8;

    /// <summary>Rows of A packed per block (a multiple of <see cref="MR"/>).</summary>
    public const int MC = 128;

    /// <summary>Columns per packed panel of B: two registers.</summary>
    public static int NR => 2 * Simd.Width;

    /// <summary>Products smaller than this many multiply–adds run on the caller alone.</summary>
    public const long ParallelThreshold = 1 << 17;

    /// <summary>The K block: the whole K up to 384, else 256. A function of K alone (see determinism).</summary>
    public static int KBlock(int K) => K <= 384 ? K : 256;

    /// <summary>C (M,N) = [C +] op(A) · op(B). Writes into <paramref name="c"/>; no allocation after the
    /// calling thread's first product of a size.</summary>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs, or a size is negative.</exception>
    public static void Multiply(bool transA, bool transB, int M, int N, int K,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate, int threads = 1)
    {
        CheckShape(M, N, K, a.Length, b.Length, c.Length);
        if (M == 0 || N == 0) return;
        if (K == 0)
        {
            if (!accumulate) c.Slice(0, M * N).Clear();
            return;
        }
        // Element (i,k) of op(A) at a[i·ars + k·aks]; (k,j) of op(B) at b[k·bks + j·bcs].
        int ars = transA ? 1 : K, aks = transA ? M : 1;
        int bks = transB ? 1 : N, bcs = transB ? K : 1;
        fixed (float* pa = a, pb = b, pc = c)
            Run(M, N, K, pa, ars, aks, pb, bks, bcs, null, null, pc, N, 1, accumulate, threads);
    }

    /// <summary>C (M,N) = [C +] A (M,K) · B (K,N).</summary>
    public static void NN(int M, int N, int K, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate, int threads = 1)
        => Multiply(false, false, M, N, K, a, b, c, accumulate, threads);

    /// <summary>C (M,N) = [C +] Aᵀ · B with A stored (K,M) and B (K,N).</summary>
    public static void TN(int M, int N, int K, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate, int threads = 1)
        => Multiply(true, false, M, N, K, a, b, c, accumulate, threads);

    /// <summary>C (M,N) = [C +] A (M,K) · B with B packed beforehand. A and C are row-major with leading
    /// dimensions <paramref name="lda"/> ≥ K and <paramref name="ldc"/> ≥ N, so a block of rows inside a
    /// wider buffer can be used in place. No allocation after the thread's first product of a size.</summary>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs.</exception>
    public static void Packed(int M, ReadOnlySpan<float> a, int lda, PackedMatrix b, Span<float> c, int ldc, bool accumulate, int threads = 1)
    {
        int N = b.N, K = b.K;
        if (M < 0 || lda < K || ldc < N) throw new ArgumentException($"Packed GEMM: M={M}, lda={lda}, ldc={ldc} do not fit K={K}, N={N}.");
        if (M == 0 || N == 0) return;
        if ((long)(M - 1) * lda + K > a.Length) throw new ArgumentException($"Packed GEMM: A needs {(long)(M - 1) * lda + K} floats for M={M}, lda={lda}, K={K}; got {a.Length}.", nameof(a));
        if ((long)(M - 1) * ldc + N > c.Length) throw new ArgumentException($"Packed GEMM: C needs {(long)(M - 1) * ldc + N} floats for M={M}, ldc={ldc}, N={N}; got {c.Length}.", nameof(c));
        if (K == 0)
        {
            if (!accumulate) for (int i = 0; i < M; i++) c.Slice(i * ldc, N).Clear();
            return;
        }
        fixed (float* pa = a, pc = c, pp = b.Data)
        {
            if (M == 1 && K == KBlock(K))
            {
                // One row, one K block (a step of inference at batch 1): straight to the 1-row kernels,
                // no packing of A and no blocking. Same arithmetic as the general path.
                if (Simd.Wide) Kernels<Simd512, Vector512<float>>.Row(N, K, pa, pp, pc, accumulate);
                else Kernels<Simd256, Vector256<float>>.Row(N, K, pa, pp, pc, accumulate);
                return;
            }
            Run(M, N, K, pa, lda, 1, null, 0, 0, b, pp, pc, ldc, 1, accumulate, threads);
        }
    }

    /// <summary>C (M,N) = [C +] Aᵀ · B with A stored (K,M) at leading dimension <paramref name="lda"/>, B (K,N) at
    /// <paramref name="ldb"/> and C at <paramref name="ldc"/>: the columns of a wider buffer, used in place.</summary>
    /// <exception cref="ArgumentException">A span is shorter than its shape needs, or a leading dimension is too small.</exception>
    public static void TN(int M, int N, int K, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate, int threads = 1)
    {
        if (M < 0 || N < 0 || K < 0 || lda < M || ldb < N || ldc < N)
            throw new ArgumentException($"Strided GEMM: M={M}, N={N}, K={K}, lda={lda}, ldb={ldb}, ldc={ldc} do not fit.");
        if (M == 0 || N == 0) return;
        if (K > 0 && ((long)(K - 1) * lda + M > a.Length || (long)(K - 1) * ldb + N > b.Length))
            throw new ArgumentException($"Strided GEMM: A or B is shorter than K={K} rows at lda={lda}, ldb={ldb}.");
        if ((long)(M - 1) * ldc + N > c.Length) throw new ArgumentException($"Strided GEMM: C needs {(long)(M - 1) * ldc + N} floats; got {c.Length}.", nameof(c));
        if (K == 0)
        {
            if (!accumulate) for (int i = 0; i < M; i++) c.Slice(i * ldc, N).Clear();
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
            Run(M, N, K, pa, 1, lda, pb, ldb, 1, null, null, pc, ldc, 1, accumulate, threads);
    }

    /// <summary>Test hook: <see cref="Multiply"/> on the 256-bit kernels whatever the machine, on one
    /// thread, so both widths are checked where AVX-512 is present.</summary>
    internal static void MultiplyNarrow(bool transA, bool transB, int M, int N, int K,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, bool accumulate)
    {
        CheckShape(M, N, K, a.Length, b.Length, c.Length);
        if (M == 0 || N == 0 || K == 0) { if (K == 0 && !accumulate) c.Slice(0, M * N).Clear(); return; }
        fixed (float* pa = a, pb = b, pc = c)
            Kernels<Simd256, Vector256<float>>.Solve(M, N, K, pa, transA ? 1 : K, transA ? M : 1, pb, transB ? 1 : N, transB ? K : 1, null, null, pc, N, 1, accumulate);
    }

    /// <summary>dst (C,R) = srcᵀ for src (R,C). No allocation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols)
    {
        if (src.Length < rows * cols || dst.Length < rows * cols)
            throw new ArgumentException($"Transpose of ({rows},{cols}) needs {rows * cols} floats; got source {src.Length}, destination {dst.Length}.");
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = src.Slice(r * cols, cols);
            for (int col = 0; col < cols; col++) dst[col * rows + r] = row[col];
        }
    }

    private static void CheckShape(int M, int N, int K, int a, int b, int c)
    {
        if (M < 0 || N < 0 || K < 0) throw new ArgumentException($"GEMM sizes must not be negative; got M={M}, N={N}, K={K}.");
        if ((long)M * K > a) throw new ArgumentException($"GEMM: A needs M·K = {M}·{K} = {(long)M * K} floats; got {a}.", "a");
        if ((long)K * N > b) throw new ArgumentException($"GEMM: B needs K·N = {K}·{N} = {(long)K * N} floats; got {b}.", "b");
        if ((long)M * N > c) throw new ArgumentException($"GEMM: C needs M·N = {M}·{N} = {(long)M * N} floats; got {c}.", "c");
    }

    /// <summary>The strided product, after the checks. <paramref name="pre"/> (with its pinned data
    /// <paramref name="pp"/>) replaces b when not null.</summary>
    private static void Run(int M, int N, int K, float* a, int ars, int aks, float* b, int bks, int bcs,
        PackedMatrix? pre, float* pp, float* c, int crs, int ccs, bool accumulate, int threads)
    {
        // A product with fewer columns than a panel and more rows wastes most lanes; its transpose,
        // Cᵀ = op(B)ᵀ·op(A)ᵀ, computes the same sums in the same order with the lanes full.
        if (pre is null && N < NR && M > N)
        {
            (M, N) = (N, M);
            float* t = a; a = b; b = t;
            (ars, aks, bks, bcs) = (bcs, bks, aks, ars);
            (crs, ccs) = (ccs, crs);
        }
        int parts = Math.Max(1, threads);
        if ((long)M * N * K < ParallelThreshold) parts = 1;
        int slivers = (M + MR - 1) / MR, panels = (N + NR - 1) / NR;
        bool byRows = pre is not null || slivers >= panels;
        parts = Math.Min(parts, byRows ? slivers : panels);
        if (parts <= 1)
        {
            Solve(M, N, K, a, ars, aks, b, bks, bcs, pre, pp, c, crs, ccs, accumulate);
            return;
        }
        var job = GemmJob.ForThisThread;
        job.Set(M, N, K, a, ars, aks, b, bks, bcs, pre, pp, c, crs, ccs, accumulate, byRows);
        WorkerPool.Shared.Run(job, parts);
        job.Clear();
    }

    /// <summary>Range [start, end) of part <paramref name="part"/> when <paramref name="units"/> are
    /// split into <paramref name="parts"/> contiguous, balanced ranges.</summary>
    internal static (int Start, int End) Split(int units, int part, int parts)
        => ((int)((long)units * part / parts), (int)((long)units * (part + 1) / parts));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Solve(int M, int N, int K, float* a, int ars, int aks, float* b, int bks, int bcs,
        PackedMatrix? pre, float* pp, float* c, int crs, int ccs, bool accumulate)
    {
        if (Simd.Wide) Kernels<Simd512, Vector512<float>>.Solve(M, N, K, a, ars, aks, b, bks, bcs, pre, pp, c, crs, ccs, accumulate);
        else Kernels<Simd256, Vector256<float>>.Solve(M, N, K, a, ars, aks, b, bks, bcs, pre, pp, c, crs, ccs, accumulate);
    }

    /// <summary>Packs B (K,N), given by strides, into <paramref name="dst"/>: for each K block at k0 of
    /// kc rows, panels of NR columns, (kc, NR) each, zero-padded; block k0 starts at k0·Npad.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(int K, int N, float* b, int bks, int bcs, float* dst)
    {
        int KC = KBlock(K), nr = NR, npad = (N + nr - 1) / nr * nr;
        for (int k0 = 0; k0 < K; k0 += KC)
            PackBBlock(Math.Min(KC, K - k0), N, b + (long)k0 * bks, bks, bcs, dst + (long)k0 * npad, nr);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackBBlock(int kc, int N, float* b, int bks, int bcs, float* dst, int nr)
    {
        for (int j0 = 0, p = 0; j0 < N; j0 += nr, p++)
        {
            int cols = Math.Min(nr, N - j0);
            float* d = dst + (long)p * kc * nr;
            if (bcs == 1)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* dk = d + k * nr;
                    Buffer.MemoryCopy(b + (long)k * bks + j0, dk, nr * sizeof(float), cols * sizeof(float));
                    for (int j = cols; j < nr; j++) dk[j] = 0f;
                }
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    float* s = b + (long)(j0 + j) * bcs;
                    for (int k = 0; k < kc; k++) d[k * nr + j] = s[(long)k * bks];
                }
                if (cols < nr)
                    for (int k = 0; k < kc; k++)
                        for (int j = cols; j < nr; j++) d[k * nr + j] = 0f;
            }
        }
    }

    /// <summary>Packs rows [0, mc) × columns [0, kc) of A, given by strides, into slivers of MR rows:
    /// sliver s holds (kc, MR), element (k, r) = A(s·MR + r, k). Rows past mc in the last sliver are
    /// left as they are: no kernel reads them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(int mc, int kc, float* a, int ars, int aks, float* dst)
    {
        for (int r0 = 0; r0 < mc; r0 += MR)
        {
            int rows = Math.Min(MR, mc - r0);
            float* d = dst + (long)r0 * kc;
            if (ars == 1)
            {
                if (rows == MR)
                    for (int k = 0; k < kc; k++) Vector256.Store(Vector256.Load(a + r0 + (long)k * aks), d + k * MR);
                else
                    for (int k = 0; k < kc; k++)
                    {
                        float* s = a + r0 + (long)k * aks;
                        float* dk = d + k * MR;
                        for (int r = 0; r < rows; r++) dk[r] = s[r];
                    }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    float* s = a + (long)(r0 + r) * ars;
                    if (aks == 1) for (int k = 0; k < kc; k++) d[k * MR + r] = s[k];
                    else for (int k = 0; k < kc; k++) d[k * MR + r] = s[(long)k * aks];
                }
            }
        }
    }

    /// <summary>The micro-kernels and the blocking loops at one register width.</summary>
    private static class Kernels<TS, TV> where TS : struct, ISimd<TV> where TV : struct
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Solve(int M, int N, int K, float* a, int ars, int aks, float* b, int bks, int bcs,
            PackedMatrix? pre, float* pp, float* c, int crs, int ccs, bool accumulate)
        {
            int nr = 2 * TS.Count, KC = KBlock(K), npad = (N + nr - 1) / nr * nr;
            var scratch = Scratch.ForThisThread(MC * Math.Min(KC, K), pre is null ? Math.Min(KC, K) * npad : 0);
            fixed (float* aPack = scratch.A, bPack = scratch.B)
            {
                for (int k0 = 0; k0 < K; k0 += KC)
                {
                    int kc = Math.Min(KC, K - k0);
                    float* bBlock;
                    if (pre is not null) bBlock = pp + (long)k0 * npad;
                    else
                    {
                        PackBBlock(kc, N, b + (long)k0 * bks, bks, bcs, bPack, nr);
                        bBlock = bPack;
                    }
                    bool add = accumulate || k0 > 0;
                    for (int i0 = 0; i0 < M; i0 += MC)
                    {
                        int mc = Math.Min(MC, M - i0);
                        PackA(mc, kc, a + (long)i0 * ars + (long)k0 * aks, ars, aks, aPack);
                        Macro(mc, N, kc, aPack, bBlock, c + (long)i0 * crs, crs, ccs, add);
                    }
                }
            }
        }

        /// <summary>c (N) [+]= a (K) · B for B packed in one K block: the 1-row kernels over all panels.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Row(int N, int K, float* a, float* bBlock, float* c, bool add)
        {
            int nr = 2 * TS.Count, panels = (N + nr - 1) / nr;
            long panelStride = (long)K * nr;
            float* tile = stackalloc float[4 * 2 * 16];
            for (int p0 = 0; p0 < panels; p0 += 4)
            {
                int np = Math.Min(4, panels - p0);
                if (np == 4)
                {
                    Kernel1x4(K, a, 1, bBlock + p0 * panelStride, panelStride, tile);
                    Flush(tile, 1, 4 * nr, c + (long)p0 * nr, 0, 1, Math.Min(N - p0 * nr, 4 * nr), add);
                }
                else
                    for (int q = p0; q < p0 + np; q++)
                    {
                        Kernel1(K, a, 1, bBlock + q * panelStride, tile);
                        Flush(tile, 1, nr, c + (long)q * nr, 0, 1, Math.Min(nr, N - q * nr), add);
                    }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Macro(int mc, int N, int kc, float* aPack, float* bBlock, float* c, int crs, int ccs, bool add)
        {
            int nr = 2 * TS.Count, panels = (N + nr - 1) / nr;
            // Room for one partial tile, (MR, NR) or (1, 4·NR): kernels stage edge tiles here. Allocated
            // here, not in a kernel, so no kernel holds its accumulators across a stack allocation.
            float* tile = stackalloc float[4 * 2 * 16 * 2];
            long panelStride = (long)kc * nr;
            for (int p0 = 0; p0 < panels; p0 += 4)
            {
                int np = Math.Min(4, panels - p0);
                int i = 0;
                for (; i + MR <= mc; i += MR)
                    for (int q = p0; q < p0 + np; q++)
                    {
                        Kernel8(kc, aPack + (long)i * kc, bBlock + q * panelStride, tile);
                        Flush(tile, MR, nr, c + (long)i * crs + (long)q * nr * ccs, crs, ccs, Math.Min(nr, N - q * nr), add);
                    }
                if (mc - i >= 4)
                {
                    for (int q = p0; q < p0 + np; q++)
                    {
                        Kernel4(kc, aPack + (long)i * kc, bBlock + q * panelStride, tile);
                        Flush(tile, 4, nr, c + (long)i * crs + (long)q * nr * ccs, crs, ccs, Math.Min(nr, N - q * nr), add);
                    }
                    i += 4;
                }
                for (; i < mc; i++)
                {
                    // Row i sits at position i mod MR of its sliver.
                    float* ar = aPack + (long)(i / MR * MR) * kc + i % MR;
                    float* cr = c + (long)i * crs;
                    if (np == 4)
                    {
                        Kernel1x4(kc, ar, MR, bBlock + p0 * panelStride, panelStride, tile);
                        Flush(tile, 1, 4 * nr, cr + (long)p0 * nr * ccs, 0, ccs, Math.Min(N - p0 * nr, 4 * nr), add);
                    }
                    else
                        for (int q = p0; q < p0 + np; q++)
                        {
                            Kernel1(kc, ar, MR, bBlock + q * panelStride, tile);
                            Flush(tile, 1, nr, cr + (long)q * nr * ccs, 0, ccs, Math.Min(nr, N - q * nr), add);
                        }
                }
            }
        }

        /// <summary>8 rows × one panel: 16 accumulators.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Kernel8(int kc, float* a, float* b, float* t)
        {
            int W = TS.Count;
            TV c00 = TS.Zero, c01 = TS.Zero, c10 = TS.Zero, c11 = TS.Zero, c20 = TS.Zero, c21 = TS.Zero, c30 = TS.Zero, c31 = TS.Zero,
               c40 = TS.Zero, c41 = TS.Zero, c50 = TS.Zero, c51 = TS.Zero, c60 = TS.Zero, c61 = TS.Zero, c70 = TS.Zero, c71 = TS.Zero;
            for (int k = 0; k < kc; k++, a += MR, b += 2 * W)
            {
                TV b0 = TS.Load(b), b1 = TS.Load(b + W);
                TV x = TS.Splat(a[0]); c00 = TS.Fma(x, b0, c00); c01 = TS.Fma(x, b1, c01);
                x = TS.Splat(a[1]); c10 = TS.Fma(x, b0, c10); c11 = TS.Fma(x, b1, c11);
                x = TS.Splat(a[2]); c20 = TS.Fma(x, b0, c20); c21 = TS.Fma(x, b1, c21);
                x = TS.Splat(a[3]); c30 = TS.Fma(x, b0, c30); c31 = TS.Fma(x, b1, c31);
                x = TS.Splat(a[4]); c40 = TS.Fma(x, b0, c40); c41 = TS.Fma(x, b1, c41);
                x = TS.Splat(a[5]); c50 = TS.Fma(x, b0, c50); c51 = TS.Fma(x, b1, c51);
                x = TS.Splat(a[6]); c60 = TS.Fma(x, b0, c60); c61 = TS.Fma(x, b1, c61);
                x = TS.Splat(a[7]); c70 = TS.Fma(x, b0, c70); c71 = TS.Fma(x, b1, c71);
            }
            // The kernels only compute a tile into t; Flush moves it into C. With the add-or-write and
            // edge cases in the kernel, the JIT kept the accumulators on the stack inside the k loop.
            int nr = 2 * W;
            TS.Store(t, c00); TS.Store(t + W, c01); TS.Store(t + nr, c10); TS.Store(t + nr + W, c11);
            TS.Store(t + 2 * nr, c20); TS.Store(t + 2 * nr + W, c21); TS.Store(t + 3 * nr, c30); TS.Store(t + 3 * nr + W, c31);
            TS.Store(t + 4 * nr, c40); TS.Store(t + 4 * nr + W, c41); TS.Store(t + 5 * nr, c50); TS.Store(t + 5 * nr + W, c51);
            TS.Store(t + 6 * nr, c60); TS.Store(t + 6 * nr + W, c61); TS.Store(t + 7 * nr, c70); TS.Store(t + 7 * nr + W, c71);
        }

        /// <summary>4 rows (of an 8-row sliver) × one panel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Kernel4(int kc, float* a, float* b, float* t)
        {
            int W = TS.Count;
            TV c00 = TS.Zero, c01 = TS.Zero, c10 = TS.Zero, c11 = TS.Zero, c20 = TS.Zero, c21 = TS.Zero, c30 = TS.Zero, c31 = TS.Zero;
            for (int k = 0; k < kc; k++, a += MR, b += 2 * W)
            {
                TV b0 = TS.Load(b), b1 = TS.Load(b + W);
                TV x = TS.Splat(a[0]); c00 = TS.Fma(x, b0, c00); c01 = TS.Fma(x, b1, c01);
                x = TS.Splat(a[1]); c10 = TS.Fma(x, b0, c10); c11 = TS.Fma(x, b1, c11);
                x = TS.Splat(a[2]); c20 = TS.Fma(x, b0, c20); c21 = TS.Fma(x, b1, c21);
                x = TS.Splat(a[3]); c30 = TS.Fma(x, b0, c30); c31 = TS.Fma(x, b1, c31);
            }
            int nr = 2 * W;
            TS.Store(t, c00); TS.Store(t + W, c01); TS.Store(t + nr, c10); TS.Store(t + nr + W, c11);
            TS.Store(t + 2 * nr, c20); TS.Store(t + 2 * nr + W, c21); TS.Store(t + 3 * nr, c30); TS.Store(t + 3 * nr + W, c31);
        }

        /// <summary>1 row × four consecutive panels: 8 accumulators, enough independent chains to hide
        /// the FMA latency in a matrix–vector product.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Kernel1x4(int kc, float* a, int aStep, float* b, long panelStride, float* t)
        {
            int W = TS.Count, nr = 2 * W;
            float* b1p = b + panelStride, b2p = b1p + panelStride, b3p = b2p + panelStride;
            TV c0 = TS.Zero, c1 = TS.Zero, c2 = TS.Zero, c3 = TS.Zero, c4 = TS.Zero, c5 = TS.Zero, c6 = TS.Zero, c7 = TS.Zero;
            for (int k = 0; k < kc; k++, a += aStep)
            {
                TV x = TS.Splat(a[0]);
                int o = k * nr;
                c0 = TS.Fma(x, TS.Load(b + o), c0); c1 = TS.Fma(x, TS.Load(b + o + W), c1);
                c2 = TS.Fma(x, TS.Load(b1p + o), c2); c3 = TS.Fma(x, TS.Load(b1p + o + W), c3);
                c4 = TS.Fma(x, TS.Load(b2p + o), c4); c5 = TS.Fma(x, TS.Load(b2p + o + W), c5);
                c6 = TS.Fma(x, TS.Load(b3p + o), c6); c7 = TS.Fma(x, TS.Load(b3p + o + W), c7);
            }
            TS.Store(t, c0); TS.Store(t + W, c1); TS.Store(t + nr, c2); TS.Store(t + nr + W, c3);
            TS.Store(t + 2 * nr, c4); TS.Store(t + 2 * nr + W, c5); TS.Store(t + 3 * nr, c6); TS.Store(t + 3 * nr + W, c7);
        }

        /// <summary>1 row × one panel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Kernel1(int kc, float* a, int aStep, float* b, float* t)
        {
            int W = TS.Count;
            TV c0 = TS.Zero, c1 = TS.Zero;
            for (int k = 0; k < kc; k++, a += aStep, b += 2 * W)
            {
                TV x = TS.Splat(a[0]);
                c0 = TS.Fma(x, TS.Load(b), c0); c1 = TS.Fma(x, TS.Load(b + W), c1);
            }
            TS.Store(t, c0); TS.Store(t + W, c1);
        }

        /// <summary>Writes (=) or adds (+=) the first <paramref name="cols"/> columns of a tile staged on
        /// the stack, (rows, width), into C.</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Flush(float* t, int rows, int width, float* c, long crs, int ccs, int cols, bool add)
        {
            int W = TS.Count;
            for (int r = 0; r < rows; r++, t += width, c += crs)
            {
                int j = 0;
                if (ccs == 1)
                {
                    if (add) for (; j + W <= cols; j += W) TS.Store(c + j, TS.Add(TS.Load(c + j), TS.Load(t + j)));
                    else for (; j + W <= cols; j += W) TS.Store(c + j, TS.Load(t + j));
                }
                for (; j < cols; j++)
                {
                    float* cj = c + (long)j * ccs;
                    *cj = add ? *cj + t[j] : t[j];
                }
            }
        }
    }

    /// <summary>Per-thread packing buffers, grown to the largest product the thread has run (so a thread
    /// allocates only on its first product of a new largest size).</summary>
    private sealed class Scratch
    {
        [ThreadStatic] private static Scratch? t_scratch;
        public float[] A = new float[64];
        public float[] B = new float[64];

        public static Scratch ForThisThread(int a, int b)
        {
            var s = t_scratch ??= new Scratch();
            // Padding: the 8-row sliver of the last rows is read only up to mc, but a kernel may touch a
            // full register past a panel; one register of slack keeps every read inside the array.
            if (s.A.Length < a + 64) s.A = new float[a + 64];
            if (s.B.Length < b + 64) s.B = new float[b + 64];
            return s;
        }
    }

    /// <summary>A strided product split into row ranges (or panel ranges) for the worker pool.</summary>
    private sealed class GemmJob : ParallelJob
    {
        [ThreadStatic] private static GemmJob? t_job;
        private int _M, _N, _K, _ars, _aks, _bks, _bcs, _crs, _ccs;
        private float* _a, _b, _c, _pp;
        private PackedMatrix? _pre;
        private bool _accumulate, _byRows;

        public static GemmJob ForThisThread => t_job ??= new GemmJob();

        public void Set(int M, int N, int K, float* a, int ars, int aks, float* b, int bks, int bcs,
            PackedMatrix? pre, float* pp, float* c, int crs, int ccs, bool accumulate, bool byRows)
        {
            _M = M; _N = N; _K = K; _a = a; _ars = ars; _aks = aks; _b = b; _bks = bks; _bcs = bcs;
            _pre = pre; _pp = pp; _c = c; _crs = crs; _ccs = ccs; _accumulate = accumulate; _byRows = byRows;
        }

        public void Clear() { _pre = null; _a = _b = _c = _pp = null; }

        public override void Run(int part, int parts)
        {
            if (_byRows)
            {
                var (s0, s1) = Split((_M + MR - 1) / MR, part, parts);
                int i0 = s0 * MR, i1 = Math.Min(_M, s1 * MR);
                if (i1 > i0)
                    Solve(i1 - i0, _N, _K, _a + (long)i0 * _ars, _ars, _aks, _b, _bks, _bcs, _pre, _pp, _c + (long)i0 * _crs, _crs, _ccs, _accumulate);
            }
            else
            {
                int nr = NR;
                var (p0, p1) = Split((_N + nr - 1) / nr, part, parts);
                int j0 = p0 * nr, j1 = Math.Min(_N, p1 * nr);
                if (j1 > j0)
                    Solve(_M, j1 - j0, _K, _a, _ars, _aks, _b + (long)j0 * _bcs, _bks, _bcs, null, null, _c + (long)j0 * _ccs, _crs, _ccs, _accumulate);
            }
        }
    }
}

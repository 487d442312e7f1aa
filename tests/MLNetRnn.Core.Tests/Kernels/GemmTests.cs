using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Tests.Kernels;

/// <summary>
/// Every GEMM path against a naive double-precision reference on shapes that hit the edges of the
/// blocking: 1, odd, not a multiple of the register width (16 or 8) or of the panel (32 or 16), more
/// rows than one sliver (8) or block (128), K over one K block (384), and the transposed variants.
/// Tolerance: float rounding of a K-term sum, 2e-6·K relative to Σ|a·b| of the element.
/// </summary>
public sealed class GemmTests
{
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 7, 3), (3, 1, 5), (5, 17, 1), (8, 32, 16), (9, 33, 31), (4, 16, 8), (12, 48, 2),
        (17, 100, 13), (1, 128, 33), (33, 1, 129), (130, 65, 7), (7, 200, 385), (70, 40, 800),
    ];

    public static TheoryData<int, int, int, bool, bool, bool, int> Cases()
    {
        var data = new TheoryData<int, int, int, bool, bool, bool, int>();
        foreach (var (M, N, K) in Shapes)
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true) })
                foreach (bool acc in new[] { false, true })
                    data.Add(M, N, K, ta, tb, acc, (M + N + K) % 3 + 1);   // 1, 2 or 3 parts, varied over shapes
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ProductMatchesNaiveReferenceOnAwkwardShapes(int M, int N, int K, bool transA, bool transB, bool accumulate, int threads)
    {
        var (a, b, c0) = Operands(M, N, K, seed: M * 1000 + N * 10 + K);
        var c = (float[])c0.Clone();
        Gemm.Multiply(transA, transB, M, N, K, a, b, c, accumulate, threads);
        AssertMatchesReference($"{(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')} M={M} N={N} K={K} acc={accumulate} threads={threads}",
            M, N, K, a, transA, b, transB, c0, accumulate, c);

        var narrow = (float[])c0.Clone();
        Gemm.MultiplyNarrow(transA, transB, M, N, K, a, b, narrow, accumulate);
        Assert.True(c.AsSpan().SequenceEqual(narrow), $"256-bit kernels differ from the chosen width at M={M} N={N} K={K}.");
    }

    [Theory]
    [InlineData(1, 33, 128)]
    [InlineData(16, 32, 128)]
    [InlineData(21, 5, 1)]
    [InlineData(9, 200, 400)]
    public void PackedProductWithLeadingDimensionsMatchesReference(int M, int K, int N)
    {
        // Rows of A and C inside wider buffers, as the recurrent step uses them: A (M, lda), C (M, ldc).
        int lda = K + 3, ldc = N + 5;
        var rng = new Random(M + K + N);
        var w = Enumerable.Range(0, N * K).Select(_ => rng.NextSingle() - 0.5f).ToArray();   // stored (N, K): B = wᵀ
        var packed = new PackedMatrix(K, N);
        packed.Pack(w, transposed: true);
        var a = Enumerable.Range(0, M * lda).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var c = Enumerable.Range(0, M * ldc).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var before = (float[])c.Clone();
        Gemm.Packed(M, a, lda, packed, c, ldc, accumulate: true, threads: 2);
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double s = before[i * ldc + j], mag = Math.Abs(before[i * ldc + j]);
                for (int k = 0; k < K; k++) { s += (double)a[i * lda + k] * w[j * K + k]; mag += Math.Abs((double)a[i * lda + k] * w[j * K + k]); }
                Assert.True(Math.Abs(s - c[i * ldc + j]) <= 2e-6 * (K + 1) * mag + 1e-7, $"C[{i},{j}]: expected {s}, got {c[i * ldc + j]}.");
            }
            for (int j = N; j < ldc; j++) Assert.Equal(before[i * ldc + j], c[i * ldc + j]);   // the gap between rows is not touched
        }
    }

    [Fact]
    public void ResultIsBitIdenticalForAnyThreadCountAndRowSplit()
    {
        const int M = 200, N = 300, K = 700;
        var (a, b, c0) = Operands(M, N, K, seed: 5);
        float[] Run(int threads)
        {
            var c = (float[])c0.Clone();
            Gemm.TN(M, N, K, Transposed(a, M, K), b, c, accumulate: true, threads);
            return c;
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3, 4 })
            Assert.True(one.AsSpan().SequenceEqual(Run(threads)), $"{threads} threads differ from one thread.");

        // The same rows computed as two separate products (as the batch split of a recurrent step does).
        var split = (float[])c0.Clone();
        Gemm.NN(77, N, K, a, b, split, accumulate: true);
        Gemm.NN(M - 77, N, K, a.AsSpan(77 * K), b, split.AsSpan(77 * N), accumulate: true);
        Assert.True(one.AsSpan().SequenceEqual(split), "Rows computed in two products differ from one product.");
    }

    [Fact]
    public void ShortBuffersAreRefusedBeforeAnyAccess()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.NN(4, 5, 6, new float[23], new float[30], new float[20], accumulate: false));
        Assert.Contains("A needs", ex.Message);
        Assert.Throws<ArgumentException>(() => Gemm.NN(4, 5, 6, new float[24], new float[29], new float[20], accumulate: false));
        Assert.Throws<ArgumentException>(() => Gemm.NN(4, 5, 6, new float[24], new float[30], new float[19], accumulate: false));
        var packed = new PackedMatrix(6, 5);
        Assert.Throws<ArgumentException>(() => packed.Pack(new float[29], transposed: false));
        Assert.Throws<ArgumentException>(() => Gemm.Packed(4, new float[23], 6, packed, new float[20], 5, accumulate: false));
        Assert.Throws<ArgumentException>(() => Gemm.Packed(4, new float[24], 6, packed, new float[20], 6, accumulate: false));
    }

    [Fact]
    public void ZeroInnerDimensionClearsOrKeepsC()
    {
        var c = new[] { 1f, 2f, 3f, 4f };
        Gemm.NN(2, 2, 0, [], [], c, accumulate: true);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, c);
        Gemm.NN(2, 2, 0, [], [], c, accumulate: false);
        Assert.Equal(new[] { 0f, 0f, 0f, 0f }, c);
    }

    private static (float[] A, float[] B, float[] C) Operands(int M, int N, int K, int seed)
    {
        var rng = new Random(seed);
        float Next() => rng.NextSingle() * 2 - 1;
        return (Enumerable.Range(0, M * K).Select(_ => Next()).ToArray(),
                Enumerable.Range(0, K * N).Select(_ => Next()).ToArray(),
                Enumerable.Range(0, M * N).Select(_ => Next()).ToArray());
    }

    private static float[] Transposed(float[] x, int rows, int cols)
    {
        var t = new float[x.Length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
        return t;
    }

    /// <summary>The operands hold op(A) and op(B) as random (M,K) and (K,N) data read in the stored
    /// layout the flags say; the reference reads them the same way.</summary>
    private static void AssertMatchesReference(string what, int M, int N, int K, float[] a, bool transA, float[] b, bool transB,
        float[] c0, bool accumulate, float[] c)
    {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                double s = accumulate ? c0[i * N + j] : 0, mag = Math.Abs(s);
                for (int k = 0; k < K; k++)
                {
                    double p = (double)(transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
                    s += p; mag += Math.Abs(p);
                }
                double err = Math.Abs(s - c[i * N + j]);
                Assert.True(err <= 2e-6 * (K + 1) * mag + 1e-7, $"{what}: C[{i},{j}] expected {s}, got {c[i * N + j]} (error {err:E2}).");
            }
    }
}

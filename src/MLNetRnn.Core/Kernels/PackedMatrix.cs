namespace MLNetRnn.Core.Kernels;

// K, N = rows and columns of B; the panel layout is the one Gemm.PackB writes (Gemm.cs states it).

/// <summary>
/// A matrix B (K, N) packed once into the GEMM's panel layout, for products that reuse it many times
/// (the weights across the T steps of a window, and across calls until they change).
/// </summary>
internal sealed unsafe class PackedMatrix
{
    /// <summary>Allocates room for B (K, N).</summary>
    public PackedMatrix(int K, int N)
    {
        this.K = K; this.N = N;
        int nr = Gemm.NR;
        Data = new float[Math.Max(1, K * ((N + nr - 1) / nr * nr))];
    }

    /// <summary>Rows of B (the summed dimension).</summary>
    public int K { get; }

    /// <summary>Columns of B.</summary>
    public int N { get; }

    /// <summary>The panels: for each K block at k0, (Npad/NR) panels of (kc, NR), starting at k0·Npad.</summary>
    public float[] Data { get; }

    /// <summary>Packs B = src (K, N), or B = srcᵀ when <paramref name="transposed"/> (src stored (N, K)).
    /// No allocation.</summary>
    /// <exception cref="ArgumentException"><paramref name="src"/> is shorter than K·N.</exception>
    public void Pack(ReadOnlySpan<float> src, bool transposed)
    {
        if (src.Length < K * N) throw new ArgumentException($"Packing B ({K},{N}) needs {K * N} floats; got {src.Length}.", nameof(src));
        if (K == 0 || N == 0) return;
        fixed (float* s = src, d = Data)
            Gemm.PackB(K, N, s, transposed ? 1 : N, transposed ? K : 1, d);
    }

    /// <summary>Packs B = the first K columns of src (N, ld), transposed: B(k, n) = src[n·ld + k]. No allocation.</summary>
    /// <exception cref="ArgumentException"><paramref name="src"/> is too short, or <paramref name="ld"/> &lt; K.</exception>
    public void PackTransposed(ReadOnlySpan<float> src, int ld)
    {
        if (ld < K || (N > 0 && src.Length < (long)(N - 1) * ld + K))
            throw new ArgumentException($"Packing the first {K} columns of ({N},{ld}) needs ld ≥ {K} and {(long)(N - 1) * ld + K} floats; got ld {ld}, {src.Length}.", nameof(src));
        if (K == 0 || N == 0) return;
        fixed (float* s = src, d = Data)
            Gemm.PackB(K, N, s, 1, ld, d);
    }
}

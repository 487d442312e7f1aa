using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Cells;

// B = batch, H = hidden; gate blocks r|z|n (PyTorch's order), each H wide. PyTorch's GRU equations:
//   r = σ(ih_r + hh_r)      z = σ(ih_z + hh_z)
//   n = tanh(ih_n + r ⊙ hh_n)
//   h = (1 − z) ⊙ n + z ⊙ h_prev
// with ih (B,3H) = x·W_ihᵀ + b_ih and hh (B,3H) = h_prev·W_hhᵀ + b_hh. The reset gate multiplies
// hh_n after the recurrent product (and its bias b_hn), as PyTorch and cuDNN do; Cho et al. apply r to
// h_prev before the product. This variant lets the recurrent product of all three gates be one GEMM.
// With layer normalisation, the argument of each σ/tanh above is normalised per gate block.

/// <summary>GRU cell: Forward and Backward on one step of a batch.</summary>
/// <remarks>Row by row, vectorised at the process's register width (see <see cref="LstmCell"/>).</remarks>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal sealed unsafe class GruCell : IRecurrentCell
{
    public const int Gates = 3;

    public static readonly GruCell Instance = new();

    private GruCell() { }

    public RecurrentCellKind Kind => RecurrentCellKind.Gru;
    int IRecurrentCell.Gates => Gates;
    public IReadOnlyList<string> GateNames { get; } = ["r", "z", "n"];
    public bool HasCellState => false;
    public bool SeparateRecurrentProduct => true;
    public int ForgetGate => -1;
    public bool SupportsVanishingRegularizer => false;
    public bool NeedsSlopes(in Activation act) => false;
    public void DrawSlopes(Span<float> slopes, in Activation act, Random rng) { }

    /// <summary>hh = h_prev·W_hhᵀ + b_hh, kept apart, then the gates and h.</summary>
    public void Forward(in CellStep s)
    {
        int GH = Gates * s.H;
        FillRows(s.HH, s.BiasHH, s.B);
        Gemm.Packed(s.B, s.HPrev, s.H, s.WeightHHT, s.HH, GH, accumulate: true);
        Forward(s.Gates, s.HH, s.HPrev, s.HOut, s.B, s.H, s.Ln);
    }

    /// <summary>dGates (d ih) and dHH, then dh_prev = dHH·W_hh + z ⊙ dh.</summary>
    public void Backward(in CellStep s)
    {
        int GH = Gates * s.H;
        Backward(s.Dh, s.Gates, s.HH, s.HPrev, s.DGates, s.DHH, s.DhDirect, s.B, s.H, s.Ln);
        // hh = h_prev · W_hhᵀ + b_hh, and h = … + z ⊙ h_prev
        Gemm.Packed(s.B, s.DHH, GH, s.WeightHH, s.DhPrev, s.H, accumulate: false);
        System.Numerics.Tensors.TensorPrimitives.Add(s.DhPrev, s.DhDirect, s.DhPrev);
    }

    /// <summary>m (rows, n) = v broadcast over rows.</summary>
    private static void FillRows(Span<float> m, ReadOnlySpan<float> v, int rows)
    {
        int n = v.Length;
        for (int r = 0; r < rows; r++) v.CopyTo(m.Slice(r * n, n));
    }

    /// <summary>Activates the gates in place and writes h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(
        Span<float> gates,          // (B,3H) ih in; activated r|z|n out
        ReadOnlySpan<float> hh,     // (B,3H) h_prev·W_hhᵀ + b_hh, kept for Backward
        ReadOnlySpan<float> hPrev,  // (B,H)
        Span<float> h,              // (B,H) written
        int B, int H, in LayerNormStep ln)
    {
        if (gates.Length < B * 3 * H || hh.Length < B * 3 * H || hPrev.Length < B * H || h.Length < B * H)
            throw new ArgumentException($"GRU forward: buffers too small for B={B}, H={H}.");
        fixed (float* pg = gates, phh = hh, php = hPrev, ph = h)
        {
            for (int b = 0; b < B; b++)
            {
                Span<float> row = gates.Slice(b * 3 * H, 3 * H);
                float* r = pg + (long)b * 3 * H, hrow = phh + (long)b * 3 * H;
                if (ln.Enabled)
                {
                    for (int j = 0; j < 2 * H; j++) r[j] += hrow[j];
                    ln.Forward(row.Slice(0, H), b, 0, H, 3); ln.Forward(row.Slice(H, H), b, 1, H, 3);
                    for (int j = 0; j < 2 * H; j++) r[j] = Simd.Sigmoid(r[j]);
                    for (int j = 0; j < H; j++) r[2 * H + j] += r[j] * hrow[2 * H + j];
                    ln.Forward(row.Slice(2 * H, H), b, 2, H, 3);
                    for (int j = 0; j < H; j++)
                    {
                        float n = Simd.Tanh(r[2 * H + j]), z = r[H + j];
                        r[2 * H + j] = n;
                        h[b * H + j] = (1f - z) * n + z * hPrev[b * H + j];
                    }
                    continue;
                }
                if (Simd.Wide) ForwardRow<Simd512, Vector512<float>>(r, hrow, php + (long)b * H, ph + (long)b * H, H);
                else ForwardRow<Simd256, Vector256<float>>(r, hrow, php + (long)b * H, ph + (long)b * H, H);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow<TS, TV>(float* r, float* hrow, float* hPrev, float* h, int H)
        where TS : struct, ISimd<TV> where TV : struct
    {
        int W = TS.Count, j = 0;
        TV one = TS.Splat(1f);
        for (; j + W <= H; j += W)
        {
            TV rg = Simd.Sigmoid<TS, TV>(TS.Add(TS.Load(r + j), TS.Load(hrow + j)));
            TV z = Simd.Sigmoid<TS, TV>(TS.Add(TS.Load(r + H + j), TS.Load(hrow + H + j)));
            // n = tanh(ih_n + r ⊙ hh_n),  h = (1 − z) ⊙ n + z ⊙ h_prev
            TV n = Simd.Tanh<TS, TV>(TS.Fma(rg, TS.Load(hrow + 2 * H + j), TS.Load(r + 2 * H + j)));
            TS.Store(r + j, rg); TS.Store(r + H + j, z); TS.Store(r + 2 * H + j, n);
            TS.Store(h + j, TS.Fma(z, TS.Load(hPrev + j), TS.Mul(TS.Sub(one, z), n)));
        }
        for (; j < H; j++)
        {
            float rg = Simd.Sigmoid(r[j] + hrow[j]), z = Simd.Sigmoid(r[H + j] + hrow[H + j]);
            float n = Simd.Tanh(MathF.FusedMultiplyAdd(rg, hrow[2 * H + j], r[2 * H + j]));
            r[j] = rg; r[H + j] = z; r[2 * H + j] = n;
            h[j] = MathF.FusedMultiplyAdd(z, hPrev[j], (1f - z) * n);
        }
    }

    /// <summary>Gradients w.r.t. ih and hh of one step, and the part of dL/dh_prev that does not go
    /// through W_hh. Writes (=) <paramref name="dIH"/>, <paramref name="dHH"/> and
    /// <paramref name="dhPrevDirect"/>; accumulates layer-norm dγ, dβ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(
        ReadOnlySpan<float> dh,      // (B,H) total gradient w.r.t. h of this step
        ReadOnlySpan<float> gates,   // (B,3H) activated r|z|n from Forward
        ReadOnlySpan<float> hh,      // (B,3H) from Forward
        ReadOnlySpan<float> hPrev,   // (B,H)
        Span<float> dIH,             // (B,3H) written: dL/d ih
        Span<float> dHH,             // (B,3H) written: dL/d hh
        Span<float> dhPrevDirect,    // (B,H) written: z ⊙ dh
        int B, int H, in LayerNormStep ln)
    {
        if (gates.Length < B * 3 * H || hh.Length < B * 3 * H || dIH.Length < B * 3 * H || dHH.Length < B * 3 * H
            || dh.Length < B * H || hPrev.Length < B * H || dhPrevDirect.Length < B * H)
            throw new ArgumentException($"GRU backward: buffers too small for B={B}, H={H}.");
        if (!ln.Enabled)
        {
            fixed (float* pdh = dh, pg = gates, phh = hh, php = hPrev, pdi = dIH, pdhh = dHH, pdir = dhPrevDirect)
                for (int b = 0; b < B; b++)
                {
                    long k = (long)b * H, r = (long)b * 3 * H;
                    if (Simd.Wide) BackwardRow<Simd512, Vector512<float>>(pdh + k, pg + r, phh + r, php + k, pdi + r, pdhh + r, pdir + k, H);
                    else BackwardRow<Simd256, Vector256<float>>(pdh + k, pg + r, phh + r, php + k, pdi + r, pdhh + r, pdir + k, H);
                }
            return;
        }
        for (int b = 0; b < B; b++)
        {
            ReadOnlySpan<float> row = gates.Slice(b * 3 * H, 3 * H), hrow = hh.Slice(b * 3 * H, 3 * H);
            Span<float> dih = dIH.Slice(b * 3 * H, 3 * H), dhh = dHH.Slice(b * 3 * H, 3 * H);
            for (int j = 0; j < H; j++)
            {
                int k = b * H + j;
                float z = row[H + j], n = row[2 * H + j], dhk = dh[k];
                // h = (1 − z) ⊙ n + z ⊙ h_prev
                dhPrevDirect[k] = dhk * z;
                dih[H + j] = dhk * (hPrev[k] - n);                 // dz, activated below
                dih[2 * H + j] = dhk * (1f - z) * (1f - n * n);    // d(argument of tanh)
            }
            ln.Backward(dih.Slice(2 * H, H), b, 2, H, 3);
            for (int j = 0; j < H; j++)
            {
                float r = row[j], z = row[H + j], dn = dih[2 * H + j];
                // n = tanh(ih_n + r ⊙ hh_n)
                dhh[2 * H + j] = dn * r;
                dih[j] = dn * hrow[2 * H + j] * r * (1f - r);
                dih[H + j] *= z * (1f - z);
            }
            ln.Backward(dih.Slice(0, H), b, 0, H, 3); ln.Backward(dih.Slice(H, H), b, 1, H, 3);
            // r and z see ih and hh through the same sum.
            for (int j = 0; j < 2 * H; j++) dhh[j] = dih[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRow<TS, TV>(float* dh, float* row, float* hrow, float* hPrev, float* dih, float* dhh, float* direct, int H)
        where TS : struct, ISimd<TV> where TV : struct
    {
        int W = TS.Count, j = 0;
        TV one = TS.Splat(1f);
        for (; j + W <= H; j += W)
        {
            TV r = TS.Load(row + j), z = TS.Load(row + H + j), n = TS.Load(row + 2 * H + j), dhk = TS.Load(dh + j);
            // h = (1 − z) ⊙ n + z ⊙ h_prev
            TS.Store(direct + j, TS.Mul(dhk, z));
            TV dz = TS.Mul(TS.Mul(dhk, TS.Sub(TS.Load(hPrev + j), n)), TS.Mul(z, TS.Sub(one, z)));
            TV dn = TS.Mul(TS.Mul(dhk, TS.Sub(one, z)), TS.Sub(one, TS.Mul(n, n)));
            // n = tanh(ih_n + r ⊙ hh_n)
            TV dr = TS.Mul(TS.Mul(dn, TS.Load(hrow + 2 * H + j)), TS.Mul(r, TS.Sub(one, r)));
            TS.Store(dih + j, dr); TS.Store(dih + H + j, dz); TS.Store(dih + 2 * H + j, dn);
            // r and z see ih and hh through the same sum.
            TS.Store(dhh + j, dr); TS.Store(dhh + H + j, dz); TS.Store(dhh + 2 * H + j, TS.Mul(dn, r));
        }
        for (; j < H; j++)
        {
            float r = row[j], z = row[H + j], n = row[2 * H + j], dhk = dh[j];
            direct[j] = dhk * z;
            float dz = dhk * (hPrev[j] - n) * (z * (1f - z));
            float dn = dhk * (1f - z) * (1f - n * n);
            float dr = dn * hrow[2 * H + j] * (r * (1f - r));
            dih[j] = dr; dih[H + j] = dz; dih[2 * H + j] = dn;
            dhh[j] = dr; dhh[H + j] = dz; dhh[2 * H + j] = dn * r;
        }
    }
}

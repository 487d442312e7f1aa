using MLNetRnn.Core.Layers;

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
internal static class GruCell
{
    public const int Gates = 3;

    /// <summary>Activates the gates in place and writes h.</summary>
    public static void Forward(
        Span<float> gates,          // (B,3H) ih in; activated r|z|n out
        ReadOnlySpan<float> hh,     // (B,3H) h_prev·W_hhᵀ + b_hh, kept for Backward
        ReadOnlySpan<float> hPrev,  // (B,H)
        Span<float> h,              // (B,H) written
        int B, int H, in LayerNormStep ln)
    {
        for (int b = 0; b < B; b++)
        {
            Span<float> row = gates.Slice(b * 3 * H, 3 * H);
            ReadOnlySpan<float> hrow = hh.Slice(b * 3 * H, 3 * H);
            for (int j = 0; j < 2 * H; j++) row[j] += hrow[j];
            if (ln.Enabled) { ln.Forward(row.Slice(0, H), b, 0, H, 3); ln.Forward(row.Slice(H, H), b, 1, H, 3); }
            for (int j = 0; j < 2 * H; j++) row[j] = ElmanCell.Sigmoid(row[j]);
            for (int j = 0; j < H; j++) row[2 * H + j] += row[j] * hrow[2 * H + j];
            if (ln.Enabled) ln.Forward(row.Slice(2 * H, H), b, 2, H, 3);
            for (int j = 0; j < H; j++)
            {
                float n = MathF.Tanh(row[2 * H + j]);
                row[2 * H + j] = n;
                float z = row[H + j];
                int k = b * H + j;
                h[k] = (1f - z) * n + z * hPrev[k];
            }
        }
    }

    /// <summary>Gradients w.r.t. ih and hh of one step, and the part of dL/dh_prev that does not go
    /// through W_hh. Writes (=) <paramref name="dIH"/>, <paramref name="dHH"/> and
    /// <paramref name="dhPrevDirect"/>; accumulates layer-norm dγ, dβ.</summary>
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
            if (ln.Enabled) ln.Backward(dih.Slice(2 * H, H), b, 2, H, 3);
            for (int j = 0; j < H; j++)
            {
                float r = row[j], z = row[H + j], dn = dih[2 * H + j];
                // n = tanh(ih_n + r ⊙ hh_n)
                dhh[2 * H + j] = dn * r;
                dih[j] = dn * hrow[2 * H + j] * r * (1f - r);
                dih[H + j] *= z * (1f - z);
            }
            if (ln.Enabled) { ln.Backward(dih.Slice(0, H), b, 0, H, 3); ln.Backward(dih.Slice(H, H), b, 1, H, 3); }
            // r and z see ih and hh through the same sum.
            for (int j = 0; j < 2 * H; j++) dhh[j] = dih[j];
        }
    }
}

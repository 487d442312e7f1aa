using MLNetRnn.Core.Layers;

namespace MLNetRnn.Core.Cells;

// B = batch, H = hidden; gate blocks i|f|g|o (PyTorch's order), each H wide, so a row of `gates` is
//   [ i (H) | f (H) | g (H) | o (H) ].
//   i, f, o = σ(a_i), σ(a_f), σ(a_o)     g = tanh(a_g)
//   c = f ⊙ c_prev + i ⊙ g               h = o ⊙ tanh(c)
// where a (B,4H) = x·W_ihᵀ + b_ih + h_prev·W_hhᵀ + b_hh, formed by the layer.

/// <summary>LSTM cell: Forward and Backward on one step of a batch.</summary>
internal static class LstmCell
{
    public const int Gates = 4;

    /// <summary>Activates the gates in place and advances the cell and hidden state.</summary>
    public static void Forward(
        Span<float> gates,           // (B,4H) pre-activations in, activated i|f|g|o out
        ReadOnlySpan<float> cPrev,   // (B,H)
        Span<float> c,               // (B,H) written
        Span<float> tanhC,           // (B,H) written, kept for Backward
        Span<float> h,               // (B,H) written
        int B, int H, in LayerNormStep ln)
    {
        for (int b = 0; b < B; b++)
        {
            Span<float> row = gates.Slice(b * 4 * H, 4 * H);
            if (ln.Enabled)
                for (int g = 0; g < 4; g++) ln.Forward(row.Slice(g * H, H), b, g, H, 4);
            for (int j = 0; j < H; j++)
            {
                float i = ElmanCell.Sigmoid(row[j]);
                float f = ElmanCell.Sigmoid(row[H + j]);
                float g = MathF.Tanh(row[2 * H + j]);
                float o = ElmanCell.Sigmoid(row[3 * H + j]);
                row[j] = i; row[H + j] = f; row[2 * H + j] = g; row[3 * H + j] = o;
                int k = b * H + j;
                float ck = f * cPrev[k] + i * g;
                float tc = MathF.Tanh(ck);
                c[k] = ck; tanhC[k] = tc; h[k] = o * tc;
            }
        }
    }

    /// <summary>Gradient w.r.t. the gate pre-activations of one step.
    /// Writes (=) <paramref name="dGates"/>; replaces <paramref name="dc"/> (gradient w.r.t. c from
    /// step t+1 on entry) by the gradient w.r.t. c_prev; accumulates layer-norm dγ, dβ.</summary>
    public static void Backward(
        ReadOnlySpan<float> dh,      // (B,H) total gradient w.r.t. h of this step
        Span<float> dc,              // (B,H) in: dL/dc from step t+1; out: dL/dc_prev
        ReadOnlySpan<float> gates,   // (B,4H) activated i|f|g|o from Forward
        ReadOnlySpan<float> cPrev,   // (B,H)
        ReadOnlySpan<float> tanhC,   // (B,H) from Forward
        Span<float> dGates,          // (B,4H) written: dL/da
        int B, int H, in LayerNormStep ln)
    {
        for (int b = 0; b < B; b++)
        {
            ReadOnlySpan<float> row = gates.Slice(b * 4 * H, 4 * H);
            Span<float> drow = dGates.Slice(b * 4 * H, 4 * H);
            for (int j = 0; j < H; j++)
            {
                int k = b * H + j;
                float i = row[j], f = row[H + j], g = row[2 * H + j], o = row[3 * H + j];
                float tc = tanhC[k], dhk = dh[k];
                // h = o ⊙ tanh(c)
                float dO = dhk * tc;
                float dC = dc[k] + dhk * o * (1f - tc * tc);
                // c = f ⊙ c_prev + i ⊙ g
                dc[k] = dC * f;
                drow[j] = dC * g * i * (1f - i);
                drow[H + j] = dC * cPrev[k] * f * (1f - f);
                drow[2 * H + j] = dC * i * (1f - g * g);
                drow[3 * H + j] = dO * o * (1f - o);
            }
            if (ln.Enabled)
                for (int g = 0; g < 4; g++) ln.Backward(drow.Slice(g * H, H), b, g, H, 4);
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Cells;

// B = batch, H = hidden; gate blocks i|f|g|o (PyTorch's order), each H wide, so a row of `gates` is
//   [ i (H) | f (H) | g (H) | o (H) ].
//   i, f, o = σ(a_i), σ(a_f), σ(a_o)     g = tanh(a_g)
//   c = f ⊙ c_prev + i ⊙ g               h = o ⊙ tanh(c)
// where a (B,4H) = x·W_ihᵀ + b_ih + h_prev·W_hhᵀ + b_hh, formed by the layer.

/// <summary>LSTM cell: Forward and Backward on one step of a batch.</summary>
/// <remarks>Each row is one fused pass over registers (gate activations, cell and hidden update), at the
/// register width the process chose; a row is processed the same way whichever rows share the call, so
/// splitting the batch between threads does not change any value. σ and tanh are computed from e^x (see
/// <see cref="Simd"/>).</remarks>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal sealed unsafe class LstmCell : IRecurrentCell
{
    public const int Gates = 4;

    public static readonly LstmCell Instance = new();

    private LstmCell() { }

    public RecurrentCellKind Kind => RecurrentCellKind.Lstm;
    int IRecurrentCell.Gates => Gates;
    public IReadOnlyList<string> GateNames { get; } = ["i", "f", "g", "o"];
    public bool HasCellState => true;
    public bool SeparateRecurrentProduct => false;
    public int ForgetGate => 1;
    public bool SupportsVanishingRegularizer => false;
    public bool NeedsSlopes(in Activation act) => false;
    public void DrawSlopes(Span<float> slopes, in Activation act, Random rng) { }

    /// <summary>a += h_prev·W_hhᵀ (b_hh is in the layer's bias already), then the gates and the state.</summary>
    public void Forward(in CellStep s)
    {
        int GH = Gates * s.H;
        Gemm.Packed(s.B, s.HPrev, s.H, s.WeightHHT, s.Gates, GH, accumulate: true);
        Forward(s.Gates, s.CPrev, s.C, s.TanhC, s.HOut, s.B, s.H, s.Ln);
    }

    /// <summary>dGates from dh and dc, then dh_prev = dGates·W_hh.</summary>
    public void Backward(in CellStep s)
    {
        int GH = Gates * s.H;
        Backward(s.Dh, s.Dc, s.Gates, s.CPrev, s.TanhC, s.DGates, s.B, s.H, s.Ln);
        // a = … + h_prev · W_hhᵀ
        Gemm.Packed(s.B, s.DGates, GH, s.WeightHH, s.DhPrev, s.H, accumulate: false);
    }

    /// <summary>Activates the gates in place and advances the cell and hidden state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(
        Span<float> gates,           // (B,4H) pre-activations in, activated i|f|g|o out
        ReadOnlySpan<float> cPrev,   // (B,H)
        Span<float> c,               // (B,H) written
        Span<float> tanhC,           // (B,H) written, kept for Backward
        Span<float> h,               // (B,H) written
        int B, int H, in LayerNormStep ln)
    {
        if (gates.Length < B * 4 * H || cPrev.Length < B * H || c.Length < B * H || tanhC.Length < B * H || h.Length < B * H)
            throw new ArgumentException($"LSTM forward: buffers too small for B={B}, H={H}.");
        fixed (float* pg = gates, pcp = cPrev, pc = c, ptc = tanhC, ph = h)
        {
            for (int b = 0; b < B; b++)
            {
                float* row = pg + (long)b * 4 * H;
                if (ln.Enabled)
                    for (int g = 0; g < 4; g++) ln.Forward(gates.Slice(b * 4 * H + g * H, H), b, g, H, 4);
                long k = (long)b * H;
                if (Simd.Wide) ForwardRow<Simd512, Vector512<float>>(row, pcp + k, pc + k, ptc + k, ph + k, H);
                else ForwardRow<Simd256, Vector256<float>>(row, pcp + k, pc + k, ptc + k, ph + k, H);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow<TS, TV>(float* row, float* cPrev, float* c, float* tanhC, float* h, int H)
        where TS : struct, ISimd<TV> where TV : struct
    {
        int W = TS.Count, j = 0;
        for (; j + W <= H; j += W)
        {
            TV i = Simd.Sigmoid<TS, TV>(TS.Load(row + j));
            TV f = Simd.Sigmoid<TS, TV>(TS.Load(row + H + j));
            TV g = Simd.Tanh<TS, TV>(TS.Load(row + 2 * H + j));
            TV o = Simd.Sigmoid<TS, TV>(TS.Load(row + 3 * H + j));
            TS.Store(row + j, i); TS.Store(row + H + j, f); TS.Store(row + 2 * H + j, g); TS.Store(row + 3 * H + j, o);
            // c = f ⊙ c_prev + i ⊙ g,  h = o ⊙ tanh(c)
            TV ck = TS.Fma(f, TS.Load(cPrev + j), TS.Mul(i, g));
            TV tc = Simd.Tanh<TS, TV>(ck);
            TS.Store(c + j, ck); TS.Store(tanhC + j, tc); TS.Store(h + j, TS.Mul(o, tc));
        }
        for (; j < H; j++)
        {
            float i = Simd.Sigmoid(row[j]), f = Simd.Sigmoid(row[H + j]), g = Simd.Tanh(row[2 * H + j]), o = Simd.Sigmoid(row[3 * H + j]);
            row[j] = i; row[H + j] = f; row[2 * H + j] = g; row[3 * H + j] = o;
            float ck = MathF.FusedMultiplyAdd(f, cPrev[j], i * g), tc = Simd.Tanh(ck);
            c[j] = ck; tanhC[j] = tc; h[j] = o * tc;
        }
    }

    /// <summary>Gradient w.r.t. the gate pre-activations of one step.
    /// Writes (=) <paramref name="dGates"/>; replaces <paramref name="dc"/> (gradient w.r.t. c from
    /// step t+1 on entry) by the gradient w.r.t. c_prev; accumulates layer-norm dγ, dβ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(
        ReadOnlySpan<float> dh,      // (B,H) total gradient w.r.t. h of this step
        Span<float> dc,              // (B,H) in: dL/dc from step t+1; out: dL/dc_prev
        ReadOnlySpan<float> gates,   // (B,4H) activated i|f|g|o from Forward
        ReadOnlySpan<float> cPrev,   // (B,H)
        ReadOnlySpan<float> tanhC,   // (B,H) from Forward
        Span<float> dGates,          // (B,4H) written: dL/da
        int B, int H, in LayerNormStep ln)
    {
        if (gates.Length < B * 4 * H || dGates.Length < B * 4 * H || dh.Length < B * H || dc.Length < B * H || cPrev.Length < B * H || tanhC.Length < B * H)
            throw new ArgumentException($"LSTM backward: buffers too small for B={B}, H={H}.");
        fixed (float* pdh = dh, pdc = dc, pg = gates, pcp = cPrev, ptc = tanhC, pdg = dGates)
        {
            for (int b = 0; b < B; b++)
            {
                long k = (long)b * H, r = (long)b * 4 * H;
                if (Simd.Wide) BackwardRow<Simd512, Vector512<float>>(pdh + k, pdc + k, pg + r, pcp + k, ptc + k, pdg + r, H);
                else BackwardRow<Simd256, Vector256<float>>(pdh + k, pdc + k, pg + r, pcp + k, ptc + k, pdg + r, H);
                if (ln.Enabled)
                    for (int g = 0; g < 4; g++) ln.Backward(dGates.Slice(b * 4 * H + g * H, H), b, g, H, 4);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRow<TS, TV>(float* dh, float* dc, float* row, float* cPrev, float* tanhC, float* drow, int H)
        where TS : struct, ISimd<TV> where TV : struct
    {
        int W = TS.Count, j = 0;
        TV one = TS.Splat(1f);
        for (; j + W <= H; j += W)
        {
            TV i = TS.Load(row + j), f = TS.Load(row + H + j), g = TS.Load(row + 2 * H + j), o = TS.Load(row + 3 * H + j);
            TV tc = TS.Load(tanhC + j), dhk = TS.Load(dh + j);
            // h = o ⊙ tanh(c)
            TV dO = TS.Mul(dhk, tc);
            TV dC = TS.Add(TS.Load(dc + j), TS.Mul(TS.Mul(dhk, o), TS.Sub(one, TS.Mul(tc, tc))));
            // c = f ⊙ c_prev + i ⊙ g
            TS.Store(dc + j, TS.Mul(dC, f));
            TS.Store(drow + j, TS.Mul(TS.Mul(dC, g), TS.Mul(i, TS.Sub(one, i))));
            TS.Store(drow + H + j, TS.Mul(TS.Mul(dC, TS.Load(cPrev + j)), TS.Mul(f, TS.Sub(one, f))));
            TS.Store(drow + 2 * H + j, TS.Mul(TS.Mul(dC, i), TS.Sub(one, TS.Mul(g, g))));
            TS.Store(drow + 3 * H + j, TS.Mul(dO, TS.Mul(o, TS.Sub(one, o))));
        }
        for (; j < H; j++)
        {
            float i = row[j], f = row[H + j], g = row[2 * H + j], o = row[3 * H + j];
            float tc = tanhC[j], dhk = dh[j];
            float dO = dhk * tc;
            float dC = dc[j] + dhk * o * (1f - tc * tc);
            dc[j] = dC * f;
            drow[j] = dC * g * (i * (1f - i));
            drow[H + j] = dC * cPrev[j] * (f * (1f - f));
            drow[2 * H + j] = dC * i * (1f - g * g);
            drow[3 * H + j] = dO * (o * (1f - o));
        }
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Memory;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Layers;

// B = batch, T = steps, I = input features, H = hidden, G = gate blocks (1 Elman, 4 LSTM, 3 GRU).
//
// One recurrent layer over a window. The work splits into what can be batched over all steps and what
// must run step by step:
//   Forward:  Gates (T·B, GH) = X (T·B, I) · W_ihᵀ + b_ih          one GEMM for all steps
//             for t: Gates_t += h_{t-1} · W_hhᵀ + b_hh; cell      (GRU keeps the recurrent part in HH_t)
//   Backward: for t descending: cell backward → dGates_t; dh_{t-1} = dGates_t · W_hh
//             then dW_ih += dGatesᵀ X, dW_hh += dGatesᵀ H_prev, dX = dGates · W_ih   one GEMM each
// This is the layout cuDNN uses: the step-by-step part is only the B×H×GH recurrent product.

/// <summary>A recurrent layer: its parameter views and its Forward/Backward over a window.</summary>
internal sealed class RecurrentLayer
{
    private readonly RecurrentCellKind _cell;
    private readonly Activation _activation;
    private readonly bool _layerNorm;
    public readonly int Index, I, H, G;
    public readonly ParameterTensor WeightIH;   // (G·H, I)
    public readonly ParameterTensor WeightHH;   // (G·H, H)
    public readonly ParameterTensor BiasIH;     // (G·H)
    public readonly ParameterTensor BiasHH;     // (G·H)
    public readonly ParameterTensor LnGain;     // (G·H) layer norm only
    public readonly ParameterTensor LnBias;     // (G·H) layer norm only

    public RecurrentLayer(Network.RecurrentNetworkSpec spec, int index, ParameterBuffer p)
    {
        Index = index;
        _cell = spec.Cell;
        _activation = spec.ResolveActivation();
        _layerNorm = spec.LayerNormalization;
        I = spec.LayerInputSize(index); H = spec.HiddenSizes[index]; G = spec.GateCount;
        WeightIH = p[Names.WeightIH(index)];
        WeightHH = p[Names.WeightHH(index)];
        BiasIH = p[Names.BiasIH(index)];
        BiasHH = p[Names.BiasHH(index)];
        if (_layerNorm) { LnGain = p[Names.LnGain(index)]; LnBias = p[Names.LnBias(index)]; }
    }

    internal Activation Activation => _activation;

    /// <summary>Parameter names, PyTorch's for the recurrent weights.</summary>
    internal static class Names
    {
        public static string WeightIH(int l) => $"weight_ih_l{l}";
        public static string WeightHH(int l) => $"weight_hh_l{l}";
        public static string BiasIH(int l) => $"bias_ih_l{l}";
        public static string BiasHH(int l) => $"bias_hh_l{l}";
        public static string LnGain(int l) => $"ln_weight_l{l}";
        public static string LnBias(int l) => $"ln_bias_l{l}";
    }

    /// <summary>Runs T steps from the initial state in ws.Hs[0] (and ws.Cs[0]); fills every cache.</summary>
    public void Forward(ParameterBuffer p, LayerWorkspace ws,
        ReadOnlySpan<float> x,     // (T, B, I) this layer's input
        int T, int B, bool training, Random rng)
    {
        int GH = G * H;
        ReadOnlySpan<float> values = p.Values;
        Gemm.Transpose(values.Slice(WeightIH.Offset, WeightIH.Length), ws.WeightIHT, GH, I);
        Gemm.Transpose(values.Slice(WeightHH.Offset, WeightHH.Length), ws.WeightHHT, GH, H);
        ReadOnlySpan<float> bIH = values.Slice(BiasIH.Offset, GH), bHH = values.Slice(BiasHH.Offset, GH);

        Span<float> gatesAll = ws.Gates.AsSpan(0, T * B * GH);
        Gemm.NN(T * B, GH, I, x, ws.WeightIHT, gatesAll, accumulate: false);
        AddRows(gatesAll, bIH, T * B);

        for (int t = 0; t < T; t++)
        {
            ReadOnlySpan<float> hPrev = ws.Hs.AsSpan(t * B * H, B * H);
            Span<float> h = ws.Hs.AsSpan((t + 1) * B * H, B * H);
            Span<float> gates = ws.Gates.AsSpan(t * B * GH, B * GH);
            var ln = LayerNormAt(p, ws, t, B);
            switch (_cell)
            {
                case RecurrentCellKind.Elman:
                    Gemm.NN(B, GH, H, hPrev, ws.WeightHHT, gates, accumulate: true);
                    AddRows(gates, bHH, B);
                    if (ln.Enabled)
                        for (int b = 0; b < B; b++) ln.Forward(gates.Slice(b * H, H), b, 0, H, 1);
                    ElmanCell.Forward(gates, h, SliceOrEmpty(ws.Slopes, t * B * H, B * H), _activation, training, rng);
                    break;
                case RecurrentCellKind.Lstm:
                    Gemm.NN(B, GH, H, hPrev, ws.WeightHHT, gates, accumulate: true);
                    AddRows(gates, bHH, B);
                    LstmCell.Forward(gates, ws.Cs.AsSpan(t * B * H, B * H), ws.Cs.AsSpan((t + 1) * B * H, B * H),
                        ws.TanhC.AsSpan(t * B * H, B * H), h, B, H, ln);
                    break;
                case RecurrentCellKind.Gru:
                    Span<float> hh = ws.HH.AsSpan(t * B * GH, B * GH);
                    Gemm.NN(B, GH, H, hPrev, ws.WeightHHT, hh, accumulate: false);
                    AddRows(hh, bHH, B);
                    GruCell.Forward(gates, hh, hPrev, h, B, H, ln);
                    break;
            }
        }
    }

    /// <summary>
    /// Backpropagates through steps [<paramref name="tStart"/>, T) of the last Forward. Gradient that
    /// would flow into h_{tStart−1} is kept in ws.DhNext (dL/d initial state when tStart = 0) and goes no
    /// further: that is truncation. Accumulates (+=) parameter gradients; writes (=) <paramref name="dX"/>
    /// when it is not empty (zero for steps before tStart). <paramref name="regularizerWeight"/> is α of
    /// Pascanu's Ω (Elman only; 0 turns it off). Returns Ω over the window, before weighting by α.
    /// </summary>
    public double Backward(ParameterBuffer p, LayerWorkspace ws,
        ReadOnlySpan<float> x,       // (T, B, I) this layer's input, as given to Forward
        Span<float> dX,              // (T, B, I) written, or empty
        int T, int B, int tStart,
        float[]? hiddenGradientNorms, // (T) ‖dL/dh_t‖ written when not null
        float regularizerWeight)
    {
        int GH = G * H;
        ReadOnlySpan<float> values = p.Values;
        ReadOnlySpan<float> wHH = values.Slice(WeightHH.Offset, WeightHH.Length);  // (GH, H)
        Span<float> dhNext = ws.DhNext.AsSpan(0, B * H);
        Span<float> dc = ws.DcNext.Length > 0 ? ws.DcNext.AsSpan(0, B * H) : Span<float>.Empty;
        dhNext.Clear();
        dc.Clear();
        double omega = 0;
        bool regularize = regularizerWeight > 0f;
        bool rrelu = _activation.IsRandomized && _cell == RecurrentCellKind.Elman;
        if (hiddenGradientNorms is not null) Array.Clear(hiddenGradientNorms, 0, T);

        for (int t = T - 1; t >= tStart; t--)
        {
            ReadOnlySpan<float> dOut = ws.DOut.AsSpan(t * B * H, B * H);
            Span<float> dh = ws.Dhs.AsSpan(t * B * H, B * H);
            System.Numerics.Tensors.TensorPrimitives.Add(dOut, dhNext, dh);
            if (hiddenGradientNorms is not null) hiddenGradientNorms[t] = Norm(dh);

            ReadOnlySpan<float> hPrev = ws.Hs.AsSpan(t * B * H, B * H);
            Span<float> dGates = ws.DGates.AsSpan(t * B * GH, B * GH);
            var ln = LayerNormAt(p, ws, t, B);
            switch (_cell)
            {
                case RecurrentCellKind.Elman:
                    // h = σ(pre)
                    ElmanCell.Backward(dh, ws.Hs.AsSpan((t + 1) * B * H, B * H),
                        rrelu ? ws.Slopes.AsSpan(t * B * H, B * H) : ReadOnlySpan<float>.Empty, _activation, dGates);
                    if (ln.Enabled)
                        for (int b = 0; b < B; b++) ln.Backward(dGates.Slice(b * H, H), b, 0, H, 1);
                    // pre = … + h_prev · W_hhᵀ
                    Gemm.NN(B, H, GH, dGates, wHH, dhNext, accumulate: false);
                    if (regularize)
                        omega += PascanuRegularizer.Step(regularizerWeight, this, ws, t, B, dh, dGates, dhNext);
                    break;
                case RecurrentCellKind.Lstm:
                    LstmCell.Backward(dh, dc, ws.Gates.AsSpan(t * B * GH, B * GH), ws.Cs.AsSpan(t * B * H, B * H),
                        ws.TanhC.AsSpan(t * B * H, B * H), dGates, B, H, ln);
                    Gemm.NN(B, H, GH, dGates, wHH, dhNext, accumulate: false);
                    break;
                case RecurrentCellKind.Gru:
                    Span<float> dHH = ws.DHH.AsSpan(t * B * GH, B * GH);
                    Span<float> direct = ws.DhDirect.AsSpan(0, B * H);
                    GruCell.Backward(dh, ws.Gates.AsSpan(t * B * GH, B * GH), ws.HH.AsSpan(t * B * GH, B * GH), hPrev,
                        dGates, dHH, direct, B, H, ln);
                    // hh = h_prev · W_hhᵀ + b_hh, and h = … + z ⊙ h_prev
                    Gemm.NN(B, H, GH, dHH, wHH, dhNext, accumulate: false);
                    for (int k = 0; k < dhNext.Length; k++) dhNext[k] += direct[k];
                    break;
            }
        }

        // Parameter and input gradients over the window rows [tStart, T), batched over steps.
        int rows = (T - tStart) * B;
        int r0 = tStart * B;
        Span<float> dGatesWin = ws.DGates.AsSpan(r0 * GH, rows * GH);
        ReadOnlySpan<float> xWin = x.Slice(r0 * I, rows * I);
        if (!dX.IsEmpty)
        {
            dX.Slice(0, r0 * I).Clear();
            // Gates = X · W_ihᵀ   (Ω's own term is excluded: it holds the input constant)
            Gemm.NN(rows, I, GH, dGatesWin, values.Slice(WeightIH.Offset, WeightIH.Length), dX.Slice(r0 * I, rows * I), accumulate: false);
        }
        if (regularize) PascanuRegularizer.FinishWindow(this, ws, p, r0, rows);

        ReadOnlySpan<float> dRecWin = _cell == RecurrentCellKind.Gru ? ws.DHH.AsSpan(r0 * GH, rows * GH) : dGatesWin;
        ReadOnlySpan<float> hPrevWin = ws.Hs.AsSpan(r0 * H, rows * H);
        Gemm.TN(GH, I, rows, dGatesWin, xWin, p.Gradient(WeightIH), accumulate: true);
        Gemm.TN(GH, H, rows, dRecWin, hPrevWin, p.Gradient(WeightHH), accumulate: true);
        SumRows(dGatesWin, p.Gradient(BiasIH), rows);
        SumRows(dRecWin, p.Gradient(BiasHH), rows);
        return omega;
    }

    private LayerNormStep LayerNormAt(ParameterBuffer p, LayerWorkspace ws, int t, int B)
    {
        if (!_layerNorm) return default;
        int GH = G * H;
        return new LayerNormStep(p.Value(LnGain), p.Value(LnBias), p.Gradient(LnGain), p.Gradient(LnBias),
            ws.LnXhat.AsSpan(t * B * GH, B * GH), ws.LnRstd.AsSpan(t * B * G, B * G));
    }

    private static Span<float> SliceOrEmpty(float[] a, int start, int length) => a.Length == 0 ? Span<float>.Empty : a.AsSpan(start, length);

    /// <summary>m (rows, n) += v broadcast over rows.</summary>
    internal static void AddRows(Span<float> m, ReadOnlySpan<float> v, int rows)
    {
        int n = v.Length;
        for (int r = 0; r < rows; r++) System.Numerics.Tensors.TensorPrimitives.Add(m.Slice(r * n, n), v, m.Slice(r * n, n));
    }

    /// <summary>acc (n) += Σ_r m (rows, n).</summary>
    internal static void SumRows(ReadOnlySpan<float> m, Span<float> acc, int rows)
    {
        int n = acc.Length;
        for (int r = 0; r < rows; r++) System.Numerics.Tensors.TensorPrimitives.Add(acc, m.Slice(r * n, n), acc);
    }

    internal static float Norm(ReadOnlySpan<float> v)
    {
        double s = 0;
        for (int k = 0; k < v.Length; k++) s += (double)v[k] * v[k];
        return (float)Math.Sqrt(s);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Memory;

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
//
// Dilation D (spec.Dilations): step t reads the state of step t−D, h_{t−D} (c likewise), and the initial state Hs[0]
// for t < D; D = 1 is the ordinary layer. The caches keep their layout, Hs[t+1] = h_t, so step t's previous state
// is Hs[prev(t)], prev(t) = t − D + 1 for t ≥ D, else 0. The batch of a step is unchanged: the window is D
// interleaved sub-sequences, each run by the ordinary cell. Backward carries dL/dh_{t−D} (and dL/dc) in a ring of D
// slots, slot t mod D, since step t's gradient into h_{t−D} waits D steps to be used; for t < D it goes to the
// initial state's gradient, DhNext.
//
// One-hot categories given by index (spec.InputCategories = C_0..C_{n-1}, first layer only): X's rows are (I_d + n)
// wide, the last n features indices k_j (negative: none), and W_ih is (GH, I_d + ΣC_j), each category's block of
// columns after the dense ones, in order, as if X held the one-hot vectors. The GEMM multiplies the I_d dense columns
// in place (leading dimension I_d + n), and each row adds, per category, the one column W_ih[:, o_j + k_j] (o_j the
// block's first column); backward adds that row of dGates into the same columns of dW_ih.

/// <summary>A recurrent layer: its parameter views and its Forward/Backward over a window.</summary>
internal sealed class RecurrentLayer
{
    private readonly IRecurrentCell _cell;
    private readonly Activation _activation;
    private readonly bool _layerNorm;
    public readonly int Index, I, H, G;
    public readonly int Dilation;           // D: step t reads h_{t−D}
    private readonly int[] _categories;     // C_j of each one-hot category given by index (first layer); empty without
    private readonly int[] _blocks;         // o_j: the first column of category j's block in W_ih
    public readonly int DenseI;             // I_d: inputs multiplied by the GEMM (I without categories)
    public readonly int Stride;             // width of an input row: I_d and then one index per category
    public readonly ParameterTensor WeightIH;   // (G·H, I)
    public readonly ParameterTensor WeightHH;   // (G·H, H)
    public readonly ParameterTensor BiasIH;     // (G·H)
    public readonly ParameterTensor BiasHH;     // (G·H)
    public readonly ParameterTensor LnGain;     // (G·H) layer norm only
    public readonly ParameterTensor LnBias;     // (G·H) layer norm only

    /// <param name="cell">The cell of every step.</param>
    /// <param name="activation">The Elman nonlinearity (ignored by gated cells).</param>
    /// <param name="layerNorm">Layer-normalise the gate pre-activations.</param>
    /// <param name="index">Layer l, for the parameter names.</param>
    /// <param name="I">Inputs, one-hot categories counted as their C_j columns.</param>
    /// <param name="denseI">Inputs multiplied by the GEMM (I without categories).</param>
    /// <param name="H">Hidden size.</param>
    /// <param name="categories">C_j of each category input (first layer only); empty for none.</param>
    /// <param name="p">The parameters, laid out by <see cref="Layout"/>.</param>
    /// <param name="dilation">D: step t reads the state of step t − D (1: the ordinary layer).</param>
    public RecurrentLayer(IRecurrentCell cell, in Activation activation, bool layerNorm, int index, int I, int denseI, int H,
        IReadOnlyList<int> categories, ParameterBuffer p, int dilation = 1)
    {
        Index = index;
        Dilation = dilation;
        _cell = cell;
        _activation = activation;
        _layerNorm = layerNorm;
        this.I = I; this.H = H; G = cell.Gates;
        DenseI = denseI;
        _categories = categories.ToArray();
        _blocks = new int[_categories.Length];
        for (int j = 0, o = DenseI; j < _categories.Length; o += _categories[j], j++) _blocks[j] = o;
        Stride = DenseI + _categories.Length;
        WeightIH = p[Names.WeightIH(index)];
        WeightHH = p[Names.WeightHH(index)];
        BiasIH = p[Names.BiasIH(index)];
        BiasHH = p[Names.BiasHH(index)];
        if (_layerNorm) { LnGain = p[Names.LnGain(index)]; LnBias = p[Names.LnBias(index)]; }
    }

    /// <summary>The parameters of layer <paramref name="l"/> with G gate blocks of H units over I inputs:
    /// weight_ih, weight_hh, bias_ih, bias_hh (and ln_weight, ln_bias with layer normalisation), as
    /// (name, rows, columns, is vector).</summary>
    internal static IEnumerable<(string, int, int, bool)> Layout(int l, int I, int H, int G, bool layerNorm)
    {
        yield return (Names.WeightIH(l), G * H, I, false);
        yield return (Names.WeightHH(l), G * H, H, false);
        yield return (Names.BiasIH(l), G * H, 1, true);
        yield return (Names.BiasHH(l), G * H, 1, true);
        if (layerNorm)
        {
            yield return (Names.LnGain(l), G * H, 1, true);
            yield return (Names.LnBias(l), G * H, 1, true);
        }
    }

    internal IRecurrentCell Cell => _cell;

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

    /// <summary>
    /// Packs the weights for the GEMM (W_ihᵀ, W_hhᵀ, W_hh) and sums the biases, unless the layer's
    /// parameters are the ones the packing was made from. Comparing costs one pass over the parameters,
    /// less than packing them; so in training the weights are packed once per optimiser step (validation
    /// passes reuse them), and in inference once per model, however many forecasts follow.
    /// </summary>
    internal void Prepare(ParameterBuffer p, LayerWeights w, bool forBackward, float[]? weightHHT = null)
    {
        int GH = G * H;
        // The layer's four tensors are adjacent in the buffer: W_ih, W_hh, b_ih, b_hh.
        ReadOnlySpan<float> current = p.Values.AsSpan(WeightIH.Offset, w.PackedFrom.Length);
        // Compared as bits: SequenceEqual on floats compares element by element through float.Equals,
        // several times slower than the vectorised byte comparison, and bits are what was packed.
        if (!(w.Packed && MemoryMarshal.AsBytes(current).SequenceEqual(MemoryMarshal.AsBytes(w.PackedFrom.AsSpan()))))
        {
            ReadOnlySpan<float> wih = current.Slice(0, GH * I), whh = current.Slice(GH * I, GH * H);
            ReadOnlySpan<float> bih = current.Slice(GH * I + GH * H, GH), bhh = current.Slice(GH * I + GH * H + GH, GH);
            if (HasCategories) w.PackedWeightIHT.PackTransposed(wih, I);
            else w.PackedWeightIHT.Pack(wih, transposed: true);
            w.PackedWeightHHT.Pack(whh, transposed: true);
            if (weightHHT is { Length: > 0 }) Gemm.Transpose(whh, weightHHT, GH, H);
            if (_cell.SeparateRecurrentProduct) bih.CopyTo(w.Bias);
            else System.Numerics.Tensors.TensorPrimitives.Add(bih, bhh, w.Bias);
            current.CopyTo(w.PackedFrom);
            w.Packed = true;
            w.BackwardPacked = false;
        }
        if (forBackward && !w.BackwardPacked)
        {
            w.PackedWeightHH.Pack(current.Slice(GH * I, GH * H), transposed: false);
            w.BackwardPacked = true;
        }
    }

    /// <summary>How many parts the batch of a step loop is split into: the steps of different rows are
    /// independent, so each part runs all T steps of its rows with no synchronisation between steps.
    /// Layer normalisation and Pascanu's Ω accumulate across rows inside the loop and run as one part.</summary>
    private int Parts(int B, int threads, bool regularize)
        => _layerNorm || regularize ? 1 : Math.Max(1, Math.Min(threads, B / MinRowsPerPart));

    private const int MinRowsPerPart = 4;

    /// <summary>Runs T steps from the initial state in ws.Hs[0] (and ws.Cs[0]); fills every cache.</summary>
    public void Forward(ParameterBuffer p, LayerWorkspace ws,
        ReadOnlySpan<float> x,     // (T, B, Stride) this layer's input
        int T, int B, bool training, Random rng, int threads)
    {
        int GH = G * H;
        Prepare(p, ws.Weights, forBackward: false, ws.WeightHHT);

        // Gates (T·B, GH) = bias + X · W_ihᵀ for every step at once.
        Span<float> gatesAll = ws.Gates.AsSpan(0, T * B * GH);
        FillRows(gatesAll, ws.Weights.Bias, T * B);
        Gemm.Packed(T * B, x, Stride, ws.Weights.PackedWeightIHT, gatesAll, GH, accumulate: true, threads);
        if (HasCategories) AddCategoryColumns(p.Value(WeightIH), x, gatesAll, T * B);
        if (training && _cell.NeedsSlopes(_activation))
            _cell.DrawSlopes(ws.Slopes.AsSpan(0, T * B * H), _activation, rng);

        var job = ws.ForwardJob;
        job.Set(this, p, ws, T, B, 0, training, backward: false, 0f);
        WorkerPool.Shared.Run(job, Parts(B, threads, regularize: false));
        job.Clear();
    }

    /// <summary>Steps 0..T−1 for batch rows [b0, b1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardRows(ParameterBuffer p, LayerWorkspace ws, int T, int B, int b0, int b1, bool training)
    {
        int GH = G * H, rows = b1 - b0;
        ReadOnlySpan<float> bHH = p.Value(BiasHH);
        for (int t = 0; t < T; t++)
        {
            int prev = Prev(t);
            ReadOnlySpan<float> hPrev = ws.Hs.AsSpan((prev * B + b0) * H, rows * H);
            Span<float> h = ws.Hs.AsSpan(((t + 1) * B + b0) * H, rows * H);
            Span<float> gates = ws.Gates.AsSpan((t * B + b0) * GH, rows * GH);
            bool state = _cell.HasCellState, separate = _cell.SeparateRecurrentProduct;
            _cell.Forward(new CellStep
            {
                B = rows, H = H, Training = training, Activation = _activation, Ln = LayerNormAt(p, ws, t, B),
                Gates = gates, HPrev = hPrev, HOut = h,
                CPrev = state ? ws.Cs.AsSpan((prev * B + b0) * H, rows * H) : default,
                C = state ? ws.Cs.AsSpan(((t + 1) * B + b0) * H, rows * H) : default,
                TanhC = state ? ws.TanhC.AsSpan((t * B + b0) * H, rows * H) : default,
                HH = separate ? ws.HH.AsSpan((t * B + b0) * GH, rows * GH) : default, BiasHH = bHH,
                Slopes = SliceOrEmpty(ws.Slopes, (t * B + b0) * H, rows * H),
                WeightHHT = ws.Weights.PackedWeightHHT,
            });
        }
    }

    /// <summary>
    /// Forward-only pass of one block of Bc sequences from a zero state, for inference: the same
    /// arithmetic per sequence as <see cref="Forward"/> (so the same values, bit for bit), with nothing
    /// kept that only Backward reads. Call <see cref="Prepare"/> first. Writes
    /// <paramref name="hs"/> (T+1, Bc, H); no allocation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Infer(ParameterBuffer p, LayerWeights w, InferenceBlock blk,
        ReadOnlySpan<float> x,     // (T, Bc, Stride) this layer's input
        Span<float> hs,            // (T+1, Bc, H) written: hs[0] = 0, hs[t+1] = h_t
        int T, int Bc)
    {
        int GH = G * H;
        Span<float> gatesAll = blk.Gates.AsSpan(0, T * Bc * GH);
        FillRows(gatesAll, w.Bias, T * Bc);
        Gemm.Packed(T * Bc, x, Stride, w.PackedWeightIHT, gatesAll, GH, accumulate: true);
        if (HasCategories) AddCategoryColumns(p.Value(WeightIH), x, gatesAll, T * Bc);
        hs.Slice(0, Bc * H).Clear();
        Span<float> cPrev = Span<float>.Empty, c = Span<float>.Empty;
        // A dilated layer reads c_{t−D}, so it keeps every c (T+1, Bc, H); otherwise two slots, ping-pong.
        bool history = _cell.HasCellState && Dilation > 1;
        if (_cell.HasCellState)
        {
            cPrev = history ? blk.Cs.AsSpan(0, Bc * H) : blk.C0.AsSpan(0, Bc * H);
            c = blk.C1.AsSpan(0, Bc * H);
            cPrev.Clear();
        }
        ReadOnlySpan<float> bHH = p.Value(BiasHH);
        for (int t = 0; t < T; t++)
        {
            int prev = Prev(t);
            ReadOnlySpan<float> hPrev = hs.Slice(prev * Bc * H, Bc * H);
            if (history)
            {
                cPrev = blk.Cs.AsSpan(prev * Bc * H, Bc * H);
                c = blk.Cs.AsSpan((t + 1) * Bc * H, Bc * H);
            }
            Span<float> h = hs.Slice((t + 1) * Bc * H, Bc * H);
            Span<float> gates = gatesAll.Slice(t * Bc * GH, Bc * GH);
            var ln = _layerNorm
                ? new LayerNormStep(p.Value(LnGain), p.Value(LnBias), Span<float>.Empty, Span<float>.Empty, blk.LnXhat.AsSpan(0, Bc * GH), blk.LnRstd.AsSpan(0, Bc * G))
                : default;
            _cell.Forward(new CellStep
            {
                B = Bc, H = H, Training = false, Activation = _activation, Ln = ln,
                Gates = gates, HPrev = hPrev, HOut = h,
                CPrev = cPrev, C = c, TanhC = SliceOrEmpty(blk.TanhC, 0, Bc * H),
                HH = SliceOrEmpty(blk.HH, 0, Bc * GH), BiasHH = bHH,
                Slopes = SliceOrEmpty(blk.Slopes, 0, Bc * H),
                WeightHHT = w.PackedWeightHHT,
            });
            // c_t is the next step's c_prev; tanh(c) and hh are not kept.
            if (_cell.HasCellState && !history) { Span<float> swap = cPrev; cPrev = c; c = swap; }
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
        ReadOnlySpan<float> x,       // (T, B, Stride) this layer's input, as given to Forward
        Span<float> dX,              // (T, B, I) written, or empty (always empty with a category)
        int T, int B, int tStart,
        float[]? hiddenGradientNorms, // (T) ‖dL/dh_t‖ written when not null
        float regularizerWeight,
        int threads)
    {
        int GH = G * H;
        Prepare(p, ws.Weights, forBackward: true, ws.WeightHHT);
        ReadOnlySpan<float> values = p.Values;
        ws.DhNext.AsSpan(0, B * H).Clear();
        if (ws.DcNext.Length > 0) ws.DcNext.AsSpan(0, B * H).Clear();
        if (Dilation > 1)
        {
            if (regularizerWeight > 0f) throw new InvalidOperationException("Pascanu's regulariser is defined for undilated layers (Dilations).");
            ws.DhRing.AsSpan(0, Dilation * B * H).Clear();
            if (ws.DcRing.Length > 0) ws.DcRing.AsSpan(0, Dilation * B * H).Clear();
        }
        bool regularize = regularizerWeight > 0f;

        var job = ws.BackwardJob;
        job.Set(this, p, ws, T, B, tStart, false, backward: true, regularizerWeight);
        WorkerPool.Shared.Run(job, Parts(B, threads, regularize));
        double omega = job.Omega;
        job.Clear();

        if (hiddenGradientNorms is not null)
        {
            Array.Clear(hiddenGradientNorms, 0, T);
            for (int t = tStart; t < T; t++) hiddenGradientNorms[t] = Norm(ws.Dhs.AsSpan(t * B * H, B * H));
        }

        // Parameter and input gradients over the window rows [tStart, T), batched over steps.
        int rows = (T - tStart) * B;
        int r0 = tStart * B;
        Span<float> dGatesWin = ws.DGates.AsSpan(r0 * GH, rows * GH);
        ReadOnlySpan<float> xWin = x.Slice(r0 * Stride, rows * Stride);
        if (!dX.IsEmpty)
        {
            if (HasCategories) throw new InvalidOperationException("A category index has no input gradient.");
            dX.Slice(0, r0 * I).Clear();
            // Gates = X · W_ihᵀ   (Ω's own term is excluded: it holds the input constant)
            Gemm.NN(rows, I, GH, dGatesWin, values.Slice(WeightIH.Offset, WeightIH.Length), dX.Slice(r0 * I, rows * I), accumulate: false, threads);
        }
        if (regularize) PascanuRegularizer.FinishWindow(this, ws, p, r0, rows);

        ReadOnlySpan<float> dRecWin = _cell.SeparateRecurrentProduct ? ws.DHH.AsSpan(r0 * GH, rows * GH) : dGatesWin;
        if (HasCategories)
        {
            Gemm.TN(GH, DenseI, rows, dGatesWin, GH, xWin, Stride, p.Gradient(WeightIH), I, accumulate: true, threads);
            AddCategoryGradients(p.Gradient(WeightIH), xWin, dGatesWin, rows);
        }
        else Gemm.TN(GH, I, rows, dGatesWin, xWin, p.Gradient(WeightIH), accumulate: true, threads);
        // Gates_t += h_prev(t) · W_hhᵀ. Steps from t1 = max(tStart, D − 1) read Hs[t − D + 1], one run of rows;
        // the steps before it (dilated only) all read the initial state Hs[0], one product each.
        int t1 = Math.Min(T, Math.Max(tStart, Dilation - 1));
        for (int t = tStart; t < t1; t++)
            Gemm.TN(GH, H, B, dRecWin.Slice((t - tStart) * B * GH, B * GH), ws.Hs.AsSpan(0, B * H), p.Gradient(WeightHH), accumulate: true, threads);
        if (t1 < T)
            Gemm.TN(GH, H, (T - t1) * B, dRecWin.Slice((t1 - tStart) * B * GH), ws.Hs.AsSpan(Prev(t1) * B * H, (T - t1) * B * H), p.Gradient(WeightHH), accumulate: true, threads);
        ws.BiasJob.Run(ws.DGates, r0 * GH, rows, GH, p.Gradients, BiasIH.Offset, threads);
        ws.BiasJob.Run(_cell.SeparateRecurrentProduct ? ws.DHH : ws.DGates, r0 * GH, rows, GH, p.Gradients, BiasHH.Offset, threads);
        return omega;
    }

    /// <summary>Steps T−1..tStart for batch rows [b0, b1). Returns Ω of these rows (one part only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double BackwardRows(ParameterBuffer p, LayerWorkspace ws, int T, int B, int tStart, int b0, int b1, float regularizerWeight)
    {
        int GH = G * H, rows = b1 - b0, D = Dilation;
        // The ring of D slots of dL/dh_{t−D}, dL/dc_{t−D}; undilated, it is the one slot DhNext, DcNext.
        float[] dhRing = D == 1 ? ws.DhNext : ws.DhRing, dcRing = D == 1 ? ws.DcNext : ws.DcRing;
        double omega = 0;
        bool regularize = regularizerWeight > 0f;
        for (int t = T - 1; t >= tStart; t--)
        {
            int hOff = (t * B + b0) * H, gOff = (t * B + b0) * GH, prev = Prev(t), slot = ((t % D) * B + b0) * H;
            Span<float> dhNext = dhRing.AsSpan(slot, rows * H);
            Span<float> dc = dcRing.Length > 0 ? dcRing.AsSpan(slot, rows * H) : Span<float>.Empty;
            ReadOnlySpan<float> dOut = ws.DOut.AsSpan(hOff, rows * H);
            Span<float> dh = ws.Dhs.AsSpan(hOff, rows * H);
            System.Numerics.Tensors.TensorPrimitives.Add(dOut, dhNext, dh);

            ReadOnlySpan<float> hPrev = ws.Hs.AsSpan((prev * B + b0) * H, rows * H);
            Span<float> dGates = ws.DGates.AsSpan(gOff, rows * GH);
            bool state = _cell.HasCellState, separate = _cell.SeparateRecurrentProduct;
            _cell.Backward(new CellStep
            {
                B = rows, H = H, Activation = _activation, Ln = LayerNormAt(p, ws, t, B),
                Gates = ws.Gates.AsSpan(gOff, rows * GH), HPrev = hPrev, HOut = ws.Hs.AsSpan(((t + 1) * B + b0) * H, rows * H),
                CPrev = state ? ws.Cs.AsSpan((prev * B + b0) * H, rows * H) : default,
                TanhC = state ? ws.TanhC.AsSpan(hOff, rows * H) : default,
                HH = separate ? ws.HH.AsSpan(gOff, rows * GH) : default,
                Slopes = SliceOrEmpty(ws.Slopes, hOff, rows * H),
                Dh = dh, Dc = dc, DGates = dGates,
                DHH = separate ? ws.DHH.AsSpan(gOff, rows * GH) : default,
                DhDirect = separate ? ws.DhDirect.AsSpan(b0 * H, rows * H) : default,
                DhPrev = dhNext,
                WeightHH = ws.Weights.PackedWeightHH,
            });
            if (regularize)
                omega += PascanuRegularizer.Step(regularizerWeight, this, ws, t, B, dh, dGates, dhNext);
            if (D > 1 && t < D)
            {
                // h_{t−D} is the initial state, shared by the first D steps: their gradients add up.
                Span<float> dh0 = ws.DhNext.AsSpan(b0 * H, rows * H);
                System.Numerics.Tensors.TensorPrimitives.Add(dh0, dhNext, dh0);
                if (state) { Span<float> dc0 = ws.DcNext.AsSpan(b0 * H, rows * H); System.Numerics.Tensors.TensorPrimitives.Add(dc0, dc, dc0); }
            }
        }
        return omega;
    }

    /// <summary>The step loop of Forward or Backward over one part of the batch rows.</summary>
    internal sealed class StepJob : ParallelJob
    {
        private RecurrentLayer? _layer;
        private ParameterBuffer? _p;
        private LayerWorkspace? _ws;
        private int _T, _B, _tStart;
        private bool _training, _backward;
        private float _alpha;
        public double Omega;

        public void Set(RecurrentLayer layer, ParameterBuffer p, LayerWorkspace ws, int T, int B, int tStart, bool training, bool backward, float alpha)
        {
            _layer = layer; _p = p; _ws = ws; _T = T; _B = B; _tStart = tStart; _training = training; _backward = backward; _alpha = alpha;
            Omega = 0;
        }

        public void Clear() { _layer = null; _p = null; _ws = null; }

        public override void Run(int part, int parts)
        {
            var (b0, b1) = Gemm.Split(_B, part, parts);
            if (b1 <= b0) return;
            if (_backward)
            {
                double omega = _layer!.BackwardRows(_p!, _ws!, _T, _B, _tStart, b0, b1, _alpha);
                if (_alpha > 0f) Omega += omega;   // Ω runs as one part
            }
            else _layer!.ForwardRows(_p!, _ws!, _T, _B, b0, b1, _training);
        }
    }

    /// <summary>acc (n) += Σ_r m (rows, n), columns split between parts; each column is summed by one
    /// part, rows in order, so the sums do not depend on the split.</summary>
    internal sealed class ColumnSumJob : ParallelJob
    {
        private float[]? _m, _acc;
        private int _mOffset, _rows, _n, _accOffset;

        public void Run(float[] m, int mOffset, int rows, int n, float[] acc, int accOffset, int threads)
        {
            _m = m; _mOffset = mOffset; _rows = rows; _n = n; _acc = acc; _accOffset = accOffset;
            int parts = (long)rows * n < 1 << 16 ? 1 : Math.Max(1, Math.Min(threads, n / 16));
            WorkerPool.Shared.Run(this, parts);
            _m = _acc = null;
        }

        public override void Run(int part, int parts)
        {
            var (j0, j1) = Gemm.Split(_n, part, parts);
            Span<float> acc = _acc.AsSpan(_accOffset + j0, j1 - j0);
            for (int r = 0; r < _rows; r++)
                System.Numerics.Tensors.TensorPrimitives.Add(acc, _m.AsSpan(_mOffset + r * _n + j0, j1 - j0), acc);
        }
    }

    private bool HasCategories => _categories.Length > 0;

    /// <summary>The Hs (and Cs) slot step t reads its previous state from: h_{t−D} is Hs[t − D + 1], and the
    /// first D steps read the initial state Hs[0].</summary>
    private int Prev(int t) => t >= Dilation ? t - Dilation + 1 : 0;

    /// <summary>gates (rows, GH) += W_ih[:, o_j + k_j] for each row's category k_j of each category input j (none for a
    /// negative index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddCategoryColumns(ReadOnlySpan<float> wih, ReadOnlySpan<float> x, Span<float> gates, int rows)
    {
        int GH = G * H;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < _categories.Length; j++)
            {
                int column = ColumnAt(x, r, j);
                if (column < 0) continue;
                Span<float> g = gates.Slice(r * GH, GH);
                ReadOnlySpan<float> w = wih.Slice(column);
                for (int u = 0; u < GH; u++) g[u] += w[u * I];
            }
    }

    /// <summary>dW_ih[:, o_j + k_j] += dGates[r] for each row's categories: the one-hot blocks of dGatesᵀ X.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddCategoryGradients(Span<float> dWih, ReadOnlySpan<float> x, ReadOnlySpan<float> dGates, int rows)
    {
        int GH = G * H;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < _categories.Length; j++)
            {
                int column = ColumnAt(x, r, j);
                if (column < 0) continue;
                ReadOnlySpan<float> d = dGates.Slice(r * GH, GH);
                Span<float> w = dWih.Slice(column);
                for (int u = 0; u < GH; u++) w[u * I] += d[u];
            }
    }

    /// <summary>The W_ih column of input row <paramref name="r"/>'s category <paramref name="j"/>: its index, an integer
    /// in [0, C_j), past the block's first column; −1 for a negative index.</summary>
    private int ColumnAt(ReadOnlySpan<float> x, int r, int j)
    {
        float v = x[r * Stride + DenseI + j];
        if (v < 0f) return -1;
        if (!(v < _categories[j]) || v != MathF.Floor(v))
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Input feature {DenseI + j} is a category index (InputCategories[{j}] = {_categories[j]}); row {r} holds {v}. Expected an integer from 0 to {_categories[j] - 1}, or a negative value for none."), nameof(x));
        return _blocks[j] + (int)v;
    }

    private LayerNormStep LayerNormAt(ParameterBuffer p, LayerWorkspace ws, int t, int B)
    {
        if (!_layerNorm) return default;
        int GH = G * H;
        return new LayerNormStep(p.Value(LnGain), p.Value(LnBias), p.Gradient(LnGain), p.Gradient(LnBias),
            ws.LnXhat.AsSpan(t * B * GH, B * GH), ws.LnRstd.AsSpan(t * B * G, B * G));
    }

    private static Span<float> SliceOrEmpty(float[] a, int start, int length) => a.Length == 0 ? Span<float>.Empty : a.AsSpan(start, length);

    /// <summary>m (rows, n) = v broadcast over rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void FillRows(Span<float> m, ReadOnlySpan<float> v, int rows)
    {
        int n = v.Length;
        for (int r = 0; r < rows; r++) v.CopyTo(m.Slice(r * n, n));
    }

    /// <summary>m (rows, n) += v broadcast over rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddRows(Span<float> m, ReadOnlySpan<float> v, int rows)
    {
        int n = v.Length;
        for (int r = 0; r < rows; r++) System.Numerics.Tensors.TensorPrimitives.Add(m.Slice(r * n, n), v, m.Slice(r * n, n));
    }

    /// <summary>acc (n) += Σ_r m (rows, n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

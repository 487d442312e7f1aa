using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Memory;

// B = batch, T = steps, I = input features, H = hidden, O = outputs, G = gate blocks, P = steps the
// head is applied to (the last P of the window).
//
// Everything the forward and backward passes touch for windows of at most T steps and batches of at
// most B rows, allocated once. Caches are time-major, (T, B, ·), so step t is one contiguous slice and
// the input projection of all steps is one GEMM over T·B rows.

/// <summary>
/// A layer's weights in the GEMM's panel layout and its summed biases, with the parameter values they
/// were made from. <see cref="Layers.RecurrentLayer.Prepare"/> remakes them only when the parameters
/// differ from <see cref="PackedFrom"/>: once per optimiser step in training, once per model in inference.
/// </summary>
internal sealed class LayerWeights
{
    public readonly PackedMatrix PackedWeightIHT;   // B = W_ihᵀ (I_dense, G·H): input projection, all but a one-hot category's columns
    public readonly PackedMatrix PackedWeightHHT;   // B = W_hhᵀ (H, G·H): forward recurrent product
    public readonly PackedMatrix PackedWeightHH;    // B = W_hh (G·H, H): backward recurrent product (training only)
    public readonly float[] Bias;                   // (G·H) b_ih + b_hh (Elman, LSTM: added once, up front); GRU: b_ih
    public readonly float[] PackedFrom;             // (G·H·I + G·H·H + 2·G·H) W_ih|W_hh|b_ih|b_hh the packing was made from
    public bool Packed;                             // PackedFrom holds the values the forward packing came from
    public bool BackwardPacked;                     // PackedWeightHH is packed from PackedFrom too

    public LayerWeights(int I, int denseI, int H, int G, bool backward)
    {
        int GH = G * H;
        PackedWeightIHT = new PackedMatrix(denseI, GH);
        PackedWeightHHT = new PackedMatrix(H, GH);
        PackedWeightHH = backward ? new PackedMatrix(GH, H) : new PackedMatrix(0, 0);
        Bias = new float[GH];
        PackedFrom = new float[GH * I + GH * H + 2 * GH];
    }
}

/// <summary>Buffers of one recurrent layer.</summary>
internal sealed class LayerWorkspace
{
    public readonly int I, H, G;
    public readonly LayerWeights Weights;     // packed weights and summed biases (see LayerWeights)
    public readonly Layers.RecurrentLayer.StepJob ForwardJob = new(), BackwardJob = new();   // the batch-split step loops
    public readonly Layers.RecurrentLayer.ColumnSumJob BiasJob = new();                       // the bias-gradient sums
    public readonly float[] WeightHHT;        // (H, G·H) W_hhᵀ unpacked, Pascanu Ω only
    public readonly float[] Gates;       // (T, B, G·H) pre-activations, then (LSTM, GRU) the activated gates
    public readonly float[] HH;          // (T, B, G·H) GRU only: h_prev·W_hhᵀ + b_hh
    public readonly float[] Hs;          // (T+1, B, H) Hs[0] = initial state, Hs[t+1] = h_t
    public readonly float[] Cs;          // (T+1, B, H) LSTM only: Cs[0] = initial cell, Cs[t+1] = c_t
    public readonly float[] TanhC;       // (T, B, H) LSTM only: tanh(c_t)
    public readonly float[] Slopes;      // (T, B, H) randomised leaky ReLU only: slope of each element
    public readonly float[] LnXhat;      // (T, B, G·H) layer norm only: normalised pre-activations
    public readonly float[] LnRstd;      // (T, B, G) layer norm only: 1/σ per gate block
    public readonly float[] DGates;      // (T, B, G·H) dL/d pre-activation (GRU: dL/d ih)
    public readonly float[] DHH;         // (T, B, G·H) GRU only: dL/d hh
    public readonly float[] DOut;        // (T, B, H) dL/dh_t arriving from above (head or next layer)
    public readonly float[] Dhs;         // (T, B, H) total dL/dh_t per step (from above and from step t+1)
    public readonly float[] DhNext;      // (B, H) dL/dh_{t-1}; after Backward, dL/d(initial state)
    public readonly float[] DcNext;      // (B, H) LSTM only: dL/dc_{t-1}; after Backward, dL/d(initial cell)
    public readonly float[] DhDirect;    // (B, H) GRU only: z ⊙ dh, the path that skips W_hh
    public readonly float[] OmegaGW;     // (T, B, H) Pascanu Ω only: dΩ/dw, w = W_hhᵀ(σ' ⊙ dh)
    public readonly float[] OmegaDPre;   // (T, B, H) Pascanu Ω only: dΩ/d pre-activation (h_prev held constant)
    public readonly float[] OmegaDu;     // (B, H) Pascanu Ω only: dΩ/d(σ' ⊙ dh)

    public LayerWorkspace(RecurrentNetworkSpec spec, int layer, int T, int B, bool omega)
    {
        I = spec.LayerInputSize(layer); H = spec.HiddenSizes[layer]; G = spec.GateCount;
        bool lstm = spec.Cell == RecurrentCellKind.Lstm, gru = spec.Cell == RecurrentCellKind.Gru;
        bool randomized = spec.Cell == RecurrentCellKind.Elman && spec.Activation == ElmanActivation.RandomizedLeakyRelu;
        int GH = G * H;
        Weights = new LayerWeights(I, spec.LayerDenseInputSize(layer), H, G, backward: true);
        WeightHHT = omega ? new float[H * GH] : [];
        Gates = new float[T * B * GH];
        HH = gru ? new float[T * B * GH] : [];
        Hs = new float[(T + 1) * B * H];
        Cs = lstm ? new float[(T + 1) * B * H] : [];
        TanhC = lstm ? new float[T * B * H] : [];
        Slopes = randomized ? new float[T * B * H] : [];
        LnXhat = spec.LayerNormalization ? new float[T * B * GH] : [];
        LnRstd = spec.LayerNormalization ? new float[T * B * G] : [];
        DGates = new float[T * B * GH];
        DHH = gru ? new float[T * B * GH] : [];
        DOut = new float[T * B * H];
        Dhs = new float[T * B * H];
        DhNext = new float[B * H];
        DcNext = lstm ? new float[B * H] : [];
        DhDirect = gru ? new float[B * H] : [];
        OmegaGW = omega ? new float[T * B * H] : [];
        OmegaDPre = omega ? new float[T * B * H] : [];
        OmegaDu = omega ? new float[B * H] : [];
    }
}

/// <summary>
/// All activations and scratch space of a <see cref="RecurrentNetwork"/> for windows of at most
/// <see cref="MaxSteps"/> steps and batches of at most <see cref="MaxBatch"/> rows. Allocated once;
/// a pass that needs more is refused, never grown.
/// </summary>
public sealed class Workspace
{
    /// <summary>Largest window length T this workspace holds.</summary>
    public int MaxSteps { get; }

    /// <summary>Largest batch B this workspace holds.</summary>
    public int MaxBatch { get; }

    /// <summary>Largest number of steps P the head can be applied to.</summary>
    public int MaxOutputSteps { get; }

    /// <summary>Threads a pass may use (at least 1). Default: the machine's logical cores. The batch rows
    /// of the step loops and the rows of the batched products are split between them; every value is
    /// computed by one thread in an order fixed by the shapes, so results are bit-identical for any
    /// value. Set it to 1 when many networks are trained or run in parallel already.</summary>
    public int Threads
    {
        get => _threads;
        set => _threads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Threads), value, "Threads must be at least 1.");
    }

    private int _threads = Environment.ProcessorCount;

    /// <summary>Whether buffers for Pascanu's regulariser were allocated.</summary>
    public bool HasRegularizerBuffers { get; }

    /// <summary>(T, B, I) network input, time-major: element (t, b, i) at (t·B + b)·I + i.</summary>
    public float[] Input { get; }

    /// <summary>(T, B, I) dL/d input, written by Backward when asked for.</summary>
    public float[] InputGradient { get; }

    /// <summary>(P, B, O) head output for the last P steps.</summary>
    public float[] Output { get; }

    /// <summary>(P, B, O) dL/d output, written by the loss.</summary>
    public float[] OutputGradient { get; }

    /// <summary>(P, B, O) targets for the last P steps.</summary>
    public float[] Targets { get; }

    /// <summary>(T) ‖dL/dh_t‖ of the top layer (Frobenius over the batch) from the last Backward: how far
    /// the error signal reaches back. Zero outside the backward window.</summary>
    public float[] HiddenGradientNorms { get; }

    internal readonly float[] HeadWeightT;   // (H_top, O) head weightᵀ
    internal readonly LayerWorkspace[] Layers;
    internal readonly RecurrentNetworkSpec Spec;

    /// <summary>Allocates every buffer for the given limits.</summary>
    /// <param name="spec">The network's architecture.</param>
    /// <param name="maxSteps">Largest window T, at least 1.</param>
    /// <param name="maxBatch">Largest batch B, at least 1.</param>
    /// <param name="maxOutputSteps">Largest P, in [1, maxSteps]; defaults to maxSteps.</param>
    /// <param name="regularizer">Allocate buffers for Pascanu's regulariser.</param>
    public Workspace(RecurrentNetworkSpec spec, int maxSteps, int maxBatch, int? maxOutputSteps = null, bool regularizer = false)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (maxSteps < 1) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "maxSteps must be at least 1.");
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "maxBatch must be at least 1.");
        int P = maxOutputSteps ?? maxSteps;
        if (P < 1 || P > maxSteps)
            throw new ArgumentOutOfRangeException(nameof(maxOutputSteps), P, $"maxOutputSteps must be between 1 and maxSteps ({maxSteps}).");
        Spec = spec;
        MaxSteps = maxSteps; MaxBatch = maxBatch; MaxOutputSteps = P; HasRegularizerBuffers = regularizer;
        int I = spec.InputSize, O = spec.OutputSize, Htop = spec.HiddenSizes[^1];
        Input = new float[maxSteps * maxBatch * I];
        InputGradient = new float[maxSteps * maxBatch * I];
        Output = new float[P * maxBatch * O];
        OutputGradient = new float[P * maxBatch * O];
        Targets = new float[P * maxBatch * O];
        HiddenGradientNorms = new float[maxSteps];
        HeadWeightT = new float[Htop * O];
        Layers = new LayerWorkspace[spec.Layers];
        for (int l = 0; l < spec.Layers; l++) Layers[l] = new LayerWorkspace(spec, l, maxSteps, maxBatch, regularizer);
    }

    /// <summary>(B, H_l) initial hidden state of layer <paramref name="layer"/> for a batch of
    /// <paramref name="batch"/> rows: the slot Forward starts from. Zero unless written.</summary>
    public Span<float> InitialHidden(int layer, int batch) => Layers[layer].Hs.AsSpan(0, batch * Layers[layer].H);

    /// <summary>(B, H_l) initial cell state of LSTM layer <paramref name="layer"/>; empty for other cells.</summary>
    public Span<float> InitialCell(int layer, int batch) => Layers[layer].Cs.Length == 0 ? Span<float>.Empty : Layers[layer].Cs.AsSpan(0, batch * Layers[layer].H);

    /// <summary>(B, H_l) hidden state of layer <paramref name="layer"/> after step <paramref name="step"/>
    /// (0 = the initial state) of the last Forward.</summary>
    public ReadOnlySpan<float> Hidden(int layer, int step, int batch) => Layers[layer].Hs.AsSpan(step * batch * Layers[layer].H, batch * Layers[layer].H);

    /// <summary>(B, H_l) LSTM cell state after step <paramref name="step"/>; empty for other cells.</summary>
    public ReadOnlySpan<float> Cell(int layer, int step, int batch) => Layers[layer].Cs.Length == 0 ? ReadOnlySpan<float>.Empty : Layers[layer].Cs.AsSpan(step * batch * Layers[layer].H, batch * Layers[layer].H);

    /// <summary>(B, H_l) dL/d(initial hidden state) of layer <paramref name="layer"/> from the last
    /// full Backward.</summary>
    public ReadOnlySpan<float> InitialHiddenGradient(int layer, int batch) => Layers[layer].DhNext.AsSpan(0, batch * Layers[layer].H);

    /// <summary>(B, H_l) dL/d(initial cell state) of LSTM layer <paramref name="layer"/>; empty for other cells.</summary>
    public ReadOnlySpan<float> InitialCellGradient(int layer, int batch) => Layers[layer].DcNext.Length == 0 ? ReadOnlySpan<float>.Empty : Layers[layer].DcNext.AsSpan(0, batch * Layers[layer].H);

    /// <summary>Sets every layer's initial hidden (and cell) state to zero for the first <paramref name="batch"/> rows.</summary>
    public void ResetState(int batch)
    {
        for (int l = 0; l < Layers.Length; l++)
        {
            InitialHidden(l, batch).Clear();
            InitialCell(l, batch).Clear();
        }
    }

    internal void CheckFits(int T, int B, int P)
    {
        if (T < 1 || B < 1 || P < 1 || P > T || T > MaxSteps || B > MaxBatch || P > MaxOutputSteps)
            throw new InvalidOperationException(
                $"Workspace was sized for T={MaxSteps}, B={MaxBatch}, P={MaxOutputSteps}; got T={T}, B={B}, P={P}.");
    }
}

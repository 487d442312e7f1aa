using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Layers;

// B = batch, T = steps, I = input features, H = hidden, G = gate blocks.
//
// The buffers of one recurrent layer for windows of at most T steps and batches of at most B rows,
// allocated once. Caches are time-major, (T, B, ·), so step t is one contiguous slice and the input
// projection of all steps is one GEMM over T·B rows. Which cell-specific buffers exist is the cell's to say.

/// <summary>
/// A layer's weights in the GEMM's panel layout and its summed biases, with the parameter values they
/// were made from. <see cref="RecurrentLayer.Prepare"/> remakes them only when the parameters
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
    public readonly RecurrentLayer.StepJob ForwardJob = new(), BackwardJob = new();   // the batch-split step loops
    public readonly RecurrentLayer.ColumnSumJob BiasJob = new();                       // the bias-gradient sums
    public readonly float[] WeightHHT;        // (H, G·H) W_hhᵀ unpacked, Pascanu Ω only
    public readonly float[] Gates;       // (T, B, G·H) pre-activations, then (LSTM, GRU) the activated gates
    public readonly float[] HH;          // (T, B, G·H) SeparateRecurrentProduct (GRU) only: h_prev·W_hhᵀ + b_hh
    public readonly float[] Hs;          // (T+1, B, H) Hs[0] = initial state, Hs[t+1] = h_t
    public readonly float[] Cs;          // (T+1, B, H) HasCellState (LSTM) only: Cs[0] = initial cell, Cs[t+1] = c_t
    public readonly float[] TanhC;       // (T, B, H) HasCellState (LSTM) only: tanh(c_t)
    public readonly float[] Slopes;      // (T, B, H) randomised leaky ReLU only: slope of each element
    public readonly float[] LnXhat;      // (T, B, G·H) layer norm only: normalised pre-activations
    public readonly float[] LnRstd;      // (T, B, G) layer norm only: 1/σ per gate block
    public readonly float[] DGates;      // (T, B, G·H) dL/d pre-activation (GRU: dL/d ih)
    public readonly float[] DHH;         // (T, B, G·H) SeparateRecurrentProduct (GRU) only: dL/d hh
    public readonly float[] DOut;        // (T, B, H) dL/dh_t arriving from above (head or next layer)
    public readonly float[] Dhs;         // (T, B, H) total dL/dh_t per step (from above and from step t+1)
    public readonly float[] DhNext;      // (B, H) dL/dh_{t-1}; after Backward, dL/d(initial state)
    public readonly float[] DcNext;      // (B, H) HasCellState (LSTM) only: dL/dc_{t-1}; after Backward, dL/d(initial cell)
    public readonly float[] DhRing;      // (D, B, H) dilated (D > 1) only: slot t mod D holds dL/dh_t from step t+D, then dL/dh_{t−D}
    public readonly float[] DcRing;      // (D, B, H) dilated and HasCellState only: the same for dL/dc
    public readonly float[] Residual;    // (T, B, H) residual connection only: the layer's output, h_t + its input x_t
    public readonly float[] DhDirect;    // (B, H) SeparateRecurrentProduct (GRU) only: z ⊙ dh, the path that skips W_hh
    public readonly float[] OmegaGW;     // (T, B, H) Pascanu Ω only: dΩ/dw, w = W_hhᵀ(σ' ⊙ dh)
    public readonly float[] OmegaDPre;   // (T, B, H) Pascanu Ω only: dΩ/d pre-activation (h_prev held constant)
    public readonly float[] OmegaDu;     // (B, H) Pascanu Ω only: dΩ/d(σ' ⊙ dh)

    /// <param name="cell">The layer's cell: which of the cell-specific buffers exist.</param>
    /// <param name="activation">The Elman nonlinearity (whether slopes are kept).</param>
    /// <param name="layerNorm">Keep layer-norm statistics.</param>
    /// <param name="I">Inputs (one-hot categories as their columns).</param>
    /// <param name="denseI">Inputs multiplied by the GEMM.</param>
    /// <param name="H">Hidden size.</param>
    /// <param name="T">Largest window.</param>
    /// <param name="B">Largest batch.</param>
    /// <param name="omega">Keep Pascanu Ω's buffers.</param>
    /// <param name="dilation">D of the layer: above 1, keep the rings of dL/dh_{t−D} (and dL/dc_{t−D}).</param>
    /// <param name="residual">The layer's output adds its input: keep that sum.</param>
    public LayerWorkspace(IRecurrentCell cell, in Activation activation, bool layerNorm, int I, int denseI, int H, int T, int B, bool omega,
        int dilation = 1, bool residual = false)
    {
        this.I = I; this.H = H; G = cell.Gates;
        bool state = cell.HasCellState, separate = cell.SeparateRecurrentProduct, randomized = cell.NeedsSlopes(activation);
        int GH = G * H;
        Weights = new LayerWeights(I, denseI, H, G, backward: true);
        WeightHHT = omega ? new float[H * GH] : [];
        Gates = new float[T * B * GH];
        HH = separate ? new float[T * B * GH] : [];
        Hs = new float[(T + 1) * B * H];
        Cs = state ? new float[(T + 1) * B * H] : [];
        TanhC = state ? new float[T * B * H] : [];
        Slopes = randomized ? new float[T * B * H] : [];
        LnXhat = layerNorm ? new float[T * B * GH] : [];
        LnRstd = layerNorm ? new float[T * B * G] : [];
        DGates = new float[T * B * GH];
        DHH = separate ? new float[T * B * GH] : [];
        DOut = new float[T * B * H];
        Dhs = new float[T * B * H];
        DhNext = new float[B * H];
        DcNext = state ? new float[B * H] : [];
        DhRing = dilation > 1 ? new float[dilation * B * H] : [];
        DcRing = dilation > 1 && state ? new float[dilation * B * H] : [];
        Residual = residual ? new float[T * B * H] : [];
        DhDirect = separate ? new float[B * H] : [];
        OmegaGW = omega ? new float[T * B * H] : [];
        OmegaDPre = omega ? new float[T * B * H] : [];
        OmegaDu = omega ? new float[B * H] : [];
    }
}

using MLNetRnn.Core.Cells;

namespace MLNetRnn.Core.Layers;

// B = batch, T = steps, I = input features, H = hidden, G = gate blocks, O = outputs, Bc = rows per block.
//
// The forward-only buffers of one block of Bc sequences through every layer: nothing for gradients,
// nothing that grows with the number of sequences (see Network.InferenceWorkspace, which holds one per thread).

/// <summary>Buffers of one block of Bc sequences, time-major.</summary>
internal sealed class InferenceBlock
{
    public readonly float[] X;          // (T, Bc, I) the block's input
    public readonly float[] Gates;      // (T, Bc, G·H_max) bias + x·W_ihᵀ, then the step's pre-activations
    public readonly float[][] Hs;       // per layer (T+1, Bc, H_l): Hs[0] initial (zero) state
    public readonly float[] C0, C1;     // (Bc, H_max) cell state (HasCellState), ping-pong
    public readonly float[] Cs;         // (T+1, Bc, H_max) HasCellState with a dilated layer: every c, as c_{t−D} is read
    public readonly float[][] Residual; // per layer (T, Bc, H_l) residual connection only (else empty): h_t + the layer's input
    public readonly float[] TanhC;      // (Bc, H_max) tanh(c) (HasCellState), not kept
    public readonly float[] HH;         // (Bc, G·H_max) SeparateRecurrentProduct: h_prev·W_hhᵀ + b_hh
    public readonly float[] Slopes;     // (Bc, H_max) NeedsSlopes: the mean slope
    public readonly float[] LnXhat;     // (Bc, G·H_max) layer norm, not kept
    public readonly float[] LnRstd;     // (Bc, G) layer norm, not kept
    public readonly float[] HeadWeightT; // (H_top, O)
    public readonly float[] Output;     // (P_max, Bc, O)

    /// <param name="cell">The network's cell: which cell-specific buffers exist.</param>
    /// <param name="activation">The Elman nonlinearity (whether slopes are kept).</param>
    /// <param name="layerNorm">Keep layer-norm statistics.</param>
    /// <param name="T">Largest window.</param>
    /// <param name="Bc">Sequences per block.</param>
    /// <param name="I">Input features.</param>
    /// <param name="hiddenSizes">H_l of each layer.</param>
    /// <param name="O">Outputs of the head.</param>
    /// <param name="P">Largest number of last steps the head is applied to.</param>
    /// <param name="dilated">Some layer has a dilation above 1.</param>
    /// <param name="residual">Layers above the first add their input to their output.</param>
    public InferenceBlock(IRecurrentCell cell, in Activation activation, bool layerNorm, int T, int Bc, int I, IReadOnlyList<int> hiddenSizes, int O, int P,
        bool dilated = false, bool residual = false)
    {
        int G = cell.Gates, Hmax = hiddenSizes.Max(), L = hiddenSizes.Count;
        X = new float[T * Bc * I];
        Gates = new float[T * Bc * G * Hmax];
        Hs = new float[L][];
        for (int l = 0; l < L; l++) Hs[l] = new float[(T + 1) * Bc * hiddenSizes[l]];
        bool state = cell.HasCellState;
        C0 = state ? new float[Bc * Hmax] : [];
        C1 = state ? new float[Bc * Hmax] : [];
        Cs = state && dilated ? new float[(T + 1) * Bc * Hmax] : [];
        Residual = new float[L][];
        for (int l = 0; l < L; l++) Residual[l] = residual && l > 0 ? new float[T * Bc * hiddenSizes[l]] : [];
        TanhC = state ? new float[Bc * Hmax] : [];
        HH = cell.SeparateRecurrentProduct ? new float[Bc * G * Hmax] : [];
        Slopes = cell.NeedsSlopes(activation) ? new float[Bc * Hmax] : [];
        LnXhat = layerNorm ? new float[Bc * G * Hmax] : [];
        LnRstd = layerNorm ? new float[Bc * G] : [];
        HeadWeightT = new float[hiddenSizes[^1] * O];
        Output = new float[P * Bc * O];
    }
}

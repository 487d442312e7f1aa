using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Layers;

namespace MLNetRnn.Core.Network;

// B = batch, T = steps, I = input features, H = hidden, O = outputs, G = gate blocks, P = steps the
// head is applied to (the last P of the window).
//
// Everything the forward and backward passes of a network touch, allocated once: the network's input,
// output and targets, and one LayerWorkspace per layer.

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
        var cell = CellCatalog.Of(spec.Cell);
        var activation = spec.ResolveActivation();
        for (int l = 0; l < spec.Layers; l++) Layers[l] = new LayerWorkspace(cell, activation, spec.LayerNormalization, spec.LayerInputSize(l), spec.LayerDenseInputSize(l), spec.HiddenSizes[l], maxSteps, maxBatch, regularizer,
            spec.Dilation(l), spec.ResidualAt(l));
    }

    /// <summary>(B, H_l) initial hidden state of layer <paramref name="layer"/> for a batch of
    /// <paramref name="batch"/> rows: the slot Forward starts from (a dilated layer's first D steps all read it).
    /// Zero unless written.</summary>
    public Span<float> InitialHidden(int layer, int batch) => Layers[layer].Hs.AsSpan(0, batch * Layers[layer].H);

    /// <summary>(B, H_l) initial cell state of LSTM layer <paramref name="layer"/>; empty for other cells.</summary>
    public Span<float> InitialCell(int layer, int batch) => Layers[layer].Cs.Length == 0 ? Span<float>.Empty : Layers[layer].Cs.AsSpan(0, batch * Layers[layer].H);

    /// <summary>(B, H_l) hidden state of layer <paramref name="layer"/> after step <paramref name="step"/>
    /// (0 = the initial state) of the last Forward.</summary>
    public ReadOnlySpan<float> Hidden(int layer, int step, int batch) => Layers[layer].Hs.AsSpan(step * batch * Layers[layer].H, batch * Layers[layer].H);

    /// <summary>(B, H_l) LSTM cell state after step <paramref name="step"/>; empty for other cells.</summary>
    public ReadOnlySpan<float> Cell(int layer, int step, int batch) => Layers[layer].Cs.Length == 0 ? ReadOnlySpan<float>.Empty : Layers[layer].Cs.AsSpan(step * batch * Layers[layer].H, batch * Layers[layer].H);

    /// <summary>(B, H_l) dL/d(initial hidden state) of layer <paramref name="layer"/> from the last
    /// full Backward (a dilated layer: summed over the first D steps, which all read it).</summary>
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

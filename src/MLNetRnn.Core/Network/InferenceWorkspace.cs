using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Memory;

namespace MLNetRnn.Core.Network;

// B = batch, T = steps, I = input features, H = hidden, G = gate blocks, O = outputs, Bc = rows per block.
//
// Forward-only buffers for RecurrentNetwork.Predict. Nothing for gradients and nothing that grows with
// the number of sequences: the sequences are taken in blocks of Bc rows, and a block lives in buffers
// sized (T, Bc, ·) — for the small LSTM (T = 48, Bc = 32, 4H = 128) its gates are 786 KB, which stay
// in L2 while the block's steps run. Each thread that a call uses has its own block buffers.

/// <summary>
/// What <see cref="RecurrentNetwork.Predict(InferenceWorkspace, ReadOnlySpan{float}, int, int, Span{float})"/>
/// needs, allocated once: the weights packed for the GEMM (repacked only when the network's parameters
/// change) and, per thread, the buffers of one block of sequences. Keep one per caller (an engine, a
/// prediction engine) and reuse it: a forecast then allocates nothing. Not for use by two threads at once.
/// </summary>
public sealed class InferenceWorkspace
{
    internal readonly RecurrentNetworkSpec Spec;
    internal readonly LayerWeights[] Weights;
    internal readonly Block[] Blocks;                  // one per part
    internal readonly RecurrentNetwork.InferenceJob Job = new();

    /// <summary>Allocates the buffers for windows of at most <paramref name="maxSteps"/> steps.</summary>
    /// <param name="spec">The network's architecture.</param>
    /// <param name="maxSteps">Largest window T, at least 1.</param>
    /// <param name="blockRows">Sequences per block (Bc), at least 1. Default: 32.</param>
    /// <param name="threads">Threads a call may use, at least 1; also the number of block buffers.
    /// Default: the machine's logical cores.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public InferenceWorkspace(RecurrentNetworkSpec spec, int maxSteps, int blockRows = 32, int? threads = null)
        : this(spec, maxSteps, blockRows, threads, maxOutputSteps: 1)
    {
    }

    /// <summary>Allocates the buffers for windows of at most <paramref name="maxSteps"/> steps, with the head applied to
    /// up to <paramref name="maxOutputSteps"/> last steps.</summary>
    /// <param name="spec">The network's architecture.</param>
    /// <param name="maxSteps">Largest window T, at least 1.</param>
    /// <param name="blockRows">Sequences per block (Bc), at least 1.</param>
    /// <param name="threads">Threads a call may use, at least 1; null = the machine's logical cores.</param>
    /// <param name="maxOutputSteps">Largest P, in [1, maxSteps].</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public InferenceWorkspace(RecurrentNetworkSpec spec, int maxSteps, int blockRows, int? threads, int maxOutputSteps)
    {
        if (maxOutputSteps < 1 || maxOutputSteps > Math.Max(1, maxSteps))
            throw new ArgumentOutOfRangeException(nameof(maxOutputSteps), maxOutputSteps, $"maxOutputSteps must be between 1 and maxSteps ({maxSteps}).");
        MaxOutputSteps = maxOutputSteps;
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (maxSteps < 1) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "maxSteps must be at least 1.");
        if (blockRows < 1) throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, "blockRows must be at least 1.");
        int parts = threads ?? Environment.ProcessorCount;
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(threads), parts, "threads must be at least 1.");
        Spec = spec;
        MaxSteps = maxSteps;
        BlockRows = blockRows;
        Threads = parts;
        int G = spec.GateCount;
        Weights = new LayerWeights[spec.Layers];
        for (int l = 0; l < spec.Layers; l++) Weights[l] = new LayerWeights(spec.LayerInputSize(l), spec.LayerDenseInputSize(l), spec.HiddenSizes[l], G, backward: false);
        Blocks = new Block[parts];
        for (int p = 0; p < parts; p++) Blocks[p] = new Block(spec, maxSteps, blockRows, maxOutputSteps);
    }

    /// <summary>Largest window length T.</summary>
    public int MaxSteps { get; }

    /// <summary>Largest number of last steps the head is applied to (P).</summary>
    public int MaxOutputSteps { get; }

    /// <summary>Sequences processed together per thread (Bc).</summary>
    public int BlockRows { get; }

    /// <summary>Threads a call may use (fixed at creation: each has its own block buffers). Results do not
    /// depend on it: each sequence is computed by one thread, the same way.</summary>
    public int Threads { get; }

    /// <summary>Buffers of one block of Bc sequences, time-major.</summary>
    internal sealed class Block
    {
        public readonly float[] X;          // (T, Bc, I) the block's input
        public readonly float[] Gates;      // (T, Bc, G·H_max) bias + x·W_ihᵀ, then the step's pre-activations
        public readonly float[][] Hs;       // per layer (T+1, Bc, H_l): Hs[0] initial (zero) state
        public readonly float[] C0, C1;     // (Bc, H_max) LSTM cell state, ping-pong
        public readonly float[] TanhC;      // (Bc, H_max) LSTM: tanh(c), not kept
        public readonly float[] HH;         // (Bc, G·H_max) GRU: h_prev·W_hhᵀ + b_hh
        public readonly float[] Slopes;     // (Bc, H_max) randomised leaky ReLU: the mean slope
        public readonly float[] LnXhat;     // (Bc, G·H_max) layer norm, not kept
        public readonly float[] LnRstd;     // (Bc, G) layer norm, not kept
        public readonly float[] HeadWeightT; // (H_top, O)
        public readonly float[] Output;     // (P_max, Bc, O)

        public Block(RecurrentNetworkSpec spec, int T, int Bc, int P)
        {
            int G = spec.GateCount, Hmax = spec.HiddenSizes.Max(), O = spec.OutputSize;
            X = new float[T * Bc * spec.InputSize];
            Gates = new float[T * Bc * G * Hmax];
            Hs = new float[spec.Layers][];
            for (int l = 0; l < spec.Layers; l++) Hs[l] = new float[(T + 1) * Bc * spec.HiddenSizes[l]];
            bool lstm = spec.Cell == RecurrentCellKind.Lstm;
            C0 = lstm ? new float[Bc * Hmax] : [];
            C1 = lstm ? new float[Bc * Hmax] : [];
            TanhC = lstm ? new float[Bc * Hmax] : [];
            HH = spec.Cell == RecurrentCellKind.Gru ? new float[Bc * G * Hmax] : [];
            Slopes = spec.Cell == RecurrentCellKind.Elman ? new float[Bc * Hmax] : [];
            LnXhat = spec.LayerNormalization ? new float[Bc * G * Hmax] : [];
            LnRstd = spec.LayerNormalization ? new float[Bc * G] : [];
            HeadWeightT = new float[spec.HiddenSizes[^1] * O];
            Output = new float[P * Bc * O];
        }
    }
}

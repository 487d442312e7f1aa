using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Layers;

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
    internal readonly InferenceBlock[] Blocks;                  // one per part
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
        Blocks = new InferenceBlock[parts];
        var cell = CellCatalog.Of(spec.Cell);
        var activation = spec.ResolveActivation();
        for (int p = 0; p < parts; p++)
            Blocks[p] = new InferenceBlock(cell, activation, spec.LayerNormalization, maxSteps, blockRows, spec.InputSize, spec.HiddenSizes, spec.OutputSize, maxOutputSteps,
                spec.IsDilated, spec.ResidualConnections);
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
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>
/// Training is bit-reproducible: the same seed and thread count give the same weights, and so does any
/// other thread count, because every value is computed by one thread in an order fixed by the shapes
/// (the batch split of the step loops, the row/panel split of the GEMMs, the column split of the sums).
/// </summary>
public sealed class DeterminismTests
{
    public static TheoryData<string, RecurrentNetworkSpec, int> Cases() => new()
    {
        { "lstm-2-layers", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 3, HiddenSizes = [40, 24] }, 37 },
        { "gru", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [48] }, 64 },
        { "elman-rrelu", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.RandomizedLeakyRelu, InputSize = 2, HiddenSizes = [70] }, 29 },
        { "lstm-layernorm", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 1, HiddenSizes = [16], LayerNormalization = true }, 20 },
        { "large-enough-to-split-gemms", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 8, HiddenSizes = [128] }, 64 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SameSeedGivesBitIdenticalWeightsForAnyThreadCount(string name, RecurrentNetworkSpec spec, int B)
    {
        var reference = Train(spec, B, threads: 1);
        Assert.True(reference.AsSpan().SequenceEqual(Train(spec, B, threads: 1)), $"{name}: two runs on 1 thread differ.");
        foreach (int threads in new[] { 2, 3 })
        {
            var run = Train(spec, B, threads);
            Assert.True(run.AsSpan().SequenceEqual(Train(spec, B, threads)), $"{name}: two runs on {threads} threads differ.");
            int first = reference.AsSpan().CommonPrefixLength(run);
            Assert.True(first == reference.Length, $"{name}: {threads} threads differ from 1 thread at parameter {first}.");
        }
    }

    /// <summary>Four optimiser steps (forward, loss, backward, clipping, Adam) from seed 7 on fixed data.</summary>
    private static float[] Train(RecurrentNetworkSpec spec, int B, int threads)
    {
        const int T = 9;
        var net = new RecurrentNetwork(spec, seed: 7);
        var ws = net.CreateWorkspace(T, B, T);
        ws.Threads = threads;
        var rng = new Random(11);
        for (int i = 0; i < T * B * spec.InputSize; i++) ws.Input[i] = rng.NextSingle() * 2 - 1;
        for (int i = 0; i < T * B * spec.OutputSize; i++) ws.Targets[i] = rng.NextSingle();
        var adam = Optimizer.Create(new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 1e-2f }, net.Parameters.Count);
        var activations = new Random(5);
        for (int step = 0; step < 4; step++)
        {
            ws.ResetState(B);
            net.Forward(ws, T, B, T, training: true, activations);
            net.Loss(ws, B, T, LossKind.MeanSquaredError);
            net.Parameters.ZeroGradients();
            net.Backward(ws, T, B, T, inputGradient: true);
            GradientClipping.Apply(net.Parameters, GradientClippingMode.GlobalNorm, 1f);
            adam.Step(net.Parameters.Values, net.Parameters.Gradients, 1e-2f);
        }
        return net.Parameters.Values.ToArray();
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Tests.Network;

/// <summary>The forward-only inference path: same values as Forward, for any batch and thread count,
/// repacking when the parameters change, and clear errors for bad sizes.</summary>
public sealed class InferenceTests
{
    public static TheoryData<string, RecurrentNetworkSpec> Specs()
    {
        var d = CellSpecs();
        // Every cell of the catalog, stacked and with layer normalisation: a new cell is checked without editing this file.
        foreach (var cell in CellCatalog.Kinds)
        {
            string n = cell.ToString().ToLowerInvariant();
            d.Add($"{n}-catalog-2-layers", new RecurrentNetworkSpec { Cell = cell, InputSize = 2, HiddenSizes = [6, 5], OutputSize = 2 });
            d.Add($"{n}-catalog-layernorm", new RecurrentNetworkSpec { Cell = cell, InputSize = 3, HiddenSizes = [7], LayerNormalization = true });
            d.Add($"{n}-catalog-dilated-residual", new RecurrentNetworkSpec { Cell = cell, InputSize = 2, HiddenSizes = [6, 6, 6], Dilations = [1, 3, 4], ResidualConnections = true, OutputSize = 2 });
            d.Add($"{n}-catalog-dilated-layernorm", new RecurrentNetworkSpec { Cell = cell, InputSize = 2, HiddenSizes = [5, 4], Dilations = [2, 12], LayerNormalization = true });
        }
        return d;
    }

    private static TheoryData<string, RecurrentNetworkSpec> CellSpecs() => new()
    {
        { "lstm", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 1, HiddenSizes = [32] } },
        { "lstm-2-layers-odd", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 3, HiddenSizes = [13, 7], OutputSize = 2 } },
        { "gru-layernorm", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [20], LayerNormalization = true } },
        { "elman-tanh", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, InputSize = 2, HiddenSizes = [33] } },
        { "elman-rrelu", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.RandomizedLeakyRelu, InputSize = 2, HiddenSizes = [9] } },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void PredictEqualsForwardBitForBitForAnyBatchAndThreadCount(string name, RecurrentNetworkSpec spec)
    {
        var net = new RecurrentNetwork(spec, seed: 3);
        const int T = 11;
        foreach (int count in new[] { 1, 5, 70 })
        {
            var inputs = Inputs(count, T, spec.InputSize, seed: count);
            var expected = ForwardOutputs(net, inputs, count, T);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var ws = net.CreateInferenceWorkspace(T, blockRows: 16, threads);
                var actual = new float[count * spec.OutputSize];
                net.Predict(ws, inputs, count, T, actual);
                Assert.True(expected.AsSpan().SequenceEqual(actual),
                    $"{name}, N={count}, threads={threads}: Predict differs from Forward (first: {expected[0]:R} vs {actual[0]:R}).");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void PredictAtTheLastStepsEqualsForwardBitForBit(string name, RecurrentNetworkSpec spec)
    {
        // A decoder reads the head at each of the last P steps: the same values as Forward with that P, (N, P, O).
        var net = new RecurrentNetwork(spec, seed: 5);
        const int T = 9, P = 4;
        foreach (int count in new[] { 1, 37 })
        {
            var inputs = Inputs(count, T, spec.InputSize, seed: count + 1);
            var ws = net.CreateWorkspace(T, count, P);
            MLNetRnn.Core.Network.Batching.ToTimeMajor(inputs, ws.Input, count, T, spec.InputSize);
            ws.ResetState(count);
            net.Forward(ws, T, count, P);
            int O = spec.OutputSize;
            var expected = new float[count * P * O];
            MLNetRnn.Core.Network.Batching.ToBatchMajor(ws.Output.AsSpan(0, P * count * O), expected, count, P, O);
            foreach (int threads in new[] { 1, 2 })
            {
                var actual = new float[count * P * O];
                net.Predict(net.CreateInferenceWorkspace(T, blockRows: 8, threads, maxOutputSteps: P), inputs, count, T, actual, outputSteps: P);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{name}, N={count}, threads={threads}: Predict at the last {P} steps differs from Forward.");
            }
        }
    }

    [Fact]
    public void PredictRepacksWhenParametersChange()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 1, HiddenSizes = [8] }, seed: 1);
        var ws = net.CreateInferenceWorkspace(10);
        var x = Inputs(3, 10, 1, seed: 2);
        var before = new float[3];
        net.Predict(ws, x, 3, 10, before);
        // Written straight into the parameter array, as an optimiser or a loader does.
        var whh = net.Parameters["weight_hh_l0"];
        net.Parameters.Values[whh.Offset + 5] += 0.5f;
        net.Parameters.Values[net.Parameters["bias_hh_l0"].Offset + 9] -= 0.25f;
        var after = new float[3];
        net.Predict(ws, x, 3, 10, after);
        Assert.False(before.AsSpan().SequenceEqual(after), "the forecast ignored a change of the weights");
        Assert.True(ForwardOutputs(net, x, 3, 10).AsSpan().SequenceEqual(after), "after the change, Predict differs from Forward");
    }

    [Fact]
    public void ConcurrentCallersWithTheirOwnWorkspacesGetTheSameValues()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 1, HiddenSizes = [24] }, seed: 4);
        var x = Inputs(40, 16, 1, seed: 5);
        var expected = ForwardOutputs(net, x, 40, 16);
        var results = new float[6][];
        Parallel.For(0, results.Length, i =>
        {
            var ws = net.CreateInferenceWorkspace(16, threads: 2);
            results[i] = new float[40];
            for (int rep = 0; rep < 20; rep++) net.Predict(ws, x, 40, 16, results[i]);
        });
        foreach (var r in results) Assert.True(expected.AsSpan().SequenceEqual(r), "a concurrent caller got other values");
    }

    [Fact]
    public void PredictRefusesSizesThatDoNotFit()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { InputSize = 2, HiddenSizes = [4] }, seed: 1);
        var ws = net.CreateInferenceWorkspace(5);
        Assert.Contains("MaxSteps", Assert.Throws<ArgumentOutOfRangeException>(() => net.Predict(ws, new float[12], 1, 6, new float[1])).Message);
        Assert.Contains("inputs", Assert.Throws<ArgumentException>(() => net.Predict(ws, new float[9], 1, 5, new float[1])).Message);
        Assert.Contains("outputs", Assert.Throws<ArgumentException>(() => net.Predict(ws, new float[20], 2, 5, new float[1])).Message);
        var other = new RecurrentNetwork(new RecurrentNetworkSpec { InputSize = 2, HiddenSizes = [5] }, seed: 1);
        Assert.Contains("different network spec", Assert.Throws<ArgumentException>(() => other.Predict(ws, new float[10], 1, 5, new float[1])).Message);
    }

    internal static float[] Inputs(int count, int T, int I, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count * T * I).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
    }

    /// <summary>The training path's forward: (N, T, I) in, the head at the last step out, one batch.</summary>
    private static float[] ForwardOutputs(RecurrentNetwork net, float[] inputs, int count, int T)
    {
        var ws = net.CreateWorkspace(T, count, 1);
        MLNetRnn.Core.Network.Batching.ToTimeMajor(inputs, ws.Input, count, T, net.Spec.InputSize);
        ws.ResetState(count);
        net.Forward(ws, T, count, 1);
        return ws.Output.AsSpan(0, count * net.Spec.OutputSize).ToArray();
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Network;

// B = batch, T = steps, I = inputs, O = outputs, d = dilation, n_r = steps of the sub-sequence of phase r.

/// <summary>Dilated layers and residual connections (RecurrentNetworkSpec.Dilations, ResidualConnections): a dilated
/// layer is d ordinary layers on the interleaved sub-sequences, truncation counts steps in time, the options are
/// validated by name, and a dilated network learns what reaches one period back.</summary>
public sealed class DilatedLayerTests
{
    public static TheoryData<RecurrentCellKind, int> CellsAndDilations()
    {
        var d = new TheoryData<RecurrentCellKind, int>();
        foreach (var cell in CellCatalog.Kinds)
            foreach (int dilation in new[] { 2, 3, 5 })
                d.Add(cell, dilation);
        return d;
    }

    /// <summary>Step t = r + j·d of the dilated layer is step j of the ordinary layer run on the sub-sequence of
    /// phase r (same weights, zero initial state): bit for bit, outputs of every step.</summary>
    [Theory]
    [MemberData(nameof(CellsAndDilations))]
    public void DilatedLayerEqualsOrdinaryLayersOnTheInterleavedSubsequences(RecurrentCellKind cell, int d)
    {
        const int T = 11, B = 3, I = 2, O = 2;
        var spec = new RecurrentNetworkSpec { Cell = cell, InputSize = I, HiddenSizes = [5], OutputSize = O, Dilations = [d] };
        var dilated = new RecurrentNetwork(spec, seed: 4);
        var ordinary = RecurrentNetwork.FromParameters(spec with { Dilations = [] }, dilated.Parameters.Values);
        var x = Random(T * B * I, seed: 5);                                  // (T, B, I)
        var ws = dilated.CreateWorkspace(T, B);
        x.CopyTo(ws.Input, 0);
        dilated.Forward(ws, T, B, P: T);                                      // (T, B, O)

        for (int r = 0; r < d; r++)
        {
            int n = (T - r + d - 1) / d;
            var sub = ordinary.CreateWorkspace(n, B);
            for (int j = 0; j < n; j++) x.AsSpan((r + j * d) * B * I, B * I).CopyTo(sub.Input.AsSpan(j * B * I));
            ordinary.Forward(sub, n, B, P: n);
            for (int j = 0; j < n; j++)
                Assert.True(sub.Output.AsSpan(j * B * O, B * O).SequenceEqual(ws.Output.AsSpan((r + j * d) * B * O, B * O)),
                    $"{cell}, d = {d}: step {r + j * d} (phase {r}, sub-step {j}) differs from the ordinary layer on its sub-sequence.");
        }
    }

    /// <summary>Truncation counts steps in time: with TruncationLength = k the gradient of a loss at the last step goes
    /// back through the steps t ≥ T − k of its phase, ⌊(k − 1)/d⌋ recurrent hops: the truncated gradient of the ordinary
    /// layer on that sub-sequence with k' = ⌊(k − 1)/d⌋ + 1 steps.</summary>
    [Theory]
    [MemberData(nameof(CellsAndDilations))]
    public void TruncatedDilatedGradientIsTheTruncatedGradientOfItsSubsequence(RecurrentCellKind cell, int d)
    {
        const int T = 11, B = 2, I = 2, O = 1;
        var spec = new RecurrentNetworkSpec { Cell = cell, InputSize = I, HiddenSizes = [4], OutputSize = O, Dilations = [d] };
        var dilated = new RecurrentNetwork(spec, seed: 6);
        var ordinary = RecurrentNetwork.FromParameters(spec with { Dilations = [] }, dilated.Parameters.Values);
        var x = Random(T * B * I, seed: 7);
        var y = Random(B * O, seed: 8);
        int r = (T - 1) % d, n = (T - 1 - r) / d + 1;
        foreach (int k in new[] { 1, d, d + 1, 2 * d + 1, T })
        {
            var ws = dilated.CreateWorkspace(T, B, 1);
            x.CopyTo(ws.Input, 0);
            y.CopyTo(ws.Targets, 0);
            dilated.Forward(ws, T, B, 1);
            dilated.Loss(ws, B, 1, LossKind.MeanSquaredError);
            dilated.Parameters.ZeroGradients();
            dilated.Backward(ws, T, B, 1, truncation: k);

            var sub = ordinary.CreateWorkspace(n, B, 1);
            for (int j = 0; j < n; j++) x.AsSpan((r + j * d) * B * I, B * I).CopyTo(sub.Input.AsSpan(j * B * I));
            y.CopyTo(sub.Targets, 0);
            ordinary.Forward(sub, n, B, 1);
            ordinary.Loss(sub, B, 1, LossKind.MeanSquaredError);
            ordinary.Parameters.ZeroGradients();
            ordinary.Backward(sub, n, B, 1, truncation: (k - 1) / d + 1);

            // The dilated layer's weight gradients also sum the zero rows of the other phases, in other blocks of
            // the products: equal up to float rounding, not bit for bit.
            var a = dilated.Parameters.Gradients;
            var b = ordinary.Parameters.Gradients;
            for (int i = 0; i < a.Length; i++)
                Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f * Math.Max(1f, Math.Abs(b[i])),
                    $"{cell}, d = {d}, k = {k}: gradient {i} is {a[i]}; the ordinary layer on the sub-sequence with k' = {(k - 1) / d + 1} gives {b[i]}.");
        }
    }

    /// <summary>A copy from the same phase two periods back, through noise: the target at the last step is the input
    /// 2·d steps earlier. A layer of dilation d reaches it in two recurrent hops; a mean predictor's loss is 1/3, and an
    /// ordinary LSTM with the same budget (10 epochs, about a second) has not found the lag.</summary>
    [Fact]
    public void DilatedNetworkLearnsToCopyFromTwoPeriodsBack()
    {
        const int d = 6, T = 4 * d, N = 512;
        var rng = new Random(11);
        var x = new float[N * T];
        var y = new float[N];
        for (int s = 0; s < N; s++)
        {
            for (int t = 0; t < T; t++) x[s * T + t] = rng.NextSingle() * 2 - 1;
            y[s] = x[s * T + T - 1 - 2 * d];
        }
        var data = new SequenceDataset(x, y, N, T, 1, 1);
        double Train(int[] dilations)
        {
            var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, HiddenSizes = [16], Dilations = dilations }, seed: 3);
            new RecurrentTrainer(net, new TrainingOptions { Epochs = 10, BatchSize = 32, Seed = 1, Optimizer = new OptimizerOptions { LearningRate = 0.01f } }).Fit(data);
            var p = net.Predict(x, N, T);
            double mse = 0;
            for (int s = 0; s < N; s++) mse += (p[s] - y[s]) * (p[s] - y[s]);
            return mse / N;
        }
        double dilated = Train([d]), ordinary = Train([]);
        // Seed-fixed figures: dilated ≈ 7e-4, ordinary ≈ 0.25 (it has not found the lag yet).
        Assert.True(dilated < 0.01, $"The dilated LSTM reached MSE {dilated:G4} (mean predictor: 1/3).");
        Assert.True(dilated < ordinary / 20, $"The dilated LSTM reached MSE {dilated:G4}; the ordinary one {ordinary:G4} with the same budget.");
    }

    [Fact]
    public void OptionsAreValidatedByName()
    {
        var spec = new RecurrentNetworkSpec { HiddenSizes = [4, 4] };
        Assert.Equal("Dilations", Assert.Throws<ArgumentException>(() => (spec with { Dilations = [2] }).Validate()).ParamName);
        Assert.Equal("Dilations", Assert.Throws<ArgumentOutOfRangeException>(() => (spec with { Dilations = [1, 0] }).Validate()).ParamName);
        var e = Assert.Throws<ArgumentException>(() => (spec with { HiddenSizes = [4, 3], ResidualConnections = true }).Validate());
        Assert.Equal("ResidualConnections", e.ParamName);
        Assert.Contains("HiddenSizes[1] = 3", e.Message);
        (spec with { Dilations = [1, 24], ResidualConnections = true }).Validate();
        (spec with { HiddenSizes = [7], ResidualConnections = true }).Validate();   // one layer: nothing to connect
        Assert.NotEqual(spec, spec with { Dilations = [1, 2] });
        Assert.NotEqual(spec, spec with { ResidualConnections = true });
        Assert.Equal(spec with { Dilations = [1, 2] }, spec with { Dilations = [1, 2] });
    }

    [Fact]
    public void StreamingAndCarriedStateRefuseDilation()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { HiddenSizes = [4], Dilations = [3] }, seed: 1);
        var x = new[] { Random(100, seed: 1) };
        var e = Assert.Throws<NotSupportedException>(() => new RecurrentTrainer(net).FitStreaming(new StreamingDataset(x, x, 1, 1), new StreamingOptions { Streams = 2, TruncationInterval = 5, TruncationLength = 5 }));
        Assert.Contains("Dilations", e.Message);
        Assert.Contains("Dilations", Assert.Throws<InvalidOperationException>(() => net.CarryState(net.CreateWorkspace(4, 1), 2, 1)).Message);
        Assert.Equal("VanishingRegularizerWeight", Assert.Throws<ArgumentException>(() => new TrainingOptions { VanishingRegularizerWeight = 0.1f }.Validate(
            new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, HiddenSizes = [4], Dilations = [2] })).ParamName);
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.NextSingle() * 2 - 1;
        return a;
    }
}

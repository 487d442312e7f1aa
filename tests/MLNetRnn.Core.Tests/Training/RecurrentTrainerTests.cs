using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

public sealed class RecurrentTrainerTests
{
    private static RecurrentNetworkSpec Lstm(int inputs = 2, int hidden = 8, int outputs = 1) =>
        new() { Cell = RecurrentCellKind.Lstm, InputSize = inputs, HiddenSizes = [hidden], OutputSize = outputs };

    [Fact]
    public void LstmSolvesAddingProblemAtFiftySteps()
    {
        // "Solved" = test MSE below 0.01; always answering 1 scores ≈ 0.167. A wrong gradient anywhere in
        // the LSTM's backward pass leaves the net at the mean (its loss plateaus near 0.17).
        const int T = 50;
        var train = SyntheticTasks.AddingProblem(2000, T, seed: 1);
        var test = SyntheticTasks.AddingProblem(1000, T, seed: 2);
        var net = new RecurrentNetwork(Lstm(hidden: 32), seed: 0);
        var report = new RecurrentTrainer(net, new TrainingOptions
        {
            Epochs = 12, BatchSize = 32, Optimizer = new OptimizerOptions { LearningRate = 1e-2f }, Seed = 0,
        }).Fit(train);

        double mse = TestMse(net, test);
        double baseline = test.Targets.Average(y => (y - 1.0) * (y - 1.0));
        Assert.InRange(baseline, 0.13, 0.20);
        Assert.True(mse < 0.01, $"test MSE {mse:F4} after {report.Epochs.Count} epochs (baseline {baseline:F3}); training losses {string.Join(", ", report.Epochs.Select(e => e.TrainingLoss.ToString("F4")))}");
    }

    [Fact]
    public void ClippedTanhRnnStaysFiniteWhereUnclippedRunExplodes()
    {
        // Orthogonal W_hh scaled by 3: ‖∂h_t/∂h_k‖ grows like 3^(t−k) until the units saturate, so the
        // gradient norm reaches ~1e7 and plain SGD at 0.1 throws the weights to overflow.
        var train = SyntheticTasks.AddingProblem(512, 50, seed: 1);
        var spec = new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Tanh, InputSize = 2, HiddenSizes = [32],
            Initialization = new InitializationSpec { RecurrentGain = 3f },
        };
        TrainingOptions Options(GradientClippingMode mode) => new()
        {
            Epochs = 4, BatchSize = 32, GradientClipping = mode, GradientClippingThreshold = 1f, Seed = 0,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1f },
        };

        var unclipped = new RecurrentNetwork(spec, seed: 0);
        var ex = Assert.Throws<TrainingDivergedException>(() => new RecurrentTrainer(unclipped, Options(GradientClippingMode.None)).Fit(train));
        Assert.Contains("GradientClipping", ex.Message);

        var clipped = new RecurrentNetwork(spec, seed: 0);
        var report = new RecurrentTrainer(clipped, Options(GradientClippingMode.GlobalNorm)).Fit(train);
        Assert.Equal(0, report.SkippedSteps);
        Assert.True(report.GradientNorms.Before.ToArray().Max() > 1e4, "the case should explode without clipping");
        foreach (float after in report.GradientNorms.After) Assert.True(after <= 1f + 1e-4f, $"norm after clipping {after}");
        Assert.All(clipped.Parameters.Values, v => Assert.True(float.IsFinite(v)));
        Assert.All(report.Epochs, e => Assert.True(double.IsFinite(e.TrainingLoss) && e.TrainingLoss < 10));
    }

    [Fact]
    public void TruncatedBpttWithFullLengthEqualsExactBptt()
    {
        // TBPTT(S, S) over B streams of S steps is one update per epoch with the loss of every step from a zero
        // state: exactly full BPTT on B windows of S steps with the loss at all steps. Bit-identical weights.
        const int S = 12, B = 4, I = 2, O = 1;
        var rng = new Random(3);
        var series = Enumerable.Range(0, B).Select(_ => Enumerable.Range(0, S * I).Select(_ => rng.NextSingle()).ToArray()).ToArray();
        var targets = Enumerable.Range(0, B).Select(_ => Enumerable.Range(0, S * O).Select(_ => rng.NextSingle()).ToArray()).ToArray();
        foreach (var cell in CellCatalog.Kinds)
        {
            var spec = new RecurrentNetworkSpec { Cell = cell, InputSize = I, HiddenSizes = [5, 4], OutputSize = O };
            var options = new TrainingOptions { Epochs = 3, BatchSize = B, Shuffle = false, Seed = 1 };

            var streaming = new RecurrentNetwork(spec, seed: 9);
            new RecurrentTrainer(streaming, options).FitStreaming(new StreamingDataset(series, targets, I, O),
                new StreamingOptions { Streams = B, TruncationInterval = S, TruncationLength = S });

            var windowed = new RecurrentNetwork(spec, seed: 9);
            var windows = new SequenceDataset(series.SelectMany(x => x).ToArray(), targets.SelectMany(x => x).ToArray(), B, S, I, O, LossPlacement.AllSteps);
            new RecurrentTrainer(windowed, options).Fit(windows);

            Assert.Equal(windowed.Parameters.Values, streaming.Parameters.Values);
        }
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(2, 5)]
    [InlineData(4, 4)]
    public void StreamingCarriesDetachedStateAndBackpropagatesTheLastK2Steps(int k1, int k2)
    {
        // A plain re-statement of TBPTT(k1, k2) with the network API: at each update, re-run the last k2 steps
        // from the detached state k2 steps back, take the loss of the k1 new steps, step, move on.
        const int S = 13, B = 2, I = 1, O = 1;
        var rng = new Random(11);
        var x = Enumerable.Range(0, B).Select(_ => Enumerable.Range(0, S).Select(_ => rng.NextSingle()).ToArray()).ToArray();
        var y = Enumerable.Range(0, B).Select(_ => Enumerable.Range(0, S).Select(_ => rng.NextSingle()).ToArray()).ToArray();
        var spec = new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = I, HiddenSizes = [3], OutputSize = O };
        var sgd = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1f };
        var trained = new RecurrentNetwork(spec, seed: 4);
        new RecurrentTrainer(trained, new TrainingOptions { Epochs = 1, Optimizer = sgd, GradientClipping = GradientClippingMode.None })
            .FitStreaming(new StreamingDataset(x, y, I, O), new StreamingOptions { Streams = B, TruncationInterval = k1, TruncationLength = k2 });

        var net = new RecurrentNetwork(spec, seed: 4);
        var ws = net.CreateWorkspace(k2, B, k1);
        var state = new float[S + 1][];           // h after each step, (B,H), as computed at the time
        state[0] = new float[B * 3];
        for (int end = k1, prev = 0; prev < S; prev = end, end = Math.Min(end + k1, S))
        {
            int start = Math.Max(0, end - k2), T = end - start, P = end - prev;
            for (int t = 0; t < T; t++) for (int b = 0; b < B; b++) ws.Input[t * B + b] = x[b][start + t];
            for (int q = 0; q < P; q++) for (int b = 0; b < B; b++) ws.Targets[q * B + b] = y[b][prev + q];
            state[start].CopyTo(ws.InitialHidden(0, B));
            net.Forward(ws, T, B, P);
            for (int t = 1; t <= T; t++) state[start + t] = ws.Hidden(0, t, B).ToArray();
            net.Loss(ws, B, P, LossKind.MeanSquaredError);
            net.Parameters.ZeroGradients();
            net.Backward(ws, T, B, P);
            for (int i = 0; i < net.Parameters.Count; i++) net.Parameters.Values[i] -= 0.1f * net.Parameters.Gradients[i];
            if (end == S) break;
        }
        Assert.Equal(net.Parameters.Values, trained.Parameters.Values);
    }

    [Fact]
    public void TruncationChangesTheGradientOnlyWhenShorterThanTheWindow()
    {
        var data = SyntheticTasks.AddingProblem(64, 20, seed: 3);
        float[] Train(int? k)
        {
            var net = new RecurrentNetwork(Lstm(), seed: 1);
            new RecurrentTrainer(net, new TrainingOptions { Epochs = 1, TruncationLength = k, Seed = 2 }).Fit(data);
            return net.Parameters.Values;
        }
        Assert.Equal(Train(null), Train(20));
        Assert.NotEqual(Train(null), Train(5));
    }

    [Fact]
    public void SameSeedGivesBitIdenticalWeights()
    {
        var data = SyntheticTasks.AddingProblem(200, 15, seed: 3);
        var spec = new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.RandomizedLeakyRelu, InputSize = 2, HiddenSizes = [8, 6] };
        float[] Train(int seed)
        {
            var net = new RecurrentNetwork(spec, seed: 1);
            new RecurrentTrainer(net, new TrainingOptions { Epochs = 3, BatchSize = 16, Seed = seed, ValidationFraction = 0.2f }).Fit(data);
            return net.Parameters.Values;
        }
        Assert.Equal(Train(7), Train(7));
        Assert.NotEqual(Train(7), Train(8));
    }

    [Fact]
    public void EarlyStoppingRestoresTheWeightsOfTheBestValidationEpoch()
    {
        // A tiny training set and a large learning rate overfit quickly, so validation loss turns upward.
        var all = SyntheticTasks.AddingProblem(80, 10, seed: 5);
        var net = new RecurrentNetwork(Lstm(hidden: 16), seed: 2);
        var report = new RecurrentTrainer(net, new TrainingOptions
        {
            Epochs = 200, BatchSize = 8, ValidationFraction = 0.5f, EarlyStoppingPatience = 5, Seed = 1,
            Optimizer = new OptimizerOptions { LearningRate = 3e-2f },
        }).Fit(all);

        Assert.True(report.StoppedEarly);
        Assert.True(report.RestoredBestWeights);
        Assert.Equal(report.BestEpoch + 5 + 1, report.Epochs.Count);
        Assert.Equal(report.BestValidationLoss, report.Epochs.Min(e => e.ValidationLoss));
        // The final weights are the best epoch's: recomputing the validation loss gives the best value.
        var validation = all.Slice(40, 40);
        var ws = net.CreateWorkspace(10, 40, 1);
        MLNetRnn.Core.Network.Batching.ToTimeMajor(validation.Inputs, ws.Input, 40, 10, 2);
        validation.Targets.CopyTo(ws.Targets, 0);
        net.Forward(ws, 10, 40, 1);
        Assert.Equal(report.BestValidationLoss, net.Loss(ws, 40, 1, LossKind.MeanSquaredError), 12);
    }

    [Fact]
    public void NonFiniteStepIsSkippedCountedAndTrainingContinues()
    {
        // One window has a target at float's edge: its loss gradient overflows to ∞, so that step is skipped.
        var data = SyntheticTasks.AddingProblem(16, 6, seed: 1);
        data.Targets[5] = 3e38f;
        var net = new RecurrentNetwork(Lstm(), seed: 1);
        var report = new RecurrentTrainer(net, new TrainingOptions { Epochs = 3, BatchSize = 1, Shuffle = false }).Fit(data);
        Assert.Equal(3, report.SkippedSteps);
        Assert.Equal(3 * 15, report.StepsTaken);
        Assert.All(report.Epochs, e => Assert.Equal(1, e.SkippedSteps));
        Assert.All(net.Parameters.Values, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void PersistentNonFiniteGradientStopsTrainingWithClearException()
    {
        var data = SyntheticTasks.AddingProblem(16, 6, seed: 1);
        var net = new RecurrentNetwork(Lstm(), seed: 1);
        net.Parameters.Value(net.Parameters["head.bias"])[0] = float.PositiveInfinity;
        var ex = Assert.Throws<TrainingDivergedException>(() =>
            new RecurrentTrainer(net, new TrainingOptions { Epochs = 3, BatchSize = 4, MaxConsecutiveNonFiniteSteps = 3 }).Fit(data));
        Assert.Contains("epoch 0", ex.Message);
        Assert.Contains("3 steps in a row", ex.Message);
    }

    [Fact]
    public void CancellationStopsTrainingAndProgressReportsEveryEpoch()
    {
        var data = SyntheticTasks.AddingProblem(64, 8, seed: 1);
        var net = new RecurrentNetwork(Lstm(), seed: 1);
        var seen = new List<int>();
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            seen.Add(p.Epoch);
            Assert.True(double.IsFinite(p.Summary.TrainingLoss) && p.Summary.MeanGradientNorm > 0);
            if (p.Epoch == 2) cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() =>
            new RecurrentTrainer(net, new TrainingOptions { Epochs = 50 }).Fit(data, progress: progress, cancellationToken: cts.Token));
        Assert.Equal([0, 1, 2], seen);
    }

    [Fact]
    public void ReportRecordsNormsBeforeAndAfterClippingForEveryStep()
    {
        var data = SyntheticTasks.AddingProblem(100, 10, seed: 1);
        var net = new RecurrentNetwork(Lstm(), seed: 1);
        var report = new RecurrentTrainer(net, new TrainingOptions { Epochs = 4, BatchSize = 10, GradientClippingThreshold = 0.05f }).Fit(data);
        Assert.Equal(40, report.GradientNorms.Count);
        for (int i = 0; i < 40; i++)
        {
            float before = report.GradientNorms.Before[i], after = report.GradientNorms.After[i];
            Assert.Equal(Math.Min(before, 0.05f), after, 1e-5f);
        }
        Assert.Equal(10, report.BackwardSignal(3).Length);
        Assert.All(report.BackwardSignal(3).ToArray(), v => Assert.True(v > 0));
    }

    private static double TestMse(RecurrentNetwork net, SequenceDataset test)
    {
        var pred = net.Predict(test.Inputs, test.Count, test.Steps);
        double mse = 0;
        for (int i = 0; i < test.Count; i++) mse += Math.Pow(pred[i] - test.Targets[i], 2);
        return mse / test.Count;
    }
}

/// <summary>IProgress that runs its callback on the reporting thread (Progress&lt;T&gt; posts to the pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

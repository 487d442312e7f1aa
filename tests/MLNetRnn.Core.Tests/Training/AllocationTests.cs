using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>Everything a training step touches is allocated when the run starts; an epoch allocates nothing.</summary>
public sealed class AllocationTests
{
    public static TheoryData<string, RecurrentNetworkSpec, TrainingOptions> Configurations() => new()
    {
        { "lstm-adam-validation", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 2, HiddenSizes = [16, 8] }, new TrainingOptions { ValidationFraction = 0.25f } },
        { "gru-layernorm-truncated", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [16], LayerNormalization = true }, new TrainingOptions { TruncationLength = 5 } },
        { "elman-rrelu-omega-sgd", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.RandomizedLeakyRelu, InputSize = 2, HiddenSizes = [16] },
            new TrainingOptions { VanishingRegularizerWeight = 0.5f, GradientClipping = GradientClippingMode.Value, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.01f, Momentum = 0.9f, Nesterov = true } } },
        { "elman-tanh-rmsprop-cosine", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, InputSize = 2, HiddenSizes = [16] },
            new TrainingOptions { Optimizer = new OptimizerOptions { Kind = OptimizerKind.RmsProp }, LearningRateSchedule = new LearningRateSchedule { Kind = LearningRateScheduleKind.Cosine } } },
        { "lstm-dilated-residual-truncated", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 2, HiddenSizes = [8, 8, 8], Dilations = [1, 3, 5], ResidualConnections = true },
            new TrainingOptions { TruncationLength = 7, ValidationFraction = 0.25f } },
        { "gru-dilated", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [16, 8], Dilations = [2, 4] }, new TrainingOptions() },
        { "gru-weight-averaging-validation", new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [16] }, new TrainingOptions { WeightAveraging = 0.9f, ValidationFraction = 0.25f } },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void WindowedTrainingEpochDoesNotAllocate(string name, RecurrentNetworkSpec spec, TrainingOptions options)
    {
        var data = SyntheticTasks.AddingProblem(100, 12, seed: 1);
        var net = new RecurrentNetwork(spec, seed: 1);
        var session = new RecurrentTrainer(net, options with { Epochs = 6, BatchSize = 16 }).CreateWindowedSession(data, null);
        int sinceBest = 0;
        // JIT and tiering out of the way: one epoch was not always enough for the dilated case while the whole suite ran.
        for (int epoch = 0; epoch < 5; epoch++) session.RunEpoch(epoch, CancellationToken.None, ref sinceBest);
        long before = GC.GetAllocatedBytesForCurrentThread();
        session.RunEpoch(5, CancellationToken.None, ref sinceBest);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{name}: an epoch allocated {allocated} bytes.");
    }

    [Fact]
    public void StreamingTrainingEpochDoesNotAllocate()
    {
        var rng = new Random(1);
        var x = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 200).Select(_ => rng.NextSingle()).ToArray()).ToArray();
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 1, HiddenSizes = [8] }, seed: 1);
        var session = new StreamingSession(net, new TrainingOptions { Epochs = 3 }, new StreamingDataset(x, x, 1, 1),
            new StreamingOptions { Streams = 6, TruncationInterval = 7, TruncationLength = 12 }, new StreamingDataset(x, x, 1, 1));
        int sinceBest = 0;
        session.RunEpoch(0, CancellationToken.None, ref sinceBest);
        long before = GC.GetAllocatedBytesForCurrentThread();
        session.RunEpoch(1, CancellationToken.None, ref sinceBest);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(256, false)]
    [InlineData(1, true)]
    [InlineData(256, true)]
    public void ForecastThroughInferenceWorkspaceDoesNotAllocate(int count, bool dilatedResidual)
    {
        // The small LSTM of the inference benchmark: 1 input, 32 hidden, T = 48, linear head; or two such layers,
        // dilated 1 and 12, with a residual connection.
        var spec = dilatedResidual
            ? new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 1, HiddenSizes = [32, 32], Dilations = [1, 12], ResidualConnections = true }
            : new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 1, HiddenSizes = [32] };
        var net = new RecurrentNetwork(spec, seed: 1);
        var ws = net.CreateInferenceWorkspace(48);
        var rng = new Random(2);
        var x = Enumerable.Range(0, count * 48).Select(_ => rng.NextSingle()).ToArray();
        var y = new float[count];
        // JIT, tiering and the thread's GEMM scratch; the two-layer case has more methods to tier up (one flaky run under load at 50)
        for (int i = 0; i < (dilatedResidual ? 200 : 50); i++) net.Predict(ws, x, count, 48, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) net.Predict(ws, x, count, 48, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{count} forecasts allocated {allocated} bytes over 20 calls.");
    }
}

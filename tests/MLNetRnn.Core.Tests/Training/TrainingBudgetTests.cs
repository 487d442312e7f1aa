using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>The trainer's budgets end a run where they say, and say so; initial weights can win early stopping.</summary>
public sealed class TrainingBudgetTests
{
    private static RecurrentNetwork Net(bool zeroHead = false) => new(new RecurrentNetworkSpec
    {
        Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [8], OutputSize = 1,
        Initialization = zeroHead ? new InitializationSpec { HeadWeights = InitializerKind.Zeros } : InitializationSpec.Default,
    }, seed: 1);

    private static SequenceDataset Adding(int count, int seed) => SyntheticTasks.AddingProblem(count, steps: 10, seed: seed);

    [Fact]
    public void SamplesPerEpochDrawsThatManyWindowsPerEpoch()
    {
        var report = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 3, BatchSize = 10, SamplesPerEpoch = 30 }).Fit(Adding(500, 1));
        Assert.Equal(9, report.StepsTaken);   // 3 epochs × 30 windows / 10 per batch, not 3 × 50
    }

    [Fact]
    public void SamplesPerEpochVisitsEveryWindowEquallyOften()
    {
        // 4 epochs of 25 windows over 50 windows: two full shuffled passes, so the same steps as 2 plain epochs.
        var sampled = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 4, BatchSize = 25, SamplesPerEpoch = 25 }).Fit(Adding(50, 2));
        var plain = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 2, BatchSize = 25 }).Fit(Adding(50, 2));
        Assert.Equal(plain.StepsTaken, sampled.StepsTaken);
    }

    [Fact]
    public void MaximumStepsEndsTheRunThere()
    {
        var report = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 100, BatchSize = 10, MaximumSteps = 17 }).Fit(Adding(100, 3));
        Assert.Equal(17, report.StepsTaken);
        Assert.Equal(TrainingStop.StepLimit, report.StoppedBy);
        Assert.Equal(17, report.GradientNorms.Count);
    }

    [Fact]
    public void TimeLimitEndsTheRunAfterTheEpochThatCrossesIt()
    {
        var report = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 100_000, BatchSize = 10, TimeLimit = TimeSpan.FromMilliseconds(1) }).Fit(Adding(50, 4));
        Assert.Equal(TrainingStop.TimeLimit, report.StoppedBy);
        Assert.True(report.Epochs.Count < 100_000);
    }

    [Fact]
    public void LastProgressReportSaysWhatEndedTheRun()
    {
        var reports = new List<TrainingProgress>();
        new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 5, BatchSize = 10, MaximumSteps = 12 }).Fit(Adding(50, 5), null, new Collect(reports));
        Assert.All(reports.SkipLast(1), r => Assert.Null(r.StoppedBy));
        Assert.Equal(TrainingStop.StepLimit, reports[^1].StoppedBy);
    }

    [Fact]
    public void InitialWeightsWinWhenNoEpochBeatsThem()
    {
        // A zero head outputs 0 everywhere; with targets 0 that is perfect, and a huge learning rate only makes it worse.
        var train = new SequenceDataset(Adding(60, 6).Inputs, new float[60], 60, 10, 2, 1);
        var validation = new SequenceDataset(Adding(20, 7).Inputs, new float[20], 20, 10, 2, 1);
        var net = Net(zeroHead: true);
        var before = net.Parameters.Values.ToArray();
        var report = new RecurrentTrainer(net, new TrainingOptions
        {
            Epochs = 5, BatchSize = 10, EarlyStoppingPatience = 3, KeepInitialWeightsIfBest = true,
            Optimizer = new OptimizerOptions { LearningRate = 0.5f }, GradientClipping = GradientClippingMode.None,
        }).Fit(train, validation);
        Assert.Equal(-1, report.BestEpoch);
        Assert.Equal(0, report.InitialValidationLoss);
        Assert.Equal(before, net.Parameters.Values.ToArray());
    }

    [Fact]
    public void BudgetsOutOfRangeAreNamed()
    {
        var spec = Net().Spec;
        Assert.Contains("SamplesPerEpoch", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { SamplesPerEpoch = 0 }.Validate(spec)).Message);
        Assert.Contains("MaximumSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { MaximumSteps = 0 }.Validate(spec)).Message);
        Assert.Contains("TimeLimit", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { TimeLimit = TimeSpan.Zero }.Validate(spec)).Message);
    }

    private sealed class Collect(List<TrainingProgress> into) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => into.Add(value);
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>A fresh batch per step (a generator source) and the per-step callback.</summary>
public sealed class FreshBatchTests
{
    private static RecurrentNetwork Net() => new(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 2, HiddenSizes = [16] }, seed: 0);

    /// <summary>An endless adding-problem generator that refills one dataset: no allocation per batch.</summary>
    private static IEnumerable<SequenceDataset> Batches(int B, int T, int seed, Action? onYield = null)
    {
        var buffer = SyntheticTasks.AddingProblem(B, T, seed);
        for (int k = 1; ; k++)
        {
            onYield?.Invoke();
            yield return buffer;
            var next = SyntheticTasks.AddingProblem(B, T, seed + k);
            next.Inputs.CopyTo(buffer.Inputs, 0);
            next.Targets.CopyTo(buffer.Targets, 0);
        }
    }

    [Fact]
    public void GeneratedBatchesTrainOneStepPerBatchForEpochsTimesStepsPerEpoch()
    {
        int yielded = 0;
        var trainer = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 6, Optimizer = new OptimizerOptions { LearningRate = 1e-2f } });
        var validation = SyntheticTasks.AddingProblem(300, 10, seed: 999);
        var report = trainer.FitBatches(Batches(32, 10, 1, () => yielded++), stepsPerEpoch: 25, validation);
        Assert.Equal(150, report.StepsTaken);
        Assert.Equal(150, yielded);   // the configured epochs end the run: no batch is asked for beyond the last step
        Assert.Equal(6, report.Epochs.Count);
        Assert.True(report.Epochs[^1].ValidationLoss < 0.5 * report.Epochs[0].ValidationLoss,
            $"fresh data every step should teach the task: validation {report.Epochs[0].ValidationLoss:F4} → {report.Epochs[^1].ValidationLoss:F4}");
    }

    [Fact]
    public void AFiniteSourceEndsTrainingWhenItRunsOut()
    {
        var trainer = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 100 });
        var report = trainer.FitBatches(Batches(8, 5, 1).Take(23), stepsPerEpoch: 10);
        Assert.Equal(23, report.StepsTaken);
        Assert.Equal(3, report.Epochs.Count);
        Assert.False(report.StoppedEarly);
    }

    [Fact]
    public void ABatchOfAnotherShapeIsRefusedWithItsIndex()
    {
        var trainer = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 1 });
        var batches = new[] { SyntheticTasks.AddingProblem(8, 5, 1), SyntheticTasks.AddingProblem(8, 5, 2), SyntheticTasks.AddingProblem(8, 7, 3) };
        var ex = Assert.Throws<ArgumentException>(() => trainer.FitBatches(batches, stepsPerEpoch: 5));
        Assert.Contains("batches[2]", ex.Message);
        Assert.Contains("T=7", ex.Message);
        Assert.Throws<ArgumentException>(() => trainer.FitBatches([], stepsPerEpoch: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.FitBatches(batches, stepsPerEpoch: 0));
    }

    [Fact]
    public void StepCallbackSeesEveryStepAsTheReportRecordsIt()
    {
        var steps = new List<TrainingStep>();
        var data = SyntheticTasks.AddingProblem(100, 8, seed: 1);
        var trainer = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 3, BatchSize = 32, GradientClippingThreshold = 0.1f }) { StepCompleted = steps.Add };
        var report = trainer.Fit(data);
        Assert.Equal(report.GradientNorms.Count, steps.Count);
        for (int s = 0; s < steps.Count; s++)
        {
            Assert.Equal(s, steps[s].Step);
            Assert.Equal(s / 4, steps[s].Epoch);   // ⌈100 / 32⌉ = 4 steps per epoch
            Assert.Equal(report.GradientNorms.Before[s], (float)steps[s].GradientNormBefore);
            Assert.Equal(report.GradientNorms.After[s], (float)steps[s].GradientNormAfter);
            Assert.Equal(report.GradientNorms.Loss[s], (float)steps[s].Loss);
            Assert.Equal(0.1, steps[s].ClippingThreshold, 6);
            Assert.False(steps[s].Skipped);
        }
        Assert.Equal(4, report.StepsPerEpoch);
    }

    [Fact]
    public void StepCallbackCanStopAStudyThroughCancellation()
    {
        using var stop = new CancellationTokenSource();
        int seen = 0;
        var trainer = new RecurrentTrainer(Net(), new TrainingOptions { Epochs = 10 }) { StepCompleted = s => { if (++seen == 7) stop.Cancel(); } };
        Assert.Throws<OperationCanceledException>(() => trainer.FitBatches(Batches(8, 5, 1), stepsPerEpoch: 5, cancellationToken: stop.Token));
        Assert.Equal(7, seen);
    }
}

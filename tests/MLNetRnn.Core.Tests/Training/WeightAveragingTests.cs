using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary><see cref="TrainingOptions.WeightAveraging"/>: the moving average is what is validated and kept, and it
/// leaves the training itself untouched.</summary>
public sealed class WeightAveragingTests
{
    private static RecurrentNetwork Net() => new(new RecurrentNetworkSpec
    {
        Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [8], OutputSize = 1,
    }, seed: 1);

    private static SequenceDataset Adding(int count, int seed) => SyntheticTasks.AddingProblem(count, steps: 10, seed: seed);

    /// <summary>Trains, recording the trained weights after every step (the callback runs after the update).</summary>
    private static (TrainingReport Report, float[] Final, List<float[]> Trained, List<double> Losses) Train(TrainingOptions options, SequenceDataset? validation)
    {
        var net = Net();
        var trained = new List<float[]> { net.Parameters.Values.ToArray() };
        var losses = new List<double>();
        var trainer = new RecurrentTrainer(net, options)
        {
            StepCompleted = step => { trained.Add(net.Parameters.Values.ToArray()); losses.Add(step.Loss); },
        };
        var report = trainer.Fit(Adding(80, 1), validation);
        return (report, net.Parameters.Values.ToArray(), trained, losses);
    }

    /// <summary>The average after each step, computed here from the recorded weights, warm-up included.</summary>
    private static float[][] Averages(List<float[]> trained, float d)
    {
        var averages = new float[trained.Count][];
        averages[0] = trained[0].ToArray();
        for (int t = 1; t < trained.Count; t++)
        {
            float dt = Math.Min(d, (1f + t) / (10f + t));
            averages[t] = new float[trained[t].Length];
            for (int i = 0; i < trained[t].Length; i++)
                averages[t][i] = trained[t][i] + (averages[t - 1][i] - trained[t][i]) * dt;
        }
        return averages;
    }

    [Fact]
    public void WithoutValidationTheRunEndsWithTheAverageOfTheTrainedWeights()
    {
        const float d = 0.8f;
        var (_, final, trained, _) = Train(new TrainingOptions { Epochs = 6, BatchSize = 10, WeightAveraging = d }, null);
        var expected = Averages(trained, d)[^1];
        Assert.Equal(48, trained.Count - 1);
        for (int i = 0; i < final.Length; i++) Assert.Equal(expected[i], final[i], 1e-5f);
        Assert.NotEqual(trained[^1], final);   // the last step's weights are not what is kept
    }

    [Fact]
    public void EarlyStoppingJudgesAndRestoresTheAverageAtTheBestEpoch()
    {
        const float d = 0.9f;
        var (report, final, trained, _) = Train(new TrainingOptions { Epochs = 12, BatchSize = 10, WeightAveraging = d, EarlyStoppingPatience = 12 }, Adding(30, 2));
        Assert.True(report.BestEpoch >= 0);
        int stepsPerEpoch = 8;
        var expected = Averages(trained, d)[(report.BestEpoch + 1) * stepsPerEpoch];
        for (int i = 0; i < final.Length; i++) Assert.Equal(expected[i], final[i], 1e-5f);
        // The validation loss the report gives for the best epoch is the restored average's (measured here as the
        // initial loss of a run that starts from it).
        var check = Net();
        final.CopyTo(check.Parameters.Values, 0);
        var measured = new RecurrentTrainer(check, new TrainingOptions { Epochs = 1, BatchSize = 10, KeepInitialWeightsIfBest = true }).Fit(Adding(80, 1), Adding(30, 2));
        Assert.Equal(report.BestValidationLoss, measured.InitialValidationLoss, 1e-9);
    }

    [Fact]
    public void AveragingLeavesTheTrainingStepsUntouched()
    {
        var options = new TrainingOptions { Epochs = 6, BatchSize = 10, EarlyStoppingPatience = 6 };
        var plain = Train(options, Adding(30, 2));
        var averaged = Train(options with { WeightAveraging = 0.9f }, Adding(30, 2));
        Assert.Equal(plain.Losses, averaged.Losses);
        Assert.Equal(plain.Trained[^1], averaged.Trained[^1]);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void AnAverageDecayOutsideZeroToOneIsNamed(float d)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { WeightAveraging = d }.Validate(Net().Spec));
        Assert.Contains("WeightAveraging", e.Message);
    }
}

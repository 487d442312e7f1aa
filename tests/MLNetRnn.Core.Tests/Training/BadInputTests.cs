using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>Bad input is refused before any training, with an ArgumentException-family error that names the
/// parameter or option and what was expected.</summary>
public sealed class BadInputTests
{
    private static readonly RecurrentNetworkSpec Spec = new() { Cell = RecurrentCellKind.Lstm, InputSize = 2, HiddenSizes = [4] };

    private static void AssertNames<T>(Action act, string name) where T : ArgumentException
    {
        var ex = Assert.ThrowsAny<T>(act);
        Assert.True(ex.ParamName == name || ex.Message.Contains(name, StringComparison.Ordinal), $"'{ex.Message}' (param {ex.ParamName}) does not name {name}.");
    }

    [Fact]
    public void HiddenSizeZeroIsRefused() =>
        AssertNames<ArgumentOutOfRangeException>(() => new RecurrentNetwork(Spec with { HiddenSizes = [4, 0] }), "HiddenSizes");

    [Fact]
    public void NoLayersIsRefused() =>
        AssertNames<ArgumentException>(() => new RecurrentNetwork(Spec with { HiddenSizes = [] }), "HiddenSizes");

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public void ClippingThresholdMustBePositive(float threshold) =>
        AssertNames<ArgumentOutOfRangeException>(() => new RecurrentTrainer(new RecurrentNetwork(Spec), new TrainingOptions { GradientClippingThreshold = threshold }), "GradientClippingThreshold");

    [Fact]
    public void EmptySequenceIsRefused() =>
        AssertNames<ArgumentOutOfRangeException>(() => new SequenceDataset([], [1f], 1, 0, 2, 1), "steps");

    [Fact]
    public void MismatchedInputLengthIsRefused() =>
        AssertNames<ArgumentException>(() => new SequenceDataset(new float[10], new float[2], 2, 3, 2, 1), "inputs");

    [Fact]
    public void MismatchedTargetLengthIsRefused() =>
        AssertNames<ArgumentException>(() => new SequenceDataset(new float[12], new float[3], 2, 3, 2, 1, LossPlacement.AllSteps), "targets");

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteDataIsRefused(float bad)
    {
        var x = new float[12];
        x[7] = bad;
        AssertNames<ArgumentException>(() => new SequenceDataset(x, new float[2], 2, 3, 2, 1), "inputs");
        AssertNames<ArgumentException>(() => new StreamingDataset([x], [new float[6]], 2, 1), "inputs[0]");
    }

    [Fact]
    public void DataWithWrongFeatureCountIsRefusedBeforeTraining()
    {
        var data = SyntheticTasks.AddingProblem(8, 5, 1);
        var net = new RecurrentNetwork(Spec with { InputSize = 3 });
        AssertNames<ArgumentException>(() => new RecurrentTrainer(net).Fit(data), "InputSize");
    }

    [Fact]
    public void TruncationLongerThanTheWindowIsRefused()
    {
        var data = SyntheticTasks.AddingProblem(8, 5, 1);
        AssertNames<ArgumentOutOfRangeException>(() => new RecurrentTrainer(new RecurrentNetwork(Spec), new TrainingOptions { TruncationLength = 6 }).Fit(data), "TruncationLength");
        AssertNames<ArgumentOutOfRangeException>(() => new RecurrentTrainer(new RecurrentNetwork(Spec), new TrainingOptions { TruncationLength = 0 }), "TruncationLength");
    }

    [Theory]
    [InlineData(0, 5, "TruncationInterval")]
    [InlineData(3, 0, "TruncationLength")]
    [InlineData(4, 3, "TruncationLength")]
    [InlineData(5, 50, "TruncationLength")]
    public void StreamingTruncationOutOfRangeIsRefused(int k1, int k2, string name)
    {
        var series = new[] { new float[2 * 40] };
        var targets = new[] { new float[40] };
        var net = new RecurrentNetwork(Spec);
        AssertNames<ArgumentOutOfRangeException>(() => new RecurrentTrainer(net).FitStreaming(new StreamingDataset(series, targets, 2, 1),
            new StreamingOptions { Streams = 2, TruncationInterval = k1, TruncationLength = k2 }), name);
    }

    [Fact]
    public void SeriesTooShortForTheStreamsIsRefused()
    {
        var net = new RecurrentNetwork(Spec);
        AssertNames<ArgumentException>(() => new RecurrentTrainer(net).FitStreaming(
            new StreamingDataset([new float[2 * 3]], [new float[3]], 2, 1), new StreamingOptions { Streams = 4, TruncationInterval = 1, TruncationLength = 1 }), "train");
    }

    [Fact]
    public void RegularizerOnGatedCellIsRefused() =>
        AssertNames<ArgumentException>(() => new RecurrentTrainer(new RecurrentNetwork(Spec), new TrainingOptions { VanishingRegularizerWeight = 0.1f }), "VanishingRegularizerWeight");

    [Fact]
    public void EarlyStoppingWithoutValidationIsRefused() =>
        AssertNames<ArgumentException>(() => new RecurrentTrainer(new RecurrentNetwork(Spec), new TrainingOptions { EarlyStoppingPatience = 3 }).Fit(SyntheticTasks.AddingProblem(8, 5, 1)), "EarlyStoppingPatience");

    [Fact]
    public void WorkspaceRefusesALargerWindowNamingBothSizes()
    {
        var net = new RecurrentNetwork(Spec);
        var ws = net.CreateWorkspace(8, 4);
        var ex = Assert.Throws<InvalidOperationException>(() => net.Forward(ws, 9, 4, 1));
        Assert.Contains("T=8", ex.Message);
        Assert.Contains("T=9", ex.Message);
    }
}

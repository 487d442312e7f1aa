using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Diagnostics;

public sealed class ClippingThresholdSuggestionTests
{
    [Fact]
    public void SuggestionIsTheMedianOfTheFiniteNorms()
    {
        var s = ClippingThresholdSuggestion.FromNorms([3f, 1f, float.NaN, 2f, 4f, 1.5f]);
        // The NaN ends the reading (a runaway): median of 3, 1 → 2.
        Assert.Equal(2f, s.Threshold);
        Assert.Equal(2, s.StepsRead);
        Assert.Equal(1, s.NonFiniteSteps);

        var calm = ClippingThresholdSuggestion.FromNorms([3f, 1f, 2f, 4f, 1.5f, 2.5f]);
        Assert.Equal(2.25f, calm.Threshold);
        Assert.Equal(6, calm.StepsRead);
        Assert.Equal(0.5, calm.WarmupClipRate);
    }

    [Fact]
    public void SuggestionStopsReadingAtTheFirstSpike()
    {
        // Without clipping, a spike throws the weights off and every later norm describes the damage, not the model.
        var s = ClippingThresholdSuggestion.FromNorms([2f, 1f, 3f, 2f, 40f, 500f, 7000f, 9e4f]);
        Assert.Equal(4, s.StepsRead);
        Assert.Equal(2f, s.Threshold);
    }

    [Fact]
    public void SuggestLeavesTheNetworkUnchangedAndReadsTheRequestedSteps()
    {
        var train = SyntheticTasks.AddingProblem(200, 10, seed: 1);
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [6] }, seed: 3);
        var before = net.Parameters.Values.ToArray();
        var s = ClippingThresholdSuggestion.Suggest(net, train, new TrainingOptions { BatchSize = 32 }, warmupSteps: 30);
        Assert.Equal(before, net.Parameters.Values.ToArray());
        Assert.Equal(30, s.WarmupNorms.Length);
        Assert.True(s.Threshold > 0 && float.IsFinite(s.Threshold));
        Assert.Equal(GradientClippingMode.GlobalNorm, s.Apply(new TrainingOptions()).GradientClipping);
        Assert.Contains("τ =", s.ToString());
    }

    [Fact]
    public void SuggestRejectsATooShortWarmup()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { InputSize = 2, HiddenSizes = [4] });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ClippingThresholdSuggestion.Suggest(net, SyntheticTasks.AddingProblem(20, 5, 1), warmupSteps: 3));
        Assert.Equal("warmupSteps", ex.ParamName);
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>AutoClip and the suggested threshold: the percentile rule is exact, and both tame an exploding tanh RNN.</summary>
public sealed class AutoClipTests
{
    [Theory]
    [InlineData(50.0, new[] { 5.0, 3.0, 4.0, 3.0, 3.0 })]     // numpy: percentile([5],50)=5, ([5,1],50)=3, ([5,1,4])=4, ([5,1,4,2])=3, ([5,1,4,2,3])=3
    [InlineData(10.0, new[] { 5.0, 1.4, 1.6, 1.3, 1.4 })]     // rank 0.1·(n−1): 0 → 5; 0.1 → 1+0.1·4; 0.2 → 1+0.2·3; 0.3 → 1+0.3·1; 0.4 → 1+0.4·1
    [InlineData(100.0, new[] { 5.0, 5.0, 5.0, 5.0, 5.0 })]
    public void AutoClipPercentileMatchesNumpyOnAKnownSequence(double percentile, double[] expected)
    {
        float[] norms = [5f, 1f, 4f, 2f, 3f];
        var autoClip = new AutoClipThreshold(percentile, capacity: norms.Length);
        for (int s = 0; s < norms.Length; s++)
            Assert.Equal(expected[s], autoClip.Next(norms[s]), 6);
    }

    [Fact]
    public void AutoClipIgnoresNonFiniteNormsAndStartsUnbounded()
    {
        var autoClip = new AutoClipThreshold(10, capacity: 4);
        Assert.Equal(double.PositiveInfinity, autoClip.Next(double.NaN));
        Assert.Equal(2.0, autoClip.Next(2.0));
        Assert.Equal(2.0, autoClip.Next(double.PositiveInfinity));
        Assert.Equal(1, autoClip.Count);
    }

    [Fact]
    public void TrainerClipsEachStepAtThePercentileOfTheNormsSoFar()
    {
        // Independent reference: sort the norms seen so far (this step's included) and interpolate as numpy does.
        var train = SyntheticTasks.AddingProblem(256, 20, seed: 3);
        var options = new TrainingOptions { Epochs = 4, BatchSize = 16, GradientClipping = GradientClippingMode.AutoClip, AutoClipPercentile = 25f, Seed = 1 };
        var steps = new List<TrainingStep>();
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, InputSize = 2, HiddenSizes = [8] }, seed: 2);
        var report = new RecurrentTrainer(net, options) { StepCompleted = steps.Add }.Fit(train);

        Assert.Equal(report.GradientNorms.Count, steps.Count);
        var seen = new List<double>();
        int clipped = 0;
        for (int s = 0; s < steps.Count; s++)
        {
            seen.Add((float)steps[s].GradientNormBefore);
            var sorted = seen.Order().ToArray();
            double rank = 0.25 * (sorted.Length - 1);
            int lo = (int)Math.Floor(rank), hi = Math.Min(lo + 1, sorted.Length - 1);
            double expected = sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
            Assert.True(Math.Abs(expected - steps[s].ClippingThreshold) <= 1e-12 * expected, $"step {s}: threshold {steps[s].ClippingThreshold:R}, numpy's rule gives {expected:R}");
            double after = Math.Min(steps[s].GradientNormBefore, expected);
            Assert.Equal(after, steps[s].GradientNormAfter, 4);
            if (steps[s].GradientNormAfter != steps[s].GradientNormBefore) clipped++;
        }
        // Norms fall as training proceeds, so later steps sit below the early norms' percentile; some must still be cut.
        Assert.True(clipped >= 10, $"a 25th percentile should clip a good share of steps; clipped {clipped} of {steps.Count}");

        // The diagnostics replay the same thresholds from the recorded curve, bit for bit.
        var diagnostics = TrainingDiagnostics.From(report, net, options);
        for (int s = 0; s < steps.Count; s++) Assert.Equal((float)steps[s].ClippingThreshold, diagnostics.ClippingThreshold[s]);
    }

    [Fact]
    public void AutoClipPercentileOutOfRangeNamesTheOption()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, HiddenSizes = [4] });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentTrainer(net, new TrainingOptions { GradientClipping = GradientClippingMode.AutoClip, AutoClipPercentile = 0f }));
        Assert.Equal(nameof(TrainingOptions.AutoClipPercentile), ex.ParamName);
        // τ is not used by AutoClip, so it is not checked there.
        _ = new RecurrentTrainer(net, new TrainingOptions { GradientClipping = GradientClippingMode.AutoClip, GradientClippingThreshold = 0f });
    }

    // The exploding case: a tanh RNN whose W_hh starts orthogonal × 1.5 (σ₁ = 1.5 > 1/γ = 1), trained with plain SGD at
    // 0.05. Without clipping the gradient norm reaches ~1e5 and the loss jumps by orders of magnitude from epoch to epoch.
    private static readonly RecurrentNetworkSpec Exploding = new()
    {
        Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Tanh, InputSize = 2, HiddenSizes = [32],
        Initialization = new InitializationSpec { RecurrentGain = 1.5f },
    };

    private static TrainingOptions ExplodingOptions(GradientClippingMode mode) => new()
    {
        Epochs = 16, BatchSize = 32, GradientClipping = mode, Seed = 0, MaxConsecutiveNonFiniteSteps = 1000,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.05f },
    };

    private static (TrainingReport Report, double LateLoss) Train(TrainingOptions options, SequenceDataset train)
    {
        var report = new RecurrentTrainer(new RecurrentNetwork(Exploding, seed: 0), options).Fit(train);
        return (report, report.Epochs.TakeLast(4).Average(e => e.TrainingLoss));
    }

    [Fact]
    public void AutoClipAndSuggestedThresholdTameAnExplodingTanhRnn()
    {
        var train = SyntheticTasks.AddingProblem(512, 50, seed: 1);
        var (none, noneLoss) = Train(ExplodingOptions(GradientClippingMode.None), train);
        // An unclipped run that ends in NaN has not kept training at all: any finite loss is lower.
        if (!double.IsFinite(noneLoss)) noneLoss = double.PositiveInfinity;
        Assert.True(none.GradientNorms.Quantile(1) > 1e4, $"the case should explode without clipping; max ‖g‖ {none.GradientNorms.Quantile(1):G3}");

        var (auto, autoLoss) = Train(ExplodingOptions(GradientClippingMode.AutoClip), train);
        var suggestion = ClippingThresholdSuggestion.Suggest(new RecurrentNetwork(Exploding, seed: 0), train, ExplodingOptions(GradientClippingMode.None));
        var (suggested, suggestedLoss) = Train(suggestion.Apply(ExplodingOptions(GradientClippingMode.None)), train);

        foreach (var (name, report, loss) in new[] { ("AutoClip", auto, autoLoss), ("suggested τ", suggested, suggestedLoss) })
        {
            Assert.True(report.SkippedSteps == 0 && report.Epochs.All(e => double.IsFinite(e.TrainingLoss)), $"{name}: training must stay finite");
            Assert.True(loss < noneLoss / 2, $"{name}: mean loss of the last 4 epochs {loss:G4}; without clipping {noneLoss:G4}");
        }
        Assert.True(auto.GradientNorms.Quantile(1) < none.GradientNorms.Quantile(1), "AutoClip should keep the norm below the unclipped run's worst");
    }
}

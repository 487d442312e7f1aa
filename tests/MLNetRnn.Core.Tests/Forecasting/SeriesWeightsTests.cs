using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>The random-effects step that gives each series of a panel its own correction weight λ_s
/// (<see cref="CorrectionWeights.ShrinkSeriesWeights"/>).</summary>
public sealed class SeriesWeightsTests
{
    [Fact]
    public void SeriesThatDifferNoMoreThanTheirErrorsShareOneWeight()
    {
        var (weights, tau2, mean) = CorrectionWeights.ShrinkSeriesWeights([0.78, 0.83, 0.80, 0.81], [0.01, 0.01, 0.01, 0.01]);
        Assert.Equal(0, tau2);
        Assert.Equal(0.805f, mean, 1e-6f);
        Assert.All(weights, w => Assert.Equal(mean, w, 1e-6f));
    }

    [Fact]
    public void SeriesThatDifferWellBeyondTheirErrorsMoveToTheirOwnWeights()
    {
        double[] own = [0.1, 0.9, 0.2, 0.95];
        var (weights, tau2, _) = CorrectionWeights.ShrinkSeriesWeights(own, [1e-4, 1e-4, 1e-4, 1e-4]);
        Assert.True(tau2 > 0.1, $"τ² = {tau2}");
        for (int j = 0; j < own.Length; j++) Assert.InRange(weights[j], own[j] - 0.01, own[j] + 0.01);
    }

    [Fact]
    public void AnImpreciseSeriesStaysNearThePanelMeanWhilePreciseOnesMove()
    {
        var (weights, _, mean) = CorrectionWeights.ShrinkSeriesWeights([0.1, 0.9, 0.2, 0.95, 0.0], [1e-4, 1e-4, 1e-4, 1e-4, 100]);
        Assert.InRange(mean, 0.53f, 0.54f);        // the four precise series' mean, 0.5375: the imprecise one barely counts
        Assert.InRange(weights[4], mean - 0.01f, mean);
        Assert.InRange(weights[0], 0.09f, 0.11f);
    }

    [Fact]
    public void WithASpreadBetweenSeriesOnePreciseSeriesDoesNotSetThePanelMean()
    {
        // Three series want little correction, one very precise series wants it all. Weighted by precision alone
        // (the fixed-effect mean) that one series decides; as draws from a panel with spread τ², each counts alike.
        double[] own = [0.1, 0.2, 0.15, 1.0];
        double[] variance = [0.01, 0.01, 0.01, 1e-6];
        double fixedMean = own.Zip(variance, (l, v) => l / v).Sum() / variance.Sum(v => 1 / v);
        var (_, tau2, mean) = CorrectionWeights.ShrinkSeriesWeights(own, variance);
        Assert.True(fixedMean > 0.99, $"fixed-effect mean {fixedMean}");
        Assert.True(tau2 > 0.05, $"τ² = {tau2}");
        Assert.InRange(mean, 0.3f, 0.45f);
    }

    [Fact]
    public void WeightsOutsideZeroToOneAreClamped()
    {
        var (weights, _, mean) = CorrectionWeights.ShrinkSeriesWeights([-0.5, 1.7, 0.5], [1e-4, 1e-4, 1e-4]);
        Assert.Equal(0f, weights[0]);
        Assert.Equal(1f, weights[1]);
        Assert.Equal(0.5f, weights[2], 1e-3f);
        Assert.Equal(0.5666667f, mean, 1e-5f);
    }

    [Property(MaxTest = 300)]
    public bool EachWeightLiesBetweenThePanelMeanAndItsOwnEstimateInZeroToOne(NormalFloat[] lambdas, PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        double[] own = lambdas.Take(20).Select(x => Math.Clamp(x.Get, -5, 5)).ToArray();
        if (own.Length < 2) return true;
        double[] variance = own.Select(_ => Math.Exp(rng.NextDouble() * 10 - 7)).ToArray();
        var (weights, tau2, mean) = CorrectionWeights.ShrinkSeriesWeights(own, variance);
        // The panel mean is a weighted mean of the estimates, clamped to [0, 1].
        bool ok = tau2 >= 0 && mean >= Math.Clamp(own.Min(), 0, 1) - 1e-6 && mean <= Math.Clamp(own.Max(), 0, 1) + 1e-6;
        for (int j = 0; j < own.Length; j++)
        {
            double lo = Math.Clamp(Math.Min(mean, own[j]), 0, 1) - 1e-5, hi = Math.Clamp(Math.Max(mean, own[j]), 0, 1) + 1e-5;
            ok &= weights[j] >= lo && weights[j] <= hi;
        }
        return ok;
    }
}

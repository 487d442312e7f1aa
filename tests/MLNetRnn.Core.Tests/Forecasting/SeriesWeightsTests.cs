using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>The random-effects step that gives each series of a panel its own correction weight λ_s
/// (<see cref="ForecastModel.ShrinkSeriesWeights"/>).</summary>
public sealed class SeriesWeightsTests
{
    [Fact]
    public void SeriesThatDifferNoMoreThanTheirErrorsKeepThePanelsWeight()
    {
        var (weights, tau2) = ForecastModel.ShrinkSeriesWeights([0.78, 0.83, 0.80, 0.81], [0.01, 0.01, 0.01, 0.01], panel: 0.8f);
        Assert.Equal(0, tau2);
        Assert.All(weights, w => Assert.Equal(0.8f, w));
    }

    [Fact]
    public void SeriesThatDifferWellBeyondTheirErrorsMoveToTheirOwnWeights()
    {
        double[] own = [0.1, 0.9, 0.2, 0.95];
        var (weights, tau2) = ForecastModel.ShrinkSeriesWeights(own, [1e-4, 1e-4, 1e-4, 1e-4], panel: 0.55f);
        Assert.True(tau2 > 0.1, $"τ² = {tau2}");
        for (int j = 0; j < own.Length; j++) Assert.InRange(weights[j], own[j] - 0.01, own[j] + 0.01);
    }

    [Fact]
    public void AnImpreciseSeriesStaysNearThePanelWhilePreciseOnesMove()
    {
        var (weights, _) = ForecastModel.ShrinkSeriesWeights([0.1, 0.9, 0.2, 0.95, 0.0], [1e-4, 1e-4, 1e-4, 1e-4, 100], panel: 0.6f);
        Assert.InRange(weights[4], 0.59f, 0.6f);
        Assert.InRange(weights[0], 0.09f, 0.11f);
    }

    [Fact]
    public void WeightsOutsideZeroToOneAreClamped()
    {
        var (weights, _) = ForecastModel.ShrinkSeriesWeights([-0.5, 1.7, 0.5], [1e-4, 1e-4, 1e-4], panel: 0.5f);
        Assert.Equal([0f, 1f, 0.5f], weights);
    }

    [Property(MaxTest = 300)]
    public bool EachWeightLiesBetweenThePanelsAndItsOwnEstimateInZeroToOne(NormalFloat[] lambdas, PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        double[] own = lambdas.Take(20).Select(x => Math.Clamp(x.Get, -5, 5)).ToArray();
        if (own.Length < 2) return true;
        double[] variance = own.Select(_ => Math.Exp(rng.NextDouble() * 10 - 7)).ToArray();
        float panel = (float)rng.NextDouble();
        var (weights, tau2) = ForecastModel.ShrinkSeriesWeights(own, variance, panel);
        bool ok = tau2 >= 0;
        for (int j = 0; j < own.Length; j++)
        {
            double lo = Math.Clamp(Math.Min(panel, own[j]), 0, 1) - 1e-6, hi = Math.Clamp(Math.Max(panel, own[j]), 0, 1) + 1e-6;
            ok &= weights[j] >= lo && weights[j] <= hi;
        }
        return ok;
    }
}

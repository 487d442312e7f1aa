using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Tests.Forecasting.Baselines;

/// <summary>The season is found where it is, recovered as it was built, and left alone where it is not.</summary>
public sealed class SeasonalDecompositionTests
{
    private static readonly float[] Season = [0.7f, 0.9f, 1.0f, 1.2f, 1.4f, 1.3f, 1.1f, 1.0f, 0.9f, 0.85f, 0.8f, 0.85f];

    private static float[] Noise(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(scale * (rng.NextDouble() - 0.5))).ToArray();
    }

    [Fact]
    public void TestFindsAStrongSeasonAndNotWhiteNoise()
    {
        var seasonal = Enumerable.Range(0, 96).Select(t => 100f * Season[t % 12]).ToArray();
        Assert.True(SeasonalityTest.IsSeasonal(seasonal, 12));
        Assert.False(SeasonalityTest.IsSeasonal(Noise(96, 1, 10), 12));
    }

    [Fact]
    public void TestNeedsThreeSeasonsAndAVaryingSeries()
    {
        var seasonal = Enumerable.Range(0, 35).Select(t => 100f * Season[t % 12]).ToArray();
        Assert.False(SeasonalityTest.IsSeasonal(seasonal, 12));            // 35 < 3·12
        Assert.False(SeasonalityTest.IsSeasonal(Enumerable.Repeat(4f, 60).ToArray(), 12));
        Assert.False(SeasonalityTest.IsSeasonal(seasonal, 1));
    }

    [Fact]
    public void MultiplicativeIndicesAreRecoveredUnderATrend()
    {
        var x = Enumerable.Range(0, 120).Select(t => (100f + 2f * t) * Season[t % 12]).ToArray();
        var d = SeasonalDecomposition.Fit(x, 12, SeasonalAdjustment.Auto);
        Assert.Equal(SeasonalAdjustment.Multiplicative, d.Kind);
        double mean = Season.Average();
        // A centred average of a trend times a season is not exactly the trend, so classical decomposition is off by
        // about a percent here; what matters is that the shape comes back.
        for (int p = 0; p < 12; p++) Assert.InRange(d.Indices[p], 0.98 * Season[p] / mean, 1.02 * Season[p] / mean);
        Assert.Equal(1.0, d.Indices.Average(), 5);
    }

    [Fact]
    public void ASeriesThatCrossesZeroGetsAnAdditiveSeason()
    {
        float[] offsets = [-3, -1, 2, 4, 1, -3];
        var x = Enumerable.Range(0, 60).Select(t => 0.1f * t - 2 + offsets[t % 6]).ToArray();
        var d = SeasonalDecomposition.Fit(x, 6, SeasonalAdjustment.Auto);
        Assert.Equal(SeasonalAdjustment.Additive, d.Kind);
        for (int p = 0; p < 6; p++) Assert.Equal(offsets[p] - offsets.Average(), d.Indices[p], 2);
        Assert.Throws<ArgumentException>(() => SeasonalDecomposition.Fit(x, 6, SeasonalAdjustment.Multiplicative));
    }

    [Fact]
    public void NoSignificantSeasonMeansNoAdjustment()
    {
        var x = Noise(120, 2, 5).Select(v => 40 + v).ToArray();
        var d = SeasonalDecomposition.Fit(x, 12, SeasonalAdjustment.Auto);
        Assert.Equal(SeasonalAdjustment.None, d.Kind);
        Assert.Equal(x[17], d.Deseasonalize(x[17], 17));
    }

    [Theory]
    [InlineData(SeasonalAdjustment.Multiplicative)]
    [InlineData(SeasonalAdjustment.Additive)]
    public void AdjustingAndReseasonalisingAreInverse(SeasonalAdjustment kind)
    {
        var noise = Noise(72, 3, 8);
        var x = Enumerable.Range(0, 72).Select(t => 150f * Season[t % 12] + noise[t]).ToArray();
        var d = SeasonalDecomposition.Fit(x, 12, kind);
        Assert.Equal(kind, d.Kind);
        for (long t = 0; t < 200; t += 7) Assert.Equal(123.5f, d.Reseasonalize(d.Deseasonalize(123.5f, t), t), 3);
    }
}

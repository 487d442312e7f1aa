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

    // Hourly, a daily profile times a day-of-week factor (the weekend at 60%), plus noise: the week of 168 indices is
    // exactly nested in the day.
    private static (float[] Values, double[] Truth) NestedWeek(int weeks, int seed, bool multiplicative)
    {
        var rng = new Random(seed);
        var truth = new double[168];
        for (int p = 0; p < 168; p++)
        {
            double day = 1 + 0.4 * Math.Sin(2 * Math.PI * p / 24), week = p / 24 >= 5 ? 0.6 : 1.16;
            truth[p] = multiplicative ? day * week : 30 * (day - 1) + 40 * (week - 1);
        }
        double mean = truth.Average();
        for (int p = 0; p < 168; p++) truth[p] = multiplicative ? truth[p] / mean : truth[p] - mean;
        var values = Enumerable.Range(0, weeks * 168).Select(t =>
            (float)(multiplicative ? 100 * truth[t % 168] * (1 + 0.15 * (rng.NextDouble() - 0.5)) : 100 + truth[t % 168] + 12 * (rng.NextDouble() - 0.5))).ToArray();
        return (values, truth);
    }

    private static double Rmse(IReadOnlyList<float> indices, double[] truth) => Math.Sqrt(truth.Select((v, p) => (indices[p] - v) * (indices[p] - v)).Average());

    [Theory]
    [InlineData(SeasonalAdjustment.Multiplicative)]
    [InlineData(SeasonalAdjustment.Additive)]
    public void AWeekNestedInADayIsEstimatedCloserThanItsOwnIndicesAlone(SeasonalAdjustment kind)
    {
        // Five and a half weeks (M4 hourly's 960 values): each of 168 indices is the mean of five noisy ratios, while
        // the nested season pools the day's 24 positions over 40 days and each weekday over its hours.
        var (x, truth) = NestedWeek(weeks: 6, seed: 5, kind == SeasonalAdjustment.Multiplicative);
        var alone = SeasonalDecomposition.Fit(x, 168, kind);
        var nested = SeasonalDecomposition.Fit(x, 168, kind, nestedIn: 24);
        Assert.Equal(kind, nested.Kind);
        Assert.Equal(168, nested.Period);
        Assert.InRange(Rmse(nested.Indices, truth), 0, 0.75 * Rmse(alone.Indices, truth));
        Assert.Equal(kind == SeasonalAdjustment.Multiplicative ? 1.0 : 0.0, nested.Indices.Average(), 4);
    }

    [Fact]
    public void AWeekThatIsNotNestedKeepsHalfOfItsOwnShape()
    {
        // One hour of each Monday at three times its level: the nested season cannot carry it, so only the week's own
        // indices do; shrinking halfway keeps about half the spike, where the nested season alone would lose it.
        var values = Enumerable.Range(0, 6 * 168).Select(t => (float)(100 * (1 + 0.4 * Math.Sin(2 * Math.PI * t / 24)) * (t % 168 == 10 ? 3 : 1))).ToArray();
        var alone = SeasonalDecomposition.Fit(values, 168, SeasonalAdjustment.Multiplicative);
        var nested = SeasonalDecomposition.Fit(values, 168, SeasonalAdjustment.Multiplicative, nestedIn: 24);
        float neighbour = alone.Indices[10 + 24];                      // the same hour on Tuesday
        Assert.InRange(nested.Indices[10] - neighbour, 0.35 * (alone.Indices[10] - neighbour), 0.65 * (alone.Indices[10] - neighbour));
    }

    [Theory]
    [InlineData(new[] { 24, 168 }, 168, 24)]
    [InlineData(new[] { 24, 168 }, 24, 1)]
    [InlineData(new[] { 12, 24, 168 }, 168, 24)]
    [InlineData(new[] { 7, 365 }, 365, 1)]
    [InlineData(new[] { 1, 12 }, 12, 1)]
    [InlineData(new[] { 4, 12 }, 12, 4)]
    public void APeriodNestsInTheLongestShorterCandidateThatDividesIt(int[] periods, int period, int expected)
        => Assert.Equal(expected, SeasonalDecomposition.NestedIn(periods, period));

    [Fact]
    public void NestingInOneOrANonDivisorChangesNothing()
    {
        var (x, _) = NestedWeek(weeks: 4, seed: 2, multiplicative: true);
        var alone = SeasonalDecomposition.Fit(x, 168, SeasonalAdjustment.Multiplicative);
        Assert.Equal(alone.Indices, SeasonalDecomposition.Fit(x, 168, SeasonalAdjustment.Multiplicative, nestedIn: 1).Indices);
        Assert.Equal(alone.Indices, SeasonalDecomposition.Fit(x, 168, SeasonalAdjustment.Multiplicative, nestedIn: 25).Indices);
    }
}

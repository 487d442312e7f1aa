using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Tests.Forecasting.Baselines;

/// <summary>The statistical bases forecast what their definitions say, from any origin, and survive a round trip.</summary>
public sealed class BaselineTests
{
    private static float[] Forecast(Baseline b, float[] history, int h)
    {
        var state = new double[b.StateSize];
        b.ObserveAll(state, history);
        var f = new float[h];
        b.Forecast(state, history, history.Length, f, new float[h]);
        return f;
    }

    private static float[] Noise(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(scale * (rng.NextDouble() - 0.5))).ToArray();
    }

    [Fact]
    public void NaiveRepeatsTheLastValue()
    {
        float[] x = [3, 5, 4, 7, 6];
        var f = Forecast(Baseline.Fit(x, 1, SeasonalAdjustment.None, [BaselineMethod.Naive]), x, 4);
        Assert.All(f, v => Assert.Equal(6f, v));
    }

    [Fact]
    public void DriftFollowsTheLineThroughFirstAndLastValue()
    {
        float[] x = [10, 13, 11, 16, 18];   // slope (18 − 10)/4 = 2
        var f = Forecast(Baseline.Fit(x, 1, SeasonalAdjustment.None, [BaselineMethod.Drift]), x, 3);
        Assert.Equal([20f, 22f, 24f], f);
    }

    [Fact]
    public void SeasonalNaiveRepeatsTheLastSeason()
    {
        float[] x = [1, 2, 3, 4, 10, 20, 30, 40];
        var f = Forecast(Baseline.Fit(x, 4, SeasonalAdjustment.Auto, [BaselineMethod.SeasonalNaive]), x, 6);
        Assert.Equal([10f, 20f, 30f, 40f, 10f, 20f], f);
    }

    [Fact]
    public void HoltExtrapolatesAnExactLineExactly()
    {
        var x = Enumerable.Range(0, 30).Select(t => 5f + 0.5f * t).ToArray();
        var f = Forecast(Baseline.Fit(x, 1, SeasonalAdjustment.None, [BaselineMethod.Holt]), x, 5);
        for (int k = 0; k < 5; k++) Assert.Equal(5f + 0.5f * (30 + k), f[k], 3);
    }

    [Fact]
    public void DampedTrendRisesLessAndLessOnALine()
    {
        var x = Enumerable.Range(0, 40).Select(t => 5f + 0.5f * t).ToArray();
        var f = Forecast(Baseline.Fit(x, 1, SeasonalAdjustment.None, [BaselineMethod.DampedTrend]), x, 20);
        var steps = f.Zip(f.Skip(1), (a, b) => b - a).ToArray();
        Assert.True(steps.All(d => d > 0), "a damped trend still rises");
        Assert.True(steps.Zip(steps.Skip(1), (a, b) => b < a).All(x => x), "and rises less at every step");
        Assert.True(f[^1] < 5f + 0.5f * 59, "it stays below the undamped line");
    }

    [Fact]
    public void ThetaIsSesPlusHalfTheTrendSlope()
    {
        // Hyndman & Billah: ŷ(k) = ℓ + b/2·(k − 1 + (1 − (1 − α)ⁿ)/α), b the least-squares slope.
        var noise = Noise(60, 3, 2);
        var x = Enumerable.Range(0, 60).Select(t => 20f + 0.3f * t + noise[t]).ToArray();
        var theta = Baseline.Fit(x, 1, SeasonalAdjustment.None, [BaselineMethod.Theta]);
        var ses = Baseline.Fit(x, 1, SeasonalAdjustment.None, [BaselineMethod.SimpleExponentialSmoothing]);
        var f = Forecast(theta, x, 4);
        double level = Forecast(ses, x, 1)[0], b = SmoothingModel.LeastSquaresSlope(x);
        double alpha = SmoothingModel.Fit(BaselineMethod.Theta, x).Alpha;
        for (int k = 1; k <= 4; k++)
            Assert.Equal(level + b / 2 * (k - 1 + (1 - Math.Pow(1 - alpha, 60)) / alpha), f[k - 1], 3);
    }

    [Property(MaxTest = 500)]
    public bool FastSumOfSquaredErrorsIsTheStepByStepSumToTheBit(NormalFloat[] values, byte method, NormalFloat a, NormalFloat b, NormalFloat p)
    {
        // Any series of finite values, any method, α in (0, 1), β ≤ α, φ in [0.8, 1]: the parameter searches' fast
        // loops must score exactly what Update and OneStep would, or a fit would pick other parameters than before.
        var d = values.Select(v => (float)Math.Clamp(v.Get, -1e6, 1e6)).ToArray();
        var methods = Enum.GetValues<BaselineMethod>().Where(x => x != BaselineMethod.SeasonalNaive).ToArray();
        double Unit(NormalFloat x) => 0.0001 + 0.9998 * (Math.Abs(Math.Sin(x.Get)));
        double alpha = Unit(a), beta = alpha * Unit(b), phi = 0.8 + 0.2 * Unit(p);
        var model = new SmoothingModel(methods[method % methods.Length], alpha, beta, phi, drift: 0.1);
        double fast = model.SumOfSquaredErrors(d), reference = model.ReferenceSumOfSquaredErrors(d);
        return BitConverter.DoubleToInt64Bits(fast) == BitConverter.DoubleToInt64Bits(reference);
    }

    [Property(MaxTest = 300)]
    public bool SumsInLanesAreEachPointsOwnSumToTheBit(NormalFloat[] values, NormalFloat[] points, byte method)
    {
        // Any number of parameter points (full and partial vector groups): each lane's sum is the step-by-step one.
        var d = values.Select(v => (float)Math.Clamp(v.Get, -1e6, 1e6)).ToArray();
        var lanes = new[] { BaselineMethod.SimpleExponentialSmoothing, BaselineMethod.Holt, BaselineMethod.DampedTrend }[method % 3];
        double Unit(double x) => 0.0001 + 0.9998 * Math.Abs(Math.Sin(x));
        int K = points.Length;
        var alpha = points.Select(x => Unit(x.Get)).ToArray();
        var beta = points.Select((x, k) => alpha[k] * Unit(3 * x.Get + 1)).ToArray();
        var phi = points.Select(x => 0.8 + 0.2 * Unit(7 * x.Get)).ToArray();
        var sse = new double[K];
        SmoothingModel.SumsOfSquaredErrors(lanes, d, alpha, beta, phi, sse);
        return Enumerable.Range(0, K).All(k => BitConverter.DoubleToInt64Bits(sse[k])
            == BitConverter.DoubleToInt64Bits(new SmoothingModel(lanes, alpha[k], beta[k], phi[k], 0).ReferenceSumOfSquaredErrors(d)));
    }

    [Fact]
    public void FittedParametersAreThoseTheSearchHasAlwaysFound()
    {
        // The parameters the grid-then-golden-section search found before its sums ran in lanes (commit 006a87b), to
        // the bit: a faster search must find the same ones, or every base's forecast moves. A deliberate change of the
        // search updates these numbers and says so.
        var rng = new Random(11);
        var trend = Enumerable.Range(0, 80).Select(t => (float)(50 + 0.8 * t + 6 * (rng.NextDouble() - 0.5))).ToArray();
        var walk = new float[120];
        for (int t = 1; t < 120; t++) walk[t] = walk[t - 1] + (float)(rng.NextDouble() - 0.45);
        (float[] Series, BaselineMethod Method, double Alpha, double Beta, double Phi, double Drift)[] expected =
        [
            (trend, BaselineMethod.SimpleExponentialSmoothing, 0.7922439111016013, 0, 1, 0),
            (trend, BaselineMethod.Holt, 0.5462017315572592, 0.23270612775866112, 1, 0),
            (trend, BaselineMethod.DampedTrend, 0.5329374165452645, 0.25954978646281135, 0.9317011564625286, 0),
            (trend, BaselineMethod.Theta, 0.7922439111016013, 0, 1, 0.3983204669031357),
            (walk, BaselineMethod.SimpleExponentialSmoothing, 0.999899986565425, 0, 1, 0),
            (walk, BaselineMethod.Holt, 0.999899986565425, 0.0014016717464555631, 1, 0),
            (walk, BaselineMethod.DampedTrend, 0.999899986565425, 0.030253077062349698, 0.9275196271273092, 0),
            (walk, BaselineMethod.Theta, 0.999899986565425, 0, 1, 0.022430447831230414),
        ];
        foreach (var (series, method, alpha, beta, phi, drift) in expected)
        {
            var fit = SmoothingModel.Fit(method, series);
            Assert.Equal((method, alpha, beta, phi, drift), (fit.Method, fit.Alpha, fit.Beta, fit.Phi, fit.Drift));
        }
    }

    [Fact]
    public void SesAdaptsFastToARandomWalkAndSlowlyToNoise()
    {
        var steps = Noise(300, 5, 2);
        var walk = new float[300];
        for (int t = 1; t < 300; t++) walk[t] = walk[t - 1] + steps[t];
        var flat = Noise(300, 6, 2).Select(v => 50 + v).ToArray();
        Assert.True(SmoothingModel.Fit(BaselineMethod.SimpleExponentialSmoothing, walk).Alpha > 0.8);
        Assert.True(SmoothingModel.Fit(BaselineMethod.SimpleExponentialSmoothing, flat).Alpha < 0.2);
    }

    [Fact]
    public void CombinationIsTheMeanOfItsMembers()
    {
        var noise = Noise(80, 7, 4);
        var x = Enumerable.Range(0, 80).Select(t => 100f + 0.8f * t + noise[t]).ToArray();
        BaselineMethod[] methods = [BaselineMethod.SimpleExponentialSmoothing, BaselineMethod.Holt, BaselineMethod.DampedTrend];
        var comb = Forecast(Baseline.Fit(x, 1, SeasonalAdjustment.None, methods), x, 6);
        var singles = methods.Select(m => Forecast(Baseline.Fit(x, 1, SeasonalAdjustment.None, [m]), x, 6)).ToArray();
        for (int k = 0; k < 6; k++) Assert.Equal(singles.Average(f => f[k]), comb[k], 3);
    }

    [Fact]
    public void ASeasonalBaseForecastsTheSeasonOnTopOfTheLevel()
    {
        // x = level · s_p: SES on the adjusted series, reseasonalised, gives back the season at the new positions.
        float[] season = [0.8f, 1.0f, 1.3f, 0.9f];
        var x = Enumerable.Range(0, 48).Select(t => 200f * season[t % 4]).ToArray();
        var b = Baseline.Fit(x, 4, SeasonalAdjustment.Auto, [BaselineMethod.SimpleExponentialSmoothing]);
        Assert.Equal(SeasonalAdjustment.Multiplicative, b.Season.Kind);
        var f = Forecast(b, x, 8);
        for (int k = 0; k < 8; k++) Assert.Equal(200f * season[(48 + k) % 4], f[k], 2);
    }

    [Fact]
    public void StateMovedOnObservationByObservationForecastsAsFromTheFullHistory()
    {
        var noise = Noise(120, 8, 6);
        var x = Enumerable.Range(0, 120).Select(t => 50f + 0.2f * t + 10f * MathF.Sin(2 * MathF.PI * t / 12) + noise[t]).ToArray();
        var b = Baseline.Fit(x.AsSpan(0, 100), 12, SeasonalAdjustment.Auto, [BaselineMethod.DampedTrend, BaselineMethod.SeasonalNaive]);
        var state = new double[b.StateSize];
        b.ObserveAll(state, x.AsSpan(0, 100));
        for (int t = 100; t < 120; t++) b.Observe(state, x[t], t);
        var stepwise = new float[5];
        b.Forecast(state, x, 120, stepwise, new float[5]);
        var again = new double[b.StateSize];
        b.ObserveAll(again, x);
        var whole = new float[5];
        b.Forecast(again, x, 120, whole, new float[5]);
        Assert.Equal(whole, stepwise);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RoundTripKeepsEveryForecastAndWritesMethodsByName(bool weightsFormat)
    {
        var noise = Noise(60, 9, 3);
        var x = Enumerable.Range(0, 60).Select(t => 30f + 5f * MathF.Sin(2 * MathF.PI * t / 6) + noise[t]).ToArray();
        var b = Baseline.Fit(x, 6, SeasonalAdjustment.Auto, [BaselineMethod.Theta, BaselineMethod.SeasonalNaive]);
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) b.Write(w, weightsFormat);
        Assert.Contains("Theta", System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        stream.Position = 0;
        var back = Baseline.Read(new BinaryReader(stream), weightsFormat);
        Assert.Equal(Forecast(b, x, 7), Forecast(back, x, 7));
        Assert.Equal(b.Description, back.Description);
    }

    [Fact]
    public void AWeightedBaseForecastsItsMembersWeightedAndRoundTripsInTheFormatThatHoldsWeights()
    {
        var noise = Noise(60, 9, 3);
        var x = Enumerable.Range(0, 60).Select(t => 30f + 0.3f * t + 5f * MathF.Sin(2 * MathF.PI * t / 6) + noise[t]).ToArray();
        BaselineMethod[] methods = [BaselineMethod.Theta, BaselineMethod.SeasonalNaive, BaselineMethod.Holt];
        float[] weights = [0.5f, 0.2f, 0.3f];
        var b = Baseline.Fit(x, 6, SeasonalAdjustment.Auto, methods, weights: weights);
        var expected = new double[7];
        for (int i = 0; i < methods.Length; i++)
        {
            var one = Forecast(Baseline.Fit(x, 6, SeasonalAdjustment.Auto, [methods[i]]), x, 7);
            for (int k = 0; k < 7; k++) expected[k] += weights[i] * one[k];
        }
        var forecast = Forecast(b, x, 7);
        for (int k = 0; k < 7; k++) Assert.Equal(expected[k], forecast[k], 3);
        Assert.StartsWith("weighted mean of Theta 0.50, Holt 0.30, SeasonalNaive 0.20", b.Description);

        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            Assert.Throws<InvalidOperationException>(() => b.Write(w, weights: false));
            b.Write(w, weights: true);
        }
        stream.Position = 0;
        var back = Baseline.Read(new BinaryReader(stream), weights: true);
        Assert.Equal(forecast, Forecast(back, x, 7));
        Assert.Equal(b.Description, back.Description);
        Assert.Throws<ArgumentException>(() => Baseline.Fit(x, 6, SeasonalAdjustment.Auto, methods, weights: [0.5f, 0.5f]));
        Assert.Throws<ArgumentException>(() => Baseline.Fit(x, 6, SeasonalAdjustment.Auto, methods, weights: [0.5f, 0.6f, -0.1f]));
    }

    [Fact]
    public void SelectionPrefersATrendOnATrendAndTheSeasonOnASeason()
    {
        var noise = Noise(120, 10, 1);
        var trend = Enumerable.Range(0, 120).Select(t => 10f + 2f * t + noise[t]).ToArray();
        var ranked = BaselineSelection.Rank(trend, 1, 10, SeasonalAdjustment.Auto, BaselineSelection.DefaultCandidates, 8);
        Assert.DoesNotContain(BaselineMethod.Naive, ranked[0].Methods);
        Assert.True(ranked[0].Score < ranked.Single(c => c.Methods is [BaselineMethod.Naive]).Score / 3);

        var seasonal = Enumerable.Range(0, 120).Select(t => 50f + 20f * MathF.Sin(2 * MathF.PI * t / 12) + noise[t]).ToArray();
        // Naive and drift on the raw series would miss the season by its amplitude; the winner keeps it (seasonal
        // naive, or a method on the adjusted series) and so scores about as well as repeating the last season.
        var rankedSeasonal = BaselineSelection.Rank(seasonal, 12, 12, SeasonalAdjustment.Auto, BaselineSelection.DefaultCandidates, 8);
        Assert.True(rankedSeasonal[0].Score <= rankedSeasonal.Single(c => c.Methods is [BaselineMethod.SeasonalNaive]).Score);
        Assert.True(rankedSeasonal[0].Score < 1.0, $"a clean season is forecast well by {rankedSeasonal[0]}");
        Assert.Equal(SeasonalAdjustment.Multiplicative, SeasonalDecomposition.Fit(seasonal, 12, SeasonalAdjustment.Auto).Kind);
    }

    [Fact]
    public void SelectionOnASeriesTooShortToScoreKeepsTheGivenOrder()
    {
        float[] x = [1, 2, 3, 4, 5, 6, 7];
        var ranked = BaselineSelection.Rank(x, 1, 5, SeasonalAdjustment.Auto, BaselineSelection.DefaultCandidates, 8);
        Assert.All(ranked, c => Assert.True(double.IsNaN(c.Score)));
        Assert.Equal(BaselineSelection.DefaultCandidates.Select(c => c.ToArray()), ranked.Select(c => c.Methods.ToArray()));
    }

    [Fact]
    public void AShortSeriesIsAlsoJudgedAtTheOriginsAfterNMinusH()
    {
        // 15 yearly values, h = 6: one full-horizon origin (9); then 10…14, each scoring the steps left; then 8.
        Assert.Equal([9, 10, 11, 12, 13, 14, 8], BaselineSelection.Origins(15, 6, 8, 8));
        // A long series has its eight full-horizon origins, as before.
        Assert.Equal([110, 105, 100, 95, 90, 85, 80, 75], BaselineSelection.Origins(120, 10, 8, 8));
        Assert.Equal([3], BaselineSelection.Origins(8, 5, 3, 1));
    }

    [Fact]
    public void APartialOriginScoresOnlyTheStepsTheSeriesHasLeft()
    {
        // x_t = t: drift is exact; naive misses by k + 1 at step k, over the steps each origin has (6 at 9 and 8;
        // 5, 4, 3, 2, 1 at 10…14), in units of the in-sample naive error (1): 77 / 27, not 21 / 6 at origin 9 alone.
        var x = Enumerable.Range(0, 15).Select(t => (float)t).ToArray();
        var ranked = BaselineSelection.Rank(x, 1, 6, SeasonalAdjustment.None, [[BaselineMethod.Naive], [BaselineMethod.Drift]], 8);
        Assert.Equal([BaselineMethod.Drift], ranked[0].Methods);
        Assert.Equal(0, ranked[0].Score, 5);
        Assert.Equal(77.0 / 27, ranked[1].Score, 5);
    }
}

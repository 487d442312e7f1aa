using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Tests.Forecasting.Baselines;

/// <summary>
/// The base combination a panel learns (<see cref="BaseCombination"/>): its loss's gradient is exact, learning finds
/// the candidate that is right and how far a series' scores can be trusted, its origins see nothing after themselves,
/// its weights are a distribution over the methods, and a panel's model takes it (and keeps it through its bytes, and
/// for a series started cold) while a single series and the option set false do not.
/// </summary>
public sealed class BaseCombinationTests
{
    private const int C = BaseCombination.CandidateCount;

    /// <summary>R random origins of h steps: forecasts around the targets, log-scores in [−3, 1].</summary>
    private static BaseCombination.Origin[] RandomOrigins(int R, int h, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, R).Select(_ =>
        {
            int steps = 1 + rng.Next(h);
            var target = Enumerable.Range(0, steps).Select(_ => (float)(10 + 5 * rng.NextDouble())).ToArray();
            var forecasts = new float[C * steps];
            for (int c = 0; c < C; c++)
                for (int k = 0; k < steps; k++) forecasts[c * steps + k] = target[k] + (float)(4 * (rng.NextDouble() - 0.5) * (1 + c % 3));
            var logScore = Enumerable.Range(0, C).Select(_ => (float)(-3 + 4 * rng.NextDouble())).ToArray();
            return new BaseCombination.Origin(forecasts, target, logScore, (float)(0.5 + rng.NextDouble()));
        }).ToArray();
    }

    [Fact]
    public void TheLossGradientMatchesCentralDifferences()
    {
        var origins = RandomOrigins(40, 6, seed: 1);
        var rng = new Random(2);
        var a = Enumerable.Range(0, C).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        double beta = 1.3;
        var buffers = new BaseCombination.Buffers(origins);
        BaseCombination.Forward(origins, a, beta, buffers);
        BaseCombination.Backward(origins, beta, buffers);
        const double eps = 1e-3;
        for (int c = 0; c < C; c++)
        {
            var plus = (float[])a.Clone();
            var minus = (float[])a.Clone();
            plus[c] += (float)eps;
            minus[c] -= (float)eps;
            double numeric = (BaseCombination.Forward(origins, plus, beta, buffers) - BaseCombination.Forward(origins, minus, beta, buffers)) / (2 * eps);
            Assert.Equal(numeric, buffers.GradBias[c], 4);
        }
        BaseCombination.Forward(origins, a, beta, buffers);
        BaseCombination.Backward(origins, beta, buffers);
        double numericBeta = (BaseCombination.Forward(origins, a, beta + eps, buffers) - BaseCombination.Forward(origins, a, beta - eps, buffers)) / (2 * eps);
        BaseCombination.Forward(origins, a, beta, buffers);
        BaseCombination.Backward(origins, beta, buffers);
        Assert.Equal(numericBeta, buffers.GradSharpness, 4);
        Assert.True(buffers.GradBias.Any(g => Math.Abs(g) > 1e-3), "a gradient of zero checks nothing");
    }

    [Fact]
    public void LearningPutsTheWeightOnTheCandidateThatIsRightWhenTheScoresSayNothing()
    {
        // Candidate 2 forecasts every target exactly, the others miss by a lot; the scores are noise.
        var origins = RandomOrigins(200, 6, seed: 3).Select(o =>
        {
            int steps = o.Target.Length;
            var f = (float[])o.Forecasts.Clone();
            for (int c = 0; c < C; c++)
                for (int k = 0; k < steps; k++) f[c * steps + k] = c == 2 ? o.Target[k] : o.Target[k] + (c % 2 == 0 ? 3 : -3);
            return o with { Forecasts = f };
        }).ToArray();
        var learned = BaseCombination.Learn(origins)!;
        var w = new double[C];
        learned.Weights(origins[0].LogScore, w);
        Assert.True(w[2] > 0.9, $"weights {string.Join(", ", w.Select(x => x.ToString("F3")))}");
        var buffers = new BaseCombination.Buffers(origins);
        Assert.True(BaseCombination.Forward(origins, learned.Bias, learned.Sharpness, buffers) < 0.3);
    }

    [Fact]
    public void LearningTrustsScoresThatPointToTheRightCandidate()
    {
        // At every origin a different candidate is right, and it is the one with the lowest score: β grows large, and
        // the combination follows the scores (the selection) rather than any fixed preference.
        var rng = new Random(4);
        var origins = RandomOrigins(200, 6, seed: 5).Select(o =>
        {
            int steps = o.Target.Length, right = rng.Next(C);
            var f = new float[C * steps];
            for (int c = 0; c < C; c++)
                for (int k = 0; k < steps; k++) f[c * steps + k] = c == right ? o.Target[k] : o.Target[k] + 3;
            var logScore = Enumerable.Range(0, C).Select(c => c == right ? -2f : (float)rng.NextDouble()).ToArray();
            return o with { Forecasts = f, LogScore = logScore };
        }).ToArray();
        var learned = BaseCombination.Learn(origins)!;
        Assert.True(learned.Sharpness > 2, $"β {learned.Sharpness}");
        var buffers = new BaseCombination.Buffers(origins);
        Assert.True(BaseCombination.Forward(origins, learned.Bias, learned.Sharpness, buffers) < 0.5);
    }

    [Fact]
    public void FewerOriginsThanTheMinimumLearnNothing()
    {
        Assert.Null(BaseCombination.Learn(RandomOrigins(BaseCombination.MinimumOrigins - 1, 4, seed: 6)));
        Assert.NotNull(BaseCombination.Learn(RandomOrigins(BaseCombination.MinimumOrigins, 4, seed: 6)));
    }

    [Fact]
    public void AnOriginSeesNothingAfterItself()
    {
        var rng = new Random(7);
        var x = Enumerable.Range(0, 80).Select(t => (float)(50 + 0.5 * t + 8 * Math.Sin(2 * Math.PI * t / 12) + 2 * rng.NextDouble())).ToArray();
        var origins = BaseCombination.Origins(x, 12, 6, SeasonalAdjustment.Auto, 1, BaselineSelection.MaxOrigins);
        Assert.Equal(BaselineSelection.MaxOrigins, origins.Count);
        Assert.All(origins, o => Assert.Equal(C * o.Target.Length, o.Forecasts.Length));
        // Change every value from the latest origin on (its first target and everything after): no origin's
        // forecasts or scores may move, only the targets that reach the change.
        int latest = x.Length - origins[0].Target.Length;
        var y = (float[])x.Clone();
        for (int t = latest; t < y.Length; t++) y[t] += 1000;
        var changed = BaseCombination.Origins(y, 12, 6, SeasonalAdjustment.Auto, 1, BaselineSelection.MaxOrigins);
        Assert.Equal(origins.Count, changed.Count);
        for (int r = 0; r < origins.Count; r++)
        {
            Assert.Equal(origins[r].Forecasts, changed[r].Forecasts);
            Assert.Equal(origins[r].LogScore, changed[r].LogScore);
        }
        Assert.Equal(y[latest..], changed[0].Target);
    }

    [Property(MaxTest = 300)]
    public bool MethodWeightsAreADistributionOverDistinctMethods(NormalFloat[] numbers, bool seasonalNaiveRunnable)
    {
        // Biases, β and log-scores of any size the numbers give (cycled to fill 2C + 1), finite.
        var v = Enumerable.Range(0, 2 * C + 1).Select(i => numbers.Length == 0 ? 0f : (float)Math.Clamp(numbers[i % numbers.Length].Get, -30, 30)).ToArray();
        var combination = new BaseCombination(v[..C], v[C]);
        var (methods, weights) = combination.MethodWeights(v[(C + 1)..], seasonalNaiveRunnable);
        return methods.Length > 0 && methods.Length == methods.Distinct().Count() && methods.Length == weights.Length
            && weights.All(w => w > 0f) && Math.Abs(weights.Sum() - 1f) < 1e-4f
            && (seasonalNaiveRunnable || !methods.Contains(BaselineMethod.SeasonalNaive));
    }

    [Fact]
    public void CombWeightIsSharedByItsThreeMethods()
    {
        // Only the last candidate (SES + Holt + damped trend) has weight: its three methods get a third each.
        var bias = Enumerable.Repeat(-50f, C).ToArray();
        bias[C - 1] = 50f;
        var (methods, weights) = new BaseCombination(bias, 0f).MethodWeights(new float[C], seasonalNaiveRunnable: true);
        Assert.Equal([BaselineMethod.SimpleExponentialSmoothing, BaselineMethod.Holt, BaselineMethod.DampedTrend], methods.Order());
        Assert.All(weights, w => Assert.Equal(1f / 3, w, 4));
    }

    // ------------------------------------------------------------------ in a model

    /// <summary>A panel of monthly series: trends, seasons and noise of different sizes, so the candidates differ.</summary>
    internal static SeriesPanel MonthlyPanel(int count, int n, int seed)
    {
        var rng = new Random(seed);
        var values = Enumerable.Range(0, count).Select(i =>
        {
            double level = 50 + 10 * i, slope = (i % 3 - 1) * 0.4, season = i % 2 == 0 ? 6 : 0, noise = 1 + i % 4;
            return Enumerable.Range(0, n).Select(t => (float)(level + slope * t + season * Math.Sin(2 * Math.PI * t / 12) + noise * (rng.NextDouble() - 0.5))).ToArray();
        }).ToArray();
        return new SeriesPanel(values.Select((_, i) => $"S{i}").ToArray(), values, values.Select(_ => Array.Empty<float>()).ToArray(), values.Select(_ => Array.Empty<float>()).ToArray());
    }

    private static ForecasterSettings Monthly(bool? combination) => new()
    {
        WindowSize = 12, Horizon = 6, SeasonalPeriod = 12, EnsembleSize = 0, MaximumDegreeOfParallelism = 1, LearnedBaseCombination = combination,
    };

    [Fact]
    public void APanelLearnsACombinationThatEveryBaseAndAColdSeriesTakeAndItsBytesKeep()
    {
        var panel = MonthlyPanel(16, 60, seed: 8);
        var model = ForecastModel.Train(Monthly(combination: null), panel);

        Assert.NotNull(model.BaseCombination);
        Assert.Contains(model.Series, f => f.Baseline!.Weighted);
        Assert.Contains(model.Summary.Notes, n => n.Contains("combines the candidates with weights learned on", StringComparison.Ordinal));
        Assert.Contains("learned combination of the candidates", model.Summary.Base, StringComparison.Ordinal);

        var back = ForecastModel.FromBytes(model.ToBytes());
        Assert.Equal(model.BaseCombination!.Bias, back.BaseCombination!.Bias);
        Assert.Equal(model.BaseCombination.Sharpness, back.BaseCombination.Sharpness);
        for (int i = 0; i < model.Series.Count; i++)
        {
            Assert.Equal(model.Series[i].Baseline!.Description, back.Series[i].Baseline!.Description);
            Assert.Equal(model.Series[i].Baseline!.Weights, back.Series[i].Baseline!.Weights);
        }

        // A series started cold combines its candidates with the panel's weights.
        var cold = model.FitSeries(panel.Values[3], []);
        Assert.True(cold.Baseline!.Weighted);
        Assert.Equal(model.Series[3].Baseline!.Weights, cold.Baseline.Weights);
    }

    [Fact]
    public void ASingleSeriesTheOptionSetFalseAndAPanelOfTooFewOriginsKeepTheSelection()
    {
        var panel = MonthlyPanel(16, 60, seed: 8);
        var off = ForecastModel.Train(Monthly(combination: false), panel);
        Assert.Null(off.BaseCombination);
        Assert.DoesNotContain(off.Series, f => f.Baseline!.Weighted);
        // Without the combination the panel's bases are each series' own choice, as a single series' fit makes it.
        var alone = ForecastModel.Train(Monthly(combination: null), panel.Values[5], []);
        Assert.Null(alone.BaseCombination);
        Assert.Equal(alone.Single.Baseline!.Description, off.Series[5].Baseline!.Description);

        var small = ForecastModel.Train(Monthly(combination: null), MonthlyPanel(3, 60, seed: 8));
        Assert.Null(small.BaseCombination);
        Assert.Contains(small.Summary.Notes, n => n.Contains("to learn a combination of the candidates from, and it needs 90", StringComparison.Ordinal));
    }

    [Fact]
    public void TheNetworksLearnTheSelectionsErrorsAndTheModelShipsTheMeanOfTheirForecastAndTheCombination()
    {
        // The same networks (trained against each series' selected base) with and without the combination; with it, each
        // base is the mean of the selection's and the combination's, and λ is half the selection's.
        var panel = MonthlyPanel(16, 60, seed: 8);
        var settings = Monthly(combination: null) with { EnsembleSize = 2, HiddenSizes = [4], MaximumSteps = 60 };
        var with = ForecastModel.Train(settings, panel);
        var without = ForecastModel.Train(settings with { LearnedBaseCombination = false }, panel);

        Assert.NotNull(with.BaseCombination);
        for (int k = 0; k < 2; k++) Assert.Equal(without.Members[k].Parameters.Values.ToArray(), with.Members[k].Parameters.Values.ToArray());
        Assert.True(without.CorrectionWeight > 0f, "a λ of zero checks nothing");
        Assert.Equal(without.CorrectionWeight / 2, with.CorrectionWeight, 6);
        Assert.Contains(with.Summary.Notes, n => n.Contains("λ is halved", StringComparison.Ordinal));
        int mixed = 0;
        for (int i = 0; i < panel.Count; i++)
        {
            var selected = without.Series[i].Baseline!;
            var shipped = with.Series[i].Baseline!;
            if (!shipped.Weighted) continue;
            mixed++;
            // Every method of the selection carries at least half its share in the shipped base.
            foreach (var m in selected.Methods)
                Assert.True(shipped.Weights[shipped.Methods.ToList().IndexOf(m)] >= 0.5f / selected.Methods.Count - 1e-6f);
            Assert.Equal(without.Series[i].CorrectionWeight!.Value / 2, with.Series[i].CorrectionWeight!.Value, 6);
        }
        Assert.True(mixed > panel.Count / 2, $"{mixed} of {panel.Count} series took the combined base");
    }

    [Fact]
    public void APanelWithCovariatesKeepsTheSelectionUnlessAsked()
    {
        // With covariates the networks see what the bases cannot, so by default the model keeps their whole forecast.
        var panel = MonthlyPanel(16, 60, seed: 8);
        var withCovariate = new SeriesPanel(panel.Ids, panel.Values, panel.Values.Select(v => v.Select((_, t) => (float)(t % 5)).ToArray()).ToArray(), panel.StaticFeatures);
        var settings = Monthly(combination: null) with { CovariateCount = 1 };
        Assert.Null(ForecastModel.Train(settings, withCovariate).BaseCombination);
        Assert.NotNull(ForecastModel.Train(settings with { LearnedBaseCombination = true }, withCovariate).BaseCombination);
    }

    [Fact]
    public void TheOptionNeedsTheSelectionsCandidates()
    {
        var e = Assert.Throws<ArgumentException>(() => ForecastModel.Train(Monthly(combination: true) with { Base = ForecastBase.SeasonalNaive }, MonthlyPanel(16, 60, seed: 8)));
        Assert.Contains("LearnedBaseCombination", e.Message, StringComparison.Ordinal);
    }
}

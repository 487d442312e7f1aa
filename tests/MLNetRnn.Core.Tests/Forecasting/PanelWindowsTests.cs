using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>Windows of a panel, built batch by batch from each series' values and base-state checkpoints, are exactly
/// what a forecast from the same origin sees; each member holds out the same fraction of every series.</summary>
public sealed class PanelWindowsTests
{
    private static float[] Series(int n, int seed, double level)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(t => (float)(level * (1 + 0.002 * t) * (1 + 0.2 * Math.Sin(2 * Math.PI * t / 7)) * (1 + 0.05 * (rng.NextDouble() - 0.5)))).ToArray();
    }

    private static (ForecasterSettings Settings, SeriesPanel Panel) Panel(bool decoder)
    {
        // Lengths that cross the 64-value checkpoints at different phases; two covariates, the second known in advance.
        int[] lengths = [150, 203, 90];
        var values = lengths.Select((n, i) => Series(n, i, level: Math.Pow(10, i + 1))).ToArray();
        var covariates = lengths.Select((n, i) => Enumerable.Range(0, n * 2).Select(j => (float)((j * 7 + i) % 5)).ToArray()).ToArray();
        var s = new ForecasterSettings
        {
            WindowSize = 14, Horizon = 7, SeasonalPeriod = 7, CovariateCount = 2, EnsembleSize = 0, StaticFeatureCount = 2, ScaleFeature = true,
            KnownFutureCovariates = decoder ? [1] : [],
        };
        var features = lengths.Select((_, i) => new float[] { i, -i }).ToArray();
        return (s, new SeriesPanel(["a", "b", "c"], values, covariates, features));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WindowsBuiltOnDemandEqualWhatAForecastFromThatOriginSees(bool decoder)
    {
        var (s, panel) = Panel(decoder);
        var model = ForecastModel.Train(s, panel);
        var tracks = Enumerable.Range(0, panel.Count).Select(i => SeriesTrack.Build(s, model.Series[i], panel.Values[i], panel.Covariates[i])).ToArray();
        var builder = new WindowBuilder(model, tracks);
        int T = s.Steps, F = s.InputSize, H = s.Horizon, C = s.CovariateCount;
        var built = new float[T * F];
        var reference = new float[H];
        var target = new float[H];
        var expected = new float[T * F];
        var expectedReference = new float[H];
        var scratch = model.CreateScratch();
        for (int i = 0; i < panel.Count; i++)
        {
            var fit = model.Series[i];
            var state = ForecastState.Empty(s, fit);
            var values = panel.Values[i];
            for (int o = 0; o < values.Length - H; o++)
            {
                if (o >= tracks[i].First)
                {
                    int w = o - tracks[i].First;
                    float level = builder.Build(i, w, built, reference, target);
                    var future = Enumerable.Range(0, H * s.FutureCovariateCount).Select(j => panel.Covariates[i][(o + j) * C + 1]).ToArray();
                    float expectedLevel = model.Input.Prepare(fit, state.History, state.BaseOneStep, state.Covariates, state.BaseState, state.Count, future,
                        expected, scratch.Adjusted, expectedReference, new float[H], new float[H], H);
                    Assert.Equal(expectedLevel, level);
                    Assert.True(expected.AsSpan().SequenceEqual(built), $"series {i}, origin {o}: the built window differs from the forecast's input.");
                    Assert.True(expectedReference.AsSpan().SequenceEqual(reference), $"series {i}, origin {o}: the built base forecast differs.");
                    for (int k = 0; k < H; k++)
                        Assert.Equal(fit.Scaler.Forward(fit.Season.Deseasonalize(values[o + k], o + k), level), target[k]);
                }
                state.Push(fit.Baseline, values[o], panel.Covariates[i].AsSpan(o * C, C));
            }
        }
    }

    [Fact]
    public void DecoderStepsCarryTheBaseForecastTheKnownFutureCovariatesAndAFlag()
    {
        var (s, panel) = Panel(decoder: true);
        var model = ForecastModel.Train(s, panel);
        var tracks = Enumerable.Range(0, panel.Count).Select(i => SeriesTrack.Build(s, model.Series[i], panel.Values[i], panel.Covariates[i])).ToArray();
        int W = s.WindowSize, H = s.Horizon, F = s.InputSize, C = s.CovariateCount;
        // value, base error, 2 covariates, 2 static, scale, flag
        Assert.Equal(1 + 1 + 2 + 2 + 1 + 1, F);
        Assert.Equal(W + H, s.Steps);
        var input = new float[s.Steps * F];
        var reference = new float[H];
        new WindowBuilder(model, tracks).Build(1, 10, input, reference, new float[H]);
        int o = 10 + tracks[1].First;
        for (int j = 0; j < W; j++) Assert.Equal(0f, input[j * F + F - 1]);
        for (int k = 0; k < H; k++)
        {
            var row = input.AsSpan((W + k) * F, F);
            Assert.Equal(reference[k], row[0]);
            Assert.Equal(0f, row[1]);                                   // no one-step error in the future
            Assert.Equal(0f, row[2]);                                   // the past-only covariate, at its mean
            Assert.Equal((panel.Covariates[1][(o + k) * C + 1] - model.CovariateMean[1]) / model.CovariateScale[1], row[3]);
            Assert.Equal([1f, -1f], row[4..6].ToArray());              // series b's static features
            Assert.Equal((model.Series[1].LogScale - model.LogScaleMean) / model.LogScaleDeviation, row[6]);
            Assert.Equal(1f, row[7]);
        }
    }

    [Theory]
    [InlineData(SeriesWeighting.Windows)]
    [InlineData(SeriesWeighting.SquareRoot)]
    [InlineData(SeriesWeighting.Series)]
    public void TrainingDrawsEverySeriesInItsShareAndOnlyFromItsTrainingWindows(SeriesWeighting weighting)
    {
        var (s, panel) = Panel(decoder: false);   // 150, 203 and 90 values: windows in proportion about 5 : 7 : 3
        s = s with { SeriesWeighting = weighting };
        var model = ForecastModel.Train(s, panel);
        var tracks = Enumerable.Range(0, panel.Count).Select(i => SeriesTrack.Build(s, model.Series[i], panel.Values[i], panel.Covariates[i])).ToArray();
        var start = new int[panel.Count + 1];
        for (int i = 0; i < panel.Count; i++) start[i + 1] = start[i] + tracks[i].Windows;
        // A member's training windows: every window but every fifth.
        var windows = Enumerable.Range(0, start[^1]).Where(g => g % 5 != 0).ToArray();
        var own = Enumerable.Range(0, panel.Count).Select(i => windows.Where(g => PanelWindowSource.Locate(start, g).Series == i).ToArray()).ToArray();
        var source = new PanelWindowSource(model, tracks, start, windows, s.SeriesWeightExponent, seed: 1);
        Assert.InRange(source.Count, windows.Length - 1, windows.Length + 2);

        const int passes = 20;
        var draws = new int[panel.Count];
        var drawn = new HashSet<int>();
        for (int pass = 0; pass < passes; pass++)
            for (int r = 0; r < source.Count; r++)
            {
                int g = source.Window(r);
                int series = PanelWindowSource.Locate(start, g).Series;
                Assert.Contains(g, own[series]);
                draws[series]++;
                drawn.Add(g);
            }
        double alpha = weighting switch { SeriesWeighting.Series => 0, SeriesWeighting.SquareRoot => 0.5, _ => 1 };
        double total = own.Sum(w => Math.Pow(w.Length, alpha));
        for (int i = 0; i < panel.Count; i++)
            Assert.InRange(draws[i] / (double)passes, Math.Pow(own[i].Length, alpha) / total * windows.Length - 1, Math.Pow(own[i].Length, alpha) / total * windows.Length + 1);
        // Over the passes every training window is drawn: a long series is sampled, not cut short.
        Assert.Equal(windows.Length, drawn.Count);
    }

    [Fact]
    public void APanelsNetworksTrainWithTheDecayOfOneSeriesSharedAmongItsSeries()
    {
        // Decay is the prior that the base is right, sized for one series; three series hold three series' evidence.
        var (s, panel) = Panel(decoder: false);
        s = s with
        {
            EnsembleSize = 2, HiddenSizes = [4], MaximumSteps = 40, MaximumDegreeOfParallelism = 1,
            Training = s.Training with { Optimizer = s.Training.Optimizer with { WeightDecay = 0.6f } },
        };
        Assert.Equal(0.2f, ForecastTrainer.MemberWeightDecay(s, 3), 6);
        Assert.Equal(0.6f, ForecastTrainer.MemberWeightDecay(s, 1));

        var model = ForecastModel.Train(s, panel);
        Assert.Contains(model.Summary.Notes, n => n.StartsWith("The networks trained with weight decay 0.2: the 0.6 of one series shared among the 3 series", StringComparison.Ordinal));
        // A single series keeps the decay it was given, and says nothing of it.
        var single = ForecastModel.Train(s with { CovariateCount = 0, StaticFeatureCount = 0, ScaleFeature = false }, panel.Values[1], []);
        Assert.DoesNotContain(single.Summary.Notes, n => n.Contains("weight decay", StringComparison.Ordinal));
    }

    [Fact]
    public void APanelWhoseWindowsOutnumberTheBudgetOfOneSeriesTrainsLonger()
    {
        // 5 steps of 16 windows cover 80; each member trains on about 300 of the panel's windows: three budgets at most.
        var (s, panel) = Panel(decoder: false);
        s = s with
        {
            EnsembleSize = 2, HiddenSizes = [4], MaximumSteps = 5, WindowsPerEpoch = 16, MaximumDegreeOfParallelism = 1,
            Training = s.Training with { BatchSize = 16, Epochs = 4, EarlyStoppingPatience = 100 },
        };
        Assert.Equal(1, ForecastTrainer.PanelBudgetFactor(s, 159));
        Assert.Equal(2, ForecastTrainer.PanelBudgetFactor(s, 160));
        Assert.Equal(ForecasterSettings.MaximumPanelBudgetFactor, ForecastTrainer.PanelBudgetFactor(s, 1_000_000));

        var model = ForecastModel.Train(s, panel);
        Assert.Contains(model.Summary.Notes, n => n.StartsWith("Each network had 3 times the budget of one series (15 steps, 12 epochs, patience 300)", StringComparison.Ordinal));
        // The members really took the larger budget: 12 epochs of one step each, beyond the 5 steps and 4 epochs of one series.
        Assert.All(model.Summary.Members, m => Assert.Equal(12, m.GradientNormBefore.Length));
        // A single series keeps its budget whatever its length.
        var single = ForecastModel.Train(s with { CovariateCount = 0, StaticFeatureCount = 0, ScaleFeature = false }, panel.Values[1], []);
        Assert.All(single.Summary.Members, m => Assert.Equal(4, m.GradientNormBefore.Length));
        Assert.DoesNotContain(single.Summary.Notes, n => n.Contains("budget", StringComparison.Ordinal));
    }

    [Fact]
    public void EarlyStoppingWeighsTheSeriesAsTrainingDraws()
    {
        var s = new ForecasterSettings { WindowSize = 10, Horizon = 4, EnsembleSize = 3, ValidationFraction = 0.2f };
        int[] windows = [1000, 60];   // held-out blocks of 200 and 12 windows
        var folds = windows.Select(n => SeriesFolds.Of(s, n, constant: false)).ToArray();
        int[] start = [0, windows[0], windows[0] + windows[1]];
        int Series(int g) => PanelWindowSource.Locate(start, g).Series;
        for (int k = 0; k < 3; k++)
        {
            var alike = SeriesFolds.EarlyStoppingWindows(folds, start, k, exponent: 0);
            var byWindows = SeriesFolds.EarlyStoppingWindows(folds, start, k, exponent: 1);
            Assert.Equal(byWindows.Length, alike.Length);
            Assert.Equal(200, byWindows.Count(g => Series(g) == 0));
            Assert.Equal(106, alike.Count(g => Series(g) == 0));
            Assert.Equal(106, alike.Count(g => Series(g) == 1));
            // Only the member's own block, every window of the short series' block, repeated in turn.
            for (int i = 0; i < 2; i++)
            {
                var block = Enumerable.Range(start[i] + folds[i].BlockStart[k], folds[i].Block).ToHashSet();
                Assert.All(alike.Where(g => Series(g) == i), g => Assert.Contains(g, block));
            }
            Assert.Equal(12, alike.Where(g => Series(g) == 1).Distinct().Count());
        }
    }

    [Fact]
    public void EachMemberHoldsOutTheSameFractionOfEverySeries()
    {
        var s = new ForecasterSettings { WindowSize = 10, Horizon = 4, EnsembleSize = 3, ValidationFraction = 0.2f };
        foreach (int N in new[] { 40, 155 })
        {
            var folds = SeriesFolds.Of(s, N, constant: false);
            Assert.Equal((int)Math.Round(0.2 * N), folds.Block);
            for (int k = 0; k < 3; k++)
            {
                int held = Enumerable.Range(0, N).Count(w => folds.Holds(k, w));
                Assert.Equal(folds.Block, held);
                // Nothing within H − 1 windows of the block is trained on: those targets overlap the block's.
                for (int w = 0; w < N; w++)
                    if (w >= folds.BlockStart[k] - 3 && w < folds.BlockStart[k] + folds.Block + 3) Assert.False(folds.Trains(k, w), $"N={N}, member {k}, window {w}");
            }
            Assert.Equal(N - folds.Block, folds.BlockStart[0]);   // the first member holds out the last block
            Assert.Equal(0, folds.BlockStart[2]);                 // the last member the first one
        }
        Assert.Equal(0, SeriesFolds.Of(s, 60, constant: true).Block);
    }

    [Fact]
    public void QuantilesBetweenLevelsAreInterpolatedAndBeyondThemExtrapolatedWithANormalTail()
    {
        var s = new ForecasterSettings { WindowSize = 4, Horizon = 2, EnsembleSize = 0, Quantiles = [0.1f, 0.5f, 0.9f] };
        var model = ForecastModel.Train(s, Series(40, 1, 10), []);
        float[] curve = [-1.28f, 0f, 1.28f];
        Assert.Equal(0f, ForecastRunner.QuantileAt(model, curve, 0.5f));
        Assert.Equal(0.64f, ForecastRunner.QuantileAt(model, curve, 0.7f), 5);
        // Beyond 0.9: the median plus the 0.9 quantile's offset scaled by z(τ)/z(0.9).
        double z975 = 1.959964, z9 = 1.281552;
        Assert.Equal(1.28 * z975 / z9, ForecastRunner.QuantileAt(model, curve, 0.975f), 4);
        Assert.Equal(-1.28 * z975 / z9, ForecastRunner.QuantileAt(model, curve, 0.025f), 4);
    }

    [Fact]
    public void ColdStartFitsTheNewSeriesOnItsOwnHistoryOrRefusesIt()
    {
        var (s, panel) = Panel(decoder: false);
        var model = ForecastModel.Train(s, panel);
        var fit = model.FitSeries(Series(60, 9, 1000), [0, 0]);
        Assert.Equal(s.WindowSize, fit.FirstOrigin(s));
        Assert.InRange(fit.Scaler.Kind, SeriesScaling.LogRatio, SeriesScaling.LogRatio);
        Assert.Contains("at least 14", Assert.Throws<ArgumentException>(() => model.FitSeries(Series(10, 9, 1000), [0, 0])).Message);
    }
}

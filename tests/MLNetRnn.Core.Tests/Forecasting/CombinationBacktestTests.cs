using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// A panel that learns a base combination ships the mean of the networks' forecast and the combination unless a
/// backtest shows the networks' forecast clearly better alone (<see cref="CombinationBacktest"/>): every series cut H
/// values before its end, its base chosen again on the cut, both forecasts made by the member that held the last
/// block out and scored on those H values. Here every series carries a cycle of 5 steps that no candidate base
/// (season 7) follows and the networks learn.
/// </summary>
public sealed class CombinationBacktestTests
{
    private const int Series = 16, Length = 200, Horizon = 5;
    private static readonly float[] Cycle = [3f, -1f, 4f, -2f, -4f];

    private static float[] Values(int i, bool cycleAtTheEnd)
    {
        var rng = new Random(100 + i);
        return Enumerable.Range(0, Length).Select(t =>
        {
            bool cycle = cycleAtTheEnd || t < Length - Horizon;
            return (float)(50 + 5 * i + 10 * Math.Sin(2 * Math.PI * t / 7) + (cycle ? 2 * Cycle[t % 5] : 0) + 0.3 * (rng.NextDouble() - 0.5));
        }).ToArray();
    }

    private static ForecasterSettings Settings => new()
    {
        WindowSize = 14, Horizon = Horizon, SeasonalPeriod = 7, EnsembleSize = 2, HiddenSizes = [16], MaximumSteps = 600, MaximumDegreeOfParallelism = 2,
        Training = new() { Seed = 1 },
    };

    private static SeriesPanel Panel(bool cycleAtTheEnd)
    {
        var values = Enumerable.Range(0, Series).Select(i => Values(i, cycleAtTheEnd)).ToArray();
        return new(values.Select((_, i) => $"S{i}").ToArray(), values, values.Select(_ => Array.Empty<float>()).ToArray(), values.Select(_ => Array.Empty<float>()).ToArray());
    }

    [Fact]
    public void NetworksThatClearlyWinTheBacktestShipAloneWithTheirWholeCorrection()
    {
        var model = ForecastModel.Train(Settings, Panel(cycleAtTheEnd: true));

        var note = Assert.Single(model.Summary.Notes, n => n.Contains("not its mean with the learned combination", StringComparison.Ordinal));
        Assert.Contains("backtested on the last H values of 16 series", note, StringComparison.Ordinal);
        Assert.Null(model.BaseCombination);
        Assert.DoesNotContain(model.Series, f => f.Baseline is { Weighted: true });
        Assert.True(model.CorrectionWeight > 0.5f, $"λ {model.CorrectionWeight}: the networks' whole correction, not half of it.");
        Assert.False(ForecastModel.FromBytes(model.ToBytes()).HasBaseCombination);
    }

    [Fact]
    public void TheBacktestJudgesTheLastHValuesSoWhereTheCycleStopsThereTheMeanIsKept()
    {
        // The same panel but for its last H values, where the cycle stops: the networks learned it from everything
        // before (the members train on the earlier windows alike), and on the H values the backtest scores, their
        // correction is now wrong, so it keeps the mean.
        var model = ForecastModel.Train(Settings, Panel(cycleAtTheEnd: false));

        var note = Assert.Single(model.Summary.Notes, n => n.Contains("the mean of the networks'", StringComparison.Ordinal));
        Assert.Contains("backtested on the last H values of 16 series", note, StringComparison.Ordinal);
        Assert.NotNull(model.BaseCombination);
        Assert.All(model.Series, f => Assert.True(f.Baseline is { Weighted: true }, "each base is the mean of the selection and the combination"));
    }

    [Fact]
    public void TheBacktestForecastsReadNothingOfTheValuesTheyAreScoredOnAndComeFromTheFirstMemberAlone()
    {
        var panel = Panel(cycleAtTheEnd: false);
        var model = ForecastModel.Train(Settings, panel);
        var combination = Assert.IsType<MLNetRnn.Core.Forecasting.Baselines.BaseCombination>(model.BaseCombination);
        var every = Enumerable.Repeat(true, Series).ToArray();
        var backtests = CombinationBacktest.Forecasts(model, combination, panel, every, default);
        Assert.Equal(Series, backtests.Length);
        // A series whose last block member 0 did not hold out (too short to validate) is not judged.
        Assert.Equal([3], CombinationBacktest.Forecasts(model, combination, panel, Enumerable.Range(0, Series).Select(i => i == 3).ToArray(), default).Select(b => b.Series));

        // Other last H values: the same forecasts of them.
        var changed = panel.Values.Select(v => v.Select((x, t) => t >= v.Length - Horizon ? 3 * x + 100 : x).ToArray()).ToArray();
        var again = CombinationBacktest.Forecasts(model, combination, new SeriesPanel(panel.Ids, changed, panel.Covariates, panel.StaticFeatures), every, default);
        for (int j = 0; j < Series; j++)
        {
            Assert.Equal(backtests[j].Alone, again[j].Alone);
            Assert.Equal(backtests[j].Mean, again[j].Mean);
        }

        // Member 0 held every series' last block out; the other member trained on it, so it has no say.
        var firstTwice = model.WithSeries(model.Series);
        firstTwice.Members = [model.Members[0], model.Members[0]];
        var first = CombinationBacktest.Forecasts(firstTwice, combination, panel, every, default);
        for (int j = 0; j < Series; j++) Assert.Equal(backtests[j].Alone, first[j].Alone);
        var secondFirst = model.WithSeries(model.Series);
        secondFirst.Members = [model.Members[1], model.Members[0]];
        Assert.NotEqual(backtests[0].Alone, CombinationBacktest.Forecasts(secondFirst, combination, panel, every, default)[0].Alone);
    }
}

using Microsoft.ML;
using MLNetRnn.Core.Forecasting;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>A backtest scores baselines beside the model on its origins: the model's base alone, seasonal naive and naive.</summary>
public sealed class BacktestBaselineTests
{
    private readonly MLContext _ml = new(seed: 0);

    private static RnnForecastingOptions Quick(int ensemble = 1)
    {
        var o = Fast(horizon: 6);
        o.Epochs = 5;
        o.HiddenSizes = [8];
        o.EnsembleSize = ensemble;
        return o;
    }

    [Fact]
    public void NaiveAndSeasonalNaiveAreScoredOnTheModelsOriginsWithItsMase()
    {
        var series = Seasonal(150, seed: 3);
        var result = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(Quick()), View(_ml, series), origins: 3, refit: false);

        Assert.Equal([BacktestBaselineKind.Base, BacktestBaselineKind.SeasonalNaive, BacktestBaselineKind.Naive], result.Baselines.Select(b => b.Kind));
        foreach (var (kind, period) in new[] { (BacktestBaselineKind.SeasonalNaive, 12), (BacktestBaselineKind.Naive, 1) })
        {
            var b = result.Baselines.Single(x => x.Kind == kind);
            Assert.Equal(result.Origins.Select(o => o.Origin), b.Origins.Select(o => o.Origin));
            foreach (var o in b.Origins)
            {
                var history = series.AsSpan(0, o.Origin);
                Assert.Equal(ForecastMetrics.SeasonalNaive(history, 6, period), o.Forecast);
                Assert.Equal(ForecastMetrics.Mase(o.Actual, o.Forecast, history, 12), o.Mase, 12);   // the model's scale, m = 12
            }
            for (int step = 0; step < 6; step++)
            {
                double expected = b.Origins.Average(o => ForecastMetrics.Mase(o.Actual.AsSpan(step, 1), o.Forecast.AsSpan(step, 1), series.AsSpan(0, o.Origin), 12));
                Assert.Equal(expected, b.ByHorizon[step].Mase, 12);
                Assert.Equal(b.Origins.Average(o => Math.Abs(o.Actual[step] - o.Forecast[step])), b.ByHorizon[step].Metrics.MeanAbsoluteError, tolerance: 1e-4);
            }
            Assert.Equal(b.Origins.Average(o => o.Mase), b.Mase, 12);
        }
        // On a seasonal series the season repeated beats the last value repeated.
        Assert.True(result.Baselines[1].Mase < result.Baselines[2].Mase, $"seasonal naive {result.Baselines[1].Mase:F3}, naive {result.Baselines[2].Mase:F3}");
    }

    [Fact]
    public void TheBaseAloneIsTheEstimatorWithoutNetworksBacktestedTheSameWay()
    {
        var series = Seasonal(150, seed: 4);
        var data = View(_ml, series);
        var result = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(Quick()), data, origins: 2, horizon: 4, refit: false);
        var alone = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(Quick(ensemble: 0)), data, origins: 2, horizon: 4, refit: false);

        var b = result.Baselines[0];
        Assert.Equal(BacktestBaselineKind.Base, b.Kind);
        Assert.Equal(alone.Origins.Select(o => o.Forecast), b.Origins.Select(o => o.Forecast));
        Assert.Equal(alone.Mase, b.Mase, 12);
        Assert.Equal(alone.ByHorizon.Select(x => x.Mase), b.ByHorizon.Select(x => x.Mase));
        // The networks do change the forecast: the base is not the model.
        Assert.NotEqual(result.Origins.Select(o => o.Forecast), b.Origins.Select(o => o.Forecast));
        // Without networks, the model is its base: the same figures, not a second backtest of them.
        Assert.Equal(alone.Mase, alone.Baselines[0].Mase, 12);
    }

    [Fact]
    public void SeasonalNaiveIsLeftOutWithoutASeason()
    {
        // Seasonal naive repeats the season the backtest's MASE is scaled by, which is detected in the data: none here.
        var rng = new Random(5);
        double level = 100;
        var trend = Enumerable.Range(0, 120).Select(_ => (float)(level += 1 + Normal(rng))).ToArray();
        var result = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(Quick()), View(_ml, trend), origins: 2, refit: false);
        Assert.Equal(1, result.MaseSeasonalPeriod);
        Assert.Equal([BacktestBaselineKind.Base, BacktestBaselineKind.Naive], result.Baselines.Select(b => b.Kind));
    }
}

using Microsoft.ML;
using MLNetRnn.Core.Forecasting;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

public sealed class BacktestTests
{
    private readonly MLContext _ml = new(seed: 0);

    [Fact]
    public void BacktestScoresEachStepAheadWithRegressionMetricsSmapeAndMase()
    {
        var series = Seasonal(150, seed: 1);
        var estimator = _ml.Forecasting.ForecastByRnn(Fast(horizon: 6));
        var result = _ml.Forecasting.Backtest(estimator, View(_ml, series), origins: 3);

        Assert.Equal([132, 138, 144], result.Origins.Select(o => o.Origin));
        Assert.Equal(6, result.ByHorizon.Count);
        foreach (var o in result.Origins)
        {
            Assert.Equal(series.AsSpan(o.Origin, 6).ToArray(), o.Actual);
            Assert.Equal(ForecastMetrics.Mase(o.Actual, o.Forecast, series.AsSpan(0, o.Origin), 12), o.Mase, 12);
        }
        // Per step, ML.NET's MAE is the mean absolute error of that step's forecasts over the origins.
        var step1 = result.ByHorizon[0];
        Assert.Equal(result.Origins.Average(o => Math.Abs(o.Actual[0] - o.Forecast[0])), step1.Metrics.MeanAbsoluteError, 4);
        Assert.Equal(result.Origins.Average(o => o.Mase), result.Mase, 12);
        Assert.InRange(step1.Coverage, 0, 1);
        // A working forecaster on this series beats seasonal naive, whose MASE here is about 1.
        Assert.True(result.Mase < 1.0, $"backtest MASE {result.Mase:F3}");
    }

    [Fact]
    public void BacktestWithoutRefitObservesInsteadOfRetraining()
    {
        var series = Seasonal(150, seed: 2);
        var estimator = _ml.Forecasting.ForecastByRnn(Fast(horizon: 6));
        var once = _ml.Forecasting.Backtest(estimator, View(_ml, series), origins: 3, horizon: 4, refit: false);
        // Fit once at the first origin; the later forecasts equal that model's engine after observing the rows between.
        var model = estimator.Fit(View(_ml, series[..138]));
        var engine = model.CreateForecastingEngine();
        Assert.Equal([138, 142, 146], once.Origins.Select(o => o.Origin));
        foreach (float v in series[138..146]) engine.Observe(v);
        Assert.Equal(engine.Predict(4, 0.9f).Forecast, once.Origins[2].Forecast);
        Assert.Equal(4, once.ByHorizon.Count);
    }

    [Fact]
    public void BacktestRefusesTooShortSeries()
    {
        var estimator = _ml.Forecasting.ForecastByRnn(Fast(horizon: 6));
        var ex = Assert.Throws<InvalidOperationException>(() => _ml.Forecasting.Backtest(estimator, View(_ml, Seasonal(40, 1)), origins: 3));
        Assert.Contains("'Value'", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Forecasting.Backtest(estimator, View(_ml, Seasonal(100, 1)), horizon: 7));
    }
}

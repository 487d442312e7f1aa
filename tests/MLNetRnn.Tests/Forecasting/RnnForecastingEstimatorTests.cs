using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

public sealed class RnnForecastingEstimatorTests
{
    private readonly MLContext _ml = new(seed: 0);

    [Fact]
    public void TransformForecastsEachRowFromTheRowsUpToIt()
    {
        var series = Seasonal(120, seed: 1);
        var model = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, series));
        var output = model.Transform(View(_ml, series));
        var forecasts = output.GetColumn<float[]>("Forecast").ToArray();
        Assert.Equal(120, forecasts.Length);
        Assert.All(forecasts.Take(23), f => Assert.All(f, x => Assert.True(float.IsNaN(x))));        // fewer rows than the window
        Assert.All(forecasts.Skip(23), f => Assert.All(f, x => Assert.True(float.IsFinite(x))));
        // The last row's forecast is the forecast from the end of the series: the engine's.
        Assert.Equal(model.CreateForecastingEngine().Predict().Forecast, forecasts[^1]);
        // Row 60's forecast depends only on rows up to 60: cutting the view there does not change it.
        var prefix = model.Transform(View(_ml, series[..61])).GetColumn<float[]>("Forecast").ToArray();
        Assert.Equal(forecasts[60], prefix[60]);
    }

    [Fact]
    public void ForecastBeatsSeasonalNaiveOnTrendingSeasonalSeries()
    {
        // Seasonal naive repeats last year and misses a year of trend (6 units); a working net does not.
        var series = Seasonal(156, seed: 2);
        var train = series[..144];
        var model = _ml.Forecasting.ForecastByRnn(Fast(horizon: 12)).Fit(View(_ml, train));
        var forecast = model.CreateForecastingEngine().Predict().Forecast;
        var actual = series[144..];
        double mase = ForecastMetrics.Mase(actual, forecast, train, 12);
        double naive = ForecastMetrics.Mase(actual, ForecastMetrics.SeasonalNaive(train, 12, 12), train, 12);
        Assert.True(mase < 0.8 * naive, $"MASE {mase:F3} vs seasonal naive {naive:F3}");
    }

    [Theory]
    [InlineData(SeriesScaling.Auto, true)]         // log ratios, noise proportional to the level
    [InlineData(SeriesScaling.Difference, false)]  // differences, noise of constant size
    public void IntervalsHoldTheirCoverageOnHeldOutData(SeriesScaling scaling, bool multiplicative)
    {
        // Many origins on a long noisy series: the share of held-out values inside the 90% bounds is near 90%.
        var series = multiplicative ? SeasonalMultiplicative(600, seed: 3, relativeNoise: 0.03) : Seasonal(600, seed: 3, noise: 4);
        var options = Fast(horizon: 3);
        options.ValidationFraction = 0.3f;
        options.Scaling = scaling;
        var model = _ml.Forecasting.ForecastByRnn(options).Fit(View(_ml, series[..400]));
        Assert.InRange(CoverageAfter(model, series, 400, 3), 0.84, 0.96);
    }

    /// <summary>The share of the values after row <paramref name="from"/> that fall inside the bounds forecast from
    /// each earlier row, over all <paramref name="horizon"/> steps ahead.</summary>
    private double CoverageAfter(RnnForecastingTransformer model, float[] series, int from, int horizon)
    {
        var output = model.Transform(View(_ml, series));
        var lower = output.GetColumn<float[]>("Lower").ToArray();
        var upper = output.GetColumn<float[]>("Upper").ToArray();
        int inside = 0, total = 0;
        for (int t = from; t + horizon < series.Length; t++)
            for (int h = 0; h < horizon; h++, total++)
                if (series[t + 1 + h] >= lower[t][h] && series[t + 1 + h] <= upper[t][h]) inside++;
        return (double)inside / total;
    }

    [Fact]
    public void QuantileHeadBoundsCoverNewValuesAsWellAsTheConformalBounds()
    {
        // A short series and a network large for it: the 5% and 95% heads, fitted to windows the network trained on,
        // come out too narrow for new values (they covered 67% of them before calibration). Calibrated on the held-out
        // windows, as the conformal bounds are, they cover new values at least as well as those do.
        var series = Seasonal(400, seed: 5, noise: 4);
        double Coverage(ForecastIntervalMethod method, out RnnForecastingTransformer model)
        {
            var options = Fast(horizon: 3);
            options.ValidationFraction = 0.3f;
            options.HiddenSizes = [32];
            options.Epochs = 300;
            options.Quantiles = [0.05f, 0.95f];
            options.IntervalMethod = method;
            model = _ml.Forecasting.ForecastByRnn(options).Fit(View(_ml, series[..150]));
            return CoverageAfter(model, series, 150, 3);
        }
        double heads = Coverage(ForecastIntervalMethod.Quantiles, out var model), conformal = Coverage(ForecastIntervalMethod.Conformal, out _);
        Assert.Contains(model.TrainingSummary.Notes, n => n.StartsWith("Quantile heads calibrated", StringComparison.Ordinal));
        Assert.True(heads >= conformal - 0.02 && heads <= 0.97, $"90% bounds cover {heads:P1} of new values from the heads, {conformal:P1} conformal");
    }

    [Fact]
    public void RecursiveStrategyFeedsItsForecastsBack()
    {
        // A one-step head applied H times: its first step is the one-step forecast from the window, and each later
        // step is the one-step forecast after appending the previous ones.
        var series = Seasonal(120, seed: 7);
        var o = Fast(horizon: 4);
        o.Strategy = ForecastingStrategy.Recursive;
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, series));
        var engine = model.CreateForecastingEngine();
        var forecast = engine.Predict().Forecast;
        engine.Observe(forecast[0]);
        Assert.Equal(forecast[1], engine.Predict().Forecast[0], 3);
        double mase = ForecastMetrics.Mase(Seasonal(124, seed: 7)[120..], forecast, series, 12);
        Assert.True(mase < 1.5, $"recursive MASE {mase:F3}");
    }

    [Fact]
    public void ElmanCellWithPascanuRegularizerTrainsThroughTheFrontDoor()
    {
        // Set on the ML.NET options, Ω reaches the trainer (its value is recorded each epoch), its gradient reaches
        // the weights (the same seeded fit without it ends elsewhere), and the net still learns the series.
        var series = Seasonal(112, seed: 8);
        var train = series[..100];
        RnnForecastingTransformer Fit(float weight)
        {
            var o = Fast(horizon: 12);
            o.Cell = MLNetRnn.Core.Cells.RecurrentCellKind.Elman;
            o.VanishingRegularizerWeight = weight;
            o.TruncationLength = 12;
            return _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, train));
        }
        var regularised = Fit(0.1f);
        var plain = Fit(0f);

        Assert.All(regularised.Diagnostics[0].Epochs, e => Assert.True(e.Regularizer > 0 && double.IsFinite(e.Regularizer), $"Ω {e.Regularizer} at epoch {e.Epoch}"));
        Assert.All(plain.Diagnostics[0].Epochs, e => Assert.Equal(0, e.Regularizer));
        float[] forecast = regularised.CreateForecastingEngine().Predict().Forecast;
        Assert.NotEqual(plain.CreateForecastingEngine().Predict().Forecast, forecast);

        var loss = regularised.TrainingSummary.Members[0].TrainingLoss;
        Assert.True(loss[^1] < loss[0] / 2, $"training loss {loss[0]:G3} → {loss[^1]:G3}");
        double mase = ForecastMetrics.Mase(series[100..], forecast, train, 12);
        double naive = ForecastMetrics.Mase(series[100..], ForecastMetrics.SeasonalNaive(train, 12, 12), train, 12);
        Assert.True(mase < naive, $"MASE {mase:F3} vs seasonal naive {naive:F3}");
    }

    [Fact]
    public void SameSeedGivesIdenticalForecasts()
    {
        var series = Seasonal(100, seed: 4);
        float[] Forecast(int seed)
        {
            var o = Fast(); o.Seed = seed;
            return _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, series)).CreateForecastingEngine().Predict().Forecast;
        }
        Assert.Equal(Forecast(3), Forecast(3));
        Assert.NotEqual(Forecast(3), Forecast(4));
    }

    [Fact]
    public void CovariatesFeedTheNetwork()
    {
        // A random promotion lifts the next value by 20. The values alone cannot tell whether the next one is lifted
        // (the best forecast from them errs by 20·√(0.3·0.7) ≈ 9.2 RMSE); the covariate in the window says all of it.
        var (values, promo) = PromotionSeries(260, seed: 5);
        var o = Fast(window: 8, horizon: 1, season: 1);
        o.CovariateColumnNames = [nameof(SeriesRow.Promo)];
        o.Base = ForecastBase.None;
        o.Epochs = 150;
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, values[..200], promo[..200]));
        Assert.Equal([nameof(SeriesRow.Promo)], model.CovariateColumnNames);

        // Held-out rows: forecasting from each row, the error is near the noise (σ = 1), far below what the values allow.
        var forecasts = model.Transform(View(_ml, values, promo)).GetColumn<float[]>("Forecast").ToArray();
        double rmse = Math.Sqrt(Enumerable.Range(200, 59).Average(t => Math.Pow(forecasts[t][0] - values[t + 1], 2)));
        Assert.True(rmse < 4, $"held-out RMSE {rmse:F2}; without the covariate it cannot go below about 9.2");

        // The same history, but the last row promoted or not: the forecast moves by about the promotion's lift.
        float Next(float lastPromo)
        {
            var engine = model.CreateForecastingEngine();
            engine.Observe(50f, [lastPromo]);
            return engine.Predict().Forecast[0];
        }
        float lift = Next(1f) - Next(0f);
        Assert.True(lift is > 12 and < 28, $"a promotion moved the forecast by {lift:F2}, not about 20");
    }

    [Fact]
    public void EngineObservesAndForecastsLikeTransform()
    {
        var series = Seasonal(130, seed: 6);
        var model = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, series[..100]));
        var engine = model.CreateForecastingEngine();
        Assert.Equal(100, engine.ObservationCount);
        foreach (float v in series[100..]) engine.Observe(v);
        var transformed = model.Transform(View(_ml, series)).GetColumn<float[]>("Forecast").Last();
        var predicted = engine.Predict();
        Assert.Equal(transformed, predicted.Forecast);
        var narrow = engine.Predict(horizon: 3, confidenceLevel: 0.5f);
        Assert.Equal(3, narrow.Forecast.Length);
        Assert.True(narrow.UpperBound[0] - narrow.LowerBound[0] <= predicted.UpperBound[0] - predicted.LowerBound[0]);
    }

    [Fact]
    public void OutputSchemaAddsVectorColumnsOfHorizonLength()
    {
        var model = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, Seasonal(80, 1)));
        var schema = model.GetOutputSchema(View(_ml, [1f]).Schema);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 6), schema["Upper"].Type);
    }

    [Fact]
    public void CatalogDefaultsMatchOptionsDefaults()
    {
        var method = typeof(RnnCatalog).GetMethods().Single(m => m.Name == nameof(RnnCatalog.ForecastByRnn) && m.GetParameters().Length > 2);
        var defaults = new RnnForecastingOptions();
        foreach (var p in method.GetParameters().Where(p => p.HasDefaultValue))
        {
            var property = typeof(RnnForecastingOptions).GetProperties().Single(x => string.Equals(x.Name, p.Name, StringComparison.OrdinalIgnoreCase));
            Assert.Equal(property.GetValue(defaults), p.DefaultValue);
        }
    }

    /// <summary>A level of 50 with noise (σ = 1), lifted by 20 the row after a promotion; promotions fall at random on
    /// 30% of the rows, so only the covariate tells the network when the lift comes.</summary>
    private static (float[] Values, float[] Promo) PromotionSeries(int n, int seed)
    {
        var rng = new Random(seed);
        var promo = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.3 ? 1f : 0f).ToArray();
        var values = Enumerable.Range(0, n).Select(t => (float)(50 + (t > 0 ? 20 * promo[t - 1] : 0) + Normal(rng))).ToArray();
        return (values, promo);
    }
}

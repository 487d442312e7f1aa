using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// Candidate seasonal periods (<see cref="ForecasterSettings.SeasonalPeriods"/>): each series chooses its own on its
/// training data, one candidate changes nothing, the choice survives the model's bytes and is made again for a cold
/// start, and bad values are refused naming the option.
/// </summary>
public sealed class SeasonalPeriodsTests
{
    private const int Hours = 30 * 24;

    /// <summary>Hourly, with a daily profile whose level drops by 60% on the two weekend days of every week.</summary>
    internal static float[] Weekly(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(t =>
        {
            double level = (t / 24) % 7 >= 5 ? 40 : 100;
            return (float)(level * (1 + 0.3 * Math.Sin(2 * Math.PI * t / 24)) + 2 * Normal(rng));
        }).ToArray();
    }

    /// <summary>Hourly, a daily profile on a slow trend, the same every day of the week.</summary>
    internal static float[] Daily(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(t => (float)(100 + 0.02 * t + 20 * Math.Sin(2 * Math.PI * t / 24) + 5 * Normal(rng))).ToArray();
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static ForecasterSettings Hourly(int ensemble) => new()
    {
        WindowSize = 48, Horizon = 24, SeasonalPeriod = 24, SeasonalPeriods = [24, 168], EnsembleSize = ensemble, HiddenSizes = [8],
        MaximumSteps = 40, MaximumDegreeOfParallelism = 1,
    };

    private static SeriesPanel Panel(params float[][] series)
        => new(series.Select((_, i) => $"S{i}").ToArray(), series, series.Select(_ => Array.Empty<float>()).ToArray(), series.Select(_ => Array.Empty<float>()).ToArray());

    [Fact]
    public void AWeeklySeriesTakesTheWeekAndASmoothDailyOneTheDay()
    {
        var model = ForecastModel.Train(Hourly(ensemble: 0), Panel(Weekly(Hours, 1), Daily(Hours, 3)));

        Assert.Equal(168, model.Series[0].SeasonalPeriod);
        Assert.Equal(24, model.Series[1].SeasonalPeriod);
        Assert.Contains(model.Summary.Notes, n => n.Contains("m = 24 (1), m = 168 (1)", StringComparison.Ordinal));
        Assert.All(model.Summary.Series, x => Assert.Contains("(m = ", x.Base, StringComparison.Ordinal));
        // Everything of the series uses its period: the base's seasonal naive and the seasonal indices.
        Assert.Equal(168, model.Series[0].Baseline!.SeasonalPeriod);
        Assert.True(model.Series[0].Season.Kind == MLNetRnn.Core.Forecasting.Baselines.SeasonalAdjustment.None || model.Series[0].Season.Period == 168);
    }

    [Fact]
    public void AWeekChosenAmongADayAndAWeekIsShrunkTowardsTheDayTimesTheWeekday()
    {
        // The season the networks and the base remove is the week nested in the day (halfway to the day's profile
        // times a weekday factor), not the 168 indices alone; with the week as the only candidate it is the latter.
        var values = Weekly(Hours, 1);
        var model = ForecastModel.Train(Hourly(ensemble: 0), values, []);
        Assert.Equal(168, model.Single.SeasonalPeriod);
        var kind = model.Single.Season.Kind;
        Assert.NotEqual(MLNetRnn.Core.Forecasting.Baselines.SeasonalAdjustment.None, kind);
        var nested = MLNetRnn.Core.Forecasting.Baselines.SeasonalDecomposition.Fit(values, 168, kind, nestedIn: 24);
        var alone = MLNetRnn.Core.Forecasting.Baselines.SeasonalDecomposition.Fit(values, 168, kind);
        Assert.NotEqual(alone.Indices, nested.Indices);
        Assert.Equal(nested.Indices, model.Single.Season.Indices);
        Assert.Equal(nested.Indices, model.Single.Baseline!.Season.Indices);

        var weekOnly = ForecastModel.Train(Hourly(ensemble: 0) with { SeasonalPeriod = 168, SeasonalPeriods = [] }, values, []);
        Assert.Equal(alone.Indices, weekOnly.Single.Season.Indices);
    }

    [Fact]
    public void AFixedSeasonalNaiveBaseJudgesThePeriodAndRepeatsTheSeriesOwnSeason()
    {
        // The state must keep a week of history for this series although the model's SeasonalPeriod is a day.
        var values = Weekly(Hours, 7);
        var settings = Hourly(ensemble: 0) with { Base = ForecastBase.SeasonalNaive };
        var model = ForecastModel.Train(settings, values, []);
        Assert.Equal(168, model.Single.SeasonalPeriod);
        var forecast = Forecast(model, values);
        // Up to the rounding of the window's scaling, which the forecast passes through.
        for (int k = 0; k < 24; k++) Assert.InRange(forecast[k] - values[Hours - 168 + k], -1e-3f, 1e-3f);
    }

    [Fact]
    public void OneCandidateOrCandidatesTooLongForTheSeriesForecastExactlyAsWithout()
    {
        // A season of 500 needs two of them before the evaluation's origins: a 120-value series cannot consider it.
        var values = Enumerable.Range(0, 120).Select(t => 100f + 0.5f * t + 10f * MathF.Sin(2 * MathF.PI * t / 12) + (t * 7919 % 13) * 0.3f).ToArray();
        var plain = new ForecasterSettings { WindowSize = 24, Horizon = 6, SeasonalPeriod = 12, EnsembleSize = 1, MaximumSteps = 60, MaximumDegreeOfParallelism = 1 };
        var expected = Forecast(ForecastModel.Train(plain, values, []), values);
        foreach (int[] periods in new[] { new[] { 12 }, [12, 500] })
        {
            var model = ForecastModel.Train(plain with { SeasonalPeriods = periods }, values, []);
            Assert.Equal(12, model.Single.SeasonalPeriod);
            Assert.Equal(expected, Forecast(model, values));
        }
    }

    private static float[] Forecast(ForecastModel model, float[] values)
    {
        float[] forecast = new float[model.Settings.Horizon], lower = new float[forecast.Length], upper = new float[forecast.Length];
        model.Forecast(ForecastState.AfterSeries(model, values, []), 0.9f, model.CreateScratch(), forecast, lower, upper);
        return [.. forecast, .. lower, .. upper];
    }

    [Fact]
    public void EachSeriesKeepsItsPeriodThroughTheModelsBytesAndAColdStartChoosesItsOwn()
    {
        float[][] series = [Weekly(Hours, 3), Daily(Hours, 4)];
        var model = ForecastModel.Train(Hourly(ensemble: 1), Panel(series));
        var loaded = ForecastModel.FromBytes(model.ToBytes());

        Assert.Equal(model.Series.Select(f => f.SeasonalPeriod), loaded.Series.Select(f => f.SeasonalPeriod));
        Assert.Equal([168, 24], loaded.Series.Select(f => f.SeasonalPeriod));
        for (int i = 0; i < series.Length; i++)
            Assert.Equal(PanelForecast(model, i, series[i]), PanelForecast(loaded, i, series[i]));
        Assert.Equal(model.ToBytes(), loaded.ToBytes());
        // The candidates are the loaded model's too: a weekly series started cold takes the week.
        Assert.Equal(168, loaded.FitSeries(Weekly(Hours, 5), []).SeasonalPeriod);
    }

    /// <summary>Series i's forecast and 90% bounds, from the end of <paramref name="values"/>.</summary>
    internal static float[] PanelForecast(ForecastModel model, int i, float[] values)
    {
        var fit = model.Series[i];
        int H = model.Settings.Horizon;
        float[] forecast = new float[H], lower = new float[H], upper = new float[H];
        model.Forecast(fit, ForecastState.AfterSeries(model.Settings, fit, values, []), [], 0.9f, ForecastIntervalMethod.Conformal, model.CreateScratch(),
            forecast, lower, upper, []);
        return [.. forecast, .. lower, .. upper];
    }

    [Theory]
    [InlineData(new[] { 0, 24 }, "at least 1")]
    [InlineData(new[] { 168 }, "must contain SeasonalPeriod (24)")]
    public void BadCandidatesAreRefusedNamingTheOption(int[] periods, string why)
    {
        var settings = new ForecasterSettings { WindowSize = 48, Horizon = 24, SeasonalPeriod = 24, SeasonalPeriods = periods, EnsembleSize = 0 };
        var ex = Assert.ThrowsAny<ArgumentException>(() => ForecastModel.Train(settings, Daily(Hours, 6), []));
        Assert.Equal(nameof(ForecasterSettings.SeasonalPeriods), ex.ParamName);
        Assert.Contains("SeasonalPeriods", ex.Message, StringComparison.Ordinal);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }
}

using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// A positive series is not forecast to fall to zero or below by its base: when the best-scored candidate's trend runs
/// out of the series' domain within the horizon, the next candidate in the ranking that stays positive is taken, and
/// the model's notes say so; a series whose best candidate stays positive keeps it.
/// </summary>
public sealed class PositiveBaseTests
{
    /// <summary>M1's MNM35 (monthly, its 95 training values): a steady rise with a yearly dip, then a spike and a fall in
    /// the last year. Holt scores best at the evaluation's origins, and its trend from the end crosses zero within 18
    /// months (R's ets forecasts it at sMAPE 12.6; Holt's forecast, floored, scored 143).</summary>
    private static readonly float[] Mnm35 =
    [
        1871, 2272, 2005, 1930, 1787, 2197, 1586, 663, 1964, 1973, 1994, 1993, 1789, 2051, 1925, 1983, 1834, 2241, 1723, 721,
        1988, 2132, 2378, 1944, 1798, 2298, 2041, 2173, 2130, 2309, 1975, 826, 2441, 2349, 2255, 2303, 2154, 2624, 2375, 2403,
        2292, 2651, 2071, 884, 2513, 2541, 2624, 2458, 2249, 2739, 2480, 2508, 2393, 2768, 2162, 923, 2624, 2653, 2739, 2566,
        2017, 3028, 2792, 2536, 2552, 2971, 2484, 1040, 2773, 3037, 3156, 3205, 2675, 3381, 2626, 3274, 3171, 3177, 3205, 1186,
        3082, 3558, 3627, 4702, 4067, 5962, 4188, 4912, 4519, 4519, 3987, 1846, 3508, 4251, 2917,
    ];

    private static ForecasterSettings Monthly => new() { WindowSize = 16, Horizon = 18, SeasonalPeriod = 12, EnsembleSize = 0 };

    [Fact]
    public void ABestScoredBaseThatWouldForecastBelowZeroIsPassedOverForTheNextThatStaysPositive()
    {
        var fit = SeriesFit.Fit(Monthly, Mnm35, []);

        Assert.Equal([ForecastBase.Holt], fit.Candidates[0].Methods);
        var holt = Baseline.Fit(Mnm35, 12, fit.Season.Kind, [BaselineMethod.Holt]);
        Assert.False(SeriesFit.InDomain(holt, Mnm35, 18));
        Assert.NotEqual([BaselineMethod.Holt], fit.Baseline!.Methods);
        Assert.True(SeriesFit.InDomain(fit.Baseline, Mnm35, 18));
        Assert.True(fit.BasesPassedOver >= 1);
        // It is the next in the ranking that stays positive.
        var taken = fit.Candidates[fit.BasesPassedOver].Methods;
        Assert.Equal(taken, fit.Baseline.Methods.Select(m => Enum.Parse<ForecastBase>(m.ToString())).ToArray());

        var model = ForecastModel.Train(Monthly, Mnm35, []);
        float[] forecast = new float[18], lower = new float[18], upper = new float[18];
        model.Forecast(ForecastState.AfterSeries(model, Mnm35, []), 0.9f, model.CreateScratch(), forecast, lower, upper);
        Assert.All(forecast, f => Assert.True(f > 0.1f * Mnm35.Min(), $"forecast {f}"));
        Assert.Contains(model.Summary.Notes, n => n.Contains("stays positive", StringComparison.Ordinal));
    }

    [Fact]
    public void ABestScoredBaseThatStaysPositiveIsKept()
    {
        var rising = Enumerable.Range(0, 96).Select(t => 100f + 2f * t + 20f * MathF.Sin(2 * MathF.PI * t / 12) + (t * 7919 % 13)).ToArray();
        var fit = SeriesFit.Fit(Monthly, rising, []);

        Assert.Equal(0, fit.BasesPassedOver);
        Assert.Equal(fit.Candidates[0].Methods, fit.Baseline!.Methods.Select(m => Enum.Parse<ForecastBase>(m.ToString())).ToArray());
        Assert.DoesNotContain(ForecastModel.Train(Monthly, rising, []).Summary.Notes, n => n.Contains("stays positive", StringComparison.Ordinal));
    }
}

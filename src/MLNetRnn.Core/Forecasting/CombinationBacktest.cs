using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Forecasting;

// S = series, H = horizon, n = a series' length. A series "cut" is its first n − H values; the backtest forecasts the
// last H from the cut.

/// <summary>
/// Whether a panel that learned a base combination ships the networks' forecast alone or its mean with the
/// combination, judged where the choice's own parts have not looked: every series is cut H values before its end, its
/// season and base are chosen and fitted again on the cut, and both forecasts of the H values are made by the member
/// that held out every series' last block (member 0, which trained on no window whose targets reach them). What still
/// saw them is shared by the two forecasts and chosen once for the panel or shrunk across it: member 0's epoch (early
/// stopping read its block) and λ. The held-out windows inside the training span cannot judge this: early stopping
/// chose the epoch on their neighbours, and the base selection scored its candidates on a series' last values, so the
/// networks' forecast on the selection looks better there than it is (a rule that read them went alone, wrongly, on
/// three of M3's four panels).
/// </summary>
internal static class CombinationBacktest
{
    /// <summary>The most series judged, evenly across the panel: each needs its base chosen again.</summary>
    internal const int MaximumSeries = 250;

    /// <summary>
    /// The paired evidence over the judged series (each series' mean absolute error over the H values divided by its
    /// MASE scale on the cut), for <paramref name="alone"/> (the trained model, each series' selected base with the
    /// whole correction) and for its mean with <paramref name="combination"/> (each base the mean of the two, the
    /// correction halved, as ForecastTrainer ships it). Judges only panels without covariates (none of their future
    /// rows are needed) and series whose last block member 0 held out.
    /// </summary>
    public static CombinationMeanEvidence Judge(ForecastModel alone, BaseCombination combination, SeriesPanel panel, SeriesFolds[] folds, CancellationToken ct)
    {
        var s = alone.Settings;
        int H = s.Horizon;
        if (alone.Members.Length == 0 || s.CovariateCount > 0 || s.Recursive) return CombinationMeanEvidence.Judge([], []);
        var backtests = Forecasts(alone, combination, panel, folds.Select(f => f.Block > 0).ToArray(), ct);
        var errorsAlone = new double[backtests.Length];
        var errorsMean = new double[backtests.Length];
        for (int j = 0; j < backtests.Length; j++)
        {
            var b = backtests[j];
            var actual = panel.Values[b.Series].AsSpan(panel.Values[b.Series].Length - H);
            (errorsAlone[j], errorsMean[j]) = (ForecastMetrics.MeanAbsoluteError(actual, b.Alone) / b.Scale, ForecastMetrics.MeanAbsoluteError(actual, b.Mean) / b.Scale);
        }
        return CombinationMeanEvidence.Judge(errorsAlone, errorsMean);
    }

    /// <summary>One judged series: its two forecasts of its last H values, made from the cut, and its MASE scale on the cut.</summary>
    internal readonly record struct Backtest(int Series, float[] Alone, float[] Mean, double Scale);

    /// <summary>
    /// The two forecasts of the last H values of up to <see cref="MaximumSeries"/> series (evenly across those whose
    /// last block member 0 held out, <paramref name="heldOutLast"/>, that are not constant and stay long enough once
    /// cut), each from the series cut before them, by member 0 alone. Nothing in them reads the last H values.
    /// </summary>
    internal static Backtest[] Forecasts(ForecastModel alone, BaseCombination combination, SeriesPanel panel, bool[] heldOutLast, CancellationToken ct)
    {
        var s = alone.Settings;
        int S = panel.Count, H = s.Horizon;
        var eligible = Enumerable.Range(0, S)
            .Where(i => heldOutLast[i] && !alone.Series[i].Constant && panel.Values[i].Length - H >= s.MinimumForecastLength).ToArray();
        int every = Math.Max(1, (eligible.Length + MaximumSeries - 1) / MaximumSeries);
        var judged = eligible.Where((_, j) => j % every == 0).ToArray();

        var cutAlone = new SeriesFit?[judged.Length];
        var cutMean = new SeriesFit?[judged.Length];
        ForecastTrainer.ForEachSeries(judged.Length, s.MaximumDegreeOfParallelism, ct, j =>
        {
            int i = judged[j];
            var cut = panel.Values[i][..^H];
            SeriesFit fit;
            try
            {
                fit = SeriesFit.Fit(s, cut, panel.StaticFeatures[i]);
            }
            catch (ArgumentException)
            {
                return;   // the cut no longer suits an explicit option (a season longer than half of it): not judged
            }
            if (cut.Length < fit.FirstOrigin(s) || fit.Constant) return;
            float lambda = alone.Series[i].CorrectionWeight ?? alone.CorrectionWeight;
            fit.Category = alone.Series[i].Category;
            var mean = fit.WithCombination(combination, cut, H);
            // As ForecastTrainer ships it: a series whose base stays the selection's keeps its whole λ.
            fit.CorrectionWeight = lambda;
            if (!ReferenceEquals(mean, fit)) mean.CorrectionWeight = lambda / 2;
            (cutAlone[j], cutMean[j]) = (fit, mean);
        });

        var judge = alone.WithSeries(alone.Series);
        judge.Members = [alone.Members[0]];
        var scratch = ForecastRunner.CreateScratch(judge);
        var bounds = new float[H];
        var result = new List<Backtest>(judged.Length);
        for (int j = 0; j < judged.Length; j++)
        {
            ct.ThrowIfCancellationRequested();
            if (cutAlone[j] is not { } fit || cutMean[j] is not { } mean) continue;
            var values = panel.Values[judged[j]];
            var cut = values.AsSpan(0, values.Length - H);
            double scale = SeasonalScale.OrNaive(cut, fit.SeasonalPeriod);
            if (!(scale > 0)) continue;
            result.Add(new Backtest(judged[j], Forecast(judge, fit, cut, scratch, bounds), Forecast(judge, mean, cut, scratch, bounds), scale));
        }
        return result.ToArray();
    }

    private static float[] Forecast(ForecastModel judge, SeriesFit fit, ReadOnlySpan<float> cut, ForecastRunner.Scratch scratch, float[] bounds)
    {
        var forecast = new float[judge.Settings.Horizon];
        var state = ForecastState.AfterSeries(judge.Settings, fit, cut, ReadOnlySpan<float>.Empty);
        ForecastRunner.Forecast(judge, fit, state, ReadOnlySpan<float>.Empty, 0.8f, ForecastIntervalMethod.Conformal, scratch, forecast, bounds, bounds, Span<float>.Empty);
        return forecast;
    }
}

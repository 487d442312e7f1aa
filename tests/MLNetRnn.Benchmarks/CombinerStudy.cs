using System.Globalization;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Benchmarks;

// S = series, C = candidate bases (BaselineSelection.DefaultCandidates, 8).

/// <summary>
/// <c>collection --model base --combiner true</c>: the study that led to <see cref="BaseCombination"/>
/// (docs/design/collections.md): the library's learned combination of the candidates on its own, each series forecast
/// by the candidates weighted softmax(a − β·ln s) with (a, β) learned on the panel's training origins
/// (<see cref="BaseCombination.Origins"/>, <see cref="BaseCombination.Learn"/>), beside the best-scored candidate alone
/// and all candidates equally, all three without the library's rule for positive series and with one seasonal period.
/// The library ships the mean of the selection (corrected by the networks) and this combination; the study measures
/// the combination alone.
/// </summary>
internal static class CombinerStudy
{
    /// <summary>The variants' forecasts (h each), by variant then series: "selected" (the best score alone), "mean" (all
    /// candidates equally) and "learned" (the library's learned weights).</summary>
    public static Dictionary<string, Dictionary<string, float[]>> Run(IReadOnlyList<(string Name, float[] Training)> series, int m, int h, TextWriter log)
    {
        var candidates = BaselineSelection.DefaultCandidates;
        int C = candidates.Count, S = series.Count;
        var origins = new List<BaseCombination.Origin>[S];
        var test = new (float[][] Forecasts, float[] LogScore)?[S];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Parallel.For(0, S, i =>
        {
            var v = series[i].Training;
            origins[i] = BaseCombination.Origins(v, m, h, SeasonalAdjustment.Auto, nestedIn: 1, BaselineSelection.MaxOrigins);
            var kind = SeasonalDecomposition.Fit(v, m, SeasonalAdjustment.Auto).Kind;
            if (BaseCombination.LogScores(BaselineSelection.Rank(v, m, h, kind, candidates, BaselineSelection.MaxOrigins)) is not { } logScore) return;
            var all = new float[C * h];
            BaseCombination.CandidateForecasts(v, m, kind, nestedIn: 1, all);
            test[i] = (Enumerable.Range(0, C).Select(c => all.AsSpan(c * h, h).ToArray()).ToArray(), logScore);
        });
        var all = origins.SelectMany(o => o).ToArray();
        var learned = BaseCombination.Learn(all);
        log.WriteLine(string.Format(CultureInfo.InvariantCulture, "  combiner: {0} training origins over {1} series, {2} series with a test score; {3:F0} s; {4}", all.Length,
            origins.Count(o => o.Count > 0), test.Count(t => t is not null), clock.Elapsed.TotalSeconds,
            learned is null ? $"too few origins to learn from (at least {BaseCombination.MinimumOrigins})"
                : string.Create(CultureInfo.InvariantCulture, $"β {learned.Sharpness:F2}, a = {string.Join(" ", learned.Bias.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}")));

        var result = new Dictionary<string, Dictionary<string, float[]>>
        {
            ["selected"] = new(StringComparer.Ordinal), ["mean"] = new(StringComparer.Ordinal), ["learned"] = new(StringComparer.Ordinal),
        };
        var w = new double[C];
        for (int i = 0; i < S; i++)
        {
            if (test[i] is not { } t) continue;
            int best = Array.IndexOf(t.LogScore, t.LogScore.Min());
            result["selected"][series[i].Name] = t.Forecasts[best];
            Array.Fill(w, 1.0 / C);
            result["mean"][series[i].Name] = Combine(t.Forecasts, w, h);
            if (learned is null) continue;
            learned.Weights(t.LogScore, w);
            result["learned"][series[i].Name] = Combine(t.Forecasts, w, h);
        }
        return result;
    }

    private static float[] Combine(float[][] forecasts, double[] w, int h)
    {
        var f = new float[h];
        for (int k = 0; k < h; k++)
        {
            double y = 0;
            for (int c = 0; c < w.Length; c++) y += w[c] * forecasts[c][k];
            f[k] = (float)y;
        }
        return f;
    }
}

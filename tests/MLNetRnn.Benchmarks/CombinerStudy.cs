using System.Globalization;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Benchmarks;

// S = series, R = training origins per series, c = candidate bases (BaselineSelection.DefaultCandidates, 8),
// s_c = a candidate's rolling-origin score (the base selection's), w = the combination weights.

/// <summary>
/// <c>collection --model base --combiner true</c>: a study of a base combination learned across a collection
/// (docs/design/collections.md). The library chooses each series' base alone, by the lowest rolling-origin score. Here
/// the weights w_c = softmax(a_c − β·ln s_c) over the candidates are learned on the whole panel instead: at every
/// training origin of every series, each candidate is refitted on the values before the origin and scored by the same
/// selection run on those values alone, and (a, β) minimise the scaled absolute error of the combination on the values
/// after the origin (inside the training part). The test forecast combines the candidates fitted on the whole training
/// part, weighted by their scores there. What it measures: whether a panel can learn how far to trust its series'
/// scores (β) and which candidates to prefer (a), where each series alone can only pick its best.
/// </summary>
internal static class CombinerStudy
{
    private sealed record Sample(float[][] Forecasts, float[] Target, float[] LogScore, double Scale);

    /// <summary>The variants' forecasts (h each), by variant then series: "selected" (the best score alone), "mean" (all
    /// candidates equally), "temperature" (β learned, a = 0) and "learned" (a and β).</summary>
    public static Dictionary<string, Dictionary<string, float[]>> Run(IReadOnlyList<(string Name, float[] Training)> series, int m, int h, int origins, TextWriter log)
    {
        var candidates = BaselineSelection.DefaultCandidates;
        int C = candidates.Count, S = series.Count;
        var training = new List<Sample>[S];
        var test = new Sample?[S];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Parallel.For(0, S, i =>
        {
            var v = series[i].Training;
            int n = v.Length;
            double scale = Scale(v, m);
            training[i] = [];
            int minimum = Math.Max(8, 2 * m) + 2;
            foreach (int o in BaselineSelection.Origins(n, h, minimum, origins))
                if (At(v.AsSpan(0, o), m, h, candidates, scale) is { } sample)
                {
                    int steps = Math.Min(h, n - o);
                    training[i].Add(sample with { Target = v.AsSpan(o, steps).ToArray() });
                }
            test[i] = At(v, m, h, candidates, scale);
        });
        int samples = training.Sum(t => t.Count);
        log.WriteLine(string.Format(CultureInfo.InvariantCulture, "  combiner: {0} training origins over {1} series, {2} series with a test score; {3:F0} s", samples,
            training.Count(t => t.Count > 0), test.Count(t => t is not null), clock.Elapsed.TotalSeconds));

        var all = training.SelectMany(t => t).ToArray();
        var (aT, bT, lossT) = Learn(all, C, learnBias: false);
        var (aL, bL, lossL) = Learn(all, C, learnBias: true);
        log.WriteLine(string.Format(CultureInfo.InvariantCulture, "  combiner: training loss selected {0:F4}, mean {1:F4}, temperature β {2:F2} {3:F4}, learned β {4:F2} {5:F4}; a = {6}",
            Loss(all, new double[C], 1e6), Loss(all, new double[C], 0), bT, lossT, bL, lossL,
            string.Join(" ", candidates.Select((c, k) => $"{string.Join("+", c.Select(Short))} {aL[k]:F2}"))));

        var result = new Dictionary<string, Dictionary<string, float[]>>
        {
            ["selected"] = new(StringComparer.Ordinal), ["mean"] = new(StringComparer.Ordinal),
            ["temperature"] = new(StringComparer.Ordinal), ["learned"] = new(StringComparer.Ordinal),
        };
        for (int i = 0; i < S; i++)
        {
            if (test[i] is not { } t) continue;
            result["selected"][series[i].Name] = Combine(t, new double[C], 1e6);
            result["mean"][series[i].Name] = Combine(t, new double[C], 0);
            result["temperature"][series[i].Name] = Combine(t, aT, bT);
            result["learned"][series[i].Name] = Combine(t, aL, bL);
        }
        return result;
    }

    private static string Short(BaselineMethod method) => method switch
    {
        BaselineMethod.SimpleExponentialSmoothing => "SES", BaselineMethod.SeasonalNaive => "SNaive", BaselineMethod.DampedTrend => "Damped", _ => method.ToString(),
    };

    // Every candidate fitted on `values` and forecast h ahead, with its score from the selection run on `values` alone;
    // null when the selection has no origin to score.
    private static Sample? At(ReadOnlySpan<float> values, int m, int h, IReadOnlyList<IReadOnlyList<BaselineMethod>> candidates, double scale)
    {
        var kind = SeasonalDecomposition.Fit(values, m, SeasonalAdjustment.Auto).Kind;
        var ranked = BaselineSelection.Rank(values, m, h, kind, candidates, maxOrigins: 8);
        if (ranked.Any(r => double.IsNaN(r.Score))) return null;
        int C = candidates.Count;
        var logScore = new float[C];
        var forecasts = new float[C][];
        var state = new double[64];
        var scratch = new float[h];
        for (int c = 0; c < C; c++)
        {
            logScore[c] = (float)Math.Log(ranked.First(r => ReferenceEquals(r.Methods, candidates[c])).Score + 1e-3);
            var methods = candidates[c].Contains(BaselineMethod.SeasonalNaive) && values.Length < m ? [BaselineMethod.Naive] : candidates[c];
            var b = Baseline.Fit(values, m, kind, methods);
            b.ObserveAll(state, values);
            forecasts[c] = new float[h];
            b.Forecast(state, values, values.Length, forecasts[c], scratch);
        }
        return new Sample(forecasts, [], logScore, scale);
    }

    private static double Scale(ReadOnlySpan<float> v, int m)
    {
        int lag = v.Length > m ? m : 1;
        double sum = 0;
        for (int t = lag; t < v.Length; t++) sum += Math.Abs(v[t] - v[t - lag]);
        double scale = sum / Math.Max(1, v.Length - lag);
        return scale > 0 ? scale : 1;
    }

    private static void Weights(Sample x, double[] a, double beta, double[] w)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < w.Length; c++) max = Math.Max(max, w[c] = a[c] - beta * x.LogScore[c]);
        double sum = 0;
        for (int c = 0; c < w.Length; c++) sum += w[c] = Math.Exp(w[c] - max);
        for (int c = 0; c < w.Length; c++) w[c] /= sum;
    }

    private static float[] Combine(Sample x, double[] a, double beta)
    {
        var w = new double[a.Length];
        Weights(x, a, beta, w);
        int h = x.Forecasts[0].Length;
        var f = new float[h];
        for (int k = 0; k < h; k++)
        {
            double y = 0;
            for (int c = 0; c < w.Length; c++) y += w[c] * x.Forecasts[c][k];
            f[k] = (float)y;
        }
        return f;
    }

    private static double Loss(Sample[] all, double[] a, double beta) => Gradient(all, a, beta, null, out _);

    // The mean over samples of the scaled mean absolute error, and its (sub)gradient in a and β.
    private static double Gradient(Sample[] all, double[] a, double beta, double[]? ga, out double gb)
    {
        int C = a.Length;
        var w = new double[C];
        var dw = new double[C];
        double loss = 0;
        gb = 0;
        if (ga is not null) Array.Clear(ga);
        foreach (var x in all)
        {
            Weights(x, a, beta, w);
            Array.Clear(dw);
            int steps = x.Target.Length;
            double e = 0;
            for (int k = 0; k < steps; k++)
            {
                double y = 0;
                for (int c = 0; c < C; c++) y += w[c] * x.Forecasts[c][k];
                double r = y - x.Target[k];
                e += Math.Abs(r);
                double sign = Math.Sign(r) / (x.Scale * steps * all.Length);
                for (int c = 0; c < C; c++) dw[c] += sign * x.Forecasts[c][k];
            }
            loss += e / (x.Scale * steps);
            if (ga is null) continue;
            // softmax: dz_c = w_c (dw_c − Σ w·dw); z_c = a_c − β ln s_c
            double dot = 0;
            for (int c = 0; c < C; c++) dot += w[c] * dw[c];
            for (int c = 0; c < C; c++)
            {
                double dz = w[c] * (dw[c] - dot);
                ga[c] += dz;
                gb -= dz * x.LogScore[c];
            }
        }
        return loss / all.Length;
    }

    // Adam on the whole batch from a few temperatures, the lowest training loss kept.
    private static (double[] A, double Beta, double Loss) Learn(Sample[] all, int C, bool learnBias)
    {
        (double[] A, double Beta, double Loss) best = (new double[C], 0, double.PositiveInfinity);
        foreach (double start in new[] { 0.0, 2, 5, 10 })
        {
            var a = new double[C];
            double beta = start;
            var ga = new double[C];
            var (ma, va) = (new double[C + 1], new double[C + 1]);
            const double rate = 0.05, b1 = 0.9, b2 = 0.999;
            for (int step = 1; step <= 400; step++)
            {
                Gradient(all, a, beta, ga, out double gb);
                for (int j = 0; j <= C; j++)
                {
                    if (j < C && !learnBias) continue;
                    double g = j < C ? ga[j] : gb;
                    ma[j] = b1 * ma[j] + (1 - b1) * g;
                    va[j] = b2 * va[j] + (1 - b2) * g * g;
                    double d = rate * (ma[j] / (1 - Math.Pow(b1, step))) / (Math.Sqrt(va[j] / (1 - Math.Pow(b2, step))) + 1e-8);
                    if (j < C) a[j] -= d;
                    else beta -= d;
                }
            }
            double loss = Loss(all, a, beta);
            if (loss < best.Loss) best = (a, beta, loss);
        }
        return best;
    }
}

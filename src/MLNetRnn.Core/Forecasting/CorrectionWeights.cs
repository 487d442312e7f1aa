using System.Globalization;

namespace MLNetRnn.Core.Forecasting;

// S = series, E = evaluation windows, H = horizon, e = the base's error y − r, ĉ = the members' held-out correction,
// both in network units; λ* = the least-squares weight, se = its standard error, τ² = the spread of the true
// per-series weights.

/// <summary>
/// The correction weight λ of a trained <see cref="ForecastModel"/>: how much of the networks' correction the
/// forecast keeps, fitted on the held-out windows and shrunk by the evidence for it (James–Stein), and on a panel
/// each series' own λ, pulled towards the panel's mean (random effects).
/// </summary>
internal static class CorrectionWeights
{
    /// <summary>
    /// Sets <paramref name="model"/>'s λ (and on a panel each series' own) from the held-out forecasts, adding what
    /// it did to <paramref name="notes"/>. Without damping (or without a base) λ = 1. Returns whether the fitted λ
    /// keeps any correction: the shipped model is then calibrated on the held-out windows, not as the base alone.
    /// </summary>
    public static bool Fit(ForecastModel model, HeldOutEvaluation heldOut, SeriesTrack[] tracks, SeriesFolds[] folds, ForecastRunner.Scratch scratch,
        List<string> notes, CancellationToken ct)
    {
        var s = model.Settings;
        int H = s.Horizon;
        bool single = model.Series.Count == 1;
        if (!s.CorrectionDamping || s.Base == ForecastBase.None)
        {
            model.CorrectionWeight = 1f;
            return true;
        }
        int steps = s.Recursive ? 1 : H;
        var full = heldOut.Forecasts(model, tracks, 1f, scratch);
        model.CorrectionWeight = FitCorrectionWeight(heldOut, full, steps, H);
        bool corrected = model.CorrectionWeight > 0f;
        if (corrected && !single)
        {
            // Every series' held-out windows, not only the sample λ was fitted on: each series needs its own.
            // Beyond that sample, a group of series at a time, so memory stays that of one evaluation.
            var estimates = new List<(int Series, double Lambda, double Variance)>();
            if (heldOut.CoversEverySeries(folds)) CollectSeriesEstimates(model, heldOut, full, steps, H, estimates);
            else
                foreach (var group in SeriesGroups(folds, ForecasterSettings.MaximumEvaluationWindows))
                {
                    var ev = HeldOutEvaluation.Evaluate(model, tracks, folds, held: true, scratch, ct, only: group);
                    CollectSeriesEstimates(model, ev, ev.Forecasts(model, tracks, 1f, scratch), steps, H, estimates);
                }
            notes.Add(FitSeriesWeights(model, estimates, H));
        }
        if (!corrected)
            notes.Add(single
                ? "λ = 0: the networks' correction did not improve the base on the held-out windows, so the forecast is the base alone."
                : "λ = 0: the networks' correction did not improve the bases on the held-out windows, so the forecasts are the bases alone.");
        return corrected;
    }

    /// <summary>
    /// λ, the weight of the ensemble's correction ĉ on the base's error e = y − r over the validation windows, in
    /// network units: the least-squares λ* = Σ e·ĉ / Σ ĉ², shrunk by the evidence for it, λ = λ*·(1 − 1/t²)₊ with
    /// t = λ*/se (the positive-part James–Stein factor), clamped to [0, 1].
    /// </summary>
    /// <remarks>
    /// Validation windows overlap: consecutive windows share H − 1 target values, so they are far from
    /// independent, and a handful of them can make any correction look good. The standard error is therefore a
    /// Newey–West one over the per-window scores with bandwidth H (the overlap), which counts a run of overlapping
    /// windows roughly once. Windows of different series are taken as independent. On a short series a correction
    /// must be consistently right to survive; on a long one (or a panel) the shrinkage fades away.
    /// </remarks>
    internal static float FitCorrectionWeight(float[] heldOut, float[] targets, float[] reference, int[][] validators, int steps, int H)
    {
        // One series: the windows some member held out, in order, as an evaluation.
        var held = Enumerable.Range(0, validators.Length).Where(i => validators[i].Length > 0).ToArray();
        float[] Pick(float[] a) => held.SelectMany(i => a.AsSpan(i * H, H).ToArray()).ToArray();
        var ev = new HeldOutEvaluation
        {
            SeriesOf = new int[held.Length], IndexOf = held, FirstOrigin = [0], WindowCount = [validators.Length], Reference = Pick(reference), Target = Pick(targets),
            Level = new float[held.Length], Correction = new float[held.Length * H], Members = held.Select(i => validators[i]).ToArray(), ShiftScale = [0],
        };
        return FitCorrectionWeight(ev, Pick(heldOut), steps, H);
    }

    private static float FitCorrectionWeight(HeldOutEvaluation ev, float[] heldOut, int steps, int H)
    {
        var (lambda, se) = CorrectionEstimate(ev, heldOut, steps, H, 0, ev.Count);
        if (!(lambda > 0)) return 0f;
        double shrink = se > 0 ? Math.Max(0, 1 - (se * se) / (lambda * lambda)) : 1;
        return (float)Math.Clamp(lambda * shrink, 0, 1);
    }

    /// <summary>
    /// The least-squares λ* = Σ e·ĉ / Σ ĉ² over the evaluation windows [<paramref name="from"/>, <paramref name="to"/>)
    /// and its Newey–West standard error (see <see cref="FitCorrectionWeight(float[], float[], float[], int[][], int, int)"/>);
    /// NaN when the correction is zero there. The windows are in series order.
    /// </summary>
    private static (double Lambda, double Se) CorrectionEstimate(HeldOutEvaluation ev, float[] heldOut, int steps, int H, int from, int to)
    {
        float[] targets = ev.Target, reference = ev.Reference;
        double num = 0, den = 0;
        for (int i = from; i < to; i++)
        {
            for (int k = 0; k < steps; k++)
            {
                double e = targets[i * H + k] - reference[i * H + k], c = heldOut[i * H + k] - reference[i * H + k];
                num += e * c; den += c * c;
            }
        }
        if (!(den > 0)) return (double.NaN, double.NaN);
        double lambda = num / den;
        // Per-window scores S_i = Σ_k ĉ·(e − λ*ĉ), laid out per series by window index (0 where not held out);
        // Var(Σ S) with Bartlett weights over lags < H, between held-out windows of the same series only.
        var segments = new List<(double[] Score, bool[] Held)>();
        for (int i = from; i < to; )
        {
            int series = ev.SeriesOf[i], N = ev.WindowCount[series];
            var score = new double[N];
            var held = new bool[N];
            for (; i < to && ev.SeriesOf[i] == series; i++)
            {
                int w = ev.IndexOf[i];
                held[w] = true;
                for (int k = 0; k < steps; k++)
                {
                    double e = targets[i * H + k] - reference[i * H + k], c = heldOut[i * H + k] - reference[i * H + k];
                    score[w] += c * (e - lambda * c);
                }
            }
            segments.Add((score, held));
        }
        int longest = segments.Max(x => x.Score.Length);
        double variance = 0;
        for (int lag = 0; lag < Math.Min(H, longest); lag++)
        {
            double gamma = 0;
            foreach (var (score, held) in segments)
                for (int i = lag; i < score.Length; i++)
                    if (held[i] && held[i - lag]) gamma += score[i] * score[i - lag];
            variance += (lag == 0 ? 1 : 2 * (1 - lag / (double)H)) * gamma;
        }
        return (lambda, Math.Sqrt(Math.Max(variance, 0)) / den);
    }

    /// <summary>
    /// Gives each series of a panel its own λ: its least-squares λ*_s from its own held-out windows (the
    /// <paramref name="estimates"/> of <see cref="CollectSeriesEstimates"/>), pulled towards the panel's mean λ as a
    /// random-effects estimate does,
    /// λ_s = μ̂ + τ²/(τ² + se_s²)·(λ*_s − μ̂), clamped to [0, 1], where τ² is the spread of the true per-series weights
    /// (DerSimonian–Laird: what the spread of the λ*_s leaves once their own standard errors are accounted for) and
    /// μ̂ their random-effects mean. μ̂ also becomes the panel's λ, the weight of every series without an estimate of
    /// its own and of series first seen after training. Returns the note for the summary.
    /// </summary>
    /// <remarks>
    /// One λ for a panel assumes the networks' correction is as good for every series. It is not: a shared network
    /// can fit some series' corrections well and hurt others' (on the accuracy protocol's nine monthly series fitted
    /// together, one λ left several series worse than their bases). When the series agree (τ² ≈ 0) every series gets
    /// the same λ; when they differ, a series with strong evidence of its own moves to it. A series with fewer than
    /// 2H held-out windows takes μ̂: its Newey–West error has too few windows to mean anything (with one window the
    /// score sums to zero by construction), so it would look certain.
    ///
    /// The target is μ̂ rather than the λ fitted on all held-out windows pooled: pooling weighs each series by its
    /// number of windows and the size of its errors, so a few long or hard series set it, and it says how much
    /// correction the pooled windows want, not how much a typical series does. (On the monthly series the pooled λ
    /// was 1.00 at every origin while μ̂ was about 0.6, and the short series that fell back to it lost the most.)
    /// </remarks>
    internal static string FitSeriesWeights(ForecastModel model, List<(int Series, double Lambda, double Variance)> estimates, int H)
    {
        if (estimates.Count < 2)
            return string.Create(CultureInfo.InvariantCulture, $"One λ for the panel ({model.CorrectionWeight:F2}): fewer than two series have the {2 * H} held-out windows a series' own λ needs.");
        var (own, tau2, mean) = ShrinkSeriesWeights(estimates.Select(e => e.Lambda).ToArray(), estimates.Select(e => e.Variance).ToArray());
        for (int j = 0; j < estimates.Count; j++) model.Series[estimates[j].Series].CorrectionWeight = own[j];
        float pooled = model.CorrectionWeight;
        model.CorrectionWeight = mean;       // for the series without their own, and for series first seen after training
        Array.Sort(own);
        return string.Create(CultureInfo.InvariantCulture,
            $"λ per series: {estimates.Count} of {model.Series.Count} series have their own (median {own[own.Length / 2]:F2}, from {own[0]:F2} to {own[^1]:F2}; spread between series τ = {Math.Sqrt(tau2):F2}); the others take the panel's mean λ {mean:F2} (λ fitted on all windows pooled: {pooled:F2}).");
    }

    /// <summary>Adds λ*_s and its sampling variance se_s² for each series of <paramref name="ev"/> with at least 2H
    /// held-out windows (<paramref name="heldOut"/>: the forecasts at λ = 1).</summary>
    private static void CollectSeriesEstimates(ForecastModel model, HeldOutEvaluation ev, float[] heldOut, int steps, int H, List<(int Series, double Lambda, double Variance)> estimates)
    {
        for (int i = 0; i < ev.Count; )
        {
            int series = ev.SeriesOf[i], from = i;
            while (i < ev.Count && ev.SeriesOf[i] == series) i++;
            if (i - from < 2 * H || model.Series[series].Constant) continue;
            var (lambda, se) = CorrectionEstimate(ev, heldOut, steps, H, from, i);
            if (double.IsFinite(lambda) && se > 0 && double.IsFinite(se)) estimates.Add((series, lambda, se * se));
        }
    }

    /// <summary>Consecutive groups of series whose held-out windows add up to at most <paramref name="windows"/> (a
    /// series with more is a group of its own).</summary>
    private static IEnumerable<int[]> SeriesGroups(SeriesFolds[] folds, int windows)
    {
        var group = new List<int>();
        long count = 0;
        for (int i = 0; i < folds.Length; i++)
        {
            if (folds[i].HeldOut == 0) continue;
            if (group.Count > 0 && count + folds[i].HeldOut > windows)
            {
                yield return group.ToArray();
                group.Clear();
                count = 0;
            }
            group.Add(i);
            count += folds[i].HeldOut;
        }
        if (group.Count > 0) yield return group.ToArray();
    }

    /// <summary>
    /// The random-effects step of <see cref="FitSeriesWeights"/>. Estimates λ*_s with sampling variances v_s are
    /// treated as draws around a panel mean μ with spread τ² between the true weights: τ² is DerSimonian–Laird's
    /// estimate (0 when the λ*_s differ no more than their errors explain), μ̂ their mean weighted by 1/(v_s + τ²),
    /// and each weight is the best linear predictor μ̂ + τ²/(τ² + v_s)·(λ*_s − μ̂), clamped to [0, 1]. Returns
    /// the weights, τ² and μ̂ clamped to [0, 1] (the weight of a series with no estimate of its own).
    /// </summary>
    internal static (float[] Weights, double Tau2, float Mean) ShrinkSeriesWeights(double[] lambda, double[] variance)
    {
        int n = lambda.Length;
        double sw = 0, sw2 = 0, swx = 0;
        for (int j = 0; j < n; j++) { sw += 1 / variance[j]; sw2 += 1 / (variance[j] * variance[j]); swx += lambda[j] / variance[j]; }
        double fixedMean = swx / sw, q = 0;
        for (int j = 0; j < n; j++) q += (lambda[j] - fixedMean) * (lambda[j] - fixedMean) / variance[j];
        double c = sw - sw2 / sw;
        double tau2 = c > 0 ? Math.Max(0, (q - (n - 1)) / c) : 0;
        // The mean of the true weights: each series counts by its precision as a draw from the panel, 1/(v_s + τ²),
        // so with a real spread between series no single precise series decides it.
        double rw = 0, rwx = 0;
        for (int j = 0; j < n; j++) { double w = 1 / (variance[j] + tau2); rw += w; rwx += w * lambda[j]; }
        double mean = rwx / rw;
        var weights = new float[n];
        for (int j = 0; j < n; j++) weights[j] = (float)Math.Clamp(mean + tau2 / (tau2 + variance[j]) * (lambda[j] - mean), 0, 1);
        return (weights, tau2, (float)Math.Clamp(mean, 0, 1));
    }
}

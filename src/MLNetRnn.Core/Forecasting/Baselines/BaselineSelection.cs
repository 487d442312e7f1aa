namespace MLNetRnn.Core.Forecasting.Baselines;

/// <summary>One candidate base and its validation score (MASE; NaN when no origin could be scored); the forecaster
/// shows it to users as a <c>BaselineCandidate</c>.</summary>
internal sealed record RankedBase(IReadOnlyList<BaselineMethod> Methods, double Score);

/// <summary>
/// Chooses the statistical base of a forecast on the training series itself: every candidate is refitted at
/// several origins near the end of the series and scored on the values after each (a rolling-origin
/// evaluation, as the accuracy protocol does on the test windows), and the lowest mean scaled error wins.
/// </summary>
internal static class BaselineSelection
{
    /// <summary>
    /// The candidates tried by default: the single methods and the equal-weight combination of SES, Holt and
    /// damped trend (the M4 competition's "Comb" benchmark).
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<BaselineMethod>> DefaultCandidates { get; } =
    [
        [BaselineMethod.Naive],
        [BaselineMethod.SeasonalNaive],
        [BaselineMethod.Drift],
        [BaselineMethod.SimpleExponentialSmoothing],
        [BaselineMethod.Holt],
        [BaselineMethod.DampedTrend],
        [BaselineMethod.Theta],
        [BaselineMethod.SimpleExponentialSmoothing, BaselineMethod.Holt, BaselineMethod.DampedTrend],
    ];

    /// <summary>
    /// Scores each candidate at up to <paramref name="maxOrigins"/> origins, the last at n − h and the others
    /// every ⌈h/2⌉ values before it, each fitted on the values before the origin (at least two seasons and 8
    /// values), and returns the candidates best first. With no origin to score (a short series), the scores are
    /// NaN and the order is the order given.
    /// </summary>
    /// <param name="values">The training series.</param>
    /// <param name="seasonalPeriod">m.</param>
    /// <param name="horizon">h, the steps scored after each origin.</param>
    /// <param name="adjustment">The seasonal adjustment, resolved once on the whole series (Auto: tested) and then
    /// refitted at each origin.</param>
    /// <param name="candidates">The candidates.</param>
    /// <param name="maxOrigins">At least 1.</param>
    public static IReadOnlyList<RankedBase> Rank(ReadOnlySpan<float> values, int seasonalPeriod, int horizon, SeasonalAdjustment adjustment,
        IReadOnlyList<IReadOnlyList<BaselineMethod>> candidates, int maxOrigins)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (maxOrigins < 1) throw new ArgumentOutOfRangeException(nameof(maxOrigins), maxOrigins, "maxOrigins must be at least 1.");
        int n = values.Length, m = seasonalPeriod, h = horizon;
        var kind = SeasonalDecomposition.Fit(values, m, adjustment).Kind;
        int minimum = Math.Max(8, 2 * m), stride = (h + 1) / 2;
        var origins = new List<int>();
        for (int o = n - h; o >= minimum && origins.Count < maxOrigins; o -= stride) origins.Add(o);
        if (origins.Count == 0) return candidates.Select(c => new RankedBase(c, double.NaN)).ToArray();

        double scale = SeasonalScale.MeanAbsoluteDifference(values, m);
        if (!(scale > 0)) scale = SeasonalScale.MeanAbsoluteDifference(values, 1);
        if (!(scale > 0)) scale = 1;
        var singles = candidates.SelectMany(c => c).Distinct().ToArray();
        var errors = new double[candidates.Count];
        var forecasts = new float[singles.Length][];
        var scratch = new float[h];
        var combined = new float[h];
        var state = new double[SmoothingModel.StateSize];
        foreach (int o in origins)
        {
            var prefix = values[..o];
            for (int s = 0; s < singles.Length; s++)
            {
                var b = Baseline.Fit(prefix, m, kind, [singles[s]]);
                b.ObserveAll(state, prefix);
                forecasts[s] = new float[h];
                b.Forecast(state, prefix, o, forecasts[s], scratch);
            }
            for (int c = 0; c < candidates.Count; c++)
            {
                combined.AsSpan().Clear();
                foreach (var method in candidates[c])
                {
                    var f = forecasts[Array.IndexOf(singles, method)];
                    for (int k = 0; k < h; k++) combined[k] += f[k] / candidates[c].Count;
                }
                for (int k = 0; k < h; k++) errors[c] += Math.Abs(values[o + k] - combined[k]);
            }
        }
        return candidates.Select((c, i) => new RankedBase(c, errors[i] / (origins.Count * h) / scale))
            .OrderBy(c => c.Score).ToArray();
    }
}

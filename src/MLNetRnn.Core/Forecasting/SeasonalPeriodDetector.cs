using System.Globalization;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Forecasting;

// n = values of a series, m = a candidate period, N = values of the remainder after the trend is removed
// (n − 2⌊m/2⌋), L = the largest lag the data scan looks at, r_k = the lag-k autocorrelation.

/// <summary>How often a series is sampled, as far as its calendar seasons go: each frequency suggests the seasonal
/// periods of <see cref="SeasonalPeriodDetector.CalendarPeriods"/>.</summary>
public enum SamplingFrequency
{
    /// <summary>Unknown (no dates, or a step the calendar suggests nothing for): the data alone proposes periods.</summary>
    Unknown = 0,

    /// <summary>One value per hour: a day (24) and a week (168).</summary>
    Hourly = 1,

    /// <summary>One value per day: a week (7) and a year (365).</summary>
    Daily = 2,

    /// <summary>One value per week: a year (52).</summary>
    Weekly = 3,

    /// <summary>One value per month: a year (12).</summary>
    Monthly = 4,

    /// <summary>One value per quarter: a year (4).</summary>
    Quarterly = 5,

    /// <summary>One value per year: no season.</summary>
    Yearly = 6,
}

/// <summary>Where a candidate seasonal period came from (a period may come from several places).</summary>
[Flags]
public enum SeasonalPeriodSource
{
    /// <summary>Nowhere: only tested.</summary>
    None = 0,

    /// <summary>The calendar of the dates' sampling frequency (12 for monthly data, …).</summary>
    Dates = 1,

    /// <summary>The data: the highest peak of the autocorrelations of the series' differences.</summary>
    Autocorrelation = 2,

    /// <summary>The caller: a period it uses (the options' seasonal period), tested so that it can be compared.</summary>
    Given = 4,
}

/// <summary>One candidate seasonal period and how the autocorrelation test judged it.</summary>
/// <param name="Period">m, at least 2.</param>
/// <param name="Source">Where it came from.</param>
/// <param name="Strength">r_m, the lag-m autocorrelation of the series less its trend (a centred moving average of one
/// season), in [−1, 1]: 1 when the series repeats itself exactly every m values. NaN when the series is too short to test
/// (fewer than <see cref="SeasonalPeriodDetector.MinimumSeasons"/> seasons) or constant. For a panel, the median over the
/// series tested.</param>
/// <param name="Threshold">The 90% limit r_m had to pass, 1.645·√((1 + 2·Σ_{k&lt;m} r_k²)/N) (for a panel, the median).</param>
/// <param name="Passes">Whether the season is significant: r_m above <paramref name="Threshold"/> (for a panel: in at
/// least <see cref="SeasonalPeriodDetector.PanelShare"/> of the series tested).</param>
public sealed record SeasonalPeriodCandidate(int Period, SeasonalPeriodSource Source, double Strength, double Threshold, bool Passes)
{
    /// <summary>Series long enough to test the period (1 or 0 for a single series).</summary>
    public int SeriesTested { get; init; }

    /// <summary>Series in which the period passed the test.</summary>
    public int SeriesPassing { get; init; }

    /// <summary>Whether any series was long enough to test the period.</summary>
    public bool Tested => SeriesTested > 0;

    /// <summary>A shorter passing period whose season this one only repeats, or 0 when it is a season of its own: with that
    /// season removed from the series, this period no longer passes (lag 24 of monthly data with a yearly season; lag 168 of
    /// hourly data whose days are all alike, but not when the weekend differs).</summary>
    public int Repeats { get; init; }

    /// <summary>"12 (dates, autocorrelation): r = 0.83 > 0.50, passes".</summary>
    public override string ToString()
    {
        var sources = new[] { (SeasonalPeriodSource.Dates, "dates"), (SeasonalPeriodSource.Autocorrelation, "autocorrelation"), (SeasonalPeriodSource.Given, "given") }
            .Where(x => Source.HasFlag(x.Item1)).Select(x => x.Item2);
        string from = string.Join(", ", sources);
        if (!Tested) return string.Create(CultureInfo.InvariantCulture, $"{Period} ({from}): not tested, fewer than {SeasonalPeriodDetector.MinimumSeasons} seasons");
        string verdict = Passes ? Repeats > 0 ? string.Create(CultureInfo.InvariantCulture, $"passes, but only repeats {Repeats}") : "passes" : "does not pass";
        if (SeriesTested > 1)
            return string.Create(CultureInfo.InvariantCulture, $"{Period} ({from}): {verdict}, in {SeriesPassing} of {SeriesTested} series (median r = {Strength:F2}, limit {Threshold:F2})");
        return string.Create(CultureInfo.InvariantCulture, $"{Period} ({from}): r = {Strength:F2} {(Strength > Threshold ? ">" : "≤")} {Threshold:F2}, {verdict}");
    }
}

/// <summary>What <see cref="SeasonalPeriodDetector"/> found in a series or a panel: every candidate period with its
/// strength and verdict, and the periods it proposes.</summary>
public sealed record SeasonalPeriodDetection
{
    /// <summary>The sampling frequency the calendar candidates came from.</summary>
    public SamplingFrequency Frequency { get; init; }

    /// <summary>Series examined (1 for a single series).</summary>
    public int SeriesCount { get; init; }

    /// <summary>Every candidate, by ascending period.</summary>
    public IReadOnlyList<SeasonalPeriodCandidate> Candidates { get; init; } = [];

    /// <summary>The periods proposed: those that pass and are seasons of their own (not <see cref="SeasonalPeriodCandidate.Repeats"/>
    /// of a shorter one), most often passing (for a panel) then strongest first, at most
    /// <see cref="SeasonalPeriodDetector.MaximumPeriods"/>; empty when none passes.</summary>
    public IReadOnlyList<int> Periods => Candidates.Where(c => c.Passes && c.Repeats == 0)
        .OrderByDescending(c => c.SeriesPassing).ThenByDescending(c => c.Strength).ThenBy(c => c.Period)
        .Take(SeasonalPeriodDetector.MaximumPeriods).Select(c => c.Period).ToArray();

    /// <summary>The period proposed: the first of <see cref="Periods"/>, or 1 (no season) when none passes.</summary>
    public int Period => Periods.Count > 0 ? Periods[0] : 1;

    /// <summary>
    /// The significant seasons a model using <paramref name="periodsUsed"/> leaves out: every passing season of its own
    /// (<see cref="SeasonalPeriodCandidate.Repeats"/> 0) unless a used period is a multiple of it (its season holds it). A
    /// model of monthly data with m = 1 or m = 7 leaves out a significant 12; one with m = 12 or 24 does not; one of hourly
    /// data with m = 24 leaves out 168 when the weekend differs. Test the used periods too (the detector's
    /// <c>periodsToTest</c>), so that a multiple of one of them is known to repeat it.
    /// </summary>
    public IReadOnlyList<SeasonalPeriodCandidate> LeftOut(IReadOnlyList<int> periodsUsed)
    {
        ArgumentNullException.ThrowIfNull(periodsUsed);
        var used = periodsUsed.Where(p => p > 1).ToArray();
        return Candidates.Where(c => c.Passes && c.Repeats == 0 && !used.Any(p => p % c.Period == 0)).ToArray();
    }

    /// <summary>"monthly data; 12 (dates, autocorrelation): r = 0.83 > 0.50, passes; …".</summary>
    public override string ToString()
    {
        string what = Frequency == SamplingFrequency.Unknown ? "no dates" : Frequency.ToString().ToLowerInvariant() + " data";
        return Candidates.Count == 0 ? $"{what}; no candidate period" : $"{what}; " + string.Join("; ", Candidates);
    }
}

/// <summary>
/// Proposes seasonal periods for a series, or a panel of them: from the calendar of the dates' sampling frequency when
/// it is known (<see cref="CalendarPeriods"/>), and from the data (the highest peak of the autocorrelations of the
/// series' differences), each tested with the autocorrelation test of <see cref="SeasonalityTest"/>.
/// </summary>
/// <remarks>
/// <para>The test is the one R's forecast package and the M4 benchmarks apply at a known period (Hyndman &amp;
/// Athanasopoulos, <i>Forecasting: Principles and Practice</i>; Makridakis et al. 2018's <c>SeasonalityTest</c>): the lag-m
/// autocorrelation r_m passes when r_m &gt; 1.645·√((1 + 2·Σ_{k&lt;m} r_k²)/N), the one-sided 90% limit of Bartlett's
/// standard error for an MA(m − 1) process. It is applied to the series less its trend, the centred moving average of one
/// season (2×m for even m) that classical decomposition (R's <c>decompose</c>) removes: that average cancels a season of
/// period m exactly and follows a linear or a wandering trend, which would otherwise make every lag look correlated. Only a
/// positive r_m counts (a season repeats itself; a negative one is half a cycle). A period is tested when the series holds
/// at least <see cref="MinimumSeasons"/> seasons, as the forecaster's seasonal adjustment needs.</para>
/// <para>Calendar periods are proposed when the series holds at least two of them (as R's <c>mstl</c> keeps a period
/// only when the series is longer than two): 365 for daily data needs two years, and is tested from three. Bartlett's
/// limit grows with the autocorrelations below m, so a long, smooth season needs more of them to pass: a yearly cycle of
/// daily data passes with six years of data in SeasonalPeriodDetectorTests, not with four.</para>
/// <para>The data scan looks at lags 2 to L = min(<see cref="MaximumScannedLag"/>, n/4) of the autocorrelations of the
/// first differences (which no trend dominates) and takes the highest local peak, or its smallest divisor that is a local
/// peak at least 75% as high (the season, not its second repetition). Choosing the best of L lags would pass white noise
/// most of the time, so a period found this way must also show as a season in the remainder: r_m a local peak (lag 23 of a
/// smooth daily season is almost as correlated as lag 24) and r_{2m} above the white-noise limit 1.645/√N (it repeats),
/// which needs about four seasons. On white noise that keeps the share of series given a period near 5% (the property
/// tests bound it).</para>
/// <para>A multiple of a passing period passes too (a yearly season of monthly data shows at lag 24 as at 12), so a passing
/// multiple is proposed only when it still passes with the shorter season removed (<see cref="SeasonalPeriodCandidate.Repeats"/>):
/// the week of hourly data is proposed beside the day when the weekend differs, not when every day is alike.</para>
/// <para>Scaling a series by a positive constant changes no verdict; adding a linear trend changes no test (it can change
/// whether a multiple repeats a season, removed by ratio from a positive series).</para>
/// </remarks>
public static class SeasonalPeriodDetector
{
    /// <summary>Seasons a series must hold for a period to be tested (as <see cref="SeasonalityTest"/> needs).</summary>
    public const int MinimumSeasons = 3;

    /// <summary>The largest lag the data scan looks at: a year of daily data and two weeks of hourly data fit under it.</summary>
    public const int MaximumScannedLag = 400;

    /// <summary>At most this many periods are proposed.</summary>
    public const int MaximumPeriods = 3;

    /// <summary>In a panel, a period is proposed when it passes in at least this share of the series long enough to test it.</summary>
    public const double PanelShare = 0.25;

    /// <summary>The periods the calendar suggests for a sampling frequency, shortest first: hourly 24 and 168, daily 7 and
    /// 365, weekly 52, monthly 12, quarterly 4; yearly and unknown none.</summary>
    public static IReadOnlyList<int> CalendarPeriods(SamplingFrequency frequency) => frequency switch
    {
        SamplingFrequency.Hourly => [24, 168],
        SamplingFrequency.Daily => [7, 365],
        SamplingFrequency.Weekly => [52],
        SamplingFrequency.Monthly => [12],
        SamplingFrequency.Quarterly => [4],
        SamplingFrequency.Yearly or SamplingFrequency.Unknown => [],
        _ => throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "Unknown sampling frequency."),
    };

    /// <summary>Tests one period on one series (see the remarks of <see cref="SeasonalPeriodDetector"/>).</summary>
    /// <param name="values">The series, oldest first.</param>
    /// <param name="period">m, at least 2.</param>
    /// <param name="source">Where the period came from, recorded in the result.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is below 2.</exception>
    public static SeasonalPeriodCandidate Test(ReadOnlySpan<float> values, int period, SeasonalPeriodSource source = SeasonalPeriodSource.None)
    {
        if (period < 2) throw new ArgumentOutOfRangeException(nameof(period), period, $"period must be at least 2; got {period}.");
        var (strength, threshold, _) = TestRemainder(values, period, confirm: false);
        bool tested = !double.IsNaN(threshold);
        bool passes = strength > threshold;
        return new SeasonalPeriodCandidate(period, source, strength, threshold, passes) { SeriesTested = tested ? 1 : 0, SeriesPassing = passes ? 1 : 0 };
    }

    /// <summary>Proposes seasonal periods for one series.</summary>
    /// <param name="values">The series, oldest first.</param>
    /// <param name="frequency">Its sampling frequency, when its dates are known.</param>
    /// <param name="periodsToTest">Further periods to test and report (the periods a model uses, say); 1 is ignored.</param>
    /// <exception cref="ArgumentOutOfRangeException">A period to test is below 1.</exception>
    public static SeasonalPeriodDetection Detect(ReadOnlySpan<float> values, SamplingFrequency frequency = SamplingFrequency.Unknown,
        IReadOnlyList<int>? periodsToTest = null)
        => Detect([values.ToArray()], frequency, periodsToTest);

    /// <summary>Proposes seasonal periods for a panel: each series proposes its own and tests every calendar period; the
    /// three periods its series' data scans find most often are tested on every series; a period passes for the panel
    /// when it passes in at least <see cref="PanelShare"/> of the series long enough to test it.</summary>
    /// <param name="series">The series, each oldest first.</param>
    /// <param name="frequency">Their sampling frequency, when their dates are known.</param>
    /// <param name="periodsToTest">Further periods to test and report; 1 is ignored.</param>
    /// <exception cref="ArgumentException">No series, or a period to test below 1.</exception>
    public static SeasonalPeriodDetection Detect(IReadOnlyList<float[]> series, SamplingFrequency frequency = SamplingFrequency.Unknown,
        IReadOnlyList<int>? periodsToTest = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("No series to detect seasonal periods in.", nameof(series));
        var calendar = CalendarPeriods(frequency);
        foreach (int p in periodsToTest ?? [])
            if (p < 1) throw new ArgumentOutOfRangeException(nameof(periodsToTest), p, $"Periods to test must each be at least 1; got {p}.");
        int longest = series.Max(s => s.Length);
        var sources = new SortedDictionary<int, SeasonalPeriodSource>();
        foreach (int p in calendar.Where(p => longest >= 2 * p)) sources[p] = SeasonalPeriodSource.Dates;
        foreach (int p in (periodsToTest ?? []).Where(p => p > 1)) sources[p] = sources.GetValueOrDefault(p) | SeasonalPeriodSource.Given;

        // Each series' own peak, kept when it passes with its repetition; the most common of them join the candidates.
        // Series by series in parallel: each result depends on its series alone, so the outcome does not depend on the cores.
        var own = new int[series.Count];
        Parallel.For(0, series.Count, i =>
            own[i] = ScanPeak(series[i]) is int peak && TestRemainder(series[i], peak, confirm: true) is var (r, limit, shows) && r > limit && shows ? peak : 0);
        var peaks = own.Where(p => p > 0).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (p, _) in peaks.OrderByDescending(x => x.Value).ThenBy(x => x.Key).Take(MaximumPeriods))
            sources[p] = sources.GetValueOrDefault(p) | SeasonalPeriodSource.Autocorrelation;

        var candidates = new List<SeasonalPeriodCandidate>();
        foreach (var (p, source) in sources)
        {
            // A period only the data proposed must show as a season in every series that counts it, as in the one that
            // found it; a period the calendar or the caller names is a single question, answered by the plain test.
            bool found = source == SeasonalPeriodSource.Autocorrelation;
            var all = new (double Strength, double Threshold, bool Shows)[series.Count];
            Parallel.For(0, series.Count, i => all[i] = TestRemainder(series[i], p, confirm: found));
            var tests = all.Where(t => !double.IsNaN(t.Threshold)).ToArray();
            int passing = tests.Count(t => t.Strength > t.Threshold && (!found || t.Shows));
            bool passes = tests.Length > 0 && passing >= Math.Max(1, (int)Math.Ceiling(PanelShare * tests.Length));
            candidates.Add(new SeasonalPeriodCandidate(p, source, Median(tests.Select(t => t.Strength)), Median(tests.Select(t => t.Threshold)), passes)
            {
                SeriesTested = tests.Length, SeriesPassing = passing,
            });
        }
        // A passing multiple of a passing period is a season of its own only if it still passes with the shorter season
        // removed (as classical decomposition removes it: by ratio for a positive series, else by difference).
        for (int i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            if (!c.Passes) continue;
            bool found = c.Source == SeasonalPeriodSource.Autocorrelation;
            foreach (var shorter in candidates.Where(p => p.Passes && p.Period < c.Period && c.Period % p.Period == 0))
            {
                var all = new (double Strength, double Threshold, bool Shows)[series.Count];
                Parallel.For(0, series.Count, j => all[j] = TestRemainder(Deseasonalized(series[j], shorter.Period), c.Period, confirm: found));
                var tests = all.Where(t => !double.IsNaN(t.Threshold)).ToArray();
                int passing = tests.Count(t => t.Strength > t.Threshold && (!found || t.Shows));
                if (tests.Length == 0 || passing < Math.Max(1, (int)Math.Ceiling(PanelShare * tests.Length)))
                {
                    candidates[i] = c with { Repeats = shorter.Period };
                    break;
                }
            }
        }
        return new SeasonalPeriodDetection { Frequency = frequency, SeriesCount = series.Count, Candidates = candidates };
    }

    /// <summary>The period the data scan proposes: the highest local peak of the autocorrelations of the first
    /// differences among lags 2 to L, or its smallest divisor that is a local peak at least 75% as high (the season itself
    /// rather than its second or third repetition); null when there is no positive peak (or the differences are constant).</summary>
    internal static int? ScanPeak(ReadOnlySpan<float> values)
    {
        int n = values.Length, L = Math.Min(MaximumScannedLag, n / 4);
        if (L < 3) return null;
        var d = new double[n - 1];
        for (int t = 1; t < n; t++) d[t - 1] = (double)values[t] - values[t - 1];
        var r = Autocorrelations(d, L + 1, Scale(values));
        if (r is null) return null;
        bool Peak(int k) => r[k] > 0 && r[k] > r[k - 1] && r[k] >= r[k + 1];
        int best = 0;
        for (int k = 2; k <= L; k++)
            if (Peak(k) && (best == 0 || r[k] > r[best])) best = k;
        if (best == 0) return null;
        for (int k = 2; k < best; k++)
            if (best % k == 0 && Peak(k) && r[k] >= 0.75 * r[best]) return k;
        return best;
    }

    /// <summary>r_m of the series less its centred moving average of one season, the 90% Bartlett limit it must pass, and
    /// (with <paramref name="confirm"/>, for a period found in the data) whether the season also shows as one: r_m a local
    /// peak (at least r_{m−1} and r_{m+1}: lag 23 of a smooth daily season is nearly as correlated as lag 24, but lower) and
    /// r_{2m} above the white-noise limit 1.645/√N. NaN strength and threshold when the series holds fewer than
    /// <see cref="MinimumSeasons"/> seasons or nothing but its trend.</summary>
    private static (double Strength, double Threshold, bool Shows) TestRemainder(ReadOnlySpan<float> values, int m, bool confirm)
    {
        int n = values.Length, half = m / 2;
        if (m < 2 || n < MinimumSeasons * m) return (double.NaN, double.NaN, false);
        int N = n - 2 * half;
        var e = new double[N];
        // The moving average as a running sum, in double; the 2×m average of even m weighs its two ends by half.
        double sum = 0;
        for (int j = 0; j < 2 * half + 1; j++) sum += values[j];
        for (int t = half; t < n - half; t++)
        {
            if (t > half) sum += (double)values[t + half] - values[t - half - 1];
            double trend = m % 2 == 1 ? sum / m : (sum - 0.5 * ((double)values[t - half] + values[t + half])) / m;
            e[t - half] = values[t] - trend;
        }
        // Lag 2m needs m pairs to say anything (about n ≥ 4m, which the scan's L = n/4 keeps).
        if (confirm && N - 2 * m < m) return (double.NaN, double.NaN, false);
        var r = Autocorrelations(e, confirm ? 2 * m : m + 1, Scale(values));
        if (r is null) return (double.NaN, double.NaN, false);
        double sumSquares = 0;
        for (int k = 1; k < m; k++) sumSquares += r[k] * r[k];
        double threshold = SeasonalityTest.CriticalValue * Math.Sqrt((1 + 2 * sumSquares) / N);
        bool shows = confirm && r[m] >= r[m - 1] && r[m] >= r[m + 1] && r[2 * m] > SeasonalityTest.CriticalValue / Math.Sqrt(N);
        return (r[m], threshold, shows);
    }

    /// <summary>The series with its season of period <paramref name="m"/> removed by classical decomposition (multiplicative
    /// for a positive series, additive otherwise).</summary>
    private static float[] Deseasonalized(float[] values, int m)
    {
        if (values.Length < 2 * m) return values;
        var kind = values.All(v => v > 0) ? SeasonalAdjustment.Multiplicative : SeasonalAdjustment.Additive;
        var season = SeasonalDecomposition.Fit(values, m, kind);
        var x = new float[values.Length];
        for (int t = 0; t < x.Length; t++) x[t] = season.Deseasonalize(values[t], t);
        return x;
    }

    /// <summary>Mean square of the values: what a remainder is compared with to tell a season from rounding.</summary>
    private static double Scale(ReadOnlySpan<float> values)
    {
        double s = 0;
        foreach (float v in values) s += (double)v * v;
        return s / Math.Max(1, values.Length);
    }

    /// <summary>r_0..r_<paramref name="maxLag"/> of <paramref name="x"/> (the usual estimator: each lag's sum over the
    /// full-length variance); null when x varies by no more than rounding of values of mean square <paramref name="scale"/>.</summary>
    private static double[]? Autocorrelations(double[] x, int maxLag, double scale)
    {
        int N = x.Length;
        double mean = 0;
        foreach (double v in x) mean += v;
        mean /= N;
        double variance = 0;
        for (int t = 0; t < N; t++)
        {
            x[t] -= mean;   // the callers' arrays are their own scratch
            variance += x[t] * x[t];
        }
        if (!(variance > 1e-10 * scale * N)) return null;
        var r = new double[maxLag + 1];
        r[0] = 1;
        for (int k = 1; k <= maxLag && k < N; k++)
        {
            // Plain sums in a fixed order, so the verdicts do not depend on the machine's vector width.
            double s = 0;
            ReadOnlySpan<double> a = x.AsSpan(k), b = x.AsSpan(0, N - k);
            for (int t = 0; t < a.Length; t++) s += a[t] * b[t];
            r[k] = s / variance;
        }
        return r;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }
}

/// <summary>The plain-language notes about seasonal periods that a forecaster adds to its training summary.</summary>
internal static class SeasonalPeriodNotes
{
    /// <summary>One warning per significant season a model choosing among <paramref name="periodsUsed"/> leaves out.</summary>
    public static IReadOnlyList<string> LeftOut(SeasonalPeriodDetection detection, IReadOnlyList<int> periodsUsed)
    {
        string used = periodsUsed.Count == 1 ? $"seasonal period {periodsUsed[0]}" : $"seasonal periods {string.Join(", ", periodsUsed)}";
        return detection.LeftOut(periodsUsed).Select(c =>
        {
            var sources = new List<string>();
            if (c.Source.HasFlag(SeasonalPeriodSource.Dates)) sources.Add("the dates' calendar");
            if (c.Source.HasFlag(SeasonalPeriodSource.Autocorrelation)) sources.Add("the data");
            string from = sources.Count > 0 ? $", proposed by {string.Join(" and ", sources)}" : "";
            string where = detection.SeriesCount > 1
                ? string.Create(CultureInfo.InvariantCulture, $"in {c.SeriesPassing} of {c.SeriesTested} series (median lag-{c.Period} autocorrelation {c.Strength:F2}, limit {c.Threshold:F2})")
                : string.Create(CultureInfo.InvariantCulture, $"(lag-{c.Period} autocorrelation {c.Strength:F2}, above the 90% limit {c.Threshold:F2})");
            return string.Create(CultureInfo.InvariantCulture,
                $"The data has a significant season of period {c.Period} {where}{from}, which the model leaves out ({used}). " +
                $"Set SeasonalPeriod = {c.Period} (or list it in SeasonalPeriods), or leave the seasonal period unset to have it detected.");
        }).ToArray();
    }
}

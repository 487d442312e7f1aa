namespace MLNetRnn.Core.Forecasting.Baselines;

/// <summary>
/// Is there a season of period m in a series? The test of the M4 competition's benchmarks (Makridakis et al.
/// 2018, used before Theta, SES, Holt and their combination): the lag-m autocorrelation r_m is significant at
/// 90% (one-sided z = 1.645) against Bartlett's standard error of an MA(m−1) process,
/// |r_m| &gt; 1.645·√((1 + 2·Σ_{k&lt;m} r_k²) / n).
/// </summary>
/// <remarks>Needs at least three seasons (n ≥ 3m): with less, a lag-m correlation says nothing, and the series is
/// treated as not seasonal — the forecaster then does not remove a season it cannot estimate.</remarks>
public static class SeasonalityTest
{
    /// <summary>The z value of the one-sided 90% test the M4 benchmarks use.</summary>
    public const double CriticalValue = 1.645;

    /// <summary>True when <paramref name="values"/> has a significant season of period <paramref name="seasonalPeriod"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seasonalPeriod"/> is below 1.</exception>
    public static bool IsSeasonal(ReadOnlySpan<float> values, int seasonalPeriod)
    {
        if (seasonalPeriod < 1) throw new ArgumentOutOfRangeException(nameof(seasonalPeriod), seasonalPeriod, "seasonalPeriod must be at least 1.");
        int n = values.Length, m = seasonalPeriod;
        if (m == 1 || n < 3 * m) return false;
        double mean = 0;
        foreach (float v in values) mean += v;
        mean /= n;
        double denominator = 0;
        foreach (float v in values) denominator += (v - mean) * (v - mean);
        if (!(denominator > 0)) return false;   // a constant series has no season
        double sumSquares = 0, rm = 0;
        for (int k = 1; k <= m; k++)
        {
            double s = 0;
            for (int t = k; t < n; t++) s += (values[t] - mean) * (values[t - k] - mean);
            double r = s / denominator;
            if (k < m) sumSquares += r * r;
            else rm = r;
        }
        double limit = CriticalValue * Math.Sqrt((1 + 2 * sumSquares) / n);
        return Math.Abs(rm) > limit;
    }
}

using System.Globalization;

namespace MLNetRnn.Core.Forecasting;

/// <summary>
/// Whether the backtest (<see cref="CombinationBacktest"/>) shows that the networks' forecast does better alone than in
/// its mean with the learned base combination (ForecastTrainer ships that mean by default): a paired comparison of each series' scaled
/// error under the two, d = mean − alone, with t = d̄ / (s_d / √n) over the n series that have both. Series, not
/// windows, are the unit. The mean is kept unless t is above 2, the usual two standard errors; the threshold was not tuned on any collection.
/// </summary>
internal readonly record struct CombinationMeanEvidence(int Series, double Alone, double Mean, double T)
{
    /// <summary>t above which the networks' forecast is kept alone.</summary>
    internal const double Threshold = 2;

    /// <summary>The networks' forecast alone is clearly better on the held-out windows.</summary>
    public bool NetworksAlone => Series >= 2 && T > Threshold;

    /// <summary>The comparison of <paramref name="alone"/> and <paramref name="mean"/>, each series' scaled error (NaN
    /// where a series has no window to judge by).</summary>
    public static CombinationMeanEvidence Judge(IReadOnlyList<double> alone, IReadOnlyList<double> mean)
    {
        if (alone.Count != mean.Count) throw new ArgumentException($"{alone.Count} series' errors alone against {mean.Count} with the mean.", nameof(mean));
        int n = 0;
        double sumAlone = 0, sumMean = 0, sumD = 0, sumD2 = 0;
        for (int i = 0; i < alone.Count; i++)
        {
            if (!double.IsFinite(alone[i]) || !double.IsFinite(mean[i])) continue;
            double d = mean[i] - alone[i];
            n++;
            sumAlone += alone[i]; sumMean += mean[i]; sumD += d; sumD2 += d * d;
        }
        if (n == 0) return new CombinationMeanEvidence(0, double.NaN, double.NaN, double.NaN);
        double dBar = sumD / n;
        double variance = n > 1 ? Math.Max(0, (sumD2 - n * dBar * dBar) / (n - 1)) : double.NaN;
        double t = variance > 0 ? dBar / Math.Sqrt(variance / n) : dBar == 0 ? 0 : double.NaN;
        return new CombinationMeanEvidence(n, sumAlone / n, sumMean / n, t);
    }

    public override string ToString() => Series == 0
        ? "no series to backtest the two on"
        : string.Format(CultureInfo.InvariantCulture,
            "backtested on the last H values of {0} series, each cut before them and its base chosen again, the mean scaled error is {1:0.####} alone and {2:0.####} with the mean, t = {3:0.##} (alone is kept above {4})",
            Series, Alone, Mean, T, Threshold);
}

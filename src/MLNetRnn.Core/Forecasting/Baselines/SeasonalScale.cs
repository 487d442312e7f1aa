namespace MLNetRnn.Core.Forecasting.Baselines;

/// <summary>The scale a forecast error is measured against: what seasonal naive misses by in-sample.</summary>
internal static class SeasonalScale
{
    /// <summary>Mean absolute seasonal difference of <paramref name="history"/>: the MASE denominator; NaN when the
    /// history is not longer than one season.</summary>
    public static double MeanAbsoluteDifference(ReadOnlySpan<float> history, int seasonalPeriod)
    {
        if (history.Length <= seasonalPeriod) return double.NaN;
        double s = 0;
        for (int t = seasonalPeriod; t < history.Length; t++) s += Math.Abs(history[t] - history[t - seasonalPeriod]);
        return s / (history.Length - seasonalPeriod);
    }

    /// <summary><see cref="MeanAbsoluteDifference"/> at <paramref name="seasonalPeriod"/>, or at lag 1 (what naive misses
    /// by) when that is not positive: a series without seasonal differences still has a scale when it moves at all.</summary>
    public static double OrNaive(ReadOnlySpan<float> history, int seasonalPeriod)
    {
        double scale = MeanAbsoluteDifference(history, seasonalPeriod);
        return scale > 0 ? scale : MeanAbsoluteDifference(history, 1);
    }
}

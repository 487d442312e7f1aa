namespace MLNetRnn.Core.Forecasting;

/// <summary>Point-forecast accuracy measures with the M4 competition's definitions.</summary>
public static class ForecastMetrics
{
    /// <summary>sMAPE = mean of 200·|y − f| / (|y| + |f|), in percent (M4). Terms with y = f = 0 count as 0.</summary>
    public static double SymmetricMape(ReadOnlySpan<float> actual, ReadOnlySpan<float> forecast)
    {
        Check(actual, forecast);
        double s = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i]) + Math.Abs(forecast[i]);
            s += d == 0 ? 0 : 200.0 * Math.Abs(actual[i] - forecast[i]) / d;
        }
        return s / actual.Length;
    }

    /// <summary>
    /// MASE = mean |y − f| divided by the in-sample mean absolute seasonal difference |x_t − x_{t−m}| of
    /// <paramref name="history"/> (M4; m = 1 gives the naive forecast's in-sample error). NaN when the
    /// history is too short for one seasonal difference or the scale is zero.
    /// </summary>
    public static double Mase(ReadOnlySpan<float> actual, ReadOnlySpan<float> forecast, ReadOnlySpan<float> history, int seasonalPeriod)
    {
        Check(actual, forecast);
        if (seasonalPeriod < 1) throw new ArgumentOutOfRangeException(nameof(seasonalPeriod), seasonalPeriod, "seasonalPeriod must be at least 1.");
        double scale = SeasonalNaiveScale(history, seasonalPeriod);
        if (!(scale > 0)) return double.NaN;
        return MeanAbsoluteError(actual, forecast) / scale;
    }

    /// <summary>Mean absolute seasonal difference of <paramref name="history"/>: the MASE denominator.</summary>
    public static double SeasonalNaiveScale(ReadOnlySpan<float> history, int seasonalPeriod)
        => Baselines.SeasonalScale.MeanAbsoluteDifference(history, seasonalPeriod);   // Baselines scores its candidates with it too

    /// <summary>Mean absolute error.</summary>
    public static double MeanAbsoluteError(ReadOnlySpan<float> actual, ReadOnlySpan<float> forecast)
    {
        Check(actual, forecast);
        double s = 0;
        for (int i = 0; i < actual.Length; i++) s += Math.Abs(actual[i] - forecast[i]);
        return s / actual.Length;
    }

    /// <summary>Root mean squared error.</summary>
    public static double RootMeanSquaredError(ReadOnlySpan<float> actual, ReadOnlySpan<float> forecast)
    {
        Check(actual, forecast);
        double s = 0;
        for (int i = 0; i < actual.Length; i++) s += (double)(actual[i] - forecast[i]) * (actual[i] - forecast[i]);
        return Math.Sqrt(s / actual.Length);
    }

    /// <summary>The seasonal naive forecast: the last observed season repeated, f_{n+h} = x_{n+h−m·⌈h/m⌉}.</summary>
    public static float[] SeasonalNaive(ReadOnlySpan<float> history, int horizon, int seasonalPeriod)
    {
        if (history.Length < seasonalPeriod) throw new ArgumentException($"history needs at least one season ({Training.Counted.Of(seasonalPeriod, "value")}); got {history.Length}.", nameof(history));
        var f = new float[horizon];
        int n = history.Length;
        for (int h = 1; h <= horizon; h++) f[h - 1] = history[n - seasonalPeriod + (h - 1) % seasonalPeriod];
        return f;
    }

    private static void Check(ReadOnlySpan<float> actual, ReadOnlySpan<float> forecast)
    {
        if (actual.Length == 0 || actual.Length != forecast.Length)
            throw new ArgumentException($"actual and forecast must have the same, non-zero length; got {actual.Length} and {forecast.Length}.");
    }
}

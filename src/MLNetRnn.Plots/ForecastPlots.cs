using System.Globalization;
using ScottPlot;

namespace MLNetRnn.Plots;

/// <summary>One forecast drawn from an origin: the values after position <see cref="Origin"/> of the series.</summary>
/// <param name="Origin">0-based index of the last observed value the forecast was made from.</param>
/// <param name="Forecast">Point forecast for positions Origin+1 .. Origin+H.</param>
/// <param name="Lower">Lower bound per step, or null.</param>
/// <param name="Upper">Upper bound per step, or null.</param>
public sealed record ForecastPath(int Origin, float[] Forecast, float[]? Lower = null, float[]? Upper = null);

/// <summary>What <see cref="ForecastPlots.Forecast"/> draws: a series, forecasts from one or more origins (a backtest's
/// and/or the one past the end), and optionally the dates of the series' values.</summary>
/// <param name="Actual">The observed series.</param>
/// <param name="Paths">Forecasts to draw, each from its origin; origins inside the series are drawn as backtest origins.</param>
/// <param name="Dates">Date of each value of <paramref name="Actual"/> (evenly spaced), or null for positions 0..n−1.</param>
/// <param name="ValueName">Name of the series, for the axis label.</param>
/// <param name="ConfidenceLevel">Level of the bounds, e.g. 0.9, for the legend; NaN if unknown.</param>
/// <param name="SeasonalPeriod">The series' season in values (7 for daily data with a weekly season), which sets how much
/// of a long series is shown (<see cref="ForecastPlots.RecentValues"/>); 1 for none.</param>
/// <param name="ShowAll">Draw the whole series, however long, instead of the recent stretch before the forecasts.</param>
public sealed record ForecastPlotData(float[] Actual, IReadOnlyList<ForecastPath> Paths, DateTime[]? Dates = null, string ValueName = "value",
    float ConfidenceLevel = float.NaN, int SeasonalPeriod = 1, bool ShowAll = false);

/// <summary>Forecast against actual, as a PNG.</summary>
public static class ForecastPlots
{
    /// <summary>File name used by callers that write it beside the training plots.</summary>
    public const string FileName = "forecast.png";

    /// <summary>
    /// How many values of a long series are drawn before the first forecast origin, unless
    /// <see cref="ForecastPlotData.ShowAll"/>: six horizons, or three seasons where that is longer, but at most twenty
    /// horizons, so the forecast keeps a readable share of the axis (a 14-day forecast on ten years of daily data
    /// would otherwise take 0.4% of it). A series at most half as long again is drawn whole.
    /// </summary>
    /// <param name="horizon">Steps forecast (the longest path).</param>
    /// <param name="seasonalPeriod">The season in values, 1 for none.</param>
    public static int RecentValues(int horizon, int seasonalPeriod)
    {
        int h = Math.Max(horizon, 1);
        return Math.Max(6 * h, Math.Min(3 * Math.Max(seasonalPeriod, 1), 20 * h));
    }

    /// <summary>
    /// The series (black), each forecast path (coloured line) with its interval as a band, and a dotted vertical line
    /// at each backtest origin (an origin before the series' end). With dates, the x axis is ISO dates
    /// (<c>yyyy-MM-dd</c>, or <c>yyyy-MM</c>, <c>yyyy</c> where the ticks are months or years), and paths past the end
    /// continue the series' spacing. A long series is drawn from <see cref="RecentValues"/> values before the first
    /// origin (the axis label says how many of how many) unless <see cref="ForecastPlotData.ShowAll"/>. The legend sits
    /// under the plot, clear of the data.
    /// </summary>
    /// <param name="data">What to draw.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="title">Title; a default names the series.</param>
    /// <exception cref="ArgumentException">A path's bounds do not match its forecast's length, or dates do not match the series.</exception>
    public static void Forecast(ForecastPlotData data, string path, string? title = null) => TrainingPlots.Save(Build(data, title), path);

    /// <summary>The picture <see cref="Forecast"/> saves.</summary>
    internal static Plot Build(ForecastPlotData data, string? title)
    {
        ArgumentNullException.ThrowIfNull(data);
        int n = data.Actual.Length;
        if (data.Dates is not null && data.Dates.Length != n)
            throw new ArgumentException($"Dates has {data.Dates.Length} entries; the series has {n}.", nameof(data));
        foreach (var p in data.Paths)
            if ((p.Lower is not null && p.Lower.Length != p.Forecast.Length) || (p.Upper is not null && p.Upper.Length != p.Forecast.Length))
                throw new ArgumentException($"The forecast from origin {p.Origin} has {p.Forecast.Length} steps but bounds of another length.", nameof(data));

        int first = FirstShown(data);
        string x = data.Dates is null ? "position in the series" : "date";
        if (first > 0) x += string.Create(CultureInfo.InvariantCulture, $" (the last {n - first:N0} of {n:N0} values)");
        var plot = TrainingPlots.NewPlot(title ?? $"{data.ValueName}: forecast against actual", x, data.ValueName, TrainingPlots.LegendPlace.Below);
        double step = data.Dates is { Length: > 1 } d ? (d[^1] - d[0]).TotalDays / (n - 1) : 1;
        double X(int i) => data.Dates is null ? i : (i < n ? data.Dates[i].ToOADate() : data.Dates[^1].ToOADate() + (i - n + 1) * step);

        string level = float.IsNaN(data.ConfidenceLevel) ? "interval" : string.Format(CultureInfo.InvariantCulture, "{0:P0} interval", data.ConfidenceLevel);
        bool bandLabelled = false, originLabelled = false;
        for (int k = 0; k < data.Paths.Count; k++)
        {
            var p = data.Paths[k];
            var color = TrainingPlots.Palette(k);
            double[] px = Enumerable.Range(p.Origin + 1, p.Forecast.Length).Select(X).ToArray();
            if (p.Lower is not null && p.Upper is not null)
            {
                var band = plot.Add.FillY(px, p.Lower.Select(v => (double)v).ToArray(), p.Upper.Select(v => (double)v).ToArray());
                band.FillColor = color.WithAlpha(0.2);
                band.LineColor = Colors.Transparent;
                band.LegendText = bandLabelled ? "" : level;
                bandLabelled = true;
            }
            // Join the path to the last observed value so each forecast reads as a continuation.
            bool joined = p.Origin >= 0 && p.Origin < n;
            double[] lx = joined ? [X(p.Origin), .. px] : px;
            double[] ly = joined ? [data.Actual[p.Origin], .. p.Forecast.Select(v => (double)v)] : p.Forecast.Select(v => (double)v).ToArray();
            var line = plot.Add.ScatterLine(lx, ly);
            bool backtest = p.Origin < n - 1;
            TrainingPlots.Style(line, color, backtest ? $"forecast from origin {OriginLabel(data, p.Origin)}" : "forecast past the end", LinePattern.Solid, 2.5f);
        }
        // After the paths, so the legend lists the forecasts together.
        foreach (var p in data.Paths.Where(p => p.Origin < n - 1))
        {
            var origin = plot.Add.VerticalLine(X(p.Origin), 1.5f, Colors.Gray, LinePattern.Dotted);
            origin.LegendText = originLabelled ? "" : "backtest origin";
            originLabelled = true;
        }
        // Only the values shown are added, so the y axis fits them rather than the whole history.
        var actual = plot.Add.ScatterLine(Enumerable.Range(first, n - first).Select(X).ToArray(), data.Actual[first..].Select(v => (double)v).ToArray());
        TrainingPlots.Style(actual, Colors.Black, "actual", LinePattern.Solid, 1.8f);
        if (data.Dates is not null) plot.Axes.Bottom.TickGenerator = new IsoDateTicks();
        return plot;
    }

    /// <summary>Index of the first value drawn: 0 for a short series or <see cref="ForecastPlotData.ShowAll"/>, else
    /// <see cref="RecentValues"/> before the earliest origin.</summary>
    internal static int FirstShown(ForecastPlotData data)
    {
        int n = data.Actual.Length;
        if (data.ShowAll || data.Paths.Count == 0 || n == 0) return 0;
        int origin = Math.Clamp(data.Paths.Min(p => p.Origin), 0, n - 1);
        int recent = RecentValues(data.Paths.Max(p => p.Forecast.Length), data.SeasonalPeriod);
        int first = origin + 1 - recent;
        // Hiding a few values only makes the reader wonder what was left out.
        return first > 0 && n - first < 2 * n / 3 ? first : 0;
    }

    /// <summary>The origin's date (with the time of day for data finer than days), else its position.</summary>
    private static string OriginLabel(ForecastPlotData data, int origin)
    {
        if (data.Dates is null || origin < 0 || origin >= data.Dates.Length) return origin.ToString(CultureInfo.InvariantCulture);
        bool hasTimes = data.Dates.Any(d => d.TimeOfDay != TimeSpan.Zero);
        return data.Dates[origin].ToString(hasTimes ? "yyyy-MM-dd HH:mm" : "yyyy-MM-dd", CultureInfo.InvariantCulture);
    }
}

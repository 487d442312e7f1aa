using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The fit-time command: seconds for one <c>ForecastByRnn</c> fit at the library's defaults on AirPassengers (the
/// main sample's data) and on synthetic series of 8,760 (a year of hourly data) and 10,000 values, each timed over
/// a few fits (the median is printed) after a warm-up fit.
/// </summary>
internal static class FitTime
{
    private sealed class Row
    {
        public float Value { get; set; }
    }

    public static int Run(string[] args)
    {
        int repeats = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        string air = Path.Combine(AppContext.BaseDirectory, "AirPassengers.csv");
        var airPassengers = File.ReadAllLines(air).Skip(1).Select(l => float.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Console.WriteLine($"# fit time at defaults, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}; median of {repeats} fits after a warm-up");
        Time("AirPassengers (n = 144, W = 24, h = 12, m = 12)", airPassengers, window: 24, horizon: 12, season: 12, repeats);
        Time("hourly, one year (n = 8,760, W = 48, h = 24, m = 24)", Synthetic(8760, 24, seed: 1), window: 48, horizon: 24, season: 24, repeats);
        Time("10,000 values (W = 48, h = 24, m = 24)", Synthetic(10_000, 24, seed: 2), window: 48, horizon: 24, season: 24, repeats);
        return 0;
    }

    /// <summary>A daily-cycle series with a slow trend and noise, positive.</summary>
    private static float[] Synthetic(int n, int m, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(t => (float)(100 + 0.002 * t + 20 * Math.Sin(2 * Math.PI * t / m) + 5 * Math.Sin(2 * Math.PI * t / (7.0 * m)) + 4 * rng.NextDouble())).ToArray();
    }

    private static void Time(string name, float[] values, int window, int horizon, int season, int repeats)
    {
        var seconds = new List<double>();
        for (int i = 0; i <= repeats; i++)
        {
            var ml = new MLContext(seed: i);
            var data = ml.Data.LoadFromEnumerable(values.Select(v => new Row { Value = v }));
            var estimator = ml.Forecasting.ForecastByRnn(new RnnForecastingOptions
            {
                OutputColumnName = "Forecast", InputColumnName = nameof(Row.Value), WindowSize = window, Horizon = horizon, SeasonalPeriod = season, Seed = i,
            });
            var clock = Stopwatch.StartNew();
            estimator.Fit(data);
            if (i > 0) seconds.Add(clock.Elapsed.TotalSeconds);   // the first fit warms up the JIT
        }
        seconds.Sort();
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-52} {1,6:F2} s per fit (min {2:F2}, max {3:F2})", name, seconds[seconds.Count / 2], seconds[0], seconds[^1]));
    }
}

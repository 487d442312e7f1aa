using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The window-scaling command: how each <see cref="RnnRegressionScaling"/> does in window mode, one step ahead,
/// on the five series of tests/MLNetRnn.Benchmarks/Accuracy/data and two synthetic ones (a linear trend with an additive season and noise,
/// and a drifting random walk). Rows are W lags → the next value; the model trains on every row before the last
/// <c>test</c> rows and predicts those (each from its true lags); the score is RMSE divided by the RMSE of the
/// naive last-value prediction, averaged over seeds 0–2, and summarised by the geometric mean over the series.
/// The figures and the choice they led to are in docs/design/window-regression.md.
/// </summary>
internal static class WindowScalingMeasurement
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var series = Series(args);
        var scalings = Enum.GetValues<RnnRegressionScaling>();
        Console.WriteLine($"# window mode, one step ahead, RMSE / RMSE of naive last value, mean (sd) over seeds 0-2; {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine($"{"series",-16}" + string.Concat(scalings.Select(s => $"{s,18}")));
        var ratios = scalings.ToDictionary(s => s, _ => new List<double>());
        foreach (var (name, x, W, test) in series)
        {
            var rows = Enumerable.Range(W, x.Length - W).Select(t => new LagRow { Features = x[(t - W)..t], Label = x[t] }).ToArray();
            int trainRows = rows.Length - test;
            double naive = Math.Sqrt(rows.Skip(trainRows).Average(r => Math.Pow(r.Label - r.Features[^1], 2)));
            Console.Write($"{name,-16}");
            foreach (var scaling in scalings)
            {
                var perSeed = new List<double>();
                foreach (int seed in new[] { 0, 1, 2 })
                {
                    var ml = new MLContext(seed: 0);
                    var schema = SchemaDefinition.Create(typeof(LagRow));
                    schema[nameof(LagRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, W);
                    var model = ml.Regression.Trainers.Rnn(new RnnRegressionOptions { Scaling = scaling, Seed = seed })
                        .Fit(ml.Data.LoadFromEnumerable(rows.Take(trainRows), schema));
                    var metrics = ml.Regression.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(rows.Skip(trainRows), schema)));
                    perSeed.Add(metrics.RootMeanSquaredError / naive);
                }
                double mean = perSeed.Average(), sd = Math.Sqrt(perSeed.Average(v => (v - mean) * (v - mean)));
                ratios[scaling].Add(mean);
                Console.Write(string.Format(Inv, "{0,11:F3} ({1:F3})", mean, sd));
            }
            Console.WriteLine();
        }
        Console.WriteLine($"{"geometric mean",-16}" + string.Concat(scalings.Select(s => string.Format(Inv, "{0,18:F3}", Math.Exp(ratios[s].Average(Math.Log))))));
        return 0;
    }

    /// <summary>The seven series with their window W and test rows: five from the data folder (or from
    /// <c>args[0]/data</c>), two synthetic.</summary>
    internal static List<(string Name, float[] Values, int W, int Test)> Series(string[] args)
    {
        // The series travel with the benchmarks (Accuracy/data, copied from tests/MLNetRnn.Benchmarks/Accuracy/data); an argument names
        // another folder holding a data/ folder.
        string dataDir = args.Length > 0 ? Path.Combine(args[0], "data") : Path.Combine(AppContext.BaseDirectory, "Accuracy", "data");
        var series = new List<(string Name, float[] Values, int W, int Test)>();
        foreach (var (file, w, test) in new[] { ("AirPassengers", 12, 36), ("USAccDeaths", 12, 24), ("JohnsonJohnson", 8, 24), ("WWWusage", 10, 30), ("BJsales", 10, 30) })
        {
            var values = File.ReadLines(Path.Combine(dataDir, file + ".csv")).Skip(1).Select(l => float.Parse(l.Split(',')[1], Inv)).ToArray();
            series.Add((file, values, w, test));
        }
        var rng = new Random(7);
        series.Add(("Trend+season", Enumerable.Range(0, 200).Select(t => (float)(10 + 0.5 * t + 3 * Math.Sin(2 * Math.PI * t / 12) + (2 * rng.NextDouble() - 1))).ToArray(), 12, 60));
        var walk = new float[200];
        walk[0] = 50;
        var steps = new Random(3);
        for (int t = 1; t < walk.Length; t++) walk[t] = walk[t - 1] + (float)(2 * steps.NextDouble() - 1) + 0.3f;
        series.Add(("Drifting walk", walk, 10, 60));

        return series;
    }

    private sealed class LagRow
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }
}

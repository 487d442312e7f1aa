using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The window-normaliser command: the two ways out that window mode's refusal of a normalised feature column offers,
/// measured on window-scaling's seven series and protocol (one step ahead, RMSE / RMSE of naive last value, mean over
/// seeds 0–2): remove the normaliser and keep the default scaling (LastValue), or keep <c>NormalizeMinMax</c> and set
/// Scaling to Global. Global without a normaliser is printed beside them. The figures are quoted in the refusal's
/// message and in docs/design/window-regression.md.
/// </summary>
internal static class WindowNormaliserMeasurement
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var choices = new (string Name, bool Normalise, RnnRegressionScaling Scaling)[]
        {
            ("no normaliser, LastValue", false, RnnRegressionScaling.LastValue),
            ("NormalizeMinMax, Global", true, RnnRegressionScaling.Global),
            ("no normaliser, Global", false, RnnRegressionScaling.Global),
        };
        Console.WriteLine($"# window mode, one step ahead, RMSE / RMSE of naive last value, mean (sd) over seeds 0-2; {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine($"{"series",-16}" + string.Concat(choices.Select(c => $"{c.Name,28}")));
        var ratios = choices.Select(_ => new List<double>()).ToArray();
        foreach (var (name, x, W, test) in WindowScalingMeasurement.Series(args))
        {
            var rows = Enumerable.Range(W, x.Length - W).Select(t => new LagRow { Features = x[(t - W)..t], Label = x[t] }).ToArray();
            int trainRows = rows.Length - test;
            double naive = Math.Sqrt(rows.Skip(trainRows).Average(r => Math.Pow(r.Label - r.Features[^1], 2)));
            Console.Write($"{name,-16}");
            for (int c = 0; c < choices.Length; c++)
            {
                var perSeed = new List<double>();
                foreach (int seed in new[] { 0, 1, 2 })
                {
                    var ml = new MLContext(seed: 0);
                    var schema = SchemaDefinition.Create(typeof(LagRow));
                    schema[nameof(LagRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, W);
                    var trainer = ml.Regression.Trainers.Rnn(new RnnRegressionOptions { Scaling = choices[c].Scaling, Seed = seed });
                    ITransformer model = choices[c].Normalise
                        ? ml.Transforms.NormalizeMinMax(nameof(LagRow.Features)).Append(trainer).Fit(ml.Data.LoadFromEnumerable(rows.Take(trainRows), schema))
                        : trainer.Fit(ml.Data.LoadFromEnumerable(rows.Take(trainRows), schema));
                    var metrics = ml.Regression.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(rows.Skip(trainRows), schema)));
                    perSeed.Add(metrics.RootMeanSquaredError / naive);
                }
                double mean = perSeed.Average(), sd = Math.Sqrt(perSeed.Average(v => (v - mean) * (v - mean)));
                ratios[c].Add(mean);
                Console.Write(string.Format(Inv, "{0,21:F3} ({1:F3})", mean, sd));
            }
            Console.WriteLine();
        }
        Console.WriteLine($"{"geometric mean",-16}" + string.Concat(ratios.Select(r => string.Format(Inv, "{0,28:F3}", Math.Exp(r.Average(Math.Log))))));
        return 0;
    }

    private sealed class LagRow
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }
}

using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRnn.Tests.Regression;

/// <summary>A row of window mode: W lags of a series, oldest first, and the next value.</summary>
public sealed class LagRow
{
    public float[] Features { get; set; } = [];

    public float Label { get; set; }
}

/// <summary>What a prediction engine over window mode returns.</summary>
public sealed class ScoreRow
{
    public float Score { get; set; }
}

/// <summary>Series, lag rows and data views for the window-mode tests. Everything is seeded.</summary>
internal static class RegressionTestData
{
    /// <summary>Lags per row in most tests: one season of the synthetic series.</summary>
    public const int W = 12;

    /// <summary>x_t = 10 + slope·t + 4·sin(2πt/12) + noise, noise uniform in ±<paramref name="noise"/>.</summary>
    public static float[] SeasonalTrend(int n, int seed, double slope = 0.3, double noise = 0.5)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n)
            .Select(t => (float)(10 + slope * t + 4 * Math.Sin(2 * Math.PI * t / 12) + noise * (2 * rng.NextDouble() - 1)))
            .ToArray();
    }

    /// <summary>One row per t ≥ W: features x_{t−W} … x_{t−1}, label x_t.</summary>
    public static LagRow[] Rows(float[] series, int w = W)
        => Enumerable.Range(w, series.Length - w).Select(t => new LagRow { Features = series[(t - w)..t], Label = series[t] }).ToArray();

    /// <summary>The rows as a data view whose Features column is a known-size vector of <paramref name="w"/> Single.</summary>
    public static IDataView View(MLContext ml, IEnumerable<LagRow> rows, int w = W)
    {
        var schema = SchemaDefinition.Create(typeof(LagRow));
        schema[nameof(LagRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, w);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>Options that train in a fraction of a second on a couple of hundred rows.</summary>
    public static RnnRegressionOptions Fast() => new()
    {
        HiddenSizes = [16],
        Epochs = 60,
        LearningRate = 1e-2f,
        EarlyStoppingPatience = 10,
    };

    /// <summary>Names of the scalar lag columns of <see cref="WriteCsv"/>, oldest first: Lag12 … Lag1.</summary>
    public static string[] LagColumns(int w = W) => Enumerable.Range(0, w).Select(k => $"Lag{w - k}").ToArray();

    /// <summary>Writes the rows as a CSV of scalar columns Lag12 … Lag1, Label ("R" round-trips every float) and
    /// loads it back with a text loader, as an application reading lags from a file would.</summary>
    public static IDataView WriteCsv(MLContext ml, LagRow[] rows, string path, int w = W)
    {
        var header = string.Join(",", LagColumns(w).Append("Label"));
        var lines = rows.Select(r => string.Join(",", r.Features.Append(r.Label).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        File.WriteAllLines(path, lines.Prepend(header));
        var columns = LagColumns(w).Append("Label").Select((name, i) => new TextLoader.Column(name, DataKind.Single, i)).ToArray();
        return ml.Data.LoadFromTextFile(path, columns, separatorChar: ',', hasHeader: true);
    }

    /// <summary>RMSE of predicting each row's label by its last lag.</summary>
    public static double NaiveRmse(IEnumerable<LagRow> rows)
        => Math.Sqrt(rows.Average(r => Math.Pow(r.Label - r.Features[^1], 2)));

    /// <summary>The bits of a Single column, row by row.</summary>
    public static int[] Bits(IDataView view, string column)
        => view.GetColumn<float>(column).Select(BitConverter.SingleToInt32Bits).ToArray();
}

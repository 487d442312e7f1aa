using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn;

namespace MLNetRnn.Samples;

/// <summary>
/// Window mode: monthly airline passengers 1949–1960 turned into regression rows (the 12 months before, the month
/// itself), ordinary ML.NET featurizers, the recurrent regression trainer <c>Regression.Trainers.Rnn</c>, and
/// <c>Regression.CrossValidate</c> with ML.NET's metrics beside the naive "same as last month" prediction. Then one
/// model on every row, with what it told <c>mlContext.Log</c>, ML.NET's permutation feature importance of each month,
/// and a <c>PredictionEngine</c> for the month after the data.
/// </summary>
public static class WindowRegressionSample
{
    private const int Lags = 12;

    /// <summary>One row of the CSV.</summary>
    public sealed class Month
    {
        /// <summary>First day of the month, as written in the file.</summary>
        [LoadColumn(0)] public string Date { get; set; } = "";

        /// <summary>Passengers, thousands.</summary>
        [LoadColumn(1)] public float Value { get; set; }
    }

    /// <summary>A regression row: the passengers of the 12 months before, oldest first, and of the month itself.</summary>
    public sealed class LagRow
    {
        /// <summary>Passengers 12, 11, …, 1 months before.</summary>
        [VectorType(Lags)] public float[] PreviousMonths { get; set; } = [];

        /// <summary>Passengers this month: what to predict.</summary>
        public float Passengers { get; set; }
    }

    /// <summary>What the prediction engine returns.</summary>
    public sealed class Prediction
    {
        /// <summary>Predicted passengers, thousands.</summary>
        public float Score { get; set; }
    }

    /// <summary>Runs the sample, writing its report to <paramref name="output"/>. Returns 0 when every fold beats
    /// the naive prediction.</summary>
    public static int Run(TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        var mlContext = new MLContext(seed: 0);
        string csv = Path.Combine(AppContext.BaseDirectory, "Data", "AirPassengers.csv");
        var months = mlContext.Data.CreateEnumerable<Month>(
            mlContext.Data.LoadFromTextFile<Month>(csv, hasHeader: true, separatorChar: ','), reuseRowObject: false).ToArray();
        float[] series = months.Select(m => m.Value).ToArray();

        // One row per month from the 13th on. Rows stay in time order: the trainer validates on the last ones.
        var rows = Enumerable.Range(Lags, series.Length - Lags)
            .Select(t => new LagRow { PreviousMonths = series[(t - Lags)..t], Passengers = series[t] })
            .ToArray();
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);

        // Ordinary featurizers name the label and assemble the feature vector, the trainer reads the vector as a
        // sequence of 12 steps. Passenger numbers grow in proportion to their level, so the rows are scaled by
        // ratios to the last month (LogRatio); the default (LastValue) works for any series.
        var pipeline = mlContext.Transforms.CopyColumns("Label", nameof(LagRow.Passengers))
            .Append(mlContext.Transforms.Concatenate("Features", nameof(LagRow.PreviousMonths)))
            .Append(mlContext.Regression.Trainers.Rnn(new RnnRegressionOptions
            {
                LabelColumnName = "Label",
                FeatureColumnName = "Features",
                Scaling = RnnRegressionScaling.LogRatio,
            }));

        // CrossValidate assigns rows to folds at random: each held-out month is predicted from its true previous
        // 12 months by a model trained on the other months, earlier and later ones.
        var started = DateTime.UtcNow;
        var folds = mlContext.Regression.CrossValidate(data, pipeline, numberOfFolds: 3, seed: 0);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;
        output.WriteLine($"AirPassengers: {series.Length} months → {rows.Length} rows of {Lags} lags; 3-fold cross-validation in {seconds:F1} s.");
        output.WriteLine("fold    RMSE     MAE      R²   naive RMSE   epochs (best)");
        bool allBeatNaive = true;
        foreach (var fold in folds)
        {
            double naive = NaiveRmse(fold.ScoredHoldOutSet);
            // The trainer's transformer is ML.NET's own RegressionPredictionTransformer; its Model is the network.
            var summary = ((TransformerChain<RegressionPredictionTransformer<RnnRegressionModelParameters>>)fold.Model).LastTransformer.Model.TrainingSummary;
            output.WriteLine(string.Format(inv, "{0,4} {1,7:F2} {2,7:F2} {3,7:F3} {4,12:F2}   {5,6} ({6})",
                fold.Fold, fold.Metrics.RootMeanSquaredError, fold.Metrics.MeanAbsoluteError, fold.Metrics.RSquared, naive,
                summary.EpochsRun, summary.BestEpoch));
            allBeatNaive &= fold.Metrics.RootMeanSquaredError < naive;
        }
        output.WriteLine(string.Format(inv, "mean {0,7:F2} {1,7:F2} {2,7:F3}",
            folds.Average(f => f.Metrics.RootMeanSquaredError), folds.Average(f => f.Metrics.MeanAbsoluteError), folds.Average(f => f.Metrics.RSquared)));

        // One model on every row. The trainer reports to mlContext.Log as ML.NET's trainers do: its settings and seed,
        // a Trace line per epoch, and how it ended (the Info lines are shown). Its training record travels with the
        // model (and with its saved zip).
        var log = new List<string>();
        EventHandler<LoggingEventArgs> listen = (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Info && e.Source.StartsWith(nameof(RnnRegressionEstimator), StringComparison.Ordinal))
                log.Add(e.RawMessage);
        };
        mlContext.Log += listen;
        var model = pipeline.Fit(data);
        mlContext.Log -= listen;
        foreach (string line in log) output.WriteLine($"log: {line}");
        var record = model.LastTransformer.Model.TrainingSummary;
        output.WriteLine(string.Format(inv,
            "Final model: {0} training / {1} validation rows, best of {2} epochs at {3}; {4} of {5} steps clipped at ‖g‖ = 1.",
            record.TrainingRows, record.ValidationRows, record.EpochsRun, record.BestEpoch, record.ClippedSteps, record.GradientNormBefore.Count));

        // ML.NET's permutation feature importance: one figure per slot of the feature vector, here per month before.
        // Shuffling a month that the model leans on raises the RMSE most.
        var importance = mlContext.Regression.PermutationFeatureImportance(model.LastTransformer, model.Transform(data), permutationCount: 3);
        var ranked = importance.Select((m, slot) => (MonthsBefore: Lags - slot, Rmse: m.RootMeanSquaredError.Mean))
            .OrderByDescending(p => p.Rmse).ToArray();
        output.WriteLine("Permutation feature importance (RMSE increase when one month is shuffled): " +
            string.Join(", ", ranked.Take(4).Select(p => string.Format(inv, "{0} before +{1:F1}", p.MonthsBefore == 1 ? "1 month" : $"{p.MonthsBefore} months", p.Rmse))) +
            string.Format(inv, "; least: {0} months before +{1:F1}.", ranked[^1].MonthsBefore, ranked[^1].Rmse));
        var engine = mlContext.Model.CreatePredictionEngine<LagRow, Prediction>(model);
        var next = engine.Predict(new LagRow { PreviousMonths = series[^Lags..] });
        output.WriteLine(string.Format(inv, "After {0}: {1:F0} thousand passengers predicted for the next month (the same month a year before: {2:F0}).",
            months[^1].Date, next.Score, series[^Lags]));
        output.WriteLine(allBeatNaive ? "Every fold beats the naive prediction." : "Some fold does NOT beat the naive prediction.");
        return allBeatNaive ? 0 : 1;
    }

    /// <summary>RMSE of predicting each held-out row by its last lag, "same as last month".</summary>
    private static double NaiveRmse(IDataView scored)
    {
        var labels = scored.GetColumn<float>("Label").ToArray();
        var last = scored.GetColumn<float[]>("Features").Select(f => f[^1]).ToArray();
        return Math.Sqrt(labels.Zip(last, (y, x) => (double)(y - x) * (y - x)).Average());
    }
}

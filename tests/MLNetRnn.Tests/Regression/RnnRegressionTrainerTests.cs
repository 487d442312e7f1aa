using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLNetRnn.Core.Training;
using MLNetRnn.Regression;
using MLNetRnn.Tests.Persistence;
using static MLNetRnn.Tests.Regression.RegressionTestData;

namespace MLNetRnn.Tests.Regression;

/// <summary>Window mode is an ML.NET trainer in the ways ML.NET's own tooling relies on: TrainerInfo, the score
/// annotations of the regression scorer, permutation feature importance, the context's log and seed.</summary>
public sealed class RnnRegressionTrainerTests
{
    private readonly MLContext _ml = new(seed: 0);

    [Fact]
    public void TrainerInfoSaysItNeedsNoNormalizationAndNoCaching()
    {
        ITrainerEstimator<RegressionPredictionTransformer<RnnRegressionModelParameters>, RnnRegressionModelParameters> trainer =
            _ml.Regression.Trainers.Rnn();

        // The trainer scales its inputs itself; a normaliser in front would break the local scalings.
        Assert.False(trainer.Info.NeedNormalization);
        Assert.False(trainer.Info.WantCaching);
    }

    [Fact]
    public void ScoreCarriesTheRegressionScoreAnnotations()
    {
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 1)));
        var options = Fast();
        options.Epochs = 2;
        var estimator = _ml.Regression.Trainers.Rnn(options);

        var shape = Assert.Single(estimator.GetOutputSchema(RnnRegressionEstimatorTests.Shape(view.Schema)), c => c.Name == "Score");
        var score = estimator.Fit(view).Transform(view).Schema["Score"];

        Assert.Equal((SchemaShape.Column.VectorKind.Scalar, (DataViewType)NumberDataViewType.Single), (shape.Kind, shape.ItemType));
        // ML.NET's annotation kinds and values (AnnotationUtils is internal to ML.NET).
        Assert.Contains(shape.Annotations, a => a.Name == "ScoreColumnKind");
        Assert.Contains(shape.Annotations, a => a.Name == "ScoreValueKind");
        Assert.Equal(NumberDataViewType.Single, score.Type);
        Assert.Equal("Regression", Text(score, "ScoreColumnKind"));
        Assert.Equal("Score", Text(score, "ScoreValueKind"));
    }

    [Fact]
    public void PermutationFeatureImportanceGivesOneValuePerStepAndFeature()
    {
        // Two features per step: the series and a constant-free noise covariate. With LastValue scaling the last step's
        // series value is the level every prediction starts from, so shuffling it must hurt most.
        var rng = new Random(3);
        var series = SeasonalTrend(140, seed: 3);
        var rows = Enumerable.Range(W, series.Length - W).Select(t => new LagRow
        {
            Features = Enumerable.Range(t - W, W).SelectMany(k => new[] { series[k], (float)rng.NextDouble() }).ToArray(),
            Label = series[t],
        }).ToArray();
        var view = View(_ml, rows, 2 * W);
        var options = Fast();
        options.FeaturesPerStep = 2;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);

        var importance = _ml.Regression.PermutationFeatureImportance(model, model.Transform(view), permutationCount: 1);

        Assert.Equal(2 * W, importance.Length);
        var rmse = importance.Select(m => m.RootMeanSquaredError.Mean).ToArray();
        Assert.All(rmse, d => Assert.True(double.IsFinite(d)));
        int mostImportant = Array.IndexOf(rmse, rmse.Max());
        Assert.True(mostImportant == 2 * (W - 1), $"slot {mostImportant} matters most; expected the last step's series value (slot {2 * (W - 1)}). ΔRMSE: {string.Join(", ", rmse.Select(d => d.ToString("F3")))}");
    }

    [Fact]
    public void PermutationFeatureImportanceOfAPipelineNamesEachLag()
    {
        // The front door ML.NET documents for a whole model: a value per slot, keyed by the slot names Concatenate gave.
        using var dir = new TempDirectory();
        var data = WriteCsv(_ml, Rows(SeasonalTrend(120, seed: 4)), dir.File("lags.csv"));
        var model = _ml.Transforms.Concatenate("Features", LagColumns()).Append(_ml.Regression.Trainers.Rnn(Fast())).Fit(data);

        var importance = _ml.Regression.PermutationFeatureImportance(model, model.Transform(data), permutationCount: 1);

        Assert.Equal(LagColumns().OrderBy(n => n), importance.Keys.OrderBy(n => n));
        var byRmse = importance.OrderByDescending(p => p.Value.RootMeanSquaredError.Mean).Select(p => p.Key).ToArray();
        Assert.Equal("Lag1", byRmse[0]);   // the level of every row
    }

    [Fact]
    public void NormalizedFeaturesAreRefusedForLocalScalingNamingTheColumnAndTheWayOut()
    {
        // The issue's scenario: NormalizeMinMax before the trainer made the holdout RMSE 6.5 times worse, silently,
        // because the local scaling took a normalised lag for the level of a label in passengers.
        using var dir = new TempDirectory();
        var data = WriteCsv(_ml, Rows(SeasonalTrend(120, seed: 5)), dir.File("lags.csv"));
        var pipeline = _ml.Transforms.Concatenate("Features", LagColumns())
            .Append(_ml.Transforms.NormalizeMinMax("Features"))
            .Append(_ml.Regression.Trainers.Rnn(Fast()));

        var fit = Assert.Throws<InvalidOperationException>(() => pipeline.Fit(data));
        var schema = Assert.Throws<InvalidOperationException>(() => pipeline.GetOutputSchema(RnnRegressionEstimatorTests.Shape(data.Schema)));

        foreach (var ex in new[] { fit, schema })
        {
            Assert.Contains("Feature column 'Features' is normalised", ex.Message);
            Assert.Contains("IsNormalized", ex.Message);
            Assert.Contains("Scaling LastValue", ex.Message);
            Assert.Contains("Remove the normaliser", ex.Message);
            Assert.Contains("Scaling to Global", ex.Message);
        }
    }

    [Fact]
    public void NormalizedFeaturesTrainWithGlobalScaling()
    {
        // Global assumes no units, so a normaliser in front is harmless. A level series (no trend): Global can work.
        using var dir = new TempDirectory();
        var rows = Rows(SeasonalTrend(200, seed: 6, slope: 0));
        var data = WriteCsv(_ml, rows[..150], dir.File("train.csv"));
        var test = WriteCsv(_ml, rows[150..], dir.File("test.csv"));
        var options = Fast();
        options.Scaling = RnnRegressionScaling.Global;
        var model = _ml.Transforms.Concatenate("Features", LagColumns())
            .Append(_ml.Transforms.NormalizeMinMax("Features"))
            .Append(_ml.Regression.Trainers.Rnn(options))
            .Fit(data);

        var metrics = _ml.Regression.Evaluate(model.Transform(test));

        double naive = NaiveRmse(rows[150..]);
        Assert.True(metrics.RootMeanSquaredError < 0.5 * naive, $"RMSE {metrics.RootMeanSquaredError:F3}, naive {naive:F3}");
    }

    [Fact]
    public void EarlyStoppingLogSaysHowCloseItIsAndWhichEpochTheModelKeeps()
    {
        var ml = new MLContext(seed: 3);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        var options = Fast();
        options.EarlyStoppingPatience = 3;
        options.Epochs = 500;

        var summary = ml.Regression.Trainers.Rnn(options).Fit(View(ml, Rows(SeasonalTrend(100, seed: 7)))).Model.TrainingSummary;

        Assert.True(summary.StoppedEarly);
        Assert.Contains(messages, m => m.StartsWith($"epoch {summary.EpochsRun}: ", StringComparison.Ordinal)
            && m.Contains("3 of 3 epochs without improvement", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"training: {summary.EpochsRun} epochs (stopped early: no improvement in 3 epochs)", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"The model keeps the weights of epoch {summary.BestEpoch + 1} (validation loss", StringComparison.Ordinal));
    }

    [Fact]
    public void MLContextLogShowsTheSeedEveryEpochAndTheEnd()
    {
        var ml = new MLContext(seed: 3);
        var messages = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e); };
        var options = Fast();
        options.Epochs = 4;
        options.ValidationFraction = 0;

        var model = ml.Regression.Trainers.Rnn(options).Fit(View(ml, Rows(SeasonalTrend(60, seed: 7))));

        var ours = messages.Where(m => m.Source.StartsWith(nameof(RnnRegressionEstimator), StringComparison.Ordinal)).Select(m => m.RawMessage).ToList();
        int seed = model.Model.TrainingSummary.Seed!.Value;
        Assert.Contains(ours, m => m.StartsWith("Training Gru [16] on 48 rows of 12 steps × 1 feature,", StringComparison.Ordinal)
            && m.Contains($"seed {seed} (drawn from the MLContext", StringComparison.Ordinal));
        for (int epoch = 1; epoch <= 4; epoch++)
            Assert.Single(ours, m => m.StartsWith($"epoch {epoch} of 4: training loss ", StringComparison.Ordinal));
        Assert.Contains(ours, m => m.StartsWith("training: 4 epochs (reached the maximum)", StringComparison.Ordinal));
        Assert.Contains(ours, m => m.StartsWith("The model keeps the weights of the last epoch, 4; trained in ", StringComparison.Ordinal));
    }

    [Fact]
    public void CancellationStopsFitAfterTheEpochInProgress()
    {
        using var cancel = new CancellationTokenSource();
        var estimator = _ml.Regression.Trainers.Rnn(Fast());
        int epochs = 0;
        estimator.CancellationToken = cancel.Token;
        estimator.Progress = new Progress(() =>
        {
            if (++epochs == 2) cancel.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() => estimator.Fit(View(_ml, Rows(SeasonalTrend(80, seed: 8)))));
        Assert.Equal(2, epochs);
    }

    [Fact]
    public void ChangingTheCallersOptionsAfterCreatingTheEstimatorChangesNothing()
    {
        var options = Fast();
        options.HiddenSizes = [6, 5];
        options.Epochs = 2;
        var estimator = _ml.Regression.Trainers.Rnn(options);
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 9)));

        // What once broke Fit: the estimator shared the caller's HiddenSizes array.
        options.HiddenSizes[0] = 0;
        options.HiddenSizes = [];
        options.Epochs = 0;
        var model = estimator.Fit(view);

        Assert.Equal([6, 5], model.Model.NetworkSpec.HiddenSizes);
        Assert.Equal(2, model.Model.TrainingSummary.EpochsRun);
        var copy = estimator.Options;
        copy.HiddenSizes[1] = 99;
        Assert.Equal([6, 5], estimator.Options.HiddenSizes);
    }

    [Fact]
    public void OptionsCloneSharesNoMutableObjectWithTheOriginal()
    {
        // Any reference-typed option added later must be copied by Clone too; strings are immutable.
        var options = new RnnRegressionOptions();
        var clone = (RnnRegressionOptions)typeof(RnnRegressionOptions).GetMethod("Clone", BindingFlags.NonPublic | BindingFlags.Instance)!.Invoke(options, null)!;

        foreach (var property in typeof(RnnRegressionOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType.IsValueType || property.PropertyType == typeof(string)) continue;
            Assert.False(ReferenceEquals(property.GetValue(options), property.GetValue(clone)), $"{property.Name} is shared by the clone.");
        }
    }

    private static string Text(DataViewSchema.Column column, string kind)
    {
        ReadOnlyMemory<char> value = default;
        column.Annotations.GetValue(kind, ref value);
        return value.ToString();
    }

    private sealed class Progress(Action onReport) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => onReport();
    }
}

using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Cells;
using MLNetRnn.Tests.Persistence;
using static MLNetRnn.Tests.Regression.RegressionTestData;

namespace MLNetRnn.Tests.Regression;

/// <summary>Window mode is an ordinary ML.NET regression trainer: Evaluate, CrossValidate and PredictionEngine
/// work on it unchanged, and it learns what a broken model could not.</summary>
public sealed class RnnRegressionEstimatorTests
{
    private readonly MLContext _ml = new(seed: 0);

    [Fact]
    public void RegressionEvaluateWorksOnScoreColumn()
    {
        var rows = Rows(SeasonalTrend(200, seed: 1));
        var train = View(_ml, rows[..150]);
        var test = rows[150..];

        var model = _ml.Regression.Trainers.Rnn(Fast()).Fit(train);
        var metrics = _ml.Regression.Evaluate(model.Transform(View(_ml, test)));

        // The test rows lie beyond the training range (trend), and the season makes the last value a poor guess
        // (naive RMSE 1.6, R² about 0.92; the noise alone gives RMSE 0.29): a model that learned nothing, or lost
        // its scaling, fails both bounds. Observed: RMSE 0.38, R² 0.993.
        double naive = NaiveRmse(test);
        Assert.True(metrics.RootMeanSquaredError < 0.4 * naive, $"RMSE {metrics.RootMeanSquaredError:F3} is not well below naive {naive:F3}.");
        Assert.True(metrics.RSquared > 0.97, $"R² {metrics.RSquared:F3}");
    }

    [Fact]
    public void CrossValidateRunsUnchanged()
    {
        // Ordinary featurizers first: scalar lag columns concatenated into the feature vector.
        using var dir = new TempDirectory();
        var rows = Rows(SeasonalTrend(180, seed: 2));
        var data = WriteCsv(_ml, rows, dir.File("lags.csv"));
        var pipeline = _ml.Transforms.Concatenate("Features", LagColumns())
            .Append(_ml.Regression.Trainers.Rnn(Fast()));

        var folds = _ml.Regression.CrossValidate(data, pipeline, numberOfFolds: 3, seed: 1);

        Assert.Equal(3, folds.Count);
        // Observed per fold: RMSE 0.34-0.47 against a naive 1.56, R² 0.999.
        double naive = NaiveRmse(rows);
        foreach (var fold in folds)
        {
            Assert.IsType<RegressionPredictionTransformer<RnnRegressionModelParameters>>(Assert.IsAssignableFrom<TransformerChain<RegressionPredictionTransformer<RnnRegressionModelParameters>>>(fold.Model).LastTransformer);
            Assert.True(fold.Metrics.RootMeanSquaredError < 0.45 * naive, $"fold {fold.Fold}: RMSE {fold.Metrics.RootMeanSquaredError:F3}, naive {naive:F3}");
            Assert.True(fold.Metrics.RSquared > 0.98, $"fold {fold.Fold}: R² {fold.Metrics.RSquared:F3}");
        }
    }

    [Fact]
    public void PredictionEngineGivesSameScoresAsTransform()
    {
        var rows = Rows(SeasonalTrend(120, seed: 3));
        var view = View(_ml, rows);
        var model = _ml.Regression.Trainers.Rnn(Fast()).Fit(view);

        var engine = _ml.Model.CreatePredictionEngine<LagRow, ScoreRow>(model, inputSchemaDefinition: SchemaFor(W));
        var fromEngine = rows.Select(r => BitConverter.SingleToInt32Bits(engine.Predict(r).Score)).ToArray();

        Assert.Equal(Bits(model.Transform(view), "Score"), fromEngine);
    }

    [Fact]
    public void TransformOnParallelCursorsGivesSameScores()
    {
        var rows = Rows(SeasonalTrend(140, seed: 4));
        var view = View(_ml, rows);
        var model = _ml.Regression.Trainers.Rnn(Fast()).Fit(view);
        var scored = model.Transform(view);
        var sequential = Bits(scored, "Score");

        // Cursors on different threads each get their own workspace.
        var column = scored.Schema["Score"];
        var perThread = new int[4][];
        Parallel.For(0, perThread.Length, k =>
        {
            var bits = new List<int>();
            using var cursor = scored.GetRowCursor([column]);
            var getter = cursor.GetGetter<float>(column);
            float score = 0;
            while (cursor.MoveNext())
            {
                getter(ref score);
                bits.Add(BitConverter.SingleToInt32Bits(score));
            }
            perThread[k] = bits.ToArray();
        });

        Assert.All(perThread, bits => Assert.Equal(sequential, bits));
    }

    [Fact]
    public void ScoringARowAllocatesNothing()
    {
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 10)));
        var options = Fast();
        options.Epochs = 2;
        var scored = _ml.Regression.Trainers.Rnn(options).Fit(view).Transform(view);
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        float score = 0;
        Assert.True(cursor.MoveNext());
        getter(ref score);   // the upstream getter sizes its buffer on the first call

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int k = 0; k < 100; k++) getter(ref score);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(float.IsFinite(score));
    }

    [Fact]
    public void SameSeedGivesBitIdenticalModelWhateverTheContextSeed()
    {
        var view = View(_ml, Rows(SeasonalTrend(120, seed: 5)));
        var options = Fast();
        options.Seed = 0;

        var first = _ml.Regression.Trainers.Rnn(options).Fit(view);
        var second = new MLContext(seed: 42).Regression.Trainers.Rnn(options).Fit(view);
        options.Seed = 1;
        var otherSeed = _ml.Regression.Trainers.Rnn(options).Fit(view);

        Assert.Equal(Parameters(first), Parameters(second));
        Assert.Equal(Bits(first.Transform(view), "Score"), Bits(second.Transform(view), "Score"));
        Assert.NotEqual(Parameters(first), Parameters(otherSeed));
        Assert.Equal((0, 1), (first.Model.TrainingSummary.Seed, otherSeed.Model.TrainingSummary.Seed));
    }

    [Fact]
    public void WithoutASeedTheContextSeedDecides()
    {
        // As ML.NET's trainers: MLContext(seed: s) makes the pipeline reproducible, another s gives another model.
        var view = View(_ml, Rows(SeasonalTrend(80, seed: 5)));
        var options = Fast();
        options.Epochs = 3;
        Assert.Null(options.Seed);

        var a = new MLContext(seed: 7).Regression.Trainers.Rnn(options).Fit(view);
        var b = new MLContext(seed: 7).Regression.Trainers.Rnn(options).Fit(view);
        var c = new MLContext(seed: 8).Regression.Trainers.Rnn(options).Fit(view);

        Assert.Equal(Parameters(a), Parameters(b));
        Assert.Equal(a.Model.TrainingSummary.Seed, b.Model.TrainingSummary.Seed);
        Assert.NotEqual(Parameters(a), Parameters(c));
        Assert.NotEqual(a.Model.TrainingSummary.Seed, c.Model.TrainingSummary.Seed);
        Assert.NotNull(a.Model.TrainingSummary.Seed);
    }

    [Fact]
    public void TrainingSummaryReportsSplitEpochsLossesAndGradientNorms()
    {
        var view = View(_ml, Rows(SeasonalTrend(112, seed: 6)));   // 100 rows
        var options = Fast();
        options.BatchSize = 16;

        var summary = _ml.Regression.Trainers.Rnn(options).Fit(view).Model.TrainingSummary;

        Assert.Equal((80, 20), (summary.TrainingRows, summary.ValidationRows));   // the last 20% validate
        Assert.Equal(RnnRegressionScaling.LastValue, summary.Scaling);
        Assert.InRange(summary.EpochsRun, 1, options.Epochs);
        Assert.Equal(summary.EpochsRun, summary.ValidationLoss.Count);
        Assert.InRange(summary.BestEpoch, 0, summary.EpochsRun - 1);
        Assert.Equal(summary.ValidationLoss.Min(), summary.BestValidationLoss);
        Assert.True(summary.RestoredBestWeights);
        Assert.Equal(summary.EpochsRun < options.Epochs, summary.StoppedEarly);
        Assert.Equal(summary.EpochsRun * 5, summary.GradientNormBefore.Count);   // 80 rows / 16 per batch
        Assert.Equal(summary.GradientNormBefore.Count, summary.GradientNormAfter.Count);
        Assert.All(summary.GradientNormBefore.Zip(summary.GradientNormAfter), p => Assert.True(p.Second <= Math.Min(p.First, 1f) + 1e-6f));
        Assert.True(summary.TrainingLoss[^1] < summary.TrainingLoss[0], "the training loss did not fall");
        Assert.True(summary.TargetScale > 0);
    }

    [Fact]
    public void ClippingOffLeavesGradientNormsUntouched()
    {
        var options = Fast();
        options.GradientClippingThreshold = null;
        options.Epochs = 5;

        var summary = _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, Rows(SeasonalTrend(80, seed: 7)))).Model.TrainingSummary;

        Assert.Equal(summary.GradientNormBefore, summary.GradientNormAfter);
        Assert.Equal(0, summary.ClippedSteps);
    }

    [Fact]
    public void FeaturesPerStepReadsTheVectorStepMajor()
    {
        // Two features per step: the series and a season indicator; step t holds (x_t, s_t).
        var series = SeasonalTrend(160, seed: 8);
        var rows = Enumerable.Range(W, series.Length - W).Select(t => new LagRow
        {
            Features = Enumerable.Range(t - W, W).SelectMany(k => new[] { series[k], (float)Math.Cos(2 * Math.PI * k / 12) }).ToArray(),
            Label = series[t],
        }).ToArray();
        var options = Fast();
        options.FeaturesPerStep = 2;

        var model = _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, rows[..120], 2 * W));
        var metrics = _ml.Regression.Evaluate(model.Transform(View(_ml, rows[120..], 2 * W)));

        Assert.Equal((W, 2), (model.Model.WindowSize, model.Model.FeaturesPerStep));
        Assert.Equal(2, model.Model.NetworkSpec.InputSize);
        // The level is feature 0 of the last step, x_{t−1}: were the layout read feature-major, it would be a
        // cosine, and the trend beyond the training range would be lost.
        double naive = Math.Sqrt(rows[120..].Average(r => Math.Pow(r.Label - r.Features[^2], 2)));
        Assert.True(metrics.RootMeanSquaredError < 0.6 * naive, $"RMSE {metrics.RootMeanSquaredError:F3}, naive {naive:F3}");
    }

    [Fact]
    public void EstimatorKeepsItsOwnCopyOfTheOptions()
    {
        var options = Fast();
        var estimator = _ml.Regression.Trainers.Rnn(options);
        options.Epochs = 1;
        options.HiddenSizes[0] = 3;

        Assert.Equal(Fast().Epochs, estimator.Options.Epochs);
        Assert.Equal(new[] { 16 }, estimator.Options.HiddenSizes);
    }

    [Fact]
    public void CatalogDefaultsMatchOptionsDefaults()
    {
        var method = typeof(RnnRegressionCatalog).GetMethods().Single(m => m.Name == "Rnn" && m.GetParameters().Length > 2);
        var defaults = method.GetParameters().Skip(1).ToDictionary(p => p.Name!, p => p.DefaultValue);
        var options = new RnnRegressionOptions();

        Assert.Equal(options.LabelColumnName, defaults["labelColumnName"]);
        Assert.Equal(options.FeatureColumnName, defaults["featureColumnName"]);
        Assert.Equal(options.FeaturesPerStep, defaults["featuresPerStep"]);
        Assert.Equal(options.Cell, (RecurrentCellKind)(int)defaults["cell"]!);
        Assert.Equal(options.HiddenSizes, new[] { (int)defaults["hiddenSize"]! });
        Assert.Equal(options.Epochs, defaults["epochs"]);
        Assert.Equal(options.LearningRate, defaults["learningRate"]);
        Assert.Equal(options.Seed, defaults["seed"]);

        // And the front door's estimator trains with them.
        var fromCatalog = _ml.Regression.Trainers.Rnn().Options;
        foreach (var property in typeof(RnnRegressionOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            Assert.Equal(property.GetValue(options), property.GetValue(fromCatalog));
    }

    private static float[] Parameters(RegressionPredictionTransformer<RnnRegressionModelParameters> model)
        => model.Model.Window.Network.Parameters.Values;

    /// <summary>ML.NET's SchemaShape.Create(DataViewSchema) is internal; pipelines call it for us.</summary>
    internal static SchemaShape Shape(DataViewSchema schema)
        => (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Static, [typeof(DataViewSchema)])!.Invoke(null, [schema])!;

    private static SchemaDefinition SchemaFor(int w)
    {
        var schema = SchemaDefinition.Create(typeof(LagRow));
        schema[nameof(LagRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, w);
        return schema;
    }
}

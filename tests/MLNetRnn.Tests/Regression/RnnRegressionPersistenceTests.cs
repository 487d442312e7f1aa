using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNetRnn.Persistence;
using MLNetRnn.Tests.Persistence;
using static MLNetRnn.Tests.Regression.RegressionTestData;

namespace MLNetRnn.Tests.Regression;

/// <summary>Window mode survives ML.NET's model zips: alone and between featurizers, in the same process and in a
/// fresh one with no registration call, and a zip written by format version 1 keeps loading.</summary>
public sealed class RnnRegressionPersistenceTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SaveLoadAloneGivesOurTypeIdenticalScoresAndSummary()
    {
        var view = View(_ml, Rows(SeasonalTrend(100, seed: 11)));
        var model = _ml.Regression.Trainers.Rnn(Fast()).Fit(view);
        string path = _dir.File("alone.zip");

        _ml.Model.Save(model, view.Schema, path);
        var loaded = new MLContext().Model.Load(path, out var schema);

        var typed = Assert.IsType<RegressionPredictionTransformer<RnnRegressionModelParameters>>(loaded);
        Assert.Equal(view.Schema.Select(c => (c.Name, c.Type)), schema.Select(c => (c.Name, c.Type)));
        Assert.Equal(Bits(model.Transform(view), "Score"), Bits(loaded.Transform(view), "Score"));
        Assert.Equal((model.FeatureColumnName, model.Model.WindowSize, model.Model.FeaturesPerStep, model.Model.TargetFeatureIndex, model.Model.Scaling),
            (typed.FeatureColumnName, typed.Model.WindowSize, typed.Model.FeaturesPerStep, typed.Model.TargetFeatureIndex, typed.Model.Scaling));
        Assert.Equal(model.Model.NetworkSpec, typed.Model.NetworkSpec);
        AssertSameSummary(model.Model.TrainingSummary, typed.Model.TrainingSummary);
    }

    [Fact]
    public void SaveLoadInsidePipelineBetweenFeaturizersKeepsOurTypeAndIdenticalScores()
    {
        var rows = Rows(SeasonalTrend(100, seed: 12));
        var data = WriteCsv(_ml, rows, _dir.File("lags.csv"));
        var model = Pipeline().Fit(data);
        string path = _dir.File("pipeline.zip");

        _ml.Model.Save(model, data.Schema, path);
        var loaded = new MLContext().Model.Load(path, out _);

        var stages = Assert.IsAssignableFrom<IEnumerable<ITransformer>>(loaded).ToList();
        Assert.Collection(stages,
            s => Assert.IsType<ColumnConcatenatingTransformer>(s),
            s => Assert.IsType<RegressionPredictionTransformer<RnnRegressionModelParameters>>(s),
            s => Assert.IsType<ColumnCopyingTransformer>(s));
        var expected = model.Transform(data);
        var actual = loaded.Transform(data);
        foreach (string column in new[] { "Score", "ScoreCopy" })
            Assert.Equal(Bits(expected, column), Bits(actual, column));
        var engine = _ml.Model.CreatePredictionEngine<ScalarLags, ScoreRow>(loaded);
        Assert.Equal(Bits(expected, "Score"), rows.Select(r => BitConverter.SingleToInt32Bits(engine.Predict(ScalarLags.From(r)).Score)));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ModelLoadsInFreshProcessWithoutRegistration()
    {
        var rows = Rows(SeasonalTrend(90, seed: 13));
        string csv = _dir.File("lags.csv");
        var data = WriteCsv(_ml, rows, csv);
        var model = Pipeline().Fit(data);
        string path = _dir.File("pipeline.zip");
        _ml.Model.Save(model, data.Schema, path);

        var output = ModelLoaderProcess.Run(path, csv, "Score,ScoreCopy");

        Assert.Equal("preloaded: False", output[0]);
        Assert.Equal(
        [
            $"stage: {typeof(ColumnConcatenatingTransformer).FullName}",
            $"stage: {typeof(RegressionPredictionTransformer<RnnRegressionModelParameters>).FullName}",
            $"stage: {typeof(ColumnCopyingTransformer).FullName}",
        ], output.Where(l => l.StartsWith("stage: ", StringComparison.Ordinal)));
        var transformed = model.Transform(data);
        var expected = new[] { "Score", "ScoreCopy" }.SelectMany(c => Bits(transformed, c)
            .Select((bits, row) => $"row {row} {c}: {bits.ToString("x8", CultureInfo.InvariantCulture)}"));
        Assert.Equal(expected, output.Where(l => l.StartsWith("row ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(1)]   // RnnRegressionTransformer's own payload: loads as the ML.NET regression transformer it is now
    [InlineData(2)]   // RegressionPredictionTransformer<RnnRegressionModelParameters>
    [InlineData(3)]   // the same, with its training diagnostics
    [InlineData(4)]   // the same, with dilations and residual connections
    public void CommittedFixtureKeepsLoading(int version)
    {
        // Written by RegressionFixture.Write with that format version (see FixtureGeneratorWritesAModelThatLoads).
        // They are never regenerated by the tests: a change that stops one loading breaks saved models.
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Models");
        var expectation = RegressionFixture.ReadExpectation(Path.Combine(dir, RegressionFixture.JsonName(version)));

        var loaded = _ml.Model.Load(Path.Combine(dir, RegressionFixture.ZipName(version)), out var schema);

        var stages = Assert.IsAssignableFrom<IEnumerable<ITransformer>>(loaded).ToList();
        var regression = Assert.IsType<RegressionPredictionTransformer<RnnRegressionModelParameters>>(stages[1]).Model;
        Assert.Equal(expectation.EpochsRun, regression.TrainingSummary.EpochsRun);
        Assert.Equal(expectation.BestEpoch, regression.TrainingSummary.BestEpoch);
        Assert.Equal(expectation.TrainingRows, regression.TrainingSummary.TrainingRows);
        Assert.Equal(expectation.Scaling, regression.Scaling.ToString());
        Assert.Equal(0, regression.TargetFeatureIndex);
        Assert.Equal(version == 1 ? null : 0, regression.TrainingSummary.Seed);   // format 1 did not record it
        var data = WriteCsv(_ml, expectation.Rows(), _dir.File("fixture.csv"));
        Assert.Equal(schema.Select(c => c.Name), data.Schema.Select(c => c.Name));
        // Bit equality is pinned by the round-trip tests; across machines and runtimes tanh/exp may differ in the
        // last bit, so the committed expectation allows float rounding.
        Close.AssertTensor("fixture scores", expectation.Scores, loaded.Transform(data).GetColumn<float>("Score").ToArray(), 1e-5);
    }

    [Fact]
    public void FixtureGeneratorWritesAModelThatLoads()
    {
        // MLNETRNN_WRITE_FIXTURES=<repo>/tests/MLNetRnn.Tests/Fixtures/Models dotnet test --filter FixtureGenerator
        // writes the fixture of the current format version: only when the version changes, and then as a new file.
        string dir = Environment.GetEnvironmentVariable("MLNETRNN_WRITE_FIXTURES") is { Length: > 0 } target ? target : _dir.Path;
        int version = RnnRegressionModelParameters.Format.CurrentVersion;

        RegressionFixture.Write(dir);

        var expectation = RegressionFixture.ReadExpectation(Path.Combine(dir, RegressionFixture.JsonName(version)));
        var loaded = new MLContext().Model.Load(Path.Combine(dir, RegressionFixture.ZipName(version)), out _);
        var data = WriteCsv(_ml, expectation.Rows(), _dir.File("generated.csv"));
        Assert.Equal(expectation.Scores.Select(BitConverter.SingleToInt32Bits), Bits(loaded.Transform(data), "Score"));
    }

    [Fact]
    public void NewerFormatVersionGivesClearException()
    {
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 14)));
        var options = Fast();
        options.Epochs = 2;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);
        int newer = RnnRegressionModelParameters.Format.CurrentVersion + 1;
        var future = RnnRegressionEstimator.MakeTransformer(_ml,
            new RnnRegressionModelParameters(model.Model.Window, model.Model.TrainingSummary, model.Model.Diagnostics)
            {
                WriteFormat = RnnRegressionModelParameters.Format.AsWrittenBy(version: newer, readableByVersion: newer),
            }, view.Schema, model.FeatureColumnName);
        string path = _dir.File("future.zip");
        _ml.Model.SaveAtomically(future, view.Schema, path);

        var ex = Assert.Throws<UnsupportedModelVersionException>(() => _ml.Model.LoadValidated(path, out _));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"format version {newer}", ex.Message);
        Assert.Contains(RnnRegressionModelParameters.LoaderSignature, ex.Message);
    }

    [Fact]
    public void CorruptedPayloadGivesClearException()
    {
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 15)));
        var options = Fast();
        options.Epochs = 2;
        string path = _dir.File("model.zip");
        _ml.Model.SaveAtomically(_ml.Regression.Trainers.Rnn(options).Fit(view), view.Schema, path);
        // Flip one byte near the end of our payload (in the parameters or the summary); the zip stays consistent.
        Probe.RewriteEntry(path, "TransformerChain/Model/Model.key", bytes =>
        {
            bytes[bytes.Length - 200] ^= 0x5A;
            return bytes;
        });

        var ex = Assert.Throws<InvalidDataException>(() => _ml.Model.LoadValidated(path, out _));
        Assert.Contains(path, ex.Message);
        Assert.Contains(RnnRegressionModelParameters.LoaderSignature, ex.Message);
    }

    private EstimatorChain<ColumnCopyingTransformer> Pipeline()
        => _ml.Transforms.Concatenate("Features", LagColumns())
            .Append(_ml.Regression.Trainers.Rnn(Fast()))
            .Append(_ml.Transforms.CopyColumns("ScoreCopy", "Score"));

    private static void AssertSameSummary(RnnRegressionTrainingSummary expected, RnnRegressionTrainingSummary actual)
    {
        Assert.Equal((expected.Scaling, expected.TargetScale, expected.TrainingRows, expected.ValidationRows, expected.BestEpoch),
            (actual.Scaling, actual.TargetScale, actual.TrainingRows, actual.ValidationRows, actual.BestEpoch));
        Assert.Equal((expected.BestValidationLoss, expected.StoppedEarly, expected.RestoredBestWeights, expected.SkippedSteps),
            (actual.BestValidationLoss, actual.StoppedEarly, actual.RestoredBestWeights, actual.SkippedSteps));
        Assert.Equal(expected.TrainingLoss, actual.TrainingLoss);
        Assert.Equal(expected.ValidationLoss, actual.ValidationLoss);
        Assert.Equal(expected.GradientNormBefore, actual.GradientNormBefore);
        Assert.Equal(expected.GradientNormAfter, actual.GradientNormAfter);
    }

    /// <summary>The CSV's scalar columns, for a prediction engine over the pipeline.</summary>
    public sealed class ScalarLags
    {
        public float Lag12 { get; set; }
        public float Lag11 { get; set; }
        public float Lag10 { get; set; }
        public float Lag9 { get; set; }
        public float Lag8 { get; set; }
        public float Lag7 { get; set; }
        public float Lag6 { get; set; }
        public float Lag5 { get; set; }
        public float Lag4 { get; set; }
        public float Lag3 { get; set; }
        public float Lag2 { get; set; }
        public float Lag1 { get; set; }
        public float Label { get; set; }

        public static ScalarLags From(LagRow r)
        {
            var lags = new ScalarLags { Label = r.Label };
            var properties = LagColumns().Select(name => typeof(ScalarLags).GetProperty(name)!).ToArray();
            for (int k = 0; k < properties.Length; k++) properties[k].SetValue(lags, r.Features[k]);
            return lags;
        }
    }
}

/// <summary>
/// The committed window-mode fixtures: a pipeline Concatenate(Lag12 … Lag1) → Rnn saved with one format version,
/// beside a JSON file with the rows it was scored on, the scores and a few summary figures. Version 1 was written by
/// the build before the trainer became an ML.NET regression trainer (as RnnRegressionTransformer), version 2 by the
/// one after.
/// </summary>
internal static class RegressionFixture
{
    public static string ZipName(int version) => $"window-regression-v{version}.zip";

    public static string JsonName(int version) => $"window-regression-v{version}.json";

    /// <summary>Trains a small model on a seasonal trend and writes both files of the current format version to
    /// <paramref name="directory"/>.</summary>
    public static void Write(string directory)
    {
        int version = RnnRegressionModelParameters.Format.CurrentVersion;
        Directory.CreateDirectory(directory);
        var ml = new MLContext(seed: 0);
        var rows = Rows(SeasonalTrend(80, seed: 20));
        string csv = Path.Combine(directory, $"window-regression-v{version}.csv.tmp");
        try
        {
            var data = WriteCsv(ml, rows, csv);
            var options = new RnnRegressionOptions { HiddenSizes = [8], Epochs = 15, LearningRate = 1e-2f, Seed = 0 };
            // Format 4 is written only for a network with dilations or residual connections, so its fixture has them.
            if (version >= 4) (options.HiddenSizes, options.Dilations, options.ResidualConnections) = ([8, 8], [1, 2], true);
            var model = ml.Transforms.Concatenate("Features", LagColumns()).Append(ml.Regression.Trainers.Rnn(options)).Fit(data);
            ml.Model.SaveAtomically(model, data.Schema, Path.Combine(directory, ZipName(version)));

            var scored = rows[^10..];
            var scores = model.Transform(WriteCsv(ml, scored, csv)).GetColumn<float>("Score").ToArray();
            var summary = model.LastTransformer.Model.TrainingSummary;
            var expectation = new Expectation(scored.Select(r => r.Features).ToArray(), scored.Select(r => r.Label).ToArray(), scores,
                summary.EpochsRun, summary.BestEpoch, summary.TrainingRows, summary.Scaling.ToString());
            File.WriteAllText(Path.Combine(directory, JsonName(version)), JsonSerializer.Serialize(expectation));
        }
        finally
        {
            File.Delete(csv);
        }
    }

    public static Expectation ReadExpectation(string path) => JsonSerializer.Deserialize<Expectation>(File.ReadAllText(path))!;

    /// <summary>What the fixture computed when it was written.</summary>
    public sealed record Expectation(float[][] Features, float[] Labels, float[] Scores, int EpochsRun, int BestEpoch, int TrainingRows, string Scaling)
    {
        public LagRow[] Rows() => Features.Zip(Labels, (f, l) => new LagRow { Features = f, Label = l }).ToArray();
    }
}

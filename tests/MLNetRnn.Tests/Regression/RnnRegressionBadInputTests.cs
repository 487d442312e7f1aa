using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Training;
using static MLNetRnn.Tests.Regression.RegressionTestData;

namespace MLNetRnn.Tests.Regression;

/// <summary>Bad input fails before any training, with a message that names the column, option or value at
/// fault and what was expected.</summary>
public sealed class RnnRegressionBadInputTests
{
    private readonly MLContext _ml = new(seed: 0);

    public static TheoryData<string, Action<RnnRegressionOptions>> OptionsOutOfRange => new()
    {
        { "LabelColumnName", o => o.LabelColumnName = "" },
        { "FeatureColumnName", o => o.FeatureColumnName = null! },
        { "FeaturesPerStep", o => o.FeaturesPerStep = 0 },
        { "TargetFeatureIndex", o => o.TargetFeatureIndex = -1 },
        { "TargetFeatureIndex", o => o.TargetFeatureIndex = 1 },   // FeaturesPerStep is 1
        { "Cell", o => o.Cell = (RecurrentCellKind)7 },
        { "HiddenSizes", o => o.HiddenSizes = [] },
        { "HiddenSizes", o => o.HiddenSizes = [8, 0] },
        { "Epochs", o => o.Epochs = 0 },
        { "BatchSize", o => o.BatchSize = -1 },
        { "LearningRate", o => o.LearningRate = 0f },
        { "LearningRate", o => o.LearningRate = float.NaN },
        { "GradientClippingThreshold", o => o.GradientClippingThreshold = 0f },
        { "GradientClippingThreshold", o => o.GradientClippingThreshold = float.PositiveInfinity },
        { "TruncationLength", o => o.TruncationLength = 0 },
        { "VanishingRegularizerWeight", o => o.VanishingRegularizerWeight = -0.5f },
        { "VanishingRegularizerWeight", o => o.VanishingRegularizerWeight = 0.5f },   // the default cell is a GRU
        { "ValidationFraction", o => o.ValidationFraction = 1f },
        { "ValidationFraction", o => o.ValidationFraction = -0.1f },
        { "EarlyStoppingPatience", o => o.EarlyStoppingPatience = 0 },
        { "Scaling", o => o.Scaling = (RnnRegressionScaling)9 },
    };

    [Theory]
    [MemberData(nameof(OptionsOutOfRange))]
    public void OptionOutOfRangeIsRejectedByTheCatalogNamingIt(string option, Action<RnnRegressionOptions> spoil)
    {
        var options = new RnnRegressionOptions();
        spoil(options);

        var ex = Assert.ThrowsAny<ArgumentException>(() => _ml.Regression.Trainers.Rnn(options));

        Assert.Equal(option, ex.ParamName);
        Assert.Contains(option, ex.Message);
    }

    [Fact]
    public void CatalogArgumentOutOfRangeIsRejectedNamingTheOption()
    {
        Assert.Equal("HiddenSizes", Assert.ThrowsAny<ArgumentException>(() => _ml.Regression.Trainers.Rnn(hiddenSize: 0)).ParamName);
        Assert.Equal("Epochs", Assert.ThrowsAny<ArgumentException>(() => _ml.Regression.Trainers.Rnn(epochs: -3)).ParamName);
        Assert.Equal("FeaturesPerStep", Assert.ThrowsAny<ArgumentException>(() => _ml.Regression.Trainers.Rnn(featuresPerStep: 0)).ParamName);
    }

    [Fact]
    public void MissingFeatureColumnNamesItAndListsTheColumns()
    {
        var estimator = _ml.Regression.Trainers.Rnn(featureColumnName: "Lags");
        var view = View(_ml, Rows(SeasonalTrend(40, seed: 1)));

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(view));
        Assert.Contains("feature column 'Lags'", ex.Message);
        Assert.Contains("FeatureColumnName", ex.Message);
        Assert.Contains("Columns present: Features, Label", ex.Message);
        Assert.Contains("'Lags'", Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(RnnRegressionEstimatorTests.Shape(view.Schema))).Message);
    }

    [Fact]
    public void MissingLabelColumnNamesIt()
    {
        var estimator = _ml.Regression.Trainers.Rnn(labelColumnName: "Target");
        var view = View(_ml, Rows(SeasonalTrend(40, seed: 1)));

        Assert.Contains("label column 'Target'", Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(view)).Message);
        Assert.Contains("label column 'Target'", Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(RnnRegressionEstimatorTests.Shape(view.Schema))).Message);
    }

    [Fact]
    public void ScalarFeatureColumnIsRejectedNamingItAndTheExpectedType()
    {
        var view = _ml.Data.LoadFromEnumerable([new { Features = 1f, Label = 2f }, new { Features = 2f, Label = 3f }]);
        var estimator = _ml.Regression.Trainers.Rnn();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(view));
        Assert.Contains("Schema mismatch for feature column 'Features': expected a known-size vector of Single, got Single", ex.Message);
        Assert.Contains("feature column 'Features'", Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(RnnRegressionEstimatorTests.Shape(view.Schema))).Message);
    }

    [Fact]
    public void VariableSizeFeatureVectorIsRejected()
    {
        // LoadFromEnumerable without a schema definition gives float[] a variable-size vector type.
        var view = _ml.Data.LoadFromEnumerable(Rows(SeasonalTrend(40, seed: 1)));

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Regression.Trainers.Rnn().Fit(view));
        Assert.Contains("feature column 'Features': expected a known-size vector of Single", ex.Message);
    }

    [Fact]
    public void FeatureVectorOfDoubleIsRejected()
    {
        var schema = SchemaDefinition.Create(typeof(DoubleRow));
        schema[nameof(DoubleRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 4);
        var view = _ml.Data.LoadFromEnumerable([new DoubleRow { Features = [1, 2, 3, 4], Label = 5 }], schema);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Regression.Trainers.Rnn().Fit(view));
        Assert.Contains("feature column 'Features'", ex.Message);
        Assert.Contains("Vector<Double, 4>", ex.Message);
    }

    [Fact]
    public void FeatureSizeThatIsNotAMultipleOfFeaturesPerStepIsRejected()
    {
        var view = View(_ml, Rows(SeasonalTrend(40, seed: 1)));   // 12 features

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Regression.Trainers.Rnn(featuresPerStep: 5).Fit(view));
        Assert.Contains("feature column 'Features'", ex.Message);
        Assert.Contains("size 12 is not a multiple of FeaturesPerStep (5)", ex.Message);
    }

    [Fact]
    public void LabelThatIsNotSingleIsRejected()
    {
        var view = _ml.Data.LoadFromEnumerable([new DoubleLabelRow { Features = [1, 2, 3], Label = 4 }], DoubleLabelRow.Schema());

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Regression.Trainers.Rnn().Fit(view));
        Assert.Contains("Schema mismatch for label column 'Label': expected Single, got Double", ex.Message);
    }

    [Fact]
    public void NaNLabelIsRejectedNamingColumnAndRowBeforeTraining()
    {
        var rows = Rows(SeasonalTrend(40, seed: 1));
        rows[7].Label = float.NaN;
        var estimator = _ml.Regression.Trainers.Rnn(Fast());
        int epochs = 0;
        estimator.Progress = new Progress(() => epochs++);

        var ex = Assert.Throws<InvalidOperationException>(() => estimator.Fit(View(_ml, rows)));

        Assert.Contains("Label column 'Label' has NaN at row 7", ex.Message);
        Assert.Equal(0, epochs);
    }

    [Fact]
    public void InfiniteFeatureIsRejectedNamingColumnRowAndElementBeforeTraining()
    {
        var rows = Rows(SeasonalTrend(40, seed: 1));
        rows[^1].Features[3] = float.NegativeInfinity;   // the last row: found before training starts
        var estimator = _ml.Regression.Trainers.Rnn(Fast());
        int epochs = 0;
        estimator.Progress = new Progress(() => epochs++);

        var ex = Assert.Throws<InvalidOperationException>(() => estimator.Fit(View(_ml, rows)));

        Assert.Contains($"Feature column 'Features' has -Infinity at row {rows.Length - 1}, element 3", ex.Message);
        Assert.Equal(0, epochs);
    }

    [Fact]
    public void EmptyDataViewIsRejected()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => _ml.Regression.Trainers.Rnn().Fit(View(_ml, Array.Empty<LagRow>())));

        Assert.Contains("empty", ex.Message);
        Assert.Contains("'Features'", ex.Message);
    }

    [Fact]
    public void TooFewRowsForTheValidationSplitNamesValidationFraction()
    {
        var rows = Rows(SeasonalTrend(14, seed: 1));   // 2 rows: 20% of them rounds to none

        var ex = Assert.Throws<InvalidOperationException>(() => _ml.Regression.Trainers.Rnn().Fit(View(_ml, rows)));

        Assert.Contains("ValidationFraction 0.2 of 2 rows", ex.Message);
    }

    [Fact]
    public void TruncationLongerThanTheStepsPerRowNamesTheOption()
    {
        var options = Fast();
        options.TruncationLength = 13;

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, Rows(SeasonalTrend(40, seed: 1)))));

        Assert.Equal("TruncationLength", ex.ParamName);
        Assert.Contains("steps per row (12", ex.Message);
    }

    [Fact]
    public void LogRatioScalingRejectsNonPositiveValuesNamingTheColumn()
    {
        var rows = Rows(SeasonalTrend(40, seed: 1));
        rows[4].Features[11] = 0f;
        var options = Fast();
        options.Scaling = RnnRegressionScaling.LogRatio;

        var ex = Assert.Throws<InvalidOperationException>(() => _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, rows)));

        Assert.Contains("Scaling LogRatio", ex.Message);
        Assert.Contains("feature column 'Features' has 0 at row 4, element 11", ex.Message);
    }

    [Fact]
    public void TrainedModelRejectsFeatureVectorOfAnotherSize()
    {
        var options = Fast();
        options.Epochs = 2;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, Rows(SeasonalTrend(40, seed: 1))));
        var shorter = View(_ml, Rows(SeasonalTrend(40, seed: 1), w: 10), w: 10);

        // ML.NET's regression scorer checks the type, as for any of its trainers; GetOutputSchema names the column.
        var transform = Assert.ThrowsAny<InvalidOperationException>(() => model.Transform(shorter));
        var schema = Assert.Throws<ArgumentOutOfRangeException>(() => model.GetOutputSchema(shorter.Schema));

        Assert.Contains("Vector<Single, 10>", transform.Message);
        Assert.Contains("Vector<Single, 12>", transform.Message);
        Assert.Contains("feature column 'Features'", schema.Message);
        Assert.Contains("expected Vector<Single, 12>, got Vector<Single, 10>", schema.Message);
    }

    [Fact]
    public void NonFiniteFeaturesAtPredictionGiveNaNNotAnException()
    {
        var options = Fast();
        options.Epochs = 2;
        var rows = Rows(SeasonalTrend(40, seed: 1));
        var model = _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, rows));
        rows[0].Features[^1] = float.NaN;

        var scores = model.Transform(View(_ml, rows)).GetColumn<float>("Score").ToArray();

        Assert.True(float.IsNaN(scores[0]));
        Assert.All(scores[1..], s => Assert.True(float.IsFinite(s)));
    }

    public sealed class DoubleRow
    {
        public double[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    public sealed class DoubleLabelRow
    {
        public float[] Features { get; set; } = [];

        public double Label { get; set; }

        public static SchemaDefinition Schema()
        {
            var schema = SchemaDefinition.Create(typeof(DoubleLabelRow));
            schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3);
            return schema;
        }
    }

    private sealed class Progress(Action onReport) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => onReport();
    }
}

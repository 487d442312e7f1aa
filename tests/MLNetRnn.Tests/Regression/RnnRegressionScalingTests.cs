using Microsoft.ML;
using MLNetRnn.Regression;
using static MLNetRnn.Tests.Regression.RegressionTestData;

namespace MLNetRnn.Tests.Regression;

/// <summary>
/// The scaling is part of the model and decides whether it can predict beyond the training range. A global
/// z-score cannot: a trending series leaves the range it was fitted on. Scaling each row by its own level can.
/// The broader measurement behind the default is in docs/design/window-regression.md.
/// </summary>
public sealed class RnnRegressionScalingTests
{
    private readonly MLContext _ml = new(seed: 0);

    [Theory]
    [InlineData(RnnRegressionScaling.LastValue)]
    [InlineData(RnnRegressionScaling.WindowMean)]
    public void LocalScalingPredictsATrendBeyondTheTrainingRangeWhereGlobalZScoreFails(RnnRegressionScaling local)
    {
        // x_t = 5 + 0.8t + noise (uniform ±1, σ 0.58). Trained on the rows up to x ≈ 110, tested on the next 128,
        // all above anything seen in training (up to x ≈ 212).
        var rng = new Random(5);
        var series = Enumerable.Range(0, 260).Select(t => (float)(5 + 0.8 * t + (2 * rng.NextDouble() - 1))).ToArray();
        var rows = Rows(series);
        var (train, test) = (rows[..120], rows[120..]);
        Assert.True(test.Min(r => r.Label) > train.Max(r => r.Label));
        double naive = NaiveRmse(test);   // 1.16: the slope plus noise

        double rmseLocal = Rmse(local, train, test);
        double rmseGlobal = Rmse(RnnRegressionScaling.Global, train, test);

        // Observed: local 0.63-0.67 (about the noise), global 54-63 (its outputs stay near the training range).
        Assert.True(rmseLocal < 0.75 * naive, $"{local}: RMSE {rmseLocal:F3}, naive {naive:F3}");
        Assert.True(rmseGlobal > 10 * naive, $"Global: RMSE {rmseGlobal:F3}, naive {naive:F3}; expected it to fail beyond the training range.");
    }

    [Fact]
    public void LogRatioScalingFollowsMultiplicativeGrowth()
    {
        // 2% growth per step with a ±15% season: the changes grow with the level, which ratios capture and
        // differences do not. The test rows reach 5 times the training maximum.
        var rng = new Random(6);
        var series = Enumerable.Range(0, 200)
            .Select(t => (float)(10 * Math.Pow(1.02, t) * (1 + 0.15 * Math.Sin(2 * Math.PI * t / 12)) * (1 + 0.02 * (2 * rng.NextDouble() - 1))))
            .ToArray();
        var rows = Rows(series);
        var (train, test) = (rows[..110], rows[110..]);
        double naive = NaiveRmse(test);

        double rmseRatio = Rmse(RnnRegressionScaling.LogRatio, train, test);
        double rmseLastValue = Rmse(RnnRegressionScaling.LastValue, train, test);

        // Observed: LogRatio 3.7 (0.22 of naive), LastValue 14.3 (0.85 of naive).
        Assert.True(rmseRatio < 0.4 * naive, $"LogRatio: RMSE {rmseRatio:F3}, naive {naive:F3}");
        Assert.True(rmseRatio < 0.5 * rmseLastValue, $"LogRatio RMSE {rmseRatio:F3}, LastValue {rmseLastValue:F3}");
    }

    [Theory]
    [InlineData(RnnRegressionScaling.LastValue)]
    [InlineData(RnnRegressionScaling.WindowMean)]
    [InlineData(RnnRegressionScaling.LogRatio)]
    [InlineData(RnnRegressionScaling.Global)]
    public void ScalingRoundTripsLabelUnitsAndReadsTheLevelFromFeatureZero(RnnRegressionScaling kind)
    {
        // Two steps of two features, step-major: (x₀, c₀), (x₁, c₁); feature 0 is the level feature.
        float[] features = [4f, 100f, 6f, 300f, 5f, 100f, 9f, 300f];   // rows (N = 2, W = 2, F = 2)
        float[] labels = [7f, 10f];

        var scaling = WindowScaling.Fit(kind, targetFeature: 0, features, labels, N: 2, W: 2, F: 2);

        var row = features.AsSpan(0, 4);
        float level = scaling.Level(row);
        float expectedLevel = kind switch
        {
            RnnRegressionScaling.LastValue or RnnRegressionScaling.LogRatio => 6f,
            RnnRegressionScaling.WindowMean => 5f,
            _ => 8.5f,   // the label mean
        };
        Assert.Equal(expectedLevel, level);
        Assert.Equal(7f, scaling.Unscale(scaling.ScaleLabel(7f, level), level), 4);
        var scaled = new float[4];
        Assert.True(scaling.ScaleFeatures(row, level, scaled));
        // Feature 1 is z-scored with its training mean 200 and σ 100 in every mode.
        Assert.Equal(-1f, scaled[1], 5);
        Assert.Equal(1f, scaled[3], 5);
        if (kind is RnnRegressionScaling.LastValue or RnnRegressionScaling.LogRatio)
            Assert.Equal(0f, scaled[2]);   // the last step's level feature is the level itself
    }

    [Theory]
    [InlineData(RnnRegressionScaling.LastValue)]
    [InlineData(RnnRegressionScaling.WindowMean)]
    [InlineData(RnnRegressionScaling.LogRatio)]
    public void LocalScalingReadsTheLevelFromTargetFeatureIndex(RnnRegressionScaling kind)
    {
        // The same rows as above with the two features swapped: (c₀, x₀), (c₁, x₁); the series is feature 1.
        float[] features = [100f, 4f, 300f, 6f, 100f, 5f, 300f, 9f];
        float[] labels = [7f, 10f];

        var scaling = WindowScaling.Fit(kind, targetFeature: 1, features, labels, N: 2, W: 2, F: 2);

        var row = features.AsSpan(0, 4);
        float level = scaling.Level(row);
        Assert.Equal(kind == RnnRegressionScaling.WindowMean ? 5f : 6f, level);
        var scaled = new float[4];
        Assert.True(scaling.ScaleFeatures(row, level, scaled));
        Assert.Equal(-1f, scaled[0], 5);   // feature 0 is now the covariate, z-scored
        Assert.Equal(1f, scaled[2], 5);
    }

    [Fact]
    public void TargetFeatureIndexPicksTheSeriesInTraining()
    {
        // Each step holds (season indicator, x_t): with TargetFeatureIndex 1 the level is the series and the trend is
        // followed beyond the training range; reading the indicator as the level (index 0) cannot follow it.
        var series = SeasonalTrend(170, seed: 9);
        var rows = Enumerable.Range(W, series.Length - W).Select(t => new LagRow
        {
            Features = Enumerable.Range(t - W, W).SelectMany(k => new[] { (float)Math.Cos(2 * Math.PI * k / 12), series[k] }).ToArray(),
            Label = series[t],
        }).ToArray();
        double naive = Math.Sqrt(rows[120..].Average(r => Math.Pow(r.Label - r.Features[^1], 2)));

        double Rmse(int target)
        {
            var options = Fast();
            options.FeaturesPerStep = 2;
            options.TargetFeatureIndex = target;
            var model = _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, rows[..120], 2 * W));
            Assert.Equal(target, model.Model.TargetFeatureIndex);
            return _ml.Regression.Evaluate(model.Transform(View(_ml, rows[120..], 2 * W))).RootMeanSquaredError;
        }

        double right = Rmse(1), wrong = Rmse(0);
        Assert.True(right < 0.6 * naive, $"TargetFeatureIndex 1: RMSE {right:F3}, naive {naive:F3}");
        Assert.True(wrong > 3 * right, $"TargetFeatureIndex 0 (the indicator): RMSE {wrong:F3}, against {right:F3} with the series");
    }

    [Fact]
    public void LogRatioScalingGivesNaNForANonPositiveLevelFeature()
    {
        var scaling = WindowScaling.Fit(RnnRegressionScaling.LogRatio, targetFeature: 0, [1f, 2f, 2f, 3f], [3f, 4f], N: 2, W: 2, F: 1);

        Assert.False(scaling.ScaleFeatures([0f, 2f], 2f, new float[2]));
        Assert.False(scaling.ScaleFeatures([1f, -2f], -2f, new float[2]));
    }

    private double Rmse(RnnRegressionScaling scaling, LagRow[] train, LagRow[] test)
    {
        var options = Fast();
        options.Scaling = scaling;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, train));
        Assert.Equal(scaling, model.Model.TrainingSummary.Scaling);
        return _ml.Regression.Evaluate(model.Transform(View(_ml, test))).RootMeanSquaredError;
    }
}

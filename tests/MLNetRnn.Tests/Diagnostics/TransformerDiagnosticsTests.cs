using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Persistence;
using MLNetRnn.Tests.Persistence;

namespace MLNetRnn.Tests.Diagnostics;

/// <summary>Every fitted model gives its training diagnostics, also after a save and load, and models saved before
/// diagnostics were kept get them rebuilt from their training summary.</summary>
public sealed class TransformerDiagnosticsTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Models", name);

    [Fact]
    public void WindowModeDiagnosticsSurviveSaveAndLoad()
    {
        var view = Regression.RegressionTestData.View(_ml, Regression.RegressionTestData.Rows(Regression.RegressionTestData.SeasonalTrend(100, seed: 11)));
        var transformer = _ml.Regression.Trainers.Rnn(Regression.RegressionTestData.Fast()).Fit(view);
        var model = transformer.Model;
        var d = model.Diagnostics;
        Assert.Equal(model.TrainingSummary.GradientNormBefore, d.GradientNormBefore.ToArray());
        Assert.Equal(model.TrainingSummary.EpochsRun, d.Epochs.Count);
        Assert.True(d.HasBackwardSignal);
        Assert.Equal(model.WindowSize, d.WindowSteps);
        Assert.NotNull(d.InitialSpectrum);
        Assert.True(double.IsFinite(d.LateGradientReach));

        string path = _dir.File("window.zip");
        _ml.Model.SaveAtomically(transformer, view.Schema, path);
        var loaded = Assert.IsType<RegressionPredictionTransformer<RnnRegressionModelParameters>>(new MLContext().Model.LoadValidated(path, out _)).Model;
        Assert.Equal(d.ToBytes(), loaded.Diagnostics.ToBytes());
    }

    [Fact]
    public void SeriesModeDiagnosticsSurviveSaveAndLoadOnePerMember()
    {
        var options = Forecasting.ForecastingTestData.Fast();
        options.EnsembleSize = 2;
        options.Epochs = 20;
        var model = _ml.Forecasting.ForecastByRnn(options).Fit(Forecasting.ForecastingTestData.View(_ml, Forecasting.ForecastingTestData.Seasonal(80, seed: 5)));
        Assert.Equal(2, model.Diagnostics.Count);
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(model.TrainingSummary.Members[k].GradientNormBefore, model.Diagnostics[k].GradientNormBefore.ToArray());
            Assert.True(model.Diagnostics[k].HasBackwardSignal);
            Assert.Equal(model.WindowSize, model.Diagnostics[k].WindowSteps);
        }

        string path = _dir.File("forecaster.zip");
        _ml.Model.SaveAtomically(model, null, path);
        var loaded = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.LoadValidated(path, out _));
        Assert.Equal(model.Diagnostics.Select(d => d.ToBytes()), loaded.Diagnostics.Select(d => d.ToBytes()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void OlderWindowModelGetsDiagnosticsRebuiltFromItsSummary(int version)
    {
        var loaded = _ml.Model.LoadValidated(Fixture($"window-regression-v{version}.zip"), out _);
        var regression = Assert.IsAssignableFrom<IEnumerable<ITransformer>>(loaded).OfType<RegressionPredictionTransformer<RnnRegressionModelParameters>>().Single().Model;
        var d = regression.Diagnostics;
        Assert.Equal(regression.TrainingSummary.GradientNormBefore, d.GradientNormBefore.ToArray());
        Assert.Equal(regression.TrainingSummary.ValidationLoss, d.Epochs.Select(e => e.ValidationLoss));
        Assert.False(d.HasBackwardSignal);
        Assert.Null(d.InitialSpectrum);
        Assert.NotNull(d.FinalSpectrum);
        Assert.Equal(regression.TrainingSummary.ClippedSteps, d.ClippedSteps);
    }

    [Fact]
    public void VersionOneForecasterGetsDiagnosticsRebuiltFromItsSummary()
    {
        var loaded = Assert.IsType<RnnForecastingTransformer>(_ml.Model.LoadValidated(Fixture("forecaster-v1.zip"), out _));
        Assert.Equal(loaded.TrainingSummary.Members.Count, loaded.Diagnostics.Count);
        for (int k = 0; k < loaded.Diagnostics.Count; k++)
        {
            Assert.Equal(loaded.TrainingSummary.Members[k].GradientNormAfter, loaded.Diagnostics[k].GradientNormAfter.ToArray());
            Assert.Equal(loaded.TrainingSummary.Members[k].TrainingLoss.Length, loaded.Diagnostics[k].Epochs.Count);
            Assert.NotNull(loaded.Diagnostics[k].FinalSpectrum);
        }
    }
}

using Microsoft.ML;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Onnx;

/// <summary>
/// <c>ConvertToOnnx</c>'s refusal of a forecaster gives code that finds the forecaster wherever it stands in the
/// pipeline (issue 21: it said <c>model.LastTransformer</c>, which is another stage when one follows the forecaster).
/// </summary>
public sealed class ConvertToOnnxRefusalTests
{
    private readonly MLContext _ml = new(seed: 0);

    [Fact]
    public void ConvertToOnnxRefusalShowsHowToExportAForecasterThatIsNotLast()
    {
        var options = Fast(window: 12, horizon: 3);
        options.Epochs = 3;
        var data = View(_ml, Seasonal(80, seed: 2));
        var model = _ml.Forecasting.ForecastByRnn(options).Append(_ml.Transforms.CopyColumns("Copy", "Forecast")).Fit(data);
        using var refused = new MemoryStream();

        var ex = Assert.Throws<NotSupportedException>(() => _ml.Model.ConvertToOnnx(model, data, refused));

        Assert.DoesNotContain("for a fitted pipeline, model.LastTransformer", ex.Message);
        Assert.Contains("((IEnumerable<ITransformer>)model).OfType<RnnForecastingTransformer>().Single().ExportToOnnx(stream)", ex.Message);
        Assert.Contains("model.LastTransformer only when it is the last stage", ex.Message);
        // What the message says works, on this pipeline and on the same pipeline loaded back.
        using var exported = new MemoryStream();
        ((IEnumerable<ITransformer>)model).OfType<RnnForecastingTransformer>().Single().ExportToOnnx(exported);
        Assert.True(exported.Length > 0);
        using var saved = new MemoryStream();
        _ml.Model.Save(model, data.Schema, saved);
        saved.Position = 0;
        ITransformer loaded = _ml.Model.Load(saved, out _);
        using var again = new MemoryStream();
        ((IEnumerable<ITransformer>)loaded).OfType<RnnForecastingTransformer>().Single().ExportToOnnx(again);
        Assert.Equal(exported.ToArray(), again.ToArray());
    }
}

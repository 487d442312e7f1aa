using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;

namespace MLNetRnn;

/// <summary>
/// How a forecaster meets ML.NET's <c>mlContext.Model.ConvertToOnnx</c>: with a clear refusal instead of a pass-through
/// graph. The converter transforms the data, then walks the output view back through its <see cref="IDataTransform"/>
/// sources, asking each one (<see cref="ITransformCanSaveOnnx"/>) to write its nodes; a view that is not such a
/// transform ends the walk silently, and a transform that answers <c>CanSaveOnnx = false</c> ends it with only a
/// warning. Either way the graph's inputs were copied to its outputs, which is what a forecaster got before. So the
/// view answers true and throws when asked to write, before the converter has written anything to the stream.
/// </summary>
/// <remarks>
/// The forecaster has no row-to-row form for ONNX: each row's forecast depends on the rows before it (the window, the
/// base's smoothing state, the time index of the season). <see cref="RnnForecastingTransformer.ExportToOnnx"/> writes
/// a graph from what one forecast reads instead (docs/design/onnx.md).
/// </remarks>
internal sealed partial class ForecastDataView : ITransformCanSaveOnnx
{
    IDataView IDataTransform.Source => _source;

    /// <summary>True, so that the converter asks <see cref="ISaveAsOnnx.SaveAsOnnx"/>, which explains; false would make
    /// it drop the forecaster from the graph with only a warning.</summary>
    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    void ISaveAsOnnx.SaveAsOnnx(OnnxContext ctx) => throw new NotSupportedException(
        $"{nameof(RnnForecastingTransformer)} (column '{_transformer.OutputColumnName}') forecasts each row from the rows before it, " +
        "so mlContext.Model.ConvertToOnnx, which converts a pipeline row by row, cannot carry it, and no ONNX model was written. " +
        $"Use the forecaster's {nameof(RnnForecastingTransformer.ExportToOnnx)}(stream): it writes the forecaster as one graph whose inputs " +
        $"{nameof(RnnForecastingEngine)}.{nameof(RnnForecastingEngine.GetOnnxInputs)}() produces from a series state (docs/design/onnx.md). " +
        $"In a pipeline, take the forecaster out of it wherever it stands: ((IEnumerable<ITransformer>)model).OfType<{nameof(RnnForecastingTransformer)}>().Single()" +
        $".{nameof(RnnForecastingTransformer.ExportToOnnx)}(stream) (model.LastTransformer only when it is the last stage); the stages around it are not in that graph.");

    /// <summary>A transformed view is not saved on its own; the transformer is (<c>mlContext.Model.Save</c>).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException(
        $"The output of {nameof(RnnForecastingTransformer)}.Transform cannot be saved as a data transform; save the fitted model with mlContext.Model.Save.");
}

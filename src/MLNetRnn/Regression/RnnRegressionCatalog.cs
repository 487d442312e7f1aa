using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Cells;

namespace MLNetRnn;

/// <summary>The regression front door of MLNetRnn: <c>mlContext.Regression.Trainers.Rnn(...)</c>.</summary>
public static class RnnRegressionCatalog
{
    /// <summary>
    /// Creates a <see cref="RnnRegressionEstimator"/>: a recurrent network (a GRU by default) that reads each row's
    /// feature vector as a sequence of steps, oldest first, and predicts the label into a <see cref="float"/>
    /// <c>Score</c> column, as ML.NET's regression trainers do. Scaling, validation split, early stopping and gradient
    /// clipping are on by default.
    /// </summary>
    /// <param name="catalog">The regression trainers, <c>mlContext.Regression.Trainers</c>.</param>
    /// <param name="labelColumnName">Name of the label column, <see cref="float"/>. Default: "Label".</param>
    /// <param name="featureColumnName">Name of the feature column: a known-size vector of <see cref="float"/> of
    /// W·<paramref name="featuresPerStep"/> values, step-major, oldest step first. Default: "Features".</param>
    /// <param name="featuresPerStep">Features per step F, at least 1; 1 for a vector of lags. Default: 1.</param>
    /// <param name="cell">Cell of the recurrent layer. Default: <see cref="RecurrentCellKind.Gru"/>.</param>
    /// <param name="hiddenSize">Hidden units of the recurrent layer, at least 1. Default: 32.</param>
    /// <param name="epochs">Maximum passes over the training rows, at least 1 (early stopping usually ends sooner). Default: 200.</param>
    /// <param name="learningRate">Adam's learning rate, positive. Default: 3e-3.</param>
    /// <param name="seed">Seed of initialisation and shuffling: the same seed gives the same model. Default: null, the
    /// <c>MLContext</c>'s random source decides (see <see cref="RnnOptionsBase.Seed"/>).</param>
    /// <returns>The estimator; its other options (<see cref="RnnRegressionOptions"/>) keep their defaults.</returns>
    /// <exception cref="ArgumentException">An argument is out of range (the message names it).</exception>
    /// <example><format type="text/markdown"><![CDATA[
    /// [!code-csharp[Rnn](~/samples/MLNetRnn.Samples/WindowRegressionSample.cs)]
    /// ]]></format></example>
    public static RnnRegressionEstimator Rnn(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = RnnRegressionOptions.Defaults.LabelColumnName,
        string featureColumnName = RnnRegressionOptions.Defaults.FeatureColumnName,
        int featuresPerStep = RnnRegressionOptions.Defaults.FeaturesPerStep,
        RecurrentCellKind cell = RnnRegressionOptions.Defaults.Cell,
        int hiddenSize = RnnRegressionOptions.Defaults.HiddenSize,
        int epochs = RnnRegressionOptions.Defaults.Epochs,
        float learningRate = RnnRegressionOptions.Defaults.LearningRate,
        int? seed = null)
        => Rnn(catalog, new RnnRegressionOptions
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            FeaturesPerStep = featuresPerStep,
            Cell = cell,
            HiddenSizes = [hiddenSize],
            Epochs = epochs,
            LearningRate = learningRate,
            Seed = seed,
        });

    /// <summary>Creates a <see cref="RnnRegressionEstimator"/> with every option: layers, layer normalisation,
    /// batch size, clipping threshold, truncation, Pascanu's regulariser, validation, early stopping, scaling.</summary>
    /// <param name="catalog">The regression trainers, <c>mlContext.Regression.Trainers</c>.</param>
    /// <param name="options">The options; copied, so later changes do not affect the estimator.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <example><format type="text/markdown"><![CDATA[
    /// [!code-csharp[Rnn](~/samples/MLNetRnn.Samples/WindowRegressionSample.cs)]
    /// ]]></format></example>
    public static RnnRegressionEstimator Rnn(this RegressionCatalog.RegressionTrainers catalog, RnnRegressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new RnnRegressionEstimator(((IInternalCatalog)catalog).Environment, options);
    }
}

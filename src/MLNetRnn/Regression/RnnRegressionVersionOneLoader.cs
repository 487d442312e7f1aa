using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn;
using MLNetRnn.Persistence;
using MLNetRnn.Regression;

[assembly: LoadableClass(typeof(RegressionPredictionTransformer<RnnRegressionModelParameters>), typeof(RnnRegressionVersionOneLoader), null,
    typeof(SignatureLoadModel), RnnRegressionVersionOneLoader.UserName, RnnRegressionVersionOneLoader.LoaderSignature)]

namespace MLNetRnn.Regression;

/// <summary>
/// Loads window-mode models saved in format version 1, when the trainer produced a transformer of its own
/// (<c>RnnRegressionTransformer</c>, loader signature <c>MLNetRnnRegression</c>), as the ML.NET regression
/// transformer that the trainer produces since version 2: <see cref="RegressionPredictionTransformer{TModel}"/> of
/// <see cref="RnnRegressionModelParameters"/>. A pipeline saved with version 1 keeps loading and scoring as before,
/// and the loaded stage is the same type as a freshly trained one. It is never written again.
/// </summary>
internal static class RnnRegressionVersionOneLoader
{
    internal const string LoaderSignature = "MLNetRnnRegression";
    internal const string UserName = "MLNetRnn Recurrent Regression (format 1)";

    /// <summary>Version 1 only: nothing writes this component any more.</summary>
    internal static readonly ModelFormat Format = new(
        modelSignature: "MLNRRGRS",
        loaderSignature: LoaderSignature,
        currentVersion: 1,
        readableByVersion: 1,
        oldestReadableVersion: 1);

    // Factory method for SignatureLoadModel; ML.NET finds it by name and parameter types, and it must return exactly
    // the registered type.
    private static RegressionPredictionTransformer<RnnRegressionModelParameters> Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        var (feature, score, model) = Format.Load(ctx, static (reader, version) =>
        {
            // *** Binary format, version 1 ***
            // string:  feature column name
            // string:  score column name
            // model:   WindowRegressionModel.Write, version 1 (steps, scaling, network spec, parameters)
            // summary: RnnRegressionTrainingSummary.Write, version 1
            try
            {
                string feature = reader.ReadString();
                string score = reader.ReadString();
                var model = WindowRegressionModel.Read(reader, version);
                var summary = RnnRegressionTrainingSummary.Read(reader, version);
                return (feature, score, new RnnRegressionModelParameters(model, summary));
            }
            catch (InvalidDataException ex)
            {
                throw ModelFile.MarkOurs(new InvalidDataException($"The saved MLNetRnn component '{LoaderSignature}' is corrupted: {ex.Message}", ex));
            }
        });
        // ML.NET's regression scorer always writes "Score"; version 1 let the column be renamed. Loading such a model
        // as "Score" would break the stages after it only later, at Transform, naming a column that is not there.
        if (score != DefaultColumnNames.Score)
            throw new InvalidOperationException(
                $"This window-mode model was saved by MLNetRnn format version 1 with ScoreColumnName '{score}'. Window mode now " +
                $"produces ML.NET's regression transformer, whose output column is always '{DefaultColumnNames.Score}'. Retrain it " +
                $"and, where later stages read '{score}', add mlContext.Transforms.CopyColumns(\"{score}\", \"Score\") after the trainer.");

        // Version 1 did not keep the training schema; the scorer needs only the feature column from it.
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(feature, new VectorDataViewType(NumberDataViewType.Single, model.WindowSize * model.FeaturesPerStep));
        return RnnRegressionEstimator.MakeTransformer(env, model, builder.ToSchema(), feature);
    }
}

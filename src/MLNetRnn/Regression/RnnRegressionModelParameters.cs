using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using MLNetRnn;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Network;
using MLNetRnn.Onnx;
using MLNetRnn.Persistence;
using MLNetRnn.Regression;

[assembly: LoadableClass(typeof(RnnRegressionModelParameters), null, typeof(SignatureLoadModel),
    RnnRegressionModelParameters.UserName, RnnRegressionModelParameters.LoaderSignature)]

namespace MLNetRnn;

/// <summary>
/// The model of window mode: a recurrent network with its scaling, trained by <see cref="RnnRegressionEstimator"/>.
/// It is the <c>Model</c> of the <see cref="RegressionPredictionTransformer{TModel}"/> that
/// <c>mlContext.Regression.Trainers.Rnn(...)</c> produces, as <c>OlsModelParameters</c> is for <c>Ols</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each row's feature vector of W·F values is read as W steps of F features, step-major and oldest first; the
/// network starts from a zero state, and its linear head at the last step gives the prediction, in label units
/// (the scaling learned in training is applied to the features and inverted on the output). Rows are independent.
/// </para>
/// <para>
/// As an ML.NET model it scores through ML.NET's regression scorer (a <c>Score</c> column with the score
/// annotations <c>Regression.Evaluate</c> looks for), works with <c>Regression.PermutationFeatureImportance</c>
/// (one value per slot of the feature vector, that is per step and feature), saves and loads inside ML.NET's model
/// zips, and exports to ONNX through <c>mlContext.Model.ConvertToOnnx</c> (see docs/design/onnx.md).
/// </para>
/// </remarks>
public sealed class RnnRegressionModelParameters : IPredictorProducing<float>, IValueMapper, ICanSaveModel, ISingleCanSaveOnnx
{
    internal const string LoaderSignature = "MLNetRnnRegressionModel";
    internal const string UserName = "MLNetRnn Recurrent Regression Model";

    /// <summary>Format version 4: version 3 with the network's dilations and residual flag at the end of its spec; readable
    /// only by version-4 readers, which would otherwise misread the rest. Written only for a network that uses them
    /// (<see cref="WindowRegressionModel.HasArchitectureOptions"/>); any other model is written as version 3
    /// (<see cref="FormatWithoutArchitecture"/>). Version 3: the model (scaling, spec, parameters), the training summary,
    /// the training diagnostics. Version 2 lacked the diagnostics (version 2 readers skip them; reading version 2 rebuilds
    /// them from the summary). Version 1 was the payload of the window-mode transformer itself, which
    /// <see cref="RnnRegressionVersionOneLoader"/> still reads.</summary>
    internal static readonly ModelFormat Format = new(
        modelSignature: "MLNRRGMP",
        loaderSignature: LoaderSignature,
        currentVersion: 4,
        readableByVersion: 4,
        oldestReadableVersion: 2);

    /// <summary>Version 3, readable by version-2 readers: what a model without dilations or residual connections is
    /// written as, byte for byte as before version 4.</summary>
    internal static readonly ModelFormat FormatWithoutArchitecture = Format.AsWrittenBy(version: 3, readableByVersion: 2);

    private readonly VectorDataViewType _inputType;

    internal RnnRegressionModelParameters(WindowRegressionModel model, RnnRegressionTrainingSummary summary, TrainingDiagnostics? diagnostics = null)
    {
        Window = model;
        TrainingSummary = summary;
        Diagnostics = diagnostics ?? Rebuild(model, summary);
        _inputType = new VectorDataViewType(NumberDataViewType.Single, model.Steps * model.FeaturesPerStep);
    }

    /// <summary>Steps W each row is read as.</summary>
    public int WindowSize => Window.Steps;

    /// <summary>Features per step F.</summary>
    public int FeaturesPerStep => Window.FeaturesPerStep;

    /// <summary>The feature of each step the local scalings take the level from (see
    /// <see cref="RnnRegressionOptions.TargetFeatureIndex"/>).</summary>
    public int TargetFeatureIndex => Window.Scaling.TargetFeature;

    /// <summary>The scaling learned in Fit and applied to every row.</summary>
    public RnnRegressionScaling Scaling => Window.Scaling.Kind;

    /// <summary>The network's architecture (cell, layers, sizes).</summary>
    public RecurrentNetworkSpec NetworkSpec => Window.Network.Spec;

    /// <summary>How the model was trained: seed, split, losses per epoch, gradient-norm curve. Saved with the model.</summary>
    public RnnRegressionTrainingSummary TrainingSummary { get; }

    /// <summary>What the papers tell us to watch while it trained: loss and ‖g‖ per step with the clipping threshold,
    /// losses per epoch, the backward signal across the window (gradient reach), and the W_hh singular values from
    /// start to end. Saved with the model; plot it with MLNetRnn.Plots or export it to CSV/JSON. For a model saved
    /// before diagnostics were kept (format versions 1 and 2), rebuilt from <see cref="TrainingSummary"/>: curves and
    /// the final spectrum, without the backward signal or the initial spectrum.</summary>
    public TrainingDiagnostics Diagnostics { get; }

    internal WindowRegressionModel Window { get; }

    // Older payloads kept the curves in the summary, not the clipping options: τ is read back from the curve.
    private static TrainingDiagnostics Rebuild(WindowRegressionModel model, RnnRegressionTrainingSummary summary)
        => TrainingDiagnostics.FromCurves(model.Network, null, summary.GradientNormBefore.ToArray(), summary.GradientNormAfter.ToArray(),
            summary.TrainingLoss.ToArray(), summary.ValidationLoss.ToArray(), summary.BestEpoch, summary.StoppedEarly, summary.RestoredBestWeights);

    /// <summary>Test seam: the format <see cref="ICanSaveModel.Save"/> writes, to produce models "from another version";
    /// null: <see cref="Format"/> for a network with dilations or residual connections, else <see cref="FormatWithoutArchitecture"/>.</summary>
    internal ModelFormat? WriteFormat { get; init; }

    PredictionKind IPredictor.PredictionKind => PredictionKind.Regression;

    DataViewType IValueMapper.InputType => _inputType;

    DataViewType IValueMapper.OutputType => NumberDataViewType.Single;

    /// <summary>One row's prediction. ML.NET asks for a mapper per cursor, and cursors may run on different threads,
    /// so each mapper owns its workspace and dense copy; a row then costs one forward pass and allocates nothing.
    /// Features that are not finite give a NaN or infinite score rather than an exception.</summary>
    ValueMapper<TSrc, TDst> IValueMapper.GetMapper<TSrc, TDst>()
    {
        if (typeof(TSrc) != typeof(VBuffer<float>) || typeof(TDst) != typeof(float))
            throw new InvalidOperationException(
                $"{nameof(RnnRegressionModelParameters)} maps VBuffer<Single> to Single; asked for {typeof(TSrc).Name} to {typeof(TDst).Name}.");
        var model = Window;
        var workspace = model.CreateWorkspace();
        var row = new float[model.Steps * model.FeaturesPerStep];   // (W, F) dense copy of the features
        ValueMapper<VBuffer<float>, float> map = (in VBuffer<float> features, ref float score) =>
        {
            if (features.Length != row.Length)
                throw new ArgumentException(
                    $"The feature vector has {Training.Counted.Of(features.Length, "value")}; the model reads {row.Length} (WindowSize {model.Steps} × FeaturesPerStep {model.FeaturesPerStep}).");
            features.CopyTo(row);
            score = model.Predict(row, workspace);
        };
        return (ValueMapper<TSrc, TDst>)(Delegate)map;
    }

    // Factory method for SignatureLoadModel; ML.NET finds it by name and parameter types. RegressionPredictionTransformer
    // loads its model through it, and then becomes RegressionPredictionTransformer<RnnRegressionModelParameters> again.
    private static RnnRegressionModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        return Format.Load(ctx, static (reader, version) =>
        {
            // *** Binary format, version 4 ***
            // model:       WindowRegressionModel.Write (steps, scaling, network spec with dilations and residual flag, parameters)
            // summary:     RnnRegressionTrainingSummary.Write
            // diagnostics: TrainingDiagnostics.Write (absent in version 2)
            // (Version 3: the spec without dilations and residual flag.)
            try
            {
                var model = WindowRegressionModel.Read(reader, version);
                var summary = RnnRegressionTrainingSummary.Read(reader, version);
                var diagnostics = version >= 3 ? TrainingDiagnostics.Read(reader) : null;
                return new RnnRegressionModelParameters(model, summary, diagnostics);
            }
            catch (InvalidDataException ex)
            {
                throw ModelFile.MarkOurs(new InvalidDataException($"The saved MLNetRnn component '{LoaderSignature}' is corrupted: {ex.Message}", ex));
            }
        });
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        var format = WriteFormat ?? (Window.HasArchitectureOptions ? Format : FormatWithoutArchitecture);
        format.Save(ctx, writer =>
        {
            Window.Write(writer, architecture: format.CurrentVersion >= 4);
            TrainingSummary.Write(writer);
            if (format.CurrentVersion >= 3) Diagnostics.Write(writer);
        });
    }

    /// <summary>Always true: a configuration the ONNX graph cannot express fails in SaveAsOnnx with a message that says
    /// why. Answering false here would make ML.NET's converter drop the model from the graph with only a warning.</summary>
    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        if (outputNames is not { Length: 1 })
            throw new InvalidOperationException($"Window mode writes one ONNX output, the score; ML.NET asked for {outputNames?.Length ?? 0}.");
        var graph = new OnnxContextGraph(ctx);
        WindowRegressionOnnx.Write(graph, Window, featureColumn, outputNames[0]);
        return true;
    }
}

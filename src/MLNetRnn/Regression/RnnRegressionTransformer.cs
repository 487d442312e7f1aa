using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Network;
using MLNetRnn.Persistence;
using MLNetRnn.Regression;

[assembly: LoadableClass(typeof(RnnRegressionTransformer), null, typeof(SignatureLoadModel),
    RnnRegressionTransformer.UserName, RnnRegressionTransformer.LoaderSignature)]

// Lets ML.NET re-create the mapper alone when a RowToRowMapperTransform built on it is saved as a data
// transform (legacy IDataView pipelines).
[assembly: LoadableClass(typeof(IRowMapper), typeof(RnnRegressionTransformer), null, typeof(SignatureLoadRowMapper),
    RnnRegressionTransformer.UserName, RnnRegressionTransformer.LoaderSignature)]

namespace MLNetRnn;

/// <summary>
/// A trained recurrent regression model (window mode): reads each row's feature vector as a sequence of steps and
/// writes one prediction per row, in label units, to the score column. Produced by
/// <see cref="RnnRegressionEstimator.Fit"/>; saved and loaded with <c>mlContext.Model.Save</c> and
/// <c>mlContext.Model.Load</c> like any ML.NET transformer.
/// </summary>
/// <remarks>
/// Rows are independent: each prediction starts from a zero hidden state and reads only its own row, so the
/// transformer can score any rows in any order, through <c>Transform</c> or a <c>PredictionEngine</c>. Features
/// that are not finite give a NaN or infinite score rather than an exception.
/// </remarks>
public sealed class RnnRegressionTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "MLNetRnnRegression";
    internal const string UserName = "MLNetRnn Recurrent Regression";

    /// <summary>Format version 2: column names, the model (scaling, spec, parameters), the training summary, the
    /// training diagnostics. Version 1 lacked the diagnostics; it is still read (they are rebuilt from the summary),
    /// and version 1 readers can read version 2 (they skip the appended diagnostics).</summary>
    internal static readonly ModelFormat Format = new(
        modelSignature: "MLNRRGRS",
        loaderSignature: LoaderSignature,
        currentVersion: 2,
        readableByVersion: 1,
        oldestReadableVersion: 1);

    internal RnnRegressionTransformer(IHostEnvironment env, string featureColumnName, string scoreColumnName,
        WindowRegressionModel model, RnnRegressionTrainingSummary summary, TrainingDiagnostics diagnostics)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(RnnRegressionTransformer)))
    {
        Host.CheckNonEmpty(featureColumnName, nameof(featureColumnName));
        Host.CheckNonEmpty(scoreColumnName, nameof(scoreColumnName));
        FeatureColumnName = featureColumnName;
        ScoreColumnName = scoreColumnName;
        Model = model;
        TrainingSummary = summary;
        Diagnostics = diagnostics;
    }

    /// <summary>Name of the feature column read: a vector of <see cref="float"/> of size
    /// <see cref="WindowSize"/> · <see cref="FeaturesPerStep"/>.</summary>
    public string FeatureColumnName { get; }

    /// <summary>Name of the output column, <see cref="float"/>, in label units.</summary>
    public string ScoreColumnName { get; }

    /// <summary>Steps W each row is read as.</summary>
    public int WindowSize => Model.Steps;

    /// <summary>Features per step F.</summary>
    public int FeaturesPerStep => Model.FeaturesPerStep;

    /// <summary>The scaling learned in Fit and applied to every row.</summary>
    public RnnRegressionScaling Scaling => Model.Scaling.Kind;

    /// <summary>The network's architecture (cell, layers, sizes).</summary>
    public RecurrentNetworkSpec NetworkSpec => Model.Network.Spec;

    /// <summary>How the model was trained: split, losses per epoch, gradient-norm curve. Saved with the model.</summary>
    public RnnRegressionTrainingSummary TrainingSummary { get; }

    /// <summary>What the papers tell us to watch while it trained: loss and ‖g‖ per step with the clipping threshold,
    /// losses per epoch, the backward signal across the window (gradient reach), and the W_hh singular values from
    /// start to end. Saved with the model; plot it with MLNetRnn.Plots or export it to CSV/JSON. For a model saved
    /// before diagnostics were kept (format version 1), rebuilt from <see cref="TrainingSummary"/>: curves and the
    /// final spectrum, without the backward signal or the initial spectrum.</summary>
    public TrainingDiagnostics Diagnostics { get; }

    internal WindowRegressionModel Model { get; }

    /// <summary>Test seam: the format <see cref="SaveModel"/> writes, to produce models "from another version".</summary>
    internal ModelFormat WriteFormat { get; init; } = Format;

    // Factory method for SignatureLoadModel; ML.NET finds it by name and parameter types.
    private static RnnRegressionTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        var (feature, score, model, summary, diagnostics) = Format.Load(ctx, static (reader, version) =>
        {
            // *** Binary format, version 2 ***
            // string:  feature column name
            // string:  score column name
            // model:   WindowRegressionModel.Write (steps, scaling, network spec, parameters)
            // summary: RnnRegressionTrainingSummary.Write
            // diagnostics: TrainingDiagnostics.Write (absent in version 1)
            try
            {
                string feature = reader.ReadString();
                string score = reader.ReadString();
                var model = WindowRegressionModel.Read(reader);
                var summary = RnnRegressionTrainingSummary.Read(reader);
                var diagnostics = version >= 2 ? TrainingDiagnostics.Read(reader) : Rebuild(model, summary);
                return (feature, score, model, summary, diagnostics);
            }
            catch (InvalidDataException ex)
            {
                throw ModelFile.MarkOurs(new InvalidDataException($"The saved MLNetRnn component '{LoaderSignature}' is corrupted: {ex.Message}", ex));
            }
        });
        return new RnnRegressionTransformer(env, feature, score, model, summary, diagnostics);
    }

    // Version 1 kept the curves in the summary, not the clipping options: τ is read back from the curve.
    private static TrainingDiagnostics Rebuild(WindowRegressionModel model, RnnRegressionTrainingSummary summary)
        => TrainingDiagnostics.FromCurves(model.Network, null, summary.GradientNormBefore.ToArray(), summary.GradientNormAfter.ToArray(),
            summary.TrainingLoss.ToArray(), summary.ValidationLoss.ToArray(), summary.BestEpoch, summary.StoppedEarly, summary.RestoredBestWeights);

    // Factory method for SignatureLoadRowMapper.
    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    /// <summary>Writes the model through <see cref="Format"/>.</summary>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        Host.CheckValue(ctx, nameof(ctx));
        WriteFormat.Save(ctx, writer =>
        {
            writer.Write(FeatureColumnName);
            writer.Write(ScoreColumnName);
            Model.Write(writer);
            TrainingSummary.Write(writer);
            if (WriteFormat.CurrentVersion >= 2) Diagnostics.Write(writer);
        });
    }

    /// <summary>The per-row mapper over <paramref name="schema"/>, which must hold the feature column.</summary>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    private sealed class Mapper : MapperBase
    {
        private readonly RnnRegressionTransformer _transformer;
        private readonly int _featureColumnIndex;

        public Mapper(RnnRegressionTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _transformer = parent;
            _featureColumnIndex = RnnRegressionColumns.FindFeatures(inputSchema, parent.FeatureColumnName,
                parent.FeaturesPerStep, parent.WindowSize).Index;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
            => [new DataViewSchema.DetachedColumn(_transformer.ScoreColumnName, NumberDataViewType.Single)];

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            bool active = activeOutput(0);
            return col => active && col == _featureColumnIndex;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            Host.Assert(iinfo == 0);
            disposer = null;
            var model = _transformer.Model;
            var getFeatures = input.GetGetter<VBuffer<float>>(input.Schema[_featureColumnIndex]);
            // Each getter serves one cursor, and cursors may run on different threads: the buffers are its own.
            var workspace = model.CreateWorkspace();
            var row = new float[model.Steps * model.FeaturesPerStep];   // (W, F) dense copy of the features
            VBuffer<float> features = default;
            return (ValueGetter<float>)((ref float score) =>
            {
                getFeatures(ref features);
                features.CopyTo(row);
                score = model.Predict(row, workspace);
            });
        }

        protected override void SaveModel(ModelSaveContext ctx) => _transformer.SaveModel(ctx);
    }
}

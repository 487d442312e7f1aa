using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using MLNetRnn.Core.Training;
using MLNetRnn.Regression;
using MLNetRnn.Training;

namespace MLNetRnn;

/// <summary>
/// Trains a recurrent network for regression (window mode): each row's feature vector, lags or other features
/// produced by ordinary ML.NET featurizers, is read as a sequence of steps, and the network predicts the row's
/// label. It is an ML.NET regression trainer like <c>Sdca</c> or <c>FastTree</c>: it produces a
/// <see cref="RegressionPredictionTransformer{TModel}"/> of <see cref="RnnRegressionModelParameters"/> whose
/// <c>Score</c> column <c>Regression.Evaluate</c>, <c>Regression.CrossValidate</c> and
/// <c>Regression.PermutationFeatureImportance</c> read unchanged.
/// </summary>
/// <remarks>
/// <para><b>Estimator characteristics</b></para>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Regression</description></item>
/// <item><term>Is normalization required?</term><description>No: the trainer scales its inputs itself, and the local
/// scalings refuse a normalised feature column</description></item>
/// <item><term>Is caching required?</term><description>No: Fit reads the rows once</description></item>
/// <item><term>Input column data type</term><description>Features: known-size vector of <see cref="float"/>, size a
/// multiple of <see cref="RnnRegressionOptions.FeaturesPerStep"/>; label: <see cref="float"/></description></item>
/// <item><term>Output column data type</term><description><c>Score</c>, <see cref="float"/> (in label units)</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes, except with layer normalisation (docs/design/onnx.md)</description></item>
/// </list>
/// <para>
/// The vector of W·F features is read as W steps of F features, step-major and oldest first; the network's head
/// at the last step gives the prediction. Scaling is part of the model (<see cref="RnnRegressionScaling"/>): by
/// default feature <see cref="RnnRegressionOptions.TargetFeatureIndex"/> (0) and the label are taken relative to the
/// row's last value, so a trending series is predicted beyond its training range. Training needs no tuning to start
/// with: the last <see cref="RnnOptionsBase.ValidationFraction"/> of the rows (they are read in time order) are
/// held out, training stops early when their loss stops improving and keeps the best epoch's weights, and the
/// gradient is clipped by its global norm (Pascanu, Mikolov &amp; Bengio 2013).
/// </para>
/// <para>
/// Training reports to the <c>MLContext</c>'s <c>Log</c> like ML.NET's trainers: what is trained and with which seed
/// (Info), one line per epoch with the losses and how close early stopping is (Trace), how it ended and which weights
/// the model keeps (Info).
/// </para>
/// <para>
/// Create it with <see cref="RnnRegressionCatalog.Rnn(RegressionCatalog.RegressionTrainers, string, string, int, Core.Cells.RecurrentCellKind, int, int, float, int?)"/>
/// or <see cref="RnnRegressionCatalog.Rnn(RegressionCatalog.RegressionTrainers, RnnRegressionOptions)"/>.
/// </para>
/// </remarks>
public sealed class RnnRegressionEstimator : ITrainerEstimator<RegressionPredictionTransformer<RnnRegressionModelParameters>, RnnRegressionModelParameters>
{
    private readonly IHost _host;
    private readonly RnnRegressionOptions _options;
    private readonly int _seed;

    internal RnnRegressionEstimator(IHostEnvironment env, RnnRegressionOptions options)
    {
        Contracts.CheckValue(env, nameof(env));
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(RnnRegressionEstimator));
        _options = options.Clone();
        _options.Validate();
        // As ML.NET's trainers do (PcaTrainer, LightGbm): without a seed of our own, the context's random source
        // decides, so MLContext(seed: s) reproduces the pipeline and MLContext() does not.
        _seed = _options.Seed ?? _host.Rand.Next();
    }

    /// <summary>A copy of the options this estimator trains with.</summary>
    public RnnRegressionOptions Options => _options.Clone();

    /// <summary>What ML.NET's tooling needs to know about this trainer: it needs no normalisation (it scales its
    /// inputs itself) and no caching (Fit reads the rows once).</summary>
    public TrainerInfo Info { get; } = new(normalization: false, calibration: false, caching: false, supportValid: false);

    /// <summary>Progress after each epoch during <see cref="Fit"/>, if set (besides the <c>MLContext</c>'s log); reports
    /// reach it one at a time, so it need not be thread-safe.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Cancels <see cref="Fit"/> when signalled.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Trains on the rows of <paramref name="input"/>, read in order (the last ones validate).</summary>
    /// <param name="input">Rows in time order with the feature and label columns.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type or size, or
    /// TruncationLength exceeds the steps per row (the message names the column or option).</exception>
    /// <exception cref="InvalidOperationException">The data view is empty, a feature or label is NaN or infinite,
    /// there are too few rows for the validation split, or the feature column (or a column its target-feature slots come
    /// from) was normalised upstream while the scaling needs it in label units (the message names the columns or option).</exception>
    /// <exception cref="TrainingDivergedException">The loss stayed non-finite for several steps in a row.</exception>
    public RegressionPredictionTransformer<RnnRegressionModelParameters> Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        var o = _options;
        var featureColumn = RnnRegressionColumns.FindFeatures(input.Schema, o.FeatureColumnName, o.FeaturesPerStep);
        var labelColumn = RnnRegressionColumns.FindLabel(input.Schema, o.LabelColumnName);
        int F = o.FeaturesPerStep, W = ((VectorDataViewType)featureColumn.Type).Size / F;
        RnnRegressionColumns.CheckNotNormalized(featureColumn.IsNormalized(), o);
        RnnRegressionColumns.CheckNoNormalizedSlots(input, featureColumn, o, W);
        if (o.TruncationLength > W)
            throw new ArgumentOutOfRangeException(nameof(o.TruncationLength), o.TruncationLength,
                $"TruncationLength must be between 1 and the steps per row ({W}: feature column '{o.FeatureColumnName}' holds {Counted.Of(W * F, "value")}, FeaturesPerStep = {F}); got {o.TruncationLength}.");

        var (features, labels, N) = RnnRegressionColumns.ReadAll(input, featureColumn, labelColumn, W * F);
        if (N == 0)
            throw new InvalidOperationException($"The training data view is empty: feature column '{o.FeatureColumnName}' and label column '{o.LabelColumnName}' have no rows.");
        int V = WindowRegressionModel.ValidationRows(o.ValidationFraction, N);   // throws, naming the option, before training
        if (o.Scaling == RnnRegressionScaling.LogRatio)
            RnnRegressionColumns.CheckPositive(features, labels, N, W, F, o.TargetFeatureIndex, featureColumn.Name, labelColumn.Name);

        using var ch = _host.Start("Training");
        TrainingLog.Start(ch, o, _seed, N - V, V, W);
        var clock = Stopwatch.StartNew();
        var progress = new ChannelProgress(ch, Progress);
        var (model, summary, diagnostics) = WindowRegressionModel.Train(o, _seed, features, labels, N, W, progress, CancellationToken);
        TrainingLog.Done(ch, summary, clock.Elapsed);
        return MakeTransformer(_host, new RnnRegressionModelParameters(model, summary, diagnostics), input.Schema, o.FeatureColumnName);
    }

    /// <summary>ML.NET's regression transformer over <paramref name="model"/>: the regression scorer, with its score
    /// annotations, reading <paramref name="featureColumnName"/> of <paramref name="trainSchema"/>.</summary>
    internal static RegressionPredictionTransformer<RnnRegressionModelParameters> MakeTransformer(IHostEnvironment env,
        RnnRegressionModelParameters model, DataViewSchema trainSchema, string featureColumnName)
        => new(env, model, trainSchema, featureColumnName);

    /// <summary>The schema after transformation: the input's columns plus <c>Score</c>, a <see cref="float"/> with
    /// ML.NET's regression score annotations.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature or label column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidOperationException">The feature column was normalised upstream while the scaling needs
    /// it in label units.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        var o = _options;
        if (!inputSchema.TryFindColumn(o.FeatureColumnName, out var features))
            throw RnnRegressionColumns.Missing("feature", o.FeatureColumnName, nameof(o.FeatureColumnName), inputSchema.Select(c => c.Name));
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
            throw RnnRegressionColumns.Mismatch("feature", o.FeatureColumnName, RnnRegressionColumns.FeatureExpectation(o.FeaturesPerStep), Describe(features));
        if (!inputSchema.TryFindColumn(o.LabelColumnName, out var label))
            throw RnnRegressionColumns.Missing("label", o.LabelColumnName, nameof(o.LabelColumnName), inputSchema.Select(c => c.Name));
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType != NumberDataViewType.Single)
            throw RnnRegressionColumns.Mismatch("label", o.LabelColumnName, "Single", Describe(label));
        RnnRegressionColumns.CheckNotNormalized(features.IsNormalized(), o);

        var result = inputSchema.ToDictionary(c => c.Name);
        result[DefaultColumnNames.Score] = new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar,
            NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation()));
        return new SchemaShape(result.Values);
    }

    private static string Describe(SchemaShape.Column c) => c.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => c.ItemType.ToString()!,
        SchemaShape.Column.VectorKind.Vector => $"Vector<{c.ItemType}>",
        _ => $"Vector<{c.ItemType}> of variable size",
    };
}

/// <summary>The feature and label columns of window mode: lookup, type checks and reading, with messages that
/// name the column, what was expected and what was found.</summary>
internal static class RnnRegressionColumns
{
    /// <summary>The feature column: a known-size vector of Single whose size is a positive multiple of F.</summary>
    public static DataViewSchema.Column FindFeatures(DataViewSchema schema, string name, int featuresPerStep)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw Missing("feature", name, nameof(RnnRegressionOptions.FeatureColumnName), schema.Where(c => !c.IsHidden).Select(c => c.Name));
        if (column.Type is not VectorDataViewType { ItemType: var item } vector || item != NumberDataViewType.Single || !vector.IsKnownSize)
            throw Mismatch("feature", name, FeatureExpectation(featuresPerStep), column.Type.ToString()!);
        if (vector.Size % featuresPerStep != 0)
        {
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Schema mismatch for feature column '{name}': its size {vector.Size} is not a multiple of FeaturesPerStep ({featuresPerStep}); " +
                "the vector is read as steps of FeaturesPerStep features each.");
        }
        return column;
    }

    /// <summary>The label column: a Single scalar.</summary>
    public static DataViewSchema.Column FindLabel(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw Missing("label", name, nameof(RnnRegressionOptions.LabelColumnName), schema.Where(c => !c.IsHidden).Select(c => c.Name));
        if (column.Type != NumberDataViewType.Single)
            throw Mismatch("label", name, "Single", column.Type.ToString()!);
        return column;
    }

    public static string FeatureExpectation(int featuresPerStep) => featuresPerStep == 1
        ? "a known-size vector of Single"
        : $"a known-size vector of Single whose size is a multiple of FeaturesPerStep ({featuresPerStep})";

    public static ArgumentOutOfRangeException Missing(string role, string name, string option, IEnumerable<string> present) =>
        new("inputSchema", $"Could not find {role} column '{name}' ({option}). Columns present: {string.Join(", ", present)}.");

    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, string actual) =>
        new("inputSchema", $"Schema mismatch for {role} column '{name}': expected {expected}, got {actual}.");

    /// <summary>Reads every row: features (N, W·F) densified, labels (N), each checked to be finite.
    /// Allocates the arrays.</summary>
    /// <exception cref="InvalidOperationException">A value is NaN or infinite (names the column, row and element).</exception>
    public static (float[] Features, float[] Labels, int Count) ReadAll(IDataView data, DataViewSchema.Column featureColumn,
        DataViewSchema.Column labelColumn, int rowLength)
    {
        var features = new float[rowLength * 64];
        var labels = new float[64];
        int n = 0;
        using var cursor = data.GetRowCursor([featureColumn, labelColumn]);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
        var getLabel = cursor.GetGetter<float>(labelColumn);
        VBuffer<float> buffer = default;
        float label = 0;
        while (cursor.MoveNext())
        {
            if (n == labels.Length)
            {
                Array.Resize(ref labels, 2 * n);
                Array.Resize(ref features, 2 * n * rowLength);
            }
            getFeatures(ref buffer);
            getLabel(ref label);
            if (buffer.Length != rowLength)
                throw new InvalidOperationException($"Feature column '{featureColumn.Name}' has {Counted.Of(buffer.Length, "value")} at row {n}; its type says {rowLength}.");
            var row = features.AsSpan(n * rowLength, rowLength);
            buffer.CopyTo(row);
            for (int k = 0; k < rowLength; k++)
                if (!float.IsFinite(row[k]))
                    throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
                        "Feature column '{0}' has {1} at row {2}, element {3}; features must be finite for training. Filter or impute such rows first.",
                        featureColumn.Name, row[k], n, k));
            if (!float.IsFinite(label))
                throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
                    "Label column '{0}' has {1} at row {2}; labels must be finite. Filter such rows first (e.g. mlContext.Data.FilterRowsByMissingValues).",
                    labelColumn.Name, label, n));
            labels[n++] = label;
        }
        return (features, labels, n);
    }

    /// <summary>The local scalings read feature k in label units: a normaliser upstream (NormalizeMinMax and the
    /// others set ML.NET's IsNormalized annotation) has rescaled it, each slot by its own factor, so its level no
    /// longer matches the label's. Training would go on and be several times worse with no warning; refuse instead.</summary>
    /// <exception cref="InvalidOperationException">The feature column is normalised and the scaling is local (names the
    /// column, the options and the two ways out).</exception>
    public static void CheckNotNormalized(bool isNormalized, RnnRegressionOptions o)
    {
        if (!isNormalized || o.Scaling == RnnRegressionScaling.Global) return;
        throw new InvalidOperationException(
            $"Feature column '{o.FeatureColumnName}' is normalised (it carries ML.NET's IsNormalized annotation, set by " +
            $"Transforms.NormalizeMinMax and the other Normalize* transforms), but {ReadsInLabelUnits(o)} {WaysOut}");
    }

    /// <summary>The same refusal when only some sources of the feature column were normalised: <c>Concatenate</c> drops
    /// the annotation unless every source carries it, so the column looks raw. Only feature k's slots matter (the other
    /// features are z-scored whatever their units); they are traced upstream by <see cref="NormalizedSlots"/>.</summary>
    /// <exception cref="InvalidOperationException">A slot of feature k comes from a normalised column and the scaling is
    /// local (names the slots, the normalised columns and the two ways out).</exception>
    public static void CheckNoNormalizedSlots(IDataView input, DataViewSchema.Column featureColumn, RnnRegressionOptions o, int W)
    {
        if (o.Scaling == RnnRegressionScaling.Global) return;
        int F = o.FeaturesPerStep, k = o.TargetFeatureIndex;
        var found = NormalizedSlots.Find(input, featureColumn, Enumerable.Range(0, W).Select(t => t * F + k));
        if (found.Count == 0) return;
        string slots = string.Join(", ", found.Select(f => f.SlotName.Length > 0 && f.SlotName != f.Source
            ? $"{f.Slot} ('{f.SlotName}', from '{f.Source}')" : $"{f.Slot} ('{f.Source}')"));
        string columns = string.Join(", ", found.Select(f => $"'{f.Source}'").Distinct());
        throw new InvalidOperationException(
            $"Feature column '{o.FeatureColumnName}' holds normalised values although it does not carry ML.NET's IsNormalized " +
            $"annotation: {Counted.Of(found.Count, "slot")} of feature {k} ({slots}) come from {columns}, normalised upstream " +
            "(Transforms.NormalizeMinMax and the other Normalize* transforms mark their output; Concatenate passes the mark on " +
            $"only when every source has it). {ReadsInLabelUnits(o)} {WaysOut}");
    }

    private static string ReadsInLabelUnits(RnnRegressionOptions o) =>
        $"Scaling {o.Scaling} reads feature {o.TargetFeatureIndex} of each step (TargetFeatureIndex) as the raw series the " +
        "label continues, in label units.";

    // The figures are the window-normaliser measurement (docs/design/window-regression.md).
    private const string WaysOut =
        "Remove the normaliser before Rnn (recommended): the trainer scales its inputs itself, saves that scaling with the " +
        "model, and with the default Scaling LastValue follows a series beyond its training range. Or set Scaling to Global, " +
        "which z-scores every feature and the label with the training rows' mean and standard deviation and accepts normalised " +
        "features, but cannot predict beyond the range of the training labels: on the lags of seven series, one step ahead, its " +
        "RMSE was 2.97 times the naive last-value forecast's, against 0.75 times for LastValue without the normaliser (geometric " +
        "means; docs/design/window-regression.md). Global suits features that are not lags of the label.";

    /// <summary>LogRatio scaling takes logarithms of feature k and of the label: both must be positive.</summary>
    /// <exception cref="InvalidOperationException">A value is not positive (names the option, column, row and element).</exception>
    public static void CheckPositive(float[] features, float[] labels, int N, int W, int F, int k, string featureColumnName, string labelColumnName)
    {
        for (int n = 0; n < N; n++)
        {
            for (int t = 0; t < W; t++)
            {
                float x = features[(n * W + t) * F + k];
                if (!(x > 0f))
                    throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
                        "Scaling LogRatio needs positive values, but feature column '{0}' has {1} at row {2}, element {3} (feature {4} of step {5}, TargetFeatureIndex). " +
                        "Use Scaling LastValue for series that reach zero or below.", featureColumnName, x, n, t * F + k, k, t));
            }
            if (!(labels[n] > 0f))
                throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
                    "Scaling LogRatio needs positive values, but label column '{0}' has {1} at row {2}. " +
                    "Use Scaling LastValue for series that reach zero or below.", labelColumnName, labels[n], n));
        }
    }
}

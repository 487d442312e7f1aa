using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Training;
using MLNetRnn.Regression;

namespace MLNetRnn;

/// <summary>
/// Trains a recurrent network for regression (window mode): each row's feature vector, lags or other features
/// produced by ordinary ML.NET featurizers, is read as a sequence of steps, and the network predicts the row's
/// label. The output is a <see cref="float"/> score column, so <c>mlContext.Regression.Evaluate</c> and
/// <c>mlContext.Regression.CrossValidate</c> work on it unchanged.
/// </summary>
/// <remarks>
/// <para><b>Estimator characteristics</b></para>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Features: known-size vector of <see cref="float"/>, size a
/// multiple of <see cref="RnnRegressionOptions.FeaturesPerStep"/>; label: <see cref="float"/></description></item>
/// <item><term>Output column data type</term><description><see cref="float"/> (the score, in label units)</description></item>
/// <item><term>Exportable to ONNX</term><description>No</description></item>
/// </list>
/// <para>
/// The vector of W·F features is read as W steps of F features, step-major and oldest first; the network's head
/// at the last step gives the prediction. Scaling is part of the model (<see cref="RnnRegressionScaling"/>): by
/// default feature 0 and the label are taken relative to the row's last value, so a trending series is
/// predicted beyond its training range. Training needs no tuning to start with: the last
/// <see cref="RnnRegressionOptions.ValidationFraction"/> of the rows (they are read in time order) are held out,
/// training stops early when their loss stops improving and keeps the best epoch's weights, and the gradient is
/// clipped by its global norm (Pascanu, Mikolov &amp; Bengio 2013).
/// </para>
/// <para>
/// Create it with <see cref="RnnRegressionCatalog.Rnn(RegressionCatalog.RegressionTrainers, string, string, int, Core.Cells.RecurrentCellKind, int, int, float, int)"/>
/// or <see cref="RnnRegressionCatalog.Rnn(RegressionCatalog.RegressionTrainers, RnnRegressionOptions)"/>.
/// </para>
/// </remarks>
public sealed class RnnRegressionEstimator : IEstimator<RnnRegressionTransformer>
{
    private readonly IHost _host;
    private readonly RnnRegressionOptions _options;

    internal RnnRegressionEstimator(IHostEnvironment env, RnnRegressionOptions options)
    {
        Contracts.CheckValue(env, nameof(env));
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(RnnRegressionEstimator));
        _options = options.Clone();
        _options.Validate();
    }

    /// <summary>A copy of the options this estimator trains with.</summary>
    public RnnRegressionOptions Options => _options.Clone();

    /// <summary>Progress after each epoch during <see cref="Fit"/>, if set.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Cancels <see cref="Fit"/> when signalled.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Trains on the rows of <paramref name="input"/>, read in order (the last ones validate).</summary>
    /// <param name="input">Rows in time order with the feature and label columns.</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type or size, or
    /// TruncationLength exceeds the steps per row (the message names the column or option).</exception>
    /// <exception cref="InvalidOperationException">The data view is empty, a feature or label is NaN or infinite,
    /// or there are too few rows for the validation split (the message names the column or option).</exception>
    /// <exception cref="TrainingDivergedException">The loss stayed non-finite for several steps in a row.</exception>
    public RnnRegressionTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        var o = _options;
        var featureColumn = RnnRegressionColumns.FindFeatures(input.Schema, o.FeatureColumnName, o.FeaturesPerStep, expectedSteps: null);
        var labelColumn = RnnRegressionColumns.FindLabel(input.Schema, o.LabelColumnName);
        int F = o.FeaturesPerStep, W = ((VectorDataViewType)featureColumn.Type).Size / F;
        if (o.TruncationLength > W)
            throw new ArgumentOutOfRangeException(nameof(o.TruncationLength), o.TruncationLength,
                $"TruncationLength must be between 1 and the steps per row ({W}: feature column '{o.FeatureColumnName}' holds {W * F} values, FeaturesPerStep = {F}); got {o.TruncationLength}.");

        var (features, labels, N) = RnnRegressionColumns.ReadAll(input, featureColumn, labelColumn, W * F);
        if (N == 0)
            throw new InvalidOperationException($"The training data view is empty: feature column '{o.FeatureColumnName}' and label column '{o.LabelColumnName}' have no rows.");
        WindowRegressionModel.ValidationRows(o.ValidationFraction, N);   // throws, naming the option, before training
        if (o.Scaling == RnnRegressionScaling.LogRatio)
            RnnRegressionColumns.CheckPositive(features, labels, N, W, F, featureColumn.Name, labelColumn.Name);

        var (model, summary, diagnostics) = WindowRegressionModel.Train(o, features, labels, N, W, Progress, CancellationToken);
        return new RnnRegressionTransformer(_host, o.FeatureColumnName, o.ScoreColumnName, model, summary, diagnostics);
    }

    /// <summary>The schema after transformation: the input's columns plus the score column.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature or label column is missing or has the wrong type.</exception>
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

        var result = inputSchema.ToDictionary(c => c.Name);
        result[o.ScoreColumnName] = new SchemaShape.Column(o.ScoreColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false);
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
    /// <summary>The feature column: a known-size vector of Single whose size is a positive multiple of F (and W·F
    /// when <paramref name="expectedSteps"/> is given, as it is for a trained model).</summary>
    public static DataViewSchema.Column FindFeatures(DataViewSchema schema, string name, int featuresPerStep, int? expectedSteps)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw Missing("feature", name, nameof(RnnRegressionOptions.FeatureColumnName), schema.Where(c => !c.IsHidden).Select(c => c.Name));
        if (column.Type is not VectorDataViewType { ItemType: var item } vector || item != NumberDataViewType.Single || !vector.IsKnownSize)
            throw Mismatch("feature", name, FeatureExpectation(featuresPerStep), column.Type.ToString()!);
        int F = featuresPerStep;
        if (expectedSteps is int W)
        {
            if (vector.Size != W * F)
                throw Mismatch("feature", name,
                    $"a vector of {W * F} Single (WindowSize {W} × FeaturesPerStep {F}), the size the model was trained on", column.Type.ToString()!);
        }
        else if (vector.Size % F != 0)
        {
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Schema mismatch for feature column '{name}': its size {vector.Size} is not a multiple of FeaturesPerStep ({F}); " +
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
                throw new InvalidOperationException($"Feature column '{featureColumn.Name}' has {buffer.Length} values at row {n}; its type says {rowLength}.");
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

    /// <summary>LogRatio scaling takes logarithms of feature 0 and of the label: both must be positive.</summary>
    /// <exception cref="InvalidOperationException">A value is not positive (names the option, column, row and element).</exception>
    public static void CheckPositive(float[] features, float[] labels, int N, int W, int F, string featureColumnName, string labelColumnName)
    {
        for (int n = 0; n < N; n++)
        {
            for (int t = 0; t < W; t++)
            {
                float x = features[(n * W + t) * F];
                if (!(x > 0f))
                    throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
                        "Scaling LogRatio needs positive values, but feature column '{0}' has {1} at row {2}, element {3} (feature 0 of step {4}). " +
                        "Use Scaling LastValue for series that reach zero or below.", featureColumnName, x, n, t * F, t));
            }
            if (!(labels[n] > 0f))
                throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
                    "Scaling LogRatio needs positive values, but label column '{0}' has {1} at row {2}. " +
                    "Use Scaling LastValue for series that reach zero or below.", labelColumnName, labels[n], n));
        }
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>How <see cref="RnnRegressionEstimator"/> scales each row's features and its label before they
/// reach the network, and scales the network's output back to label units.</summary>
/// <remarks>
/// <para>
/// One feature of each step, <see cref="RnnRegressionOptions.TargetFeatureIndex"/> = k (feature 0 unless set), is
/// the raw series the label continues, in label units: a row of lags x_{t−W+1} … x_t with label x_{t+1}, say. The
/// local modes express that feature and the label relative to the row's own level, so the network learns shapes
/// and changes, which carry over to levels it never saw. Because they subtract (or divide by) the level in label
/// units, that feature must not be normalised upstream: the estimator refuses a feature column that carries
/// ML.NET's <c>IsNormalized</c> annotation, or whose slots of that feature come from columns that carry it (a normaliser
/// on some lag columns before <c>Concatenate</c>), unless the scaling is <see cref="Global"/>. A global
/// z-score from the training rows fails on a trending series: later rows lie outside the training range, the
/// network sees inputs it was never trained on and must produce targets beyond anything it produced
/// (RnnRegressionScalingTests measures both).
/// </para>
/// <para>
/// In every mode the other features of a step (all but k: calendar terms, covariates) are z-scored per feature
/// with the mean and standard deviation of the training rows. All parameters are fitted in
/// <see cref="RnnRegressionEstimator.Fit"/>, on the rows before the validation split, and saved with the model:
/// raw units go in and raw units come out.
/// </para>
/// </remarks>
public enum RnnRegressionScaling
{
    /// <summary>Level ℓ = feature k at the last step; x̃ = (x − ℓ)/s, ỹ = (y − ℓ)/s, ŷ = ℓ + s·out, with
    /// s = √mean((y − ℓ)²) over the training rows. The default: for one-step-ahead rows the label is closest to the
    /// last value, and its error beside the window mean is measured in docs/design/window-regression.md.</summary>
    LastValue,

    /// <summary>Level ℓ = mean of feature k over the row's steps; otherwise as <see cref="LastValue"/>.
    /// Smoother than the last value when single observations are noisy.</summary>
    WindowMean,

    /// <summary>Level ℓ = feature k at the last step, as <see cref="LastValue"/>, but in ratios:
    /// x̃ = ln(x/ℓ)/s, ỹ = ln(y/ℓ)/s, ŷ = ℓ·exp(s·out), with s = √mean(ln(y/ℓ)²) over the training rows. For positive
    /// series whose changes grow with their level (multiplicative trend or season, such as airline passengers);
    /// feature k and the label must be positive in training, and a row whose feature k is not positive scores NaN.</summary>
    LogRatio,

    /// <summary>z-score of every feature and of the label with the training rows' mean and standard deviation,
    /// the same for every row. For features that are not lags of the label; accepts features normalised upstream, but
    /// fails on trending series: on lags of seven series its RMSE was 3.0 times the naive forecast's where
    /// <see cref="LastValue"/> reached 0.75 (docs/design/window-regression.md).</summary>
    Global,
}

/// <summary>
/// Options of <see cref="RnnRegressionEstimator"/>: a recurrent network that reads a fixed-length vector of
/// features as a sequence of steps and predicts one value per row. Every default is in <see cref="Defaults"/>.
/// </summary>
/// <remarks>
/// The feature vector of length W·F is read as W steps of <see cref="FeaturesPerStep"/> = F features, step-major
/// and oldest first: features 0 … F−1 of the first step, then those of the second, and so on, the most recent
/// step last. Lags of a series therefore go in the order x_{t−W+1}, …, x_{t−1}, x_t. The network, training and
/// validation options are <see cref="RnnOptionsBase"/>'s, shared with series mode; in window mode the validation rows
/// serve early stopping only, and <see cref="RnnOptionsBase.TruncationLength"/> is checked against the W steps of a
/// row in Fit, where the data tells W.
/// </remarks>
public sealed class RnnRegressionOptions : RnnOptionsBase
{
    /// <summary>Default values, in one place: the catalog's optional arguments use the same constants. The training
    /// defaults are series mode's (<see cref="ForecastingDefaults"/>): one set for both modes.</summary>
    public static class Defaults
    {
        /// <summary>Name of the label column.</summary>
        public const string LabelColumnName = "Label";

        /// <summary>Name of the feature column.</summary>
        public const string FeatureColumnName = "Features";

        /// <summary>Features per step.</summary>
        public const int FeaturesPerStep = 1;

        /// <summary>The feature of each step that holds the raw series the label continues.</summary>
        public const int TargetFeatureIndex = 0;

        /// <summary>Cell of every layer.</summary>
        public const RecurrentCellKind Cell = ForecastingDefaults.Cell;

        /// <summary>Hidden units of the single default layer.</summary>
        public const int HiddenSize = ForecastingDefaults.HiddenSize;

        /// <summary>Maximum epochs.</summary>
        public const int Epochs = ForecastingDefaults.Epochs;

        /// <summary>Rows per mini-batch.</summary>
        public const int BatchSize = ForecastingDefaults.BatchSize;

        /// <summary>Rows sampled per epoch.</summary>
        public const int RowsPerEpoch = ForecastingDefaults.WindowsPerEpoch;

        /// <summary>Optimiser steps, at most.</summary>
        public const int MaximumSteps = ForecastingDefaults.MaximumSteps;

        /// <summary>Adam's learning rate.</summary>
        public const float LearningRate = ForecastingDefaults.LearningRate;

        /// <summary>Global-norm clipping threshold τ.</summary>
        public const float GradientClippingThreshold = ForecastingDefaults.GradientClippingThreshold;

        /// <summary>Fraction of the rows, from the end, held out for validation.</summary>
        public const float ValidationFraction = ForecastingDefaults.ValidationFraction;

        /// <summary>Epochs without a lower validation loss before training stops.</summary>
        public const int EarlyStoppingPatience = ForecastingDefaults.EarlyStoppingPatience;

        /// <summary>How features and label are scaled.</summary>
        public const RnnRegressionScaling Scaling = RnnRegressionScaling.LastValue;
    }

    /// <summary>Name of the label column: <see cref="float"/>, finite. Default: "Label".</summary>
    public string LabelColumnName { get; set; } = Defaults.LabelColumnName;

    /// <summary>Name of the feature column: a known-size vector of <see cref="float"/> whose size is a multiple of
    /// <see cref="FeaturesPerStep"/>, finite when training. Default: "Features".</summary>
    public string FeatureColumnName { get; set; } = Defaults.FeatureColumnName;

    /// <summary>Features per step F, at least 1: the feature vector of length W·F is read as W steps of F features
    /// (step-major, oldest step first). Default: 1 (a vector of lags).</summary>
    public int FeaturesPerStep { get; set; } = Defaults.FeaturesPerStep;

    /// <summary>Which feature of each step, k in [0, <see cref="FeaturesPerStep"/>), holds the raw series the label
    /// continues, in label units: the local scalings (<see cref="RnnRegressionScaling.LastValue"/>,
    /// <see cref="RnnRegressionScaling.WindowMean"/>, <see cref="RnnRegressionScaling.LogRatio"/>) take each row's
    /// level from it and scale it together with the label; the other features are z-scored. Ignored by
    /// <see cref="RnnRegressionScaling.Global"/>. Default: 0, the first feature of each step (for a vector of lags,
    /// the lags themselves).</summary>
    public int TargetFeatureIndex { get; set; } = Defaults.TargetFeatureIndex;

    /// <summary>Training rows sampled per epoch, at least 1 (all of them when there are fewer), so an epoch, and the
    /// validation after it, comes at the same rhythm on 1,000 or 200,000 rows. Default: 256.</summary>
    public int RowsPerEpoch { get; set; } = Defaults.RowsPerEpoch;

    /// <summary>Stop after this many epochs without a lower validation loss, at least 1; <see langword="null"/> =
    /// run all <see cref="RnnOptionsBase.Epochs"/> (the best epoch's weights are still kept when there is validation). Ignored
    /// without validation (<see cref="RnnOptionsBase.ValidationFraction"/> = 0). Default: 20.</summary>
    public int? EarlyStoppingPatience { get; set; } = Defaults.EarlyStoppingPatience;

    /// <summary>How features and label are scaled; the parameters are learned in Fit and saved with the model.
    /// The local modes need <see cref="TargetFeatureIndex"/> in label units, so they refuse a feature column
    /// normalised upstream (ML.NET's <c>IsNormalized</c> annotation, on the column or on the columns its slots of that
    /// feature come from). Default: <see cref="RnnRegressionScaling.LastValue"/>.</summary>
    public RnnRegressionScaling Scaling { get; set; } = Defaults.Scaling;

    /// <summary>A deep copy, so that later changes to this instance (or to its arrays) do not affect an estimator. The
    /// base copies its arrays; a reference-typed member added here must be copied here too
    /// (RnnRegressionOptionsAreCopiedDeeply checks by reflection).</summary>
    internal RnnRegressionOptions Clone() => CloneShared<RnnRegressionOptions>();

    /// <summary>Throws, naming the option, if a value is out of range. The checks that need the data (the window
    /// length for <see cref="RnnOptionsBase.TruncationLength"/>, the row count for <see cref="RnnOptionsBase.ValidationFraction"/>) are made in Fit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">A column name is empty, or options do not fit together.</exception>
    internal void Validate()
    {
        CheckName(LabelColumnName, nameof(LabelColumnName));
        CheckName(FeatureColumnName, nameof(FeatureColumnName));
        if (FeaturesPerStep < 1)
            throw OutOfRange(nameof(FeaturesPerStep), FeaturesPerStep, "at least 1");
        if (RowsPerEpoch < 1)
            throw OutOfRange(nameof(RowsPerEpoch), RowsPerEpoch, "at least 1");
        if (TargetFeatureIndex < 0 || TargetFeatureIndex >= FeaturesPerStep)
            throw OutOfRange(nameof(TargetFeatureIndex), TargetFeatureIndex, $"in [0, FeaturesPerStep) = [0, {FeaturesPerStep})");
        ValidateShared(truncationLimit: null);
        if (EarlyStoppingPatience is < 1)
            throw OutOfRange(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "at least 1, or null to run every epoch");
        if (!Enum.IsDefined(Scaling))
            throw OutOfRange(nameof(Scaling), Scaling, "LastValue, WindowMean, LogRatio or Global");
    }

    private static void CheckName(string? name, string option)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"{option} must name a column; got {(name is null ? "null" : $"'{name}'")}.", option);
    }
}

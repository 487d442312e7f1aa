using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>
/// The options both recurrent estimators share: the network (<see cref="Cell"/>, <see cref="HiddenSizes"/>,
/// <see cref="LayerNormalization"/>), the training budget and optimiser step, clipping, truncation, Pascanu's
/// regulariser, the validation split and the seed. <see cref="RnnForecastingOptions"/> (series mode,
/// <c>ForecastByRnn</c>) and <see cref="RnnRegressionOptions"/> (window mode, <c>Regression.Trainers.Rnn</c>) derive
/// from it, as ML.NET's trainer options derive from <c>TrainerInputBase</c>; each option is documented and checked
/// here once. Every default comes from <see cref="ForecastingDefaults"/>, one set for both modes.
/// </summary>
/// <remarks>Not meant to be derived from outside the library: the estimators know only their own options.</remarks>
public abstract class RnnOptionsBase
{
    private protected RnnOptionsBase()
    {
    }

    /// <summary>Cell of every layer. Default: <see cref="RecurrentCellKind.Gru"/>.</summary>
    public RecurrentCellKind Cell { get; set; } = ForecastingDefaults.Cell;

    /// <summary>Hidden units of each layer, bottom first; at least one layer, each at least 1. Default: [32].</summary>
    public int[] HiddenSizes { get; set; } = [ForecastingDefaults.HiddenSize];

    /// <summary>Layer-normalise every gate's pre-activation (with a learned gain and bias per unit). Default: false.</summary>
    public bool LayerNormalization { get; set; }

    /// <summary>Dilation of each layer, bottom first, one per entry of <see cref="HiddenSizes"/>, each at least 1: layer l
    /// reads its state of d_l steps back, h_t = cell(x_t, h_{t−d_l}), so a layer with the season's length (24 on hourly
    /// data, 12 on monthly) carries the state of the same phase one season ago (Chang et al. 2017; ES-RNN stacks 1, 4, 24,
    /// 168). Costs no parameters. Saved with the model in ML.NET zips and checkpoints (forecaster format 9, window mode's
    /// format 4, which only as new a release reads; a model without dilations keeps the older format). Not exportable to
    /// ONNX. Default: empty (every layer 1, no dilation).</summary>
    public int[] Dilations { get; set; } = [];

    /// <summary>Residual connections between stacked layers: each layer above the first adds its input to its output
    /// (ES-RNN, "Residual LSTM"); needs every entry of <see cref="HiddenSizes"/> equal. Saved with the model as
    /// <see cref="Dilations"/> are. Not exportable to ONNX with more than one layer. Default: false.</summary>
    public bool ResidualConnections { get; set; }

    /// <summary>Maximum passes over the training windows (series mode) or rows (window mode), at least 1; early
    /// stopping and <see cref="MaximumSteps"/> usually end training sooner. Default: 200.</summary>
    public int Epochs { get; set; } = ForecastingDefaults.Epochs;

    /// <summary>Windows (series mode) or rows (window mode) per mini-batch, at least 1. Default: 16.</summary>
    public int BatchSize { get; set; } = ForecastingDefaults.BatchSize;

    /// <summary>The training budget: optimiser steps per network at most, at least 1. Default: 2000.</summary>
    public int MaximumSteps { get; set; } = ForecastingDefaults.MaximumSteps;

    /// <summary>Learning rate of the optimiser, positive and finite. Default: 3e-3.</summary>
    public float LearningRate { get; set; } = ForecastingDefaults.LearningRate;

    /// <summary>Threshold τ for global-norm clipping: when ‖g‖ &gt; τ, g ← τ·g/‖g‖, applied once to the summed
    /// mini-batch gradient, before the optimiser step (Pascanu, Mikolov &amp; Bengio 2013). Positive and finite;
    /// <see langword="null"/> turns clipping off. Choose it from the gradient norms of the training summary: the
    /// highest value that still cuts the spikes. Default: 1.</summary>
    public float? GradientClippingThreshold { get; set; } = ForecastingDefaults.GradientClippingThreshold;

    /// <summary>Backpropagate through the last k steps of each window or row only (truncated BPTT), k from 1 to the
    /// steps the network reads; <see langword="null"/> = exact BPTT through all of them. Default: null.</summary>
    public int? TruncationLength { get; set; }

    /// <summary>Weight α ≥ 0 of Pascanu's vanishing-gradient regulariser Ω: the objective becomes L + α·Ω.
    /// Only for <see cref="RecurrentCellKind.Elman"/> cells without layer normalisation; use with clipping.
    /// Default: 0 (off).</summary>
    public float VanishingRegularizerWeight { get; set; }

    /// <summary>Fraction of the windows or rows held out for validation, in [0, 1), taken from the end: the model is
    /// validated on the most recent data. Validation drives early stopping, and the weights of the epoch with the
    /// lowest validation loss are kept; each mode documents what else it uses them for. 0 = no validation.
    /// Default: 0.2.</summary>
    public float ValidationFraction { get; set; } = ForecastingDefaults.ValidationFraction;

    /// <summary>Seed of the weight initialisation and of the shuffling; the same seed, options and data give a
    /// bit-identical model on the same machine. <see langword="null"/>: drawn from the <c>MLContext</c>'s random
    /// source when the estimator is created, as ML.NET's trainers do, so <c>new MLContext(seed: 1)</c> makes the whole
    /// pipeline reproducible and <c>new MLContext()</c> varies from run to run. Default: null.</summary>
    public int? Seed { get; set; }

    /// <summary>Throws, naming the option, if one of the shared options is out of range. The derived options call it
    /// where their own checks would have checked these.</summary>
    /// <param name="truncationLimit">The most steps the network reads and what they are called (e.g. 24, "WindowSize"),
    /// when the options know it; null when only the data tells (window mode checks the upper bound in Fit).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">HiddenSizes is empty, or the regulariser is set for a cell it does not fit.</exception>
    private protected void ValidateShared((int Steps, string Name)? truncationLimit)
    {
        if (!Enum.IsDefined(Cell))
            throw OutOfRange(nameof(Cell), Cell, "Elman, Lstm or Gru");
        if (HiddenSizes is null)
            throw new ArgumentNullException(nameof(HiddenSizes), "HiddenSizes must list at least one layer's hidden size, e.g. [32].");
        if (HiddenSizes.Length == 0)
            throw new ArgumentException("HiddenSizes must list at least one layer's hidden size, e.g. [32].", nameof(HiddenSizes));
        for (int l = 0; l < HiddenSizes.Length; l++)
            if (HiddenSizes[l] < 1)
                throw new ArgumentOutOfRangeException(nameof(HiddenSizes), HiddenSizes[l], $"HiddenSizes[{l}] must be at least 1; got {HiddenSizes[l]}.");
        if (Epochs < 1)
            throw OutOfRange(nameof(Epochs), Epochs, "at least 1");
        if (BatchSize < 1)
            throw OutOfRange(nameof(BatchSize), BatchSize, "at least 1");
        if (MaximumSteps < 1)
            throw OutOfRange(nameof(MaximumSteps), MaximumSteps, "at least 1");
        if (!(LearningRate > 0f && float.IsFinite(LearningRate)))
            throw OutOfRange(nameof(LearningRate), LearningRate, "positive and finite");
        if (GradientClippingThreshold is float tau && !(tau > 0f && float.IsFinite(tau)))
            throw OutOfRange(nameof(GradientClippingThreshold), tau, "positive and finite, or null to turn clipping off");
        if (TruncationLength is int k && (k < 1 || (truncationLimit is { } limit && k > limit.Steps)))
            throw OutOfRange(nameof(TruncationLength), k, truncationLimit is { } most
                ? $"between 1 and {most.Name} ({most.Steps}), or null for exact BPTT"
                : "at least 1, or null for exact BPTT");
        if (!(VanishingRegularizerWeight >= 0f && float.IsFinite(VanishingRegularizerWeight)))
            throw OutOfRange(nameof(VanishingRegularizerWeight), VanishingRegularizerWeight, "non-negative and finite");
        if (VanishingRegularizerWeight > 0f && (Cell != RecurrentCellKind.Elman || LayerNormalization))
            throw new ArgumentException(
                $"VanishingRegularizerWeight (Pascanu's Ω) is defined for Elman cells without layer normalisation; Cell is {Cell}" +
                $"{(LayerNormalization ? " with LayerNormalization" : "")}. Set it to 0.", nameof(VanishingRegularizerWeight));
        if (!(ValidationFraction >= 0f && ValidationFraction < 1f))
            throw OutOfRange(nameof(ValidationFraction), ValidationFraction, "in [0, 1)");
        if (Dilations is null) throw new ArgumentNullException(nameof(Dilations));
        if (Dilations.Length != 0 && HiddenSizes is not null && Dilations.Length != HiddenSizes.Length)
            throw new ArgumentException($"Dilations must give one dilation per layer ({HiddenSizes.Length}, as HiddenSizes), or none; got {Dilations.Length}.", nameof(Dilations));
        foreach (int d in Dilations)
            if (d < 1) throw OutOfRange(nameof(Dilations), d, "at least 1 for every layer");
        if (ResidualConnections && HiddenSizes is not null && HiddenSizes.Distinct().Count() > 1)
            throw new ArgumentException($"ResidualConnections add each layer's input to its output, so every hidden size must be equal; HiddenSizes is [{string.Join(", ", HiddenSizes)}].",
                nameof(ResidualConnections));
        if (VanishingRegularizerWeight > 0f && Dilations.Any(d => d > 1))
            throw new ArgumentException("VanishingRegularizerWeight (Pascanu's Ω) is defined for undilated layers; Dilations has a dilation above 1. Set it to 0.",
                nameof(VanishingRegularizerWeight));
    }

    /// <summary>A copy whose arrays are copies too, so that later changes to this instance (or to its arrays) do not
    /// reach an estimator. Every reference-typed member must be copied here or in the derived options' Clone;
    /// RnnRegressionOptionsAreCopiedDeeply checks by reflection.</summary>
    private protected T CloneShared<T>() where T : RnnOptionsBase
    {
        var copy = (T)MemberwiseClone();
        copy.HiddenSizes = HiddenSizes?.ToArray()!;
        copy.Dilations = (int[])Dilations?.Clone()!;   // Clone, not ToArray: an empty array stays a new one, not the shared Array.Empty
        return copy;
    }

    /// <summary>"{option} must be {expected}; got {value}.", invariant, with the option as the parameter name.</summary>
    private protected static ArgumentOutOfRangeException OutOfRange(string option, object? value, string expected)
        => new(option, value, string.Format(CultureInfo.InvariantCulture, "{0} must be {1}; got {2}.", option, expected, value ?? "null"));
}

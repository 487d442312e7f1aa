using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;

namespace MLNetRnn.Core.Training;

/// <summary>How a <see cref="RecurrentTrainer"/> fits a network. Every option has a documented default
/// in <see cref="Defaults"/>; <see cref="Validate"/> names the option that is out of range.</summary>
public sealed record TrainingOptions
{
    /// <summary>Default values, in one place.</summary>
    public static class Defaults
    {
        /// <summary>Passes over the training data.</summary>
        public const int Epochs = 100;

        /// <summary>Sequences per mini-batch.</summary>
        public const int BatchSize = 32;

        /// <summary>Global-norm clipping threshold τ.</summary>
        public const float GradientClippingThreshold = 1f;

        /// <summary>Steps skipped in a row for a non-finite loss or gradient before training stops.</summary>
        public const int MaxConsecutiveNonFiniteSteps = 5;

        /// <summary>δ of the Huber loss.</summary>
        public const float HuberDelta = 1f;

        /// <summary>Percentile p of AutoClip: the paper's recommended 10.</summary>
        public const float AutoClipPercentile = 10f;
    }

    /// <summary>Maximum passes over the training data, at least 1. Default: 100.</summary>
    public int Epochs { get; init; } = Defaults.Epochs;

    /// <summary>Sequences per mini-batch, at least 1 (the last batch of an epoch may be smaller). Default: 32.</summary>
    public int BatchSize { get; init; } = Defaults.BatchSize;

    /// <summary>Optimiser and base learning rate. Default: Adam, 1e-3.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>Learning-rate schedule over epochs. Default: constant.</summary>
    public LearningRateSchedule LearningRateSchedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Clipping mode, applied once per step to the summed mini-batch gradient, before the
    /// optimiser. Default: <see cref="GradientClippingMode.GlobalNorm"/>.</summary>
    public GradientClippingMode GradientClipping { get; init; } = GradientClippingMode.GlobalNorm;

    /// <summary>Threshold τ of the clipping mode, positive. Pick it from the gradient-norm curve
    /// (<see cref="TrainingReport.GradientNorms"/>): the highest value that still cuts the spikes. Default: 1.</summary>
    public float GradientClippingThreshold { get; init; } = Defaults.GradientClippingThreshold;

    /// <summary>Percentile p in (0, 100] of <see cref="GradientClippingMode.AutoClip"/>: each step clips at the p-th
    /// percentile of the finite ‖g‖ seen so far. Low values clip most steps: Seetharaman et al. (2020) found 10
    /// works across tasks. Used only by AutoClip. Default: 10.</summary>
    public float AutoClipPercentile { get; init; } = Defaults.AutoClipPercentile;

    /// <summary>Windowed regime: backpropagate through the last k steps of each window only (truncated
    /// BPTT), k in [1, T]; loss terms before the last k steps are not taught. null = exact BPTT through the
    /// whole window. The streaming regime uses <see cref="StreamingOptions"/> instead. Default: null.</summary>
    public int? TruncationLength { get; init; }

    /// <summary>Weight α ≥ 0 of Pascanu's vanishing-gradient regulariser Ω (Elman cells without layer
    /// normalisation); the objective becomes L + α·Ω. Use with clipping (the paper's SGD-CR). Default: 0 (off).</summary>
    public float VanishingRegularizerWeight { get; init; }

    /// <summary>Loss. Default: mean squared error.</summary>
    public LossKind Loss { get; init; } = LossKind.MeanSquaredError;

    /// <summary>δ of the Huber loss, positive. Default: 1.</summary>
    public float HuberDelta { get; init; } = Defaults.HuberDelta;

    /// <summary>Quantile levels τ of the <see cref="LossKind.Pinball"/> loss, each in (0, 1), strictly increasing;
    /// the network's outputs cycle through them (output o learns level τ[o mod Q]), so OutputSize must be a
    /// multiple of their count. Ignored by the other losses. Default: none.</summary>
    public IReadOnlyList<float> Quantiles { get; init; } = [];

    /// <summary>Windowed regime, when no validation set is given: the fraction of examples, taken from the
    /// end (the most recent windows for a time series), held out for validation, in [0, 1). Default: 0.</summary>
    public float ValidationFraction { get; init; }

    /// <summary>Stop after this many epochs without a lower validation loss, at least 1; null = never stop
    /// early. Needs validation data. Default: null.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>With validation data, end with the weights of the epoch of lowest validation loss. Default: true.</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>Decay d of an exponential moving average of the weights (Polyak–Ruppert averaging), in (0, 1); null =
    /// off. After every optimiser step the average moves by (1 − d) towards the new weights (by more over the first
    /// steps, min(d, (1 + t)/(10 + t)) at step t, so that the start is not over-weighted). Validation, early stopping,
    /// the best epoch's snapshot and the final weights use the average; training goes on from the trained weights. An
    /// ensemble over the checkpoints of the last ≈ 1/(1 − d) steps in one network: Adam's last steps jitter around the
    /// minimum, and their average sits nearer it. Default: null.</summary>
    public float? WeightAveraging { get; init; }

    /// <summary>Windowed regime: windows drawn per epoch, at least 1, walking through a shuffled order of all
    /// windows and reshuffling when it is used up, so every window is seen equally often; null = every window once
    /// per epoch. Makes an epoch (and so validation and early stopping) cost the same on long and short data.
    /// Default: null.</summary>
    public int? SamplesPerEpoch { get; init; }

    /// <summary>Stop after this many optimiser steps (skipped non-finite steps count too), at least 1; null = no
    /// limit. A training budget that does not depend on the machine, unlike <see cref="TimeLimit"/>. Default: null.</summary>
    public int? MaximumSteps { get; init; }

    /// <summary>Stop at the end of the first epoch that finishes after this much wall-clock time, positive; null =
    /// no limit. With a time limit, results depend on the machine's speed, not only on the seed. Default: null.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>With validation data, let the weights before training compete with every epoch's: when no epoch
    /// lowers the validation loss below theirs, training ends with the initial weights. Meant for networks that
    /// start from a known-good output, such as a forecaster's correction head initialised to zero. Default: false.</summary>
    public bool KeepInitialWeightsIfBest { get; init; }

    /// <summary>Shuffle the windows every epoch (seeded). Default: true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of shuffling and random activations. With the same seed, options, data and
    /// initial weights, training gives bit-identical weights on the same machine. Default: 0.</summary>
    public int Seed { get; init; }

    /// <summary>A step with a non-finite loss or gradient is skipped and counted; this many in a row stop
    /// training with a <see cref="TrainingDivergedException"/>, at least 1. Default: 5.</summary>
    public int MaxConsecutiveNonFiniteSteps { get; init; } = Defaults.MaxConsecutiveNonFiniteSteps;

    /// <summary>Checks every option against the network it will train, naming the option at fault.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">An option does not fit the network.</exception>
    public void Validate(RecurrentNetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        (Optimizer ?? throw new ArgumentNullException(nameof(Optimizer))).Validate();
        (LearningRateSchedule ?? throw new ArgumentNullException(nameof(LearningRateSchedule))).Validate();
        if (!Enum.IsDefined(GradientClipping)) throw new ArgumentOutOfRangeException(nameof(GradientClipping), GradientClipping, "Unknown clipping mode.");
        if (GradientClipping == GradientClippingMode.AutoClip && !(AutoClipPercentile > 0f && AutoClipPercentile <= 100f))
            throw new ArgumentOutOfRangeException(nameof(AutoClipPercentile), AutoClipPercentile, $"AutoClipPercentile must be in (0, 100]; got {AutoClipPercentile}.");
        if (GradientClipping is not (GradientClippingMode.None or GradientClippingMode.AutoClip) && !(GradientClippingThreshold > 0f && float.IsFinite(GradientClippingThreshold)))
            throw new ArgumentOutOfRangeException(nameof(GradientClippingThreshold), GradientClippingThreshold,
                $"GradientClippingThreshold must be positive and finite for clipping mode {GradientClipping}; got {GradientClippingThreshold}. Use GradientClippingMode.None to turn clipping off.");
        if (TruncationLength is < 1)
            throw new ArgumentOutOfRangeException(nameof(TruncationLength), TruncationLength, $"TruncationLength must be at least 1 (or null for exact BPTT); got {TruncationLength}.");
        if (!(VanishingRegularizerWeight >= 0f && float.IsFinite(VanishingRegularizerWeight)))
            throw new ArgumentOutOfRangeException(nameof(VanishingRegularizerWeight), VanishingRegularizerWeight, "VanishingRegularizerWeight must be non-negative and finite.");
        if (VanishingRegularizerWeight > 0f && (!(CellCatalog.Contains(spec.Cell) && CellCatalog.Of(spec.Cell).SupportsVanishingRegularizer) || spec.LayerNormalization))
            throw new ArgumentException(
                $"VanishingRegularizerWeight (Pascanu's Ω) is defined for Elman cells without layer normalisation; the network is {spec.Cell}{(spec.LayerNormalization ? " with layer normalisation" : "")}. Set it to 0.",
                nameof(VanishingRegularizerWeight));
        if (VanishingRegularizerWeight > 0f && spec.IsDilated)
            throw new ArgumentException("VanishingRegularizerWeight (Pascanu's Ω) is defined for undilated layers; the network has Dilations above 1. Set it to 0.",
                nameof(VanishingRegularizerWeight));
        if (!Enum.IsDefined(Loss)) throw new ArgumentOutOfRangeException(nameof(Loss), Loss, "Unknown loss.");
        if (!(HuberDelta > 0f && float.IsFinite(HuberDelta))) throw new ArgumentOutOfRangeException(nameof(HuberDelta), HuberDelta, "HuberDelta must be positive.");
        if (Loss == LossKind.Pinball)
        {
            if (Quantiles is null || Quantiles.Count == 0) throw new ArgumentException("The pinball loss needs Quantiles: at least one level in (0, 1).", nameof(Quantiles));
            for (int q = 0; q < Quantiles.Count; q++)
                if (!(Quantiles[q] > 0f && Quantiles[q] < 1f) || (q > 0 && !(Quantiles[q] > Quantiles[q - 1])))
                    throw new ArgumentOutOfRangeException(nameof(Quantiles), Quantiles[q], $"Quantiles must be in (0, 1) and strictly increasing; got {string.Join(", ", Quantiles)}.");
            if (spec.OutputSize % Quantiles.Count != 0)
                throw new ArgumentException($"The pinball loss with {Quantiles.Count} quantile levels needs OutputSize to be a multiple of {Quantiles.Count}; it is {spec.OutputSize}.", nameof(Quantiles));
        }
        if (!(ValidationFraction >= 0f && ValidationFraction < 1f))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 1).");
        if (WeightAveraging is float d && !(d > 0f && d < 1f))
            throw new ArgumentOutOfRangeException(nameof(WeightAveraging), WeightAveraging, $"WeightAveraging must be in (0, 1) (or null for none); got {d}.");
        if (EarlyStoppingPatience is < 1)
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "EarlyStoppingPatience must be at least 1 (or null).");
        if (SamplesPerEpoch is < 1)
            throw new ArgumentOutOfRangeException(nameof(SamplesPerEpoch), SamplesPerEpoch, "SamplesPerEpoch must be at least 1 (or null for every window).");
        if (MaximumSteps is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaximumSteps), MaximumSteps, "MaximumSteps must be at least 1 (or null for no limit).");
        if (TimeLimit is TimeSpan limit && limit <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(TimeLimit), TimeLimit, "TimeLimit must be positive (or null for no limit).");
        if (MaxConsecutiveNonFiniteSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxConsecutiveNonFiniteSteps), MaxConsecutiveNonFiniteSteps, "MaxConsecutiveNonFiniteSteps must be at least 1.");
    }
}

/// <summary>The stateful streaming regime: truncated BPTT(k1, k2) over B parallel streams.</summary>
/// <remarks>
/// Every <see cref="TruncationInterval"/> (k1) steps the trainer backpropagates through the last
/// <see cref="TruncationLength"/> (k2) steps, with the loss of the k1 new steps (Williams &amp; Peng 1990;
/// Sutskever 2013). The hidden state is carried across updates, detached. k2 ≥ k1, so every step's loss is
/// taught exactly once; TBPTT(S, S) over streams of S steps is exact BPTT.
/// </remarks>
public sealed record StreamingOptions
{
    /// <summary>Parallel streams B (the batch), at least 1. Default: 32.</summary>
    public int Streams { get; init; } = 32;

    /// <summary>k1: steps between updates, at least 1. Default: 20.</summary>
    public int TruncationInterval { get; init; } = 20;

    /// <summary>k2: steps backpropagated at each update, at least k1. Default: 20.</summary>
    public int TruncationLength { get; init; } = 20;

    /// <summary>Throws, naming the option, if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (Streams < 1) throw new ArgumentOutOfRangeException(nameof(Streams), Streams, "Streams must be at least 1.");
        if (TruncationInterval < 1) throw new ArgumentOutOfRangeException(nameof(TruncationInterval), TruncationInterval, "TruncationInterval (k1) must be at least 1.");
        if (TruncationLength < 1) throw new ArgumentOutOfRangeException(nameof(TruncationLength), TruncationLength, "TruncationLength (k2) must be at least 1.");
        if (TruncationLength < TruncationInterval)
            throw new ArgumentOutOfRangeException(nameof(TruncationLength), TruncationLength,
                $"TruncationLength (k2 = {TruncationLength}) must be at least TruncationInterval (k1 = {TruncationInterval}), or the loss of some steps would never be backpropagated.");
    }
}

/// <summary>Thrown when training keeps producing non-finite losses or gradients.</summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception with a message that says where and what to change.</summary>
    public TrainingDivergedException(string message) : base(message) { }
}

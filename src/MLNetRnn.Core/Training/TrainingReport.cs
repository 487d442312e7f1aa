namespace MLNetRnn.Core.Training;

/// <summary>What happened in one epoch.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="TrainingLoss">Mean loss over the epoch's training steps (regulariser excluded).</param>
/// <param name="ValidationLoss">Loss on the validation data after the epoch, or NaN without validation data.</param>
/// <param name="LearningRate">Learning rate used in the epoch.</param>
/// <param name="MeanGradientNorm">Mean ‖g‖ before clipping over the epoch's finite steps.</param>
/// <param name="MaxGradientNorm">Largest ‖g‖ before clipping in the epoch.</param>
/// <param name="ClippedSteps">Steps whose gradient the clipping changed.</param>
/// <param name="Regularizer">Mean Pascanu Ω per step (before weighting), 0 when off.</param>
/// <param name="SkippedSteps">Steps skipped for a non-finite loss or gradient.</param>
public readonly record struct EpochSummary(int Epoch, double TrainingLoss, double ValidationLoss, double LearningRate,
    double MeanGradientNorm, double MaxGradientNorm, int ClippedSteps, double Regularizer, int SkippedSteps);

/// <summary>What ended a training run.</summary>
public enum TrainingStop
{
    /// <summary>The configured number of epochs ran.</summary>
    Epochs = 0,

    /// <summary>The validation loss stopped improving for the patience's number of epochs.</summary>
    EarlyStopping = 1,

    /// <summary><see cref="TrainingOptions.MaximumSteps"/> was reached.</summary>
    StepLimit = 2,

    /// <summary><see cref="TrainingOptions.TimeLimit"/> was reached.</summary>
    TimeLimit = 3,

    /// <summary>The mini-batch source of <see cref="RecurrentTrainer.FitBatches"/> ran out.</summary>
    DataExhausted = 4,
}

/// <summary>Reported after each epoch to an <see cref="IProgress{T}"/>.</summary>
/// <param name="Epoch">0-based epoch just finished.</param>
/// <param name="Epochs">Configured maximum epochs: a ceiling when early stopping is on, the exact count otherwise.</param>
/// <param name="Summary">The epoch's figures.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, EpochSummary Summary)
{
    /// <summary>What is being trained when one fit runs several trainings, e.g. "member 2 of 3";
    /// empty for a single run. Set by the caller that runs them (the forecaster), not by the trainer.</summary>
    public string Phase { get; init; } = "";

    /// <summary>Epochs since the validation loss last improved, and the patience that ends training; both 0 without
    /// early stopping. With them a progress display can say how close early stopping is, not only "of Epochs".</summary>
    public int EpochsWithoutImprovement { get; init; }

    /// <summary>Early-stopping patience in epochs; 0 when early stopping is off.</summary>
    public int Patience { get; init; }

    /// <summary>Set on the last report of a run: what ended it. Null while training goes on. Runs of a fit may
    /// report concurrently (ensemble members train in parallel), so this, not a change of <see cref="Phase"/>,
    /// is what says a phase is over.</summary>
    public TrainingStop? StoppedBy { get; init; }
}

/// <summary>The record of a training run: per-epoch figures, the per-step gradient-norm curve, and how
/// far the error signal reached back in time.</summary>
public sealed class TrainingReport
{
    private readonly List<EpochSummary> _epochs;
    private readonly float[] _backwardSignal;   // (epochs, T) mean ‖dL/dh_t‖ of the top layer per epoch
    private readonly int _steps;

    internal TrainingReport(int epochs, int stepsPerEpoch, int windowSteps, int? maximumSteps = null)
    {
        _epochs = new List<EpochSummary>(epochs);
        GradientNorms = new GradientNormHistory((int)Math.Min((long)epochs * stepsPerEpoch, maximumSteps ?? int.MaxValue));
        _backwardSignal = new float[epochs * windowSteps];
        _steps = windowSteps;
        StepsPerEpoch = stepsPerEpoch;
    }

    /// <summary>Optimiser steps per epoch (skipped steps included): step s of <see cref="GradientNorms"/> belongs to
    /// epoch ⌊s / StepsPerEpoch⌋.</summary>
    public int StepsPerEpoch { get; }

    /// <summary>One entry per epoch run.</summary>
    public IReadOnlyList<EpochSummary> Epochs => _epochs;

    /// <summary>‖g‖ before and after clipping, and the loss, for every step.</summary>
    public GradientNormHistory GradientNorms { get; }

    /// <summary>Optimiser steps taken.</summary>
    public int StepsTaken { get; internal set; }

    /// <summary>Steps skipped for a non-finite loss or gradient.</summary>
    public int SkippedSteps { get; internal set; }

    /// <summary>Epoch of the lowest validation loss, or −1 without validation data (or when the initial weights
    /// were best, see <see cref="InitialValidationLoss"/>).</summary>
    public int BestEpoch { get; internal set; } = -1;

    /// <summary>The lowest validation loss, or NaN without validation data.</summary>
    public double BestValidationLoss { get; internal set; } = double.NaN;

    /// <summary>Validation loss of the weights before training (with <see cref="TrainingOptions.KeepInitialWeightsIfBest"/>),
    /// else NaN. When no epoch beat it, <see cref="BestEpoch"/> stays −1 and the initial weights are restored.</summary>
    public double InitialValidationLoss { get; internal set; } = double.NaN;

    /// <summary>Whether early stopping ended the run before the configured epochs.</summary>
    public bool StoppedEarly { get; internal set; }

    /// <summary>What ended the run.</summary>
    public TrainingStop StoppedBy { get; internal set; } = TrainingStop.Epochs;

    /// <summary>Whether the weights of <see cref="BestEpoch"/> were restored at the end.</summary>
    public bool RestoredBestWeights { get; internal set; }

    /// <summary>Wall-clock duration of the run.</summary>
    public TimeSpan Duration { get; internal set; }

    /// <summary>Steps T of the window (the streaming regime: k2) that <see cref="BackwardSignal"/> covers.</summary>
    public int WindowSteps => _steps;

    /// <summary>
    /// Mean ‖∂L/∂h_t‖ of the top layer for t = 0..T−1 over the training steps of <paramref name="epoch"/>:
    /// how strongly the error reaches each step of the window. A curve that falls to zero far from the loss
    /// shows vanishing gradients; one that grows shows explosion.
    /// </summary>
    public ReadOnlySpan<float> BackwardSignal(int epoch)
    {
        if (epoch < 0 || epoch >= _epochs.Count) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"epoch must be in [0, {_epochs.Count}).");
        return _backwardSignal.AsSpan(epoch * _steps, _steps);
    }

    internal Span<float> BackwardSignalSlot(int epoch) => _backwardSignal.AsSpan(epoch * _steps, _steps);

    internal void AddEpoch(in EpochSummary summary) => _epochs.Add(summary);
}

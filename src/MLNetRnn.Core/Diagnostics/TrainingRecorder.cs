using MLNetRnn.Core.Data;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Diagnostics;

/// <summary>
/// Records a run's <see cref="TrainingDiagnostics"/>: the W_hh spectrum before training (when created) and after
/// evenly spaced epochs (as an <see cref="IProgress{T}"/> the trainer reports to), then the report's curves and the
/// final spectrum in <see cref="Finish"/>. Pass it as the trainer's progress; it forwards every report to the
/// progress it wraps.
/// </summary>
/// <example><code>
/// var recorder = new TrainingRecorder(network, options, progress);
/// var report = new RecurrentTrainer(network, options).Fit(train, validation, recorder);
/// TrainingDiagnostics diagnostics = recorder.Finish(report);
/// </code></example>
public sealed class TrainingRecorder : IProgress<TrainingProgress>
{
    /// <summary>Default for the number of spectra sampled during training.</summary>
    public const int DefaultMaxSpectrumSnapshots = 32;

    private readonly RecurrentNetwork _network;
    private readonly TrainingOptions _options;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly int _maxSnapshots;
    private readonly List<SpectrumSnapshot> _history = [];

    /// <summary>Starts recording: takes the spectrum of <paramref name="network"/>'s W_hh as it is now (call it before training).</summary>
    /// <param name="network">The network about to be trained.</param>
    /// <param name="options">The options it will be trained with.</param>
    /// <param name="progress">Progress to forward every report to, or null.</param>
    /// <param name="maxSpectrumSnapshots">Spectra sampled during training, at least 1: after every k-th epoch,
    /// k = ⌈Epochs / this⌉, and after the last configured epoch. Default: 32.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSpectrumSnapshots"/> is below 1.</exception>
    public TrainingRecorder(RecurrentNetwork network, TrainingOptions options, IProgress<TrainingProgress>? progress = null,
        int maxSpectrumSnapshots = DefaultMaxSpectrumSnapshots)
    {
        _network = network ?? throw new ArgumentNullException(nameof(network));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (maxSpectrumSnapshots < 1)
            throw new ArgumentOutOfRangeException(nameof(maxSpectrumSnapshots), maxSpectrumSnapshots, "maxSpectrumSnapshots must be at least 1.");
        _progress = progress;
        _maxSnapshots = maxSpectrumSnapshots;
        _history.Add(new SpectrumSnapshot(-1, RecurrentSpectrum.Compute(network)));
    }

    /// <summary>Called by the trainer after each epoch: samples the spectrum when due, then forwards the report.</summary>
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int stride = (value.Epochs + _maxSnapshots - 1) / _maxSnapshots;
        if ((value.Epoch + 1) % Math.Max(1, stride) == 0 || value.Epoch == value.Epochs - 1)
            _history.Add(new SpectrumSnapshot(value.Epoch, RecurrentSpectrum.Compute(_network)));
        _progress?.Report(value);
    }

    /// <summary>The diagnostics of the finished run: <paramref name="report"/>'s curves, the spectra sampled so far,
    /// and the spectrum of the weights the network holds now (the final ones).</summary>
    public TrainingDiagnostics Finish(TrainingReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return TrainingDiagnostics.Build(report, _network, _options, _history.ToArray(),
            new SpectrumSnapshot(report.Epochs.Count - 1, RecurrentSpectrum.Compute(_network)));
    }
}

/// <summary>One call that trains and records the diagnostics.</summary>
public static class DiagnosticsTrainerExtensions
{
    /// <summary>
    /// <see cref="RecurrentTrainer.Fit"/> with a <see cref="TrainingRecorder"/> attached: returns the report and the
    /// run's <see cref="TrainingDiagnostics"/> (spectrum before, during and after training).
    /// </summary>
    /// <param name="trainer">The trainer.</param>
    /// <param name="train">Training windows.</param>
    /// <param name="validation">Validation windows, or null.</param>
    /// <param name="progress">Reported after each epoch, or null.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    public static (TrainingReport Report, TrainingDiagnostics Diagnostics) FitWithDiagnostics(this RecurrentTrainer trainer,
        SequenceDataset train, SequenceDataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var recorder = new TrainingRecorder(trainer.Network, trainer.Options, progress);
        var report = trainer.Fit(train, validation, recorder, cancellationToken);
        return (report, recorder.Finish(report));
    }
}

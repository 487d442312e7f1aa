using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Diagnostics;

// S = steps recorded, E = epochs run, T = window steps of the backward signal.

/// <summary>The spectrum of every W_hh gate block at one point of training.</summary>
/// <param name="Epoch">The epoch after which it was taken; −1 before training.</param>
/// <param name="Gates">One entry per layer and gate block, layer-major, gates in PyTorch order.</param>
public sealed record SpectrumSnapshot(int Epoch, IReadOnlyList<GateSpectrum> Gates);

/// <summary>
/// Everything the papers tell us to watch while a recurrent net trains (Pascanu, Mikolov &amp; Bengio 2013), in one
/// object that outlives the run: the per-step curve of the loss and of ‖g‖ before and after clipping with the
/// threshold it was clipped against, the per-epoch losses, how far the error signal reaches back through the window,
/// and the singular values of every W_hh gate block from the start of training to its end.
/// </summary>
/// <remarks>
/// <para>Build one with <see cref="TrainingRecorder"/> (which also samples the spectrum during training),
/// <see cref="DiagnosticsTrainerExtensions.FitWithDiagnostics"/>, or <see cref="From"/> (from a finished
/// report and the trained network: start and over-training spectra are then absent).</para>
/// <para>Saved with <see cref="Write"/>/<see cref="Read"/> (a versioned binary format), exported with
/// <see cref="WriteCsv(string)"/> and <see cref="WriteJson(Stream)"/>. Immutable.</para>
/// </remarks>
public sealed partial class TrainingDiagnostics
{
    private readonly float[] _loss, _before, _after, _threshold;   // (S) per step
    private readonly EpochSummary[] _epochs;                       // (E)
    private readonly float[] _backwardSignal;                      // (E, T) mean ‖∂L/∂h_t‖ of the top layer

    internal TrainingDiagnostics(DiagnosticsNetwork network, DiagnosticsClipping clipping, int stepsPerEpoch,
        float[] loss, float[] before, float[] after, float[] threshold, EpochSummary[] epochs, int windowSteps, float[] backwardSignal,
        IReadOnlyList<SpectrumSnapshot> spectrumHistory, SpectrumSnapshot? finalSpectrum, int bestEpoch, bool stoppedEarly, bool restoredBestWeights,
        TimeSpan duration)
    {
        Network = network; Clipping = clipping; StepsPerEpoch = stepsPerEpoch;
        _loss = loss; _before = before; _after = after; _threshold = threshold; _epochs = epochs;
        WindowSteps = windowSteps; _backwardSignal = backwardSignal;
        SpectrumHistory = spectrumHistory; FinalSpectrum = finalSpectrum;
        BestEpoch = bestEpoch; StoppedEarly = stoppedEarly; RestoredBestWeights = restoredBestWeights; Duration = duration;
    }

    /// <summary>The network the run trained: cell, activation, layer sizes (what the spectrum's bounds depend on).</summary>
    public DiagnosticsNetwork Network { get; }

    /// <summary>How the gradient was clipped.</summary>
    public DiagnosticsClipping Clipping { get; }

    /// <summary>Steps per epoch (skipped steps included): step s belongs to epoch ⌊s / StepsPerEpoch⌋.</summary>
    public int StepsPerEpoch { get; }

    // ------------------------------------------------------------------ per step

    /// <summary>Steps recorded, skipped non-finite steps included.</summary>
    public int StepCount => _loss.Length;

    /// <summary>Training loss of each step's mini-batch (regulariser excluded).</summary>
    public ReadOnlySpan<float> StepLoss => _loss;

    /// <summary>‖g‖ of the summed mini-batch gradient before clipping, per step (non-finite on skipped steps).</summary>
    public ReadOnlySpan<float> GradientNormBefore => _before;

    /// <summary>‖g‖ after clipping, per step (equal to <see cref="GradientNormBefore"/> where clipping did not act).</summary>
    public ReadOnlySpan<float> GradientNormAfter => _after;

    /// <summary>The threshold each step was clipped against: τ for the fixed-threshold modes, AutoClip's percentile of
    /// the norms so far (replayed exactly from the curve), +∞ without clipping, NaN on skipped steps.</summary>
    public ReadOnlySpan<float> ClippingThreshold => _threshold;

    /// <summary>Whether clipping changed step <paramref name="step"/>'s gradient (never for a skipped step).</summary>
    public bool IsClipped(int step) => float.IsFinite(_before[step]) && _after[step] != _before[step];

    /// <summary>Whether step <paramref name="step"/> was skipped for a non-finite loss or gradient.</summary>
    public bool IsSkipped(int step) => !float.IsFinite(_before[step]);

    /// <summary>0-based epoch of step <paramref name="step"/>.</summary>
    public int EpochOfStep(int step) => StepsPerEpoch > 0 ? Math.Min(step / StepsPerEpoch, Math.Max(0, _epochs.Length - 1)) : 0;

    /// <summary>Learning rate of step <paramref name="step"/> (the schedule works per epoch).</summary>
    public double LearningRateOfStep(int step) => _epochs.Length == 0 ? double.NaN : _epochs[EpochOfStep(step)].LearningRate;

    /// <summary>Steps whose gradient clipping changed.</summary>
    public int ClippedSteps { get { int n = 0; for (int s = 0; s < _loss.Length; s++) if (IsClipped(s)) n++; return n; } }

    /// <summary>Steps skipped for a non-finite loss or gradient.</summary>
    public int SkippedSteps { get { int n = 0; for (int s = 0; s < _loss.Length; s++) if (IsSkipped(s)) n++; return n; } }

    /// <summary>Share of the finite steps whose gradient clipping changed, in [0, 1]; NaN without finite steps.
    /// About 1 − p/100 for AutoClip once the history is long; a fixed τ that clips nearly every step is too low.</summary>
    public double ClipRate
    {
        get
        {
            int finite = _loss.Length - SkippedSteps;
            return finite > 0 ? (double)ClippedSteps / finite : double.NaN;
        }
    }

    // ------------------------------------------------------------------ per epoch

    /// <summary>One entry per epoch run: losses, learning rate, norms, clipped and skipped steps.</summary>
    public IReadOnlyList<EpochSummary> Epochs => _epochs;

    /// <summary>Epoch of the lowest validation loss, or −1 without validation data.</summary>
    public int BestEpoch { get; }

    /// <summary>Whether early stopping ended the run before the configured epochs.</summary>
    public bool StoppedEarly { get; }

    /// <summary>Whether the weights of <see cref="BestEpoch"/> were restored at the end.</summary>
    public bool RestoredBestWeights { get; }

    /// <summary>Wall-clock duration of the run.</summary>
    public TimeSpan Duration { get; }

    // ------------------------------------------------------------------ backward signal

    /// <summary>T: steps of the window the backward signal covers; 0 when it was not recorded.</summary>
    public int WindowSteps { get; }

    /// <summary>Whether <see cref="BackwardSignal"/> is available (models saved before diagnostics existed lack it).</summary>
    public bool HasBackwardSignal => WindowSteps > 0 && _epochs.Length > 0;

    /// <summary>Mean ‖∂L/∂h_t‖ of the top layer for t = 0 (oldest) .. T−1 (newest) over the training steps of
    /// <paramref name="epoch"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The epoch was not run, or no signal was recorded.</exception>
    public ReadOnlySpan<float> BackwardSignal(int epoch)
    {
        if (!HasBackwardSignal) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "No backward signal was recorded for this run.");
        if (epoch < 0 || epoch >= _epochs.Length) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"epoch must be in [0, {_epochs.Length}).");
        return _backwardSignal.AsSpan(epoch * WindowSteps, WindowSteps);
    }

    /// <summary>
    /// Gradient reach of <paramref name="epoch"/>: ‖∂L/∂h‖ at the oldest step of the window divided by ‖∂L/∂h‖ at
    /// the newest, ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖. About 1: the error reaches the whole window undiminished; 1e−6: it has
    /// vanished long before the oldest step (nothing there is learned); above 1: it grows on the way back
    /// (exploding). 0 with truncated BPTT shorter than the window. NaN without a signal.
    /// </summary>
    public double GradientReach(int epoch)
    {
        if (!HasBackwardSignal || epoch < 0 || epoch >= _epochs.Length) return double.NaN;
        var s = BackwardSignal(epoch);
        return s[^1] > 0 ? (double)s[0] / s[^1] : double.NaN;
    }

    /// <summary><see cref="GradientReach"/> of the first epoch: how far the error reached before training shaped W_hh.</summary>
    public double EarlyGradientReach => GradientReach(0);

    /// <summary><see cref="GradientReach"/> of the last epoch run.</summary>
    public double LateGradientReach => GradientReach(_epochs.Length - 1);

    // ------------------------------------------------------------------ spectrum

    /// <summary>W_hh spectra during training, oldest first: before training (epoch −1) when recorded, then after
    /// sampled epochs (at most <see cref="TrainingRecorder"/>'s limit, evenly spaced).</summary>
    public IReadOnlyList<SpectrumSnapshot> SpectrumHistory { get; }

    /// <summary>W_hh spectra before training, or null when not recorded.</summary>
    public SpectrumSnapshot? InitialSpectrum => SpectrumHistory.Count > 0 && SpectrumHistory[0].Epoch == -1 ? SpectrumHistory[0] : null;

    /// <summary>W_hh spectra of the weights the run ended with (after restoring the best epoch's weights), or null.</summary>
    public SpectrumSnapshot? FinalSpectrum { get; }

    /// <summary>1/γ for a gate block of this network: the singular-value line of Pascanu et al. (below it for every
    /// block: gradients vanish; exploding needs σ₁ above it). See <see cref="RecurrentSpectrum.DerivativeBound"/>.</summary>
    public double SpectrumBound(string gate) => 1.0 / RecurrentSpectrum.DerivativeBound(Network.Cell, Network.Activation, gate, Network.EluAlpha);

    // ------------------------------------------------------------------ construction

    /// <summary>
    /// Diagnostics of a finished run from its report and the trained network (final spectrum only; use
    /// <see cref="TrainingRecorder"/> to also record the spectrum before and during training).
    /// </summary>
    /// <param name="report">The trainer's report.</param>
    /// <param name="network">The network it trained, as the run left it.</param>
    /// <param name="options">The options it trained with (clipping mode, threshold, AutoClip percentile).</param>
    public static TrainingDiagnostics From(TrainingReport report, RecurrentNetwork network, TrainingOptions options)
        => Build(report, network, options, [], new SpectrumSnapshot(report.Epochs.Count - 1, RecurrentSpectrum.Compute(network)));

    /// <summary>
    /// Diagnostics rebuilt from the curves an older model kept (‖g‖ before and after clipping per step, losses per
    /// epoch) and its trained network: no backward signal, no initial spectrum, per-step losses unknown (NaN). For
    /// reading models saved before diagnostics were part of the payload. Without <paramref name="options"/>, the
    /// clipping is read back from the curve: global norm at τ = the norm after the first clipped step, or none.
    /// </summary>
    public static TrainingDiagnostics FromCurves(RecurrentNetwork network, TrainingOptions? options, float[] before, float[] after,
        double[] trainingLoss, double[] validationLoss, int bestEpoch, bool stoppedEarly, bool restoredBestWeights)
    {
        int E = trainingLoss.Length, S = before.Length;
        int perEpoch = E > 0 ? Math.Max(1, S / E) : S;
        int firstClipped = -1;
        for (int k = 0; k < S && firstClipped < 0; k++) if (after[k] < before[k]) firstClipped = k;
        options ??= firstClipped >= 0
            ? new TrainingOptions { GradientClipping = GradientClippingMode.GlobalNorm, GradientClippingThreshold = after[firstClipped] }
            : new TrainingOptions { GradientClipping = GradientClippingMode.None };
        var clipping = new DiagnosticsClipping(options.GradientClipping, options.GradientClippingThreshold, options.AutoClipPercentile);
        var epochs = new EpochSummary[E];
        for (int e = 0; e < E; e++)
        {
            int from = Math.Min(S, e * perEpoch), to = e == E - 1 ? S : Math.Min(S, from + perEpoch);
            var norms = before.AsSpan(from, to - from).ToArray();
            var finite = norms.Where(float.IsFinite).ToArray();
            int clipped = 0;
            for (int k = from; k < to; k++) if (after[k] != before[k]) clipped++;
            epochs[e] = new EpochSummary(e, trainingLoss[e], validationLoss[e],
                options.LearningRateSchedule.At(options.Optimizer.LearningRate, e, Math.Max(E, options.Epochs)),
                finite.Length > 0 ? finite.Average() : double.NaN, finite.Length > 0 ? finite.Max() : double.NaN, clipped, 0, norms.Length - finite.Length);
        }
        var loss = new float[S];
        System.Array.Fill(loss, float.NaN);
        return new TrainingDiagnostics(DiagnosticsNetwork.Of(network.Spec), clipping, perEpoch, loss, before, after, clipping.Replay(before),
            epochs, 0, [], [], new SpectrumSnapshot(E - 1, RecurrentSpectrum.Compute(network)), bestEpoch, stoppedEarly, restoredBestWeights, TimeSpan.Zero);
    }

    internal static TrainingDiagnostics Build(TrainingReport report, RecurrentNetwork network, TrainingOptions options,
        IReadOnlyList<SpectrumSnapshot> history, SpectrumSnapshot? final)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        var norms = report.GradientNorms;
        int S = norms.Count, E = report.Epochs.Count, T = report.WindowSteps;
        var clipping = new DiagnosticsClipping(options.GradientClipping, options.GradientClippingThreshold, options.AutoClipPercentile);
        var signal = new float[E * T];
        for (int e = 0; e < E; e++) report.BackwardSignal(e).CopyTo(signal.AsSpan(e * T, T));
        return new TrainingDiagnostics(DiagnosticsNetwork.Of(network.Spec), clipping, report.StepsPerEpoch,
            norms.Loss.ToArray(), norms.Before.ToArray(), norms.After.ToArray(), clipping.Replay(norms.Before),
            report.Epochs.ToArray(), T, signal, history, final, report.BestEpoch, report.StoppedEarly, report.RestoredBestWeights, report.Duration);
    }
}

/// <summary>What the diagnostics need to know of the network: the cell and activation (for the 1/γ lines) and the sizes.</summary>
/// <param name="Cell">Cell kind.</param>
/// <param name="Activation">Elman nonlinearity.</param>
/// <param name="EluAlpha">α of ELU.</param>
/// <param name="HiddenSizes">Hidden size per layer, bottom first.</param>
public sealed record DiagnosticsNetwork(RecurrentCellKind Cell, ElmanActivation Activation, float EluAlpha, IReadOnlyList<int> HiddenSizes)
{
    internal static DiagnosticsNetwork Of(RecurrentNetworkSpec spec) => new(spec.Cell, spec.Activation, spec.EluAlpha, spec.HiddenSizes.ToArray());

    /// <summary>Gate block names: "h" (Elman), "i","f","g","o" (LSTM), "r","z","n" (GRU).</summary>
    public IReadOnlyList<string> Gates => CellCatalog.Contains(Cell) ? CellCatalog.Of(Cell).GateNames : ["h"];

    /// <summary>Value equality over the hidden sizes' contents.</summary>
    public bool Equals(DiagnosticsNetwork? other) => other is not null && Cell == other.Cell && Activation == other.Activation
        && EluAlpha == other.EluAlpha && HiddenSizes.SequenceEqual(other.HiddenSizes);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Cell, Activation, EluAlpha, HiddenSizes.Count);
}

/// <summary>How the gradient was clipped in the run.</summary>
/// <param name="Mode">Clipping mode.</param>
/// <param name="Threshold">τ of the fixed-threshold modes (not used by None and AutoClip).</param>
/// <param name="AutoClipPercentile">p of AutoClip (not used by other modes).</param>
public sealed record DiagnosticsClipping(GradientClippingMode Mode, float Threshold, float AutoClipPercentile)
{
    /// <summary>The threshold of every step, recomputed from the curve: AutoClip's threshold depends only on the
    /// finite norms before clipping, in order, which the curve holds exactly as the trainer fed them.</summary>
    internal float[] Replay(ReadOnlySpan<float> before)
    {
        var threshold = new float[before.Length];
        var auto = Mode == GradientClippingMode.AutoClip ? new AutoClipThreshold(AutoClipPercentile, Math.Max(1, before.Length)) : null;
        for (int s = 0; s < before.Length; s++)
        {
            bool skipped = !float.IsFinite(before[s]);
            threshold[s] = skipped ? float.NaN : Mode switch
            {
                GradientClippingMode.None => float.PositiveInfinity,
                GradientClippingMode.AutoClip => (float)auto!.Next(before[s]),
                _ => Threshold,
            };
        }
        return threshold;
    }
}

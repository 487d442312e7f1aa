using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Memory;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;

namespace MLNetRnn.Core.Training;

/// <summary>
/// Fits a <see cref="RecurrentNetwork"/> in one of two regimes:
/// <list type="bullet">
/// <item><b>Windowed</b> (<see cref="Fit"/>): independent windows of T steps, shuffled into mini-batches;
/// exact BPTT through each window, or truncated to its last k steps.</item>
/// <item><b>Stateful streaming</b> (<see cref="FitStreaming"/>): long series cut into B parallel streams,
/// TBPTT(k1, k2) with the hidden state carried across updates.</item>
/// </list>
/// Each step: forward, loss, backward (plus Pascanu's Ω if enabled), a check for non-finite values, clipping
/// of the summed mini-batch gradient, the optimiser step. Everything a step touches is allocated when the run
/// starts; the steps themselves allocate nothing.
/// </summary>
public sealed class RecurrentTrainer
{
    /// <summary>Creates a trainer for <paramref name="network"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range or does not fit the network (the message names it).</exception>
    public RecurrentTrainer(RecurrentNetwork network, TrainingOptions? options = null)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Options = options ?? new TrainingOptions();
        Options.Validate(network.Spec);
    }

    /// <summary>The network being trained; its parameters are updated in place.</summary>
    public RecurrentNetwork Network { get; }

    /// <summary>The training options.</summary>
    public TrainingOptions Options { get; }

    /// <summary>Called after every optimiser step (skipped ones included) with what the step did, on the training
    /// thread, before the next step starts: for live curves, custom logging, or stopping a study through the
    /// cancellation token. Keep it cheap; it runs inside the training loop. Default: null.</summary>
    public Action<TrainingStep>? StepCompleted { get; set; }

    /// <summary>
    /// Windowed regime: trains on <paramref name="train"/>, validating on <paramref name="validation"/> (or on
    /// the last <see cref="TrainingOptions.ValidationFraction"/> of <paramref name="train"/> when null).
    /// </summary>
    /// <exception cref="ArgumentException">Data shapes do not match the network, or TruncationLength exceeds the window.</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient stayed non-finite for too many steps.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingReport Fit(SequenceDataset train, SequenceDataset? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        => Attach(CreateWindowedSession(train, validation)).Run(progress, cancellationToken);

    /// <summary>
    /// Stateful streaming regime: TBPTT(k1, k2) over <see cref="StreamingOptions.Streams"/> parallel
    /// streams cut from <paramref name="train"/>; every epoch starts the streams from a zero state.
    /// </summary>
    /// <exception cref="ArgumentException">Data shapes do not match the network, the series are too short for
    /// the streams, or k2 exceeds the stream length.</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient stayed non-finite for too many steps.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingReport FitStreaming(StreamingDataset train, StreamingOptions streaming, StreamingDataset? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        => Attach(new StreamingSession(Network, Options, train, streaming, validation)).Run(progress, cancellationToken);

    /// <summary>
    /// Fresh data every step: trains on one mini-batch per element of <paramref name="batches"/> (a generator,
    /// typically endless), <paramref name="stepsPerEpoch"/> steps per epoch, for <see cref="TrainingOptions.Epochs"/>
    /// epochs or until the sequence ends. An "epoch" is then a reporting period: per-epoch figures, validation on
    /// <paramref name="validation"/>, early stopping and the learning-rate schedule work on it as usual.
    /// </summary>
    /// <remarks>Every batch must have the first batch's steps, targets and sizes, and at most its rows (the
    /// workspace is sized from it). The trainer copies a batch before asking for the next one, so a generator may
    /// refill and yield the same dataset each time and allocate nothing. Shuffling does not apply.</remarks>
    /// <param name="batches">Mini-batches, each a dataset of B windows.</param>
    /// <param name="stepsPerEpoch">Steps per epoch, at least 1.</param>
    /// <param name="validation">Fixed validation windows, or null (then early stopping is not available).</param>
    /// <param name="progress">Reported after each epoch.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="ArgumentException">The sequence is empty, or a batch does not fit the network or the first batch
    /// (the message gives the batch's index).</exception>
    /// <exception cref="TrainingDivergedException">The loss or gradient stayed non-finite for too many steps.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingReport FitBatches(IEnumerable<SequenceDataset> batches, int stepsPerEpoch, SequenceDataset? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        if (stepsPerEpoch < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, "stepsPerEpoch must be at least 1.");
        using var source = batches.GetEnumerator();
        return Attach(new BatchStreamSession(Network, Options, source, stepsPerEpoch, validation)).Run(progress, cancellationToken);
    }

    private TSession Attach<TSession>(TSession session) where TSession : TrainingSession
    {
        session.StepCompleted = StepCompleted;
        return session;
    }

    /// <summary>
    /// Windowed regime on windows that a <see cref="WindowSource"/> hands over batch by batch (built on demand, for
    /// example), validating on <paramref name="validation"/> when given.
    /// </summary>
    internal TrainingReport FitWindows(WindowSource train, WindowSource? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Attach(new WindowedSession(Network, Options, train, validation)).Run(progress, cancellationToken);
    }

    internal WindowedSession CreateWindowedSession(SequenceDataset train, SequenceDataset? validation)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (validation is null && Options.ValidationFraction > 0f)
        {
            int nVal = (int)Math.Round(train.Count * Options.ValidationFraction);
            if (nVal < 1 || nVal >= train.Count)
                throw new ArgumentOutOfRangeException(nameof(Options.ValidationFraction), Options.ValidationFraction,
                    $"ValidationFraction {Options.ValidationFraction} of {Counted.Of(train.Count, "window")} leaves {nVal} for validation and {train.Count - nVal} for training; both need at least 1.");
            validation = train.Slice(train.Count - nVal, nVal);
            train = train.Slice(0, train.Count - nVal);
        }
        return new WindowedSession(Network, Options, new DatasetWindows(train), validation is null ? null : new DatasetWindows(validation));
    }
}

/// <summary>The epoch loop, the optimiser step and the bookkeeping shared by both regimes.</summary>
internal abstract class TrainingSession
{
    protected readonly RecurrentNetwork Net;
    protected readonly TrainingOptions Options;
    protected readonly Workspace Ws;
    protected readonly Random ActivationRng;
    private readonly Optimizer _optimizer;
    protected readonly float[] Quantiles;       // (Q) levels of the pinball loss; empty for the other losses
    private readonly float[] _bestParameters;   // (Count) weights of the best validation epoch
    private readonly float[] _average;          // (Count) moving average of the weights (WeightAveraging); empty when off
    private readonly float[] _trained;          // (Count) the trained weights, set aside while the average is validated
    private long _averagedSteps;
    private readonly Stopwatch _clock = new();
    private int _consecutiveNonFinite;
    private EpochAccumulator _epoch;
    private int _epochIndex;
    private readonly AutoClipThreshold? _autoClip;   // AutoClip's sorted norm history; null in other modes

    protected TrainingSession(RecurrentNetwork net, TrainingOptions options, Workspace ws, int stepsPerEpoch, bool hasValidation)
    {
        Net = net; Options = options; Ws = ws;
        ActivationRng = new Random(unchecked(options.Seed * 31 + 17));
        _optimizer = Optimizer.Create(options.Optimizer, net.Parameters.Count);
        Quantiles = options.Quantiles.ToArray();
        _bestParameters = hasValidation ? new float[net.Parameters.Count] : [];
        _average = options.WeightAveraging is null ? [] : (float[])net.Parameters.Values.Clone();
        _trained = options.WeightAveraging is null ? [] : new float[net.Parameters.Count];
        HasValidation = hasValidation;
        if (options.EarlyStoppingPatience is not null && !hasValidation)
            throw new ArgumentException("EarlyStoppingPatience needs validation data: pass a validation set or set ValidationFraction > 0.", nameof(options));
        Report = new TrainingReport(options.Epochs, stepsPerEpoch, ws.MaxSteps, options.MaximumSteps);
        if (options.GradientClipping == GradientClippingMode.AutoClip)
            _autoClip = new AutoClipThreshold(options.AutoClipPercentile, options.Epochs * stepsPerEpoch);
    }

    /// <summary>See <see cref="RecurrentTrainer.StepCompleted"/>.</summary>
    internal Action<TrainingStep>? StepCompleted { get; set; }

    /// <summary>True when the data has run out (a finite batch stream); the run ends after the current epoch.</summary>
    protected virtual bool Exhausted => false;

    public TrainingReport Report { get; }

    protected bool HasValidation { get; }

    /// <summary>Whether <see cref="TrainingOptions.MaximumSteps"/> steps (taken or skipped) have run.</summary>
    protected bool StepBudgetUsed => Options.MaximumSteps is int max && Report.StepsTaken + Report.SkippedSteps >= max;

    /// <summary>The training steps of one epoch, each ending in <see cref="Step"/>.</summary>
    protected abstract void RunEpochSteps(float learningRate, CancellationToken ct);

    /// <summary>Mean loss on the validation data with the current weights.</summary>
    protected abstract double ValidationLoss();

    public TrainingReport Run(IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        _clock.Restart();
        int sinceBest = 0;
        if (HasValidation && Options.KeepInitialWeightsIfBest)
        {
            // The weights before training compete too: if no epoch beats them, they are what is restored.
            double initial = ValidationLoss();
            Report.InitialValidationLoss = initial;
            if (double.IsFinite(initial))
            {
                Report.BestValidationLoss = initial;
                Net.Parameters.Values.CopyTo(_bestParameters, 0);
            }
        }
        for (int epoch = 0; epoch < Options.Epochs; epoch++)
        {
            bool goOn = RunEpoch(epoch, ct, ref sinceBest);
            TrainingStop? stop = !goOn ? (epoch < Options.Epochs - 1 ? TrainingStop.EarlyStopping : TrainingStop.Epochs)
                : StepBudgetUsed ? TrainingStop.StepLimit
                : Options.TimeLimit is TimeSpan limit && _clock.Elapsed >= limit ? TrainingStop.TimeLimit
                : epoch == Options.Epochs - 1 ? TrainingStop.Epochs
                : null;
            progress?.Report(new TrainingProgress(epoch, Options.Epochs, Report.Epochs[^1])
            {
                EpochsWithoutImprovement = HasValidation ? sinceBest : 0,
                Patience = HasValidation ? Options.EarlyStoppingPatience ?? 0 : 0,
                StoppedBy = stop,
            });
            // Asked after the report: a generator may decide there that it has no more batches.
            if (stop is null && Exhausted) stop = TrainingStop.DataExhausted;
            if (stop is TrainingStop reason)
            {
                Report.StoppedBy = reason;
                Report.StoppedEarly = reason == TrainingStop.EarlyStopping;
                break;
            }
        }
        if (HasValidation && Options.RestoreBestWeights && (Report.BestEpoch >= 0 || double.IsFinite(Report.InitialValidationLoss)))
        {
            _bestParameters.CopyTo(Net.Parameters.Values, 0);
            Report.RestoredBestWeights = true;
        }
        else if (_average.Length > 0)
            _average.CopyTo(Net.Parameters.Values, 0);
        foreach (float v in Net.Parameters.Values)
            if (!float.IsFinite(v))
                throw new TrainingDivergedException(
                    $"Training ended with non-finite weights. {Advice()}");
        Report.Duration = _clock.Elapsed;
        return Report;
    }

    /// <summary>One epoch: steps, validation, early-stopping bookkeeping. Returns false to stop.
    /// Allocates nothing.</summary>
    internal bool RunEpoch(int epoch, CancellationToken ct, ref int sinceBest)
    {
        _epochIndex = epoch;
        _epoch = default;
        float lr = Options.LearningRateSchedule.At(Options.Optimizer.LearningRate, epoch, Options.Epochs);
        RunEpochSteps(lr, ct);

        // With weight averaging the average is what is validated and kept; the trained weights go on training.
        bool averaged = _average.Length > 0 && HasValidation;
        if (averaged)
        {
            Net.Parameters.Values.CopyTo(_trained, 0);
            _average.CopyTo(Net.Parameters.Values, 0);
        }
        bool goOn = EndEpoch(epoch, lr, ref sinceBest);
        if (averaged) _trained.CopyTo(Net.Parameters.Values, 0);
        return goOn;
    }

    /// <summary>Validation and early-stopping bookkeeping on the weights in the network now.</summary>
    private bool EndEpoch(int epoch, float lr, ref int sinceBest)
    {
        double val = HasValidation ? ValidationLoss() : double.NaN;
        var signal = Report.BackwardSignalSlot(epoch);
        if (_epoch.SignalSteps > 0)
            for (int t = 0; t < signal.Length; t++) signal[t] /= _epoch.SignalSteps;
        int finite = _epoch.Steps - _epoch.Skipped;
        Report.AddEpoch(new EpochSummary(epoch,
            finite > 0 ? _epoch.LossSum / _epoch.LossWeight : double.NaN,
            val, lr,
            finite > 0 ? _epoch.NormSum / finite : double.NaN,
            _epoch.NormMax, _epoch.Clipped,
            finite > 0 ? _epoch.OmegaSum / finite : 0,
            _epoch.Skipped));

        if (!HasValidation) return true;
        if (double.IsFinite(val) && !(val >= Report.BestValidationLoss))
        {
            Report.BestValidationLoss = val;
            Report.BestEpoch = epoch;
            Net.Parameters.Values.CopyTo(_bestParameters, 0);
            sinceBest = 0;
            return true;
        }
        sinceBest++;
        return Options.EarlyStoppingPatience is not int patience || sinceBest < patience;
    }

    /// <summary>
    /// The optimiser step on a filled workspace: forward, loss, backward, finiteness check, clipping,
    /// update. <paramref name="weight"/> weighs the loss in the epoch mean (sequences in the batch).
    /// </summary>
    protected void Step(int T, int B, int P, int? truncation, float lr, int weight, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var p = Net.Parameters;
        float alpha = Options.VanishingRegularizerWeight;
        Net.Forward(Ws, T, B, P, training: true, ActivationRng);
        double loss = Net.Loss(Ws, B, P, Options.Loss, Options.HuberDelta, Quantiles);
        p.ZeroGradients();
        double omega = Net.Backward(Ws, T, B, P, truncation, alpha);
        _epoch.Steps++;

        // A non-finite loss or gradient is caught here, at the step it happens, before it reaches the weights.
        double norm = GradientClipping.Norm(p.Gradients);
        if (!double.IsFinite(loss) || !double.IsFinite(norm) || !double.IsFinite(omega))
        {
            Report.GradientNorms.Add(norm, norm, loss);
            Report.SkippedSteps++;
            _epoch.Skipped++;
            StepCompleted?.Invoke(new TrainingStep(Report.GradientNorms.Count - 1, _epochIndex, loss, norm, norm, double.NaN, lr, omega, Skipped: true));
            if (++_consecutiveNonFinite >= Options.MaxConsecutiveNonFiniteSteps)
                throw new TrainingDivergedException(string.Format(CultureInfo.InvariantCulture,
                    "Training diverged at epoch {0}, step {1}: loss is {2:G4}; gradient norm before clipping was {3:G4}; {4} in a row were non-finite and skipped. {5}",
                    _epochIndex, Report.StepsTaken + Report.SkippedSteps, loss, norm, Counted.Of(_consecutiveNonFinite, "step"), Advice()));
            return;
        }
        _consecutiveNonFinite = 0;

        double threshold = Options.GradientClipping switch
        {
            GradientClippingMode.None => double.PositiveInfinity,
            GradientClippingMode.AutoClip => _autoClip!.Next(norm),
            _ => Options.GradientClippingThreshold,
        };
        var (before, after) = GradientClipping.Apply(p, Options.GradientClipping, (float)threshold, norm);
        _optimizer.Step(p.Values, p.Gradients, lr);
        if (_average.Length > 0) Average(p.Values);
        Report.StepsTaken++;
        Report.GradientNorms.Add(before, after, loss);
        StepCompleted?.Invoke(new TrainingStep(Report.GradientNorms.Count - 1, _epochIndex, loss, before, after, threshold, lr, omega, Skipped: false));

        _epoch.LossSum += loss * weight;
        _epoch.LossWeight += weight;
        _epoch.NormSum += before;
        if (before > _epoch.NormMax) _epoch.NormMax = before;
        if (after != before) _epoch.Clipped++;
        _epoch.OmegaSum += omega;
        var signal = Report.BackwardSignalSlot(_epochIndex);
        ReadOnlySpan<float> norms = Ws.HiddenGradientNorms.AsSpan(0, T);
        for (int t = 0; t < T; t++) signal[signal.Length - T + t] += norms[t];
        _epoch.SignalSteps++;
    }

    /// <summary>Moves the weights' average towards <paramref name="weights"/>, by more over the first steps (the
    /// warm-up of <see cref="TrainingOptions.WeightAveraging"/>).</summary>
    private void Average(ReadOnlySpan<float> weights)
    {
        _averagedSteps++;
        float d = Math.Min(Options.WeightAveraging!.Value, (1f + _averagedSteps) / (10f + _averagedSteps));
        System.Numerics.Tensors.TensorPrimitives.Lerp(weights, _average, d, _average);
    }

    /// <summary>Data with I inputs and O targets per step must fit the network; the message names both.</summary>
    protected static void CheckSizes(RecurrentNetwork net, int inputSize, int outputSize, string name)
    {
        if (inputSize != net.Spec.InputSize)
            throw new ArgumentException($"{name} has {inputSize} input features per step; the network expects InputSize = {net.Spec.InputSize}.", name);
        if (outputSize != net.Spec.OutputSize)
            throw new ArgumentException($"{name} has {outputSize} targets per step; the network expects OutputSize = {net.Spec.OutputSize}.", name);
    }

    private string Advice() => string.Format(CultureInfo.InvariantCulture,
        "Set GradientClipping (now {0}, threshold {1}) or lower the learning rate (now {2}).",
        Options.GradientClipping, Options.GradientClippingThreshold, Options.Optimizer.LearningRate);

    private struct EpochAccumulator
    {
        public int Steps, Skipped, Clipped, SignalSteps;
        public double LossSum, LossWeight, NormSum, NormMax, OmegaSum;
    }
}

/// <summary>Windowed regime: independent windows, shuffled into mini-batches.</summary>
internal sealed class WindowedSession : TrainingSession
{
    private readonly WindowSource _train;
    private readonly WindowSource? _validation;
    private readonly int[] _order;             // (N) permutation of the training windows
    private readonly int[] _range;             // (B) consecutive validation rows of one batch
    private readonly Random _shuffleRng;
    private readonly int _T, _P, _B;
    private readonly int _samples;             // windows per epoch
    private int _cursor;                       // next position in _order; the order is reshuffled when it is used up

    private static int StepsPerEpoch(TrainingOptions o, int count)
    {
        int samples = Math.Min(o.SamplesPerEpoch ?? count, count), B = Math.Min(o.BatchSize, count);
        return (samples + B - 1) / B;
    }

    public WindowedSession(RecurrentNetwork net, TrainingOptions o, WindowSource train, WindowSource? validation)
        : base(net, o, CreateWorkspace(net, o, train, validation), StepsPerEpoch(o, train.Count), validation is not null)
    {
        _train = train; _validation = validation;
        _T = train.Steps; _P = train.TargetSteps; _B = Math.Min(o.BatchSize, train.Count);
        _samples = Math.Min(o.SamplesPerEpoch ?? train.Count, train.Count);
        _order = new int[train.Count];
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        _range = new int[Ws.MaxBatch];
        _shuffleRng = new Random(o.Seed);
    }

    private static Workspace CreateWorkspace(RecurrentNetwork net, TrainingOptions o, WindowSource train, WindowSource? validation)
    {
        CheckShapes(net, train, nameof(train));
        if (validation is not null)
        {
            CheckShapes(net, validation, nameof(validation));
            if (validation.Steps != train.Steps || validation.TargetSteps != train.TargetSteps)
                throw new ArgumentException($"validation windows must have the training windows' shape (T={train.Steps}, P={train.TargetSteps}); got T={validation.Steps}, P={validation.TargetSteps}.", nameof(validation));
        }
        if (o.TruncationLength > train.Steps)
            throw new ArgumentOutOfRangeException(nameof(o.TruncationLength), o.TruncationLength,
                $"TruncationLength must be between 1 and the window length ({train.Steps}); got {o.TruncationLength}.");
        int B = Math.Min(o.BatchSize, Math.Max(train.Count, validation?.Count ?? 0));
        return net.CreateWorkspace(train.Steps, B, train.TargetSteps, o.VanishingRegularizerWeight > 0f);
    }

    private static void CheckShapes(RecurrentNetwork net, WindowSource d, string name) => CheckSizes(net, d.InputSize, d.OutputSize, name);

    protected override void RunEpochSteps(float lr, CancellationToken ct)
    {
        // Every window once per epoch, or (SamplesPerEpoch) the next windows of one shuffled pass over all of them.
        for (int drawn = 0; drawn < _samples && !StepBudgetUsed; )
        {
            if (_cursor == 0 && Options.Shuffle)
                for (int i = _order.Length - 1; i > 0; i--)
                {
                    int j = _shuffleRng.Next(i + 1);
                    (_order[i], _order[j]) = (_order[j], _order[i]);
                }
            int B = Math.Min(Math.Min(_B, _samples - drawn), _order.Length - _cursor);
            Gather(_train, _order.AsSpan(_cursor, B), B);
            Step(_T, B, _P, Options.TruncationLength, lr, B, ct);
            drawn += B;
            _cursor += B;
            if (_cursor == _order.Length) _cursor = 0;
        }
    }

    protected override double ValidationLoss()
    {
        var v = _validation!;
        double sum = 0;
        for (int start = 0; start < v.Count; start += Ws.MaxBatch)
        {
            int B = Math.Min(Ws.MaxBatch, v.Count - start);
            for (int b = 0; b < B; b++) _range[b] = start + b;
            Gather(v, _range.AsSpan(0, B), B);
            Net.Forward(Ws, _T, B, _P);
            sum += Net.Loss(Ws, B, _P, Options.Loss, Options.HuberDelta, Quantiles) * B;
        }
        return sum / v.Count;
    }

    /// <summary>Has the source write the windows <paramref name="rows"/> into the time-major workspace and zeroes the state.</summary>
    private void Gather(WindowSource d, ReadOnlySpan<int> rows, int B)
    {
        d.Gather(rows, Ws.Input.AsSpan(0, d.Steps * B * d.InputSize), Ws.Targets.AsSpan(0, d.TargetSteps * B * d.OutputSize));
        Ws.ResetState(B);
    }
}

/// <summary>Streaming regime: TBPTT(k1, k2) over B parallel streams with the state carried across updates.</summary>
internal sealed class StreamingSession : TrainingSession
{
    private readonly Streams _train;
    private readonly Streams? _validation;
    private readonly Workspace? _validationWs;
    private readonly int _k1, _k2;

    public StreamingSession(RecurrentNetwork net, TrainingOptions o, StreamingDataset train, StreamingOptions s, StreamingDataset? validation)
        : this(net, o, Prepare(net, o, train, s), s, validation)
    {
    }

    private StreamingSession(RecurrentNetwork net, TrainingOptions o, Streams train, StreamingOptions s, StreamingDataset? validation)
        : base(net, o, net.CreateWorkspace(s.TruncationLength, train.B, s.TruncationInterval, o.VanishingRegularizerWeight > 0f),
            (train.S + s.TruncationInterval - 1) / s.TruncationInterval, validation is not null)
    {
        _train = train; _k1 = s.TruncationInterval; _k2 = s.TruncationLength;
        if (validation is not null)
        {
            CheckShapes(net, validation, nameof(validation));
            _validation = Streams.Cut(validation, validation.Inputs.Count, nameof(validation));
            _validationWs = net.CreateWorkspace(Math.Min(_k2, _validation.S), _validation.B, Math.Min(_k2, _validation.S));
        }
    }

    private static Streams Prepare(RecurrentNetwork net, TrainingOptions o, StreamingDataset train, StreamingOptions s)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(s);
        s.Validate();
        if (net.Spec.IsDilated)
            throw new NotSupportedException(
                "Stateful streaming carries one state per layer from update to update; a dilated layer (RecurrentNetworkSpec.Dilations above 1) would need its last D. " +
                "Train a dilated network in the windowed regime (Fit).");
        CheckShapes(net, train, nameof(train));
        var streams = Streams.Cut(train, s.Streams, nameof(train));
        if (s.TruncationLength > streams.S)
            throw new ArgumentOutOfRangeException(nameof(s.TruncationLength), s.TruncationLength,
                $"TruncationLength (k2) must not exceed the stream length: {s.Streams} streams cut from these series are {streams.S} steps long; got k2 = {s.TruncationLength}.");
        return streams;
    }

    private static void CheckShapes(RecurrentNetwork net, StreamingDataset d, string name) => CheckSizes(net, d.InputSize, d.OutputSize, name);

    protected override void RunEpochSteps(float lr, CancellationToken ct)
    {
        int B = _train.B, S = _train.S, I = Net.Spec.InputSize, O = Net.Spec.OutputSize;
        Ws.ResetState(B);
        int prevEnd = 0;
        while (prevEnd < S)
        {
            int end = Math.Min(prevEnd + _k1, S);
            int start = Math.Max(0, end - _k2);
            int T = end - start, P = end - prevEnd;
            // Time-major streams make a window one contiguous copy.
            _train.X.AsSpan(start * B * I, T * B * I).CopyTo(Ws.Input);
            _train.Y.AsSpan(prevEnd * B * O, P * B * O).CopyTo(Ws.Targets);
            Step(T, B, P, null, lr, B, ct);

            // The next window starts k2 steps before its end; its state lies inside this window (k2 ≥ k1).
            int nextEnd = Math.Min(end + _k1, S);
            int nextStart = Math.Max(0, nextEnd - _k2);
            if (nextStart == 0) Ws.ResetState(B);
            else Net.CarryState(Ws, nextStart - start, B);
            prevEnd = end;
        }
    }

    protected override double ValidationLoss()
    {
        var v = _validation!;
        var ws = _validationWs!;
        int B = v.B, S = v.S, I = Net.Spec.InputSize, O = Net.Spec.OutputSize, chunk = ws.MaxSteps;
        ws.ResetState(B);
        double sum = 0;
        for (int start = 0; start < S; start += chunk)
        {
            int T = Math.Min(chunk, S - start);
            v.X.AsSpan(start * B * I, T * B * I).CopyTo(ws.Input);
            v.Y.AsSpan(start * B * O, T * B * O).CopyTo(ws.Targets);
            Net.Forward(ws, T, B, T);
            sum += Net.Loss(ws, B, T, Options.Loss, Options.HuberDelta, Quantiles) * T;
            Net.CarryState(ws, T, B);
        }
        return sum / S;
    }

    /// <summary>B streams of S steps, time-major: X (S, B, I), Y (S, B, O).</summary>
    private sealed class Streams
    {
        public required float[] X, Y;
        public required int S, B;

        /// <summary>Cuts the series into B segments of equal length S, each inside one series: series in
        /// order, each cut into ⌊length/S⌋ segments, the first B kept. Remainders shorter than S are dropped.</summary>
        public static Streams Cut(StreamingDataset d, int B, string name)
        {
            int S = d.StreamLength(B);
            if (S < 1)
                throw new ArgumentException($"{name}: {d.Lengths.Sum()} steps in {d.Lengths.Count} series cannot be cut into {B} streams; use fewer streams.", name);
            int I = d.InputSize, O = d.OutputSize;
            var x = new float[S * B * I];
            var y = new float[S * B * O];
            int b = 0;
            for (int s = 0; s < d.Lengths.Count && b < B; s++)
                for (int seg = 0; seg < d.Lengths[s] / S && b < B; seg++, b++)
                    for (int t = 0; t < S; t++)
                    {
                        int src = seg * S + t;
                        d.Inputs[s].AsSpan(src * I, I).CopyTo(x.AsSpan((t * B + b) * I, I));
                        d.Targets[s].AsSpan(src * O, O).CopyTo(y.AsSpan((t * B + b) * O, O));
                    }
            return new Streams { X = x, Y = y, S = S, B = B };
        }
    }
}

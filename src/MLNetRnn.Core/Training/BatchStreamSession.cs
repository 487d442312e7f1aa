using MLNetRnn.Core.Data;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Training;

// B = batch rows, T = steps, I = inputs, P = target steps, O = outputs.

/// <summary>Fresh data every step (<see cref="RecurrentTrainer.FitBatches"/>): one mini-batch per element of a
/// generator, <c>stepsPerEpoch</c> steps per epoch. The workspace is sized from the first batch.</summary>
internal sealed class BatchStreamSession : TrainingSession
{
    private readonly IEnumerator<SequenceDataset> _source;
    private readonly SequenceDataset? _validation;
    private readonly int _stepsPerEpoch, _T, _P, _I, _O, _maxBatch;
    private SequenceDataset? _next;   // the next batch once fetched; fetched only when needed, after the last one was copied
    private bool _ended;              // the source has no more batches
    private int _index;               // 0-based index of _next in the sequence, for error messages

    public BatchStreamSession(RecurrentNetwork net, TrainingOptions o, IEnumerator<SequenceDataset> source, int stepsPerEpoch, SequenceDataset? validation)
        : this(net, o, source, First(net, source), stepsPerEpoch, validation)
    {
    }

    private BatchStreamSession(RecurrentNetwork net, TrainingOptions o, IEnumerator<SequenceDataset> source, SequenceDataset first, int stepsPerEpoch, SequenceDataset? validation)
        : base(net, o, CreateWorkspace(net, o, first, validation), stepsPerEpoch, validation is not null)
    {
        _source = source; _validation = validation; _stepsPerEpoch = stepsPerEpoch; _next = first;
        _T = first.Steps; _P = first.TargetSteps; _I = first.InputSize; _O = first.OutputSize; _maxBatch = first.Count;
    }

    // Asked after each epoch (after progress was reported): a generator that decides to stop there, say because a
    // study's task is solved, ends the run cleanly.
    protected override bool Exhausted => Peek() is null;

    private SequenceDataset? Peek()
    {
        if (_next is null && !_ended)
        {
            if (_source.MoveNext()) _next = _source.Current ?? throw new ArgumentException($"batches[{_index}] is null.", "batches");
            else _ended = true;
        }
        return _next;
    }

    private static SequenceDataset First(RecurrentNetwork net, IEnumerator<SequenceDataset> source)
    {
        if (!source.MoveNext() || source.Current is null)
            throw new ArgumentException("batches yielded no mini-batch; a generator must yield at least one dataset.", "batches");
        CheckSizes(net, source.Current.InputSize, source.Current.OutputSize, "batches[0]");
        return source.Current;
    }

    private static Workspace CreateWorkspace(RecurrentNetwork net, TrainingOptions o, SequenceDataset first, SequenceDataset? validation)
    {
        if (validation is not null)
        {
            CheckSizes(net, validation.InputSize, validation.OutputSize, nameof(validation));
            if (validation.Steps != first.Steps || validation.TargetSteps != first.TargetSteps)
                throw new ArgumentException($"validation windows must have the batches' shape (T={first.Steps}, P={first.TargetSteps}); got T={validation.Steps}, P={validation.TargetSteps}.", nameof(validation));
        }
        if (o.TruncationLength > first.Steps)
            throw new ArgumentOutOfRangeException(nameof(o.TruncationLength), o.TruncationLength,
                $"TruncationLength must be between 1 and the window length ({first.Steps}); got {o.TruncationLength}.");
        return net.CreateWorkspace(first.Steps, Math.Max(first.Count, Math.Min(validation?.Count ?? 0, 256)), first.TargetSteps, o.VanishingRegularizerWeight > 0f);
    }

    protected override void RunEpochSteps(float lr, CancellationToken ct)
    {
        for (int s = 0; s < _stepsPerEpoch && Peek() is { } batch; s++)
        {
            if (batch.Steps != _T || batch.TargetSteps != _P || batch.InputSize != _I || batch.OutputSize != _O || batch.Count > _maxBatch)
                throw new ArgumentException(
                    $"batches[{_index}] has T={batch.Steps}, P={batch.TargetSteps}, I={batch.InputSize}, O={batch.OutputSize}, B={batch.Count}; " +
                    $"every batch needs the first batch's T={_T}, P={_P}, I={_I}, O={_O} and at most its B={_maxBatch} rows.", "batches");
            int B = batch.Count;
            Batching.ToTimeMajor(batch.Inputs, Ws.Input, B, _T, _I);
            Batching.ToTimeMajor(batch.Targets, Ws.Targets, B, _P, _O);
            Ws.ResetState(B);
            // The batch is in the workspace: the generator may now reuse its arrays.
            _next = null;
            _index++;
            Step(_T, B, _P, Options.TruncationLength, lr, B, ct);
        }
    }

    protected override double ValidationLoss()
    {
        var v = _validation!;
        double sum = 0;
        for (int start = 0; start < v.Count; start += Ws.MaxBatch)
        {
            int B = Math.Min(Ws.MaxBatch, v.Count - start);
            Batching.ToTimeMajor(v.Inputs.AsSpan(start * _T * _I, B * _T * _I), Ws.Input, B, _T, _I);
            Batching.ToTimeMajor(v.Targets.AsSpan(start * _P * _O, B * _P * _O), Ws.Targets, B, _P, _O);
            Ws.ResetState(B);
            Net.Forward(Ws, _T, B, _P);
            sum += Net.Loss(Ws, B, _P, Options.Loss, Options.HuberDelta) * B;
        }
        return sum / v.Count;
    }
}

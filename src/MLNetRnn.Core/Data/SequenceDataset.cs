using MLNetRnn.Core.Losses;

namespace MLNetRnn.Core.Data;

// N = examples, T = steps per window, I = input features, P = target steps, O = outputs.

/// <summary>
/// Windows for the windowed training regime: N examples, each a sequence of T steps of I features, with
/// targets for the last P steps (P = 1, T, or a horizon, per <see cref="LossPlacement"/>). Batch-first,
/// as a user holds them; the trainer copies batches into its time-major workspace.
/// </summary>
public sealed class SequenceDataset
{
    /// <summary>Wraps (without copying) inputs and targets after checking shapes and values.</summary>
    /// <param name="inputs">(N, T, I) row-major.</param>
    /// <param name="targets">(N, P, O) row-major.</param>
    /// <param name="count">N, at least 1.</param>
    /// <param name="steps">T, at least 1.</param>
    /// <param name="inputSize">I, at least 1.</param>
    /// <param name="outputSize">O, at least 1.</param>
    /// <param name="placement">Which steps the targets belong to.</param>
    /// <param name="lossSteps">P for <see cref="LossPlacement.LastSteps"/>, in [1, T]; ignored otherwise.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or lossSteps is outside [1, T].</exception>
    /// <exception cref="ArgumentException">An array has the wrong length or holds NaN or ∞ (the message gives the index).</exception>
    public SequenceDataset(float[] inputs, float[] targets, int count, int steps, int inputSize, int outputSize,
        LossPlacement placement = LossPlacement.LastStep, int lossSteps = 1)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "count (number of sequences) must be at least 1.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps (sequence length) must be at least 1; an empty sequence cannot be trained on.");
        if (inputSize < 1) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "inputSize must be at least 1.");
        if (outputSize < 1) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "outputSize must be at least 1.");
        if (!Enum.IsDefined(placement)) throw new ArgumentOutOfRangeException(nameof(placement), placement, "Unknown loss placement.");
        int P = placement switch
        {
            LossPlacement.LastStep => 1,
            LossPlacement.AllSteps => steps,
            _ => lossSteps >= 1 && lossSteps <= steps ? lossSteps
                : throw new ArgumentOutOfRangeException(nameof(lossSteps), lossSteps, $"lossSteps must be between 1 and steps ({steps})."),
        };
        if (inputs.Length != (long)count * steps * inputSize)
            throw new ArgumentException($"inputs must hold count·steps·inputSize = {count}·{steps}·{inputSize} = {(long)count * steps * inputSize} values; got {inputs.Length}.", nameof(inputs));
        if (targets.Length != (long)count * P * outputSize)
            throw new ArgumentException($"targets must hold count·{P}·outputSize = {(long)count * P * outputSize} values for placement {placement}; got {targets.Length}.", nameof(targets));
        CheckFinite(inputs, nameof(inputs), steps * inputSize);
        CheckFinite(targets, nameof(targets), P * outputSize);
        Inputs = inputs; Targets = targets;
        Count = count; Steps = steps; InputSize = inputSize; OutputSize = outputSize; Placement = placement; TargetSteps = P;
    }

    /// <summary>(N, T, I).</summary>
    public float[] Inputs { get; }

    /// <summary>(N, P, O).</summary>
    public float[] Targets { get; }

    /// <summary>N.</summary>
    public int Count { get; }

    /// <summary>T.</summary>
    public int Steps { get; }

    /// <summary>I.</summary>
    public int InputSize { get; }

    /// <summary>O.</summary>
    public int OutputSize { get; }

    /// <summary>Which steps carry targets.</summary>
    public LossPlacement Placement { get; }

    /// <summary>P: targets per example, for the last P steps.</summary>
    public int TargetSteps { get; }

    /// <summary>Examples [start, start + count) as a new dataset (copies).</summary>
    public SequenceDataset Slice(int start, int count)
    {
        if (start < 0 || count < 1 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Slice [{start}, {start + count}) is outside [0, {Count}).");
        int xi = Steps * InputSize, yi = TargetSteps * OutputSize;
        return new SequenceDataset(Inputs.AsSpan(start * xi, count * xi).ToArray(), Targets.AsSpan(start * yi, count * yi).ToArray(),
            count, Steps, InputSize, OutputSize, Placement, TargetSteps);
    }

    internal static void CheckFinite(float[] a, string name, int rowLength)
    {
        for (int k = 0; k < a.Length; k++)
            if (!float.IsFinite(a[k]))
                throw new ArgumentException($"{name} must be finite; element {k} (sequence {k / rowLength}) is {a[k]}.", name);
    }
}

/// <summary>
/// Long series for the stateful streaming regime: each series is a sequence of steps with I input features
/// and O targets per step (typically the next value). The trainer cuts them into B parallel streams.
/// </summary>
public sealed class StreamingDataset
{
    /// <summary>Wraps the series after checking shapes and values.</summary>
    /// <param name="inputs">One array per series, (length, I) row-major.</param>
    /// <param name="targets">One array per series, (length, O) row-major, same lengths as the inputs.</param>
    /// <param name="inputSize">I, at least 1.</param>
    /// <param name="outputSize">O, at least 1.</param>
    /// <exception cref="ArgumentException">No series, mismatched lengths, an empty series, or NaN/∞.</exception>
    public StreamingDataset(IReadOnlyList<float[]> inputs, IReadOnlyList<float[]> targets, int inputSize, int outputSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputSize < 1) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "inputSize must be at least 1.");
        if (outputSize < 1) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "outputSize must be at least 1.");
        if (inputs.Count == 0) throw new ArgumentException("At least one series is needed.", nameof(inputs));
        if (inputs.Count != targets.Count)
            throw new ArgumentException($"inputs has {inputs.Count} series but targets has {targets.Count}.", nameof(targets));
        var lengths = new int[inputs.Count];
        for (int s = 0; s < inputs.Count; s++)
        {
            var x = inputs[s] ?? throw new ArgumentNullException(nameof(inputs), $"Series {s} is null.");
            var y = targets[s] ?? throw new ArgumentNullException(nameof(targets), $"Series {s} is null.");
            if (x.Length == 0 || x.Length % inputSize != 0)
                throw new ArgumentException($"Series {s}: inputs must hold length·inputSize values with length ≥ 1; got {x.Length} values for inputSize {inputSize}.", nameof(inputs));
            int len = x.Length / inputSize;
            if (y.Length != len * outputSize)
                throw new ArgumentException($"Series {s}: targets must hold length·outputSize = {len}·{outputSize} values; got {y.Length}.", nameof(targets));
            SequenceDataset.CheckFinite(x, $"{nameof(inputs)}[{s}]", inputSize);
            SequenceDataset.CheckFinite(y, $"{nameof(targets)}[{s}]", outputSize);
            lengths[s] = len;
        }
        Inputs = inputs; Targets = targets; InputSize = inputSize; OutputSize = outputSize; Lengths = lengths;
    }

    /// <summary>Per series, (length, I).</summary>
    public IReadOnlyList<float[]> Inputs { get; }

    /// <summary>Per series, (length, O).</summary>
    public IReadOnlyList<float[]> Targets { get; }

    /// <summary>I.</summary>
    public int InputSize { get; }

    /// <summary>O.</summary>
    public int OutputSize { get; }

    /// <summary>Steps of each series.</summary>
    public IReadOnlyList<int> Lengths { get; }

    /// <summary>
    /// The longest stream length S such that the series can be cut into at least <paramref name="streams"/>
    /// contiguous, non-overlapping segments of S steps, each inside one series (so no stream crosses from
    /// one series into the next). 0 if even S = 1 does not give enough segments.
    /// </summary>
    public int StreamLength(int streams)
    {
        int lo = 0, hi = Lengths.Max();
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            long segments = 0;
            foreach (int n in Lengths) segments += n / mid;
            if (segments >= streams) lo = mid; else hi = mid - 1;
        }
        return lo;
    }
}

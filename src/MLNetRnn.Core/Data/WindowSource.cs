namespace MLNetRnn.Core.Data;

// N = windows, T = steps per window, I = input features, P = target steps, O = outputs, B = batch.

/// <summary>
/// Windows for the windowed training regime, handed to the trainer one mini-batch at a time: the trainer asks for
/// the windows of a batch by index and the source writes them straight into the time-major workspace. A
/// <see cref="SequenceDataset"/> is one (its windows held in memory); a source may also build each window when it
/// is asked for, so that memory grows with the batch rather than with the number of windows.
/// </summary>
internal abstract class WindowSource
{
    /// <summary>N.</summary>
    public abstract int Count { get; }

    /// <summary>T.</summary>
    public abstract int Steps { get; }

    /// <summary>I.</summary>
    public abstract int InputSize { get; }

    /// <summary>P.</summary>
    public abstract int TargetSteps { get; }

    /// <summary>O.</summary>
    public abstract int OutputSize { get; }

    /// <summary>Writes windows <paramref name="rows"/> (B of them) into <paramref name="input"/> (T, B, I) and their
    /// targets into <paramref name="targets"/> (P, B, O), both time-major. No allocation.</summary>
    public abstract void Gather(ReadOnlySpan<int> rows, Span<float> input, Span<float> targets);
}

/// <summary>The windows of a <see cref="SequenceDataset"/>, copied batch by batch.</summary>
internal sealed class DatasetWindows(SequenceDataset data) : WindowSource
{
    public override int Count => data.Count;

    public override int Steps => data.Steps;

    public override int InputSize => data.InputSize;

    public override int TargetSteps => data.TargetSteps;

    public override int OutputSize => data.OutputSize;

    public override void Gather(ReadOnlySpan<int> rows, Span<float> input, Span<float> targets)
    {
        int T = data.Steps, I = data.InputSize, P = data.TargetSteps, O = data.OutputSize, B = rows.Length;
        for (int b = 0; b < B; b++)
        {
            int n = rows[b];
            for (int t = 0; t < T; t++) data.Inputs.AsSpan((n * T + t) * I, I).CopyTo(input.Slice((t * B + b) * I, I));
            for (int q = 0; q < P; q++) data.Targets.AsSpan((n * P + q) * O, O).CopyTo(targets.Slice((q * B + b) * O, O));
        }
    }
}

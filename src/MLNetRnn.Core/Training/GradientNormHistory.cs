namespace MLNetRnn.Core.Training;

/// <summary>
/// The gradient-norm curve of a training run: for every optimiser step, the global norm ‖g‖ of the
/// mini-batch gradient before and after clipping, and the loss. Pascanu et al. (2013) choose the clipping
/// threshold from this curve: the highest value that still cuts the spikes. Preallocated for the whole
/// run, so recording allocates nothing.
/// </summary>
public sealed class GradientNormHistory
{
    private readonly float[] _before, _after, _loss;

    internal GradientNormHistory(int capacity)
    {
        _before = new float[capacity];
        _after = new float[capacity];
        _loss = new float[capacity];
    }

    /// <summary>Steps recorded (skipped non-finite steps included, with their non-finite values).</summary>
    public int Count { get; private set; }

    /// <summary>‖g‖ before clipping, per step.</summary>
    public ReadOnlySpan<float> Before => _before.AsSpan(0, Count);

    /// <summary>‖g‖ after clipping, per step (equal to <see cref="Before"/> without clipping).</summary>
    public ReadOnlySpan<float> After => _after.AsSpan(0, Count);

    /// <summary>Training loss of the step's mini-batch (without the regulariser), per step.</summary>
    public ReadOnlySpan<float> Loss => _loss.AsSpan(0, Count);

    internal void Add(double before, double after, double loss)
    {
        if (Count == _before.Length) return; // sized for the run; a longer run keeps the first steps
        _before[Count] = (float)before; _after[Count] = (float)after; _loss[Count] = (float)loss;
        Count++;
    }

    /// <summary>The <paramref name="q"/>-quantile (0..1) of the finite norms before clipping, or NaN
    /// if there are none. E.g. Quantile(0.9) is a reasonable first clipping threshold. Allocates a copy.</summary>
    public double Quantile(double q)
    {
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "q must be in [0, 1].");
        var finite = Before.ToArray().Where(float.IsFinite).Select(x => (double)x).ToArray();
        if (finite.Length == 0) return double.NaN;
        return MathNet.Numerics.Statistics.Statistics.Quantile(finite, q);
    }
}

using System.Runtime.CompilerServices;
using MLNetRnn.Core.Memory;

namespace MLNetRnn.Core.Training;

/// <summary>How the mini-batch gradient is bounded before the optimiser step.</summary>
public enum GradientClippingMode
{
    /// <summary>No clipping.</summary>
    None,

    /// <summary>Pascanu et al. (2013): if ‖g‖ &gt; τ over all parameters, g ← τ·g/‖g‖. Keeps the direction,
    /// bounds the step length (PyTorch's clip_grad_norm_).</summary>
    GlobalNorm,

    /// <summary>Each partial derivative clamped to [−τ, τ] (Keras clipvalue). Changes the direction.</summary>
    Value,

    /// <summary>Each named tensor (weight_hh_l0, head.weight, …) rescaled to norm ≤ τ on its own (Keras clipnorm).</summary>
    PerParameterNorm,

    /// <summary>AutoClip (Seetharaman et al. 2020): global-norm clipping whose threshold at each step is the
    /// p-th percentile (<see cref="TrainingOptions.AutoClipPercentile"/>) of every finite ‖g‖ seen so far, this
    /// step's included. The threshold follows the run instead of being guessed; τ is not used.</summary>
    AutoClip,
}

/// <summary>Gradient clipping over a <see cref="ParameterBuffer"/>. One loop each; no allocation.</summary>
public static class GradientClipping
{
    /// <summary>‖g‖₂ over all of <paramref name="gradient"/>, accumulated in double so that large
    /// networks do not lose the small terms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Norm(ReadOnlySpan<float> gradient)
    {
        double s = 0;
        for (int k = 0; k < gradient.Length; k++) s += (double)gradient[k] * gradient[k];
        return Math.Sqrt(s);
    }

    /// <summary>
    /// Clips <see cref="ParameterBuffer.Gradients"/> in place and returns the global norm before and
    /// after. Call once per step, on the gradient summed over the mini-batch, before the optimiser.
    /// </summary>
    /// <param name="parameters">Parameters whose gradients are clipped.</param>
    /// <param name="mode">Clipping mode.</param>
    /// <param name="threshold">τ &gt; 0 (ignored for <see cref="GradientClippingMode.None"/>); for
    /// <see cref="GradientClippingMode.AutoClip"/> the step's threshold from <see cref="AutoClipThreshold.Next"/>.</param>
    public static (double NormBefore, double NormAfter) Apply(ParameterBuffer parameters, GradientClippingMode mode, float threshold)
        => Apply(parameters, mode, threshold, Norm(parameters.Gradients));

    /// <summary>As <see cref="Apply(ParameterBuffer, GradientClippingMode, float)"/>, given the norm before, which the
    /// trainer has already computed (<see cref="Norm"/> of the same gradients) to check that it is finite: each pass
    /// over the gradients costs as much as the optimiser's, so none is made twice.</summary>
    internal static (double NormBefore, double NormAfter) Apply(ParameterBuffer parameters, GradientClippingMode mode, float threshold, double before)
    {
        Span<float> g = parameters.Gradients;
        switch (mode)
        {
            case GradientClippingMode.None:
                return (before, before);
            case GradientClippingMode.GlobalNorm:
            case GradientClippingMode.AutoClip:
                if (!(before > threshold)) return (before, before);   // untouched: the norm after is the norm before
                // PyTorch adds 1e-6 to the norm; we scale to exactly τ so the property "norm after ≤ τ" is exact up to rounding.
                float scale = (float)(threshold / before);
                System.Numerics.Tensors.TensorPrimitives.Multiply(g, scale, g);
                break;
            case GradientClippingMode.Value:
                for (int k = 0; k < g.Length; k++) g[k] = Math.Clamp(g[k], -threshold, threshold);
                break;
            case GradientClippingMode.PerParameterNorm:
                foreach (var t in parameters.Tensors)
                {
                    Span<float> gt = parameters.Gradient(t);
                    double n = Norm(gt);
                    if (n > threshold) System.Numerics.Tensors.TensorPrimitives.Multiply(gt, (float)(threshold / n), gt);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown clipping mode.");
        }
        return (before, Norm(g));
    }
}

/// <summary>
/// AutoClip's memory (Seetharaman, Wichern, Pardo &amp; Le Roux 2020): every finite ‖g‖ seen so far, kept
/// sorted, so the threshold of each step, the p-th percentile of all of them, is a lookup. The buffer is
/// sized for the run up front; <see cref="Next"/> allocates nothing (an insertion moves at most Count floats).
/// </summary>
/// <remarks>
/// The percentile is numpy's default ("linear"): for n sorted norms x₀ ≤ … ≤ x_{n−1}, rank r = p/100·(n − 1),
/// threshold = x_⌊r⌋ + (r − ⌊r⌋)·(x_⌈r⌉ − x_⌊r⌋), which is what the paper's <c>np.percentile(grad_history, p)</c>
/// computes. As in the paper, the current step's norm joins the history before the percentile is taken.
/// </remarks>
public sealed class AutoClipThreshold
{
    private readonly float[] _sorted;   // (capacity) the norms seen so far, ascending; the first Count are valid
    private readonly double _percentile;

    /// <summary>Creates an empty history for at most <paramref name="capacity"/> steps.</summary>
    /// <param name="percentile">p in (0, 100].</param>
    /// <param name="capacity">Steps the run can take, at least 1; norms past it are not recorded.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is outside (0, 100] or capacity is below 1.</exception>
    public AutoClipThreshold(double percentile, int capacity)
    {
        if (!(percentile > 0 && percentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The AutoClip percentile must be in (0, 100].");
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "capacity must be at least 1.");
        _percentile = percentile;
        _sorted = new float[capacity];
    }

    /// <summary>Norms recorded.</summary>
    public int Count { get; private set; }

    /// <summary>Records <paramref name="norm"/> (stored as float, as <see cref="GradientNormHistory"/> stores it;
    /// a non-finite norm is not recorded) and returns the p-th percentile of all norms recorded so far, or
    /// +∞ (nothing to clip) while none is. No allocation.</summary>
    public double Next(double norm)
    {
        float x = (float)norm;
        if (float.IsFinite(x) && Count < _sorted.Length)
        {
            int at = _sorted.AsSpan(0, Count).BinarySearch(x);
            if (at < 0) at = ~at;
            Array.Copy(_sorted, at, _sorted, at + 1, Count - at);
            _sorted[at] = x;
            Count++;
        }
        return Count == 0 ? double.PositiveInfinity : Percentile(_sorted.AsSpan(0, Count), _percentile);
    }

    /// <summary>The p-th percentile (p in [0, 100]) of ascending <paramref name="sorted"/> values, with numpy's
    /// linear interpolation between the two nearest ranks.</summary>
    public static double Percentile(ReadOnlySpan<float> sorted, double p)
    {
        if (sorted.IsEmpty) throw new ArgumentException("No values.", nameof(sorted));
        double rank = p / 100.0 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (rank - lo) * ((double)sorted[hi] - sorted[lo]);
    }
}

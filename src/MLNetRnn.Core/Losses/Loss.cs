namespace MLNetRnn.Core.Losses;

/// <summary>The training loss, averaged over every output element it covers (PyTorch's mean reduction).</summary>
public enum LossKind
{
    /// <summary>mean (y − t)².</summary>
    MeanSquaredError,

    /// <summary>mean |y − t|; the gradient at y = t is taken as 0.</summary>
    MeanAbsoluteError,

    /// <summary>mean of ½d² for |d| ≤ δ, δ(|d| − ½δ) otherwise, d = y − t (PyTorch's huber_loss).</summary>
    Huber,

    /// <summary>Pinball (quantile) loss: mean of max(τ·(t − y), (τ − 1)·(t − y)) with τ the quantile level of the
    /// output (the levels cycle over the outputs, innermost: output o has level τ[o mod Q]). Its minimiser is the
    /// τ-quantile of the target, so Q outputs per value learn Q quantiles of its distribution (Koenker &amp; Bassett
    /// 1978). The gradient at y = t is taken as 0, as for the absolute error (τ = ½ gives half of it).</summary>
    Pinball,
}

/// <summary>Which steps of a window the loss is taken at.</summary>
public enum LossPlacement
{
    /// <summary>The last step only (many-to-one), e.g. the adding problem. Targets: (N, 1, O).</summary>
    LastStep,

    /// <summary>Every step (many-to-many). Targets: (N, T, O).</summary>
    AllSteps,

    /// <summary>The last <c>LossSteps</c> steps (multi-horizon). Targets: (N, LossSteps, O).</summary>
    LastSteps,
}

/// <summary>Loss values and gradients over flat (P·B·O) outputs.</summary>
internal static class Loss
{
    /// <summary>Mean loss over <paramref name="y"/>; writes (=) dL/dy into <paramref name="dy"/> when it is not empty.</summary>
    public static double Compute(LossKind kind, float huberDelta, ReadOnlySpan<float> y, ReadOnlySpan<float> target, Span<float> dy)
        => Compute(kind, huberDelta, ReadOnlySpan<float>.Empty, y, target, dy);

    /// <summary>
    /// Mean loss over <paramref name="y"/>; writes (=) dL/dy into <paramref name="dy"/> when it is not empty.
    /// <paramref name="quantiles"/> (Q) are the levels of <see cref="LossKind.Pinball"/>: element e has level
    /// τ[e mod Q], so with outputs laid out (…, Q) innermost every value's Q outputs are its Q quantiles.
    /// </summary>
    public static double Compute(LossKind kind, float huberDelta, ReadOnlySpan<float> quantiles, ReadOnlySpan<float> y, ReadOnlySpan<float> target, Span<float> dy)
    {
        int n = y.Length;
        double sum = 0;
        float inv = 1f / n;
        bool grad = !dy.IsEmpty;
        switch (kind)
        {
            case LossKind.MeanSquaredError:
                for (int k = 0; k < n; k++)
                {
                    float d = y[k] - target[k];
                    sum += (double)d * d;
                    if (grad) dy[k] = 2f * d * inv;
                }
                break;
            case LossKind.MeanAbsoluteError:
                for (int k = 0; k < n; k++)
                {
                    float d = y[k] - target[k];
                    sum += Math.Abs(d);
                    if (grad) dy[k] = d > 0 ? inv : d < 0 ? -inv : 0f;
                }
                break;
            case LossKind.Huber:
                for (int k = 0; k < n; k++)
                {
                    float d = y[k] - target[k], a = MathF.Abs(d);
                    if (a <= huberDelta)
                    {
                        sum += 0.5 * d * d;
                        if (grad) dy[k] = d * inv;
                    }
                    else
                    {
                        sum += huberDelta * (a - 0.5 * huberDelta);
                        if (grad) dy[k] = (d > 0 ? huberDelta : -huberDelta) * inv;
                    }
                }
                break;
            case LossKind.Pinball:
            {
                int Q = quantiles.Length;
                if (Q == 0) throw new ArgumentException("The pinball loss needs at least one quantile level.", nameof(quantiles));
                for (int k = 0, q = 0; k < n; k++, q = q + 1 == Q ? 0 : q + 1)
                {
                    // d = t − y: under-forecasting (d > 0) costs τ·d, over-forecasting (1 − τ)·(−d).
                    float d = target[k] - y[k], tau = quantiles[q];
                    sum += d > 0 ? tau * d : (tau - 1f) * d;
                    if (grad) dy[k] = d > 0 ? -tau * inv : d < 0 ? (1f - tau) * inv : 0f;
                }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss.");
        }
        return sum / n;
    }
}

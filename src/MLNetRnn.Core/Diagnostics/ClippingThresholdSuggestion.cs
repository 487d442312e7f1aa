using System.Globalization;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Diagnostics;

/// <summary>
/// A clipping threshold read off a short warm-up without clipping, the way Pascanu, Mikolov &amp; Bengio (2013, §3.2)
/// say to choose it: "look at statistics on the average norm over a sufficiently large number of updates … values from
/// half to ten times this average can still yield convergence".
/// </summary>
/// <remarks>
/// <para><b>The rule.</b> τ = the median of the finite ‖g‖ of the warm-up steps before the first spike. The median
/// is the paper's "average norm" made robust: a spike, which is exactly what clipping is for, moves a mean by its
/// full size and a median hardly at all. The reading stops at the first spike (a norm more than
/// <see cref="SpikeFactor"/> = 10 times the median of the norms before it, from the fourth step on) or the first
/// non-finite step, because without clipping a spike throws the weights off and every later norm describes that
/// damage, not the model (an exploding net's unclipped norms then climb geometrically). At that τ about half of the
/// calm warm-up steps would have been shortened and every spike would have been: the step length is bounded at the
/// typical gradient's size while the direction is kept. τ sits at the low end of the paper's "half to ten times"
/// band; AutoClip (Seetharaman et al. 2020) goes lower still (its 10th percentile).</para>
/// <para><b>Where it fails.</b> A net that explodes from its very first steps (say SGD at a learning rate that
/// overflows within ten steps) has no calm stretch to read: the norms before the first spike are already inflated,
/// and the suggested τ then keeps training finite without making it good. <see cref="StepsRead"/> tells how much
/// of the curve was calm; a handful means: lower the learning rate, or pick τ by hand from a clipped run's curve.</para>
/// <para>The warm-up runs on a copy of the network, from its current weights, with the given options except
/// that clipping is off, the learning rate is constant and there is no validation or early stopping; the network
/// passed in is not changed. A warm-up that diverges is not an error: the norms up to that point are used and
/// <see cref="Diverged"/> says so, which is itself a reason to clip.</para>
/// </remarks>
/// <param name="Threshold">The suggested τ for <see cref="GradientClippingMode.GlobalNorm"/>.</param>
/// <param name="WarmupNorms">‖g‖ of every warm-up step, in order (non-finite where a step was skipped).</param>
/// <param name="MedianNorm">Median of the finite warm-up norms (equal to <paramref name="Threshold"/> under this rule).</param>
/// <param name="MaxNorm">Largest finite warm-up norm: the spike the threshold cuts the most.</param>
/// <param name="NonFiniteSteps">Warm-up steps whose loss or gradient was not finite.</param>
/// <param name="Diverged">Whether the warm-up stopped early because the loss or gradient stayed non-finite.</param>
/// <param name="StepsRead">Warm-up steps the rule read: all of them, or those before the first spike (see remarks).</param>
public sealed record ClippingThresholdSuggestion(float Threshold, float[] WarmupNorms, float MedianNorm, float MaxNorm, int NonFiniteSteps, bool Diverged, int StepsRead)
{
    /// <summary>A norm above this many times the median of the norms before it is a spike that ends the reading.</summary>
    public const float SpikeFactor = 10f;

    /// <summary>Default warm-up length in optimiser steps.</summary>
    public const int DefaultWarmupSteps = 100;

    /// <summary>Share of the finite warm-up steps the suggested threshold would have clipped (about one half).</summary>
    public double WarmupClipRate => WarmupNorms.Count(float.IsFinite) is int n and > 0 ? (double)WarmupNorms.Count(v => float.IsFinite(v) && v > Threshold) / n : double.NaN;

    /// <summary>The options with <see cref="GradientClippingMode.GlobalNorm"/> at the suggested threshold.</summary>
    public TrainingOptions Apply(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { GradientClipping = GradientClippingMode.GlobalNorm, GradientClippingThreshold = Threshold };
    }

    /// <summary>One line for a log: "τ = 0.84 (median ‖g‖ of 100 warm-up steps; max 31.2; 0 non-finite)".</summary>
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "τ = {0:G3} (median ‖g‖ of {1} warm-up steps without clipping; max {2:G3}; {3} non-finite{4})",
        Threshold, WarmupNorms.Length, MaxNorm, NonFiniteSteps, Diverged ? "; the warm-up diverged" : "");

    /// <summary>
    /// Runs <paramref name="warmupSteps"/> steps without clipping on a copy of <paramref name="network"/> and suggests a
    /// threshold from the gradient-norm curve (the rule is in the remarks).
    /// </summary>
    /// <param name="network">The network to be trained; not changed.</param>
    /// <param name="train">Training windows.</param>
    /// <param name="options">The options training will use (optimiser, learning rate, batch size, loss); clipping is
    /// turned off for the warm-up. Default: <see cref="TrainingOptions"/>' defaults.</param>
    /// <param name="warmupSteps">Optimiser steps of the warm-up, at least 10. Default: 100.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupSteps"/> is below 10.</exception>
    /// <exception cref="TrainingDivergedException">No warm-up step had a finite gradient: no curve to read a threshold from.</exception>
    public static ClippingThresholdSuggestion Suggest(RecurrentNetwork network, SequenceDataset train, TrainingOptions? options = null,
        int warmupSteps = DefaultWarmupSteps, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(train);
        if (warmupSteps < 10) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warmupSteps must be at least 10 for the median to mean something.");
        options ??= new TrainingOptions();
        int stepsPerEpoch = (train.Count + Math.Min(options.BatchSize, train.Count) - 1) / Math.Min(options.BatchSize, train.Count);
        var warmup = options with
        {
            GradientClipping = GradientClippingMode.None,
            LearningRateSchedule = LearningRateSchedule.Constant,
            Epochs = (warmupSteps + stepsPerEpoch - 1) / stepsPerEpoch,
            EarlyStoppingPatience = null,
            ValidationFraction = 0f,
        };
        var norms = new List<float>(warmupSteps);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var trainer = new RecurrentTrainer(network.Clone(), warmup)
        {
            StepCompleted = step =>
            {
                norms.Add(step.Skipped ? float.NaN : (float)step.GradientNormBefore);
                if (norms.Count >= warmupSteps) stop.Cancel();
            },
        };
        bool diverged = false;
        try
        {
            trainer.Fit(train, null, null, stop.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The warm-up reached its step count.
        }
        catch (TrainingDivergedException)
        {
            diverged = true;
        }
        return FromNorms(norms.ToArray(), diverged);
    }

    /// <summary>The suggestion the rule makes from a recorded curve of ‖g‖ (non-finite entries count as skipped steps).</summary>
    /// <exception cref="TrainingDivergedException">No norm is finite.</exception>
    public static ClippingThresholdSuggestion FromNorms(float[] norms, bool diverged = false)
    {
        ArgumentNullException.ThrowIfNull(norms);
        int runaway = RunawayStep(norms);
        var finite = norms.AsSpan(0, runaway).ToArray().Where(float.IsFinite).ToArray();
        if (finite.Length == 0)
            throw new TrainingDivergedException($"No warm-up step of {norms.Length} had a finite gradient, so there is no curve to read a clipping threshold from; lower the learning rate or the recurrent gain.");
        System.Array.Sort(finite);
        float median = (float)AutoClipThreshold.Percentile(finite, 50);
        return new ClippingThresholdSuggestion(median, norms, median, finite[^1], norms.Count(v => !float.IsFinite(v)), diverged, runaway);
    }

    /// <summary>The first step whose norm is non-finite or more than <see cref="SpikeFactor"/> times the median of the
    /// norms before it (from the fourth step on), or the curve's length when there is none.</summary>
    internal static int RunawayStep(ReadOnlySpan<float> norms)
    {
        var seen = new List<float>(norms.Length);
        for (int s = 0; s < norms.Length; s++)
        {
            if (!float.IsFinite(norms[s])) return s;
            if (seen.Count >= 3)
            {
                seen.Sort();
                if (norms[s] > SpikeFactor * AutoClipThreshold.Percentile(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seen), 50)) return s;
            }
            seen.Add(norms[s]);
        }
        return norms.Length;
    }
}

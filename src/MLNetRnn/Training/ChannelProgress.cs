using System.Globalization;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Training;

/// <summary>
/// Passes the core's training progress to an ML.NET channel, and so to <c>mlContext.Log</c>, as ML.NET's own
/// trainers report theirs, and on to the caller's <see cref="IProgress{T}"/> unchanged.
/// </summary>
/// <remarks>
/// <para>
/// Every epoch becomes one <see cref="ChannelMessageKind.Trace"/> message naming the phase (the
/// <see cref="TrainingProgress.Phase"/> the core sets, e.g. "member 2 of 3") and the budget
/// that really ends the phase: with early stopping, how many epochs have passed without improvement out of the
/// patience, beside the configured maximum (a ceiling, rarely reached); without it, "epoch e of E". The end of each
/// phase becomes one <see cref="ChannelMessageKind.Info"/> message: how many epochs ran, why it stopped, and the
/// best validation loss. A phase ends with its report that carries <see cref="TrainingProgress.StoppedBy"/>: members
/// train in parallel, so phases interleave and a change of phase says nothing.
/// </para>
/// <para>
/// Reports arrive synchronously from the training loop (the core calls <see cref="Report"/> directly, not through
/// <see cref="Progress{T}"/>); a lock keeps the phase bookkeeping and the message order intact should several
/// trainings report at once, and passes reports on to the caller one at a time. Not on the hot path: one call per
/// epoch.
/// </para>
/// </remarks>
internal sealed class ChannelProgress : IProgress<TrainingProgress>
{
    private readonly IChannel _channel;
    private readonly IProgress<TrainingProgress>? _user;
    private readonly object _gate = new();
    // Per phase: best validation loss and its epoch. Members train in parallel, so phases interleave; a phase ends
    // with its report that carries StoppedBy.
    private readonly Dictionary<string, (double Loss, int Epoch)> _best = new(StringComparer.Ordinal);

    public ChannelProgress(IChannel channel, IProgress<TrainingProgress>? user)
    {
        _channel = channel ?? throw new ArgumentNullException(nameof(channel));
        _user = user;
    }

    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            var best = _best.TryGetValue(value.Phase, out var b) ? b : (double.NaN, -1);
            double validation = value.Summary.ValidationLoss;
            if (!double.IsNaN(validation) && (double.IsNaN(best.Item1) || validation < best.Item1)) best = (validation, value.Epoch);
            _best[value.Phase] = best;
            _channel.Trace(MessageSensitivity.None, DescribeEpoch(value));
            if (value.StoppedBy is TrainingStop stop) EndPhase(value, stop, best);
            // Inside the lock: members train in parallel, and a caller's IProgress (a list, a progress bar) should
            // not have to be thread-safe to see every epoch.
            _user?.Report(value);
        }
    }

    internal static string DescribeEpoch(TrainingProgress p)
    {
        var s = p.Summary;
        var text = new System.Text.StringBuilder();
        text.Append(Prefix(p.Phase)).Append("epoch ").Append(p.Epoch + 1);
        // Early stopping makes Epochs a ceiling: the patience is the budget that decides, so it goes first.
        if (p.Patience <= 0) text.Append(" of ").Append(p.Epochs);
        text.Append(": training loss ").Append(Number(s.TrainingLoss));
        if (!double.IsNaN(s.ValidationLoss)) text.Append(", validation loss ").Append(Number(s.ValidationLoss));
        if (p.Patience > 0)
            text.Append("; ").Append(p.EpochsWithoutImprovement).Append(" of ").Append(Counted.Of(p.Patience, "epoch"))
                .Append(" without improvement (at most ").Append(p.Epochs).Append(')');
        text.Append("; gradient norm mean ").Append(Number(s.MeanGradientNorm)).Append(", max ").Append(Number(s.MaxGradientNorm));
        if (s.ClippedSteps > 0) text.Append(", ").Append(s.ClippedSteps).Append(s.ClippedSteps == 1 ? " step" : " steps").Append(" clipped");
        if (s.SkippedSteps > 0) text.Append(", ").Append(s.SkippedSteps).Append(s.SkippedSteps == 1 ? " step" : " steps").Append(" skipped (non-finite)");
        if (s.Regularizer != 0) text.Append(", regulariser ").Append(Number(s.Regularizer));
        return text.ToString();
    }

    private void EndPhase(TrainingProgress p, TrainingStop stop, (double Loss, int Epoch) best)
    {
        int ran = p.Epoch + 1;
        string why = stop switch
        {
            TrainingStop.EarlyStopping => $"stopped early: no improvement in {Counted.Of(p.Patience, "epoch")}",
            TrainingStop.StepLimit => "reached the step budget",
            TrainingStop.TimeLimit => "reached the time limit",
            _ => "reached the maximum",
        };
        string message = $"{(p.Phase.Length == 0 ? "training" : p.Phase)}: {ran} {(ran == 1 ? "epoch" : "epochs")} ({why}); " +
            $"final training loss {Number(p.Summary.TrainingLoss)}";
        if (best.Epoch >= 0)
            message += $", best validation loss {Number(best.Loss)} at epoch {best.Epoch + 1}";
        _channel.Info(MessageSensitivity.None, message);
        _best.Remove(p.Phase);
    }

    private static string Prefix(string phase) => phase.Length == 0 ? "" : phase + ", ";

    private static string Number(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}

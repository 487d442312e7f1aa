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
/// <see cref="TrainingProgress.Phase"/> the core sets, e.g. "member 2 of 3" or "refit 1 of 3") and the budget
/// that really ends the phase: with early stopping, how many epochs have passed without improvement out of the
/// patience, beside the configured maximum (a ceiling, rarely reached); without it, "epoch e of E". The end of each
/// phase becomes one <see cref="ChannelMessageKind.Info"/> message: how many epochs ran, why it stopped, and the
/// best validation loss. A phase ends when a report names another phase, or at <see cref="Complete"/>.
/// </para>
/// <para>
/// Reports arrive synchronously from the training loop (the core calls <see cref="Report"/> directly, not through
/// <see cref="Progress{T}"/>); a lock keeps the phase bookkeeping and the message order intact should several
/// trainings report at once. Not on the hot path: one call per epoch.
/// </para>
/// </remarks>
internal sealed class ChannelProgress : IProgress<TrainingProgress>
{
    private readonly IChannel _channel;
    private readonly IProgress<TrainingProgress>? _user;
    private readonly object _gate = new();
    private TrainingProgress? _last;           // the latest report of the current phase
    private double _bestValidationLoss = double.NaN;
    private int _bestEpoch = -1;

    /// <param name="channel">The channel to write to, started by the component's host (<c>host.Start("Training")</c>).</param>
    /// <param name="user">The caller's progress sink, given every report after the channel; may be null.</param>
    public ChannelProgress(IChannel channel, IProgress<TrainingProgress>? user)
    {
        _channel = channel ?? throw new ArgumentNullException(nameof(channel));
        _user = user;
    }

    /// <summary>Writes the epoch to the channel (and closes the previous phase if this report starts a new one),
    /// then hands it to the caller's progress sink.</summary>
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            if (_last is not null && (_last.Phase != value.Phase || value.Epoch <= _last.Epoch))
                EndPhase();
            double validation = value.Summary.ValidationLoss;
            if (!double.IsNaN(validation) && (double.IsNaN(_bestValidationLoss) || validation < _bestValidationLoss))
            {
                _bestValidationLoss = validation;
                _bestEpoch = value.Epoch;
            }
            _last = value;
            _channel.Trace(MessageSensitivity.None, DescribeEpoch(value));
        }
        _user?.Report(value);
    }

    /// <summary>Closes the last phase: writes its summary message ("member 3 of 3: 57 epochs (stopped early: no
    /// improvement in 30 epochs); final training loss 0.0118, best validation loss 0.0139 at epoch 27"). Call once
    /// training has returned.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_last is not null) EndPhase();
        }
    }

    /// <summary>One line per epoch: "member 2 of 3, epoch 48: training loss 0.0123, validation loss 0.0146;
    /// 12 of 30 epochs without improvement (at most 300); gradient norm mean 0.81, max 2.3, 5 steps clipped".</summary>
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
            text.Append("; ").Append(p.EpochsWithoutImprovement).Append(" of ").Append(p.Patience)
                .Append(" epochs without improvement (at most ").Append(p.Epochs).Append(')');
        text.Append("; gradient norm mean ").Append(Number(s.MeanGradientNorm)).Append(", max ").Append(Number(s.MaxGradientNorm));
        if (s.ClippedSteps > 0) text.Append(", ").Append(s.ClippedSteps).Append(s.ClippedSteps == 1 ? " step" : " steps").Append(" clipped");
        if (s.SkippedSteps > 0) text.Append(", ").Append(s.SkippedSteps).Append(s.SkippedSteps == 1 ? " step" : " steps").Append(" skipped (non-finite)");
        if (s.Regularizer != 0) text.Append(", regulariser ").Append(Number(s.Regularizer));
        return text.ToString();
    }

    private void EndPhase()
    {
        var p = _last!;
        int ran = p.Epoch + 1;
        string why = ran >= p.Epochs ? "reached the maximum"
            : p.Patience > 0 && p.EpochsWithoutImprovement >= p.Patience ? $"stopped early: no improvement in {p.Patience} epochs"
            : "stopped";
        string message = $"{(p.Phase.Length == 0 ? "training" : p.Phase)}: {ran} {(ran == 1 ? "epoch" : "epochs")} ({why}); " +
            $"final training loss {Number(p.Summary.TrainingLoss)}";
        if (_bestEpoch >= 0)
            message += $", best validation loss {Number(_bestValidationLoss)} at epoch {_bestEpoch + 1}";
        _channel.Info(MessageSensitivity.None, message);
        _last = null;
        _bestValidationLoss = double.NaN;
        _bestEpoch = -1;
    }

    private static string Prefix(string phase) => phase.Length == 0 ? "" : phase + ", ";

    private static string Number(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}

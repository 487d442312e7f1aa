using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Training;
using MLNetRnn.Training;

namespace MLNetRnn.Tests.Training;

public class ChannelProgressTests
{
    private static TrainingProgress Epoch(string phase, int epoch, int epochs, double validation, int sinceBest, int patience, TrainingStop? stop = null) =>
        new(epoch, epochs, new EpochSummary(epoch, 0.5 / (epoch + 1), validation, 1e-3, 0.8, 2.5, 1, 0, 0))
        {
            Phase = phase, EpochsWithoutImprovement = sinceBest, Patience = patience, StoppedBy = stop,
        };

    private static (List<LoggingEventArgs> Log, ChannelProgress Adapter, List<TrainingProgress> User, IChannel Channel) Start()
    {
        var ml = new MLContext(seed: 0);
        var log = new List<LoggingEventArgs>();
        // ML.NET's channels also log their own "Channel started/finished/disposed" lines.
        ml.Log += (_, e) => { if (e.Source.StartsWith("ChannelProgressTest", StringComparison.Ordinal) && !e.RawMessage.StartsWith("Channel ", StringComparison.Ordinal)) log.Add(e); };
        var channel = ((IHostEnvironment)ml).Register("ChannelProgressTest").Start("Training");
        var user = new List<TrainingProgress>();
        return (log, new ChannelProgress(channel, new Collect(user)), user, channel);
    }

    [Fact]
    public void EachEpochReachesMLContextLogNamingPhaseAndPatienceBudget()
    {
        var (log, adapter, user, channel) = Start();
        adapter.Report(Epoch("member 2 of 3", 47, 300, 0.0146, 12, 30));
        channel.Dispose();

        var trace = Assert.Single(log, e => e.Kind == ChannelMessageKind.Trace);
        Assert.Equal("ChannelProgressTest; Training", trace.Source);
        Assert.StartsWith("member 2 of 3, epoch 48: ", trace.RawMessage);
        Assert.Contains("validation loss 0.0146", trace.RawMessage);
        Assert.Contains("12 of 30 epochs without improvement (at most 300)", trace.RawMessage);
        // With early stopping the maximum is a ceiling, not the budget: no "epoch 48 of 300".
        Assert.DoesNotContain("48 of 300", trace.RawMessage);
        Assert.Single(user);
    }

    [Fact]
    public void RunWithoutEarlyStoppingShowsExactBudget()
    {
        var (log, adapter, _, _) = Start();
        adapter.Report(Epoch("refit 1 of 3", 4, 52, double.NaN, 0, 0));
        Assert.StartsWith("refit 1 of 3, epoch 5 of 52: training loss", Assert.Single(log).RawMessage);
        Assert.DoesNotContain("validation", log[0].RawMessage);
    }

    [Fact]
    public void EachPhaseEndsWithOneInfoSummaryEvenWhenPhasesInterleave()
    {
        // Members train in parallel, so their reports interleave; each phase ends with its report that says why.
        var (log, adapter, user, _) = Start();
        adapter.Report(Epoch("member 1 of 2", 0, 300, 0.30, 0, 3));
        adapter.Report(Epoch("member 2 of 2", 0, 300, 0.40, 0, 3));
        adapter.Report(Epoch("member 1 of 2", 1, 300, 0.20, 0, 3));
        adapter.Report(Epoch("member 2 of 2", 1, 300, 0.10, 0, 3, TrainingStop.StepLimit));
        for (int e = 2; e <= 4; e++) adapter.Report(Epoch("member 1 of 2", e, 300, 0.25, e - 1, 3, e == 4 ? TrainingStop.EarlyStopping : null));
        adapter.Report(Epoch("", 0, 2, double.NaN, 0, 0));
        adapter.Report(Epoch("", 1, 2, double.NaN, 0, 0, TrainingStop.Epochs));

        var info = log.Where(e => e.Kind == ChannelMessageKind.Info).Select(e => e.RawMessage).ToArray();
        Assert.Equal(3, info.Length);
        Assert.StartsWith("member 2 of 2: 2 epochs (reached the step budget)", info[0]);
        Assert.EndsWith("best validation loss 0.1 at epoch 2", info[0]);
        Assert.StartsWith("member 1 of 2: 5 epochs (stopped early: no improvement in 3 epochs)", info[1]);
        Assert.EndsWith("best validation loss 0.2 at epoch 2", info[1]);
        Assert.StartsWith("training: 2 epochs (reached the maximum); final training loss", info[2]);
        Assert.DoesNotContain("best validation", info[2]);
        Assert.Equal(9, log.Count(e => e.Kind == ChannelMessageKind.Trace));
        Assert.Equal(9, user.Count);
        // A phase's summary follows its last epoch at once.
        Assert.Equal(ChannelMessageKind.Info, log[4].Kind);
    }

    private sealed class Collect(List<TrainingProgress> into) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => into.Add(value);
    }
}

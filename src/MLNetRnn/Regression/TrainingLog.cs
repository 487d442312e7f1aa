using System.Globalization;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Regression;

/// <summary>
/// What a window-mode fit tells ML.NET's channel, and so the <c>MLContext</c>'s <c>Log</c>: what is trained and
/// with which seed (Info), one line per epoch with the losses and the budget that is really left (Info, as
/// FastTree reports its iterations), and how training ended (Info). The caller's own
/// <see cref="IProgress{T}"/> still receives every <see cref="TrainingProgress"/>.
/// </summary>
internal sealed class TrainingLog(IChannel channel)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>What is about to be trained, on what, for how long at most, and the seed.</summary>
    public void Start(RnnRegressionOptions o, int seed, int trainingRows, int validationRows, int steps)
    {
        string layers = string.Join(", ", o.HiddenSizes);
        string validation = validationRows > 0
            ? string.Format(Inv, "validating on the last {0} rows (ValidationFraction {1})", validationRows, o.ValidationFraction)
            : "without validation (ValidationFraction 0)";
        string stopping = validationRows > 0 && o.EarlyStoppingPatience is int patience
            ? string.Format(Inv, "at most {0} epochs, stopping after {1} without a lower validation loss", o.Epochs, patience)
            : string.Format(Inv, "{0} epochs", o.Epochs);
        string seedFrom = o.Seed is null ? "drawn from the MLContext: RnnRegressionOptions.Seed is not set" : "RnnRegressionOptions.Seed";
        channel.Info(string.Format(Inv,
            "Training {0} [{1}] on {2} rows of {3} steps × {4}, {5}; {6}; batch {7}, Adam {8}, scaling {9}; seed {10} ({11}).",
            o.Cell, layers, trainingRows, steps, Count(o.FeaturesPerStep, "feature"), validation, stopping, o.BatchSize, o.LearningRate, o.Scaling, seed, seedFrom));
    }

    /// <summary>An <see cref="IProgress{T}"/> that writes each epoch to the channel, then hands it to
    /// <paramref name="forward"/>.</summary>
    public IProgress<TrainingProgress> Forwarding(IProgress<TrainingProgress>? forward) => new Epochs(channel, forward);

    /// <summary>How training ended.</summary>
    public void Done(RnnRegressionTrainingSummary s, TimeSpan elapsed)
    {
        string end = s.StoppedEarly ? "stopped early" : "ran every epoch";
        string kept = s.RestoredBestWeights
            ? string.Format(Inv, "; kept the weights of epoch {0} (validation loss {1:G4})", s.BestEpoch + 1, s.BestValidationLoss)
            : "";
        string skipped = s.SkippedSteps > 0 ? $"; {Count(s.SkippedSteps, "step")} skipped for a non-finite loss or gradient" : "";
        channel.Info(string.Format(Inv, "Trained {0} in {1:F1} s ({2}){3}; {4} of {5} steps clipped{6}.",
            Count(s.EpochsRun, "epoch"), elapsed.TotalSeconds, end, kept, s.ClippedSteps, s.GradientNormBefore.Count, skipped));
    }

    /// <summary>One line per epoch. Epochs are numbered from 1 here, as a reader counts them; the summary's
    /// BestEpoch stays 0-based like the trainer's.</summary>
    internal static string Describe(TrainingProgress p)
    {
        var e = p.Summary;
        string losses = double.IsNaN(e.ValidationLoss)
            ? string.Format(Inv, "training loss {0:G4}", e.TrainingLoss)
            : string.Format(Inv, "training loss {0:G4}, validation loss {1:G4}", e.TrainingLoss, e.ValidationLoss);
        string budget;
        if (p.Patience > 0)
        {
            // Training ends at the configured maximum or when patience runs out, whichever comes first.
            int left = Math.Min(p.Epochs - 1 - p.Epoch, p.Patience - p.EpochsWithoutImprovement);
            budget = string.Format(Inv, "; {0} of {1} epochs without improvement, at most {2} more", p.EpochsWithoutImprovement, p.Patience, Math.Max(left, 0));
        }
        else
        {
            budget = "";
        }
        string clipped = e.ClippedSteps > 0 ? $", {Count(e.ClippedSteps, "step")} clipped" : "";
        string phase = p.Phase.Length > 0 ? p.Phase + ", " : "";
        return string.Format(Inv, "{0}epoch {1} of {2}: {3}; mean ‖g‖ {4:G3}{5}{6}.",
            phase, p.Epoch + 1, p.Epochs, losses, e.MeanGradientNorm, clipped, budget);
    }

    private static string Count(int n, string noun) => string.Format(Inv, "{0} {1}{2}", n, noun, n == 1 ? "" : "s");

    private sealed class Epochs(IChannel channel, IProgress<TrainingProgress>? forward) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            channel.Info(Describe(value));
            forward?.Report(value);
        }
    }
}

using System.Globalization;
using Microsoft.ML.Runtime;
using MLNetRnn.Training;

namespace MLNetRnn.Regression;

/// <summary>
/// What a window-mode fit tells ML.NET's channel, and so the <c>MLContext</c>'s <c>Log</c>, besides the per-epoch
/// lines and the end-of-training line that <see cref="Training.ChannelProgress"/> writes (shared with series mode):
/// what is trained, on what, for how long at most and with which seed before training, and what the model keeps
/// after it. Both Info, as ML.NET's trainers report their settings and results.
/// </summary>
internal static class TrainingLog
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>What is about to be trained, on what, for how long at most, and the seed.</summary>
    public static void Start(IChannel channel, RnnRegressionOptions o, int seed, int trainingRows, int validationRows, int steps)
    {
        string layers = string.Join(", ", o.HiddenSizes);
        string validation = validationRows > 0
            ? string.Format(Inv, "validating on the last {0} (ValidationFraction {1})", Counted.Of(validationRows, "row"), o.ValidationFraction)
            : "without validation (ValidationFraction 0)";
        string stopping = validationRows > 0 && o.EarlyStoppingPatience is int patience
            ? string.Format(Inv, "at most {0}, stopping after {1} without a lower validation loss", Counted.Of(o.Epochs, "epoch"), patience)
            : Counted.Of(o.Epochs, "epoch");
        string seedFrom = o.Seed is null ? "drawn from the MLContext: RnnRegressionOptions.Seed is not set" : "RnnRegressionOptions.Seed";
        channel.Info(string.Format(Inv,
            "Training {0} [{1}] on {2} of {3} × {4}, {5}; {6}; batch {7}, Adam {8}, scaling {9}; seed {10} ({11}).",
            o.Cell, layers, Counted.Of(trainingRows, "row"), Counted.Of(steps, "step"), Counted.Of(o.FeaturesPerStep, "feature"), validation, stopping, o.BatchSize, o.LearningRate,
            o.Scaling, seed, seedFrom));
    }

    /// <summary>What the model keeps, and what training cost.</summary>
    public static void Done(IChannel channel, RnnRegressionTrainingSummary s, TimeSpan elapsed)
    {
        // Epochs are numbered from 1 in the log, as ChannelProgress numbers them; the summary's BestEpoch is 0-based.
        string kept = s.RestoredBestWeights
            ? string.Format(Inv, "The model keeps the weights of epoch {0} (validation loss {1:G4})", s.BestEpoch + 1, s.BestValidationLoss)
            : string.Format(Inv, "The model keeps the weights of the last epoch, {0}", s.EpochsRun);
        string skipped = s.SkippedSteps > 0 ? $"; {Counted.Of(s.SkippedSteps, "step")} skipped for a non-finite loss or gradient" : "";
        channel.Info(string.Format(Inv, "{0}; trained in {1:F1} s, {2} of {3} clipped{4}.",
            kept, elapsed.TotalSeconds, s.ClippedSteps, Counted.Of(s.GradientNormBefore.Count, "step"), skipped));
    }
}

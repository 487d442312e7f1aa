using System.Collections.ObjectModel;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Training;
using MLNetRnn.Regression;

namespace MLNetRnn;

/// <summary>
/// How an <see cref="RnnRegressionModelParameters"/> was trained: the split, the scaling, the loss per epoch, and the
/// gradient-norm curve the clipping threshold is chosen from (Pascanu, Mikolov &amp; Bengio 2013). Saved with the
/// model, so a loaded model still reports it.
/// </summary>
/// <remarks>Losses are mean squared errors in network units: multiply √loss by <see cref="TargetScale"/> for an
/// RMSE in label units.</remarks>
public sealed class RnnRegressionTrainingSummary
{
    internal RnnRegressionTrainingSummary(RnnRegressionScaling scaling, float targetScale, int trainingRows, int validationRows,
        int bestEpoch, double bestValidationLoss, bool stoppedEarly, bool restoredBestWeights, int skippedSteps,
        double[] trainingLoss, double[] validationLoss, float[] gradientNormBefore, float[] gradientNormAfter, int? seed)
    {
        Scaling = scaling;
        Seed = seed;
        TargetScale = targetScale;
        TrainingRows = trainingRows;
        ValidationRows = validationRows;
        BestEpoch = bestEpoch;
        BestValidationLoss = bestValidationLoss;
        StoppedEarly = stoppedEarly;
        RestoredBestWeights = restoredBestWeights;
        SkippedSteps = skippedSteps;
        TrainingLoss = Array.AsReadOnly(trainingLoss);
        ValidationLoss = Array.AsReadOnly(validationLoss);
        GradientNormBefore = Array.AsReadOnly(gradientNormBefore);
        GradientNormAfter = Array.AsReadOnly(gradientNormAfter);
    }

    /// <summary>The scaling the model applies.</summary>
    public RnnRegressionScaling Scaling { get; }

    /// <summary>One network unit of the label, in label units (s of <see cref="RnnRegressionScaling"/>).</summary>
    public float TargetScale { get; }

    /// <summary>The seed of the initialisation and shuffling: <see cref="RnnOptionsBase.Seed"/> when it was set,
    /// otherwise the one drawn from the <c>MLContext</c>'s random source. With the same options and data it gives the
    /// same model. <see langword="null"/> for models saved before format version 2, which did not record it.</summary>
    public int? Seed { get; }

    /// <summary>Rows trained on: the first rows of the training data.</summary>
    public int TrainingRows { get; }

    /// <summary>Rows held out for validation: the last rows of the training data (0 without validation).</summary>
    public int ValidationRows { get; }

    /// <summary>Epochs run (early stopping may end training before the configured maximum).</summary>
    public int EpochsRun => TrainingLoss.Count;

    /// <summary>0-based epoch of the lowest validation loss, whose weights the model keeps; −1 without validation.</summary>
    public int BestEpoch { get; }

    /// <summary>The lowest validation loss (network units), or NaN without validation.</summary>
    public double BestValidationLoss { get; }

    /// <summary>Whether early stopping ended training before the configured epochs.</summary>
    public bool StoppedEarly { get; }

    /// <summary>Whether the weights of <see cref="BestEpoch"/> were restored at the end.</summary>
    public bool RestoredBestWeights { get; }

    /// <summary>Optimiser steps skipped because the loss or gradient was not finite.</summary>
    public int SkippedSteps { get; }

    /// <summary>Mean training loss per epoch (network units).</summary>
    public ReadOnlyCollection<double> TrainingLoss { get; }

    /// <summary>Validation loss after each epoch (network units); NaN without validation.</summary>
    public ReadOnlyCollection<double> ValidationLoss { get; }

    /// <summary>‖g‖ of the mini-batch gradient before clipping, one value per optimiser step.</summary>
    public ReadOnlyCollection<float> GradientNormBefore { get; }

    /// <summary>‖g‖ after clipping, one value per optimiser step (equal to <see cref="GradientNormBefore"/> where
    /// clipping did not act, or when it is off).</summary>
    public ReadOnlyCollection<float> GradientNormAfter { get; }

    /// <summary>Steps whose gradient the clipping shortened.</summary>
    public int ClippedSteps => GradientNormBefore.Zip(GradientNormAfter).Count(p => p.First != p.Second);

    internal static RnnRegressionTrainingSummary From(TrainingReport report, WindowScaling scaling, int trainingRows, int validationRows, int seed)
        => new(scaling.Kind, scaling.TargetScale, trainingRows, validationRows,
            report.BestEpoch, report.BestValidationLoss, report.StoppedEarly, report.RestoredBestWeights, report.SkippedSteps,
            report.Epochs.Select(e => e.TrainingLoss).ToArray(), report.Epochs.Select(e => e.ValidationLoss).ToArray(),
            report.GradientNorms.Before.ToArray(), report.GradientNorms.After.ToArray(), seed);

    // *** Binary format, version 2 ***
    // string scaling, float target scale, int32 training rows, int32 validation rows, int32 best epoch,
    // double best validation loss, bool stopped early, bool restored best weights, int32 skipped steps,
    // int32 E, double[E] training loss, double[E] validation loss,
    // int32 S, float[S] gradient norm before clipping, float[S] after,
    // bool has seed (+ int32 seed)
    // *** Binary format, version 1 ***
    // As version 2, but the scaling as int32 and no seed.
    internal void Write(BinaryWriter w)
    {
        Persisted.WriteEnum(w, Scaling);
        w.Write(TargetScale);
        w.Write(TrainingRows);
        w.Write(ValidationRows);
        w.Write(BestEpoch);
        w.Write(BestValidationLoss);
        w.Write(StoppedEarly);
        w.Write(RestoredBestWeights);
        w.Write(SkippedSteps);
        w.Write(TrainingLoss.Count);
        foreach (double v in TrainingLoss) w.Write(v);
        foreach (double v in ValidationLoss) w.Write(v);
        w.Write(GradientNormBefore.Count);
        foreach (float v in GradientNormBefore) w.Write(v);
        foreach (float v in GradientNormAfter) w.Write(v);
        w.Write(Seed.HasValue);
        if (Seed is int seed) w.Write(seed);
    }

    internal static RnnRegressionTrainingSummary Read(BinaryReader r, int version)
    {
        var scaling = version == 1 ? (RnnRegressionScaling)r.ReadInt32() : Persisted.ReadEnum<RnnRegressionScaling>(r);
        float targetScale = r.ReadSingle();
        int trainingRows = r.ReadInt32(), validationRows = r.ReadInt32(), bestEpoch = r.ReadInt32();
        double best = r.ReadDouble();
        bool stoppedEarly = r.ReadBoolean(), restored = r.ReadBoolean();
        int skipped = r.ReadInt32();
        int epochs = Count(r.ReadInt32(), "epoch");
        var trainingLoss = new double[epochs];
        var validationLoss = new double[epochs];
        for (int e = 0; e < epochs; e++) trainingLoss[e] = r.ReadDouble();
        for (int e = 0; e < epochs; e++) validationLoss[e] = r.ReadDouble();
        int steps = Count(r.ReadInt32(), "step");
        var before = new float[steps];
        var after = new float[steps];
        for (int s = 0; s < steps; s++) before[s] = r.ReadSingle();
        for (int s = 0; s < steps; s++) after[s] = r.ReadSingle();
        int? seed = version >= 2 && r.ReadBoolean() ? r.ReadInt32() : null;
        return new(scaling, targetScale, trainingRows, validationRows, bestEpoch, best, stoppedEarly, restored, skipped,
            trainingLoss, validationLoss, before, after, seed);
    }

    private static int Count(int n, string what)
        => n >= 0 && n <= 1 << 26 ? n : throw new InvalidDataException($"The training summary's {what} count {n} is out of range.");
}

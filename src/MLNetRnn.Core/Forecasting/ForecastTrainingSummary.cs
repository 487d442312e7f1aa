using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

/// <summary>How one ensemble member trained: the curves the papers tell us to watch, kept with the model.</summary>
/// <param name="Seed">Seed of the member's initialisation and shuffling.</param>
/// <param name="BestEpoch">Epoch of the lowest validation loss (−1 without validation).</param>
/// <param name="BestValidationLoss">That loss, in network units (NaN without validation).</param>
/// <param name="TrainingLoss">Training loss per epoch.</param>
/// <param name="ValidationLoss">Validation loss per epoch.</param>
/// <param name="GradientNormBefore">‖g‖ before clipping, per optimiser step.</param>
/// <param name="GradientNormAfter">‖g‖ after clipping, per optimiser step.</param>
/// <param name="SkippedSteps">Steps skipped for a non-finite loss or gradient.</param>
/// <param name="RefitEpochs">Epochs of the final refit on every window (0 when not refitted).</param>
/// <param name="RefitFinalLoss">Training loss of the refit's last epoch (NaN when not refitted).</param>
public sealed record MemberTrainingSummary(int Seed, int BestEpoch, double BestValidationLoss, float[] TrainingLoss, float[] ValidationLoss,
    float[] GradientNormBefore, float[] GradientNormAfter, int SkippedSteps, int RefitEpochs = 0, double RefitFinalLoss = double.NaN)
{
    internal static MemberTrainingSummary From(int seed, TrainingReport report) => new(seed, report.BestEpoch, report.BestValidationLoss,
        report.Epochs.Select(e => (float)e.TrainingLoss).ToArray(), report.Epochs.Select(e => (float)e.ValidationLoss).ToArray(),
        report.GradientNorms.Before.ToArray(), report.GradientNorms.After.ToArray(), report.SkippedSteps);

    internal void Write(BinaryWriter w)
    {
        w.Write(Seed); w.Write(BestEpoch); w.Write(BestValidationLoss);
        WriteArray(w, TrainingLoss); WriteArray(w, ValidationLoss); WriteArray(w, GradientNormBefore); WriteArray(w, GradientNormAfter);
        w.Write(SkippedSteps); w.Write(RefitEpochs); w.Write(RefitFinalLoss);
    }

    internal static MemberTrainingSummary Read(BinaryReader r) => new(r.ReadInt32(), r.ReadInt32(), r.ReadDouble(),
        ReadArray(r), ReadArray(r), ReadArray(r), ReadArray(r), r.ReadInt32(), r.ReadInt32(), r.ReadDouble());

    internal static void WriteArray(BinaryWriter w, float[] a)
    {
        w.Write(a.Length);
        foreach (float v in a) w.Write(v);
    }

    internal static float[] ReadArray(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > 1 << 26) throw new InvalidDataException($"Array length {n} is out of range.");
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.ReadSingle();
        return a;
    }
}

/// <summary>How a forecaster was trained: the scaling it chose, the windows it used, each ensemble member's curves,
/// and the mean validation error per horizon step. Saved with the model.</summary>
/// <param name="Scaling">The scaling used (Auto resolved).</param>
/// <param name="TrainingWindows">Windows trained on before validation.</param>
/// <param name="ValidationWindows">Windows held out for early stopping and interval calibration.</param>
/// <param name="TotalWindows">Windows in the series (the refit trains on all of them).</param>
/// <param name="Members">One summary per ensemble member.</param>
/// <param name="ValidationErrorByHorizon">Mean |error| on the validation windows per step ahead, in network
/// units; NaN without validation.</param>
/// <param name="CorrectionWeight">λ: the share of the network's correction to seasonal naive that the
/// validation windows supported (1 when not fitted).</param>
public sealed record ForecastTrainingSummary(SeriesScaling Scaling, int TrainingWindows, int ValidationWindows, int TotalWindows,
    IReadOnlyList<MemberTrainingSummary> Members, float[] ValidationErrorByHorizon, float CorrectionWeight = 1f)
{
    internal static ForecastTrainingSummary Empty { get; } = new(SeriesScaling.Difference, 0, 0, 0, [], []);

    internal void Write(BinaryWriter w)
    {
        w.Write((int)Scaling); w.Write(TrainingWindows); w.Write(ValidationWindows); w.Write(TotalWindows);
        w.Write(Members.Count);
        foreach (var m in Members) m.Write(w);
        MemberTrainingSummary.WriteArray(w, ValidationErrorByHorizon);
        w.Write(CorrectionWeight);
    }

    internal static ForecastTrainingSummary Read(BinaryReader r)
    {
        var scaling = (SeriesScaling)r.ReadInt32();
        int train = r.ReadInt32(), val = r.ReadInt32(), total = r.ReadInt32(), k = r.ReadInt32();
        if (k < 0 || k > 1024) throw new InvalidDataException($"Member count {k} is out of range.");
        var members = new MemberTrainingSummary[k];
        for (int i = 0; i < k; i++) members[i] = MemberTrainingSummary.Read(r);
        return new ForecastTrainingSummary(scaling, train, val, total, members, MemberTrainingSummary.ReadArray(r), r.ReadSingle());
    }
}

using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

/// <summary>How one ensemble member trained: the curves the papers tell us to watch, kept with the model.</summary>
/// <param name="Seed">Seed of the member's initialisation and shuffling (derived from the forecaster's seed).</param>
/// <param name="BestEpoch">Epoch of the lowest validation loss (−1 without validation).</param>
/// <param name="BestValidationLoss">That loss, in network units (NaN without validation).</param>
/// <param name="TrainingLoss">Training loss per epoch.</param>
/// <param name="ValidationLoss">Validation loss per epoch.</param>
/// <param name="GradientNormBefore">‖g‖ before clipping, per optimiser step.</param>
/// <param name="GradientNormAfter">‖g‖ after clipping, per optimiser step.</param>
/// <param name="SkippedSteps">Steps skipped for a non-finite loss or gradient.</param>
/// <param name="StoppedBy">What ended training: early stopping, the step budget, the time limit or the epochs.</param>
public sealed record MemberTrainingSummary(int Seed, int BestEpoch, double BestValidationLoss, float[] TrainingLoss, float[] ValidationLoss,
    float[] GradientNormBefore, float[] GradientNormAfter, int SkippedSteps, TrainingStop StoppedBy = TrainingStop.Epochs)
{
    /// <summary>Optimiser steps taken.</summary>
    public int Steps => GradientNormBefore.Length - SkippedSteps;

    internal static MemberTrainingSummary From(int seed, TrainingReport report) => new(seed, report.BestEpoch, report.BestValidationLoss,
        report.Epochs.Select(e => (float)e.TrainingLoss).ToArray(), report.Epochs.Select(e => (float)e.ValidationLoss).ToArray(),
        report.GradientNorms.Before.ToArray(), report.GradientNorms.After.ToArray(), report.SkippedSteps, report.StoppedBy);

    internal void Write(BinaryWriter w)
    {
        w.Write(Seed); w.Write(BestEpoch); w.Write(BestValidationLoss);
        Persisted.WriteArray(w, TrainingLoss); Persisted.WriteArray(w, ValidationLoss);
        Persisted.WriteArray(w, GradientNormBefore); Persisted.WriteArray(w, GradientNormAfter);
        w.Write(SkippedSteps); Persisted.WriteEnum(w, StoppedBy);
    }

    internal static MemberTrainingSummary Read(BinaryReader r) => new(r.ReadInt32(), r.ReadInt32(), r.ReadDouble(),
        Persisted.ReadArray(r), Persisted.ReadArray(r), Persisted.ReadArray(r), Persisted.ReadArray(r), r.ReadInt32(), Persisted.ReadEnum<TrainingStop>(r));

    /// <summary>Version 1 also stored the refit's epochs and last loss; the refit is gone, so they are skipped.</summary>
    internal static MemberTrainingSummary ReadVersion1(BinaryReader r)
    {
        var m = new MemberTrainingSummary(r.ReadInt32(), r.ReadInt32(), r.ReadDouble(),
            Persisted.ReadArray(r), Persisted.ReadArray(r), Persisted.ReadArray(r), Persisted.ReadArray(r), r.ReadInt32());
        r.ReadInt32(); r.ReadDouble();
        return m;
    }
}

/// <summary>What a forecaster fitted to one series of its training data.</summary>
/// <param name="SeriesId">The series' id ("" when the model was fitted on one series without an id).</param>
/// <param name="Base">Its base, as a description ("Theta on multiplicative seasonal adjustment (m = 12)"), or "none".</param>
/// <param name="SeasonalAdjustment">Its seasonal adjustment (Auto resolved).</param>
/// <param name="Scaling">The scaling of its windows (Auto resolved).</param>
/// <param name="Windows">Windows it gave (each a window and the horizon after it).</param>
/// <param name="Constant">Whether its training values are all equal (forecast: that constant, zero-width bounds).</param>
public sealed record SeriesTrainingSummary(string SeriesId, string Base, SeasonalAdjustment SeasonalAdjustment, SeriesScaling Scaling, int Windows, bool Constant);

/// <summary>
/// How a forecaster was fitted and what it ended up doing: the base it chose and why, the seasonal adjustment,
/// how much the networks moved the forecast away from the base (and whether they were kept at all), each
/// member's curves, the calibration behind the bounds, and plain notes on anything a user should know (a short
/// or constant series, a confidence level the calibration cannot support). Saved with the model.
/// </summary>
public sealed record ForecastTrainingSummary
{
    /// <summary>The window scaling used (Auto resolved).</summary>
    public SeriesScaling Scaling { get; init; }

    /// <summary>The seasonal adjustment applied before the base's smoothing and the networks (Auto resolved).</summary>
    public SeasonalAdjustment SeasonalAdjustment { get; init; }

    /// <summary>The base the networks correct, as a description ("Theta on multiplicative seasonal adjustment
    /// (m = 12)"); "none" for a plain network forecast.</summary>
    public string Base { get; init; } = "none";

    /// <summary>The candidate bases and their rolling-origin scores on the training series (a MASE), best first;
    /// empty when the base was fixed by the options.</summary>
    public IReadOnlyList<BaselineCandidate> BaseCandidates { get; init; } = [];

    /// <summary>Windows the networks trained on.</summary>
    public int TrainingWindows { get; init; }

    /// <summary>Windows held out for early stopping, the damping λ and the intervals.</summary>
    public int ValidationWindows { get; init; }

    /// <summary>Windows in the series.</summary>
    public int TotalWindows { get; init; }

    /// <summary>One summary per ensemble member; empty when no network was trained.</summary>
    public IReadOnlyList<MemberTrainingSummary> Members { get; init; } = [];

    /// <summary>λ in [0, 1]: the share of the networks' correction that the validation windows supported (1 when
    /// damping is off; 0 when the networks were not kept, and the forecast is then the base).</summary>
    public float CorrectionWeight { get; init; } = 1f;

    /// <summary>Whether the forecast uses the networks at all (trained, and λ &gt; 0).</summary>
    public bool UsesNetworks => Members.Count > 0 && CorrectionWeight > 0f;

    /// <summary>Mean |forecast − base| over the validation windows, in units of the series' mean absolute
    /// seasonal difference (as MASE): how far the networks moved the forecast. 0 when they were not kept.</summary>
    public double MeanCorrection { get; init; }

    /// <summary>Mean |error| on the calibration windows per step ahead, in network units; NaN without them.</summary>
    public float[] ValidationErrorByHorizon { get; init; } = [];

    /// <summary>Errors the bounds are read from (pooled over the steps ahead).</summary>
    public int CalibrationErrors { get; init; }

    /// <summary>The highest confidence level the calibration errors support directly, N/(N+1); above it the bounds
    /// are extrapolated (a note says so for the configured level).</summary>
    public double SupportedConfidenceLevel { get; init; }

    /// <summary>Plain-language notes on the fit: base-only fallbacks, a constant series, extrapolated bounds.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>What the seasonal-period detection found (<see cref="SeasonalPeriodDetector"/>): every candidate period, where it
    /// came from (the dates, the data, the options), its strength and whether it passed; <see langword="null"/> when no
    /// detection ran (the core trainer called directly) and for a model read from a file, which keeps the periods used and any
    /// warning about them (in <see cref="Notes"/>), not the detection itself.</summary>
    public SeasonalPeriodDetection? SeasonalPeriodDetection { get; init; }

    /// <summary>Whether the seasonal periods were chosen by the detection (the options left them unset), rather than set.
    /// Like <see cref="SeasonalPeriodDetection"/>, not kept in a model file (false once read).</summary>
    public bool SeasonalPeriodDetected { get; init; }

    /// <summary>The seasonal periods the series use, ascending (one for a single series; for a panel choosing among
    /// candidates, those chosen). Set with <see cref="SeasonalPeriodDetection"/>; empty without it.</summary>
    public IReadOnlyList<int> SeasonalPeriods { get; init; } = [];

    /// <summary>One entry per series the model was fitted on, in the order of the training data. For a panel, the
    /// fields above that describe a series (<see cref="Base"/>, <see cref="Scaling"/>, <see cref="SeasonalAdjustment"/>)
    /// summarise these: the bases with their counts, the most common scaling and adjustment.</summary>
    public IReadOnlyList<SeriesTrainingSummary> Series { get; init; } = [];

    // *** Binary format, payload version 3 (after the version-2 fields) *** int32 S; per series: string id, string
    // base, adjustment, scaling, int32 windows, bool constant
    internal void WriteExtension(BinaryWriter w)
    {
        w.Write(Series.Count);
        foreach (var x in Series)
        {
            w.Write(x.SeriesId); w.Write(x.Base);
            Persisted.WriteEnum(w, x.SeasonalAdjustment); Persisted.WriteEnum(w, x.Scaling);
            w.Write(x.Windows); w.Write(x.Constant);
        }
    }

    internal static ForecastTrainingSummary ReadExtension(BinaryReader r, ForecastTrainingSummary summary)
    {
        var series = new SeriesTrainingSummary[Count(r, 1 << 26, "series")];
        for (int i = 0; i < series.Length; i++)
            series[i] = new SeriesTrainingSummary(r.ReadString(), r.ReadString(), Persisted.ReadEnum<SeasonalAdjustment>(r), Persisted.ReadEnum<SeriesScaling>(r),
                r.ReadInt32(), r.ReadBoolean());
        return summary with { Series = series };
    }

    internal void Write(BinaryWriter w)
    {
        Persisted.WriteEnum(w, Scaling); Persisted.WriteEnum(w, SeasonalAdjustment);
        w.Write(Base);
        w.Write(BaseCandidates.Count);
        foreach (var c in BaseCandidates)
        {
            w.Write(c.Methods.Count);
            foreach (var m in c.Methods) BaseMethodCodes.WriteMethod(w, m);
            w.Write(c.Score);
        }
        w.Write(TrainingWindows); w.Write(ValidationWindows); w.Write(TotalWindows);
        w.Write(Members.Count);
        foreach (var m in Members) m.Write(w);
        w.Write(CorrectionWeight); w.Write(MeanCorrection);
        Persisted.WriteArray(w, ValidationErrorByHorizon);
        w.Write(CalibrationErrors); w.Write(SupportedConfidenceLevel);
        w.Write(Notes.Count);
        foreach (string n in Notes) w.Write(n);
    }

    internal static ForecastTrainingSummary Read(BinaryReader r)
    {
        var scaling = Persisted.ReadEnum<SeriesScaling>(r);
        var adjustment = Persisted.ReadEnum<SeasonalAdjustment>(r);
        string description = r.ReadString();
        var candidates = new BaselineCandidate[Count(r, 64, "candidate")];
        for (int i = 0; i < candidates.Length; i++)
        {
            var methods = new ForecastBase[Count(r, 16, "method")];
            for (int j = 0; j < methods.Length; j++) methods[j] = BaseMethodCodes.ReadMethod(r);
            candidates[i] = new BaselineCandidate(methods, r.ReadDouble());
        }
        int train = r.ReadInt32(), val = r.ReadInt32(), total = r.ReadInt32();
        var members = new MemberTrainingSummary[Count(r, 1024, "member")];
        for (int i = 0; i < members.Length; i++) members[i] = MemberTrainingSummary.Read(r);
        float lambda = r.ReadSingle();
        double shift = r.ReadDouble();
        var errors = Persisted.ReadArray(r);
        int calibration = r.ReadInt32();
        double supported = r.ReadDouble();
        var notes = new string[Count(r, 64, "note")];
        for (int i = 0; i < notes.Length; i++) notes[i] = r.ReadString();
        return new ForecastTrainingSummary
        {
            Scaling = scaling, SeasonalAdjustment = adjustment, Base = description, BaseCandidates = candidates,
            TrainingWindows = train, ValidationWindows = val, TotalWindows = total, Members = members, CorrectionWeight = lambda,
            MeanCorrection = shift, ValidationErrorByHorizon = errors, CalibrationErrors = calibration, SupportedConfidenceLevel = supported, Notes = notes,
        };
    }

    /// <summary>Reads version 1's summary (scaling as an integer, no base or notes).</summary>
    internal static ForecastTrainingSummary ReadVersion1(BinaryReader r, SeriesScaling scaling, bool seasonalNaive)
    {
        r.ReadInt32();   // the scaling again, as v1's integer; the settings already resolved it
        int train = r.ReadInt32(), val = r.ReadInt32(), total = r.ReadInt32();
        var members = new MemberTrainingSummary[Count(r, 1024, "member")];
        for (int i = 0; i < members.Length; i++) members[i] = MemberTrainingSummary.ReadVersion1(r);
        var errors = Persisted.ReadArray(r);
        float lambda = r.ReadSingle();
        return new ForecastTrainingSummary
        {
            Scaling = scaling, SeasonalAdjustment = SeasonalAdjustment.None, Base = seasonalNaive ? BaselineMethod.SeasonalNaive.ToString() : "none",
            TrainingWindows = train, ValidationWindows = val, TotalWindows = total, Members = members, CorrectionWeight = lambda,
            ValidationErrorByHorizon = errors, Notes = ["Saved by format version 1: no base selection; the networks correct seasonal naive."],
        };
    }

    private static int Count(BinaryReader r, int max, string what)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > max) throw new InvalidDataException($"The saved {what} count {n} is out of range (0 to {max}).");
        return n;
    }
}

using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Forecasting;

// S = series, C = covariates, K = ensemble members, H = horizon. All numbers little-endian (BinaryWriter).

/// <summary>
/// The file format of a <see cref="ForecastModel"/>, the payload the ML.NET transformer saves: the current version 3
/// (<see cref="Write"/>, <see cref="Read"/>), the per-series weights written after it, and versions 1 and 2 of
/// single-series models saved by earlier releases, which still load and forecast as they did.
/// </summary>
internal static class ForecastModelFormat
{
    // *** Binary format, payload version 3 ***
    // settings (ForecasterSettings.Write, then WriteExtension); float[C] covariate means, float[C] scales;
    // (transformer format 8 added the candidate periods to the settings' extension and each series' period to its fit;
    // format 9 both of those and the networks' dilations and residual flag after the periods)
    // float log-scale mean, float log-scale deviation; int32 S, per series SeriesFit.Write;
    // int32 K, per member int32 count + float[count] parameters; float λ; calibration; summary (Write, then WriteExtension);
    // (transformer format 10: each base's weights inside its SeriesFit, and BaseCombination.Write at the end;
    // format 11: format 10's blocks and the decoder-steps flag at the end of the settings' extension)
    public static void Write(ForecastModel model, BinaryWriter w)
    {
        // Without candidate periods every series has the settings' m, and the layout is transformer format 7's: a model
        // that does not use the option stays readable by the readers that format promised (version 6 on).
        // Dilations and residual connections (transformer format 9) come with format 8's periods, so only they raise the
        // version such a model needs.
        // A learned base combination (transformer format 10) comes with format 9's blocks, so only it raises the version further.
        // Decoder steps (transformer format 11) come with format 10's blocks, so only they raise the version further.
        bool decoderSteps = model.HasDecoderSteps;
        bool combination = model.HasBaseCombination || decoderSteps;
        bool architecture = model.HasArchitectureOptions || combination;
        bool periods = model.HasSeasonalPeriods || architecture;
        model.Settings.Write(w);
        model.Settings.WriteExtension(w, periods, architecture, decoderSteps);
        foreach (float v in model.CovariateMean) w.Write(v);
        foreach (float v in model.CovariateScale) w.Write(v);
        w.Write(model.LogScaleMean);
        w.Write(model.LogScaleDeviation);
        w.Write(model.Series.Count);
        foreach (var fit in model.Series) fit.Write(w, periods, combination);
        w.Write(model.Members.Length);
        foreach (var net in model.Members)
        {
            w.Write(net.Parameters.Count);
            foreach (float v in net.Parameters.Values) w.Write(v);
        }
        w.Write(model.CorrectionWeight);
        model.Calibration.Write(w);
        model.Summary.Write(w);
        model.Summary.WriteExtension(w);
        if (combination) BaseCombination.Write(w, model.BaseCombination);
    }

    /// <summary>Reads what <see cref="Write"/> wrote (payload version 3; <paramref name="seriesCategories"/>: with the
    /// settings of transformer format 6; <paramref name="seasonalPeriods"/>: with the candidate periods and each series'
    /// own period, transformer format 8; <paramref name="architecture"/>: also with the dilations and residual flag,
    /// transformer format 9, which implies <paramref name="seasonalPeriods"/>; <paramref name="baseCombination"/>: also with
    /// the bases' weights and the learned combination, transformer format 10, which implies the others;
    /// <paramref name="decoderSteps"/>: also with the decoder-steps flag, transformer format 11, which implies all of them).</summary>
    public static ForecastModel Read(BinaryReader r, bool seriesCategories, bool seasonalPeriods, bool architecture, bool baseCombination = false,
        bool decoderSteps = false)
    {
        baseCombination |= decoderSteps;
        architecture |= baseCombination;
        seasonalPeriods |= architecture;
        var s = ForecasterSettings.ReadExtension(r, ForecasterSettings.Read(r), seriesCategories, seasonalPeriods, architecture, decoderSteps);
        var (mean, scale) = ReadCovariateStatistics(r, s.CovariateCount);
        float scaleMean = r.ReadSingle(), scaleDeviation = r.ReadSingle();
        if (!float.IsFinite(scaleMean) || !(scaleDeviation > 0) || !float.IsFinite(scaleDeviation))
            throw new InvalidDataException($"The saved log-scale statistics are out of range (mean {scaleMean}, deviation {scaleDeviation}).");
        int S = r.ReadInt32();
        if (S < 1 || S > 1 << 26) throw new InvalidDataException($"Series count {S} is out of range (1 to {1 << 26}).");
        var series = new SeriesFit[S];
        for (int i = 0; i < S; i++) series[i] = SeriesFit.Read(r, s, seasonalPeriods, baseCombination);
        if (s.SeriesCategories > S) throw new InvalidDataException($"The saved model reads {s.SeriesCategories} series by index but holds {S}.");
        // The training series come first, in the order that gave them their index.
        for (int i = 0; i < s.SeriesCategories; i++) series[i].Category = i;
        var model = new ForecastModel(s, series, mean, scale, scaleMean, scaleDeviation) { Members = ReadMembers(r, s, allowEmpty: true) };
        model.CorrectionWeight = ReadWeight(r);
        model.Calibration = ForecastCalibration.Read(r, s.Horizon);
        model.Summary = ForecastTrainingSummary.ReadExtension(r, ForecastTrainingSummary.Read(r));
        if (baseCombination) model.BaseCombination = BaseCombination.Read(r);
        return model;
    }

    // *** Binary format of the per-series weights (transformer format 5, after the diagnostics) ***
    // int32 S; float[S] each series' own λ, NaN where the series takes the model's
    public static void WriteSeriesWeights(ForecastModel model, BinaryWriter w)
    {
        w.Write(model.Series.Count);
        foreach (var fit in model.Series) w.Write(fit.CorrectionWeight ?? float.NaN);
    }

    /// <summary>Reads what <see cref="WriteSeriesWeights"/> wrote onto this model's series.</summary>
    public static void ReadSeriesWeights(ForecastModel model, BinaryReader r)
    {
        int count = r.ReadInt32();
        if (count != model.Series.Count) throw new InvalidDataException($"The saved model has {model.Series.Count} series but {count} per-series correction weights.");
        foreach (var fit in model.Series)
        {
            float v = r.ReadSingle();
            if (!float.IsNaN(v) && !(v >= 0f && v <= 1f)) throw new InvalidDataException($"A saved per-series correction weight is {v}; expected a value in [0, 1] or NaN.");
            fit.CorrectionWeight = float.IsNaN(v) ? null : v;
        }
    }

    /// <summary>Reads payload version 2: one series (settings; seasonal decomposition; base; scaler; covariate
    /// statistics; members; λ; calibration; summary).</summary>
    public static ForecastModel ReadVersion2(BinaryReader r)
    {
        var s = ForecasterSettings.Read(r);
        var season = SeasonalDecomposition.Read(r);
        var baseline = r.ReadBoolean() ? Baselines.Baseline.Read(r, weights: false) : null;
        var scaler = WindowScaler.Read(r);
        var (mean, scale) = ReadCovariateStatistics(r, s.CovariateCount);
        var members = ReadMembers(r, s, allowEmpty: true);
        float lambda = ReadWeight(r);
        var calibration = ForecastCalibration.Read(r, s.Horizon);
        var summary = ForecastTrainingSummary.Read(r);
        var fit = new SeriesFit(s.SeasonalPeriod, season, baseline, scaler, [], 0f, summary.BaseCandidates, constant: false);
        return new ForecastModel(s, [fit], mean, scale, 0f, 1f) { Members = members, CorrectionWeight = lambda, Calibration = calibration, Summary = summary };
    }

    /// <summary>Reads payload version 1: a seasonal-naive base (or none) without seasonal adjustment, per-step
    /// conformal residuals. The forecasts are those version 1 made; the bounds no longer clamp to the largest
    /// residual when a level asks for more residuals than there are.</summary>
    public static ForecastModel ReadVersion1(BinaryReader r)
    {
        var s = ForecasterSettings.ReadVersion1(r);
        var scaler = WindowScaler.ReadVersion1(r);
        var (mean, scale) = ReadCovariateStatistics(r, s.CovariateCount);
        var members = ReadMembers(r, s, allowEmpty: false);
        var residuals = new float[s.Horizon][];
        for (int k = 0; k < s.Horizon; k++) residuals[k] = Serialization.Persisted.ReadArray(r, 1 << 24);
        var summary = ForecastTrainingSummary.ReadVersion1(r, scaler.Kind, s.Base == ForecastBase.SeasonalNaive);
        float lambda = ReadWeight(r);
        var baseline = s.Base == ForecastBase.SeasonalNaive ? Baselines.Baseline.SeasonalNaiveOnly(s.SeasonalPeriod) : null;
        var fit = new SeriesFit(s.SeasonalPeriod, SeasonalDecomposition.Identity, baseline, scaler, [], 0f, [], constant: false);
        return new ForecastModel(s, [fit], mean, scale, 0f, 1f)
        {
            Members = members, CorrectionWeight = lambda, Calibration = new ForecastCalibration(ForecastCalibration.Kind.PerStep, residuals), Summary = summary,
        };
    }

    private static (float[] Mean, float[] Scale) ReadCovariateStatistics(BinaryReader r, int C)
    {
        var mean = new float[C];
        var scale = new float[C];
        for (int c = 0; c < C; c++) mean[c] = r.ReadSingle();
        for (int c = 0; c < C; c++) scale[c] = r.ReadSingle();
        return (mean, scale);
    }

    private static RecurrentNetwork[] ReadMembers(BinaryReader r, ForecasterSettings s, bool allowEmpty)
    {
        int k = r.ReadInt32();
        if (k < (allowEmpty ? 0 : 1) || k > 1024) throw new InvalidDataException($"Ensemble size {k} is out of range.");
        var spec = s.NetworkSpec;
        var members = new RecurrentNetwork[k];
        for (int i = 0; i < k; i++)
        {
            var values = Serialization.Persisted.ReadArray(r, 1 << 28);
            try
            {
                members[i] = RecurrentNetwork.FromParameters(spec, values);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"The saved parameters of member {i} do not fit the saved network: {ex.Message}", ex);
            }
        }
        return members;
    }

    private static float ReadWeight(BinaryReader r)
    {
        float lambda = r.ReadSingle();
        if (!(lambda >= 0f && lambda <= 1f)) throw new InvalidDataException($"The correction weight {lambda} is out of range [0, 1].");
        return lambda;
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting;

// How the settings a forecast needs are saved inside a model file (ForecastModelFormat): payload version 2's fields,
// the extension each later transformer format adds to them, and version 1's layout, still read.
public sealed partial record ForecasterSettings
{
    // *** Binary format (forecaster payload version 2; enums by name) ***
    // int32 W, H, m, C; string scaling, adjustment, base; bool zero head, damping, seasonal features, recursive;
    // string cell; int32 L, int32[L] hidden; string activation; bool layer norm; int32 K; float validation fraction
    internal void Write(BinaryWriter w)
    {
        w.Write(WindowSize); w.Write(Horizon); w.Write(SeasonalPeriod); w.Write(CovariateCount);
        Persisted.WriteEnum(w, Scaling); Persisted.WriteEnum(w, SeasonalAdjustment); Persisted.WriteEnum(w, Base);
        w.Write(ZeroHeadInitialization); w.Write(CorrectionDamping); w.Write(SeasonalFeatures); w.Write(Recursive);
        Persisted.WriteEnum(w, Cell);
        w.Write(HiddenSizes.Count);
        foreach (int h in HiddenSizes) w.Write(h);
        Persisted.WriteEnum(w, Activation);
        w.Write(LayerNormalization); w.Write(EnsembleSize); w.Write(ValidationFraction);
    }

    // *** Binary format, payload version 3 (after the version-2 fields) ***
    // int32 Cf, int32[Cf] known-future covariate indices; int32 Z; bool scale feature; float[] quantile levels;
    // from transformer format 6: int32 S, the series the networks read by index (0: none); int32 k, int32[k] the
    // category counts of the static features given by index (the last k of the Z); from transformer format 8: int32 P,
    // int32[P] the candidate seasonal periods (SeasonalPeriods); from transformer format 9: int32 D, int32[D] the
    // dilations (Dilations), bool residual connections (ResidualConnections); from transformer format 11: bool decoder
    // steps (DecoderSteps)
    internal void WriteExtension(BinaryWriter w, bool seasonalPeriods, bool architecture, bool decoderSteps = false)
    {
        // Without the flag a reader rebuilds networks without decoder steps, whose parameters would not fit.
        if (!decoderSteps && HasDecoderSteps) throw new InvalidOperationException("Settings with decoder steps need the format that records them (transformer format 11).");
        architecture |= decoderSteps;
        w.Write(KnownFutureCovariates.Count);
        foreach (int c in KnownFutureCovariates) w.Write(c);
        w.Write(StaticFeatureCount);
        w.Write(ScaleFeature);
        Persisted.WriteArray(w, Quantiles.ToArray());
        w.Write(SeriesCategories);
        w.Write(StaticCategories.Count);
        foreach (int c in StaticCategories) w.Write(c);
        // Format 9 writes the periods block too, even empty, so the architecture always sits after it.
        if (!seasonalPeriods && !architecture) return;
        w.Write(SeasonalPeriods.Count);
        foreach (int p in SeasonalPeriods) w.Write(p);
        if (!architecture) return;
        w.Write(Dilations.Count);
        foreach (int d in Dilations) w.Write(d);
        w.Write(ResidualConnections);
        if (decoderSteps) w.Write(HasDecoderSteps);
    }

    /// <summary>Whether the networks use dilations or residual connections between stacked layers, which only
    /// transformer format 9 records. Residual connections on a single layer connect nothing, so such a model is
    /// written as before.</summary>
    internal bool HasArchitectureOptions => Dilations.Count > 0 || (ResidualConnections && HiddenSizes.Count > 1);

    /// <summary>Reads what <see cref="WriteExtension"/> wrote onto the version-2 settings; <paramref name="seriesCategories"/>:
    /// the series count is there (transformer format 6 on); <paramref name="seasonalPeriods"/>: the candidate periods are
    /// (transformer format 8 on); <paramref name="architecture"/>: the dilations and residual flag follow them (format 9 on);
    /// <paramref name="decoderSteps"/>: the decoder-steps flag follows those (format 11 on, which implies the others).</summary>
    internal static ForecasterSettings ReadExtension(BinaryReader r, ForecasterSettings s, bool seriesCategories, bool seasonalPeriods, bool architecture,
        bool decoderSteps = false)
    {
        architecture |= decoderSteps;
        seasonalPeriods |= architecture;
        int cf = r.ReadInt32();
        if (cf < 0 || cf > s.CovariateCount) throw new InvalidDataException($"Known-future covariate count {cf} is out of range (0 to {s.CovariateCount}).");
        var future = new int[cf];
        for (int i = 0; i < cf; i++)
        {
            future[i] = r.ReadInt32();
            if (future[i] < 0 || future[i] >= s.CovariateCount || (i > 0 && future[i] <= future[i - 1]))
                throw new InvalidDataException($"Known-future covariate index {future[i]} is out of range or out of order.");
        }
        int z = r.ReadInt32();
        if (z < 0 || z > 1 << 16) throw new InvalidDataException($"Static feature count {z} is out of range.");
        bool scale = r.ReadBoolean();
        var quantiles = Persisted.ReadArray(r, 256);
        for (int q = 0; q < quantiles.Length; q++)
            if (!(quantiles[q] > 0f && quantiles[q] < 1f) || (q > 0 && !(quantiles[q] > quantiles[q - 1])))
                throw new InvalidDataException($"Saved quantile levels are out of range or out of order: {string.Join(", ", quantiles)}.");
        if (quantiles.Length > 0 && Array.IndexOf(quantiles, 0.5f) < 0) throw new InvalidDataException("Saved quantile levels lack the median, 0.5.");
        int categories = seriesCategories ? r.ReadInt32() : 0;
        if (categories < 0 || categories > RecurrentNetworkSpec.MaximumInputCategories)
            throw new InvalidDataException($"The saved count of series read by index, {categories}, is out of range.");
        int k = seriesCategories ? r.ReadInt32() : 0;
        if (k < 0 || k > z) throw new InvalidDataException($"The saved count of static categories, {k}, is out of range (0 to {z}).");
        var staticCategories = new int[k];
        for (int j = 0; j < k; j++) staticCategories[j] = r.ReadInt32();
        int P = seasonalPeriods ? r.ReadInt32() : 0;
        if (P < 0 || P > 64) throw new InvalidDataException($"The saved count of candidate seasonal periods, {P}, is out of range (0 to 64).");
        var periods = new int[P];
        for (int j = 0; j < P; j++)
        {
            periods[j] = r.ReadInt32();
            if (periods[j] < 1 || periods[j] > 1 << 20) throw new InvalidDataException($"A saved candidate seasonal period, {periods[j]}, is out of range.");
        }
        if (P > 0 && Array.IndexOf(periods, s.SeasonalPeriod) < 0)
            throw new InvalidDataException($"The saved candidate seasonal periods ({string.Join(", ", periods)}) lack the model's period {s.SeasonalPeriod}.");
        int D = architecture ? r.ReadInt32() : 0;
        if (D < 0 || D > s.HiddenSizes.Count) throw new InvalidDataException($"The saved count of dilations, {D}, is out of range (0 to {s.HiddenSizes.Count}).");
        var dilations = new int[D];
        for (int j = 0; j < D; j++) dilations[j] = r.ReadInt32();
        bool residual = architecture && r.ReadBoolean();
        bool steps = decoderSteps && r.ReadBoolean();
        if (steps && s.Recursive) throw new InvalidDataException("The saved settings ask for decoder steps with the recursive strategy, which has none.");
        // The spec's validation (Checked) bounds each count.
        return Checked(s with
        {
            KnownFutureCovariates = future, StaticFeatureCount = z, ScaleFeature = scale, Quantiles = quantiles, SeriesCategories = categories,
            StaticCategories = staticCategories, SeasonalPeriods = periods, Dilations = dilations, ResidualConnections = residual,
            DecoderSteps = steps,
        });
    }

    /// <summary>Reads what <see cref="Write"/> wrote. Training options are not persisted: a loaded model
    /// forecasts, it does not retrain.</summary>
    internal static ForecasterSettings Read(BinaryReader r)
    {
        int w = r.ReadInt32(), h = r.ReadInt32(), m = r.ReadInt32(), c = r.ReadInt32();
        var scaling = Persisted.ReadEnum<SeriesScaling>(r);
        var adjustment = Persisted.ReadEnum<SeasonalAdjustment>(r);
        var b = Persisted.ReadEnum<ForecastBase>(r);
        bool zeroHead = r.ReadBoolean(), damping = r.ReadBoolean(), seasonal = r.ReadBoolean(), recursive = r.ReadBoolean();
        var cell = Persisted.ReadEnum<RecurrentCellKind>(r);
        var hidden = ReadHidden(r);
        var activation = Persisted.ReadEnum<ElmanActivation>(r);
        bool ln = r.ReadBoolean();
        int ensemble = r.ReadInt32();
        float vf = r.ReadSingle();
        return Checked(new ForecasterSettings
        {
            WindowSize = w, Horizon = h, SeasonalPeriod = m, CovariateCount = c, Scaling = scaling, SeasonalAdjustment = adjustment, Base = b,
            ZeroHeadInitialization = zeroHead, CorrectionDamping = damping, SeasonalFeatures = seasonal, Recursive = recursive,
            Cell = cell, HiddenSizes = hidden, Activation = activation, LayerNormalization = ln, EnsembleSize = ensemble, ValidationFraction = vf,
        });
    }

    /// <summary>Reads the settings of payload version 1 (enums as integers, seasonal naive as the only base), as
    /// the equivalent version-2 settings: a v1 model is a seasonal-naive base without seasonal adjustment.</summary>
    internal static ForecasterSettings ReadVersion1(BinaryReader r)
    {
        int w = r.ReadInt32(), h = r.ReadInt32(), m = r.ReadInt32(), c = r.ReadInt32();
        var scaling = Version1Enum<SeriesScaling>(r.ReadInt32());
        bool seasonal = r.ReadBoolean(), recursive = r.ReadBoolean(), baseline = r.ReadBoolean(), shrink = r.ReadBoolean();
        var cell = Version1Enum<RecurrentCellKind>(r.ReadInt32());
        var hidden = ReadHidden(r);
        var activation = Version1Enum<ElmanActivation>(r.ReadInt32());
        bool ln = r.ReadBoolean();
        int ensemble = r.ReadInt32();
        float vf = r.ReadSingle();
        r.ReadBoolean();   // v1's RefitOnFullSeries: the networks were refitted before saving; nothing to do at load
        return Checked(new ForecasterSettings
        {
            WindowSize = w, Horizon = h, SeasonalPeriod = m, CovariateCount = c, Scaling = scaling, SeasonalAdjustment = SeasonalAdjustment.None,
            Base = baseline ? ForecastBase.SeasonalNaive : ForecastBase.None, ZeroHeadInitialization = baseline, CorrectionDamping = shrink,
            SeasonalFeatures = seasonal, Recursive = recursive, Cell = cell, HiddenSizes = hidden, Activation = activation, LayerNormalization = ln,
            EnsembleSize = ensemble, ValidationFraction = vf, Version1 = true,
        });
    }

    // Version 1 wrote these enums as their integer values; these are the values of that release, pinned here so
    // that reordering the enums can never change what an old file means.
    private static T Version1Enum<T>(int value) where T : struct, Enum
    {
        string[] names = typeof(T) == typeof(SeriesScaling) ? ["Auto", "LogRatio", "Difference", "Global"]
            : typeof(T) == typeof(RecurrentCellKind) ? ["Elman", "Lstm", "Gru"]
            : typeof(T) == typeof(ElmanActivation) ? ["Tanh", "Sigmoid", "Relu", "LeakyRelu", "RandomizedLeakyRelu", "Elu"]
            : throw new InvalidOperationException($"No version-1 table for {typeof(T).Name}.");
        if (value < 0 || value >= names.Length) throw new InvalidDataException($"{typeof(T).Name} value {value} is out of range for format version 1.");
        return Enum.Parse<T>(names[value]);
    }

    private static int[] ReadHidden(BinaryReader r)
    {
        int layers = r.ReadInt32();
        if (layers < 1 || layers > 64) throw new InvalidDataException($"Layer count {layers} is out of range.");
        var hidden = new int[layers];
        for (int i = 0; i < layers; i++) hidden[i] = r.ReadInt32();
        return hidden;
    }

    private static ForecasterSettings Checked(ForecasterSettings s)
    {
        if (s.WindowSize < 1 || s.Horizon < 1 || s.SeasonalPeriod < 1 || s.CovariateCount < 0 || s.EnsembleSize < 0 || s.EnsembleSize > 1024
            || s.WindowSize > 1 << 20 || s.Horizon > 1 << 20 || s.SeasonalPeriod > 1 << 20 || s.CovariateCount > 4096)
            throw new InvalidDataException($"Saved forecaster settings are out of range (window {s.WindowSize}, horizon {s.Horizon}, period {s.SeasonalPeriod}, covariates {s.CovariateCount}, ensemble {s.EnsembleSize}).");
        try
        {
            s.NetworkSpec.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The saved network settings are invalid: {ex.Message}", ex);
        }
        return s;
    }
}

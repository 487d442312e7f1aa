using System.ComponentModel;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting;

// W = window, H = horizon, m = seasonal period, Z = static features.

/// <summary>
/// What a forecaster fits to one series on its own, whether the series is fitted alone or as one of a panel that
/// shares the networks: its season, its statistical base, the scaling of its windows, and its static features.
/// The networks see every series through these, in the series' own units, so series of very different size and
/// shape train together.
/// </summary>
/// <remarks>
/// A handle that a <see cref="ForecastModel"/> gives out (<see cref="ForecastModel.Series"/>, <see cref="ForecastModel.FitSeries"/>)
/// and takes back to make states and forecasts. The stable API: <see cref="FirstOrigin"/>, <see cref="CorrectionWeight"/>,
/// <see cref="Category"/>.
/// </remarks>
public sealed class SeriesFit
{
    internal SeriesFit(int seasonalPeriod, SeasonalDecomposition season, Baseline? baseline, WindowScaler scaler, float[] staticFeatures, float logScale,
        IReadOnlyList<BaselineCandidate> candidates, bool constant)
    {
        SeasonalPeriod = seasonalPeriod; Season = season; Baseline = baseline; Scaler = scaler; StaticFeatures = staticFeatures; LogScale = logScale;
        Candidates = candidates; Constant = constant;
    }

    /// <summary>m of this series: <see cref="ForecasterSettings.SeasonalPeriod"/>, or with
    /// <see cref="ForecasterSettings.SeasonalPeriods"/> the candidate its own training data supported best. Its season,
    /// base, seasonal features and window scaling all use it.</summary>
    public int SeasonalPeriod { get; }

    /// <summary>Values of raw history a forecast of this series reads: the window, and one season for seasonal naive.</summary>
    internal int HistoryLength(ForecasterSettings s) => Math.Max(s.WindowSize, SeasonalPeriod);

    internal SeasonalDecomposition Season { get; }            // removed before the networks see a window
    /// <summary>The series' base; null without one (<see cref="ForecastBase.None"/>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Baseline? Baseline { get; }
    internal WindowScaler Scaler { get; }
    internal float[] StaticFeatures { get; }                  // (Z) encoded: standardised numbers, then category indices (StaticCategories)
    internal float LogScale { get; }                          // ln(1 + mean |x|) of the training values, before standardising
    internal IReadOnlyList<BaselineCandidate> Candidates { get; }   // the base selection's ranking; empty when fixed by the options
    internal bool Constant { get; }                           // the training values are all equal: the base alone, zero-width bounds

    /// <summary>Better-scored bases passed over because their forecast from the end of a positive series fell to zero or
    /// below (<see cref="InDomain"/>); known when fitted, not saved.</summary>
    internal int BasesPassedOver { get; private init; }

    /// <summary>The base selection's ranking as fitted (null when the base is fixed by the options) and the shorter season
    /// the period nests in, so a panel can combine the candidates after learning how (<see cref="WithCombination"/>);
    /// known when fitted, not saved.</summary>
    internal IReadOnlyList<RankedBase>? Ranked { get; private init; }
    internal int NestedIn { get; private init; } = 1;

    /// <summary>This series' own weight λ of the networks' correction in a panel: estimated from its held-out
    /// windows and shrunk towards the panel's λ (CorrectionWeights.FitSeriesWeights). Null: the model's λ
    /// (a single series, a series started cold, a model saved before transformer format 5).</summary>
    public float? CorrectionWeight { get; internal set; }

    /// <summary>This series' index among the model's training series, which the networks read with
    /// <see cref="ForecasterSettings.SeriesCategories"/>: its position in the model. −1: none (no such input, or a
    /// series started cold).</summary>
    public int Category { get; internal set; } = -1;

    /// <summary>The first origin (values seen) a forecast can be made from: a full window, and the history the base
    /// reads (one season for seasonal naive; two values for the smoothing methods' start).</summary>
    public int FirstOrigin(ForecasterSettings s) => Math.Max(s.MinimumForecastLength, Baseline?.HistoryLength ?? 1);

    /// <summary>Fits the season, the base and the scaling to <paramref name="values"/>: the base chosen by a
    /// rolling-origin evaluation when <see cref="ForecasterSettings.Base"/> is Auto.</summary>
    /// <exception cref="ArgumentException">The values do not suit an explicit option (a multiplicative season or a
    /// log-ratio scaling of a series that is not positive; a season longer than half the series).</exception>
    /// <param name="s">The settings.</param>
    /// <param name="values">The training series.</param>
    /// <param name="staticFeatures">Its encoded static features.</param>
    /// <param name="combination">A panel's learned combination of the candidates (<see cref="WithCombination"/>), or null.</param>
    internal static SeriesFit Fit(ForecasterSettings s, float[] values, float[] staticFeatures, BaseCombination? combination = null)
    {
        int n = values.Length, W = s.WindowSize, H = s.Horizon;
        var periods = s.CandidatePeriods;
        bool constant = values.AsSpan().IndexOfAnyExcept(values[0]) < 0;
        BaselineMethod[]? methods = s.Base.Methods();
        IReadOnlyList<RankedBase>? ranked = null;
        int m = periods[0];
        if (periods.Count > 1)
        {
            // The period is chosen with the base, by the same evaluation; a fixed base is the judge of the period, and
            // without a base (None) the default candidates judge it, the base they pick being dropped.
            var judges = methods is null || s.Base == ForecastBase.Auto ? BaselineSelection.DefaultCandidates : [methods];
            (m, ranked) = BaselineSelection.RankPeriods(values, periods, H, s.SeasonalAdjustment, judges, BaselineSelection.MaxOrigins);
        }
        // The season is resolved once (Auto: tested) and shared by the networks' inputs and the base's smoothing; a
        // candidate period that is a multiple of a shorter candidate (a week of hours) is shrunk towards the nested season.
        int nestedIn = SeasonalDecomposition.NestedIn(periods, m);
        var season = SeasonalDecomposition.Fit(values, m, s.SeasonalAdjustment, nestedIn);
        IReadOnlyList<BaselineCandidate> candidates = [];
        if (s.Base == ForecastBase.Auto)
        {
            ranked ??= BaselineSelection.Rank(values, m, H, season.Kind, BaselineSelection.DefaultCandidates, BaselineSelection.MaxOrigins);
            candidates = ranked.Select(BaseMethodCodes.ToCandidate).ToArray();
            methods = ranked[0].Methods.ToArray();
        }
        static BaselineMethod[] Runnable(IReadOnlyList<BaselineMethod> methods, int n, int m)
            => methods.Contains(BaselineMethod.SeasonalNaive) && n < m ? [BaselineMethod.Naive] : methods.ToArray();
        var baseline = methods is null ? null : Baselines.Baseline.Fit(values, m, season.Kind, Runnable(methods, n, m), nestedIn);
        int passedOver = 0;
        if (s.Base == ForecastBase.Auto && ranked is not null && baseline is not null && !constant && values.AsSpan().IndexOfAnyInRange(float.MinValue, 0f) < 0)
        {
            // A positive series is not forecast to fall to zero or below: a trend that runs out of the series' domain
            // within the horizon scored well at the evaluation's origins only because it had not run out there. The
            // next candidate in the ranking that stays positive is taken; if none does, the best-scored one.
            var best = baseline;
            while (!InDomain(baseline, values, H) && ++passedOver < ranked.Count)
                baseline = Baselines.Baseline.Fit(values, m, season.Kind, Runnable(ranked[passedOver].Methods, n, m), nestedIn);
            if (passedOver == ranked.Count) (baseline, passedOver) = (best, 0);
        }

        var adjusted = new float[n];
        for (int t = 0; t < n; t++) adjusted[t] = season.Deseasonalize(values[t], t);
        var scaler = WindowScaler.Fit(s.Scaling, adjusted, W, m);
        var fit = new SeriesFit(m, season, baseline, scaler, staticFeatures, RawLogScale(values), candidates, constant)
        {
            BasesPassedOver = passedOver, Ranked = s.Base == ForecastBase.Auto ? ranked : null, NestedIn = nestedIn,
        };
        return combination is null ? fit : fit.WithCombination(combination, values, s.Horizon);
    }

    /// <summary>
    /// This fit with its base replaced by the equal mean of the selection's base and <paramref name="combination"/>'s
    /// weighting of the candidates on this series' scores (<see cref="BaseCombination.Mixed"/>); itself where the base
    /// was not chosen by the selection, the series is constant or too short to be scored, or (on a positive series) the
    /// combined forecast would fall to zero or below within the horizon, where the selection's rule keeps its base. The
    /// season and scaling are the same either way.
    /// </summary>
    internal SeriesFit WithCombination(BaseCombination combination, float[] values, int horizon)
    {
        if (Ranked is null || Baseline is null || Constant || BaseCombination.LogScores(Ranked) is not { } logScore) return this;
        var (methods, weights) = combination.Mixed(Baseline.Methods, logScore, seasonalNaiveRunnable: values.Length >= SeasonalPeriod);
        var combined = methods.Length == 1 ? Baselines.Baseline.Fit(values, SeasonalPeriod, Season.Kind, methods, NestedIn)
            : Baselines.Baseline.Fit(values, SeasonalPeriod, Season.Kind, methods, NestedIn, weights);
        if (values.AsSpan().IndexOfAnyInRange(float.MinValue, 0f) < 0 && !InDomain(combined, values, horizon)) return this;
        return new SeriesFit(SeasonalPeriod, Season, combined, Scaler, StaticFeatures, LogScale, Candidates, Constant)
        {
            Ranked = Ranked, NestedIn = NestedIn, CorrectionWeight = CorrectionWeight, Category = Category,
        };
    }

    /// <summary>A value the networks read or give (scaled by the window's <paramref name="level"/>, the season
    /// removed) back in the series' units at time <paramref name="t"/>.</summary>
    internal float ToSeriesUnits(float y, float level, long t) => Season.Reseasonalize(Scaler.Inverse(y, level), t);

    /// <summary>Whether <paramref name="baseline"/>'s forecast of the <paramref name="horizon"/> values after
    /// <paramref name="values"/> stays above zero.</summary>
    internal static bool InDomain(Baseline baseline, float[] values, int horizon)
    {
        var state = new double[baseline.StateSize];
        baseline.ObserveAll(state, values);
        float[] forecast = new float[horizon], scratch = new float[horizon];
        baseline.Forecast(state, values, values.Length, forecast, scratch);
        foreach (float f in forecast)
            if (!(f > 0f)) return false;
        return true;
    }

    /// <summary>ln(1 + mean |x|): the size of a series, on a scale where series of 10 and 10⁶ differ by a few units.</summary>
    internal static float RawLogScale(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += Math.Abs(v);
        return (float)Math.Log(1 + sum / Math.Max(1, values.Length));
    }

    // *** Binary format (payload version 3) ***
    // seasonal decomposition; bool has base, base; scaler; float[] static features; float log scale; bool constant;
    // int32 candidate count, per candidate int32 count + method names, double score;
    // from transformer format 8: int32 the series' own seasonal period (the base's weights, from format 10, inside the base)
    internal void Write(BinaryWriter w, bool seasonalPeriod, bool baseWeights)
    {
        Season.Write(w);
        w.Write(Baseline is not null);
        Baseline?.Write(w, baseWeights);
        Scaler.Write(w);
        Persisted.WriteArray(w, StaticFeatures);
        w.Write(LogScale);
        w.Write(Constant);
        w.Write(Candidates.Count);
        foreach (var c in Candidates)
        {
            w.Write(c.Methods.Count);
            foreach (var m in c.Methods) BaseMethodCodes.WriteMethod(w, m);
            w.Write(c.Score);
        }
        if (seasonalPeriod) w.Write(SeasonalPeriod);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; <paramref name="seasonalPeriod"/>: the series' period is there
    /// (transformer format 8 on; before, every series had the settings' period); <paramref name="baseWeights"/>: the
    /// base's weights are there (transformer format 10 on).</summary>
    internal static SeriesFit Read(BinaryReader r, ForecasterSettings s, bool seasonalPeriod, bool baseWeights)
    {
        var season = SeasonalDecomposition.Read(r);
        var baseline = r.ReadBoolean() ? Baselines.Baseline.Read(r, baseWeights) : null;
        var scaler = WindowScaler.Read(r);
        var features = Persisted.ReadArray(r, 1 << 16);
        if (features.Length != s.StaticFeatureCount)
            throw new InvalidDataException($"A saved series has {features.Length} static features; the model reads {s.StaticFeatureCount}.");
        float logScale = r.ReadSingle();
        bool constant = r.ReadBoolean();
        int count = r.ReadInt32();
        if (count < 0 || count > 64) throw new InvalidDataException($"The saved candidate count {count} is out of range (0 to 64).");
        var candidates = new BaselineCandidate[count];
        for (int i = 0; i < count; i++)
        {
            int k = r.ReadInt32();
            if (k < 1 || k > 16) throw new InvalidDataException($"The saved method count {k} is out of range (1 to 16).");
            var methods = new ForecastBase[k];
            for (int j = 0; j < k; j++) methods[j] = BaseMethodCodes.ReadMethod(r);
            candidates[i] = new BaselineCandidate(methods, r.ReadDouble());
        }
        int m = seasonalPeriod ? r.ReadInt32() : s.SeasonalPeriod;
        if (!s.CandidatePeriods.Contains(m))
            throw new InvalidDataException($"A saved series has seasonal period {m}; the model's candidates are {string.Join(", ", s.CandidatePeriods)}.");
        // The season and the base carry their own period; a series must agree with itself.
        if ((season.Kind != SeasonalAdjustment.None && season.Period != m) || (baseline is not null && baseline.SeasonalPeriod != m))
            throw new InvalidDataException($"A saved series has seasonal period {m} but its season or base another.");
        return new SeriesFit(m, season, baseline, scaler, features, logScale, candidates, constant);
    }
}

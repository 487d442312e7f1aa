using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting.Baselines;

/// <summary>
/// A fitted statistical forecast: a seasonal decomposition, and one method or a combination of several, with equal
/// weights or those a panel learned (<see cref="BaseCombination"/>) (combining the M4 way: each method on the adjusted
/// series, reseasonalised, then averaged; seasonal naive on the raw series). It carries its smoothing state as a small array (<see cref="StateSize"/>), so the
/// forecaster can read its forecast at every training origin in one pass and the engine can move it on by one
/// observation at a time.
/// </summary>
/// <remarks>t counts values from the first training value (t = 0), the same clock as the seasonal indices.</remarks>
public sealed class Baseline
{
    private readonly SmoothingModel[] _models;   // the smoothing members, each with SmoothingModel.StateSize numbers of state
    private readonly bool _seasonalNaive;       // seasonal naive is a member too
    private readonly float[] _weights;          // per member of Methods (smoothing members, then seasonal naive), summing to 1

    private Baseline(SeasonalDecomposition season, int seasonalPeriod, SmoothingModel[] models, bool seasonalNaive, float[]? weights = null)
    {
        Season = season; SeasonalPeriod = seasonalPeriod; _models = models; _seasonalNaive = seasonalNaive;
        Methods = models.Select(m => m.Method).Concat(seasonalNaive ? [BaselineMethod.SeasonalNaive] : []).ToArray();
        Weighted = weights is not null;
        _weights = weights ?? Enumerable.Repeat(1f / Methods.Count, Methods.Count).ToArray();
    }

    /// <summary>The members are weighted as a panel learned (<see cref="BaseCombination"/>), not equally.</summary>
    internal bool Weighted { get; }

    /// <summary>Each member's weight, in <see cref="Methods"/> order.</summary>
    internal IReadOnlyList<float> Weights => _weights;

    /// <summary>The seasonal adjustment the smoothing members work on.</summary>
    public SeasonalDecomposition Season { get; }

    /// <summary>m, the period seasonal naive repeats (also when the adjustment found no season).</summary>
    public int SeasonalPeriod { get; }

    /// <summary>The methods averaged, in order.</summary>
    internal IReadOnlyList<BaselineMethod> Methods { get; }

    /// <summary>Values of raw history <see cref="Forecast"/> reads: one season for seasonal naive, else 1.</summary>
    public int HistoryLength => _seasonalNaive ? SeasonalPeriod : 1;

    /// <summary>Numbers of smoothing state.</summary>
    public int StateSize => _models.Length * SmoothingModel.StateSize;

    /// <summary>Short description, e.g. "Theta on multiplicative adjustment (m = 12)" or "mean of SES, Holt, DampedTrend".</summary>
    public string Description
    {
        get
        {
            string methods = Methods.Count == 1 ? Methods[0].ToString()
                : Weighted ? "weighted mean of " + string.Join(", ", Methods.Select((m, i) => (m, w: _weights[i])).OrderByDescending(x => x.w)
                    .Select(x => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{x.m} {x.w:0.00}")))
                : "mean of " + string.Join(", ", Methods);
            return Season.Kind == SeasonalAdjustment.None || _models.Length == 0 ? methods : $"{methods} on {Season.Kind.ToString().ToLowerInvariant()} seasonal adjustment (m = {Season.Period})";
        }
    }

    /// <summary>Fits <paramref name="methods"/> (averaged) to a raw series.</summary>
    /// <param name="values">The training series, oldest first; at least two values, and at least one season when
    /// <paramref name="methods"/> contains seasonal naive.</param>
    /// <param name="seasonalPeriod">m, at least 1.</param>
    /// <param name="adjustment">How the season is removed before the smoothing members (Auto: test, then
    /// multiplicative for positive series).</param>
    /// <param name="methods">One or more distinct methods.</param>
    /// <param name="nestedIn">The shorter season the period nests in (<see cref="SeasonalDecomposition.NestedIn"/>), or 1.</param>
    /// <param name="weights">Each method's weight, positive and summing to 1 (a learned combination); null: equal.</param>
    /// <exception cref="ArgumentException">Too few values, no method, a repeated method, or weights that do not match.</exception>
    internal static Baseline Fit(ReadOnlySpan<float> values, int seasonalPeriod, SeasonalAdjustment adjustment, IReadOnlyList<BaselineMethod> methods,
        int nestedIn = 1, IReadOnlyList<float>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(methods);
        if (methods.Count == 0) throw new ArgumentException("A baseline needs at least one method.", nameof(methods));
        if (weights is not null && (weights.Count != methods.Count || methods.Distinct().Count() != methods.Count || weights.Any(x => !(x > 0f))
            || Math.Abs(weights.Sum() - 1f) > 1e-4f))
            throw new ArgumentException($"Weights ({string.Join(", ", weights)}) must be one positive weight per distinct method ({string.Join(", ", methods)}), summing to 1.", nameof(weights));
        if (values.Length < 2) throw new ArgumentException($"A baseline needs at least 2 values; got {values.Length}.", nameof(values));
        bool seasonalNaive = methods.Contains(BaselineMethod.SeasonalNaive);
        if (seasonalNaive && values.Length < seasonalPeriod)
            throw new ArgumentException($"Seasonal naive needs one season ({seasonalPeriod} values); got {values.Length}.", nameof(values));
        var smoothing = methods.Where(m => m != BaselineMethod.SeasonalNaive).Distinct().ToArray();
        var season = smoothing.Length == 0 ? SeasonalDecomposition.Identity : SeasonalDecomposition.Fit(values, seasonalPeriod, adjustment, nestedIn);
        var d = new float[values.Length];
        for (int t = 0; t < d.Length; t++) d[t] = season.Deseasonalize(values[t], t);
        var models = smoothing.Select(m => SmoothingModel.Fit(m, d)).ToArray();
        // The members are kept as smoothing members then seasonal naive; the weights follow them there.
        float[]? memberWeights = weights is null ? null
            : smoothing.Concat(seasonalNaive ? [BaselineMethod.SeasonalNaive] : []).Select(m => weights[IndexOf(methods, m)]).ToArray();
        return new Baseline(season, seasonalPeriod, models, seasonalNaive, memberWeights);
    }

    private static int IndexOf(IReadOnlyList<BaselineMethod> methods, BaselineMethod method)
    {
        for (int i = 0; i < methods.Count; i++)
            if (methods[i] == method) return i;
        return -1;
    }

    /// <summary>Seasonal naive alone, with period <paramref name="seasonalPeriod"/>: nothing to fit.</summary>
    public static Baseline SeasonalNaiveOnly(int seasonalPeriod) => new(SeasonalDecomposition.Identity, seasonalPeriod, [], true);

    /// <summary>Starts the state before any observation.</summary>
    public void Reset(Span<double> state) => state[..StateSize].Clear();

    /// <summary>Moves the state on by the raw observation <paramref name="x"/> at time <paramref name="t"/>. No allocation.</summary>
    public void Observe(Span<double> state, float x, long t)
    {
        double d = Season.Deseasonalize(x, t);
        for (int i = 0; i < _models.Length; i++) _models[i].Update(state.Slice(i * SmoothingModel.StateSize, SmoothingModel.StateSize), d);
    }

    /// <summary>Runs the state over a whole series from t = 0.</summary>
    public void ObserveAll(Span<double> state, ReadOnlySpan<float> values)
    {
        Reset(state);
        for (int t = 0; t < values.Length; t++) Observe(state, values[t], t);
    }

    /// <summary>
    /// The next <c>forecast.Length</c> raw values after the state.
    /// </summary>
    /// <param name="state">After observing every value up to time <paramref name="next"/> − 1.</param>
    /// <param name="history">The newest raw values, oldest first, at least <see cref="HistoryLength"/> of them.</param>
    /// <param name="next">The time of the first value forecast.</param>
    /// <param name="forecast">Written, raw units.</param>
    /// <param name="scratch">At least <c>forecast.Length</c> floats.</param>
    public void Forecast(ReadOnlySpan<double> state, ReadOnlySpan<float> history, long next, Span<float> forecast, Span<float> scratch)
    {
        int H = forecast.Length, m = SeasonalPeriod;
        forecast.Clear();
        var member = scratch[..H];
        for (int i = 0; i < _models.Length; i++)
        {
            _models[i].Forecast(state.Slice(i * SmoothingModel.StateSize, SmoothingModel.StateSize), member);
            for (int k = 0; k < H; k++) forecast[k] += Weighted ? _weights[i] * Season.Reseasonalize(member[k], next + k) : Season.Reseasonalize(member[k], next + k);
        }
        if (_seasonalNaive)
        {
            if (history.Length < m) throw new ArgumentException($"Seasonal naive needs the last {m} values; got {history.Length}.", nameof(history));
            var season = history[^m..];
            for (int k = 0; k < H; k++) forecast[k] += Weighted ? _weights[^1] * season[k % m] : season[k % m];
        }
        // Equal weights divide the sum, as they always did, so an unweighted base forecasts to the bit as before.
        if (Weighted) return;
        float count = Methods.Count;
        for (int k = 0; k < H; k++) forecast[k] /= count;
    }

    // *** Binary format ***
    // int32 m; season; bool seasonal naive; int32 smoothing members, each SmoothingModel.Write;
    // from transformer format 10 (weights: true): bool weighted, then float[] one weight per member (Persisted array)
    internal void Write(BinaryWriter w, bool weights)
    {
        if (Weighted && !weights) throw new InvalidOperationException("A weighted base needs the format that holds its weights (transformer format 10).");
        w.Write(SeasonalPeriod);
        Season.Write(w);
        w.Write(_seasonalNaive);
        w.Write(_models.Length);
        foreach (var model in _models) model.Write(w);
        if (!weights) return;
        w.Write(Weighted);
        if (Weighted) Persisted.WriteArray(w, _weights);
    }

    internal static Baseline Read(BinaryReader r, bool weights)
    {
        int m = r.ReadInt32();
        if (m < 1 || m > 1 << 20) throw new InvalidDataException($"Seasonal period {m} is out of range.");
        var season = SeasonalDecomposition.Read(r);
        bool seasonalNaive = r.ReadBoolean();
        int count = r.ReadInt32();
        if (count < 0 || count > 16 || (count == 0 && !seasonalNaive)) throw new InvalidDataException($"Baseline member count {count} is out of range.");
        var models = new SmoothingModel[count];
        for (int i = 0; i < count; i++) models[i] = SmoothingModel.Read(r);
        float[]? memberWeights = null;
        if (weights && r.ReadBoolean())
        {
            memberWeights = Persisted.ReadArray(r, 17);
            if (memberWeights.Length != count + (seasonalNaive ? 1 : 0) || memberWeights.Any(x => !(x > 0f) || !float.IsFinite(x)) || Math.Abs(memberWeights.Sum() - 1f) > 1e-3f)
                throw new InvalidDataException($"The saved base weights ({string.Join(", ", memberWeights)}) are not one positive weight per member, summing to 1.");
        }
        return new Baseline(season, m, models, seasonalNaive, memberWeights);
    }
}

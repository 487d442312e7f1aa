using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting.Baselines;

// C = candidate bases (BaselineSelection.DefaultCandidates), R = training origins of a panel, h = horizon,
// s_c = a candidate's rolling-origin score (BaselineSelection), z_c = a_c − β·ln s_c the logits, w = softmax(z).
// An origin's forecasts are stored candidate-major: (C, steps), steps = min(h, values left after the origin).

/// <summary>
/// A combination of the candidate bases learned across a panel of series: a series' base is Σ_c w_c·f_c, the
/// candidates' forecasts weighted by w = softmax(a − β·ln s), where s_c is the candidate's score on the series (the
/// rolling-origin evaluation that <see cref="BaselineSelection"/> ranks by). The selection alone takes the best score;
/// a panel learns how far to trust a series' scores (β: the larger, the closer to the selection) and which
/// candidates to prefer whatever the scores say (a). It is learned on the panel's training values only: at up to eight
/// origins of every series, each candidate is refitted on the values before the origin, scored by the selection run on
/// those values alone, and (a, β) minimise the combination's scaled absolute error on the values after the origin.
/// A series ships with the equal mean of its selected base and this weighting (<see cref="Mixed"/>; ForecastTrainer
/// says why).
/// </summary>
/// <remarks>
/// Why: a series' own scores come from a few origins, which is a noisy judge (on M1's short series the selection alone
/// did worse than some single methods everywhere). A panel holds the evidence one series lacks: how well the
/// best-scored candidate does out of sample, and which candidates hold up. This is the idea of FFORMA
/// (Montero-Manso et al. 2020, second in M4), a combination learned across series, with the selection's scores as
/// the features (docs/design/collections.md).
/// </remarks>
public sealed class BaseCombination
{
    /// <summary>The origins a panel gives before a combination is learned: ten per parameter (C + 1). Below it the
    /// bases are chosen per series as without the option.</summary>
    public const int MinimumOrigins = 10 * (CandidateCount + 1);

    /// <summary>At most this many series of a panel, taken evenly, give training origins (up to 2,000 origins, over 200
    /// per parameter): C + 1 parameters need no more, and each origin costs a rolling-origin evaluation (about 18 ms on a
    /// series of 200 values, which 1,000 series made 70 s of the 10,000-series panel's 300 s budget).</summary>
    public const int MaximumSeries = 250;

    internal const int CandidateCount = 8;   // BaselineSelection.DefaultCandidates
    private const double ScoreFloor = 1e-3;  // ln(s + floor): a candidate that scored 0 on a series gets a finite logit
    private const int Steps = 400;           // Adam steps from each starting β
    private static readonly double[] Starts = [0, 2, 5, 10];

    internal BaseCombination(float[] bias, float sharpness)
    {
        if (bias.Length != CandidateCount) throw new ArgumentException($"A base combination has {CandidateCount} candidate biases; got {bias.Length}.", nameof(bias));
        Bias = bias; Sharpness = sharpness;
    }

    /// <summary>a, per candidate of <see cref="BaselineSelection.DefaultCandidates"/> (in that order).</summary>
    internal float[] Bias { get; }

    /// <summary>β, how much a series' own scores count.</summary>
    internal float Sharpness { get; }

    /// <summary>One training origin: every candidate's forecast from it (C, steps), the values after it (steps), the
    /// candidates' log-scores on the values before it (C), and the series' scale.</summary>
    internal sealed record Origin(float[] Forecasts, float[] Target, float[] LogScore, float Scale);

    // ------------------------------------------------------------------ the weights

    /// <summary>ln(s + floor) of each default candidate, in <see cref="BaselineSelection.DefaultCandidates"/> order, from
    /// a ranking of them; null when a candidate is missing or unscored (a series too short for any origin).</summary>
    internal static float[]? LogScores(IReadOnlyList<RankedBase> ranked)
    {
        var candidates = BaselineSelection.DefaultCandidates;
        var logScore = new float[CandidateCount];
        for (int c = 0; c < CandidateCount; c++)
        {
            var r = ranked.FirstOrDefault(x => ReferenceEquals(x.Methods, candidates[c]));
            if (r is null || !double.IsFinite(r.Score)) return null;
            logScore[c] = (float)Math.Log(r.Score + ScoreFloor);
        }
        return logScore;
    }

    /// <summary>w = softmax(a − β·logScore), written to <paramref name="w"/> (C).</summary>
    internal void Weights(ReadOnlySpan<float> logScore, Span<double> w) => Softmax(Bias, Sharpness, logScore, w);

    /// <summary>The weights as the methods a <see cref="Baseline"/> averages: each candidate's weight shared equally by
    /// its methods, weights under 0.001 dropped and the rest renormalised. Seasonal naive's share goes to naive where
    /// the series is shorter than a season (as the selection runs it).</summary>
    internal (BaselineMethod[] Methods, float[] Weights) MethodWeights(ReadOnlySpan<float> logScore, bool seasonalNaiveRunnable)
    {
        Span<double> w = stackalloc double[CandidateCount];
        Weights(logScore, w);
        var byMethod = new SortedDictionary<BaselineMethod, double>();
        for (int c = 0; c < CandidateCount; c++)
        {
            var methods = BaselineSelection.DefaultCandidates[c];
            foreach (var method in methods)
            {
                var m = method == BaselineMethod.SeasonalNaive && !seasonalNaiveRunnable ? BaselineMethod.Naive : method;
                byMethod[m] = byMethod.GetValueOrDefault(m) + w[c] / methods.Count;
            }
        }
        var kept = byMethod.Where(x => x.Value >= 1e-3).ToArray();
        double total = kept.Sum(x => x.Value);
        return (kept.Select(x => x.Key).ToArray(), kept.Select(x => (float)(x.Value / total)).ToArray());
    }

    /// <summary>
    /// The base a series ships with: the equal mean of the selection's base (<paramref name="selected"/>, its methods
    /// averaged) and the learned weighting (<see cref="MethodWeights"/>), as one set of method weights. The panel's
    /// evidence (the combination) and the series' own (its choice) each count half: two forecasts that err differently,
    /// averaged, and the networks, which learn the selection's errors, keep half of what they correct.
    /// </summary>
    internal (BaselineMethod[] Methods, float[] Weights) Mixed(IReadOnlyList<BaselineMethod> selected, ReadOnlySpan<float> logScore, bool seasonalNaiveRunnable)
    {
        var (methods, weights) = MethodWeights(logScore, seasonalNaiveRunnable);
        var mix = new SortedDictionary<BaselineMethod, float>();
        for (int i = 0; i < methods.Length; i++) mix[methods[i]] = weights[i] / 2;
        foreach (var m in selected) mix[m] = mix.GetValueOrDefault(m) + 0.5f / selected.Count;
        return (mix.Keys.ToArray(), mix.Values.ToArray());
    }

    private static void Softmax(ReadOnlySpan<float> a, double beta, ReadOnlySpan<float> logScore, Span<double> w)
    {
        double max = double.NegativeInfinity;
        for (int c = 0; c < w.Length; c++) max = Math.Max(max, w[c] = a[c] - beta * logScore[c]);
        double sum = 0;
        for (int c = 0; c < w.Length; c++) sum += w[c] = Math.Exp(w[c] - max);
        for (int c = 0; c < w.Length; c++) w[c] /= sum;
    }

    // ------------------------------------------------------------------ the training origins

    /// <summary>
    /// A series' training origins: up to <paramref name="maxOrigins"/> of them, placed as the selection places its own
    /// (the last full-horizon one at n − h, then every ⌈h/2⌉ back; a short series also after n − h), each leaving two
    /// seasons and 10 values before it. At each, every default candidate is refitted on the values before it, on the
    /// season resolved there, and scored by the selection run on those values alone (with its own eight origins), so
    /// nothing after the origin reaches the weights it is judged with. Origins whose selection has nothing to score
    /// are skipped.
    /// </summary>
    internal static List<Origin> Origins(ReadOnlySpan<float> values, int m, int h, SeasonalAdjustment adjustment, int nestedIn, int maxOrigins)
    {
        var origins = new List<Origin>();
        int n = values.Length;
        float scale = (float)BaselineSelection.Scale(values, m);
        var all = new float[CandidateCount * h];
        foreach (int o in BaselineSelection.Origins(n, h, Math.Max(8, 2 * m) + 2, maxOrigins))
        {
            var prefix = values[..o];
            var kind = SeasonalDecomposition.Fit(prefix, m, adjustment, nestedIn).Kind;
            if (LogScores(BaselineSelection.Rank(prefix, m, h, kind, BaselineSelection.DefaultCandidates, BaselineSelection.MaxOrigins)) is not { } logScore) continue;
            int steps = Math.Min(h, n - o);
            CandidateForecasts(prefix, m, kind, nestedIn, all);
            var forecasts = new float[CandidateCount * steps];
            for (int c = 0; c < CandidateCount; c++) all.AsSpan(c * h, steps).CopyTo(forecasts.AsSpan(c * steps, steps));
            origins.Add(new Origin(forecasts, values.Slice(o, steps).ToArray(), logScore, scale));
        }
        return origins;
    }

    /// <summary>Every default candidate fitted on <paramref name="values"/> (seasonal naive as naive on fewer than a
    /// season, as the selection runs it) and its forecast of the h values after them, written candidate-major to
    /// <paramref name="forecasts"/> (C, h).</summary>
    internal static void CandidateForecasts(ReadOnlySpan<float> values, int m, SeasonalAdjustment kind, int nestedIn, Span<float> forecasts)
    {
        int h = forecasts.Length / CandidateCount;
        var state = new double[SmoothingModel.StateSize * 3];
        var scratch = new float[h];
        for (int c = 0; c < CandidateCount; c++)
        {
            var methods = BaselineSelection.DefaultCandidates[c];
            if (methods.Contains(BaselineMethod.SeasonalNaive) && values.Length < m) methods = [BaselineMethod.Naive];
            var b = Baseline.Fit(values, m, kind, methods, nestedIn);
            b.ObserveAll(state, values);
            b.Forecast(state, values, values.Length, forecasts.Slice(c * h, h), scratch);
        }
    }

    // ------------------------------------------------------------------ learning: the loss, forward and backward

    /// <summary>
    /// Learns (a, β) on <paramref name="origins"/>: Adam on the whole batch from a = 0 and each of a few starting β,
    /// the lowest loss kept. Null when there are fewer than <see cref="MinimumOrigins"/> origins.
    /// </summary>
    internal static BaseCombination? Learn(IReadOnlyList<Origin> origins)
    {
        if (origins.Count < MinimumOrigins) return null;
        var buffers = new Buffers(origins);
        (float[] A, double Beta, double Loss) best = (new float[CandidateCount], 0, double.PositiveInfinity);
        const double rate = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        foreach (double start in Starts)
        {
            var a = new float[CandidateCount];
            double beta = start;
            var (m1, m2) = (new double[CandidateCount + 1], new double[CandidateCount + 1]);
            for (int step = 1; step <= Steps; step++)
            {
                Forward(origins, a, beta, buffers);
                Backward(origins, beta, buffers);
                double c1 = 1 - Math.Pow(b1, step), c2 = 1 - Math.Pow(b2, step);
                for (int j = 0; j <= CandidateCount; j++)
                {
                    double g = j < CandidateCount ? buffers.GradBias[j] : buffers.GradSharpness;
                    m1[j] = b1 * m1[j] + (1 - b1) * g;
                    m2[j] = b2 * m2[j] + (1 - b2) * g * g;
                    double d = rate * (m1[j] / c1) / (Math.Sqrt(m2[j] / c2) + eps);
                    if (j < CandidateCount) a[j] -= (float)d;
                    else beta -= d;
                }
            }
            double loss = Forward(origins, a, beta, buffers);
            if (loss < best.Loss) best = (a, beta, loss);
        }
        return new BaseCombination(best.A, (float)best.Beta);
    }

    /// <summary>What the loss's forward pass keeps for its backward: every origin's weights (R, C) and the sign of each
    /// of its residuals (all origins' steps, origin by origin, from <see cref="Start"/>), and the gradients.</summary>
    internal sealed class Buffers(IReadOnlyList<Origin> origins)
    {
        public readonly double[] W = new double[origins.Count * CandidateCount];
        public readonly int[] Start = StartsOf(origins);
        public readonly sbyte[] Sign = new sbyte[origins.Sum(o => o.Target.Length)];

        private static int[] StartsOf(IReadOnlyList<Origin> origins)
        {
            var start = new int[origins.Count];
            for (int r = 1; r < origins.Count; r++) start[r] = start[r - 1] + origins[r - 1].Target.Length;
            return start;
        }

        public readonly double[] GradBias = new double[CandidateCount];
        public double GradSharpness;
    }

    /// <summary>The loss: the mean over origins of the combination's mean absolute error over the series' scale,
    /// L = (1/R) Σ_r (1/(steps·scale)) Σ_k |Σ_c w_rc f_rck − y_rk|. Keeps the weights for <see cref="Backward"/>.</summary>
    internal static double Forward(IReadOnlyList<Origin> origins, ReadOnlySpan<float> a, double beta, Buffers buffers)
    {
        double loss = 0;
        for (int r = 0; r < origins.Count; r++)
        {
            var x = origins[r];
            var w = buffers.W.AsSpan(r * CandidateCount, CandidateCount);
            Softmax(a, beta, x.LogScore, w);
            int steps = x.Target.Length;
            double e = 0;
            for (int k = 0; k < steps; k++)
            {
                double residual = Combined(x, w, k, steps) - x.Target[k];
                e += Math.Abs(residual);
                buffers.Sign[buffers.Start[r] + k] = (sbyte)Math.Sign(residual);
            }
            loss += e / (steps * x.Scale);
        }
        return loss / origins.Count;
    }

    /// <summary>dL/da and dL/dβ from the weights and residual signs <see cref="Forward"/> kept (the subgradient sign(0) = 0 where a
    /// residual is exactly zero). Through the softmax: dL/dz_c = w_c (g_c − Σ_j w_j g_j) with g_c = dL/dw_c, and
    /// z_c = a_c − β·ln s_c.</summary>
    internal static void Backward(IReadOnlyList<Origin> origins, double beta, Buffers buffers)
    {
        Array.Clear(buffers.GradBias);
        buffers.GradSharpness = 0;
        Span<double> g = stackalloc double[CandidateCount];
        for (int r = 0; r < origins.Count; r++)
        {
            var x = origins[r];
            var w = buffers.W.AsSpan(r * CandidateCount, CandidateCount);
            int steps = x.Target.Length;
            double unit = 1.0 / (origins.Count * steps * (double)x.Scale);
            g.Clear();
            for (int k = 0; k < steps; k++)
            {
                double sign = buffers.Sign[buffers.Start[r] + k] * unit;
                for (int c = 0; c < CandidateCount; c++) g[c] += sign * x.Forecasts[c * steps + k];
            }
            double dot = 0;
            for (int c = 0; c < CandidateCount; c++) dot += w[c] * g[c];
            for (int c = 0; c < CandidateCount; c++)
            {
                double dz = w[c] * (g[c] - dot);
                buffers.GradBias[c] += dz;
                buffers.GradSharpness -= dz * x.LogScore[c];
            }
        }
    }

    private static double Combined(Origin x, ReadOnlySpan<double> w, int k, int steps)
    {
        double y = 0;
        for (int c = 0; c < CandidateCount; c++) y += w[c] * x.Forecasts[c * steps + k];
        return y;
    }

    // ------------------------------------------------------------------ the file

    // *** Binary format (transformer format 10, at the end of the forecast model) ***
    // bool present; then float[C] a (Persisted array), float β
    internal static void Write(BinaryWriter w, BaseCombination? combination)
    {
        w.Write(combination is not null);
        if (combination is null) return;
        Persisted.WriteArray(w, combination.Bias);
        w.Write(combination.Sharpness);
    }

    internal static BaseCombination? Read(BinaryReader r)
    {
        if (!r.ReadBoolean()) return null;
        var bias = Persisted.ReadArray(r, CandidateCount);
        float sharpness = r.ReadSingle();
        if (bias.Length != CandidateCount || !bias.All(float.IsFinite) || !float.IsFinite(sharpness))
            throw new InvalidDataException($"The saved base combination is out of range ({bias.Length} biases, β {sharpness}; {CandidateCount} finite biases expected).");
        return new BaseCombination(bias, sharpness);
    }
}

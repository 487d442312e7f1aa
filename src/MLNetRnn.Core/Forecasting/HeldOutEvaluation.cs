using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Forecasting;

// S = series, E = evaluation windows, H = horizon, W = window, T = steps the networks read, F = inputs per step,
// O = head outputs, Q = quantile levels, K = ensemble members. A window "at origin o" reads values o−W..o−1 and is
// followed by the H values o..o+H−1; its index within its series is o − the series' first origin.

/// <summary>
/// The windows λ and the bounds are fitted on, with what a forecast from each needs: the base's forecast r, the
/// targets t and the level (all in network units), and for the direct strategy the held-out correction ĉ (the
/// mean output, at the point head, of the members that held the window out). Windows are in series order, then
/// window order.
/// </summary>
internal sealed class HeldOutEvaluation
{
    public required int[] SeriesOf;        // (E)
    public required int[] IndexOf;         // (E) window index within the series
    public required int[] FirstOrigin;     // (S)
    public required int[] WindowCount;     // (S) N_s
    public required float[] Reference;     // (E·H) r
    public required float[] Target;        // (E·H) t
    public required float[] Level;         // (E)
    public required float[] Correction;    // (E·H) ĉ at the point head; zeros for the base alone or the recursive strategy
    public float[] Spread = [];             // (E·H·2) with quantile heads: the lowest and highest head's offset from the median head
    public required int[][] Members;       // (E) the members that held window j out; empty: the base alone
    public required double[] ShiftScale;   // (S) the series' mean absolute seasonal difference (MASE scale)

    public int Count => SeriesOf.Length;

    /// <summary>Whether every series with a held-out window is among these windows (false when a large panel's
    /// evaluation took whole series evenly across it).</summary>
    public bool CoversEverySeries(SeriesFolds[] folds)
    {
        var seen = new bool[folds.Length];
        foreach (int series in SeriesOf) seen[series] = true;
        for (int i = 0; i < folds.Length; i++)
            if (!seen[i] && folds[i].HeldOut > 0) return false;
        return true;
    }

    public (int Series, long Origin) Window(int j) => (SeriesOf[j], IndexOf[j] + FirstOrigin[SeriesOf[j]]);

    /// <summary>
    /// The evaluation windows: with <paramref name="held"/>, every window some member held out, forecast by those
    /// members; otherwise every window, forecast by the base alone. On a panel with more than
    /// <see cref="ForecasterSettings.MaximumEvaluationWindows"/> such windows, whole series are taken evenly (so the
    /// overlap structure within a series, which λ's standard error accounts for, is kept).
    /// </summary>
    public static HeldOutEvaluation Evaluate(ForecastModel model, SeriesTrack[] tracks, SeriesFolds[] folds, bool held, ForecastRunner.Scratch scratch,
        CancellationToken ct, int[]? only = null)
    {
        var s = model.Settings;
        int S = tracks.Length, H = s.Horizon, W = s.Steps, F = s.InputSize, O = s.OutputSize, K = model.Members.Length;
        // Constant series are left out of a panel's calibration (their errors are zero); a single series never is.
        bool skipConstant = model.Series.Any(f => !f.Constant);
        var counts = new long[S];
        for (int i = 0; i < S; i++) counts[i] = skipConstant && model.Series[i].Constant ? 0 : held ? folds[i].HeldOut : tracks[i].Windows;
        var candidates = (only ?? Enumerable.Range(0, S)).Where(i => counts[i] > 0).ToArray();
        long total = candidates.Sum(i => counts[i]);
        const int Cap = ForecasterSettings.MaximumEvaluationWindows;
        int every = candidates.Length <= 1 || only is not null ? 1 : (int)Math.Max(1, (total + Cap - 1) / Cap);
        var chosen = candidates.Where((_, j) => j % every == 0).ToArray();

        var seriesOf = new List<int>();
        var indexOf = new List<int>();
        var members = new List<int[]>();
        foreach (int i in chosen)
            for (int w = 0; w < tracks[i].Windows; w++)
            {
                if (held && folds[i].Validators(w) == 0) continue;
                seriesOf.Add(i);
                indexOf.Add(w);
                members.Add(held ? Enumerable.Range(0, K).Where(k => folds[i].Holds(k, w)).ToArray() : []);
            }
        int E = seriesOf.Count;
        var ev = new HeldOutEvaluation
        {
            SeriesOf = seriesOf.ToArray(), IndexOf = indexOf.ToArray(), FirstOrigin = tracks.Select(t => t.First).ToArray(),
            WindowCount = tracks.Select(t => t.Windows).ToArray(), Reference = new float[E * H], Target = new float[E * H], Level = new float[E],
            Correction = new float[E * H], Members = members.ToArray(), ShiftScale = new double[S],
        };
        int Q = s.QuantileCount;
        foreach (int i in chosen)
        {
            int m = model.Series[i].SeasonalPeriod;
            ev.ShiftScale[i] = SeasonalScale.OrNaive(tracks[i].Values, m);
        }

        // In chunks: build the chunk's windows once, then one network call per member for the windows it held out.
        const int Chunk = 512;
        var builder = new WindowBuilder(model, tracks);
        bool predict = held && !s.Recursive && K > 0;
        if (predict && Q > 0) ev.Spread = new float[E * H * 2];
        var inputs = new float[Math.Min(Chunk, Math.Max(E, 1)) * W * F];
        var batch = predict ? new float[inputs.Length] : [];
        var output = predict ? new float[Math.Min(Chunk, Math.Max(E, 1)) * O] : [];
        var sum = predict ? new float[output.Length] : [];
        var rows = new int[Chunk];
        var workspaces = predict ? model.Members.Select(n => n.CreateInferenceWorkspace(W, blockRows: 32, threads: Math.Max(1, s.MaximumDegreeOfParallelism), model.HeadSteps)).ToArray() : [];
        for (int from = 0; from < E; from += Chunk)
        {
            ct.ThrowIfCancellationRequested();
            int count = Math.Min(Chunk, E - from);
            for (int j = 0; j < count; j++)
            {
                int e = from + j;
                ev.Level[e] = builder.Build(ev.SeriesOf[e], ev.IndexOf[e], inputs.AsSpan(j * W * F, W * F), ev.Reference.AsSpan(e * H, H), ev.Target.AsSpan(e * H, H));
            }
            if (!predict) continue;
            Array.Clear(sum);
            for (int k = 0; k < K; k++)
            {
                int b = 0;
                for (int j = 0; j < count; j++)
                    if (Array.IndexOf(ev.Members[from + j], k) >= 0)
                    {
                        inputs.AsSpan(j * W * F, W * F).CopyTo(batch.AsSpan(b * W * F));
                        rows[b++] = j;
                    }
                if (b == 0) continue;
                model.Members[k].Predict(workspaces[k], batch.AsSpan(0, b * W * F), b, W, output.AsSpan(0, b * O), model.HeadSteps);
                for (int r = 0; r < b; r++)
                    for (int o = 0; o < O; o++) sum[rows[r] * O + o] += output[r * O + o];
            }
            for (int j = 0; j < count; j++)
            {
                int e = from + j, n = ev.Members[e].Length;
                for (int o = 0; o < O; o++) sum[j * O + o] /= n;
                for (int k = 0; k < H; k++) ev.Correction[e * H + k] = sum[j * O + model.PointOutput(k)];
                if (Q == 0) continue;
                for (int k = 0; k < H; k++)
                {
                    float median = sum[j * O + model.PointOutput(k)], low = 0f, high = 0f;
                    for (int q = 0; q < Q; q++)
                    {
                        float offset = sum[j * O + k * Q + q] - median;
                        low = Math.Min(low, offset);
                        high = Math.Max(high, offset);
                    }
                    ev.Spread[(e * H + k) * 2] = low;
                    ev.Spread[(e * H + k) * 2 + 1] = high;
                }
            }
        }
        return ev;
    }

    /// <summary>The forecast y (E·H) in network units of every evaluation window at correction weight
    /// <paramref name="lambda"/> (or a series' own, once <see cref="CorrectionWeights.FitSeriesWeights"/> has set it): r + λ·ĉ for the
    /// direct strategy; the recursive one runs each window again.</summary>
    public float[] Forecasts(ForecastModel model, SeriesTrack[] tracks, float lambda, ForecastRunner.Scratch scratch)
    {
        int H = model.Settings.Horizon, E = Count;
        var y = new float[E * H];
        if (!model.Settings.Recursive)
        {
            for (int e = 0; e < E; e++)
            {
                bool networks = Members[e].Length > 0;
                float weight = networks ? model.Series[SeriesOf[e]].CorrectionWeight ?? lambda : 0f;
                for (int k = 0; k < H; k++)
                    y[e * H + k] = Reference[e * H + k] + weight * Correction[e * H + k];
            }
            return y;
        }
        // Recursive: walk each series with a state, forecasting from the evaluation windows' origins.
        float saved = model.CorrectionWeight;
        model.CorrectionWeight = lambda;
        try
        {
            for (int e = 0; e < E; )
            {
                int series = SeriesOf[e];
                var fit = model.Series[series];
                var track = tracks[series];
                var state = ForecastState.Empty(model.Settings, fit);
                int C = model.Settings.CovariateCount;
                long o = 0;
                for (; e < E && SeriesOf[e] == series; e++)
                {
                    long origin = IndexOf[e] + track.First;
                    for (; o < origin; o++) state.Push(fit.Baseline, track.Values[o], track.Covariates.AsSpan((int)o * C, C));
                    ForecastRunner.ForecastRecursive(model, fit, state, scratch, y.AsSpan(e * H, H), Members[e]);
                }
            }
        }
        finally
        {
            model.CorrectionWeight = saved;
        }
        return y;
    }

    /// <summary>
    /// The calibration errors |t − y| of <paramref name="forecast"/> (E·H), as (H)(E): one array per step ahead, for
    /// <see cref="ForecastCalibration"/>. With <paramref name="corrected"/>, also the networks' correction summed over the
    /// windows and steps in the series' units, each series' share divided by its MASE scale (<see cref="ShiftScale"/>).
    /// </summary>
    public (float[][] Residuals, double Shift) Errors(IReadOnlyList<SeriesFit> fits, float[] forecast, bool corrected, int H)
    {
        int E = Count;
        var residuals = new float[H][];
        for (int k = 0; k < H; k++) residuals[k] = new float[E];
        double shift = 0;
        for (int j = 0; j < E; j++)
        {
            var (series, o) = Window(j);
            for (int k = 0; k < H; k++)
            {
                residuals[k][j] = Math.Abs(Target[j * H + k] - forecast[j * H + k]);
                double shiftScale = ShiftScale[series];
                if (corrected && shiftScale > 0)
                {
                    var fit = fits[series];
                    float level = Level[j];
                    shift += Math.Abs(fit.ToSeriesUnits(forecast[j * H + k], level, o + k)
                        - fit.ToSeriesUnits(Reference[j * H + k], level, o + k)) / shiftScale;
                }
            }
        }
        return (residuals, shift);
    }
}

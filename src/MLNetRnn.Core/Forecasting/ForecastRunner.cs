using MathNet.Numerics.Distributions;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Forecasting;

// B = series forecast at once, W = window, T = steps the networks read (W, and H more with a decoder),
// F = inputs per step, H = horizon, O = head outputs (H, H·Q with quantile heads, or 1 recursive), Q = quantile levels,
// K = ensemble members. t counts values from a series' first training value.

/// <summary>
/// Runs a trained <see cref="ForecastModel"/>: encodes each series' latest window (<see cref="NetworkInputWriter"/>),
/// averages the members' outputs, adds the λ-weighted correction to the base's forecast and turns the result and its
/// bounds back into the series' units. All buffers are in a per-caller <see cref="Scratch"/>, so a forecast allocates
/// nothing.
/// </summary>
public static class ForecastRunner
{
    /// <summary>Per-caller buffers for forecasting up to a number of series of one model at once (made by
    /// <see cref="ForecastModel.CreateScratch"/>): one forward-only workspace per member. Opaque; not thread-safe,
    /// so each thread that forecasts holds its own.</summary>
    public sealed class Scratch
    {
        internal readonly int Capacity;                     // B
        internal readonly float[] Input;                    // (B, T, F) the windows as the networks read them
        internal readonly InferenceWorkspace[] Inference;   // (K) one forward-only workspace per member (each packs its weights once)
        internal readonly float[] Output;                   // (B, O) one member's outputs
        internal readonly float[] Sum;                      // (B, O) the members' mean output
        internal readonly float[] Adjusted;                 // (W) one window, seasonally adjusted
        internal readonly float[] BaseForecast;             // (B, H) raw, then scaled: the base's forecast r
        internal readonly float[] BaseScratch;              // (H)
        internal readonly float[] Levels;                   // (B) each window's level
        internal readonly float[] Step;                     // (1) recursive strategy: one step's base reference
        internal readonly float[] Sorted;                   // (Q) one step's quantiles
        internal readonly SeriesFit[] OneFit;               // (1) a single forecast's series, without allocating
        internal readonly ForecastState[] OneState;         // (1)
        internal ForecastState? Rolling;                    // recursive strategy: the state advanced by each forecast step

        /// <summary>Buffers to forecast up to <paramref name="capacity"/> series of <paramref name="model"/> at once. Allocates.</summary>
        internal Scratch(ForecastModel model, int capacity)
        {
            int W = model.Settings.WindowSize, T = model.Settings.Steps, H = model.Settings.Horizon, O = model.Settings.OutputSize, B = Math.Max(1, capacity);
            Capacity = B;
            Input = new float[B * T * model.Settings.InputSize];
            Inference = model.Members.Select(m => B == 1 ? m.CreateInferenceWorkspace(T, blockRows: 1, threads: 1, model.HeadSteps)
                : m.CreateInferenceWorkspace(T, blockRows: 32, threads: Math.Max(1, model.Settings.MaximumDegreeOfParallelism), model.HeadSteps)).ToArray();
            Output = new float[B * O];
            Sum = new float[B * O];
            Adjusted = new float[W];
            BaseForecast = new float[B * H];
            BaseScratch = new float[H];
            Levels = new float[B];
            Step = new float[1];
            Sorted = new float[Math.Max(1, model.Settings.QuantileCount)];
            OneFit = new SeriesFit[1];
            OneState = new ForecastState[1];
        }

        /// <summary>The most series one forecast call may take with this scratch.</summary>
        public int SeriesCapacity => Capacity;
    }

    /// <summary>Buffers to forecast up to <paramref name="capacity"/> series of <paramref name="model"/> at once. Allocates.</summary>
    internal static Scratch CreateScratch(ForecastModel model, int capacity = 1) => new(model, capacity);

    /// <summary>Forecasts the H values after <paramref name="state"/> of a single-series model without known-future
    /// covariates, with conformal bounds at <paramref name="confidenceLevel"/>. No allocation.</summary>
    internal static void Forecast(ForecastModel model, ForecastState state, float confidenceLevel, Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper)
        => Forecast(model, model.Single, state, ReadOnlySpan<float>.Empty, confidenceLevel, ForecastIntervalMethod.Conformal, scratch, forecast, lower, upper, Span<float>.Empty);

    /// <summary>
    /// Forecasts the H values after <paramref name="state"/> of series <paramref name="fit"/>, with bounds at
    /// <paramref name="confidenceLevel"/> and, with quantile heads, the Q quantiles of every step. The state must
    /// hold at least the series' first origin of values. No allocation.
    /// </summary>
    /// <param name="model">The trained model.</param>
    /// <param name="fit">The series' fitted parts.</param>
    /// <param name="state">The series so far.</param>
    /// <param name="future">(H·Cf) the known-future covariates of the H steps, raw, step-major; empty without them.</param>
    /// <param name="confidenceLevel">In (0, 1).</param>
    /// <param name="method">Where the bounds come from (<see cref="ForecastIntervalMethod.Quantiles"/> needs quantile heads;
    /// a model that is the base alone has none, and gives its conformal bounds).</param>
    /// <param name="scratch">From <see cref="CreateScratch"/>; not shared between threads.</param>
    /// <param name="forecast">(H) written.</param>
    /// <param name="lower">(H) written; NaN when the model has no calibration errors.</param>
    /// <param name="upper">(H) written; NaN when the model has no calibration errors.</param>
    /// <param name="quantiles">(H·Q) written, step-major, ascending within a step; empty to skip.</param>
    internal static void Forecast(ForecastModel model, SeriesFit fit, ForecastState state, ReadOnlySpan<float> future, float confidenceLevel, ForecastIntervalMethod method,
        Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper, Span<float> quantiles)
    {
        scratch.OneFit[0] = fit;
        scratch.OneState[0] = state;
        Forecast(model, scratch.OneFit, scratch.OneState, future, 1, confidenceLevel, method, scratch, forecast, lower, upper, quantiles);
    }

    /// <summary>
    /// As <see cref="Forecast(ForecastModel, SeriesFit, ForecastState, ReadOnlySpan{float}, float, ForecastIntervalMethod, Scratch, Span{float}, Span{float}, Span{float}, Span{float})"/>
    /// for <paramref name="count"/> series at once (at most the scratch's capacity): one network call per member for
    /// all of them. Outputs are (count, H) and (count, H·Q); <paramref name="futures"/> is (count, H·Cf).
    /// </summary>
    internal static void Forecast(ForecastModel model, IReadOnlyList<SeriesFit> fits, IReadOnlyList<ForecastState> states, ReadOnlySpan<float> futures, int count, float confidenceLevel,
        ForecastIntervalMethod method, Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper, Span<float> quantiles)
    {
        int H = model.Settings.Horizon, Q = model.Settings.QuantileCount;
        var y = forecast[..(count * H)];
        var yq = quantiles.IsEmpty ? Span<float>.Empty : quantiles[..(count * H * Q)];
        ForecastScaled(model, fits, states, futures, count, scratch, y, yq);
        float tauLow = (1 - confidenceLevel) / 2, tauHigh = (1 + confidenceLevel) / 2;
        for (int b = 0; b < count; b++)
        {
            var fit = fits[b];
            // A model that is the base alone (too few windows for networks) has no heads to read the bounds off: its
            // quantile curve is the point forecast at every level. Its conformal bounds were calibrated on every window.
            bool heads = method == ForecastIntervalMethod.Quantiles && Q > 0 && model.Members.Length > 0 && !fit.Constant;
            float level = scratch.Levels[b];
            long origin = states[b].Count;
            for (int k = 0; k < H; k++)
            {
                int at = b * H + k;
                float v = y[at];
                long t = origin + k;
                float lo, hi;
                if (heads)
                {
                    var curve = yq.Slice(at * Q, Q);
                    lo = QuantileAt(model, curve, tauLow);
                    hi = QuantileAt(model, curve, tauHigh);
                }
                else
                {
                    float q = model.Calibration.HalfWidth(k, confidenceLevel);
                    if (fit.Constant && !float.IsNaN(q)) q = 0f;
                    lo = v - q;
                    hi = v + q;
                }
                forecast[at] = fit.Season.Reseasonalize(fit.Scaler.Inverse(v, level), t);
                if (float.IsNaN(lo) || float.IsNaN(hi))
                {
                    lower[at] = upper[at] = float.NaN;
                }
                else
                {
                    float a = fit.Season.Reseasonalize(fit.Scaler.Inverse(lo, level), t), c = fit.Season.Reseasonalize(fit.Scaler.Inverse(hi, level), t);
                    (lower[at], upper[at]) = a <= c ? (a, c) : (c, a);
                }
                if (!yq.IsEmpty)
                    for (int q = 0; q < Q; q++) yq[at * Q + q] = fit.Season.Reseasonalize(fit.Scaler.Inverse(yq[at * Q + q], level), t);
            }
        }
    }

    /// <summary>
    /// The value at level τ of a quantile curve given at <see cref="ForecasterSettings.Quantiles"/>: linear between
    /// the levels; beyond the outermost, a normal tail through the median and the outermost quantile
    /// (v = median + (v_edge − median)·z(τ)/z(τ_edge)), so bounds for any level widen smoothly with it.
    /// </summary>
    internal static float QuantileAt(ForecastModel model, ReadOnlySpan<float> curve, float tau)
    {
        var levels = model.Settings.Quantiles;
        int Q = levels.Count, med = model.Settings.MedianIndex;
        if (tau <= levels[0] || tau >= levels[Q - 1])
        {
            int edge = tau <= levels[0] ? 0 : Q - 1;
            if (edge == med) return curve[med];
            double ratio = Normal.InvCDF(0, 1, tau) / Normal.InvCDF(0, 1, levels[edge]);
            return (float)(curve[med] + (curve[edge] - curve[med]) * ratio);
        }
        int j = 1;
        while (levels[j] < tau) j++;
        float w = (tau - levels[j - 1]) / (levels[j] - levels[j - 1]);
        return curve[j - 1] + w * (curve[j] - curve[j - 1]);
    }

    /// <summary>
    /// The forecasts y (count·H) in network units relative to each window's level (written to scratch.Levels) and,
    /// with quantile heads, the quantiles (count·H·Q, ascending within a step; empty to skip).
    /// </summary>
    internal static void ForecastScaled(ForecastModel model, IReadOnlyList<SeriesFit> fits, IReadOnlyList<ForecastState> states, ReadOnlySpan<float> futures, int count,
        Scratch scratch, Span<float> y, Span<float> quantiles)
    {
        int H = model.Settings.Horizon, T = model.Settings.Steps, F = model.Settings.InputSize, O = model.Settings.OutputSize, Q = model.Settings.QuantileCount, Cf = H * model.Settings.FutureCovariateCount;
        if (count > scratch.Capacity) throw new ArgumentException($"The scratch holds {scratch.Capacity} series; asked for {count}.", nameof(count));
        if (model.Settings.Recursive)
        {
            for (int b = 0; b < count; b++) scratch.Levels[b] = ForecastRecursive(model, fits[b], states[b], scratch, y.Slice(b * H, H), null);
            return;
        }
        for (int b = 0; b < count; b++)
        {
            var st = states[b];
            var r = scratch.BaseForecast.AsSpan(b * H, H);
            scratch.Levels[b] = model.Input.Prepare(fits[b], st.History, st.BaseOneStep, st.Covariates, st.BaseState, st.Count, futures.Slice(b * Cf, Cf),
                scratch.Input.AsSpan(b * T * F, T * F), scratch.Adjusted, r, r, scratch.BaseScratch, H);
        }
        // λ = 0 without quantile heads leaves only the base: the networks' output would be multiplied away.
        bool networks = model.Members.Length > 0 && (model.CorrectionWeight > 0f || Q > 0);
        for (int b = 0; b < count && !networks; b++) networks = model.Members.Length > 0 && fits[b].CorrectionWeight > 0f;
        if (networks) MeanOfMembers(model, scratch, count, null);
        else scratch.Sum.AsSpan(0, count * O).Clear();
        for (int b = 0; b < count; b++)
        {
            bool corrected = networks && !fits[b].Constant;
            float lambda = fits[b].Constant ? 0f : fits[b].CorrectionWeight ?? model.CorrectionWeight;
            for (int k = 0; k < H; k++)
            {
                float point = scratch.BaseForecast[b * H + k] + lambda * scratch.Sum[b * O + model.PointOutput(k)];
                y[b * H + k] = point;
                if (quantiles.IsEmpty) continue;
                // Quantile q is the point forecast plus its head's offset from the median head; sorted, because
                // heads trained apart can cross (sorting never raises the pinball loss, Chernozhukov et al. 2010).
                var sorted = scratch.Sorted.AsSpan(0, Q);
                for (int q = 0; q < Q; q++)
                    sorted[q] = corrected ? point + (scratch.Sum[b * O + k * Q + q] - scratch.Sum[b * O + k * Q + model.Settings.MedianIndex]) : point;
                sorted.Sort();
                sorted.CopyTo(quantiles.Slice((b * H + k) * Q, Q));
            }
        }
    }

    /// <summary>The recursive strategy: forecast one step, append it to a copy of the state, re-scale by the new
    /// window's level, repeat. Averages only <paramref name="members"/> (null: all; empty: none, the base alone).
    /// Returns the level of the first window, in whose units y is.</summary>
    internal static float ForecastRecursive(ForecastModel model, SeriesFit fit, ForecastState state, Scratch scratch, Span<float> y, int[]? members)
    {
        int H = model.Settings.Horizon, W = model.Settings.WindowSize, F = model.Settings.InputSize;
        if (scratch.Rolling is null || scratch.Rolling.BaseState.Length != state.BaseState.Length) scratch.Rolling = ForecastState.Empty(model.Settings, fit);
        var rolling = scratch.Rolling;
        state.CopyTo(rolling);
        float origin = 0;
        for (int k = 0; k < H; k++)
        {
            float stepLevel = model.Input.Prepare(fit, rolling.History, rolling.BaseOneStep, rolling.Covariates, rolling.BaseState, rolling.Count, ReadOnlySpan<float>.Empty,
                scratch.Input.AsSpan(0, W * F), scratch.Adjusted, scratch.Step, scratch.BaseForecast.AsSpan(0, 1), scratch.BaseScratch, steps: 1);
            if (k == 0) origin = stepLevel;
            float lambda = fit.CorrectionWeight ?? model.CorrectionWeight;
            if (lambda > 0f) MeanOfMembers(model, scratch, 1, members);
            else scratch.Sum[0] = 0f;
            float adjusted = fit.Scaler.Inverse(scratch.Step[0] + lambda * scratch.Sum[0], stepLevel);
            y[k] = fit.Scaler.Forward(adjusted, origin);
            rolling.Push(fit.Baseline, fit.Season.Reseasonalize(adjusted, rolling.Count), ReadOnlySpan<float>.Empty);
        }
        return origin;
    }

    /// <summary>The mean output of <paramref name="members"/> (null: all) on the scratch's first
    /// <paramref name="count"/> windows, into scratch.Sum (count, O). Forward-only, no allocation.</summary>
    private static void MeanOfMembers(ForecastModel model, Scratch scratch, int count, int[]? members)
    {
        int O = model.Settings.OutputSize, T = model.Settings.Steps;
        var sum = scratch.Sum.AsSpan(0, count * O);
        sum.Clear();
        int n = members?.Length ?? model.Members.Length;
        if (n == 0) return;
        var input = scratch.Input.AsSpan(0, count * T * model.Settings.InputSize);
        var output = scratch.Output.AsSpan(0, count * O);
        for (int j = 0; j < n; j++)
        {
            int k = members is null ? j : members[j];
            model.Members[k].Predict(scratch.Inference[k], input, count, T, output, model.HeadSteps);
            for (int o = 0; o < sum.Length; o++) sum[o] += output[o];
        }
        for (int o = 0; o < sum.Length; o++) sum[o] /= n;
    }
}

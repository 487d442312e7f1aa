using System.Globalization;

namespace MLNetRnn.Core.Forecasting;

// E = held-out windows, H = horizon, Q = quantile levels, O = head outputs (H·Q, or Q shared by a decoder's steps),
// H_top = the last hidden layer's size; f_lo, f_hi = the factors the spread below and above the median is scaled by.

/// <summary>Calibrates a trained model's quantile heads on its held-out windows, so their bounds cover their levels
/// on windows the networks did not train on.</summary>
internal static class QuantileHeadCalibration
{
    /// <summary>
    /// Scales the quantile heads' spread around the median head so that, on the held-out windows, the lowest and the
    /// highest head cover what their levels say: factors f_lo, f_hi per step ahead (one per side with a decoder, whose
    /// head is shared by the steps), applied to every member's head rows, q ← median + f·(q − median). The offsets are
    /// linear in those rows, so the members' mean offset scales by f too, and the levels between keep their order.
    /// Returns the note for the summary.
    /// </summary>
    /// <remarks>
    /// The heads are fitted by the pinball loss to windows the networks trained on, which they fit more closely than
    /// new ones: on the accuracy protocol's single series their 10–90% bounds covered 65.5% before this step. The
    /// held-out windows are the conformal bounds' calibration set, and the factors are split-conformal quantiles of
    /// the normalised errors there (Lei et al. 2018's locally weighted conformal, with the heads as the local scale).
    /// The point forecast (the median head) does not change.
    /// </remarks>
    public static string Calibrate(ForecastModel model, HeldOutEvaluation ev, float[] point)
    {
        var s = model.Settings;
        int H = s.Horizon, Q = s.QuantileCount, med = s.MedianIndex, E = ev.Count;
        float low = s.Quantiles[0], high = s.Quantiles[Q - 1];
        int groups = s.Decoder ? 1 : H;
        var factors = new (float Low, float High)[groups];
        var lowScores = new List<float>();
        var highScores = new List<float>();
        for (int g = 0; g < groups; g++)
        {
            lowScores.Clear();
            highScores.Clear();
            for (int e = 0; e < E; e++)
            {
                if (model.Series[ev.SeriesOf[e]].Constant) continue;
                for (int k = s.Decoder ? 0 : g; k < (s.Decoder ? H : g + 1); k++)
                {
                    int at = e * H + k;
                    float error = ev.Target[at] - point[at], below = -ev.Spread[at * 2], above = ev.Spread[at * 2 + 1];
                    if (below > 0f) lowScores.Add(-error / below);
                    if (above > 0f) highScores.Add(error / above);
                }
            }
            factors[g] = (SpreadFactor(lowScores, 1f - low), SpreadFactor(highScores, high));
        }
        int Htop = s.HiddenSizes[^1];
        foreach (var member in model.Members)
        {
            var weight = member.Parameters.Value(member.Head.Weight);   // (O, H_top)
            var bias = member.Parameters.Value(member.Head.Bias);       // (O)
            for (int g = 0; g < groups; g++)
            {
                int row0 = s.Decoder ? 0 : g * Q;
                for (int q = 0; q < Q; q++)
                {
                    if (q == med) continue;
                    float f = s.Quantiles[q] < 0.5f ? factors[g].Low : factors[g].High;
                    int r = row0 + q, m = row0 + med;
                    for (int i = 0; i < Htop; i++) weight[r * Htop + i] = weight[m * Htop + i] + f * (weight[r * Htop + i] - weight[m * Htop + i]);
                    bias[r] = bias[m] + f * (bias[r] - bias[m]);
                }
            }
        }
        float lo = factors.Min(x => Math.Min(x.Low, x.High)), hi = factors.Max(x => Math.Max(x.Low, x.High));
        return string.Create(CultureInfo.InvariantCulture,
            $"Quantile heads calibrated on {E} held-out windows: their spread around the median scaled by {lo:F2}–{hi:F2} so that the {low:0.##} and {high:0.##} heads cover their levels there.");
    }

    /// <summary>The split-conformal factor for one side: the ⌈(n+1)·level⌉-th smallest normalised error, at least 0
    /// (a head already wide enough is narrowed, never flipped across the median); 1 (the heads as trained) with too
    /// few errors to read that level from.</summary>
    internal static float SpreadFactor(List<float> scores, float level)
    {
        int n = scores.Count, rank = (int)Math.Ceiling((n + 1) * (double)level);
        if (rank > n || n == 0) return 1f;
        scores.Sort();
        return Math.Max(0f, scores[rank - 1]);
    }
}

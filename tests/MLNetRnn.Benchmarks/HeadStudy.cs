using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Layers;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Benchmarks;

// S = series, K = members, Ht = the top layer's hidden size, O = head outputs, n = windows of one series and member.

/// <summary>
/// <c>collection --model global --series-heads true</c>: a study of per-series specialists that keep the global
/// networks' recurrent layers and give each series its own linear head. For every member and series, the head is
/// refitted on the series' own training windows of that member by ridge regression towards the global head
/// (min ‖Y − XΘ‖² + ρ‖Θ − Θ_global‖², X what the head reads at the last step and a 1, Y the base's error in network
/// units). One ρ per series, among n·{0.01, 0.1, 1, 10}, by the squared error on the blocks of the series the K members
/// held out, all together; the series keeps the global heads unless its own beat them on those blocks with t over the
/// K blocks' gains above <c>--series-heads-t</c> (default 0: better on the blocks' total); with
/// <c>--series-heads-last true</c>, on the series' last block alone (the first member's), the one most like the test. One forward pass over each
/// series' windows per member: far cheaper than training a specialist.
/// </summary>
internal static class HeadStudy
{
    private static readonly double[] Penalties = [0.01, 0.1, 1, 10];   // ρ / n

    public static Dictionary<string, RnnForecast> Run(RnnForecastingTransformer fitted, float[][] values, double evidence, bool lastBlock)
    {
        var model = fitted.Model;
        var s = model.Settings;
        // A squared-loss refit would pull quantile heads to the mean; a decoder's or the recursive strategy's head is not one linear map of one state.
        if (s.Decoder || s.Recursive || s.QuantileCount > 0)
            throw new InvalidOperationException("--series-heads studies the direct point head: not with --quantiles, a decoder or the recursive strategy.");
        int S = values.Length, K = model.Members.Length, T = s.Steps, F = s.InputSize;
        if (K == 0) return new Dictionary<string, RnnForecast>(fitted.CreateForecastingEngine().PredictAll(), StringComparer.Ordinal);   // the base alone: no head
        var clock = Stopwatch.StartNew();
        var (tracks, start) = StudyWindows.Of(model, values);
        var global = model.Members;
        var features = global.Select(FeatureNetwork).ToArray();
        int Ht = features[0].Spec.OutputSize, O = global[0].Spec.OutputSize, D = Ht + 1;
        var forecasts = new Dictionary<string, RnnForecast>(StringComparer.Ordinal);
        var chosen = new int[Penalties.Length + 1];
        try
        {
            for (int i = 0; i < S; i++)
            {
                var folds = SeriesFolds.Of(s, tracks[i].Windows, model.Series[i].Constant);
                int N = tracks[i].Windows;
                var members = new RecurrentNetwork[K];
                for (int k = 0; k < K; k++) members[k] = global[k].Clone();
                // Per member: its design on the series' training and held-out windows, and the held-out block's squared
                // error with the global head (column 0) and with each penalty's head.
                var heads = new double[K][][];
                var blockError = new double[K, Penalties.Length + 1];
                bool enough = true;
                for (int k = 0; k < K && enough; k++)
                {
                    var train = Enumerable.Range(0, N).Where(w => folds.Trains(k, w)).ToArray();
                    var held = Enumerable.Range(0, N).Where(w => folds.Holds(k, w)).ToArray();
                    if (train.Length < 2 * D || held.Length == 0) { enough = false; break; }
                    var (Xt, Yt) = Design(model, tracks, start, i, train, features[k], T, F, O);
                    var (Xh, Yh) = Design(model, tracks, start, i, held, features[k], T, F, O);
                    var theta0 = GlobalHead(global[k], Ht, O);
                    heads[k] = new double[Penalties.Length][];
                    blockError[k, 0] = Error(Xh, Yh, theta0, D, O);
                    for (int p = 0; p < Penalties.Length; p++)
                    {
                        heads[k][p] = Ridge(Xt, Yt, theta0, Penalties[p] * train.Length, D, O);
                        blockError[k, p + 1] = Error(Xh, Yh, heads[k][p], D, O);
                    }
                }
                int choice = 0;
                if (enough && lastBlock)
                {
                    // Only the first member's block, the series' last: the held-out windows most like the forecast's.
                    int best = Enumerable.Range(1, Penalties.Length).MinBy(p => blockError[0, p]);
                    if (blockError[0, best] < blockError[0, 0]) choice = best;
                }
                else if (enough)
                {
                    // One penalty for the series, on all K blocks together; the series' own heads only when they beat the
                    // global heads on the blocks with t (over the K blocks' gains) above the evidence asked for.
                    int best = Enumerable.Range(1, Penalties.Length).MinBy(p => Enumerable.Range(0, K).Sum(k => blockError[k, p]));
                    var gain = Enumerable.Range(0, K).Select(k => blockError[k, 0] - blockError[k, best]).ToArray();
                    double mean = gain.Average(), sd = Math.Sqrt(gain.Sum(g => (g - mean) * (g - mean)) / Math.Max(1, K - 1));
                    if (mean > 0 && (sd == 0 || mean / (sd / Math.Sqrt(K)) > evidence)) choice = best;
                }
                chosen[choice]++;
                if (choice > 0)
                    for (int k = 0; k < K; k++) SetHead(members[k], heads[k][choice - 1], Ht, O);
                model.Members = members;
                string id = fitted.TrainingSummary.Series[i].SeriesId;
                // A series the model cannot forecast (pending, too short) is left to the command's fallback, as PredictAll leaves it.
                try { forecasts[id] = fitted.CreateForecastingEngine().Predict(id); }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }
                model.Members = global;
            }
        }
        finally
        {
            model.Members = global;
        }
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "  per-series heads on {0} series × {1} members: ρ/n chosen {2}; the global heads kept on {3} series; {4:F0} s",
            S, K, string.Join(", ", Penalties.Select((p, j) => $"{p:G} ({chosen[j + 1]})")), chosen[0], clock.Elapsed.TotalSeconds));
        return forecasts;
    }

    /// <summary>The member with its head replaced by the identity: its outputs are what the head reads at the last step
    /// (the top layer's state, or with a residual connection its sum with the layer's input).</summary>
    private static RecurrentNetwork FeatureNetwork(RecurrentNetwork member)
    {
        int Ht = member.Spec.HiddenSizes[^1];
        var net = new RecurrentNetwork(member.Spec with { OutputSize = Ht }, 0);
        foreach (var t in member.Parameters.Tensors)
            if (t.Name is not (LinearHead.WeightName or LinearHead.BiasName))
                member.Parameters.Value(t).CopyTo(net.Parameters.Value(net.Parameters[t.Name]));
        var w = net.Parameters.Value(net.Parameters[LinearHead.WeightName]);
        w.Clear();
        for (int j = 0; j < Ht; j++) w[j * Ht + j] = 1f;
        net.Parameters.Value(net.Parameters[LinearHead.BiasName]).Clear();
        return net;
    }

    // X (n, D) = [h, 1] row-major, Y (n, O).
    private static (double[] X, double[] Y) Design(ForecastModel model, SeriesTrack[] tracks, int[] start, int series, int[] windows, RecurrentNetwork features,
        int T, int F, int O)
    {
        int n = windows.Length, Ht = features.Spec.OutputSize, D = Ht + 1;
        var source = new PanelWindowSource(model, tracks, start, windows.Select(w => start[series] + w).ToArray());
        var rows = Enumerable.Range(0, n).ToArray();
        var timeMajor = new float[T * n * F];
        var targets = new float[n * O];
        source.Gather(rows, timeMajor, targets);
        var batchMajor = new float[n * T * F];
        Batching.ToBatchMajor(timeMajor, batchMajor, n, T, F);
        var h = features.Predict(batchMajor, n, T);
        var X = new double[n * D];
        var Y = new double[n * O];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < Ht; j++) X[r * D + j] = h[r * Ht + j];
            X[r * D + Ht] = 1;
            for (int o = 0; o < O; o++) Y[r * O + o] = targets[r * O + o];
        }
        return (X, Y);
    }

    // Θ (D, O): rows 0..Ht−1 = Wᵀ, row Ht = b.
    private static double[] GlobalHead(RecurrentNetwork member, int Ht, int O)
    {
        var w = member.Parameters.Value(member.Parameters[LinearHead.WeightName]);   // (O, Ht)
        var b = member.Parameters.Value(member.Parameters[LinearHead.BiasName]);
        var theta = new double[(Ht + 1) * O];
        for (int o = 0; o < O; o++)
        {
            for (int j = 0; j < Ht; j++) theta[j * O + o] = w[o * Ht + j];
            theta[Ht * O + o] = b[o];
        }
        return theta;
    }

    private static void SetHead(RecurrentNetwork member, double[] theta, int Ht, int O)
    {
        var w = member.Parameters.Value(member.Parameters[LinearHead.WeightName]);
        var b = member.Parameters.Value(member.Parameters[LinearHead.BiasName]);
        for (int o = 0; o < O; o++)
        {
            for (int j = 0; j < Ht; j++) w[o * Ht + j] = (float)theta[j * O + o];
            b[o] = (float)theta[Ht * O + o];
        }
    }

    // (XᵀX + ρI) Θ = XᵀY + ρΘ0, by Cholesky.
    private static double[] Ridge(double[] X, double[] Y, double[] theta0, double rho, int D, int O)
    {
        int n = X.Length / D;
        var A = new double[D * D];
        var B = new double[D * O];
        for (int r = 0; r < n; r++)
            for (int a = 0; a < D; a++)
            {
                double xa = X[r * D + a];
                for (int c = 0; c < D; c++) A[a * D + c] += xa * X[r * D + c];
                for (int o = 0; o < O; o++) B[a * O + o] += xa * Y[r * O + o];
            }
        for (int a = 0; a < D; a++)
        {
            A[a * D + a] += rho;
            for (int o = 0; o < O; o++) B[a * O + o] += rho * theta0[a * O + o];
        }
        for (int j = 0; j < D; j++)
        {
            double d = A[j * D + j];
            for (int q = 0; q < j; q++) d -= A[j * D + q] * A[j * D + q];
            A[j * D + j] = Math.Sqrt(Math.Max(d, 1e-12));
            for (int r = j + 1; r < D; r++)
            {
                double v = A[r * D + j];
                for (int q = 0; q < j; q++) v -= A[r * D + q] * A[j * D + q];
                A[r * D + j] = v / A[j * D + j];
            }
        }
        for (int o = 0; o < O; o++)
        {
            for (int r = 0; r < D; r++)
            {
                double v = B[r * O + o];
                for (int q = 0; q < r; q++) v -= A[r * D + q] * B[q * O + o];
                B[r * O + o] = v / A[r * D + r];
            }
            for (int r = D - 1; r >= 0; r--)
            {
                double v = B[r * O + o];
                for (int q = r + 1; q < D; q++) v -= A[q * D + r] * B[q * O + o];
                B[r * O + o] = v / A[r * D + r];
            }
        }
        return B;
    }

    private static double Error(double[] X, double[] Y, double[] theta, int D, int O)
    {
        int n = X.Length / D;
        double e = 0;
        for (int r = 0; r < n; r++)
            for (int o = 0; o < O; o++)
            {
                double f = 0;
                for (int a = 0; a < D; a++) f += X[r * D + a] * theta[a * O + o];
                double d = Y[r * O + o] - f;
                e += d * d;
            }
        return e;
    }
}

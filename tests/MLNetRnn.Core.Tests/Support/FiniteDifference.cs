using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Memory;
using MLNetRnn.Core.Network;
using Xunit.Abstractions;

namespace MLNetRnn.Core.Tests;

/// <summary>A gradient-check case: a tiny network, window and loss.</summary>
public sealed record GradientCase(string Name, RecurrentNetworkSpec Spec, int T, int B, int P,
    int? Truncation = null, LossKind Loss = LossKind.MeanSquaredError, int Seed = 1, float[]? Quantiles = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// Central differences against Backward, in float32.
/// <para>Tolerance. The forward runs in float32 and the loss accumulates in double, so a loss of order 1
/// carries rounding noise of about 1e-7; a central difference with step ε turns that into ~1e-7/ε in the
/// derivative, and its truncation error is O(ε²·f'''). With ε = 3e-3 both are ~3e-5, so we accept
/// |analytic − numeric| ≤ 1e-2·max(|analytic|, |numeric|) + 2e-4: a wrong term (a missing factor,
/// a wrong gate, a transposed weight) gives errors of order the gradient itself, far above that.</para>
/// <para>Kinks. ReLU-family activations, MAE and Huber have kinks; a difference whose ±ε straddles one is
/// not a derivative. Each element is differenced at ε and ε/2; where the two disagree beyond the tolerance
/// the point is next to a kink and is skipped (a wrong analytic gradient cannot cause that). At most 10%
/// of elements may be skipped.</para>
/// </summary>
internal static class FiniteDifference
{
    private const float Epsilon = 3e-3f;
    private const double Relative = 1e-2, Absolute = 2e-4;
    private const int ActivationSeed = 99;

    public static void Check(GradientCase c, ITestOutputHelper output)
    {
        var s = new Setup(c);
        s.Analytic();

        var stats = new Stats();
        var p = s.Net.Parameters;
        foreach (var t in p.Tensors)
        {
            var analytic = p.Gradient(t).ToArray();
            for (int i = 0; i < t.Length; i++)
                stats.Compare($"{t.Name}[{i}]", analytic[i], Numeric(s, p.Values, t.Offset + i));
        }
        for (int i = 0; i < s.AnalyticInput.Length; i++)
        {
            string name = $"input[{i}]";
            if (i < s.TruncatedInputRows) { stats.Compare(name, s.AnalyticInput[i], 0.0); continue; }
            stats.Compare(name, s.AnalyticInput[i], Numeric(s, s.FdInput, i - s.TruncatedInputRows));
        }
        for (int l = 0; l < c.Spec.Layers; l++)
        {
            for (int i = 0; i < s.AnalyticH0[l].Length; i++)
                stats.Compare($"h0[{l}][{i}]", s.AnalyticH0[l][i], Numeric(s, s.FdH0[l], i));
            for (int i = 0; i < s.AnalyticC0[l].Length; i++)
                stats.Compare($"c0[{l}][{i}]", s.AnalyticC0[l][i], Numeric(s, s.FdC0[l], i));
        }
        output.WriteLine($"{c.Name}: {stats.Count} elements, worst error {stats.WorstError:E2} at {stats.Worst} " +
            $"(analytic {stats.WorstAnalytic:G6}, numeric {stats.WorstNumeric:G6}); {stats.Skipped} skipped at kinks.");
        Assert.True(stats.Failures.Count == 0, $"{c.Name}: {stats.Failures.Count} gradient elements disagree. First: {string.Join("; ", stats.Failures.Take(5))}");
        Assert.True(stats.Skipped <= stats.Count / 10, $"{c.Name}: {stats.Skipped} of {stats.Count} elements skipped at kinks; the check says too little.");
    }

    /// <summary>Returns (numeric at ε, numeric at ε/2).</summary>
    private static (double, double) Numeric(Setup s, float[] array, int index)
    {
        float keep = array[index];
        double D(float eps)
        {
            array[index] = keep + eps; double up = s.Objective();
            array[index] = keep - eps; double down = s.Objective();
            array[index] = keep;
            return (up - down) / (2 * eps);
        }
        return (D(Epsilon), D(Epsilon / 2));
    }

    private sealed class Stats
    {
        public int Count, Skipped;
        public double WorstError = -1, WorstAnalytic, WorstNumeric;
        public string Worst = "";
        public readonly List<string> Failures = [];

        public void Compare(string name, double analytic, (double Coarse, double Fine) numeric)
        {
            Count++;
            if (Math.Abs(numeric.Coarse - numeric.Fine) > Tolerance(numeric.Coarse, numeric.Fine)) { Skipped++; return; }
            Record(name, analytic, numeric.Fine);
        }

        public void Compare(string name, double analytic, double exact)
        {
            Count++;
            Record(name, analytic, exact);
        }

        private void Record(string name, double analytic, double numeric)
        {
            double err = Math.Abs(analytic - numeric);
            if (err > WorstError) { WorstError = err; Worst = name; WorstAnalytic = analytic; WorstNumeric = numeric; }
            if (err > Tolerance(analytic, numeric)) Failures.Add($"{name}: analytic {analytic:G6}, numeric {numeric:G6}");
        }

        private static double Tolerance(double a, double b) => Relative * Math.Max(Math.Abs(a), Math.Abs(b)) + Absolute;
    }

    /// <summary>The network, data and both objectives of a case.</summary>
    internal sealed class Setup
    {
        public readonly GradientCase Case;
        public readonly RecurrentNetwork Net;
        public readonly Workspace Ws;          // the full window
        public readonly float[] Input, Target;
        public readonly float[][] H0, C0;
        public float[] AnalyticInput = [];
        public float[][] AnalyticH0 = [], AnalyticC0 = [];
        // What the finite differences perturb: with truncation, the window's last k steps and the state
        // entering them (held constant by TBPTT), otherwise the full input and the initial state.
        public float[] FdInput = [];
        public float[][] FdH0 = [], FdC0 = [];
        public int TruncatedInputRows;
        private Workspace? _tail;              // the last k steps, with truncation

        public Setup(GradientCase c)
        {
            Case = c;
            var spec = c.Spec;
            Net = new RecurrentNetwork(spec, c.Seed);
            var rng = new Random(c.Seed + 1000);
            foreach (var t in Net.Parameters.Tensors)
            {
                var v = Net.Parameters.Value(t);
                bool gain = t.Name.StartsWith("ln_weight", StringComparison.Ordinal);
                for (int i = 0; i < v.Length; i++) v[i] = gain ? 0.6f + 0.8f * rng.NextSingle() : (rng.NextSingle() * 2 - 1) * 0.7f;
            }
            Ws = Net.CreateWorkspace(c.T, c.B, c.P);
            Input = Fill(rng, c.T * c.B * spec.InputSize, 1f);
            Target = Fill(rng, c.P * c.B * spec.OutputSize, 1f);
            H0 = new float[spec.Layers][]; C0 = new float[spec.Layers][];
            for (int l = 0; l < spec.Layers; l++)
            {
                H0[l] = Fill(rng, c.B * spec.HiddenSizes[l], 0.5f);
                C0[l] = spec.Cell == RecurrentCellKind.Lstm ? Fill(rng, c.B * spec.HiddenSizes[l], 0.5f) : [];
            }
        }

        private static float[] Fill(Random rng, int n, float scale)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (rng.NextSingle() * 2 - 1) * scale;
            return a;
        }

        /// <summary>Backward at the base point; prepares what the objective perturbs.</summary>
        public void Analytic()
        {
            var c = Case;
            int T = c.T, B = c.B, P = c.P, I = c.Spec.InputSize;
            LoadFull(Ws);
            Net.Forward(Ws, T, B, P, training: true, new Random(ActivationSeed));
            Net.Loss(Ws, B, P, c.Loss, 1f, c.Quantiles ?? []);
            Net.Parameters.ZeroGradients();
            Net.Backward(Ws, T, B, P, c.Truncation, inputGradient: true);
            AnalyticInput = Ws.InputGradient.AsSpan(0, T * B * I).ToArray();
            AnalyticH0 = Enumerable.Range(0, c.Spec.Layers).Select(l => Ws.InitialHiddenGradient(l, B).ToArray()).ToArray();
            AnalyticC0 = Enumerable.Range(0, c.Spec.Layers).Select(l => Ws.InitialCellGradient(l, B).ToArray()).ToArray();

            int k = c.Truncation ?? T;
            int tStart = T - k;
            TruncatedInputRows = tStart * B * I;
            FdInput = Input.AsSpan(TruncatedInputRows).ToArray();
            // The state entering the last k steps, computed once with the base weights: TBPTT holds it constant.
            FdH0 = Enumerable.Range(0, c.Spec.Layers).Select(l => Ws.Hidden(l, tStart, B).ToArray()).ToArray();
            FdC0 = Enumerable.Range(0, c.Spec.Layers).Select(l => Ws.Cell(l, tStart, B).ToArray()).ToArray();
            if (c.Truncation is not null) _tail = Net.CreateWorkspace(k, B, Math.Min(P, k));
        }

        private void LoadFull(Workspace ws)
        {
            Input.CopyTo(ws.Input, 0);
            Target.CopyTo(ws.Targets, 0);
            for (int l = 0; l < Case.Spec.Layers; l++)
            {
                H0[l].CopyTo(ws.InitialHidden(l, Case.B));
                C0[l].CopyTo(ws.InitialCell(l, Case.B));
            }
        }

        /// <summary>The function Backward differentiates: the loss of the window (with truncation, the loss
        /// terms of the last k steps from the held state, scaled to the full window's mean).</summary>
        public double Objective()
        {
            var c = Case;
            int B = c.B, O = c.Spec.OutputSize;
            var ws = _tail ?? Ws;
            int T = _tail is null ? c.T : c.Truncation!.Value;
            int P = Math.Min(c.P, T);
            FdInput.CopyTo(ws.Input, 0);
            Target.AsSpan((c.P - P) * B * O, P * B * O).CopyTo(ws.Targets);
            for (int l = 0; l < c.Spec.Layers; l++)
            {
                FdH0[l].CopyTo(ws.InitialHidden(l, B));
                FdC0[l].CopyTo(ws.InitialCell(l, B));
            }
            Net.Forward(ws, T, B, P, training: true, new Random(ActivationSeed));
            return Net.Loss(ws, B, P, c.Loss, 1f, c.Quantiles ?? []) * P / c.P;
        }
    }
}

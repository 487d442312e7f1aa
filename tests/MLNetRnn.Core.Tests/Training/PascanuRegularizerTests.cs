using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using Xunit.Abstractions;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>
/// Pascanu's Ω: its value and its gradient against an independent double-precision implementation of the
/// terms we keep (v = ∂L/∂h_t, h_{t−1} and x_t held constant; see PascanuRegularizer.cs).
/// The analytic Ω gradient is isolated as grad(α = 1) − grad(α = 0), since Ω adds nothing to ∂L/∂h.
/// </summary>
public sealed class PascanuRegularizerTests(ITestOutputHelper output)
{
    public static TheoryData<ElmanActivation, int, int?> Cases() => new()
    {
        { ElmanActivation.Tanh, 1, null },
        { ElmanActivation.Tanh, 2, null },
        { ElmanActivation.Tanh, 1, 3 },
        { ElmanActivation.Sigmoid, 1, null },
        { ElmanActivation.Elu, 2, null },
        { ElmanActivation.Relu, 1, null },
        { ElmanActivation.LeakyRelu, 1, 2 },
        { ElmanActivation.RandomizedLeakyRelu, 1, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PascanuRegularizerGradientMatchesCentralDifferences(ElmanActivation activation, int layers, int? truncation)
    {
        const int T = 6, B = 3, P = 2;
        var spec = new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Elman, Activation = activation, InputSize = 2, OutputSize = 1,
            HiddenSizes = Enumerable.Repeat(4, layers).ToArray(),
        };
        var net = new RecurrentNetwork(spec, seed: 5);
        var rng = new Random(7);
        for (int i = 0; i < net.Parameters.Count; i++) net.Parameters.Values[i] = (rng.NextSingle() * 2 - 1) * 0.8f;
        var ws = net.CreateWorkspace(T, B, P, regularizer: true);
        for (int i = 0; i < T * B * 2; i++) ws.Input[i] = rng.NextSingle() * 2 - 1;
        for (int i = 0; i < P * B; i++) ws.Targets[i] = rng.NextSingle() * 2 - 1;

        net.Forward(ws, T, B, P, training: true, new Random(3));
        net.Loss(ws, B, P, LossKind.MeanSquaredError);
        net.Parameters.ZeroGradients();
        net.Backward(ws, T, B, P, truncation);
        var grad0 = (float[])net.Parameters.Gradients.Clone();
        var reference = new OmegaReference(net, ws, T, B, T - (truncation ?? T));

        net.Parameters.ZeroGradients();
        double omega = net.Backward(ws, T, B, P, truncation, regularizerWeight: 1f);
        var analytic = net.Parameters.Gradients.Select((g, i) => (double)g - grad0[i]).ToArray();

        double expected = reference.Omega(net.Parameters.Values);
        output.WriteLine($"{activation} L={layers} k={truncation?.ToString() ?? "T"}: Ω = {omega:G6}, reference {expected:G6}");
        Assert.InRange(Math.Abs(omega - expected), 0, 1e-4 * Math.Abs(expected) + 1e-6);

        var theta = net.Parameters.Values.Select(x => (double)x).ToArray();
        double worst = 0;
        foreach (var t in net.Parameters.Tensors)
            for (int i = 0; i < t.Length; i++)
            {
                int k = t.Offset + i;
                double keep = theta[k], eps = 1e-6;
                theta[k] = keep + eps; double up = reference.Omega(theta);
                theta[k] = keep - eps; double down = reference.Omega(theta);
                theta[k] = keep;
                double numeric = (up - down) / (2 * eps);
                double err = Math.Abs(analytic[k] - numeric);
                worst = Math.Max(worst, err);
                Assert.True(err <= 2e-3 * Math.Abs(numeric) + 2e-5,
                    $"dΩ/d{t.Name}[{i}]: analytic {analytic[k]:G6}, numeric {numeric:G6}");
            }
        output.WriteLine($"worst |analytic − numeric| = {worst:E2}");
    }

    [Fact]
    public void PascanuRegularizerIsZeroWhenJacobianIsOrthogonal()
    {
        // ReLU with every pre-activation positive has σ' = 1, so the step Jacobian is W_hh itself: orthogonal
        // W_hh preserves every norm and Ω must vanish, with no gradient of its own.
        const int T = 5, B = 2, H = 4;
        var spec = new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Relu, InputSize = 1, HiddenSizes = [H] };
        var net = new RecurrentNetwork(spec, seed: 2); // W_hh orthogonal by default
        var p = net.Parameters;
        p.Value(p["weight_ih_l0"]).Fill(0.01f);
        p.Value(p["bias_ih_l0"]).Fill(3f);
        var ws = net.CreateWorkspace(T, B, 1, regularizer: true);
        for (int i = 0; i < T * B; i++) ws.Input[i] = 0.5f;
        ws.Targets[0] = 1f; ws.Targets[1] = -1f;
        net.Forward(ws, T, B, 1);
        for (int l = 0; l < T * B * H; l++) Assert.True(ws.Layers[0].Hs[B * H + l] > 0f);
        net.Loss(ws, B, 1, LossKind.MeanSquaredError);
        p.ZeroGradients();
        net.Backward(ws, T, B, 1);
        var grad0 = (float[])p.Gradients.Clone();
        p.ZeroGradients();
        double omega = net.Backward(ws, T, B, 1, regularizerWeight: 1f);
        Assert.InRange(omega, 0, 1e-10);
        for (int i = 0; i < grad0.Length; i++) Assert.Equal(grad0[i], p.Gradients[i], 1e-6f);
    }

    /// <summary>Ω of the kept terms, in double, from the frozen v, h_{t−1} and x of the base pass.</summary>
    private sealed class OmegaReference
    {
        private readonly RecurrentNetwork _net;
        private readonly int _T, _B, _tStart;
        private readonly double[][] _v, _hPrev, _x, _slope;   // per layer: (T,B,H), (T,B,H), (T,B,I), (T,B,H)

        public OmegaReference(RecurrentNetwork net, MLNetRnn.Core.Network.Workspace ws, int T, int B, int tStart)
        {
            _net = net; _T = T; _B = B; _tStart = tStart;
            int L = net.Spec.Layers;
            _v = new double[L][]; _hPrev = new double[L][]; _x = new double[L][]; _slope = new double[L][];
            for (int l = 0; l < L; l++)
            {
                var lw = ws.Layers[l];
                int H = lw.H, I = lw.I;
                _v[l] = lw.Dhs.AsSpan(0, T * B * H).ToArray().Select(x => (double)x).ToArray();
                _hPrev[l] = lw.Hs.AsSpan(0, T * B * H).ToArray().Select(x => (double)x).ToArray();
                _x[l] = (l == 0 ? ws.Input.AsSpan(0, T * B * I) : ws.Layers[l - 1].Hs.AsSpan(B * I, T * B * I)).ToArray().Select(x => (double)x).ToArray();
                _slope[l] = lw.Slopes.Length > 0 ? lw.Slopes.AsSpan(0, T * B * H).ToArray().Select(x => (double)x).ToArray() : [];
            }
        }

        public double Omega(IReadOnlyList<float> theta) => Omega(theta.Select(x => (double)x).ToArray());

        public double Omega(double[] theta)
        {
            var spec = _net.Spec;
            var p = _net.Parameters;
            double omega = 0;
            for (int l = 0; l < spec.Layers; l++)
            {
                int H = spec.HiddenSizes[l], I = spec.LayerInputSize(l);
                int wih = p[$"weight_ih_l{l}"].Offset, whh = p[$"weight_hh_l{l}"].Offset, bih = p[$"bias_ih_l{l}"].Offset, bhh = p[$"bias_hh_l{l}"].Offset;
                for (int t = _tStart; t < _T; t++)
                    for (int b = 0; b < _B; b++)
                    {
                        var u = new double[H];
                        double nv = 0;
                        for (int i = 0; i < H; i++)
                        {
                            double a = theta[bih + i] + theta[bhh + i];
                            for (int j = 0; j < I; j++) a += theta[wih + i * I + j] * _x[l][(t * _B + b) * I + j];
                            for (int j = 0; j < H; j++) a += theta[whh + i * H + j] * _hPrev[l][(t * _B + b) * H + j];
                            double v = _v[l][(t * _B + b) * H + i];
                            nv += v * v;
                            u[i] = Derivative(a, spec, _slope[l].Length > 0 ? _slope[l][(t * _B + b) * H + i] : 0) * v;
                        }
                        double nw = 0;
                        for (int j = 0; j < H; j++)
                        {
                            double w = 0;
                            for (int i = 0; i < H; i++) w += u[i] * theta[whh + i * H + j];
                            nw += w * w;
                        }
                        if (nv < 1e-24) continue;
                        double r = Math.Sqrt(nw) / Math.Sqrt(nv);
                        omega += (r - 1) * (r - 1) / _B;
                    }
            }
            return omega;
        }

        private static double Derivative(double a, RecurrentNetworkSpec spec, double slope)
        {
            switch (spec.Activation)
            {
                case ElmanActivation.Tanh: { double h = Math.Tanh(a); return 1 - h * h; }
                case ElmanActivation.Sigmoid: { double s = 1 / (1 + Math.Exp(-a)); return s * (1 - s); }
                case ElmanActivation.Relu: return a > 0 ? 1 : 0;
                case ElmanActivation.LeakyRelu: return a > 0 ? 1 : spec.LeakySlope;
                case ElmanActivation.RandomizedLeakyRelu: return a > 0 ? 1 : slope;
                case ElmanActivation.Elu: return a > 0 ? 1 : spec.EluAlpha * Math.Exp(a);
                default: throw new ArgumentOutOfRangeException(nameof(spec));
            }
        }
    }
}

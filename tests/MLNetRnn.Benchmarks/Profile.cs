using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Layers;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The profile command: where the time of one training step goes, per configuration. It times the whole
/// step on one thread, then the same GEMM calls the step makes (same shapes, same count, pre-packed
/// weights where the step has them) and the same cell calls, on their own; the rest is overhead (packing
/// the weights, bias and gradient sums, copies, clipping, Adam, the loss). All on one thread and in CPU
/// time, so the shares are not distorted by other load on a shared machine.
/// </summary>
internal static class Profile
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], Inv) : 1.0;
        Console.WriteLine($"# where a training step's time goes (1 thread, CPU time), {(Simd.Wide ? "512" : "256")}-bit kernels, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine($"{"config",-14} {"step ms",9} {"GEMM ms",9} {"cells ms",9} {"other ms",9}   GEMM GFLOP/s");
        foreach (var c in Throughput.Configs)
        {
            var step = new Throughput.TrainingStep(c, threads: 1);
            double stepMs = CpuMs(step.Run, seconds);
            var gemm = new GemmReplay(c);
            double gemmMs = CpuMs(gemm.Run, seconds);
            var cells = new CellReplay(c);
            double cellMs = CpuMs(cells.Run, seconds);
            Console.WriteLine(string.Format(Inv, "{0,-14} {1,9:F3} {2,9:F3} {3,9:F3} {4,9:F3}   {5,6:F1}",
                c.Name, stepMs, gemmMs, cellMs, stepMs - gemmMs - cellMs, gemm.Flop / (gemmMs * 1e-3) / 1e9));
        }
        return 0;
    }

    /// <summary>CPU milliseconds of the calling thread per call of <paramref name="action"/>, after a
    /// warm-up. The thread's own time (Linux schedstat), not the process's: the JIT's background
    /// compilation would otherwise be counted in.</summary>
    private static double CpuMs(Action action, double seconds)
    {
        // Warm-up long enough for tiered compilation to replace every hot method.
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 0.5 || warm.Elapsed.TotalSeconds < seconds / 2;) action();
        long cpu0 = ThreadCpuNs();
        var clock = Stopwatch.StartNew();
        int n = 0;
        while (clock.Elapsed.TotalSeconds < seconds) { action(); n++; }
        return (ThreadCpuNs() - cpu0) / 1e6 / n;
    }

    /// <summary>Nanoseconds the calling thread has run: first field of /proc/thread-self/schedstat.</summary>
    internal static long ThreadCpuNs() => long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], Inv);

    /// <summary>The GEMM calls of one step: per layer the input projection of all steps, T recurrent
    /// products forward and T backward, the input gradient (layers above the first), the two weight
    /// gradients; and the head's.</summary>
    private sealed class GemmReplay
    {
        private readonly Throughput.Config _c;
        private readonly int G;
        private readonly float[] _x, _gates, _h, _dGates, _dh, _dW, _w;
        private readonly PackedMatrix _wihT, _whhT, _whh;
        public readonly double Flop;

        public GemmReplay(Throughput.Config c)
        {
            _c = c;
            G = c.Cell switch { RecurrentCellKind.Lstm => 4, RecurrentCellKind.Gru => 3, _ => 1 };
            int H = c.Hidden, GH = G * H, TB = c.Steps * c.Batch, I = Math.Max(c.Inputs, H);
            var rng = new Random(1);
            float[] R(int n) => Enumerable.Range(0, n).Select(_ => rng.NextSingle() - 0.5f).ToArray();
            _x = R(TB * I); _gates = R(TB * GH); _h = R((c.Steps + 1) * c.Batch * H); _dGates = R(TB * GH); _dh = R(c.Batch * H);
            _dW = new float[GH * I]; _w = R(GH * I);
            _wihT = new PackedMatrix(c.Inputs, GH); _wihT.Pack(R(GH * c.Inputs), transposed: true);
            _whhT = new PackedMatrix(H, GH); _whhT.Pack(R(GH * H), transposed: true);
            _whh = new PackedMatrix(GH, H); _whh.Pack(R(GH * H), transposed: false);
            double perLayer(int inputs) => 2.0 * TB * GH * inputs * 2 + 2.0 * TB * GH * H * 3;   // projection + dW_ih; recurrent fwd, bwd, dW_hh
            Flop = perLayer(c.Inputs) + (c.Layers - 1) * (perLayer(H) + 2.0 * TB * GH * H);
        }

        public void Run()
        {
            int H = _c.Hidden, GH = G * H, T = _c.Steps, B = _c.Batch, TB = T * B;
            for (int l = 0; l < _c.Layers; l++)
            {
                int I = l == 0 ? _c.Inputs : H;
                var wihT = l == 0 ? _wihT : _whhT;   // same shape as a hidden-to-gates map when I = H
                Gemm.Packed(TB, _x, I, wihT, _gates, GH, accumulate: true);
                for (int t = 0; t < T; t++) Gemm.Packed(B, _h.AsSpan(t * B * H), H, _whhT, _gates.AsSpan(t * B * GH), GH, accumulate: true);
                for (int t = T - 1; t >= 0; t--) Gemm.Packed(B, _dGates.AsSpan(t * B * GH), GH, _whh, _dh, H, accumulate: false);
                if (l > 0) Gemm.NN(TB, H, GH, _dGates, _w, _x, accumulate: false);
                Gemm.TN(GH, I, TB, _dGates, _x, _dW, accumulate: true);
                Gemm.TN(GH, H, TB, _dGates, _h, _dW, accumulate: true);
            }
        }
    }

    /// <summary>The cell calls of one step: T forward and T backward steps per layer on B rows.</summary>
    private sealed class CellReplay
    {
        private readonly Throughput.Config _c;
        private readonly float[] _gates, _hh, _c0, _c1, _tc, _h, _dh, _dc, _dGates, _dHH, _direct;
        private readonly Activation _tanh = new(ElmanActivation.Tanh, 0.01f, 0.125f, 0.33f, 1f);

        public CellReplay(Throughput.Config c)
        {
            _c = c;
            int n = c.Batch * c.Hidden, g = 4 * n;
            var rng = new Random(2);
            float[] R(int k) => Enumerable.Range(0, k).Select(_ => rng.NextSingle() - 0.5f).ToArray();
            _gates = R(g); _hh = R(g); _c0 = R(n); _c1 = R(n); _tc = R(n); _h = R(n); _dh = R(n); _dc = R(n); _dGates = R(g); _dHH = R(g); _direct = R(n);
        }

        public void Run()
        {
            int B = _c.Batch, H = _c.Hidden, T = _c.Steps;
            for (int l = 0; l < _c.Layers; l++)
                for (int t = 0; t < T; t++)
                    switch (_c.Cell)
                    {
                        case RecurrentCellKind.Lstm:
                            LstmCell.Forward(_gates, _c0, _c1, _tc, _h, B, H, default);
                            LstmCell.Backward(_dh, _dc, _gates, _c0, _tc, _dGates, B, H, default);
                            break;
                        case RecurrentCellKind.Gru:
                            GruCell.Forward(_gates, _hh, _c0, _h, B, H, default);
                            GruCell.Backward(_dh, _gates, _hh, _c0, _dGates, _dHH, _direct, B, H, default);
                            break;
                        default:
                            ElmanCell.Forward(_gates.AsSpan(0, B * H), _h, [], _tanh, training: true);
                            ElmanCell.Backward(_dh, _h, [], _tanh, _dGates.AsSpan(0, B * H));
                            break;
                    }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Layers;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The inference command: the small LSTM of tests/reference/infer (1 input, 32 hidden, T = 48, linear head)
/// through the forward-only path, timed as the ONNX Runtime anchor there times itself (OrtTime/Program.cs):
/// 200 warm-up calls, then 5,000 single forecasts and 200 batches of 256. Prints microseconds per single
/// forecast, the bytes it allocated, and forecasts per second at batch 256 on 1 thread (ONNX Runtime's
/// setting there) and on all cores.
/// </summary>
internal static class Inference
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        const int T = 48;
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 1, HiddenSizes = [32], OutputSize = 1 }, seed: 0);
        Console.WriteLine($"# MLNetRnn inference, small LSTM (1 input, 32 hidden, T={T}, linear head), {Environment.ProcessorCount} logical cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
        foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            var ws = net.CreateInferenceWorkspace(T, threads: threads);
            foreach (int batch in new[] { 1, 256 })
            {
                if (batch == 1 && threads > 1) continue;   // one sequence runs on one thread anyway
                var rnd = new Random(0);
                var x = Enumerable.Range(0, batch * T).Select(_ => (float)rnd.NextDouble()).ToArray();
                var y = new float[batch];
                for (int i = 0; i < 200; i++) net.Predict(ws, x, batch, T, y);
                int n = batch == 1 ? 5000 : 200;
                long cpu = Profile.ThreadCpuNs();
                long bytes = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) net.Predict(ws, x, batch, T, y);
                double per = sw.Elapsed.TotalSeconds / n;
                bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;
                cpu = Profile.ThreadCpuNs() - cpu;
                // The calling thread's CPU time too: on a loaded machine, wall time is mostly waiting for a core.
                Console.WriteLine(string.Format(Inv, "mlnetrnn small-lstm batch={0} T={1} threads={2}: {3:F1} us/forecast ({4:F0} forecasts/s), {5} bytes allocated per call; calling thread's CPU {6:F1} us/forecast",
                    batch, T, threads, per * 1e6 / batch, batch / per, bytes / n, cpu / 1e3 / n / batch));
            }
        }
        Breakdown(T);
        return 0;
    }

    /// <summary>Where a single forecast's time goes: the T recurrent products (1 × 4H × H), the T cell
    /// steps, and the rest (input projection, packing check, head, call overhead), in the calling
    /// thread's CPU time.</summary>
    private static void Breakdown(int T)
    {
        const int H = 32, GH = 128;
        var rng = new Random(3);
        var w = new MLNetRnn.Core.Kernels.PackedMatrix(H, GH);
        w.Pack(Enumerable.Range(0, GH * H).Select(_ => rng.NextSingle() - 0.5f).ToArray(), transposed: true);
        var h = Enumerable.Range(0, H).Select(_ => rng.NextSingle()).ToArray();
        var gates = new float[GH];
        var c0 = new float[H]; var c1 = new float[H]; var tc = new float[H]; var hOut = new float[H];
        double Time(Action a)
        {
            for (int i = 0; i < 2000; i++) a();
            long cpu = Profile.ThreadCpuNs();
            for (int i = 0; i < 5000; i++) a();
            return (Profile.ThreadCpuNs() - cpu) / 1e3 / 5000;
        }
        double gemm = Time(() => { for (int t = 0; t < T; t++) MLNetRnn.Core.Kernels.Gemm.Packed(1, h, H, w, gates, GH, accumulate: true); });
        double cell = Time(() => { for (int t = 0; t < T; t++) { Array.Fill(gates, 0.1f); LstmCell.Forward(gates, c0, c1, tc, hOut, 1, H, default); } });
        Console.WriteLine(string.Format(Inv, "single forecast, calling thread's CPU: {0} recurrent products {1:F1} us, {0} cell steps {2:F1} us", T, gemm, cell));
    }
}

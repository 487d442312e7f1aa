using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The gemm command: GFLOP/s of the GEMM seam at the shapes one training step of each configuration runs
/// (per-step recurrent products, the batched input projection and weight gradients), on 1 and 2 threads.
/// </summary>
internal static class GemmRate
{
    public static int Run(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 0.5;
        Console.WriteLine($"# GEMM GFLOP/s, {(Simd.Wide ? "512" : "256")}-bit kernels, {Environment.ProcessorCount} logical cores, {DateTime.UtcNow:yyyy-MM-dd}");
        var shapes = new (string Name, bool TA, int M, int N, int K)[]
        {
            ("small  h·W_hhᵀ  (B,4H,H)", false, 32, 128, 32),
            ("small  dG·W_hh  (B,H,4H)", false, 32, 32, 128),
            ("small  dW_hh    (4H,H,TB)", true, 128, 32, 1536),
            ("large  h·W_hhᵀ  (B,4H,H)", false, 128, 1024, 256),
            ("large  dG·W_hh  (B,H,4H)", false, 128, 256, 1024),
            ("large  X·W_ihᵀ  (TB,4H,I)", false, 8192, 1024, 32),
            ("large  dW_hh    (4H,H,TB)", true, 1024, 256, 8192),
            ("square 1024", false, 1024, 1024, 1024),
        };
        foreach (var (name, ta, M, N, K) in shapes)
        {
            var rng = new Random(1);
            var a = Enumerable.Range(0, M * K).Select(_ => rng.NextSingle()).ToArray();
            var b = Enumerable.Range(0, K * N).Select(_ => rng.NextSingle()).ToArray();
            var c = new float[M * N];
            Console.Write($"{name,-28}");
            foreach (int threads in new[] { 1, 2 })
            {
                for (int i = 0; i < 3; i++) Gemm.Multiply(ta, false, M, N, K, a, b, c, true, threads);
                int n = 0;
                var process = Process.GetCurrentProcess();
                var cpu0 = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed.TotalSeconds < seconds) { Gemm.Multiply(ta, false, M, N, K, a, b, c, true, threads); n++; }
                double wall = clock.Elapsed.TotalSeconds;
                process.Refresh();
                double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
                double flop = 2.0 * M * N * K * n;
                // Per CPU-second as well: on a shared machine the wall-clock rate mostly measures the load.
                Console.Write(string.Format(CultureInfo.InvariantCulture, " {0} thread{1}: {2,6:F1} GFLOP/s ({3,5:F1} per CPU-s)", threads, threads > 1 ? "s" : " ", flop / wall / 1e9, flop / cpu / 1e9));
            }
            Console.WriteLine();
        }
        return 0;
    }
}

using BenchmarkDotNet.Attributes;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Benchmarks;

/// <summary>One training step per configuration of the reference benchmark (BenchmarkDotNet's statistics).</summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private Throughput.TrainingStep _step = null!;

    [ParamsSource(nameof(Names))]
    public string Config { get; set; } = "small-lstm";

    public static IEnumerable<string> Names => Throughput.Configs.Select(c => c.Name);

    [GlobalSetup]
    public void Setup() => _step = new Throughput.TrainingStep(Throughput.Configs.Single(c => c.Name == Config));

    [Benchmark]
    public void Step() => _step.Run();
}

/// <summary>The GEMM seam's kernels at the shapes a training step uses (batch × 4H × H and friends).</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [Params(32, 128, 256)]
    public int Hidden { get; set; }

    [Params(32, 128)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        int n = Math.Max(Batch, 4 * Hidden) * 4 * Hidden;
        _a = Enumerable.Range(0, n).Select(_ => rng.NextSingle()).ToArray();
        _b = Enumerable.Range(0, n).Select(_ => rng.NextSingle()).ToArray();
        _c = new float[n];
    }

    /// <summary>Forward recurrent product: gates (B, 4H) += h (B, H) · W_hhᵀ (H, 4H).</summary>
    [Benchmark]
    public void RecurrentForwardNN() => Gemm.NN(Batch, 4 * Hidden, Hidden, _a, _b, _c, accumulate: true);

    /// <summary>Backward recurrent product: dh (B, H) = dGates (B, 4H) · W_hh (4H, H).</summary>
    [Benchmark]
    public void RecurrentBackwardNN() => Gemm.NN(Batch, Hidden, 4 * Hidden, _a, _b, _c, accumulate: false);

    /// <summary>Weight gradient over a batch of rows: dW (4H, H) += dGatesᵀ · H_prev.</summary>
    [Benchmark]
    public void WeightGradientTN() => Gemm.TN(4 * Hidden, Hidden, Batch, _a, _b, _c, accumulate: true);
}

/// <summary>What every optimiser step does on the whole parameter vector, at the size of a panel's first layer with
/// 10,000 series ids (about a million parameters): Adam's update and the gradient's norm.</summary>
[MemoryDiagnoser]
public class ParameterPassBenchmarks
{
    private float[] _p = [], _g = [];
    private MLNetRnn.Core.Optimizers.Optimizer _adam = null!;

    [Params(1_000_000)]
    public int Parameters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _p = Enumerable.Range(0, Parameters).Select(_ => rng.NextSingle()).ToArray();
        _g = Enumerable.Range(0, Parameters).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        _adam = MLNetRnn.Core.Optimizers.Optimizer.Create(new MLNetRnn.Core.Optimizers.OptimizerOptions { Kind = MLNetRnn.Core.Optimizers.OptimizerKind.Adam }, Parameters);
    }

    /// <summary>Adam's update, in registers (Kernels/OptimizerKernels.cs).</summary>
    [Benchmark]
    public void Adam() => _adam.Step(_p, _g, 1e-3f);

    /// <summary>‖g‖₂, summed in double one element after another (clipping and the finiteness check read it).</summary>
    [Benchmark]
    public double Norm() => MLNetRnn.Core.Training.GradientClipping.Norm(_g);
}

/// <summary>
/// The base selection's rolling-origin ranking of the eight default candidates on one series (each candidate refitted
/// at eight origins: the smoothing fits' parameter searches are most of it), at the shapes of the 10,000-series panel
/// (200 daily values, m = 7, h = 14) and of an M4 hourly series (700 values, m = 24, h = 48). A panel's fit ranks
/// every series once and the learned base combination ranks again at up to eight origins of 250 of them.
/// </summary>
[MemoryDiagnoser]
public class BaseSelectionBenchmarks
{
    private float[] _values = [];
    private int _m, _h;

    [Params("daily-200", "hourly-700")]
    public string Series { get; set; } = "daily-200";

    [GlobalSetup]
    public void Setup()
    {
        (int n, _m, _h) = Series == "daily-200" ? (200, 7, 14) : (700, 24, 48);
        var rng = new Random(1);
        _values = Enumerable.Range(0, n).Select(t => (float)(100 + 0.05 * t + 10 * Math.Sin(2 * Math.PI * t / _m) + 5 * rng.NextDouble())).ToArray();
    }

    [Benchmark]
    public int Rank() => BaselineSelection.Rank(_values, _m, _h, SeasonalAdjustment.Auto, BaselineSelection.DefaultCandidates, BaselineSelection.MaxOrigins).Count;
}

using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The throughput command: the five configurations of tests/reference/README.md, each trained for about three
/// seconds with the same step as the PyTorch reference (forward, MSE on the last step through a linear head,
/// backward, global-norm clipping at 1.0, Adam), printed as training sequences per second.
/// </summary>
internal static class Throughput
{
    public sealed record Config(string Name, RecurrentCellKind Cell, int Inputs, int Hidden, int Layers, int Steps, int Batch);

    public static readonly Config[] Configs =
    [
        new("small-lstm", RecurrentCellKind.Lstm, 1, 32, 1, 48, 32),
        new("small-gru", RecurrentCellKind.Gru, 1, 32, 1, 48, 32),
        new("elman-adding", RecurrentCellKind.Elman, 2, 64, 1, 100, 20),
        new("medium-lstm", RecurrentCellKind.Lstm, 8, 128, 2, 128, 64),
        new("large-lstm", RecurrentCellKind.Lstm, 32, 256, 1, 64, 128),
    ];

    public static int Run(string[] args)
    {
        double seconds = 3;
        string? only = null;
        int? threads = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--seconds" && i + 1 < args.Length) seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--config" && i + 1 < args.Length) only = args[++i];
            else if (args[i] == "--threads" && i + 1 < args.Length) threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        Console.WriteLine($"# MLNetRnn training throughput, {Environment.ProcessorCount} logical cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
        foreach (var c in Configs.Where(c => only is null || c.Name == only))
        {
            var (seqPerSecond, msPerStep) = Measure(c, seconds, threads);
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{0,-14} cell={1} in={2} hid={3} layers={4} T={5} B={6}: {7,10:F1} seq/s  {8,8:F2} ms/step",
                c.Name, c.Cell.ToString().ToLowerInvariant(), c.Inputs, c.Hidden, c.Layers, c.Steps, c.Batch, seqPerSecond, msPerStep));
        }
        return 0;
    }

    /// <summary>One configuration: warm-up steps, then as many steps as fit in <paramref name="seconds"/>.</summary>
    public static (double SeqPerSecond, double MsPerStep) Measure(Config c, double seconds, int? threads = null)
    {
        var step = new TrainingStep(c, threads);
        for (int i = 0; i < 5; i++) step.Run();
        int n = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds) { step.Run(); n++; }
        double elapsed = clock.Elapsed.TotalSeconds;
        return (n * c.Batch / elapsed, elapsed / n * 1e3);
    }

    /// <summary>The reference's training step on fixed random data.</summary>
    public sealed class TrainingStep
    {
        private readonly RecurrentNetwork _net;
        private readonly MLNetRnn.Core.Network.Workspace _ws;
        private readonly Optimizer _adam;
        private readonly Config _c;

        public TrainingStep(Config c, int? threads = null)
        {
            _c = c;
            _net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = c.Cell, InputSize = c.Inputs, HiddenSizes = Enumerable.Repeat(c.Hidden, c.Layers).ToArray(), OutputSize = 1 }, seed: 0);
            _ws = _net.CreateWorkspace(c.Steps, c.Batch, 1);
            if (threads is int n) _ws.Threads = n;
            var rng = new Random(0);
            for (int i = 0; i < c.Steps * c.Batch * c.Inputs; i++) _ws.Input[i] = (float)MLNetRnnTestData.Normal(rng);
            for (int i = 0; i < c.Batch; i++) _ws.Targets[i] = (float)MLNetRnnTestData.Normal(rng);
            _adam = Optimizer.Create(new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 1e-3f }, _net.Parameters.Count);
        }

        public void Run()
        {
            _ws.ResetState(_c.Batch);
            _net.Forward(_ws, _c.Steps, _c.Batch, 1, training: true);
            _net.Loss(_ws, _c.Batch, 1, Core.Losses.LossKind.MeanSquaredError);
            _net.Parameters.ZeroGradients();
            _net.Backward(_ws, _c.Steps, _c.Batch, 1);
            GradientClipping.Apply(_net.Parameters, GradientClippingMode.GlobalNorm, 1f);
            _adam.Step(_net.Parameters.Values, _net.Parameters.Gradients, 1e-3f);
        }
    }
}

internal static class MLNetRnnTestData
{
    public static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

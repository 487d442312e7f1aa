using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Cli.Study;

/// <summary>
/// The seed experiments of issue 11, reproduced: the adding problem at several lengths T for a tanh RNN (no clipping,
/// clipping, clipping + Pascanu's Ω), an IRNN and an LSTM, several seeds each. Every run trains on a fresh batch per
/// step (<see cref="RecurrentTrainer.FitBatches"/>), evaluates the MSE on a fixed test set every
/// <see cref="AddingStudyOptions.EvaluateEvery"/> steps, and stops when it is below 0.01 ("solved") or after
/// <see cref="AddingStudyOptions.MaxSteps"/>. Results are appended to results.csv as each run ends (a rerun skips the
/// runs already there), with each run's diagnostics beside them.
/// </summary>
internal static class AddingStudy
{
    /// <summary>Test MSE below which a run counts as solved (always answering 1 scores ≈ 0.167).</summary>
    public const double SolvedMse = 0.01;

    public static readonly string[] AllModels = ["tanh", "tanh-clip", "tanh-clip-omega", "irnn", "lstm"];

    public const string ResultsFile = "results.csv";
    private const string Header = "model,length,seed,solved,steps,test_mse,best_test_mse,seconds,clip_rate,skipped_steps,early_reach,late_reach,max_gradient_norm";

    public static int Run(AddingStudyOptions o, TextWriter log, CancellationToken ct)
    {
        Directory.CreateDirectory(o.Output);
        Directory.CreateDirectory(Path.Combine(o.Output, "runs"));
        string results = Path.Combine(o.Output, ResultsFile);
        var done = File.Exists(results)
            ? File.ReadLines(results).Skip(1).Select(l => l.Split(',')).Select(f => (f[0], int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture))).ToHashSet()
            : [];
        if (!File.Exists(results)) File.WriteAllText(results, Header + Environment.NewLine);

        // Seed by seed, shortest first: a study stopped early still has every model at every length for its first seeds.
        var runs = (from seed in Enumerable.Range(0, o.Seeds) from T in o.Lengths from model in o.Models
                    where !done.Contains((model, T, seed)) select (model, T, seed)).ToArray();
        log.WriteLine($"adding problem: {runs.Length} runs to do ({done.Count} already in {results}); hidden {o.Hidden}, batch {o.Batch}, Adam {o.LearningRate.ToString(CultureInfo.InvariantCulture)}, ≤ {o.MaxSteps} steps");
        var gate = new object();
        Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = o.Parallel, CancellationToken = ct }, run =>
        {
            var r = RunOne(o, run.model, run.T, run.seed, ct);
            lock (gate)
            {
                File.AppendAllText(results, r.ToCsv() + Environment.NewLine);
                log.WriteLine(r.ToString());
            }
        });
        return 0;
    }

    internal static RecurrentNetworkSpec Spec(string model, int hidden)
    {
        // PyTorch's default initialisation for tanh and LSTM (what the references ran); Le et al.'s for the IRNN.
        var torch = new InitializationSpec
        {
            InputWeights = InitializerKind.PyTorchUniform, RecurrentWeights = InitializerKind.PyTorchUniform, HeadWeights = InitializerKind.PyTorchUniform,
            Biases = InitializerKind.PyTorchUniform, ForgetGateBias = 0f,
        };
        var spec = new RecurrentNetworkSpec { InputSize = 2, HiddenSizes = [hidden], OutputSize = 1, Initialization = torch };
        return model switch
        {
            "tanh" or "tanh-clip" or "tanh-clip-omega" => spec with { Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Tanh },
            "irnn" => spec with
            {
                Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Relu,
                Initialization = new InitializationSpec
                {
                    InputWeights = InitializerKind.Normal, RecurrentWeights = InitializerKind.Identity, HeadWeights = InitializerKind.Normal,
                    NormalStandardDeviation = 0.001f, Biases = InitializerKind.Zeros,
                },
            },
            "lstm" => spec with { Cell = RecurrentCellKind.Lstm },
            _ => throw new ArgumentException($"Unknown model '{model}'; expected one of {string.Join(", ", AllModels)}.", nameof(model)),
        };
    }

    internal static TrainingOptions Options(AddingStudyOptions o, string model, int T, int seed) => new()
    {
        Epochs = Math.Max(1, o.MaxSteps / o.EvaluateEvery),
        BatchSize = o.Batch,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = o.LearningRate },
        // The references clip every model but the plain tanh at 1.0.
        GradientClipping = model == "tanh" ? GradientClippingMode.None : GradientClippingMode.GlobalNorm,
        GradientClippingThreshold = 1f,
        // Ω sums one term per step; α = OmegaWeight / T weighs their mean, so the pull is the same at every length.
        VanishingRegularizerWeight = model == "tanh-clip-omega" ? o.OmegaWeight / T : 0f,
        Seed = seed,
        MaxConsecutiveNonFiniteSteps = 50,
    };

    private static RunResult RunOne(AddingStudyOptions o, string model, int T, int seed, CancellationToken ct)
    {
        var net = new RecurrentNetwork(Spec(model, o.Hidden), seed);
        var options = Options(o, model, T, seed);
        var test = SyntheticTasks.AddingProblem(o.TestCount, T, seed: 1_000_000 + T * 100 + seed);
        bool solved = false;
        double best = double.PositiveInfinity, last = double.NaN;
        int evaluations = 0;
        string name = $"{model}-T{T}-s{seed}";
        // Written as the run goes, so a long run stopped early still leaves its curve.
        using var curve = new StreamWriter(Path.Combine(o.Output, "runs", name + ".curve.csv")) { AutoFlush = true };
        curve.WriteLine("step,test_mse");
        var progress = new Progress(p =>
        {
            last = p.Summary.ValidationLoss;
            best = Math.Min(best, last);
            evaluations++;
            curve.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(p.Epoch + 1) * o.EvaluateEvery},{last:R}"));
            if (last < SolvedMse) solved = true;
        });
        var recorder = new TrainingRecorder(net, options, progress, maxSpectrumSnapshots: 24);
        var clock = Stopwatch.StartNew();
        TrainingReport? report = null;
        string? failure = null;
        try
        {
            report = new RecurrentTrainer(net, options).FitBatches(Batches(o.Batch, T, seed, () => solved), o.EvaluateEvery, test, recorder, ct);
        }
        catch (TrainingDivergedException ex)
        {
            failure = ex.Message;
        }
        clock.Stop();
        TrainingDiagnostics? d = null;
        if (report is not null)
        {
            d = recorder.Finish(report);
            File.WriteAllBytes(Path.Combine(o.Output, "runs", name + ".diagnostics"), d.ToBytes());
        }
        return new RunResult(model, T, seed, solved, report?.GradientNorms.Count ?? evaluations * o.EvaluateEvery, last, best, clock.Elapsed.TotalSeconds,
            d?.ClipRate ?? double.NaN, d?.SkippedSteps ?? -1, d?.EarlyGradientReach ?? double.NaN, d?.LateGradientReach ?? double.NaN,
            d is null ? double.NaN : d.GradientNormBefore.ToArray().Where(float.IsFinite).DefaultIfEmpty(float.NaN).Max(), failure);
    }

    /// <summary>Fresh adding-problem batches, refilled in place, until <paramref name="stop"/> says the task is solved.</summary>
    internal static IEnumerable<SequenceDataset> Batches(int B, int T, int seed, Func<bool> stop)
    {
        var rng = new Random(seed * 7919 + T);
        var x = new float[B * T * 2];
        var y = new float[B];
        var batch = new SequenceDataset(x, y, B, T, 2, 1);
        while (!stop())
        {
            Array.Clear(x);
            for (int n = 0; n < B; n++)
            {
                for (int t = 0; t < T; t++) x[(n * T + t) * 2] = rng.NextSingle();
                int a = rng.Next(T / 2), b = T / 2 + rng.Next(T - T / 2);
                x[(n * T + a) * 2 + 1] = 1f;
                x[(n * T + b) * 2 + 1] = 1f;
                y[n] = x[(n * T + a) * 2] + x[(n * T + b) * 2];
            }
            yield return batch;
        }
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private sealed record RunResult(string Model, int T, int Seed, bool Solved, int Steps, double TestMse, double BestTestMse, double Seconds,
        double ClipRate, int SkippedSteps, double EarlyReach, double LateReach, double MaxNorm, string? Failure)
    {
        public string ToCsv() => string.Join(',', Model, T.ToString(CultureInfo.InvariantCulture), Seed.ToString(CultureInfo.InvariantCulture), Solved ? "1" : "0",
            Steps.ToString(CultureInfo.InvariantCulture), F(TestMse), F(BestTestMse), F(Seconds), F(ClipRate), SkippedSteps.ToString(CultureInfo.InvariantCulture),
            F(EarlyReach), F(LateReach), F(MaxNorm));

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Model,-16} T={T,-4} seed {Seed}: {(Solved ? "solved" : "not solved")} after {Steps} steps, test MSE {TestMse:F4} (best {BestTestMse:F4}), {Seconds:F0} s{(Failure is null ? "" : " — diverged")}");

        private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    }
}

/// <summary>Settings of <see cref="AddingStudy"/>.</summary>
internal sealed record AddingStudyOptions
{
    public int[] Lengths { get; init; } = [50, 100, 150, 200];
    public string[] Models { get; init; } = AddingStudy.AllModels;
    public int Seeds { get; init; } = 3;
    public int MaxSteps { get; init; } = 6000;
    public int EvaluateEvery { get; init; } = 100;
    public int Hidden { get; init; } = 100;
    public int Batch { get; init; } = 32;
    public float LearningRate { get; init; } = 1e-3f;
    public float OmegaWeight { get; init; } = 2f;
    public int TestCount { get; init; } = 500;
    public int Parallel { get; init; } = 1;
    public string Output { get; init; } = "study-adding";
}

using System.Globalization;
using System.Text;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;
using MLNetRnn.Plots;

namespace MLNetRnn.Cli.Study;

/// <summary>
/// The exploding case of the AutoClip tests, at more seeds: a tanh RNN whose W_hh starts orthogonal × 1.5, plain SGD at
/// 0.05, adding problem T = 50; trained without clipping, at τ = 1, with AutoClip (p = 10) and at the threshold
/// <see cref="ClippingThresholdSuggestion"/> reads off a warm-up. Writes exploding.md and one gradient-norm picture per
/// mode (seed 0). Seconds, not hours.
/// </summary>
internal static class ExplodingStudy
{
    public static int Run(string output, int seeds, TextWriter log)
    {
        Directory.CreateDirectory(output);
        var spec = new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Tanh, InputSize = 2, HiddenSizes = [32],
            Initialization = new InitializationSpec { RecurrentGain = 1.5f },
        };
        var train = SyntheticTasks.AddingProblem(512, 50, seed: 1);
        TrainingOptions Options(GradientClippingMode mode, int seed) => new()
        {
            Epochs = 16, BatchSize = 32, GradientClipping = mode, GradientClippingThreshold = 1f, Seed = seed, MaxConsecutiveNonFiniteSteps = 1000,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.05f },
        };
        var modes = new (string Name, string File, Func<int, TrainingOptions> Options)[]
        {
            ("no clipping", "none", s => Options(GradientClippingMode.None, s)),
            ("τ = 1", "tau1", s => Options(GradientClippingMode.GlobalNorm, s)),
            ("AutoClip p = 10", "autoclip", s => Options(GradientClippingMode.AutoClip, s)),
            ("suggested τ", "suggested", s => ClippingThresholdSuggestion.Suggest(new RecurrentNetwork(spec, s), train, Options(GradientClippingMode.None, s)).Apply(Options(GradientClippingMode.None, s))),
        };
        var md = new StringBuilder();
        md.AppendLine("| clipping | τ (seed 0) | seeds ending non-finite | mean loss, last 4 epochs (median over seeds) | worst seed | max ‖g‖ (median) | clipped steps (median) |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, fileName, options) in modes)
        {
            var runs = Enumerable.Range(0, seeds).Select(seed =>
            {
                var net = new RecurrentNetwork(spec, seed);
                var o = options(seed);
                var (report, d) = new RecurrentTrainer(net, o).FitWithDiagnostics(train);
                return (Options: o, Diagnostics: d, Loss: report.Epochs.TakeLast(4).Average(e => e.TrainingLoss), Max: report.GradientNorms.Quantile(1));
            }).ToArray();
            TrainingPlots.GradientNorm([runs[0].Diagnostics], Path.Combine(output, $"exploding-{fileName}.png"), "tanh RNN, gain 1.5");
            string tau = runs[0].Options.GradientClipping switch
            {
                GradientClippingMode.None => "–",
                GradientClippingMode.AutoClip => "moving",
                _ => runs[0].Options.GradientClippingThreshold.ToString("G3", CultureInfo.InvariantCulture),
            };
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {tau} | {runs.Count(r => !double.IsFinite(r.Loss))} of {seeds} | {Median(runs.Select(r => double.IsFinite(r.Loss) ? r.Loss : double.PositiveInfinity)):G3} | {runs.Max(r => double.IsFinite(r.Loss) ? r.Loss : double.PositiveInfinity):G3} | {Median(runs.Select(r => r.Max)):G3} | {Median(runs.Select(r => (double)r.Diagnostics.ClippedSteps)):F0} of {runs[0].Diagnostics.StepCount} |"));
        }
        File.WriteAllText(Path.Combine(output, "exploding.md"), md.ToString());
        log.Write(md.ToString());
        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}

using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Samples;

/// <summary>
/// Choosing the clipping threshold from the data, on a tanh RNN built to explode (W_hh orthogonal × 1.5, plain SGD):
/// read τ off a short warm-up without clipping, train with it and with AutoClip, and compare what the diagnostics say
/// with the run that does not clip. Writes the AutoClip run's diagnostics as CSV into <c>clipping-diagnostics/</c>.
/// </summary>
public static class ChooseClippingThreshold
{
    /// <summary>Runs the sample, writing its report to <paramref name="output"/>. Returns 0 when both automatic
    /// thresholds train to a lower loss than no clipping.</summary>
    public static int Run(TextWriter output, string diagnosticsFolder = "clipping-diagnostics")
    {
        var train = SyntheticTasks.AddingProblem(count: 512, steps: 50, seed: 1);
        var spec = new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Tanh, InputSize = 2, HiddenSizes = [32],
            Initialization = new InitializationSpec { RecurrentGain = 1.5f },   // σ₁(W_hh) = 1.5 > 1/γ = 1
        };
        var options = new TrainingOptions
        {
            Epochs = 16, BatchSize = 32, GradientClipping = GradientClippingMode.None, MaxConsecutiveNonFiniteSteps = 1000,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.05f },
        };

        var suggestion = ClippingThresholdSuggestion.Suggest(new RecurrentNetwork(spec, seed: 0), train, options);
        output.WriteLine($"Suggested: {suggestion}");

        double Train(string name, TrainingOptions o, out TrainingDiagnostics diagnostics)
        {
            var (report, d) = new RecurrentTrainer(new RecurrentNetwork(spec, seed: 0), o).FitWithDiagnostics(train);
            diagnostics = d;
            double loss = report.Epochs.TakeLast(4).Average(e => e.TrainingLoss);
            output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{0,-16} loss (last 4 epochs) {1,10:G4}   max ‖g‖ {2,10:G3}   clipped {3,3} of {4} steps   gradient reach {5:G2} → {6:G2}",
                name, loss, report.GradientNorms.Quantile(1), d.ClippedSteps, d.StepCount, d.EarlyGradientReach, d.LateGradientReach));
            return loss;
        }

        double none = Train("no clipping", options, out _);
        if (!double.IsFinite(none)) none = double.PositiveInfinity;   // a run that ends in NaN stopped training
        double suggested = Train("suggested τ", suggestion.Apply(options), out _);
        double auto = Train("AutoClip p = 10", options with { GradientClipping = GradientClippingMode.AutoClip }, out var autoDiagnostics);
        autoDiagnostics.WriteCsv(diagnosticsFolder);
        output.WriteLine($"AutoClip's diagnostics: {Path.Combine(diagnosticsFolder, TrainingDiagnostics.CsvFiles.Steps)} and three more tables.");
        return suggested < none && auto < none ? 0 : 1;
    }
}

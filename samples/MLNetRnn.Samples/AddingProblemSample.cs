using System.Globalization;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;
using MLNetRnn.Core.Diagnostics;

namespace MLNetRnn.Samples;

/// <summary>
/// Trains an LSTM on the adding problem (Hochreiter &amp; Schmidhuber 1997): two marked numbers in a sequence of
/// 50 steps, target their sum. It prints the progress per epoch, then what the papers tell us to watch: the
/// gradient-norm curve around the clipping threshold, how far the error signal reaches back, and the spectrum
/// of the recurrent weights.
/// </summary>
public static class AddingProblemSample
{
    /// <summary>Runs the sample, writing its report to <paramref name="output"/>. Returns 0 when the task is solved.</summary>
    public static int Run(TextWriter output)
    {
        const int T = 50;
        var train = SyntheticTasks.AddingProblem(count: 2000, steps: T, seed: 1);
        var test = SyntheticTasks.AddingProblem(count: 1000, steps: T, seed: 2);

        var network = new RecurrentNetwork(new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Lstm, InputSize = 2, HiddenSizes = [32], OutputSize = 1,
        }, seed: 0);
        var trainer = new RecurrentTrainer(network, new TrainingOptions
        {
            Epochs = 12,
            BatchSize = 32,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 1e-2f },
            GradientClipping = GradientClippingMode.GlobalNorm,
            GradientClippingThreshold = 1f,
            Seed = 0,
        });

        output.WriteLine($"Adding problem, T = {T}: LSTM(2 → 32) + linear head, Adam 1e-2, global-norm clipping at 1.0");
        output.WriteLine("epoch   train MSE   mean ‖g‖   max ‖g‖   clipped steps");
        var progress = new ConsoleProgress(output);
        var report = trainer.Fit(train, progress: progress);

        var prediction = network.Predict(test.Inputs, test.Count, T);
        double mse = 0, baseline = 0;
        for (int i = 0; i < test.Count; i++)
        {
            mse += Math.Pow(prediction[i] - test.Targets[i], 2);
            baseline += Math.Pow(1.0 - test.Targets[i], 2);
        }
        mse /= test.Count; baseline /= test.Count;
        bool solved = mse < 0.01;
        output.WriteLine();
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, "Test MSE {0:F5} (always answering 1: {1:F3}) → {2}, in {3:F1} s over {4} steps.",
            mse, baseline, solved ? "solved" : "NOT solved", report.Duration.TotalSeconds, report.StepsTaken));

        var norms = report.GradientNorms;
        output.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "Gradient norm before clipping: median {0:F3}, 90th percentile {1:F3}, max {2:F3}; {3} of {4} steps clipped at 1.0.",
            norms.Quantile(0.5), norms.Quantile(0.9), norms.Quantile(1.0), report.Epochs.Sum(e => e.ClippedSteps), norms.Count));

        var signal = report.BackwardSignal(report.Epochs.Count - 1);
        output.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "‖∂L/∂h_t‖ in the last epoch: {0:E2} at the last step, {1:E2} 25 steps back, {2:E2} at the first step.",
            signal[T - 1], signal[T / 2 - 1], signal[0]));

        foreach (var gate in RecurrentSpectrum.Compute(network))
            output.WriteLine(string.Format(CultureInfo.InvariantCulture, "W_hh gate {0}: largest singular value {1:F3}, spectral radius {2:F3}",
                gate.Gate, gate.LargestSingularValue, gate.SpectralRadius));
        return solved ? 0 : 1;
    }

    private sealed class ConsoleProgress(TextWriter output) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => output.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "{0,5}   {1,9:F5}   {2,8:F3}   {3,7:F3}   {4,5}", p.Epoch, p.Summary.TrainingLoss, p.Summary.MeanGradientNorm, p.Summary.MaxGradientNorm, p.Summary.ClippedSteps));
    }
}

using System.Text.Json;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Diagnostics;

public sealed class TrainingDiagnosticsTests
{
    private static (TrainingReport Report, TrainingDiagnostics Diagnostics, RecurrentNetwork Network) Run(RecurrentCellKind cell = RecurrentCellKind.Lstm, int epochs = 5)
    {
        var data = SyntheticTasks.AddingProblem(160, 12, seed: 1);
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = cell, InputSize = 2, HiddenSizes = [6, 5] }, seed: 2);
        var options = new TrainingOptions
        {
            Epochs = epochs, BatchSize = 32, ValidationFraction = 0.25f, GradientClippingThreshold = 0.05f, Seed = 3,
            LearningRateSchedule = new LearningRateSchedule { Kind = LearningRateScheduleKind.Cosine },
        };
        var (report, diagnostics) = new RecurrentTrainer(net, options).FitWithDiagnostics(data);
        return (report, diagnostics, net);
    }

    [Fact]
    public void DiagnosticsHoldTheReportsCurves()
    {
        var (report, d, net) = Run();
        Assert.Equal(report.GradientNorms.Before.ToArray(), d.GradientNormBefore.ToArray());
        Assert.Equal(report.GradientNorms.After.ToArray(), d.GradientNormAfter.ToArray());
        Assert.Equal(report.GradientNorms.Loss.ToArray(), d.StepLoss.ToArray());
        Assert.Equal(report.Epochs, d.Epochs);
        Assert.Equal(report.Epochs.Sum(e => e.ClippedSteps), d.ClippedSteps);
        Assert.True(d.ClippedSteps > 0, "τ = 0.05 should clip");
        Assert.Equal((double)d.ClippedSteps / d.StepCount, d.ClipRate, 12);
        Assert.All(Enumerable.Range(0, d.StepCount).Select(s => d.ClippingThreshold[s]), t => Assert.Equal(0.05f, t));
        int last = d.StepCount - 1;
        Assert.Equal(report.Epochs[^1].LearningRate, d.LearningRateOfStep(last));
        Assert.Equal(report.Epochs[0].LearningRate, d.LearningRateOfStep(0));
        Assert.Equal(report.Epochs.Count - 1, d.EpochOfStep(last));
    }

    [Fact]
    public void GradientReachIsTheOldestOverTheNewestBackwardSignal()
    {
        var (report, d, _) = Run();
        for (int e = 0; e < report.Epochs.Count; e++)
        {
            var s = report.BackwardSignal(e);
            Assert.Equal(s.ToArray(), d.BackwardSignal(e).ToArray());
            Assert.Equal((double)s[0] / s[^1], d.GradientReach(e), 12);
        }
        Assert.Equal(d.GradientReach(0), d.EarlyGradientReach);
        Assert.Equal(d.GradientReach(report.Epochs.Count - 1), d.LateGradientReach);
        Assert.InRange(d.EarlyGradientReach, 1e-9, 10);
    }

    [Fact]
    public void SpectrumIsRecordedBeforeDuringAndAfterTrainingPerLayerAndGate()
    {
        var (report, d, net) = Run(RecurrentCellKind.Lstm, epochs: 5);
        Assert.NotNull(d.InitialSpectrum);
        Assert.Equal(-1, d.SpectrumHistory[0].Epoch);
        // Orthogonal initialisation: every singular value 1 before training.
        Assert.All(d.InitialSpectrum!.Gates, g => Assert.All(g.SingularValues, v => Assert.Equal(1.0, v, 5)));
        Assert.Equal(2 * 4, d.InitialSpectrum.Gates.Count);
        Assert.Equal(["i", "f", "g", "o"], d.InitialSpectrum.Gates.Take(4).Select(g => g.Gate));
        Assert.Equal(1 + report.Epochs.Count, d.SpectrumHistory.Count);   // 5 epochs ≤ 32 snapshots: every epoch
        Assert.Equal(RecurrentSpectrum.Compute(net).Select(g => g.SingularValues), d.FinalSpectrum!.Gates.Select(g => g.SingularValues));
        Assert.Equal(4.0, d.SpectrumBound("i"));   // sigmoid gate: γ = 1/4
        Assert.Equal(1.0, d.SpectrumBound("g"));   // tanh candidate: γ = 1
    }

    [Fact]
    public void RecorderSamplesAtMostTheRequestedSpectra()
    {
        var data = SyntheticTasks.AddingProblem(64, 6, seed: 1);
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, InputSize = 2, HiddenSizes = [4] }, seed: 2);
        var options = new TrainingOptions { Epochs = 40, BatchSize = 64 };
        var recorder = new TrainingRecorder(net, options, maxSpectrumSnapshots: 8);
        var d = recorder.Finish(new RecurrentTrainer(net, options).Fit(data, progress: recorder));
        Assert.Equal([-1, 4, 9, 14, 19, 24, 29, 34, 39], d.SpectrumHistory.Select(s => s.Epoch));
    }

    [Fact]
    public void BinaryRoundTripKeepsEverything()
    {
        var (_, d, _) = Run(RecurrentCellKind.Gru);
        var back = TrainingDiagnostics.FromBytes(d.ToBytes());
        Assert.Equal(d.Network, back.Network);
        Assert.Equal(d.Clipping, back.Clipping);
        Assert.Equal(d.StepsPerEpoch, back.StepsPerEpoch);
        Assert.Equal(d.StepLoss.ToArray(), back.StepLoss.ToArray());
        Assert.Equal(d.GradientNormBefore.ToArray(), back.GradientNormBefore.ToArray());
        Assert.Equal(d.GradientNormAfter.ToArray(), back.GradientNormAfter.ToArray());
        Assert.Equal(d.ClippingThreshold.ToArray(), back.ClippingThreshold.ToArray());
        Assert.Equal(d.Epochs, back.Epochs);
        Assert.Equal(d.WindowSteps, back.WindowSteps);
        for (int e = 0; e < d.Epochs.Count; e++) Assert.Equal(d.BackwardSignal(e).ToArray(), back.BackwardSignal(e).ToArray());
        Assert.Equal(d.SpectrumHistory.Count, back.SpectrumHistory.Count);
        for (int k = 0; k < d.SpectrumHistory.Count; k++)
        {
            Assert.Equal(d.SpectrumHistory[k].Epoch, back.SpectrumHistory[k].Epoch);
            Assert.Equal(d.SpectrumHistory[k].Gates.Select(g => (g.Layer, g.Gate)), back.SpectrumHistory[k].Gates.Select(g => (g.Layer, g.Gate)));
            Assert.Equal(d.SpectrumHistory[k].Gates.SelectMany(g => g.SingularValues), back.SpectrumHistory[k].Gates.SelectMany(g => g.SingularValues));
            Assert.Equal(d.SpectrumHistory[k].Gates.SelectMany(g => g.EigenvalueMagnitudes), back.SpectrumHistory[k].Gates.SelectMany(g => g.EigenvalueMagnitudes));
        }
        Assert.Equal(d.FinalSpectrum!.Gates.SelectMany(g => g.SingularValues), back.FinalSpectrum!.Gates.SelectMany(g => g.SingularValues));
        Assert.Equal((d.BestEpoch, d.StoppedEarly, d.RestoredBestWeights, d.Duration), (back.BestEpoch, back.StoppedEarly, back.RestoredBestWeights, back.Duration));
        Assert.Equal(d.ToBytes(), back.ToBytes());
    }

    [Fact]
    public void ReadRejectsTruncatedForeignAndNewerData()
    {
        var (_, d, _) = Run(RecurrentCellKind.Elman, epochs: 2);
        var bytes = d.ToBytes();
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => TrainingDiagnostics.FromBytes(bytes[..(bytes.Length / 2)])).Message);
        var foreign = (byte[])bytes.Clone();
        foreign[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => TrainingDiagnostics.FromBytes(foreign)).Message);
        var newer = (byte[])bytes.Clone();
        BitConverter.TryWriteBytes(newer.AsSpan(8, 4), TrainingDiagnostics.FormatVersion + 1);
        Assert.Contains("version", Assert.Throws<InvalidDataException>(() => TrainingDiagnostics.FromBytes(newer)).Message);
    }

    [Fact]
    public void CsvAndJsonExportEveryTable()
    {
        var (report, d, _) = Run(RecurrentCellKind.Lstm, epochs: 3);
        string dir = Path.Combine(Path.GetTempPath(), "mlnetrnn-diag-" + Guid.NewGuid().ToString("N"));
        try
        {
            d.WriteCsv(dir);
            var steps = File.ReadAllLines(Path.Combine(dir, TrainingDiagnostics.CsvFiles.Steps));
            Assert.Equal("step,epoch,learning_rate,loss,gradient_norm_before,gradient_norm_after,clipping_threshold,clipped,skipped", steps[0]);
            Assert.Equal(d.StepCount + 1, steps.Length);
            var first = steps[1].Split(',');
            Assert.Equal(d.GradientNormBefore[0], float.Parse(first[4], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(report.Epochs.Count + 1, File.ReadAllLines(Path.Combine(dir, TrainingDiagnostics.CsvFiles.Epochs)).Length);
            Assert.Equal(report.Epochs.Count * d.WindowSteps + 1, File.ReadAllLines(Path.Combine(dir, TrainingDiagnostics.CsvFiles.BackwardSignal)).Length);
            var spectrum = File.ReadAllLines(Path.Combine(dir, TrainingDiagnostics.CsvFiles.Spectrum));
            int perSnapshot = 4 * (6 + 5);   // gates × singular values over both layers
            Assert.Equal((d.SpectrumHistory.Count + 1) * perSnapshot + 1, spectrum.Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        using var json = JsonDocument.Parse(d.ToJson());
        var root = json.RootElement;
        Assert.Equal(d.StepCount, root.GetProperty("steps").GetProperty("gradientNormBefore").GetArrayLength());
        Assert.Equal(d.ClippedSteps, root.GetProperty("summary").GetProperty("clippedSteps").GetInt32());
        Assert.Equal(d.LateGradientReach, root.GetProperty("summary").GetProperty("lateGradientReach").GetDouble(), 12);
        Assert.Equal(report.Epochs.Count, root.GetProperty("backwardSignal").GetArrayLength());
        Assert.Equal("Lstm", root.GetProperty("network").GetProperty("cell").GetString());
        // No validation loss without validation data is NaN: JSON gets null, not an invalid token.
        Assert.Equal(JsonValueKind.Number, root.GetProperty("epochs")[0].GetProperty("validationLoss").ValueKind);
    }

    [Fact]
    public void FromReportHasOnlyTheFinalSpectrum()
    {
        var data = SyntheticTasks.AddingProblem(64, 6, seed: 1);
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, InputSize = 2, HiddenSizes = [4] }, seed: 2);
        var options = new TrainingOptions { Epochs = 2, GradientClipping = GradientClippingMode.None };
        var d = TrainingDiagnostics.From(new RecurrentTrainer(net, options).Fit(data), net, options);
        Assert.Null(d.InitialSpectrum);
        Assert.NotNull(d.FinalSpectrum);
        Assert.Equal(float.PositiveInfinity, d.ClippingThreshold[0]);
        Assert.Equal(0, d.ClippedSteps);
    }
}

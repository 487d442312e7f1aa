using System.Globalization;
using System.Text.Json;

namespace MLNetRnn.Core.Diagnostics;

public sealed partial class TrainingDiagnostics
{
    /// <summary>File names <see cref="WriteCsv(string)"/> writes.</summary>
    public static class CsvFiles
    {
        /// <summary>One row per step.</summary>
        public const string Steps = "steps.csv";

        /// <summary>One row per epoch.</summary>
        public const string Epochs = "epochs.csv";

        /// <summary>One row per epoch and window step.</summary>
        public const string BackwardSignal = "backward-signal.csv";

        /// <summary>One row per snapshot, layer, gate block and singular value.</summary>
        public const string Spectrum = "spectrum.csv";
    }

    /// <summary>Writes the four tables of <see cref="CsvFiles"/> into <paramref name="directory"/> (created if
    /// missing). Numbers are invariant-culture and round-trip; non-finite values are written as NaN, Infinity.</summary>
    public void WriteCsv(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        using (var w = new StreamWriter(Path.Combine(directory, CsvFiles.Steps))) WriteStepsCsv(w);
        using (var w = new StreamWriter(Path.Combine(directory, CsvFiles.Epochs))) WriteEpochsCsv(w);
        using (var w = new StreamWriter(Path.Combine(directory, CsvFiles.BackwardSignal))) WriteBackwardSignalCsv(w);
        using (var w = new StreamWriter(Path.Combine(directory, CsvFiles.Spectrum))) WriteSpectrumCsv(w);
    }

    /// <summary>step, epoch, learning_rate, loss, gradient_norm_before, gradient_norm_after, clipping_threshold, clipped, skipped.</summary>
    public void WriteStepsCsv(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine("step,epoch,learning_rate,loss,gradient_norm_before,gradient_norm_after,clipping_threshold,clipped,skipped");
        for (int s = 0; s < StepCount; s++)
            writer.WriteLine(string.Join(',', I(s), I(EpochOfStep(s)), F(LearningRateOfStep(s)), F(_loss[s]), F(_before[s]), F(_after[s]),
                F(_threshold[s]), IsClipped(s) ? "1" : "0", IsSkipped(s) ? "1" : "0"));
    }

    /// <summary>epoch, training_loss, validation_loss, learning_rate, mean_gradient_norm, max_gradient_norm, clipped_steps,
    /// skipped_steps, regularizer, gradient_reach.</summary>
    public void WriteEpochsCsv(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine("epoch,training_loss,validation_loss,learning_rate,mean_gradient_norm,max_gradient_norm,clipped_steps,skipped_steps,regularizer,gradient_reach");
        foreach (var e in _epochs)
            writer.WriteLine(string.Join(',', I(e.Epoch), F(e.TrainingLoss), F(e.ValidationLoss), F(e.LearningRate), F(e.MeanGradientNorm),
                F(e.MaxGradientNorm), I(e.ClippedSteps), I(e.SkippedSteps), F(e.Regularizer), F(GradientReach(e.Epoch))));
    }

    /// <summary>epoch, step (0 = oldest), steps_back (0 = newest), hidden_gradient_norm: mean ‖∂L/∂h_t‖ of the top layer.</summary>
    public void WriteBackwardSignalCsv(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine("epoch,step,steps_back,hidden_gradient_norm");
        if (!HasBackwardSignal) return;
        for (int e = 0; e < _epochs.Length; e++)
        {
            var s = BackwardSignal(e);
            for (int t = 0; t < s.Length; t++) writer.WriteLine(string.Join(',', I(e), I(t), I(s.Length - 1 - t), F(s[t])));
        }
    }

    /// <summary>epoch (−1 = before training), final (1 for the weights the run ended with), layer, gate, rank (0 = largest),
    /// singular_value, eigenvalue_magnitude, bound (1/γ).</summary>
    public void WriteSpectrumCsv(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine("epoch,final,layer,gate,rank,singular_value,eigenvalue_magnitude,bound");
        foreach (var (snapshot, final) in SpectrumSnapshots())
            foreach (var g in snapshot.Gates)
                for (int k = 0; k < g.SingularValues.Length; k++)
                    writer.WriteLine(string.Join(',', I(snapshot.Epoch), final ? "1" : "0", I(g.Layer), g.Gate, I(k), F(g.SingularValues[k]),
                        k < g.EigenvalueMagnitudes.Length ? F(g.EigenvalueMagnitudes[k]) : "", F(SpectrumBound(g.Gate))));
    }

    private IEnumerable<(SpectrumSnapshot Snapshot, bool Final)> SpectrumSnapshots()
        => SpectrumHistory.Select(s => (s, false)).Concat(FinalSpectrum is null ? [] : [(FinalSpectrum, true)]);

    /// <summary>Writes the diagnostics as one JSON document (UTF-8): summary figures, per-step arrays, per-epoch records,
    /// the backward signal per epoch and the spectra. Non-finite numbers are written as null.</summary>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        j.WriteStartObject();
        j.WriteNumber("formatVersion", FormatVersion);
        j.WriteStartObject("network");
        j.WriteString("cell", Network.Cell.ToString());
        j.WriteString("activation", Network.Activation.ToString());
        j.WriteStartArray("hiddenSizes");
        foreach (int h in Network.HiddenSizes) j.WriteNumberValue(h);
        j.WriteEndArray();
        j.WriteEndObject();
        j.WriteStartObject("clipping");
        j.WriteString("mode", Clipping.Mode.ToString());
        Number(j, "threshold", Clipping.Threshold);
        Number(j, "autoClipPercentile", Clipping.AutoClipPercentile);
        j.WriteEndObject();
        j.WriteStartObject("summary");
        j.WriteNumber("steps", StepCount);
        j.WriteNumber("stepsPerEpoch", StepsPerEpoch);
        j.WriteNumber("epochs", _epochs.Length);
        j.WriteNumber("clippedSteps", ClippedSteps);
        j.WriteNumber("skippedSteps", SkippedSteps);
        Number(j, "clipRate", ClipRate);
        j.WriteNumber("bestEpoch", BestEpoch);
        j.WriteBoolean("stoppedEarly", StoppedEarly);
        j.WriteBoolean("restoredBestWeights", RestoredBestWeights);
        Number(j, "earlyGradientReach", EarlyGradientReach);
        Number(j, "lateGradientReach", LateGradientReach);
        Number(j, "durationSeconds", Duration.TotalSeconds);
        j.WriteEndObject();
        j.WriteStartObject("steps");
        Array(j, "loss", _loss);
        Array(j, "gradientNormBefore", _before);
        Array(j, "gradientNormAfter", _after);
        Array(j, "clippingThreshold", _threshold);
        j.WriteEndObject();
        j.WriteStartArray("epochs");
        foreach (var e in _epochs)
        {
            j.WriteStartObject();
            j.WriteNumber("epoch", e.Epoch);
            Number(j, "trainingLoss", e.TrainingLoss);
            Number(j, "validationLoss", e.ValidationLoss);
            Number(j, "learningRate", e.LearningRate);
            Number(j, "meanGradientNorm", e.MeanGradientNorm);
            Number(j, "maxGradientNorm", e.MaxGradientNorm);
            j.WriteNumber("clippedSteps", e.ClippedSteps);
            j.WriteNumber("skippedSteps", e.SkippedSteps);
            Number(j, "regularizer", e.Regularizer);
            Number(j, "gradientReach", GradientReach(e.Epoch));
            j.WriteEndObject();
        }
        j.WriteEndArray();
        j.WriteStartArray("backwardSignal");
        if (HasBackwardSignal)
            for (int e = 0; e < _epochs.Length; e++)
            {
                j.WriteStartArray();
                foreach (float v in BackwardSignal(e)) NumberValue(j, v);
                j.WriteEndArray();
            }
        j.WriteEndArray();
        j.WriteStartArray("spectrum");
        foreach (var (snapshot, final) in SpectrumSnapshots())
            foreach (var g in snapshot.Gates)
            {
                j.WriteStartObject();
                j.WriteNumber("epoch", snapshot.Epoch);
                j.WriteBoolean("final", final);
                j.WriteNumber("layer", g.Layer);
                j.WriteString("gate", g.Gate);
                Number(j, "bound", SpectrumBound(g.Gate));
                j.WriteStartArray("singularValues");
                foreach (double v in g.SingularValues) NumberValue(j, v);
                j.WriteEndArray();
                j.WriteStartArray("eigenvalueMagnitudes");
                foreach (double v in g.EigenvalueMagnitudes) NumberValue(j, v);
                j.WriteEndArray();
                j.WriteEndObject();
            }
        j.WriteEndArray();
        j.WriteEndObject();
    }

    /// <summary>The JSON document of <see cref="WriteJson(Stream)"/> as a string.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        WriteJson(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Number(Utf8JsonWriter j, string name, double v)
    {
        j.WritePropertyName(name);
        NumberValue(j, v);
    }

    private static void NumberValue(Utf8JsonWriter j, double v)
    {
        if (double.IsFinite(v)) j.WriteNumberValue(v); else j.WriteNullValue();
    }

    private static void NumberValue(Utf8JsonWriter j, float v)
    {
        if (float.IsFinite(v)) j.WriteNumberValue(v); else j.WriteNullValue();
    }

    private static void Array(Utf8JsonWriter j, string name, float[] values)
    {
        j.WriteStartArray(name);
        foreach (float v in values) NumberValue(j, v);
        j.WriteEndArray();
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);
}

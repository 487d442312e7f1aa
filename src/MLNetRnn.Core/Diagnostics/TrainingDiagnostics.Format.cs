using System.Text;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Diagnostics;

public sealed partial class TrainingDiagnostics
{
    /// <summary>The version <see cref="Write"/> writes; <see cref="Read"/> reads it and every older one.</summary>
    public const int FormatVersion = 2;

    private static ReadOnlySpan<byte> Magic => "MLNRDIAG"u8;

    // *** Binary format, version 2 (little-endian, BinaryWriter) ***
    // byte[8]  "MLNRDIAG"                 int32 version
    // network: string cell, string activation, float ELU α, int32 L, int32[L] hidden sizes
    // clipping: string mode, float τ, float AutoClip percentile
    // int32 steps per epoch
    // int32 S, float[S] loss, float[S] ‖g‖ before, float[S] ‖g‖ after, float[S] threshold
    // int32 E, E × (int32 epoch, double training loss, double validation loss, double learning rate,
    //               double mean ‖g‖, double max ‖g‖, int32 clipped, double Ω, int32 skipped)
    // int32 T, float[E·T] backward signal (epoch-major)
    // int32 best epoch, bool stopped early, bool restored best weights, int64 duration ticks
    // int32 K, K × snapshot; bool has final, [snapshot]
    // snapshot: int32 epoch, int32 G, G × (int32 layer, string gate, int32 n, double[n] σ, int32 m, double[m] |λ|)
    // The three enums are written by name (Persisted.WriteEnum), so that reordering or inserting a member cannot
    // change what a file means. Version 1, still read, wrote them as int32 values; it is otherwise the same.

    /// <summary>Writes the diagnostics in the versioned binary format (<see cref="FormatVersion"/>).</summary>
    public void Write(BinaryWriter writer) => WriteVersion(writer, FormatVersion);

    /// <summary>Writes the diagnostics in format version <paramref name="formatVersion"/>: 1 for a reader that
    /// reads no later version (a model file that declares itself readable by such a reader must hold version 1),
    /// otherwise <see cref="FormatVersion"/>.</summary>
    /// <param name="writer">Where the bytes go.</param>
    /// <param name="formatVersion">1 or <see cref="FormatVersion"/>; version 1 holds the same content with the enums as int32.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="formatVersion"/> is not a version this build writes.</exception>
    public void WriteVersion(BinaryWriter writer, int formatVersion)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfLessThan(formatVersion, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(formatVersion, FormatVersion);
        writer.Write(Magic);
        writer.Write(formatVersion);
        WriteEnum(writer, Network.Cell, formatVersion); WriteEnum(writer, Network.Activation, formatVersion); writer.Write(Network.EluAlpha);
        writer.Write(Network.HiddenSizes.Count);
        foreach (int h in Network.HiddenSizes) writer.Write(h);
        WriteEnum(writer, Clipping.Mode, formatVersion); writer.Write(Clipping.Threshold); writer.Write(Clipping.AutoClipPercentile);
        writer.Write(StepsPerEpoch);
        writer.Write(StepCount);
        WriteFloats(writer, _loss); WriteFloats(writer, _before); WriteFloats(writer, _after); WriteFloats(writer, _threshold);
        writer.Write(_epochs.Length);
        foreach (var e in _epochs)
        {
            writer.Write(e.Epoch); writer.Write(e.TrainingLoss); writer.Write(e.ValidationLoss); writer.Write(e.LearningRate);
            writer.Write(e.MeanGradientNorm); writer.Write(e.MaxGradientNorm); writer.Write(e.ClippedSteps); writer.Write(e.Regularizer);
            writer.Write(e.SkippedSteps);
        }
        writer.Write(WindowSteps);
        WriteFloats(writer, _backwardSignal);
        writer.Write(BestEpoch); writer.Write(StoppedEarly); writer.Write(RestoredBestWeights); writer.Write(Duration.Ticks);
        writer.Write(SpectrumHistory.Count);
        foreach (var s in SpectrumHistory) WriteSnapshot(writer, s);
        writer.Write(FinalSpectrum is not null);
        if (FinalSpectrum is not null) WriteSnapshot(writer, FinalSpectrum);
    }

    /// <summary>Reads diagnostics written by <see cref="Write"/> (this or an older format version).</summary>
    /// <exception cref="InvalidDataException">The data is not diagnostics, is corrupted, or comes from a newer version.</exception>
    public static TrainingDiagnostics Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            Span<byte> magic = stackalloc byte[8];
            reader.BaseStream.ReadExactly(magic);
            if (!magic.SequenceEqual(Magic)) throw new InvalidDataException("These bytes are not MLNetRnn training diagnostics (bad magic).");
            int version = reader.ReadInt32();
            if (version < 1 || version > FormatVersion)
                throw new InvalidDataException($"Training diagnostics format version {version} is not readable by this build, which reads versions 1 to {FormatVersion}; update MLNetRnn.");

            var cell = ReadEnum<RecurrentCellKind>(reader, version, "cell");
            var activation = ReadEnum<ElmanActivation>(reader, version, "activation");
            float eluAlpha = reader.ReadSingle();
            var hidden = new int[Count(reader.ReadInt32(), 1024, "layer")];
            for (int l = 0; l < hidden.Length; l++) hidden[l] = Count(reader.ReadInt32(), 1 << 20, "hidden size");
            var clipping = new DiagnosticsClipping(ReadEnum<GradientClippingMode>(reader, version, "clipping mode"), reader.ReadSingle(), reader.ReadSingle());
            int stepsPerEpoch = Count(reader.ReadInt32(), int.MaxValue, "steps per epoch");
            int S = Count(reader.ReadInt32(), 1 << 26, "step");
            float[] loss = ReadFloats(reader, S), before = ReadFloats(reader, S), after = ReadFloats(reader, S), threshold = ReadFloats(reader, S);
            var epochs = new EpochSummary[Count(reader.ReadInt32(), 1 << 24, "epoch")];
            for (int e = 0; e < epochs.Length; e++)
                epochs[e] = new EpochSummary(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(),
                    reader.ReadDouble(), reader.ReadDouble(), reader.ReadInt32(), reader.ReadDouble(), reader.ReadInt32());
            int T = Count(reader.ReadInt32(), 1 << 24, "window step");
            if ((long)epochs.Length * T > 1 << 28) throw new InvalidDataException($"The backward signal of {epochs.Length} epochs × {T} steps is out of range.");
            var signal = ReadFloats(reader, epochs.Length * T);
            int best = reader.ReadInt32();
            bool stoppedEarly = reader.ReadBoolean(), restored = reader.ReadBoolean();
            var duration = TimeSpan.FromTicks(reader.ReadInt64());
            var history = new SpectrumSnapshot[Count(reader.ReadInt32(), 1 << 16, "spectrum snapshot")];
            for (int k = 0; k < history.Length; k++) history[k] = ReadSnapshot(reader);
            var final = reader.ReadBoolean() ? ReadSnapshot(reader) : null;
            return new TrainingDiagnostics(new DiagnosticsNetwork(cell, activation, eluAlpha, hidden), clipping, stepsPerEpoch,
                loss, before, after, threshold, epochs, T, signal, history, final, best, stoppedEarly, restored, duration);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("The training diagnostics end early: the data is truncated.", ex);
        }
    }

    private static void WriteSnapshot(BinaryWriter w, SpectrumSnapshot s)
    {
        w.Write(s.Epoch);
        w.Write(s.Gates.Count);
        foreach (var g in s.Gates)
        {
            w.Write(g.Layer); w.Write(g.Gate);
            w.Write(g.SingularValues.Length);
            foreach (double v in g.SingularValues) w.Write(v);
            w.Write(g.EigenvalueMagnitudes.Length);
            foreach (double v in g.EigenvalueMagnitudes) w.Write(v);
        }
    }

    private static SpectrumSnapshot ReadSnapshot(BinaryReader r)
    {
        int epoch = r.ReadInt32();
        var gates = new GateSpectrum[Count(r.ReadInt32(), 1 << 16, "gate block")];
        for (int g = 0; g < gates.Length; g++)
        {
            int layer = r.ReadInt32();
            string gate = r.ReadString();
            var sv = ReadDoubles(r, Count(r.ReadInt32(), 1 << 20, "singular value"));
            var eig = ReadDoubles(r, Count(r.ReadInt32(), 1 << 20, "eigenvalue"));
            gates[g] = new GateSpectrum(layer, gate, sv, eig);
        }
        return new SpectrumSnapshot(epoch, gates);
    }

    private static void WriteFloats(BinaryWriter w, float[] a)
    {
        foreach (float v in a) w.Write(v);
    }

    private static float[] ReadFloats(BinaryReader r, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.ReadSingle();
        return a;
    }

    private static double[] ReadDoubles(BinaryReader r, int n)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.ReadDouble();
        return a;
    }

    private static int Count(int n, int max, string what)
        => n >= 0 && n <= max ? n : throw new InvalidDataException($"The training diagnostics' {what} count {n} is out of range [0, {max}].");

    private static void WriteEnum<TEnum>(BinaryWriter w, TEnum value, int formatVersion) where TEnum : struct, Enum
    {
        if (formatVersion >= 2) Persisted.WriteEnum(w, value);
        else w.Write(Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static TEnum ReadEnum<TEnum>(BinaryReader r, int formatVersion, string what) where TEnum : struct, Enum
    {
        if (formatVersion >= 2) return Persisted.ReadEnum<TEnum>(r);
        var value = (TEnum)Enum.ToObject(typeof(TEnum), r.ReadInt32());
        return Enum.IsDefined(value) ? value : throw new InvalidDataException($"The training diagnostics' {what} {value} is unknown to this build.");
    }

    /// <summary>The diagnostics as bytes (<see cref="Write"/>).</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) Write(writer);
        return stream.ToArray();
    }

    /// <summary>Diagnostics from bytes written by <see cref="ToBytes"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not readable diagnostics.</exception>
    public static TrainingDiagnostics FromBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        return Read(reader);
    }
}

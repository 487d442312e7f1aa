using System.Text;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Diagnostics;

/// <summary>The binary format's two versions: 1 wrote the cell, the activation and the clipping mode as integers, 2
/// writes their names. Both are pinned as bytes: a change to either shows here, not in a user's old file.</summary>
public sealed class TrainingDiagnosticsFormatTests
{
    // Small().ToBytes() as the build before version 2 wrote it: Gru = 2, Relu = 2, AutoClip = 4 as int32.
    private const string VersionOne =
        "TUxOUkRJQUcBAAAAAgAAAAIAAAAAAIA/AQAAAAMAAAAEAAAAAAAAPwAAIEECAAAAAgAAAAAAgD8AAAA/AAAAQAAAgD8AAAA/AAAAPwAAAD8AAAA/" +
        "AQAAAAAAAAAAAAAAAADoP5qZmZmZmek/exSuR+F6hD8AAAAAAAD4PwAAAAAAAABAAgAAAAAAAAAAANA/AAAAAAIAAADNzMw9zcxMPgAAAAAAAYCW" +
        "mAAAAAAAAQAAAP////8BAAAAAAAAAAJoaAIAAACamZmZmZnxP83MzMzMzOw/AQAAAAAAAAAAAPA/AA==";

    // The same diagnostics in version 2: "Gru", "Relu", "AutoClip", each a length-prefixed UTF-8 string.
    private const string VersionTwo =
        "TUxOUkRJQUcCAAAAA0dydQRSZWx1AACAPwEAAAADAAAACEF1dG9DbGlwAAAAPwAAIEECAAAAAgAAAAAAgD8AAAA/AAAAQAAAgD8AAAA/AAAAPwAA" +
        "AD8AAAA/AQAAAAAAAAAAAAAAAADoP5qZmZmZmek/exSuR+F6hD8AAAAAAAD4PwAAAAAAAABAAgAAAAAAAAAAANA/AAAAAAIAAADNzMw9zcxMPgAA" +
        "AAAAAYCWmAAAAAAAAQAAAP////8BAAAAAAAAAAJoaAIAAACamZmZmZnxP83MzMzMzOw/AQAAAAAAAAAAAPA/AA==";

    [Fact]
    public void WritesTheEnumsByName()
    {
        byte[] bytes = Small().ToBytes();
        Assert.Equal(Convert.FromBase64String(VersionTwo), bytes);
        Assert.Equal(2, BitConverter.ToInt32(bytes, 8));
        string text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("\u0003Gru\u0004Relu", text, StringComparison.Ordinal);
        Assert.Contains("\u0008AutoClip", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VersionOne)]
    [InlineData(VersionTwo)]
    public void ReadsBothVersionsToTheSameDiagnostics(string file)
    {
        var read = TrainingDiagnostics.FromBytes(Convert.FromBase64String(file));
        var expected = Small();
        Assert.Equal(expected.Network.Cell, read.Network.Cell);
        Assert.Equal(expected.Network.Activation, read.Network.Activation);
        Assert.Equal(expected.Network.HiddenSizes, read.Network.HiddenSizes);
        Assert.Equal(expected.Clipping, read.Clipping);
        Assert.Equal(expected.Epochs, read.Epochs);
        Assert.Equal(expected.BackwardSignal(0).ToArray(), read.BackwardSignal(0).ToArray());
        // Everything else too: an old file read and written again is the new file.
        Assert.Equal(Convert.FromBase64String(VersionTwo), read.ToBytes());
    }

    [Fact]
    public void VersionOneIsStillWrittenOnRequestExactlyAsBefore()
    {
        // For model files that promise to load in a build that reads only version 1.
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) Small().WriteVersion(writer, 1);
        Assert.Equal(Convert.FromBase64String(VersionOne), stream.ToArray());
    }

    [Fact]
    public void AnUnknownNameOrValueIsRefusedNamingTheType()
    {
        byte[] name = Convert.FromBase64String(VersionTwo);
        int at = Encoding.UTF8.GetString(name).IndexOf("Relu", StringComparison.Ordinal);
        name[at + 3] = (byte)'x';   // "Relx"
        Assert.Contains(nameof(ElmanActivation), Assert.Throws<InvalidDataException>(() => TrainingDiagnostics.FromBytes(name)).Message);

        byte[] value = Convert.FromBase64String(VersionOne);
        BitConverter.TryWriteBytes(value.AsSpan(16, 4), 99);   // the activation, after magic, version and cell
        Assert.Contains("activation 99", Assert.Throws<InvalidDataException>(() => TrainingDiagnostics.FromBytes(value)).Message);
    }

    /// <summary>Diagnostics small enough to pin as bytes, with each enum at a member other than its first, so that a
    /// value read by the wrong rule could not pass for the right one.</summary>
    private static TrainingDiagnostics Small() => new(
        new DiagnosticsNetwork(RecurrentCellKind.Gru, ElmanActivation.Relu, 1f, [3]),
        new DiagnosticsClipping(GradientClippingMode.AutoClip, 0.5f, 10f),
        stepsPerEpoch: 2, loss: [1f, 0.5f], before: [2f, 1f], after: [0.5f, 0.5f], threshold: [0.5f, 0.5f],
        epochs: [new EpochSummary(0, 0.75, 0.8, 0.01, 1.5, 2, 2, 0.25, 0)], windowSteps: 2, backwardSignal: [0.1f, 0.2f],
        spectrumHistory: [new SpectrumSnapshot(-1, [new GateSpectrum(0, "hh", [1.1, 0.9], [1.0])])], finalSpectrum: null,
        bestEpoch: 0, stoppedEarly: false, restoredBestWeights: true, duration: TimeSpan.FromSeconds(1));
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Tests.Serialization;

/// <summary>Enums in saved models are names: reordering an enum cannot change an old model, and garbage is refused.</summary>
public sealed class PersistedTests
{
    private static BinaryReader Reader(Action<BinaryWriter> write)
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) write(w);
        stream.Position = 0;
        return new BinaryReader(stream);
    }

    [Fact]
    public void EnumsAreWrittenByName()
    {
        var r = Reader(w => Persisted.WriteEnum(w, RecurrentCellKind.Lstm));
        Assert.Equal("Lstm", r.ReadString());
    }

    [Fact]
    public void NamesReadBackWhateverTheValue()
    {
        Assert.Equal(ElmanActivation.Elu, Persisted.ReadEnum<ElmanActivation>(Reader(w => w.Write("Elu"))));
    }

    [Theory]
    [InlineData("Transformer")]
    [InlineData("2")]
    [InlineData("lstm")]
    public void UnknownNamesAndNumbersAreRefusedNamingTheType(string written)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Persisted.ReadEnum<RecurrentCellKind>(Reader(w => w.Write(written))));
        Assert.Contains(nameof(RecurrentCellKind), ex.Message);
    }

    [Fact]
    public void ACorruptArrayLengthIsRefusedBeforeAllocating()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Persisted.ReadArray(Reader(w => w.Write(int.MaxValue))));
        Assert.Contains("out of range", ex.Message);
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Tests.Network;

namespace MLNetRnn.Core.Tests.Serialization;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mlnetrnn-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("lstm_l2_all")]
    [InlineData("gru_l1_last")]
    public void TorchStateDictWithPrefixAndHeadLoadsAsItIs(string name)
    {
        // Written by make_golden.py from a PyTorch module with members `rnn` and `head`.
        var net = SafeTensors.Load(Path.Combine(TorchFixture.Directory, name + ".safetensors"));
        var fx = TorchFixture.Load(name);
        Assert.Equal(fx.Spec, net.Spec);
        foreach (var t in net.Parameters.Tensors)
            Assert.Equal(fx.Param(t.Name), net.Parameters.Value(t).ToArray());

        var ws = net.CreateWorkspace(fx.T, fx.B);
        fx.FillWorkspace(ws);
        net.Forward(ws, fx.T, fx.B, fx.P);
        Assert.Equal(fx.LossValue, net.Loss(ws, fx.B, fx.P, LossKind.MeanSquaredError), 5);
    }

    [Theory]
    [InlineData(RecurrentCellKind.Elman, false)]
    [InlineData(RecurrentCellKind.Lstm, true)]
    [InlineData(RecurrentCellKind.Gru, false)]
    public void ExportThenImportGivesTheSameNetwork(RecurrentCellKind cell, bool layerNorm)
    {
        var spec = new RecurrentNetworkSpec
        {
            Cell = cell, InputSize = 3, HiddenSizes = [5, 4], OutputSize = 2, LayerNormalization = layerNorm,
            Activation = cell == RecurrentCellKind.Elman ? ElmanActivation.LeakyRelu : ElmanActivation.Tanh, LeakySlope = 0.2f,
        };
        var net = new RecurrentNetwork(spec, seed: 3);
        string path = Path.Combine(_dir, "net.safetensors");
        SafeTensors.Save(net, path);

        var back = SafeTensors.Load(path);
        Assert.Equal(spec, back.Spec);
        Assert.Equal(net.Parameters.Values, back.Parameters.Values);
        var (tensors, metadata) = SafeTensors.Read(path);
        Assert.Equal("pt", metadata["format"]);
        Assert.Contains("rnn.weight_hh_l1", tensors.Keys);
        Assert.Contains("head.weight", tensors.Keys);
        Assert.Equal([spec.GateCount * 4, 4], tensors["rnn.weight_hh_l1"].Shape);
    }

    [Fact]
    public void DilationsAndResidualConnectionsRoundTripAndAreWrittenOnlyWhenSet()
    {
        var plain = new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [4, 4] };
        var spec = plain with { Dilations = [1, 3], ResidualConnections = true };
        var net = new RecurrentNetwork(spec, seed: 3);
        string path = Path.Combine(_dir, "dilated.safetensors");
        SafeTensors.Save(net, path);
        var back = SafeTensors.Load(path);
        Assert.Equal(spec, back.Spec);
        Assert.Equal(net.Parameters.Values, back.Parameters.Values);
        var x = Enumerable.Range(0, 2 * 9 * 2).Select(i => MathF.Sin(i)).ToArray();
        Assert.Equal(net.Predict(x, 2, 9), back.Predict(x, 2, 9));

        // Without the options the metadata has no trace of them: the file is what it was before they existed.
        string json = SafeTensors.SpecToJson(plain);
        Assert.DoesNotContain("dilations", json);
        Assert.DoesNotContain("residual", json);
        Assert.Equal(plain, SafeTensors.SpecFromJson(json, "test"));
    }

    [Fact]
    public void ImportWithoutOurMetadataInfersTheSpecFromShapes()
    {
        var net = SafeTensors.Load(Path.Combine(TorchFixture.Directory, "lstm_l2_all.safetensors"));
        Assert.Equal(RecurrentCellKind.Lstm, net.Spec.Cell);
        Assert.Equal([4, 4], net.Spec.HiddenSizes);
        Assert.Equal(3, net.Spec.InputSize);
        Assert.Equal(2, net.Spec.OutputSize);
    }

    [Fact]
    public void TruncatedFileGivesInvalidDataNamingTheFile()
    {
        string path = Path.Combine(_dir, "net.safetensors");
        SafeTensors.Save(new RecurrentNetwork(new RecurrentNetworkSpec(), seed: 1), path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 10).ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void LoadingIntoAMismatchedNetworkNamesTheTensor()
    {
        string path = Path.Combine(_dir, "net.safetensors");
        SafeTensors.Save(new RecurrentNetwork(new RecurrentNetworkSpec { HiddenSizes = [8] }, seed: 1), path);
        var other = new RecurrentNetwork(new RecurrentNetworkSpec { HiddenSizes = [6] }, seed: 1);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.LoadInto(other, path));
        Assert.Contains("weight_ih_l0", ex.Message);
    }

    [Fact]
    public void MissingFileGivesFileNotFound()
        => Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(Path.Combine(_dir, "none.safetensors")));
}

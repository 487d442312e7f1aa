using MathNet.Numerics.LinearAlgebra;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Tests.Initialization;

public sealed class InitializationTests
{
    private static Matrix<double> Block(RecurrentNetwork net, string name, int block, int rows, int cols)
    {
        var v = net.Parameters.Value(net.Parameters[name]).Slice(block * rows * cols, rows * cols).ToArray();
        return Matrix<double>.Build.Dense(rows, cols, (i, j) => v[i * cols + j]);
    }

    [Theory]
    [InlineData(RecurrentCellKind.Elman)]
    [InlineData(RecurrentCellKind.Lstm)]
    [InlineData(RecurrentCellKind.Gru)]
    public void RecurrentWeightsStartOrthogonalPerGateBlock(RecurrentCellKind cell)
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = cell, HiddenSizes = [16] }, seed: 4);
        for (int g = 0; g < net.Spec.GateCount; g++)
        {
            var w = Block(net, "weight_hh_l0", g, 16, 16);
            var singular = w.Svd().S;
            Assert.All(singular, s => Assert.Equal(1.0, s, 5));
        }
    }

    [Fact]
    public void RecurrentGainScalesTheSpectrum()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, HiddenSizes = [8], Initialization = new InitializationSpec { RecurrentGain = 3f } }, seed: 1);
        Assert.All(Block(net, "weight_hh_l0", 0, 8, 8).Svd().S, s => Assert.Equal(3.0, s, 5));
    }

    [Fact]
    public void LstmForgetBiasStartsAtOne()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, HiddenSizes = [5, 3] }, seed: 1);
        for (int l = 0; l < 2; l++)
        {
            int H = net.Spec.HiddenSizes[l];
            var bih = net.Parameters.Value(net.Parameters[$"bias_ih_l{l}"]).ToArray();
            var bhh = net.Parameters.Value(net.Parameters[$"bias_hh_l{l}"]).ToArray();
            for (int g = 0; g < 4; g++)
                for (int j = 0; j < H; j++)
                    Assert.Equal(g == 1 ? 1f : 0f, bih[g * H + j] + bhh[g * H + j]);
        }
    }

    [Fact]
    public void IdentityInitGivesAnIrnn()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Relu, HiddenSizes = [6],
            Initialization = new InitializationSpec { RecurrentWeights = InitializerKind.Identity, InputWeights = InitializerKind.HeNormal },
        }, seed: 1);
        Assert.Equal(Matrix<double>.Build.DenseIdentity(6), Block(net, "weight_hh_l0", 0, 6, 6));
    }

    [Theory]
    [InlineData(InitializerKind.GlorotUniform, 64, 32)]
    [InlineData(InitializerKind.GlorotNormal, 64, 32)]
    [InlineData(InitializerKind.HeUniform, 64, 32)]
    [InlineData(InitializerKind.HeNormal, 64, 32)]
    public void InputWeightVarianceMatchesTheInitializersDefinition(InitializerKind kind, int hidden, int inputs)
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = inputs, HiddenSizes = [hidden], Initialization = new InitializationSpec { InputWeights = kind } }, seed: 2);
        var w = net.Parameters.Value(net.Parameters["weight_ih_l0"]).ToArray();
        double variance = w.Select(x => (double)x * x).Average();
        double expected = kind is InitializerKind.GlorotUniform or InitializerKind.GlorotNormal ? 2.0 / (inputs + hidden) : 2.0 / inputs;
        Assert.InRange(variance / expected, 0.9, 1.1);
    }

    [Fact]
    public void SameSeedGivesSameWeights()
    {
        var spec = new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, HiddenSizes = [7, 5] };
        Assert.Equal(new RecurrentNetwork(spec, 3).Parameters.Values, new RecurrentNetwork(spec, 3).Parameters.Values);
        Assert.NotEqual(new RecurrentNetwork(spec, 3).Parameters.Values, new RecurrentNetwork(spec, 4).Parameters.Values);
    }
}

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

/// <summary>The initialisers a PyTorch user expects: normal with a chosen σ, PyTorch's uniform biases, a head bias.</summary>
public sealed class PyTorchStyleInitializationTests
{
    private static float[] Values(RecurrentNetwork net, string name) => net.Parameters.Value(net.Parameters[name]).ToArray();

    [Fact]
    public void NormalInitializerDrawsWithTheChosenStandardDeviation()
    {
        // IRNN (Le et al. 2015): W_hh = I, other weights N(0, 0.001²), ReLU.
        var net = new RecurrentNetwork(new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Elman, Activation = ElmanActivation.Relu, InputSize = 50, HiddenSizes = [100], OutputSize = 20,
            Initialization = new InitializationSpec
            {
                InputWeights = InitializerKind.Normal, RecurrentWeights = InitializerKind.Identity, HeadWeights = InitializerKind.Normal, NormalStandardDeviation = 0.001f,
            },
        }, seed: 1);
        foreach (var name in new[] { "weight_ih_l0", "head.weight" })
        {
            var w = Values(net, name).Select(v => (double)v).ToArray();
            double mean = w.Average(), sd = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
            Assert.InRange(sd, 0.00095, 0.00105);   // 2000+ draws: σ within 5%
            Assert.InRange(mean, -1e-4, 1e-4);
        }
        var whh = Values(net, "weight_hh_l0");
        for (int i = 0; i < 100; i++) for (int j = 0; j < 100; j++) Assert.Equal(i == j ? 1f : 0f, whh[i * 100 + j]);
    }

    [Fact]
    public void PyTorchUniformBiasesStayWithinOneOverRootH()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Gru, InputSize = 3, HiddenSizes = [16], OutputSize = 2,
            Initialization = new InitializationSpec { Biases = InitializerKind.PyTorchUniform },
        }, seed: 1);
        foreach (var name in new[] { "bias_ih_l0", "bias_hh_l0", "head.bias" })
        {
            var b = Values(net, name);
            Assert.All(b, v => Assert.InRange(v, -0.25f, 0.25f));   // 1/√16
            Assert.True(b.Distinct().Count() == b.Length, $"{name} should be drawn, not constant");
        }
        Assert.True(Values(net, "bias_ih_l0").Max(Math.Abs) > 0.15f, "draws should fill the range U(−1/√H, 1/√H)");
    }

    [Fact]
    public void ForgetGateBiasIsAddedToTheDrawnBiasAndHeadBiasToTheHead()
    {
        var spec = new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 2, HiddenSizes = [8] };
        var drawn = new RecurrentNetwork(spec with { Initialization = new InitializationSpec { Biases = InitializerKind.PyTorchUniform, ForgetGateBias = 0f } }, seed: 5);
        var shifted = new RecurrentNetwork(spec with { Initialization = new InitializationSpec { Biases = InitializerKind.PyTorchUniform, ForgetGateBias = 1f, HeadBias = 1f } }, seed: 5);
        var a = Values(drawn, "bias_ih_l0");
        var b = Values(shifted, "bias_ih_l0");
        for (int k = 0; k < a.Length; k++) Assert.Equal(a[k] + (k is >= 8 and < 16 ? 1f : 0f), b[k], 6);
        Assert.Equal(Values(drawn, "head.bias")[0] + 1f, Values(shifted, "head.bias")[0], 6);
    }

    [Fact]
    public void DefaultBiasesDrawNothingSoEverySeedKeepsItsWeights()
    {
        var spec = new RecurrentNetworkSpec { Cell = RecurrentCellKind.Lstm, InputSize = 2, HiddenSizes = [8, 4] };
        var withHeadBias = new RecurrentNetwork(spec with { Initialization = new InitializationSpec { HeadBias = 0.5f } }, seed: 5);
        var plain = new RecurrentNetwork(spec, seed: 5);
        Assert.Equal(Values(plain, "weight_hh_l1"), Values(withHeadBias, "weight_hh_l1"));
        Assert.Equal(Values(plain, "head.weight"), Values(withHeadBias, "head.weight"));
        Assert.Equal(0.5f, Values(withHeadBias, "head.bias")[0]);
    }

    [Fact]
    public void BadStandardDeviationOrBiasKindNamesTheOption()
    {
        Assert.Equal(nameof(InitializationSpec.NormalStandardDeviation),
            Assert.Throws<ArgumentOutOfRangeException>(() => new InitializationSpec { NormalStandardDeviation = 0f }.Validate()).ParamName);
        Assert.Equal(nameof(InitializationSpec.Biases),
            Assert.Throws<ArgumentOutOfRangeException>(() => new InitializationSpec { Biases = InitializerKind.Orthogonal }.Validate()).ParamName);
    }
}

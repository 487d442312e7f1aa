using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Tests.Diagnostics;

/// <summary>The spectrum is what linear algebra says, and a spectrum that cannot be computed never stops anything.</summary>
public sealed class RecurrentSpectrumTests
{
    [Fact]
    public void IdentityRecurrenceHasUnitSpectrum()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Elman, InputSize = 1, HiddenSizes = [5], OutputSize = 1 }, seed: 1);
        var w = net.Parameters.Value(net.Parameters["weight_hh_l0"]);
        w.Clear();
        for (int i = 0; i < 5; i++) w[i * 5 + i] = 0.5f;
        var block = Assert.Single(RecurrentSpectrum.Compute(net));
        Assert.All(block.SingularValues, v => Assert.Equal(0.5, v, 6));
        Assert.Equal(0.5, block.SpectralRadius, 6);
    }

    [Fact]
    public void NonFiniteWeightsGiveNaNInsteadOfThrowing()
    {
        var net = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 1, HiddenSizes = [4], OutputSize = 1 }, seed: 2);
        net.Parameters.Value(net.Parameters["weight_hh_l0"])[3] = float.NaN;
        var spectra = RecurrentSpectrum.Compute(net);
        Assert.Equal(3, spectra.Count);
        Assert.True(double.IsNaN(spectra[0].LargestSingularValue));
        Assert.True(double.IsNaN(spectra[0].SpectralRadius));
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using Xunit.Abstractions;

namespace MLNetRnn.Core.Tests.Cells;

/// <summary>Backward against central differences for every cell of <see cref="CellCatalog"/> (a new cell is checked
/// without editing this file), Elman activation, depth, loss, loss placement and layer normalisation: every
/// parameter, every input element and the initial state.</summary>
public sealed class BackwardMatchesCentralDifferencesTests(ITestOutputHelper output)
{
    private static RecurrentNetworkSpec Spec(RecurrentCellKind cell, int[] hidden, ElmanActivation act = ElmanActivation.Tanh,
        bool layerNorm = false, int inputs = 2, int outputs = 2) => new()
    {
        Cell = cell, HiddenSizes = hidden, Activation = act, LayerNormalization = layerNorm, InputSize = inputs, OutputSize = outputs,
    };

    public static TheoryData<GradientCase> ElmanActivations()
    {
        var d = new TheoryData<GradientCase>();
        foreach (var act in Enum.GetValues<ElmanActivation>())
            d.Add(new GradientCase($"elman-{act}-l1-last", Spec(RecurrentCellKind.Elman, [3], act), T: 5, B: 2, P: 1));
        return d;
    }

    public static TheoryData<GradientCase> Cells()
    {
        var d = new TheoryData<GradientCase>();
        foreach (var cell in CellCatalog.Kinds)
        {
            string n = cell.ToString().ToLowerInvariant();
            d.Add(new GradientCase($"{n}-l1-last", Spec(cell, [3]), T: 5, B: 2, P: 1));
            d.Add(new GradientCase($"{n}-l2-all", Spec(cell, [3, 3]), T: 5, B: 2, P: 5));
            d.Add(new GradientCase($"{n}-l3-mixed-sizes-horizon", Spec(cell, [4, 2, 3]), T: 6, B: 2, P: 3));
            d.Add(new GradientCase($"{n}-l1-univariate-batch1", Spec(cell, [3], inputs: 1, outputs: 1), T: 7, B: 1, P: 1));
            d.Add(new GradientCase($"{n}-l2-layernorm-all", Spec(cell, [3, 4], layerNorm: true), T: 4, B: 2, P: 4));
            d.Add(new GradientCase($"{n}-l1-huber", Spec(cell, [3]), T: 5, B: 3, P: 2, Loss: LossKind.Huber));
            d.Add(new GradientCase($"{n}-l1-mae", Spec(cell, [3]), T: 5, B: 3, P: 2, Loss: LossKind.MeanAbsoluteError));
            d.Add(new GradientCase($"{n}-l1-pinball", Spec(cell, [3], outputs: 3), T: 5, B: 3, P: 2, Loss: LossKind.Pinball, Quantiles: [0.1f, 0.5f, 0.9f]));
        }
        d.Add(new GradientCase("elman-relu-l2-layernorm", Spec(RecurrentCellKind.Elman, [4, 3], ElmanActivation.Relu, layerNorm: true), T: 5, B: 2, P: 5));
        d.Add(new GradientCase("elman-elu-l2-all", Spec(RecurrentCellKind.Elman, [3, 3], ElmanActivation.Elu), T: 5, B: 2, P: 5));
        return d;
    }

    public static TheoryData<GradientCase> Truncations()
    {
        var d = new TheoryData<GradientCase>();
        foreach (var cell in CellCatalog.Kinds)
        {
            string n = cell.ToString().ToLowerInvariant();
            d.Add(new GradientCase($"{n}-l1-last-k3of7", Spec(cell, [3]), T: 7, B: 2, P: 1, Truncation: 3));
            d.Add(new GradientCase($"{n}-l2-all-k2of6", Spec(cell, [3, 3]), T: 6, B: 2, P: 6, Truncation: 2));
            d.Add(new GradientCase($"{n}-l1-horizon-k4of6", Spec(cell, [3]), T: 6, B: 2, P: 3, Truncation: 4));
            d.Add(new GradientCase($"{n}-l1-last-k1of5", Spec(cell, [3]), T: 5, B: 2, P: 1, Truncation: 1));
        }
        d.Add(new GradientCase("elman-tanh-layernorm-k3of6", Spec(RecurrentCellKind.Elman, [3], layerNorm: true), T: 6, B: 2, P: 2, Truncation: 3));
        return d;
    }

    /// <summary>Dilated and residual stacks for every cell: T = 7 so that steps with t &lt; d (reading the initial state,
    /// whose gradient is checked too) and t ≥ d both occur in each layer.</summary>
    public static TheoryData<GradientCase> DilatedAndResidual()
    {
        var d = new TheoryData<GradientCase>();
        foreach (var cell in CellCatalog.Kinds)
        {
            string n = cell.ToString().ToLowerInvariant();
            d.Add(new GradientCase($"{n}-dilations-1-3-all", Spec(cell, [3, 3]) with { Dilations = [1, 3] }, T: 7, B: 2, P: 7));
            d.Add(new GradientCase($"{n}-dilations-2-4-last", Spec(cell, [3, 2]) with { Dilations = [2, 4] }, T: 7, B: 2, P: 1));
            d.Add(new GradientCase($"{n}-residual-l3-horizon", Spec(cell, [3, 3, 3]) with { ResidualConnections = true }, T: 6, B: 2, P: 3));
            d.Add(new GradientCase($"{n}-dilations-2-4-residual-all", Spec(cell, [3, 3]) with { Dilations = [2, 4], ResidualConnections = true }, T: 7, B: 2, P: 7));
            d.Add(new GradientCase($"{n}-dilation-8-beyond-window", Spec(cell, [3]) with { Dilations = [8] }, T: 7, B: 2, P: 2));
        }
        d.Add(new GradientCase("lstm-dilations-3-2-layernorm-residual", Spec(RecurrentCellKind.Lstm, [3, 3], layerNorm: true) with { Dilations = [3, 2], ResidualConnections = true }, T: 7, B: 2, P: 4));
        return d;
    }

    [Theory]
    [MemberData(nameof(ElmanActivations))]
    public void ElmanBackwardMatchesCentralDifferencesForEveryActivation(GradientCase c) => FiniteDifference.Check(c, output);

    [Theory]
    [MemberData(nameof(Cells))]
    public void BackwardMatchesCentralDifferencesForEveryCellDepthLossAndPlacement(GradientCase c) => FiniteDifference.Check(c, output);

    [Theory]
    [MemberData(nameof(Truncations))]
    public void TruncatedBackwardMatchesCentralDifferencesOfTheTruncatedObjective(GradientCase c) => FiniteDifference.Check(c, output);

    [Theory]
    [MemberData(nameof(DilatedAndResidual))]
    public void DilatedAndResidualBackwardMatchesCentralDifferences(GradientCase c) => FiniteDifference.Check(c, output);
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Initialization;

namespace MLNetRnn.Core.Network;

/// <summary>
/// The architecture of a <see cref="RecurrentNetwork"/>: a stack of recurrent layers of one cell kind
/// and a linear output head on the top layer's hidden state.
/// </summary>
public sealed record RecurrentNetworkSpec
{
    /// <summary>Cell of every layer. Default: <see cref="RecurrentCellKind.Lstm"/>.</summary>
    public RecurrentCellKind Cell { get; init; } = RecurrentCellKind.Lstm;

    /// <summary>Input features per step (I), at least 1.</summary>
    public int InputSize { get; init; } = 1;

    /// <summary>
    /// One-hot inputs given by index: the category count C_j of each, empty for none. With k of them, the last k of
    /// the <see cref="InputSize"/> features are not numbers but categories, input j one of 0 to C_j − 1 (negative:
    /// none): each stands for C_j one-hot inputs after the other features, so the first layer reads
    /// InputSize − k + ΣC_j inputs and its weight_ih has that many columns, as the same network fed the one-hot vectors
    /// would. The product reads the one column of weight_ih each index names instead of multiplying zeros: a series id
    /// among thousands of series costs one column per step, not thousands. Default: none.
    /// </summary>
    public IReadOnlyList<int> InputCategories { get; init; } = [];

    /// <summary>Hidden size of each layer, bottom first; 1..N layers, each size at least 1. Default: [32].</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [32];

    /// <summary>Outputs of the linear head (O), at least 1.</summary>
    public int OutputSize { get; init; } = 1;

    /// <summary>Nonlinearity of Elman cells (ignored by LSTM and GRU). Default: tanh.</summary>
    public ElmanActivation Activation { get; init; } = ElmanActivation.Tanh;

    /// <summary>Negative slope of leaky ReLU, in (0, 1). Default: 0.01.</summary>
    public float LeakySlope { get; init; } = RecurrentNetworkSpecDefaults.LeakySlope;

    /// <summary>Lower bound of the randomised leaky ReLU slope, in [0, upper]. Default: 1/8.</summary>
    public float RandomizedLeakyLower { get; init; } = RecurrentNetworkSpecDefaults.RandomizedLeakyLower;

    /// <summary>Upper bound of the randomised leaky ReLU slope, in [lower, 1). Default: 1/3.</summary>
    public float RandomizedLeakyUpper { get; init; } = RecurrentNetworkSpecDefaults.RandomizedLeakyUpper;

    /// <summary>α of ELU, positive. Default: 1.</summary>
    public float EluAlpha { get; init; } = RecurrentNetworkSpecDefaults.EluAlpha;

    /// <summary>Layer-normalise each gate's pre-activation over its units (with a learned gain and
    /// bias per unit). Default: false.</summary>
    public bool LayerNormalization { get; init; }

    /// <summary>How the parameters are initialised. Default: <see cref="InitializationSpec.Default"/>
    /// (Glorot uniform input weights, orthogonal recurrent weights, zero biases, LSTM forget bias 1).</summary>
    public InitializationSpec Initialization { get; init; } = InitializationSpec.Default;

    /// <summary>
    /// Dilation d_l of each layer, bottom first, each at least 1; empty (the default) = every layer 1. Layer l reads
    /// the state it left d_l steps back, h_t = cell(x_t, h_{t−d_l}) (c likewise), and the initial state for t &lt; d_l:
    /// the window runs as d_l interleaved sub-sequences of the ordinary cell, so a layer with d_l = 24 on hourly data
    /// carries yesterday's state at the same hour (Chang et al. 2017, "Dilated Recurrent Neural Networks"; Smyl's
    /// ES-RNN stacks 1, 4, 24, 168). Parameters are unchanged: a dilation costs nothing but the state it keeps.
    /// Not with stateful streaming, which carries one state per layer. Default: none.
    /// </summary>
    public IReadOnlyList<int> Dilations { get; init; } = [];

    /// <summary>
    /// Residual connections between stacked layers: the input of layer l + 1 (and the head's, above the top layer) is
    /// h^l plus the input of layer l, for every layer above the first (whose input is the features); needs every
    /// hidden size equal. One layer: no effect. Default: false.
    /// </summary>
    public bool ResidualConnections { get; init; }

    /// <summary>Dilation of layer <paramref name="layer"/>: 1 unless <see cref="Dilations"/> says otherwise.</summary>
    public int Dilation(int layer) => Dilations.Count == 0 ? 1 : Dilations[layer];

    /// <summary>Whether some layer has a dilation above 1.</summary>
    public bool IsDilated => Dilations.Any(d => d > 1);

    /// <summary>Whether layer <paramref name="layer"/>'s output adds its input (a residual connection).</summary>
    internal bool ResidualAt(int layer) => ResidualConnections && layer > 0;

    /// <summary>Number of layers (L).</summary>
    public int Layers => HiddenSizes.Count;

    /// <summary>Gate blocks per cell (G): 1 Elman, 4 LSTM, 3 GRU.</summary>
    public int GateCount => CellCatalog.Of(Cell).Gates;

    /// <summary>Input size of layer <paramref name="layer"/>: I for the first (I − 1 + C with
    /// <see cref="InputCategories"/>), the hidden size of the layer below otherwise.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize - InputCategories.Count + InputCategories.Sum() : HiddenSizes[layer - 1];

    /// <summary>Inputs of layer <paramref name="layer"/> that are multiplied (all but the one-hot category's).</summary>
    internal int LayerDenseInputSize(int layer) => layer == 0 ? InputSize - InputCategories.Count : LayerInputSize(layer);

    /// <summary>Most categories an index input may have: every index up to it is exact as a float.</summary>
    public const int MaximumInputCategories = 1 << 24;

    /// <summary>Checks every value and throws, naming the property, if one is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or activation parameter is out of range.</exception>
    /// <exception cref="ArgumentException">No hidden layers were given.</exception>
    public void Validate()
    {
        if (!CellCatalog.Contains(Cell)) throw new ArgumentOutOfRangeException(nameof(Cell), Cell, $"Cell must be {CellCatalog.Names}.");
        if (InputSize < 1) throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "InputSize must be at least 1.");
        if (InputCategories is null) throw new ArgumentNullException(nameof(InputCategories));
        if (InputCategories.Count > InputSize)
            throw new ArgumentOutOfRangeException(nameof(InputCategories), InputCategories.Count, $"InputCategories lists {InputCategories.Count} category inputs; InputSize is {InputSize}.");
        for (int j = 0; j < InputCategories.Count; j++)
            if (InputCategories[j] < 1 || InputCategories[j] > MaximumInputCategories)
                throw new ArgumentOutOfRangeException(nameof(InputCategories), InputCategories[j], $"InputCategories[{j}] must be between 1 and {MaximumInputCategories}; got {InputCategories[j]}.");
        if (InputCategories.Sum(c => (long)c) > MaximumInputCategories)
            throw new ArgumentOutOfRangeException(nameof(InputCategories), InputCategories.Sum(c => (long)c), $"InputCategories add up to more than {MaximumInputCategories} one-hot inputs.");
        if (OutputSize < 1) throw new ArgumentOutOfRangeException(nameof(OutputSize), OutputSize, "OutputSize must be at least 1.");
        if (HiddenSizes is null || HiddenSizes.Count == 0)
            throw new ArgumentException("HiddenSizes must list at least one layer's hidden size.", nameof(HiddenSizes));
        for (int l = 0; l < HiddenSizes.Count; l++)
            if (HiddenSizes[l] < 1)
                throw new ArgumentOutOfRangeException(nameof(HiddenSizes), HiddenSizes[l], $"HiddenSizes[{l}] must be at least 1; got {HiddenSizes[l]}.");
        if (Dilations is null) throw new ArgumentNullException(nameof(Dilations));
        if (Dilations.Count != 0 && Dilations.Count != HiddenSizes.Count)
            throw new ArgumentException($"Dilations must list one dilation per layer ({HiddenSizes.Count}, as HiddenSizes), or none; got {Dilations.Count}.", nameof(Dilations));
        for (int l = 0; l < Dilations.Count; l++)
            if (Dilations[l] < 1)
                throw new ArgumentOutOfRangeException(nameof(Dilations), Dilations[l], $"Dilations[{l}] must be at least 1; got {Dilations[l]}.");
        if (ResidualConnections)
            for (int l = 1; l < HiddenSizes.Count; l++)
                if (HiddenSizes[l] != HiddenSizes[l - 1])
                    throw new ArgumentException(
                        $"ResidualConnections add each layer's input to its output, so every hidden size must be equal; HiddenSizes[{l - 1}] = {HiddenSizes[l - 1]}, HiddenSizes[{l}] = {HiddenSizes[l]}.",
                        nameof(ResidualConnections));
        if (!Enum.IsDefined(Activation)) throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "Unknown Elman activation.");
        if (!(LeakySlope > 0f && LeakySlope < 1f))
            throw new ArgumentOutOfRangeException(nameof(LeakySlope), LeakySlope, "LeakySlope must be in (0, 1).");
        if (!(RandomizedLeakyLower >= 0f && RandomizedLeakyLower <= RandomizedLeakyUpper && RandomizedLeakyUpper < 1f))
            throw new ArgumentOutOfRangeException(nameof(RandomizedLeakyLower), RandomizedLeakyLower,
                $"Randomised leaky ReLU bounds must satisfy 0 ≤ lower ≤ upper < 1; got lower {RandomizedLeakyLower}, upper {RandomizedLeakyUpper}.");
        if (!(EluAlpha > 0f && float.IsFinite(EluAlpha)))
            throw new ArgumentOutOfRangeException(nameof(EluAlpha), EluAlpha, "EluAlpha must be positive and finite.");
        (Initialization ?? throw new ArgumentNullException(nameof(Initialization))).Validate();
    }

    internal Activation ResolveActivation() => new(Activation, LeakySlope, RandomizedLeakyLower, RandomizedLeakyUpper, EluAlpha);

    /// <summary>Value equality over the lists' contents (hidden sizes, categories, dilations), not the list reference.</summary>
    public bool Equals(RecurrentNetworkSpec? other) =>
        other is not null && Cell == other.Cell && InputSize == other.InputSize && InputCategories.SequenceEqual(other.InputCategories) && OutputSize == other.OutputSize
        && HiddenSizes.SequenceEqual(other.HiddenSizes) && Activation == other.Activation && LeakySlope == other.LeakySlope
        && RandomizedLeakyLower == other.RandomizedLeakyLower && RandomizedLeakyUpper == other.RandomizedLeakyUpper
        && EluAlpha == other.EluAlpha && LayerNormalization == other.LayerNormalization && Initialization == other.Initialization
        && Dilations.SequenceEqual(other.Dilations) && ResidualConnections == other.ResidualConnections;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Cell, InputSize, InputCategories.Count, OutputSize, HiddenSizes.Count, Activation, LayerNormalization);
}

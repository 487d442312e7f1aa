namespace MLNetRnn.Core.Cells;

/// <summary>The recurrent cell a layer is made of.</summary>
public enum RecurrentCellKind
{
    /// <summary>Elman (vanilla) RNN: h_t = σ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), one gate block.</summary>
    Elman,

    /// <summary>LSTM (Hochreiter &amp; Schmidhuber 1997) with PyTorch's gate order i|f|g|o, four gate blocks.</summary>
    Lstm,

    /// <summary>GRU (Cho et al. 2014) with PyTorch's equations and gate order r|z|n, three gate blocks.</summary>
    Gru,
}

/// <summary>The nonlinearity σ of an Elman cell.</summary>
public enum ElmanActivation
{
    /// <summary>tanh; σ' ≤ 1.</summary>
    Tanh,

    /// <summary>Logistic sigmoid; σ' ≤ 1/4, so gradients vanish faster than with tanh.</summary>
    Sigmoid,

    /// <summary>max(0, a). Pair with identity recurrent initialisation for an IRNN (Le et al. 2015).</summary>
    Relu,

    /// <summary>a for a &gt; 0, slope·a otherwise (slope <see cref="RecurrentNetworkSpecDefaults.LeakySlope"/> by default).</summary>
    LeakyRelu,

    /// <summary>Randomised leaky ReLU: while training, the slope of each element is drawn uniformly from
    /// [lower, upper] at every step; at inference it is fixed to (lower + upper) / 2.</summary>
    RandomizedLeakyRelu,

    /// <summary>ELU: a for a &gt; 0, α(eᵃ − 1) otherwise.</summary>
    Elu,
}

/// <summary>Default values of the network spec's activation parameters, in one place (the cells sit below the spec).</summary>
public static class RecurrentNetworkSpecDefaults
{
    /// <summary>Slope of leaky ReLU for negative inputs (PyTorch's default).</summary>
    public const float LeakySlope = 0.01f;

    /// <summary>Lower bound of the randomised leaky ReLU slope (PyTorch's RReLU default, 1/8).</summary>
    public const float RandomizedLeakyLower = 1f / 8f;

    /// <summary>Upper bound of the randomised leaky ReLU slope (PyTorch's RReLU default, 1/3).</summary>
    public const float RandomizedLeakyUpper = 1f / 3f;

    /// <summary>α of ELU.</summary>
    public const float EluAlpha = 1f;
}

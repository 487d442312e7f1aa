using MLNetRnn.Core.Layers;

namespace MLNetRnn.Core.Serialization;

/// <summary>
/// The names of a recurrent network's parameter tensors: the keys of <see cref="Memory.ParameterBuffer"/> and of the
/// safetensors files <see cref="SafeTensors"/> writes. The recurrent weights take PyTorch's <c>nn.RNN</c>/<c>nn.LSTM</c>/
/// <c>nn.GRU</c> names and the head <c>nn.Linear</c>'s, so an exporter can look a tensor up by the name PyTorch gives it.
/// </summary>
public static class ParameterNames
{
    /// <summary>Layer <paramref name="layer"/>'s input weights, (G·H, I): <c>weight_ih_l{layer}</c>.</summary>
    public static string WeightIH(int layer) => RecurrentLayer.Names.WeightIH(layer);

    /// <summary>Layer <paramref name="layer"/>'s recurrent weights, (G·H, H): <c>weight_hh_l{layer}</c>.</summary>
    public static string WeightHH(int layer) => RecurrentLayer.Names.WeightHH(layer);

    /// <summary>Layer <paramref name="layer"/>'s input bias, (G·H): <c>bias_ih_l{layer}</c>.</summary>
    public static string BiasIH(int layer) => RecurrentLayer.Names.BiasIH(layer);

    /// <summary>Layer <paramref name="layer"/>'s recurrent bias, (G·H): <c>bias_hh_l{layer}</c>.</summary>
    public static string BiasHH(int layer) => RecurrentLayer.Names.BiasHH(layer);

    /// <summary>The head's weights, (O, H): <c>head.weight</c>.</summary>
    public const string HeadWeight = LinearHead.WeightName;

    /// <summary>The head's bias, (O): <c>head.bias</c>.</summary>
    public const string HeadBias = LinearHead.BiasName;
}

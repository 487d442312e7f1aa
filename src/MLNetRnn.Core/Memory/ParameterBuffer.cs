namespace MLNetRnn.Core.Memory;

/// <summary>A named tensor inside a <see cref="ParameterBuffer"/>: its PyTorch-style name, where it
/// starts in the flat arrays, and its row-major shape.</summary>
/// <param name="Name">PyTorch state_dict name, e.g. <c>weight_hh_l0</c> or <c>head.weight</c>.</param>
/// <param name="Offset">Index of the first element in <see cref="ParameterBuffer.Values"/> (and in
/// <see cref="ParameterBuffer.Gradients"/>).</param>
/// <param name="Rows">Rows of the tensor (its length for a vector).</param>
/// <param name="Columns">Columns of the tensor; 1 for a vector.</param>
/// <param name="IsVector">Whether the tensor is one-dimensional (a bias or a layer-norm gain).</param>
public readonly record struct ParameterTensor(string Name, int Offset, int Rows, int Columns, bool IsVector)
{
    /// <summary>Number of elements.</summary>
    public int Length => Rows * Columns;

    /// <summary>The shape as PyTorch reports it: [Rows] for a vector, [Rows, Columns] otherwise.</summary>
    public int[] Shape() => IsVector ? [Rows] : [Rows, Columns];
}

/// <summary>
/// All parameters of a network in one flat <c>float[]</c>, with a gradient array of the same layout
/// and named views into both. Optimisers and clipping run over the flat arrays in one loop; cells see
/// only the views they need.
/// </summary>
/// <remarks>Layout: tensors in the order they were added, packed without gaps; each tensor row-major.
/// For a network that is, per layer l: weight_ih_l, weight_hh_l, bias_ih_l, bias_hh_l
/// [, ln_weight_l, ln_bias_l], then head.weight, head.bias.</remarks>
public sealed class ParameterBuffer
{
    private readonly List<ParameterTensor> _tensors;
    private readonly Dictionary<string, ParameterTensor> _byName;

    internal ParameterBuffer(IEnumerable<(string Name, int Rows, int Columns, bool IsVector)> layout)
    {
        _tensors = new List<ParameterTensor>();
        _byName = new Dictionary<string, ParameterTensor>(StringComparer.Ordinal);
        int offset = 0;
        foreach (var (name, rows, cols, isVector) in layout)
        {
            var t = new ParameterTensor(name, offset, rows, cols, isVector);
            _tensors.Add(t);
            _byName.Add(name, t);
            offset += t.Length;
        }
        Values = new float[offset];
        Gradients = new float[offset];
    }

    /// <summary>Every parameter, flat: (Count).</summary>
    public float[] Values { get; }

    /// <summary>Gradients, same layout as <see cref="Values"/>: (Count).</summary>
    public float[] Gradients { get; }

    /// <summary>Total number of parameters.</summary>
    public int Count => Values.Length;

    /// <summary>The named tensors, in layout order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public ParameterTensor this[string name] => _byName.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"No parameter named '{name}'. Parameters: {string.Join(", ", _tensors.Select(x => x.Name))}.");

    /// <summary>Whether a tensor named <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The values of <paramref name="tensor"/>; a view, no copy.</summary>
    public Span<float> Value(in ParameterTensor tensor) => Values.AsSpan(tensor.Offset, tensor.Length);

    /// <summary>The gradient of <paramref name="tensor"/>; a view, no copy.</summary>
    public Span<float> Gradient(in ParameterTensor tensor) => Gradients.AsSpan(tensor.Offset, tensor.Length);

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Array.Clear(Gradients);
}

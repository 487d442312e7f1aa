namespace MLNetRnn;

/// <summary>
/// The names of the inputs and outputs of the ONNX graph that <see cref="RnnForecastingTransformer.ExportToOnnx"/>
/// writes. Every tensor has the batch N first: N forecast origins (of one series or of several) at once.
/// W = window size, H = horizon, C = covariates, m = seasonal period; t = the time index of the first value to
/// forecast, i.e. the number of values observed so far, counted from the first training value.
/// </summary>
public static class RnnForecastingOnnxNames
{
    /// <summary>Input (N, W): the last W values of the series, oldest first, as observed (the graph removes the season).</summary>
    public const string Values = "values";

    /// <summary>Input (N, W), models with a base only (and not those saved by format version 1, whose networks do not
    /// read it): the base's one-step forecast of each of the W values, made before it saw the value, in the series'
    /// units.</summary>
    public const string BaseOneStepForecasts = "base_one_step";

    /// <summary>Input (N, W, C), models with covariates only: the covariates of the W rows, as observed (the graph
    /// standardises them).</summary>
    public const string Covariates = "covariates";

    /// <summary>Input (N, 1), models that remove a season or read seasonal features only: t mod m, the position in
    /// the season of the first value to forecast, an integer in [0, m) carried as a float.</summary>
    public const string SeasonPosition = "season_position";

    /// <summary>Input (N, H), models with a base only: the base's forecast of the next H values, in the series' units.</summary>
    public const string BaseForecast = "base_forecast";

    /// <summary>Output (N, H): the forecast of the next H values, in the series' units.</summary>
    public const string Forecast = "forecast";

    /// <summary>Output (N, H): the lower bounds at the confidence level fixed at export.</summary>
    public const string LowerBound = "lower_bound";

    /// <summary>Output (N, H): the upper bounds at the confidence level fixed at export.</summary>
    public const string UpperBound = "upper_bound";
}

/// <summary>One input tensor of the exported forecaster: its name, its values (row-major, last index fastest) and its
/// shape, as ONNX Runtime's <c>DenseTensor&lt;float&gt;(Values, Dimensions)</c> takes them.</summary>
/// <param name="Name">The graph input's name (<see cref="RnnForecastingOnnxNames"/>).</param>
/// <param name="Values">The values, row-major.</param>
/// <param name="Dimensions">The shape, batch N first.</param>
public sealed record RnnOnnxTensor(string Name, float[] Values, int[] Dimensions);

/// <summary>
/// The inputs of the ONNX graph written by <see cref="RnnForecastingTransformer.ExportToOnnx"/>, for
/// <see cref="Count"/> forecast origins: exactly the graph's inputs, in its order. Produced from a series state by
/// <see cref="RnnForecastingEngine.GetOnnxInputs"/>; <see cref="Concatenate"/> stacks several into one batch.
/// </summary>
/// <example>
/// <code>
/// var inputs = engine.GetOnnxInputs();
/// using var session = new InferenceSession("forecaster.onnx");
/// using var results = session.Run(inputs.Tensors.Select(t =&gt;
///     NamedOnnxValue.CreateFromTensor(t.Name, new DenseTensor&lt;float&gt;(t.Values, t.Dimensions))).ToList());
/// float[] forecast = results.First(r =&gt; r.Name == RnnForecastingOnnxNames.Forecast).AsTensor&lt;float&gt;().ToArray();
/// </code>
/// </example>
public sealed class RnnForecastingOnnxInputs
{
    internal RnnForecastingOnnxInputs(int count, RnnOnnxTensor[] tensors)
    {
        Count = count;
        Tensors = tensors;
    }

    /// <summary>Forecast origins N: the first dimension of every tensor.</summary>
    public int Count { get; }

    /// <summary>The graph's inputs, in the graph's order.</summary>
    public IReadOnlyList<RnnOnnxTensor> Tensors { get; }

    /// <summary>The input named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The graph has no such input (which inputs it has depends on the model).</exception>
    public RnnOnnxTensor this[string name] => Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new KeyNotFoundException($"The exported forecaster has no input '{name}'; its inputs are {string.Join(", ", Tensors.Select(t => t.Name))}.");

    /// <summary>Stacks the inputs of several origins (of one model) into one batch, in order.</summary>
    /// <param name="inputs">Inputs from the same model, e.g. from engines of several series.</param>
    /// <exception cref="ArgumentException">No inputs, or inputs of different models (names or shapes differ).</exception>
    public static RnnForecastingOnnxInputs Concatenate(IEnumerable<RnnForecastingOnnxInputs> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var all = inputs.ToArray();
        if (all.Length == 0) throw new ArgumentException("Concatenate needs at least one set of inputs.", nameof(inputs));
        var first = all[0].Tensors;
        foreach (var other in all)
        {
            ArgumentNullException.ThrowIfNull(other, nameof(inputs));
            bool same = other.Tensors.Count == first.Count && other.Tensors.Zip(first).All(p => p.First.Name == p.Second.Name
                && p.First.Dimensions.AsSpan(1).SequenceEqual(p.Second.Dimensions.AsSpan(1)));
            if (!same)
                throw new ArgumentException(
                    $"The inputs do not come from the same model: ({Describe(first)}) and ({Describe(other.Tensors)}).", nameof(inputs));
        }
        int N = all.Sum(i => i.Count);
        var tensors = first.Select((t, k) => new RnnOnnxTensor(t.Name, all.SelectMany(i => i.Tensors[k].Values).ToArray(), [N, .. t.Dimensions[1..]])).ToArray();
        return new RnnForecastingOnnxInputs(N, tensors);
    }

    private static string Describe(IReadOnlyList<RnnOnnxTensor> tensors)
        => string.Join(", ", tensors.Select(t => $"{t.Name} [{string.Join("×", t.Dimensions.Skip(1))}]"));
}

using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Tests.Network;

/// <summary>
/// A one-hot category given by index (<see cref="RecurrentNetworkSpec.InputCategories"/>): the same network, fed
/// the one-hot vector instead, is what it must equal, in training (outputs, every parameter's gradient, with and
/// without truncation) and in inference; central differences check the category's columns directly.
/// </summary>
public sealed class CategoryInputTests
{
    private const int Dense = 2, Categories = 5, T = 6, B = 4;

    private static RecurrentNetworkSpec Indexed(RecurrentCellKind cell, bool layerNorm = false) => new()
    {
        Cell = cell, InputSize = Dense + 1, InputCategories = [Categories], HiddenSizes = [4, 3], OutputSize = 2, LayerNormalization = layerNorm,
    };

    private static RecurrentNetworkSpec OneHot(RecurrentNetworkSpec indexed) => indexed with { InputSize = Dense + Categories, InputCategories = [] };

    public static TheoryData<string, RecurrentNetworkSpec> Specs() => new()
    {
        { "elman", Indexed(RecurrentCellKind.Elman) },
        { "lstm", Indexed(RecurrentCellKind.Lstm) },
        { "gru", Indexed(RecurrentCellKind.Gru) },
        { "gru-layernorm", Indexed(RecurrentCellKind.Gru, layerNorm: true) },
    };

    /// <summary>Time-major inputs (T, B, Dense + 1): random dense features, then each row's category. Row 2 has none
    /// (−1); row 3 changes category along the window, so nothing may assume a category is constant.</summary>
    private static float[] IndexedInputs(int seed)
    {
        var rng = new Random(seed);
        var x = new float[T * B * (Dense + 1)];
        int[] category = [0, 4, -1, 2];
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
            {
                var row = x.AsSpan((t * B + b) * (Dense + 1), Dense + 1);
                for (int i = 0; i < Dense; i++) row[i] = rng.NextSingle() * 2 - 1;
                row[Dense] = b == 3 ? t % Categories : category[b];
            }
        return x;
    }

    private static float[] AsOneHot(float[] indexed)
    {
        int rows = indexed.Length / (Dense + 1);
        var x = new float[rows * (Dense + Categories)];
        for (int r = 0; r < rows; r++)
        {
            indexed.AsSpan(r * (Dense + 1), Dense).CopyTo(x.AsSpan(r * (Dense + Categories)));
            int k = (int)indexed[r * (Dense + 1) + Dense];
            if (k >= 0) x[r * (Dense + Categories) + Dense + k] = 1f;
        }
        return x;
    }

    private static (float[] Output, float[] Gradients) Train(RecurrentNetwork net, float[] input, float[] targets, int? truncation)
    {
        const int P = 3;
        var ws = net.CreateWorkspace(T, B, P);
        input.CopyTo(ws.Input, 0);
        targets.CopyTo(ws.Targets, 0);
        ws.ResetState(B);
        net.Forward(ws, T, B, P, training: true, new Random(1));
        net.Loss(ws, B, P, LossKind.MeanSquaredError);
        net.Parameters.ZeroGradients();
        net.Backward(ws, T, B, P, truncation);
        return (ws.Output.AsSpan(0, P * B * net.Spec.OutputSize).ToArray(), net.Parameters.Gradients.ToArray());
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void ACategoryByIndexTrainsAsTheSameNetworkFedItsOneHotVector(string name, RecurrentNetworkSpec spec)
    {
        var indexed = new RecurrentNetwork(spec, seed: 7);
        var oneHot = RecurrentNetwork.FromParameters(OneHot(spec), indexed.Parameters.Values);
        Assert.Equal(indexed.Parameters.Count, oneHot.Parameters.Count);
        var x = IndexedInputs(seed: 3);
        var targets = Enumerable.Range(0, 3 * B * spec.OutputSize).Select(i => MathF.Sin(i)).ToArray();
        foreach (int? truncation in new int?[] { null, 2 })
        {
            var (yi, gi) = Train(indexed, x, targets, truncation);
            var (yo, go) = Train(oneHot, AsOneHot(x), targets, truncation);
            AssertClose(yo, yi, $"{name} outputs, truncation {truncation}");
            AssertClose(go, gi, $"{name} gradients, truncation {truncation}");
        }
        // The category's columns of W_ih are taught only by the rows that hold it inside the backward window (the last
        // two steps here): category 1 never appears, 3 only at t = 3, before it; 4 does (row 1).
        var grad = indexed.Parameters.Gradient(indexed.Parameters["weight_ih_l0"]).ToArray();
        int I = Dense + Categories;
        Assert.All(Enumerable.Range(0, grad.Length / I), j => Assert.Equal(0f, grad[j * I + Dense + 1]));
        Assert.All(Enumerable.Range(0, grad.Length / I), j => Assert.Equal(0f, grad[j * I + Dense + 3]));
        Assert.Contains(Enumerable.Range(0, grad.Length / I), j => grad[j * I + Dense + 4] != 0f);
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void ACategoryByIndexPredictsAsTheSameNetworkFedItsOneHotVector(string name, RecurrentNetworkSpec spec)
    {
        var indexed = new RecurrentNetwork(spec, seed: 11);
        var oneHot = RecurrentNetwork.FromParameters(OneHot(spec), indexed.Parameters.Values);
        var timeMajor = IndexedInputs(seed: 5);
        var x = new float[timeMajor.Length];
        Batching.ToBatchMajor(timeMajor, x, B, T, Dense + 1);
        var expected = oneHot.Predict(AsOneHot(x), B, T);
        foreach (int threads in new[] { 1, 2 })
        {
            var actual = new float[B * spec.OutputSize];
            indexed.Predict(indexed.CreateInferenceWorkspace(T, blockRows: 3, threads), x, B, T, actual);
            AssertClose(expected, actual, $"{name} Predict, {threads} thread(s)");
        }
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void TheCategoryColumnsGradientMatchesCentralDifferences(string name, RecurrentNetworkSpec spec)
    {
        var net = new RecurrentNetwork(spec, seed: 13);
        var x = IndexedInputs(seed: 9);
        var targets = Enumerable.Range(0, 3 * B * spec.OutputSize).Select(i => MathF.Cos(i)).ToArray();
        var (_, analytic) = Train(net, x, targets, truncation: null);
        var p = net.Parameters;
        var wih = p["weight_ih_l0"];
        int I = Dense + Categories, GH = wih.Length / I;
        double Loss()
        {
            var ws = net.CreateWorkspace(T, B, 3);
            x.CopyTo(ws.Input, 0);
            targets.CopyTo(ws.Targets, 0);
            net.Forward(ws, T, B, 3, training: true, new Random(1));
            return net.Loss(ws, B, 3, LossKind.MeanSquaredError);
        }
        const float eps = 1e-3f;
        int checkedElements = 0;
        for (int j = 0; j < GH; j += 2)
            for (int col = 0; col < I; col++)
            {
                int at = wih.Offset + j * I + col;
                float keep = p.Values[at];
                p.Values[at] = keep + eps; double up = Loss();
                p.Values[at] = keep - eps; double down = Loss();
                p.Values[at] = keep;
                double numeric = (up - down) / (2 * eps);
                Assert.True(Math.Abs(numeric - analytic[at]) <= 1e-2 * Math.Max(Math.Abs(numeric), Math.Abs(analytic[at])) + 2e-4,
                    $"{name}: dL/dW_ih[{j}, {col}] analytic {analytic[at]:G6}, numeric {numeric:G6}.");
                checkedElements++;
            }
        Assert.True(checkedElements >= GH / 2 * I);
    }

    /// <summary>For any cell, width, number of category inputs (one to three), their counts and batch, with indices drawn
    /// anywhere in [−1, C_j), training's outputs and gradients and inference's outputs equal those of the network fed the
    /// one-hot vectors.</summary>
    [Property(MaxTest = 60)]
    public bool AnyShapeGivesTheOneHotNetworksValues(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        int dense = rng.Next(0, 4), t = rng.Next(1, 6), b = rng.Next(1, 6), h = rng.Next(1, 6);
        var counts = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.Next(1, 9)).ToArray();
        int k = counts.Length, wide = dense + counts.Sum();
        var spec = new RecurrentNetworkSpec
        {
            Cell = (RecurrentCellKind)rng.Next(3), InputSize = dense + k, InputCategories = counts, HiddenSizes = [h], OutputSize = 1,
        };
        var indexed = new RecurrentNetwork(spec, seed.Get);
        var oneHot = RecurrentNetwork.FromParameters(spec with { InputSize = wide, InputCategories = [] }, indexed.Parameters.Values);
        var x = new float[t * b * (dense + k)];
        var xOneHot = new float[t * b * wide];
        for (int r = 0; r < t * b; r++)
        {
            for (int i = 0; i < dense; i++) x[r * (dense + k) + i] = xOneHot[r * wide + i] = rng.NextSingle() * 2 - 1;
            for (int j = 0, block = dense; j < k; block += counts[j], j++)
            {
                int index = rng.Next(-1, counts[j]);
                x[r * (dense + k) + dense + j] = index;
                if (index >= 0) xOneHot[r * wide + block + index] = 1f;
            }
        }
        (float[], float[]) Step(RecurrentNetwork net, float[] input)
        {
            var ws = net.CreateWorkspace(t, b, 1);
            input.CopyTo(ws.Input, 0);
            ws.Targets.AsSpan(0, b).Fill(0.5f);
            net.Forward(ws, t, b, 1);
            net.Loss(ws, b, 1, LossKind.MeanSquaredError);
            net.Parameters.ZeroGradients();
            net.Backward(ws, t, b, 1);
            return (ws.Output.AsSpan(0, b).ToArray(), net.Parameters.Gradients.ToArray());
        }
        var (yi, gi) = Step(indexed, x);
        var (yo, go) = Step(oneHot, xOneHot);
        var batchFirst = new float[x.Length];
        Batching.ToBatchMajor(x, batchFirst, b, t, dense + k);
        var batchFirstOneHot = new float[xOneHot.Length];
        Batching.ToBatchMajor(xOneHot, batchFirstOneHot, b, t, wide);
        var pi = indexed.Predict(batchFirst, b, t);
        var po = oneHot.Predict(batchFirstOneHot, b, t);
        static bool Close(float[] e, float[] a) => e.Length == a.Length && e.Zip(a).All(p => Math.Abs(p.First - p.Second) <= 1e-5f * Math.Max(1f, Math.Abs(p.First)));
        return Close(yo, yi) && Close(go, gi) && Close(po, pi);
    }

    [Fact]
    public void AnIndexThatIsNotACategoryIsRefusedInInferenceToo()
    {
        var net = new RecurrentNetwork(Indexed(RecurrentCellKind.Elman), seed: 1);
        var x = new float[2 * T * (Dense + 1)];
        x[(T + 2) * (Dense + 1) + Dense] = Categories;
        var e = Assert.Throws<ArgumentException>(() => net.Predict(net.CreateInferenceWorkspace(T, blockRows: 1, threads: 2), x, 2, T, new float[2 * 2]));
        Assert.Contains($"Input feature {Dense} is a category index", e.Message);
    }

    [Theory]
    [InlineData(5f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void AnIndexThatIsNotACategoryIsRefusedNamingTheFeature(float bad)
    {
        var net = new RecurrentNetwork(Indexed(RecurrentCellKind.Lstm), seed: 1);
        var x = IndexedInputs(seed: 1);
        x[(2 * B + 1) * (Dense + 1) + Dense] = bad;
        var ws = net.CreateWorkspace(T, B, 1);
        x.CopyTo(ws.Input, 0);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(ws, T, B, 1));
        Assert.Contains($"Input feature {Dense} is a category index", e.Message);
        Assert.Contains("0 to 4", e.Message);
    }

    [Fact]
    public void ACategoryIndexHasNoInputGradient()
    {
        var net = new RecurrentNetwork(Indexed(RecurrentCellKind.Gru), seed: 1);
        var ws = net.CreateWorkspace(T, B, 1);
        IndexedInputs(seed: 1).CopyTo(ws.Input, 0);
        net.Forward(ws, T, B, 1);
        net.Loss(ws, B, 1, LossKind.MeanSquaredError);
        var e = Assert.Throws<InvalidOperationException>(() => net.Backward(ws, T, B, 1, inputGradient: true));
        Assert.Contains("InputCategories", e.Message);
    }

    [Fact]
    public void TheCategoriesAreValidated()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentNetwork(new RecurrentNetworkSpec { InputCategories = [0] }));
        Assert.Equal("InputCategories", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new RecurrentNetwork(new RecurrentNetworkSpec { InputSize = 1, InputCategories = [2, 2] }));
        Assert.Contains("InputSize is 1", e.Message);
        Assert.NotEqual(Indexed(RecurrentCellKind.Lstm), Indexed(RecurrentCellKind.Lstm) with { InputCategories = [Categories + 1] });
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])),
                $"{what}: element {i} is {actual[i]:R}, the one-hot network's {expected[i]:R}.");
    }
}

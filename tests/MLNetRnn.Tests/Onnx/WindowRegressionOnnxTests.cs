using MLNetRnn.Core.Forecasting;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;
using MLNetRnn.Regression;
using MLNetRnn.Tests.Persistence;
using MLNetRnn.Tests.Regression;
using Xunit.Abstractions;
using static MLNetRnn.Tests.Regression.RegressionTestData;

namespace MLNetRnn.Tests.Onnx;

/// <summary>
/// Window-mode models export through ML.NET's <c>ConvertToOnnx</c>, scaling included: ONNX Runtime gives the library's
/// predictions within 1e-5 relative error for every cell, stacked layers and every scaling; ML.NET's
/// <c>ApplyOnnxModel</c> reads the file back; what ONNX cannot express fails with a message, never a partial graph.
/// </summary>
public sealed class WindowRegressionOnnxTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The agreement asked of the export: |ONNX − library| ≤ 1e-5·|library| for every row.</summary>
    private const double RelativeTolerance = 1e-5;

    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(RecurrentCellKind.Elman)]
    [InlineData(RecurrentCellKind.Lstm)]
    [InlineData(RecurrentCellKind.Gru)]
    public void OnnxRuntimeMatchesTheLibraryForEachCell(RecurrentCellKind cell)
    {
        var rows = Rows(SeasonalTrend(90, seed: 1));
        var view = View(_ml, rows);
        var options = Small();
        options.Cell = cell;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);

        AssertOnnxMatches(model, view);
    }

    [Theory]
    [InlineData(RecurrentCellKind.Elman)]
    [InlineData(RecurrentCellKind.Lstm)]
    [InlineData(RecurrentCellKind.Gru)]
    public void OnnxRuntimeMatchesTheLibraryForStackedLayers(RecurrentCellKind cell)
    {
        var rows = Rows(SeasonalTrend(90, seed: 2));
        var view = View(_ml, rows);
        var options = Small();
        options.Cell = cell;
        options.HiddenSizes = [7, 5, 4];
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);

        AssertOnnxMatches(model, view);
    }

    [Theory]
    [InlineData(RnnRegressionScaling.LastValue)]
    [InlineData(RnnRegressionScaling.WindowMean)]
    [InlineData(RnnRegressionScaling.LogRatio)]
    [InlineData(RnnRegressionScaling.Global)]
    public void OnnxRuntimeMatchesTheLibraryForEachScalingWithACovariate(RnnRegressionScaling scaling)
    {
        // Two features per step, (covariate, series): the target feature is 1, so the graph must pick the right slots.
        var series = SeasonalTrend(100, seed: 3);
        var rows = Enumerable.Range(W, series.Length - W).Select(t => new LagRow
        {
            Features = Enumerable.Range(t - W, W).SelectMany(k => new[] { 3f * (float)Math.Cos(2 * Math.PI * k / 12), series[k] }).ToArray(),
            Label = series[t],
        }).ToArray();
        var view = View(_ml, rows, 2 * W);
        var options = Small();
        options.FeaturesPerStep = 2;
        options.TargetFeatureIndex = 1;
        options.Scaling = scaling;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);

        AssertOnnxMatches(model, view);
    }

    [Theory]
    [InlineData(ElmanActivation.Tanh)]
    [InlineData(ElmanActivation.Sigmoid)]
    [InlineData(ElmanActivation.Relu)]
    [InlineData(ElmanActivation.LeakyRelu)]
    [InlineData(ElmanActivation.RandomizedLeakyRelu)]
    [InlineData(ElmanActivation.Elu)]
    public void OnnxRuntimeMatchesTheNetworkForEveryElmanActivation(ElmanActivation activation)
    {
        // Window mode trains tanh Elman cells only; series mode offers every activation, and the network writer is
        // shared, so each is checked here on a network whose weights are drawn, not trained. Global scaling with label
        // mean 0 and scale 1 makes the score the network's own output, so no level hides an error in it.
        var rows = Rows(SeasonalTrend(60, seed: 4));
        var view = View(_ml, rows);
        var trained = _ml.Regression.Trainers.Rnn(Small()).Fit(view).Model;
        var spec = new RecurrentNetworkSpec
        {
            Cell = RecurrentCellKind.Elman, InputSize = 1, HiddenSizes = [6, 5], OutputSize = 1, Activation = activation,
            LeakySlope = 0.2f, RandomizedLeakyLower = 0.1f, RandomizedLeakyUpper = 0.5f, EluAlpha = 0.7f,
        };
        var features = trained.Window.Scaling;
        var identity = new WindowScaling(RnnRegressionScaling.Global, 0, new WindowScaler(SeriesScaling.Global, 1, scale: 1f, mean: 0f, floor: 0f), features.Features);
        var window = new WindowRegressionModel(W, identity, new RecurrentNetwork(spec, seed: 5));
        var model = RnnRegressionEstimator.MakeTransformer(_ml, new RnnRegressionModelParameters(window, trained.TrainingSummary), view.Schema, "Features");

        var expected = Scores(model, view);
        var actual = RunOnnxRuntime(Export(model, view), view);

        // The outputs cross zero, so the error is taken relative to the largest output.
        double largest = expected.Max(v => Math.Abs(v));
        double worst = expected.Zip(actual, (e, a) => Math.Abs(a - e)).Max() / largest;
        output.WriteLine($"{expected.Length} rows, outputs up to {largest:F3}, worst error {worst:E2} of the largest");
        Assert.True(largest > 0.05, $"the network's outputs are all near zero ({largest}); the check would be empty");
        Assert.True(worst <= RelativeTolerance, $"worst error {worst:E2} of the largest output {largest:F3}");
    }

    [Theory]
    [InlineData(9)]    // the lowest operator set ML.NET's converter writes
    [InlineData(12)]   // its default and highest
    public void ExportWorksAtEveryOperatorSetTheConverterWrites(int opSet)
    {
        var view = View(_ml, Rows(SeasonalTrend(70, seed: 6)));
        var options = Small();
        options.Scaling = RnnRegressionScaling.WindowMean;   // the one that needs ReduceMean
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);
        using var stream = new MemoryStream();

        _ml.Model.ConvertToOnnx(model, view, opSet, stream);

        AssertScoresMatch(Scores(model, view), RunOnnxRuntime(stream.ToArray(), view));
    }

    [Fact]
    public void LogRatioRowsThatCannotBeScaledScoreNaNInOnnxToo()
    {
        var rows = Rows(SeasonalTrend(70, seed: 7));
        var options = Small();
        options.Scaling = RnnRegressionScaling.LogRatio;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(View(_ml, rows));
        rows[0].Features[3] = 0f;
        rows[1].Features[^1] = -2f;   // the level itself
        var view = View(_ml, rows);

        var expected = Scores(model, view);
        var actual = RunOnnxRuntime(Export(model, view), view);

        Assert.True(float.IsNaN(expected[0]) && float.IsNaN(expected[1]));
        Assert.True(float.IsNaN(actual[0]) && float.IsNaN(actual[1]), $"ONNX gave {actual[0]}, {actual[1]} for rows the library scores NaN.");
        AssertScoresMatch(expected[2..], actual[2..]);
    }

    [Fact]
    public void ApplyOnnxModelScoresAWholeExportedPipelineInMLNet()
    {
        // A pipeline as an application has it: scalar lag columns from a CSV, Concatenate, the trainer.
        var rows = Rows(SeasonalTrend(90, seed: 8));
        var data = WriteCsv(_ml, rows, _dir.File("lags.csv"));
        var model = _ml.Transforms.Concatenate("Features", LagColumns()).Append(_ml.Regression.Trainers.Rnn(Small())).Fit(data);
        string path = _dir.File("window.onnx");
        using (var file = File.Create(path))
            _ml.Model.ConvertToOnnx(model, data, file);

        var onnx = _ml.Transforms.ApplyOnnxModel(path).Fit(data).Transform(data);

        // ApplyOnnxModel names the column after the graph output without ML.NET's ".output" suffix: Score, (1, 1) per row.
        var score = onnx.Schema["Score"];
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 1, 1), score.Type);
        var scores = onnx.GetColumn<float[]>(score).Select(v => Assert.Single(v)).ToArray();
        AssertScoresMatch(Scores(model, data), scores);
    }

    [Fact]
    public void LayerNormalizationCannotBeExportedAndSaysSo()
    {
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 9)));
        var options = Small();
        options.LayerNormalization = true;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);
        using var stream = new MemoryStream();

        var ex = Assert.Throws<NotSupportedException>(() => _ml.Model.ConvertToOnnx(model, view, stream));

        Assert.Contains("LayerNormalization", ex.Message);
        Assert.Contains("ONNX", ex.Message);
        Assert.Equal(0, stream.Length);   // nothing written: no pass-through graph
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void DilationsAndResidualConnectionsReachTheNetworkAndCannotBeExportedAndSaySo(bool dilated, bool residual)
    {
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 9)));
        var options = Small();
        options.HiddenSizes = [4, 4];
        if (dilated) options.Dilations = [1, 3];
        options.ResidualConnections = residual;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);
        var spec = model.Model.Window.Network.Spec;
        Assert.Equal(dilated ? [1, 3] : [], spec.Dilations);
        Assert.Equal(residual, spec.ResidualConnections);
        string option = dilated ? "Dilations" : "ResidualConnections";

        using var stream = new MemoryStream();
        var ex = Assert.Throws<NotSupportedException>(() => _ml.Model.ConvertToOnnx(model, view, stream));
        Assert.Contains(option, ex.Message);
        Assert.Contains("ONNX", ex.Message);
        Assert.Equal(0, stream.Length);

        // The ML.NET zip records them (window mode's format 4), so only ONNX refuses.
        using var zip = new MemoryStream();
        _ml.Model.Save(model, view.Schema, zip);
        zip.Position = 0;
        var loaded = Assert.IsType<RegressionPredictionTransformer<RnnRegressionModelParameters>>(new MLContext().Model.Load(zip, out _));
        Assert.Equal(spec, loaded.Model.NetworkSpec);
        Assert.Equal(Bits(model.Transform(view), "Score"), Bits(loaded.Transform(view), "Score"));
    }

    [Fact]
    public void DilationsAreValidatedByName()
    {
        var view = View(_ml, Rows(SeasonalTrend(60, seed: 9)));
        var options = Small();
        options.HiddenSizes = [4, 4];
        options.Dilations = [2];
        Assert.Equal("Dilations", Assert.ThrowsAny<ArgumentException>(() => _ml.Regression.Trainers.Rnn(options).Fit(view)).ParamName);
        options.Dilations = [1, 1];
        options.HiddenSizes = [4, 3];
        options.ResidualConnections = true;
        Assert.Equal("ResidualConnections", Assert.ThrowsAny<ArgumentException>(() => _ml.Regression.Trainers.Rnn(options).Fit(view)).ParamName);
    }

    /// <summary>Options that train a small network in a fraction of a second; accuracy does not matter here, only
    /// that the weights are not the initial ones.</summary>
    private static RnnRegressionOptions Small() => new()
    {
        HiddenSizes = [6],
        Epochs = 8,
        LearningRate = 1e-2f,
        ValidationFraction = 0,
        Seed = 0,
    };

    private void AssertOnnxMatches(ITransformer model, IDataView view)
        => AssertScoresMatch(Scores(model, view), RunOnnxRuntime(Export(model, view), view));

    private byte[] Export(ITransformer model, IDataView view)
    {
        using var stream = new MemoryStream();
        _ml.Model.ConvertToOnnx(model, view, stream);
        return stream.ToArray();
    }

    private static float[] Scores(ITransformer model, IDataView view) => model.Transform(view).GetColumn<float>("Score").ToArray();

    /// <summary>Runs the exported graph in ONNX Runtime on every row of <paramref name="view"/>, feeding each graph input
    /// from the column of the same name; returns the Score output.</summary>
    private static float[] RunOnnxRuntime(byte[] onnx, IDataView view)
    {
        using var session = new InferenceSession(onnx);
        var inputs = new List<NamedOnnxValue>();
        int n = 0;
        foreach (var (name, _) in session.InputMetadata)
        {
            var column = view.Schema[name];
            float[][] values = column.Type is VectorDataViewType
                ? view.GetColumn<float[]>(column).ToArray()
                : view.GetColumn<float>(column).Select(v => new[] { v }).ToArray();
            n = values.Length;
            int size = values[0].Length;
            inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values.SelectMany(v => v).ToArray(), [n, size])));
        }
        using var results = session.Run(inputs);
        var score = results.Single(r => r.Name == "Score.output").AsTensor<float>();
        Assert.Equal([n, 1], score.Dimensions.ToArray());
        return score.ToArray();
    }

    private void AssertScoresMatch(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int worstRow = 0;
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.True(float.IsFinite(expected[k]), $"row {k}: the library scored {expected[k]}");
            double relative = Math.Abs(actual[k] - expected[k]) / Math.Abs(expected[k]);
            if (!(relative <= worst)) { worst = relative; worstRow = k; }
        }
        // docs/design/onnx.md quotes these lines: dotnet test ... --filter WindowRegressionOnnxTests --logger "console;verbosity=detailed"
        output.WriteLine($"{expected.Length} rows, worst relative error {worst:E2} (row {worstRow})");
        Assert.True(worst <= RelativeTolerance,
            $"worst relative error {worst:E2} at row {worstRow}: ONNX Runtime {actual[worstRow]:R}, library {expected[worstRow]:R}");
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Tests.Forecasting;
using Xunit.Abstractions;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;
using Names = MLNetRnn.RnnForecastingOnnxNames;

namespace MLNetRnn.Tests.Onnx;

/// <summary>
/// Series-mode forecasters export through <see cref="RnnForecastingTransformer.ExportToOnnx"/>: on the inputs
/// <see cref="RnnForecastingEngine.GetOnnxInputs"/> produces, ONNX Runtime gives the engine's forecasts and bounds
/// within 1e-5 relative error, for every cell, scaling and seasonal adjustment, with covariates and seasonal features,
/// one origin or a batch of several; what cannot be exported fails before anything is written, and ML.NET's
/// <c>ConvertToOnnx</c> refuses a forecaster instead of writing a pass-through graph.
/// </summary>
public sealed class ForecasterOnnxTests(ITestOutputHelper output)
{
    /// <summary>The agreement asked of the export: |ONNX − library| ≤ 1e-5·|library| for every value.</summary>
    private const double RelativeTolerance = 1e-5;

    private const int W = 24, H = 6, M = 12, Length = 200;

    private readonly MLContext _ml = new(seed: 0);

    [Theory]
    [InlineData(RecurrentCellKind.Gru, SeriesScaling.LogRatio, SeasonalAdjustment.Multiplicative, false, true, M)]
    [InlineData(RecurrentCellKind.Gru, SeriesScaling.Difference, SeasonalAdjustment.None, true, true, M)]
    [InlineData(RecurrentCellKind.Gru, SeriesScaling.Difference, SeasonalAdjustment.None, false, true, 1)]   // no season: the level is the last value
    [InlineData(RecurrentCellKind.Gru, SeriesScaling.Global, SeasonalAdjustment.Additive, false, false, M)]
    [InlineData(RecurrentCellKind.Lstm, SeriesScaling.LogRatio, SeasonalAdjustment.None, false, true, M)]
    [InlineData(RecurrentCellKind.Lstm, SeriesScaling.Difference, SeasonalAdjustment.Additive, true, true, M)]
    [InlineData(RecurrentCellKind.Elman, SeriesScaling.LogRatio, SeasonalAdjustment.Multiplicative, true, true, M)]
    [InlineData(RecurrentCellKind.Elman, SeriesScaling.Difference, SeasonalAdjustment.Additive, false, false, M)]
    public void OnnxRuntimeMatchesTheEngine(RecurrentCellKind cell, SeriesScaling scaling, SeasonalAdjustment adjustment,
        bool seasonalFeatures, bool covariate, int season)
    {
        var options = Small(cell, season, covariate);
        options.Scaling = scaling;
        options.SeasonalAdjustment = adjustment;
        options.SeasonalFeatures = seasonalFeatures;
        var model = Fit(options, covariate);
        var engine = model.CreateForecastingEngine();
        var inputs = engine.GetOnnxInputs();
        var expected = engine.Predict();
        AssertNetworksContribute(model, inputs, expected);

        var actual = RunOnnxRuntime(Export(model), inputs);

        AssertMatches([expected], actual);
    }

    [Fact]
    public void OnnxRuntimeMatchesTheEngineForStackedLayersAndADampedCorrection()
    {
        var options = Small(RecurrentCellKind.Lstm, M, covariate: true);
        options.HiddenSizes = [5, 4];
        options.CorrectionDamping = true;
        options.Seed = 0;
        var model = Fit(options, covariate: true, noise: 0.06);
        // λ strictly between 0 and 1 (0.69 on the machine the test was written on): the graph's damping is a real
        // multiplication here, not 0 or 1.
        Assert.InRange(model.Model.CorrectionWeight, 0.05f, 0.95f);
        var engine = model.CreateForecastingEngine();
        var inputs = engine.GetOnnxInputs();
        var expected = engine.Predict();
        AssertNetworksContribute(model, inputs, expected);

        AssertMatches([expected], RunOnnxRuntime(Export(model), inputs));
    }

    [Fact]
    public void OneBatchForecastsSeveralSeriesStatesAtOnce()
    {
        // Four engines at different points of the series (so different positions in the season, windows, base
        // states and covariates), and the training end: one ONNX run, one row each.
        var options = Small(RecurrentCellKind.Gru, M, covariate: true);
        options.SeasonalAdjustment = SeasonalAdjustment.Multiplicative;
        options.SeasonalFeatures = true;
        var model = Fit(options, covariate: true);
        var (series, promo) = Series(Length + 20);
        int[] extra = [0, 1, 5, 11, 20];
        var engines = extra.Select(n =>
        {
            var e = model.CreateForecastingEngine();
            for (int t = Length; t < Length + n; t++) e.Observe(series[t], [promo[t]]);
            return e;
        }).ToArray();
        var inputs = RnnForecastingOnnxInputs.Concatenate(engines.Select(e => e.GetOnnxInputs()));
        Assert.Equal(extra.Length, inputs.Count);
        Assert.Equal([8f, 9f, 1f, 7f, 4f], inputs[Names.SeasonPosition].Values);   // (200 + n) mod 12

        var actual = RunOnnxRuntime(Export(model), inputs);

        AssertMatches(engines.Select(e => e.Predict()).ToArray(), actual);
    }

    [Fact]
    public void WithoutABaseTheGraphReadsNoBaseForecasts()
    {
        var options = Small(RecurrentCellKind.Gru, M, covariate: false);
        options.Base = ForecastBase.None;
        var model = Fit(options, covariate: false);
        var engine = model.CreateForecastingEngine();
        var inputs = engine.GetOnnxInputs();

        Assert.Equal([Names.Values, Names.SeasonPosition], inputs.Tensors.Select(t => t.Name));
        AssertMatches([engine.Predict()], RunOnnxRuntime(Export(model), inputs));
    }

    [Fact]
    public void ABaseAloneModelExportsWithoutNetworks()
    {
        var options = Small(RecurrentCellKind.Gru, M, covariate: false);
        options.EnsembleSize = 0;
        var model = Fit(options, covariate: false);
        var engine = model.CreateForecastingEngine();
        byte[] onnx = Export(model);

        AssertMatches([engine.Predict()], RunOnnxRuntime(onnx, engine.GetOnnxInputs()));
        using var session = new InferenceSession(onnx);
        Assert.Equal("0.9", session.ModelMetadata.CustomMetadataMap["mlnetrnn.confidence_level"]);
    }

    [Fact]
    public void AModelSavedByFormatVersionOneExports()
    {
        // Version 1: a seasonal-naive base, no seasonal adjustment, networks that read no base error, per-step bounds.
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Models", "forecaster-v1.zip");
        var loaded = _ml.Model.Load(path, out _);
        var forecaster = loaded as RnnForecastingTransformer ?? ((IEnumerable<ITransformer>)loaded).OfType<RnnForecastingTransformer>().Single();
        var engine = forecaster.CreateForecastingEngine();
        var inputs = engine.GetOnnxInputs();
        var expected = engine.Predict();

        Assert.DoesNotContain(Names.BaseOneStepForecasts, inputs.Tensors.Select(t => t.Name));
        AssertNetworksContribute(forecaster, inputs, expected);
        AssertMatches([expected], RunOnnxRuntime(Export(forecaster), inputs));
    }

    [Fact]
    public void TheConfidenceLevelIsFixedAtExport()
    {
        var model = Fit(Small(RecurrentCellKind.Gru, M, covariate: false), covariate: false);
        var engine = model.CreateForecastingEngine();
        using var stream = new MemoryStream();

        model.ExportToOnnx(stream, confidenceLevel: 0.5f);

        var actual = RunOnnxRuntime(stream.ToArray(), engine.GetOnnxInputs());
        AssertMatches([engine.Predict(H, 0.5f)], actual);
        // Narrower than the model's 90% bounds, so the level reached the graph.
        var wide = engine.Predict();
        Assert.True(actual.Upper[0] - actual.Lower[0] < wide.UpperBound[0] - wide.LowerBound[0]);
    }

    [Fact]
    public void ApplyOnnxModelForecastsInMLNet()
    {
        // The exported graph in an ML.NET pipeline: one row per origin, one vector column per graph input.
        var model = Fit(Small(RecurrentCellKind.Gru, M, covariate: true), covariate: true);
        var (series, promo) = Series(Length + 3);
        var engines = Enumerable.Range(0, 3).Select(n =>
        {
            var e = model.CreateForecastingEngine();
            for (int t = Length; t < Length + n; t++) e.Observe(series[t], [promo[t]]);
            return e;
        }).ToArray();
        var rows = engines.Select(e => e.GetOnnxInputs()).ToArray();
        var data = OnnxInputView(rows);
        string path = Path.Combine(Path.GetTempPath(), $"mlnetrnn-forecaster-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, Export(model));

            var scored = _ml.Transforms.ApplyOnnxModel(path).Fit(data).Transform(data);

            var forecasts = scored.GetColumn<float[]>(Names.Forecast).ToArray();
            var lower = scored.GetColumn<float[]>(Names.LowerBound).ToArray();
            var upper = scored.GetColumn<float[]>(Names.UpperBound).ToArray();
            AssertMatches(engines.Select(e => e.Predict()).ToArray(), ([.. forecasts.SelectMany(f => f)], [.. lower.SelectMany(f => f)], [.. upper.SelectMany(f => f)]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void InputsOfDifferentModelsDoNotConcatenate()
    {
        var withCovariate = Fit(Small(RecurrentCellKind.Gru, M, covariate: true), covariate: true).CreateForecastingEngine().GetOnnxInputs();
        var without = Fit(Small(RecurrentCellKind.Gru, M, covariate: false), covariate: false).CreateForecastingEngine().GetOnnxInputs();

        var ex = Assert.Throws<ArgumentException>(() => RnnForecastingOnnxInputs.Concatenate([withCovariate, without]));

        Assert.Contains("same model", ex.Message);
    }

    [Fact]
    public void LayerNormalizationCannotBeExportedAndNothingIsWritten()
    {
        var options = Small(RecurrentCellKind.Gru, M, covariate: false);
        options.LayerNormalization = true;
        var model = Fit(options, covariate: false);
        using var stream = new MemoryStream();

        var ex = Assert.Throws<NotSupportedException>(() => model.ExportToOnnx(stream));

        Assert.Contains("LayerNormalization", ex.Message);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void NetworksDilatedForNestedSeasonsCannotBeExportedAndTheMessageSaysHowToExport()
    {
        // Candidate periods 4 and 12 nest, so the default (SeasonalDilation null) dilates the networks by 4.
        var options = Small(RecurrentCellKind.Gru, M, covariate: false);
        options.SeasonalPeriods = [4, M];
        var model = Fit(options, covariate: false);
        Assert.Equal([1, 4], model.Model.Settings.Dilations);
        using var stream = new MemoryStream();

        var ex = Assert.Throws<NotSupportedException>(() => model.ExportToOnnx(stream));

        Assert.Contains("SeasonalDilation = false", ex.Message);
        Assert.Equal(0, stream.Length);
        options.SeasonalDilation = false;
        Assert.NotEmpty(Export(Fit(options, covariate: false)));
    }

    [Fact]
    public void TheRecursiveStrategyCannotBeExportedAndNothingIsWritten()
    {
        var options = Small(RecurrentCellKind.Gru, M, covariate: false);
        options.Strategy = ForecastingStrategy.Recursive;
        var model = Fit(options, covariate: false);
        using var stream = new MemoryStream();

        var ex = Assert.Throws<NotSupportedException>(() => model.ExportToOnnx(stream));

        Assert.Contains("Strategy", ex.Message);
        Assert.Contains("Recursive", ex.Message);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void ConvertToOnnxRefusesAForecasterAndNamesExportToOnnx()
    {
        var model = Fit(Small(RecurrentCellKind.Gru, M, covariate: false), covariate: false);
        var data = View(_ml, Series(Length).Values);
        using var stream = new MemoryStream();

        var ex = Assert.Throws<NotSupportedException>(() => _ml.Model.ConvertToOnnx(model, data, stream));

        Assert.Contains("ExportToOnnx", ex.Message);
        Assert.Contains("'Forecast'", ex.Message);
        Assert.Equal(0, stream.Length);   // no pass-through graph
    }

    [Fact]
    public void ConvertToOnnxRefusesAPipelineWithAForecasterInside()
    {
        // Stages before and after the forecaster that ML.NET can convert: the forecaster still stops the conversion.
        var (series, _) = Series(Length);
        var data = _ml.Data.LoadFromEnumerable(series.Select(v => new RawObservation { Raw = v }));
        var options = Small(RecurrentCellKind.Gru, M, covariate: false);
        options.InputColumnName = "Value";
        var pipeline = _ml.Transforms.Conversion.ConvertType("Value", "Raw", DataKind.Single)
            .Append(_ml.Forecasting.ForecastByRnn(options))
            .Append(_ml.Transforms.CopyColumns("ForecastCopy", "Forecast"));
        var model = pipeline.Fit(data);
        using var stream = new MemoryStream();

        var ex = Assert.Throws<NotSupportedException>(() => _ml.Model.ConvertToOnnx(model, data, stream));

        Assert.Contains("ExportToOnnx", ex.Message);
        Assert.Equal(0, stream.Length);
        // The pipeline itself still transforms as before.
        Assert.Equal(Length, model.Transform(data).GetColumn<float[]>("ForecastCopy").Count());
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Small and fast: two members of 6 units, a few hundred optimiser steps; no damping, so the networks'
    /// correction is in every forecast (λ = 1) and an error in the exported networks shows.</summary>
    private static RnnForecastingOptions Small(RecurrentCellKind cell, int season, bool covariate)
    {
        var o = Fast(window: W, horizon: H, season: season);
        o.Cell = cell;
        o.HiddenSizes = [6];
        o.EnsembleSize = 2;
        o.Epochs = 20;
        o.MaximumSteps = 200;
        o.CorrectionDamping = false;
        // No weight decay: it pulls the few hundred steps' correction back towards the base, and these tests need
        // networks that visibly move the forecast, so that a broken network export cannot hide under the tolerance.
        o.WeightDecay = 0;
        o.CovariateColumnNames = covariate ? [nameof(SeriesRow.Promo)] : [];
        return o;
    }

    /// <summary>A positive trending seasonal series and a covariate that moves it (a promotion every 7th step).</summary>
    private static (float[] Values, float[] Promo) Series(int n, double noise = 0.02)
    {
        var values = SeasonalMultiplicative(n, seed: 11, relativeNoise: noise);
        var promo = Enumerable.Range(0, n).Select(t => t % 7 == 3 ? 1f : 0f).ToArray();
        for (int t = 0; t < n; t++) values[t] += 8 * promo[t];
        return (values, promo);
    }

    private RnnForecastingTransformer Fit(RnnForecastingOptions options, bool covariate, double noise = 0.02)
    {
        var (values, promo) = Series(Length, noise);
        return _ml.Forecasting.ForecastByRnn(options).Fit(View(_ml, values, covariate ? promo : null));
    }

    /// <summary>The networks move the forecast away from the base's by far more than the tolerance, so an error in
    /// their export cannot hide below it.</summary>
    private void AssertNetworksContribute(RnnForecastingTransformer model, RnnForecastingOnnxInputs inputs, RnnForecast forecast)
    {
        Assert.True(model.Model.Members.Length > 0 && model.Model.CorrectionWeight > 0f,
            $"the model is its base alone (members {model.Model.Members.Length}, λ {model.Model.CorrectionWeight}): the networks' export would go untested");
        var baseForecast = inputs[Names.BaseForecast].Values;
        double moved = forecast.Forecast.Zip(baseForecast, (f, b) => Math.Abs(f - b) / Math.Abs(b)).Max();
        output.WriteLine($"the networks move the forecast by up to {moved:E2} of the base's");
        Assert.True(moved > 1e-3, $"the networks move the forecast by at most {moved:E2} of the base's");
    }

    private static byte[] Export(RnnForecastingTransformer model)
    {
        using var stream = new MemoryStream();
        model.ExportToOnnx(stream);
        return stream.ToArray();
    }

    /// <summary>Runs the graph in ONNX Runtime on <paramref name="inputs"/>; returns the three outputs, row-major (N, H).</summary>
    private static (float[] Forecast, float[] Lower, float[] Upper) RunOnnxRuntime(byte[] onnx, RnnForecastingOnnxInputs inputs)
    {
        using var session = new InferenceSession(onnx);
        Assert.Equal(session.InputMetadata.Keys.Order(), inputs.Tensors.Select(t => t.Name).Order());
        var feeds = inputs.Tensors.Select(t => NamedOnnxValue.CreateFromTensor(t.Name, new DenseTensor<float>(t.Values, t.Dimensions))).ToList();
        using var results = session.Run(feeds);
        float[] Output(string name)
        {
            var tensor = results.Single(r => r.Name == name).AsTensor<float>();
            Assert.Equal(inputs.Count, tensor.Dimensions[0]);
            return tensor.ToArray();
        }
        return (Output(Names.Forecast), Output(Names.LowerBound), Output(Names.UpperBound));
    }

    /// <summary>One row per origin, one float vector column per graph input, shaped as the graph declares it (the
    /// model of <see cref="ApplyOnnxModelForecastsInMLNet"/>: a base, one covariate, a season).</summary>
    private IDataView OnnxInputView(RnnForecastingOnnxInputs[] origins)
        => _ml.Data.LoadFromEnumerable(origins.Select(o => new OnnxInputRow
        {
            Values = o[Names.Values].Values, BaseOneStep = o[Names.BaseOneStepForecasts].Values, Covariates = o[Names.Covariates].Values,
            SeasonPosition = o[Names.SeasonPosition].Values, BaseForecast = o[Names.BaseForecast].Values,
        }));

    public sealed class OnnxInputRow
    {
        [ColumnName(Names.Values), VectorType(W)]
        public float[] Values { get; set; } = [];

        [ColumnName(Names.BaseOneStepForecasts), VectorType(W)]
        public float[] BaseOneStep { get; set; } = [];

        [ColumnName(Names.Covariates), VectorType(W, 1)]
        public float[] Covariates { get; set; } = [];

        [ColumnName(Names.SeasonPosition), VectorType(1)]
        public float[] SeasonPosition { get; set; } = [];

        [ColumnName(Names.BaseForecast), VectorType(H)]
        public float[] BaseForecast { get; set; } = [];
    }

    private void AssertMatches(RnnForecast[] expected, (float[] Forecast, float[] Lower, float[] Upper) actual)
    {
        double worst = 0;
        string where = "";
        int steps = expected[0].Forecast.Length;
        void Compare(string what, int row, float[] library, float[] onnx)
        {
            for (int k = 0; k < steps; k++)
            {
                float e = library[k], a = onnx[row * steps + k];
                Assert.True(float.IsFinite(e), $"{what}[{row}, {k}]: the library gave {e}");
                double relative = Math.Abs(a - e) / Math.Abs(e);
                if (!(relative <= worst)) { worst = relative; where = $"{what}[{row}, {k}]: ONNX Runtime {a:R}, library {e:R}"; }
            }
        }
        Assert.Equal(expected.Length * steps, actual.Forecast.Length);
        for (int row = 0; row < expected.Length; row++)
        {
            Compare("forecast", row, expected[row].Forecast, actual.Forecast);
            Compare("lower", row, expected[row].LowerBound, actual.Lower);
            Compare("upper", row, expected[row].UpperBound, actual.Upper);
        }
        // docs/design/onnx.md quotes these lines: dotnet test ... --filter ForecasterOnnxTests --logger "console;verbosity=detailed"
        output.WriteLine($"{expected.Length} origin(s) × {steps} steps × 3 outputs, worst relative error {worst:E2} ({where})");
        Assert.True(worst <= RelativeTolerance, $"worst relative error {worst:E2} at {where}");
    }
}

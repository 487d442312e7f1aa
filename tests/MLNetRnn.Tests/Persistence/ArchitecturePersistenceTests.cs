using Microsoft.ML;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Tests.Forecasting;
using static MLNetRnn.Tests.Regression.RegressionTestData;

namespace MLNetRnn.Tests.Persistence;

/// <summary>
/// Dilated layers and residual connections survive ML.NET's model zips: a forecaster (format 9) and an engine's checkpoint
/// of it, and window mode's model (format 4), each forecast or score the same bits after loading. A model without them is
/// still written in the format it was before (forecaster 7 or 8, window mode 3), so it keeps its older readers.
/// </summary>
public sealed class ArchitecturePersistenceTests : IDisposable
{
    private const int Length = 160;
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly float[][] Data =
    [
        Enumerable.Range(0, Length).Select(t => (float)(50 + 0.2 * t + 10 * Math.Sin(2 * Math.PI * t / 12) + 0.5 * Math.Cos(t * 1.7))).ToArray(),
        Enumerable.Range(0, Length).Select(t => (float)(80 - 0.1 * t + 6 * Math.Sin(2 * Math.PI * t / 12 + 1) + 0.5 * Math.Sin(t * 2.3))).ToArray(),
    ];

    private IDataView Panel() => _ml.Data.LoadFromEnumerable(Data.SelectMany((values, i) => values.Select(v => new HourlyRow { Series = $"S{i}", Value = v })));

    private static RnnForecastingOptions Options(bool dilated, bool residual, bool periods = false)
    {
        var o = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(HourlyRow.Value), SeriesIdColumnName = nameof(HourlyRow.Series),
            WindowSize = 24, Horizon = 6, SeasonalPeriod = 12, EnsembleSize = 1, HiddenSizes = [8, 8], MaximumSteps = 20, Seed = 1,
            ResidualConnections = residual,
            // The formats these options are written in; decoder steps, a panel's default, raise every one to 11 (DecoderStepsTests).
            DecoderSteps = false,
        };
        if (dilated) o.Dilations = [1, 2];
        if (periods) o.SeasonalPeriods = [6, 12];
        return o;
    }

    [Fact]
    public void ADilatedResidualForecasterForecastsTheSameBitsAfterTheZipAndACheckPoint()
    {
        var model = _ml.Forecasting.ForecastByRnn(Options(dilated: true, residual: true)).Fit(Panel());
        Assert.Equal([1, 2], model.Model.Settings.NetworkSpec.Dilations);
        Assert.True(model.Model.Members.Length > 0, "The networks were trained, so the forecasts depend on their architecture.");

        string path = _dir.File("forecaster.zip");
        _ml.Model.Save(model, Panel().Schema, path);
        Assert.Equal((9, 9), Probe.FormatVersions(path, "TransformerChain/Model.key"));
        var loaded = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(path, out _));
        Assert.Equal(model.Model.Settings.NetworkSpec, loaded.Model.Settings.NetworkSpec);
        var expected = model.CreateForecastingEngine().PredictAll();
        var again = loaded.CreateForecastingEngine().PredictAll();
        foreach (string id in new[] { "S0", "S1" }) Assert.Equal(expected[id], again[id], RnnForecastComparer.Instance);

        var engine = model.CreateForecastingEngine();
        for (int t = 0; t < 5; t++)
            for (int i = 0; i < Data.Length; i++) engine.Observe($"S{i}", Data[i][Length - 12 + t] + 1f);
        string checkpoint = _dir.File("checkpoint.zip");
        engine.CheckPoint(_ml, checkpoint);
        var restarted = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(checkpoint, out _)).CreateForecastingEngine();
        foreach (string id in new[] { "S0", "S1" }) Assert.Equal(engine.Predict(id), restarted.Predict(id), RnnForecastComparer.Instance);

        // ToBytes records them too (its version 3).
        var fromBytes = ForecastModel.FromBytes(model.Model.ToBytes());
        Assert.Equal(model.Model.Settings.NetworkSpec, fromBytes.Settings.NetworkSpec);
    }

    /// <summary>Only dilations or residual connections raise the forecaster to format 9 (readable by version-9 readers
    /// alone); a model without them is written as before: 8 with candidate periods, else 7 readable by version 6.</summary>
    [Theory]
    [InlineData(false, false, false, 7, 6)]
    [InlineData(false, false, true, 8, 8)]
    [InlineData(true, false, false, 9, 9)]
    [InlineData(false, true, false, 9, 9)]
    [InlineData(true, true, true, 9, 9)]
    public void OnlyAForecasterWithDilationsOrResidualConnectionsIsWrittenAsFormatNine(bool dilated, bool residual, bool periods, int version, int readableBy)
    {
        var model = _ml.Forecasting.ForecastByRnn(Options(dilated, residual, periods)).Fit(Panel());
        string path = _dir.File($"{Guid.NewGuid():N}.zip");
        _ml.Model.Save(model, Panel().Schema, path);

        Assert.Equal((version, readableBy), Probe.FormatVersions(path, "TransformerChain/Model.key"));
        var loaded = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(path, out _));
        Assert.Equal(model.Model.Settings.NetworkSpec, loaded.Model.Settings.NetworkSpec);
        Assert.Equal(model.Model.Settings.SeasonalPeriods, loaded.Model.Settings.SeasonalPeriods);
    }

    [Theory]
    [InlineData(true, true, 4, 4)]
    [InlineData(false, false, 3, 2)]
    public void WindowModeKeepsDilationsAndResidualConnectionsThroughTheZip(bool dilated, bool residual, int version, int readableBy)
    {
        var view = View(_ml, Rows(SeasonalTrend(80, seed: 9)));
        var options = Fast();
        options.HiddenSizes = [8, 8];
        options.Epochs = 10;
        if (dilated) options.Dilations = [1, 2];
        options.ResidualConnections = residual;
        var model = _ml.Regression.Trainers.Rnn(options).Fit(view);

        string path = _dir.File($"{Guid.NewGuid():N}.zip");
        _ml.Model.Save(model, view.Schema, path);

        Assert.Equal((version, readableBy), Probe.FormatVersions(path, "TransformerChain/Model/Model.key"));
        var loaded = Assert.IsType<Microsoft.ML.Data.RegressionPredictionTransformer<RnnRegressionModelParameters>>(new MLContext().Model.Load(path, out _));
        Assert.Equal(model.Model.NetworkSpec, loaded.Model.NetworkSpec);
        Assert.Equal(Bits(model.Transform(view), "Score"), Bits(loaded.Transform(view), "Score"));
    }
}

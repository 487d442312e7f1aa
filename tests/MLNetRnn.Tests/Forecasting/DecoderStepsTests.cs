using Microsoft.ML;
using MLNetRnn.Samples;
using MLNetRnn.Tests.Persistence;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>
/// <see cref="RnnForecastingOptions.DecoderSteps"/> through ML.NET: a panel without covariates steps its networks through
/// the horizon by default and says so, its zip (format 11) and an engine's checkpoint give the same forecasts after
/// loading, false keeps the one head and the older format, a panel with promotions known in advance and a single series
/// keep theirs, and true with the recursive strategy is refused naming the option.
/// </summary>
public sealed class DecoderStepsTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();
    private static readonly RetailPanel.Sale[] Rows = PanelTestData.Retail(products: 6, days: 120, seed: 3);

    public void Dispose() => _dir.Dispose();

    private IDataView View() => PanelTestData.View(_ml, Rows);

    private static RnnForecastingOptions Panel(bool? decoderSteps)
    {
        var o = PanelTestData.FastPanel();
        o.DecoderSteps = decoderSteps;
        return o;
    }

    private (int Version, int ReadableBy) Saved(ITransformer model, string path)
    {
        _ml.Model.Save(model, View().Schema, path);
        return Probe.FormatVersions(path);
    }

    [Fact]
    public void APanelStepsThroughTheHorizonByDefaultAndItsZipAndCheckPointKeepEveryForecast()
    {
        var model = _ml.Forecasting.ForecastByRnn(Panel(decoderSteps: null)).Fit(View());
        Assert.True(model.Model.Settings.DecoderSteps);
        Assert.Equal(14 + 7, model.Model.Settings.Steps);
        Assert.Contains(model.TrainingSummary.Notes, n => n.Contains("DecoderSteps", StringComparison.Ordinal));

        string path = _dir.File("decoder.zip");
        Assert.Equal((11, 11), Saved(model, path));
        var loaded = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(path, out _));
        Assert.True(loaded.Model.Settings.DecoderSteps);
        var expected = model.CreateForecastingEngine().PredictAll();
        var again = loaded.CreateForecastingEngine().PredictAll();
        Assert.Equal(expected.Keys.Order(), again.Keys.Order());
        foreach (var id in expected.Keys) Assert.Equal(expected[id], again[id], RnnForecastComparer.Instance);

        // An engine that observed more of each series, checkpointed and restarted, forecasts the same bits.
        var engine = model.CreateForecastingEngine();
        foreach (var id in model.SeriesIds) engine.Observe(id, 20f);
        string checkpoint = _dir.File("checkpoint.zip");
        engine.CheckPoint(_ml, checkpoint);
        var restarted = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(checkpoint, out _)).CreateForecastingEngine();
        foreach (var id in model.SeriesIds) Assert.Equal(engine.Predict(id), restarted.Predict(id), RnnForecastComparer.Instance);
    }

    [Fact]
    public void FalseKeepsTheOneHeadAndThePanelsOlderFormat()
    {
        var model = _ml.Forecasting.ForecastByRnn(Panel(decoderSteps: false)).Fit(View());
        Assert.False(model.Model.Settings.DecoderSteps);
        Assert.False(model.Model.Settings.Decoder);
        Assert.Equal(14, model.Model.Settings.Steps);
        Assert.DoesNotContain(model.TrainingSummary.Notes, n => n.Contains("DecoderSteps", StringComparison.Ordinal));
        Assert.Equal((7, 6), Saved(model, _dir.File("one-head.zip")));   // six series give too few origins for a combination
    }

    [Fact]
    public void APanelWithPromotionsKnownInAdvanceAndASingleSeriesKeepTheirNetworks()
    {
        var promotions = Panel(decoderSteps: null);
        promotions.KnownFutureColumnNames = [nameof(RetailPanel.Sale.Promo)];
        var withPromotions = _ml.Forecasting.ForecastByRnn(promotions).Fit(View());
        Assert.False(withPromotions.Model.Settings.DecoderSteps);
        Assert.True(withPromotions.Model.Settings.Decoder);   // the promotions' own decoder, as before
        Assert.True(Saved(withPromotions, _dir.File("promotions.zip")).Version < 11);

        var single = Panel(decoderSteps: null);
        single.SeriesIdColumnName = null;
        var one = _ml.Forecasting.ForecastByRnn(single).Fit(_ml.Data.LoadFromEnumerable(Rows.Where(r => r.Product == Rows[0].Product).ToArray()));
        Assert.False(one.Model.Settings.DecoderSteps);
        Assert.False(one.Model.Settings.Decoder);
    }

    [Fact]
    public void TrueWithTheRecursiveStrategyIsRefusedNamingTheOption()
    {
        var o = Panel(decoderSteps: true);
        o.Strategy = ForecastingStrategy.Recursive;
        var e = Assert.Throws<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o));
        Assert.Equal(nameof(RnnForecastingOptions.DecoderSteps), e.ParamName);
        Assert.Contains("Recursive", e.Message, StringComparison.Ordinal);
    }
}

using Microsoft.ML;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Samples;
using MLNetRnn.Tests.Persistence;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>
/// <see cref="RnnForecastingOptions.LearnedBaseCombination"/> through ML.NET: a panel learns it by default and says so,
/// the model zip keeps it (format 10, the same forecasts after loading), a model without it keeps its older format, and
/// the option refuses a base it cannot combine, naming itself.
/// </summary>
public sealed class LearnedBaseCombinationTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();
    private static readonly RetailPanel.Sale[] Rows = PanelTestData.Retail(products: 16, days: 120, seed: 3);

    public void Dispose() => _dir.Dispose();

    private IDataView View() => PanelTestData.View(_ml, Rows);

    private (RnnForecastingTransformer Model, int Version, int ReadableBy, RnnForecastingTransformer Loaded) FitAndSave(bool? combination, bool? decoderSteps = false)
    {
        var o = PanelTestData.FastPanel();
        o.LearnedBaseCombination = combination;
        // Decoder steps, a panel's default too, raise the format to 11 (DecoderStepsTests); here the combination's own is pinned.
        o.DecoderSteps = decoderSteps;
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View());
        string path = _dir.File($"{Guid.NewGuid():N}.zip");
        _ml.Model.Save(model, View().Schema, path);
        var (version, readableBy) = Probe.FormatVersions(path);
        return (model, version, readableBy, Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(path, out _)));
    }

    [Fact]
    public void APanelLearnsTheCombinationByDefaultAndItsZipKeepsEveryForecast()
    {
        var (model, version, readableBy, loaded) = FitAndSave(combination: null);
        Assert.NotNull(model.Model.BaseCombination);
        Assert.Contains(model.TrainingSummary.Notes, n => n.Contains("combines the candidates with weights learned on", StringComparison.Ordinal));
        Assert.Equal((10, 10), (version, readableBy));

        Assert.NotNull(loaded.Model.BaseCombination);
        var expected = model.CreateForecastingEngine().PredictAll();
        var again = loaded.CreateForecastingEngine().PredictAll();
        Assert.Equal(expected.Keys.Order(), again.Keys.Order());
        foreach (var id in expected.Keys) Assert.Equal(expected[id], again[id], RnnForecastComparer.Instance);
    }

    [Fact]
    public void WithoutTheCombinationThePanelKeepsItsOlderFormatAndChoosesEachBaseAlone()
    {
        var (model, version, readableBy, _) = FitAndSave(combination: false);
        Assert.Null(model.Model.BaseCombination);
        Assert.DoesNotContain(model.Model.Series, f => f.Baseline is { Weighted: true });
        Assert.Equal((7, 6), (version, readableBy));
    }

    [Fact]
    public void TheOptionRefusesABaseItCannotCombineNamingItself()
    {
        var o = PanelTestData.FastPanel();
        o.LearnedBaseCombination = true;
        o.Base = ForecastBase.SeasonalNaive;
        var e = Assert.Throws<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o));
        Assert.Equal(nameof(RnnForecastingOptions.LearnedBaseCombination), e.ParamName);
        Assert.Contains("Base = Auto", e.Message, StringComparison.Ordinal);
    }
}

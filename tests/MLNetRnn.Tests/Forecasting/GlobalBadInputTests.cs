using Microsoft.ML;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Samples;
using static MLNetRnn.Tests.Forecasting.PanelTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>Bad panels are refused before training, each message naming the column, the series and the row.</summary>
public sealed class GlobalBadInputTests
{
    private readonly MLContext _ml = new(seed: 0);

    private static void Names<T>(Action act, params string[] names) where T : Exception
    {
        var ex = Assert.ThrowsAny<T>(act);
        foreach (string name in names) Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    private RnnForecastingTransformer Fit(RnnForecastingOptions o, IEnumerable<RetailPanel.Sale> rows) => _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows));

    [Fact]
    public void MissingSeriesIdIsNamedWithItsRow()
    {
        var rows = Retail(3, 60);
        rows[75].Product = "";
        Names<InvalidOperationException>(() => Fit(FastPanel(), rows), "'Product'", "row 75");
    }

    [Fact]
    public void ASeriesIdOfAMeasuringTypeIsRefusedNamingTheColumnAndTheTypesItCanBe()
    {
        // A float or a date does not name a series: refused before training, saying what the column may be instead.
        var o = FastPanel();
        o.SeriesIdColumnName = "Promo";
        Names<ArgumentOutOfRangeException>(() => Fit(o, Retail(3, 60)), "'Promo'", "Text, a key type or an integer type", "Single");
        o.SeriesIdColumnName = "Date";
        Names<ArgumentOutOfRangeException>(() => Fit(o, Retail(3, 60)), "'Date'", "DateTime");
    }

    [Fact]
    public void AColumnInTwoRolesIsRefusedNamingIt()
    {
        var o = FastPanel();
        o.DateColumnName = "Date";
        o.StaticFeatureColumnNames = ["Date"];
        Names<ArgumentException>(() => Fit(o, Retail(3, 60)), "'Date'", "more than one role");
        o = FastPanel();
        o.CovariateColumnNames = ["Promo"];
        o.KnownFutureColumnNames = ["Promo"];
        Names<ArgumentException>(() => Fit(o, Retail(3, 60)), "'Promo'", "more than one role");
    }

    [Fact]
    public void SeriesIdFeatureWithoutASeriesIdIsRefused()
    {
        var o = FastPanel();
        o.SeriesIdColumnName = null;
        o.SeriesIdFeature = true;
        Names<ArgumentException>(() => Fit(o, Retail(1, 60)), "SeriesIdFeature", "SeriesIdColumnName");
    }

    [Fact]
    public void AnUnknownSeriesWeightingIsRefusedNamingTheOption()
    {
        var o = FastPanel();
        o.SeriesWeighting = (SeriesWeighting)7;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(o, Retail(3, 60)));
        Assert.Equal(nameof(RnnForecastingOptions.SeriesWeighting), ex.ParamName);
    }

    [Fact]
    public void AStaticColumnWithMoreCategoriesThanTheFormatHoldsIsRefusedNamingIt()
    {
        var ids = Enumerable.Range(0, StaticEncoder.MaximumCategories + 1).Select(i => (object?)$"S{i}").ToArray();
        Names<InvalidOperationException>(() => StaticEncoder.Fit("Product", categorical: true, ids), "'Product'", "65537 categories", "SeriesIdFeature reads any number");
    }

    [Fact]
    public void NonFiniteValueNamesTheColumnTheSeriesAndTheRow()
    {
        var rows = Retail(3, 60);
        rows[130].Sales = float.NaN;
        Names<InvalidOperationException>(() => Fit(FastPanel(), rows), "'Sales'", "series 'P00002'", "row 130");
    }

    [Fact]
    public void GapInTheDatesIsRefusedNamingTheSeriesAndTheRow()
    {
        var rows = Retail(3, 60).Where((r, i) => i != 70 && i != 71).ToArray();   // P00001 skips two days
        var o = FastPanel();
        o.DateColumnName = "Date";
        Names<InvalidOperationException>(() => Fit(o, rows), "'Date'", "series 'P00001'", "row 70", "2 time steps", "GapFilling");
    }

    [Theory]
    [InlineData(GapFilling.PreviousValue)]
    [InlineData(GapFilling.Linear)]
    public void GapFillingInsertsTheMissingSteps(GapFilling filling)
    {
        var all = Retail(3, 60);
        var rows = all.Where((r, i) => i != 110 && i != 111).ToArray();   // P00001 skips days 50 and 51
        var o = FastPanel();
        o.DateColumnName = "Date";
        o.GapFilling = filling;
        var model = Fit(o, rows);
        Assert.Equal(60, model.CreateForecastingEngine().GetObservationCount("P00001"));
        // The filled days' values: carried from day 49, or on the line from day 49 to day 52 (the state keeps the last 14).
        var history = model.Series.States[1].History;
        float before = all[109].Sales, after = all[112].Sales;
        float[] expected = filling == GapFilling.PreviousValue ? [before, before] : [before + (after - before) / 3, before + (after - before) / 3 + (after - (before + (after - before) / 3)) / 2];
        Assert.Equal(before, history[^11]);
        Assert.Equal(expected[0], history[^10], 4);
        Assert.Equal(expected[1], history[^9], 4);
        Assert.Equal(after, history[^8]);
    }

    [Fact]
    public void DatesOutOfOrderAreNamed()
    {
        var rows = Retail(2, 60);
        rows[81].Date = rows[80].Date.AddDays(-1);
        var o = FastPanel();
        o.DateColumnName = "Date";
        Names<InvalidOperationException>(() => Fit(o, rows), "'Date'", "series 'P00001'", "row 81", "does not increase");
    }

    [Fact]
    public void StaticFeatureThatChangesWithinASeriesIsNamed()
    {
        var rows = Retail(3, 60);
        rows[100].Category = rows[100].Category == "Fresh" ? "Grocery" : "Fresh";
        var o = FastPanel();
        o.StaticFeatureColumnNames = ["Category"];
        Names<InvalidOperationException>(() => Fit(o, rows), "'Category'", "series 'P00001'", "row 100");
    }

    [Fact]
    public void APanelWhoseEverySeriesIsShorterThanTheWindowIsNamed()
    {
        // One short series is kept for later (GlobalForecastingTests); with none long enough there is nothing to fit.
        var all = Retail(3, 60);
        var rows = all.Where(r => (r.Date - all[0].Date).Days < (r.Product == "P00001" ? 10 : 12)).ToArray();
        Names<InvalidOperationException>(() => Fit(FastPanel(), rows), "series 'P00000'", "12 rows", "WindowSize 14");
    }

    [Fact]
    public void BadFutureCovariatesAreNamedWithTheColumnAndTheStep()
    {
        var o = FastPanel();
        o.KnownFutureColumnNames = ["Promo"];
        var engine = Fit(o, Retail(3, 60)).CreateForecastingEngine();
        Names<ArgumentException>(() => engine.Predict("P00001"), "'Promo'", "series 'P00001'");
        Names<ArgumentException>(() => engine.Predict("P00001", futureCovariates: new Dictionary<string, float[]> { ["Promo"] = [1, 0, 0] }), "'Promo'", "3 values", "needs 7");
        Names<ArgumentException>(() => engine.Predict("P00001", futureCovariates: new Dictionary<string, float[]> { ["Promo"] = [0, 0, 1, float.NaN, 0, 0, 0] }), "'Promo'", "step 4 of 7");
        Names<ArgumentException>(() => engine.Predict("P00001", futureCovariates: new Dictionary<string, float[]> { ["Promo"] = new float[7], ["Price"] = new float[7] }), "'Price'");
        Names<ArgumentException>(() => engine.PredictAll(), "'Promo'");
    }

    private sealed class NoPromo
    {
        public string Product { get; set; } = "";

        public float Sales { get; set; }
    }

    [Fact]
    public void KnownFutureColumnAbsentAtPredictTimeIsNamed()
    {
        var o = FastPanel();
        o.KnownFutureColumnNames = ["Promo"];
        var model = Fit(o, Retail(3, 60));
        var without = _ml.Data.LoadFromEnumerable(Retail(3, 60).Select(r => new NoPromo { Product = r.Product, Sales = r.Sales }));
        Names<ArgumentOutOfRangeException>(() => model.Transform(without), "'Promo'");
        Names<ArgumentException>(() => model.CreateForecastingEngine<NoPromo, GlobalForecast>(_ml), "'Promo'");
    }

    private sealed class GlobalForecast
    {
        public float[] Forecast { get; set; } = [];
    }

    [Fact]
    public void MoreWindowsThanAModelCanIndexAreRefusedBeforeTraining()
    {
        // Three series of a billion rows each: the count passes 2³¹ − 1 at the third.
        var series = new[] { ("a", 1_000_000_000L, 999_999_999L), ("b", 1_000_000_000L, 1_999_999_999L), ("c", 1_000_000_000L, 2_999_999_999L) };
        Names<InvalidOperationException>(() => RnnForecastingEstimator.CheckWindowCount("Product", series, 14, 7), "'Product'", "'c'", "2999999999", "2147483647");
        RnnForecastingEstimator.CheckWindowCount("Product", series[..1], 14, 7);
    }

    [Fact]
    public void PanelOptionsThatContradictEachOtherAreNamed()
    {
        void Refused(Action<RnnForecastingOptions> change, string name)
        {
            var o = FastPanel();
            change(o);
            Names<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o), name);
        }
        Refused(o => { o.SeriesIdColumnName = null; o.StaticFeatureColumnNames = ["Category"]; }, "StaticFeatureColumnNames");
        Refused(o => o.CalendarFeatures = CalendarFeatures.DayOfWeek, "DateColumnName");
        Refused(o => o.GapFilling = GapFilling.Linear, "DateColumnName");
        Refused(o => o.QuantilesColumnName = "Q", "Quantiles");
        Refused(o => o.IntervalMethod = ForecastIntervalMethod.Quantiles, "Quantiles");
        Refused(o => o.Quantiles = [0.1f, 1.5f], "Quantiles");
        Refused(o => { o.KnownFutureColumnNames = ["Promo"]; o.CovariateColumnNames = ["Promo"]; }, "'Promo'");
        Refused(o => { o.Strategy = ForecastingStrategy.Recursive; o.Quantiles = [0.1f]; }, "quantile");
        Refused(o => { o.Strategy = ForecastingStrategy.Recursive; o.KnownFutureColumnNames = ["Promo"]; }, "covariates");
        Refused(o => { o.Quantiles = [0.1f]; o.QuantilesColumnName = "Forecast"; }, "distinct");
    }
}

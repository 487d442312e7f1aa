using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Samples;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;
using static MLNetRnn.Tests.Forecasting.PanelTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>A dated row of one series.</summary>
public sealed class DatedRow
{
    public DateTime Date { get; set; }

    public float Value { get; set; }
}

/// <summary>
/// <c>Transform</c> on only the newest rows (issue 21: NaN on every row) forecasts from the model's state plus those
/// rows, as an engine that observed them does. With a date column, rows dated after the model's last date continue it;
/// without one, a run too short to forecast from on its own does. A restated history is read as before.
/// </summary>
public sealed class TransformContinuationTests
{
    private static readonly DateTime Start = new(2000, 1, 1);
    private readonly MLContext _ml = new(seed: 0);

    [Fact]
    public void RowsDatedAfterTheModelContinueItsStateAsAnEngineWould()
    {
        var series = Seasonal(130, seed: 1);
        var model = _ml.Forecasting.ForecastByRnn(Dated(Fast())).Fit(DatedView(series[..120], 0));

        var output = model.Transform(DatedView(series[120..126], 120));
        var forecasts = output.GetColumn<float[]>("Forecast").ToArray();
        var lower = output.GetColumn<float[]>("Lower").ToArray();

        var engine = model.CreateForecastingEngine();
        for (int k = 0; k < 6; k++)
        {
            engine.Observe(series[120 + k]);
            var expected = engine.Predict();
            Assert.True(SameBits(expected.Forecast, forecasts[k]), $"row {k}: engine {expected.Forecast[0]:R}, transform {forecasts[k][0]:R}");
            Assert.True(SameBits(expected.LowerBound, lower[k]));
        }
    }

    [Fact]
    public void AGapAfterTheModelsLastDateIsFilledAsTheEngineFillsIt()
    {
        var series = Seasonal(130, seed: 1);
        var options = Dated(Fast());
        options.GapFilling = GapFilling.Linear;
        var model = _ml.Forecasting.ForecastByRnn(options).Fit(DatedView(series[..120], 0));

        // Two months missing after the model's last (month 119): the first row here is month 122.
        var forecasts = model.Transform(DatedView(series[122..126], 122)).GetColumn<float[]>("Forecast").ToArray();

        var engine = model.CreateForecastingEngine();
        for (int k = 0; k < 4; k++)
        {
            engine.Observe("", series[122 + k], default, Start.AddMonths(122 + k));
            Assert.True(SameBits(engine.Predict().Forecast, forecasts[k]), $"row {k}");
        }
    }

    [Fact]
    public void AGapTheModelDoesNotFillIsRefusedNamingTheDates()
    {
        var series = Seasonal(130, seed: 1);
        var model = _ml.Forecasting.ForecastByRnn(Dated(Fast())).Fit(DatedView(series[..120], 0));

        var ex = Assert.Throws<InvalidOperationException>(() => model.Transform(DatedView(series[122..126], 122)).GetColumn<float[]>("Forecast").ToArray());

        Assert.Contains("Date column 'Date'", ex.Message);
        Assert.Contains("2010-03-01", ex.Message);        // the first row here, month 122
        Assert.Contains("2009-12-01", ex.Message);        // the model's last, month 119
        Assert.Contains("gap of 2 time steps", ex.Message);
        Assert.Contains("GapFilling", ex.Message);
    }

    [Fact]
    public void RowsThatRestateTheHistoryStartFromNothingAsBefore()
    {
        // The training rows themselves, or the last 30 of them and 6 newer: the first is not after the model's last date,
        // so the rows are read as the series' own history (NaN until a window of them).
        var series = Seasonal(130, seed: 1);
        var model = _ml.Forecasting.ForecastByRnn(Dated(Fast())).Fit(DatedView(series[..120], 0));

        var whole = model.Transform(DatedView(series[..120], 0)).GetColumn<float[]>("Forecast").ToArray();
        var overlapping = model.Transform(DatedView(series[90..126], 90)).GetColumn<float[]>("Forecast").ToArray();

        Assert.All(whole.Take(23), f => Assert.True(float.IsNaN(f[0])));
        Assert.True(SameBits(model.CreateForecastingEngine().Predict().Forecast, whole[^1]));
        Assert.All(overlapping.Take(23), f => Assert.True(float.IsNaN(f[0])));
        Assert.True(float.IsFinite(overlapping[23][0]));
    }

    [Fact]
    public void WithoutDatesFewerRowsThanAWindowContinueTheModelAndMoreAreTheirOwnHistory()
    {
        var series = Seasonal(160, seed: 1);
        var model = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, series[..120]));
        Assert.Equal(24, model.Model.Single.FirstOrigin(model.Model.Settings));

        var shortRun = model.Transform(View(_ml, series[120..143])).GetColumn<float[]>("Forecast").ToArray();   // 23 rows
        var longRun = model.Transform(View(_ml, series[120..144])).GetColumn<float[]>("Forecast").ToArray();    // 24 rows

        var engine = model.CreateForecastingEngine();
        for (int k = 0; k < 23; k++)
        {
            engine.Observe(series[120 + k]);
            Assert.True(SameBits(engine.Predict().Forecast, shortRun[k]), $"row {k}");
        }
        Assert.All(longRun.Take(23), f => Assert.True(float.IsNaN(f[0])));
        Assert.True(float.IsFinite(longRun[23][0]));
    }

    [Fact]
    public void InAPanelEachSeriesIsContinuedOrRestatedByItsOwnDates()
    {
        // P00000's rows here are newer than the model's (days 100–111, with their promotions); P00001's restate its
        // days 80–111. Only the first is continued.
        var rows = Retail(3, 130);
        var o = FastPanel();
        o.DateColumnName = "Date";
        o.KnownFutureColumnNames = ["Promo"];
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows.Where(r => r.Date < rows[0].Date.AddDays(100))));
        var p0 = rows.Where(r => r.Product == "P00000").ToArray();
        var p1 = rows.Where(r => r.Product == "P00001").ToArray();
        var view = View(_ml, p0[100..112].Concat(p1[80..112]));

        var forecasts = model.Transform(view).GetColumn<float[]>("Forecast").ToArray();

        var engine = model.CreateForecastingEngine();
        for (int k = 0; k < 5; k++)   // the rows whose next 7 promotions are in the view
        {
            var r = p0[100 + k];
            engine.Observe(r.Product, r.Sales, [r.Promo], r.Date);
            var expected = engine.Predict("P00000", futureCovariates: Promotions(rows, "P00000", 101 + k, 7)).Forecast;
            Assert.True(SameBits(expected, forecasts[k]), $"P00000 row {k}");
        }
        Assert.All(forecasts[5..12], f => Assert.True(float.IsNaN(f[0])));            // promotions past the view's end
        Assert.All(forecasts[12..(12 + 13)], f => Assert.True(float.IsNaN(f[0])));    // P00001: a window not yet read
    }

    [Fact]
    public void APendingSeriesIsContinuedFromItsPendingValuesByDate()
    {
        // P00002 had only 10 days in training (a window is 14): the model keeps them pending. Its next 20 days, given
        // alone, continue those 10, as an engine that observes them does.
        var rows = Retail(3, 100);
        var launch = rows.Where(r => r.Product == "P00002").ToArray();
        var o = FastPanel();
        o.DateColumnName = "Date";
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows.Where(r => r.Product != "P00002").Concat(launch.Take(10))));
        Assert.Equal(["P00002"], model.PendingSeriesIds);

        var forecasts = model.Transform(View(_ml, launch[10..30])).GetColumn<float[]>("Forecast").ToArray();

        var engine = model.CreateForecastingEngine();
        foreach (var r in launch[10..30]) engine.Observe(r.Product, r.Sales, default, r.Date);
        Assert.True(SameBits(engine.Predict("P00002").Forecast, forecasts[^1]));
        Assert.True(float.IsFinite(forecasts[3][0]));   // 10 pending + 4 here: a window
        Assert.True(float.IsNaN(forecasts[2][0]));
    }

    private static RnnForecastingOptions Dated(RnnForecastingOptions o)
    {
        o.DateColumnName = nameof(DatedRow.Date);
        return o;
    }

    /// <summary>Months <paramref name="from"/>, <paramref name="from"/> + 1, … after January 2000, with the values.</summary>
    private IDataView DatedView(float[] values, int from)
        => _ml.Data.LoadFromEnumerable(values.Select((v, i) => new DatedRow { Date = Start.AddMonths(from + i), Value = v }).ToArray());
}

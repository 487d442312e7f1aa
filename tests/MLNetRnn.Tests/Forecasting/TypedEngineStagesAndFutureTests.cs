using Microsoft.ML;
using Microsoft.ML.Data;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;
using static MLNetRnn.Tests.Forecasting.PanelTestData;

namespace MLNetRnn.Tests.Forecasting;

public sealed class ForecastAndCopies
{
    public float[] Forecast { get; set; } = [];

    public float[] Next { get; set; } = [];

    public float Seen { get; set; }
}

/// <summary>What a custom mapping after the forecaster reads: the forecast vector (4 steps in these tests).</summary>
public sealed class ForecastVector
{
    [VectorType(4)]
    public float[] Forecast { get; set; } = [];
}

public sealed class ForecastPeak
{
    public float Peak { get; set; }
}

public sealed class SaleWithPromo
{
    public string Product { get; set; } = "";

    public float Sales { get; set; }

    public float Promo { get; set; }
}

public sealed class SaleForecastOnly
{
    public float[] Forecast { get; set; } = [];
}

/// <summary>
/// The typed engine with stages after the forecaster (issue 21: refused) and with known-future covariates (issue 21:
/// none could be given): the stages run on each forecast, as a <c>PredictionEngine</c> runs a pipeline, and the
/// covariates of the steps ahead are given as the untyped engine takes them.
/// </summary>
public sealed class TypedEngineStagesAndFutureTests
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly float[] _series = Seasonal(90, seed: 4);

    private static RnnForecastingOptions Small() => ForecastingEngineTests.Small();

    [Fact]
    public void StagesAfterTheForecasterRunOnEachForecast()
    {
        var model = _ml.Forecasting.ForecastByRnn(Small())
            .Append(_ml.Transforms.CopyColumns("Next", "Forecast"))
            .Append(_ml.Transforms.CopyColumns("Seen", "Value"))
            .Fit(View(_ml, _series[..80]));
        var untyped = model.CreateForecastingEngine();
        using var typed = model.CreateForecastingEngine<Observation, ForecastAndCopies>(_ml);

        var first = typed.Predict();   // before any example: a blank Observation's Value
        Assert.Equal(untyped.Predict().Forecast, first.Next);
        Assert.Equal(0f, first.Seen);
        for (int t = 80; t < 86; t++)
        {
            untyped.Observe(_series[t]);
            var expected = untyped.Predict().Forecast;
            var actual = typed.Predict(new Observation { Value = _series[t] });
            Assert.Equal(expected, actual.Forecast);
            Assert.Equal(expected, actual.Next);
            Assert.Equal(_series[t], actual.Seen);   // the input's columns reach the stages after it
        }
        var again = typed.Predict();   // no example: the last one's columns, the same forecast
        Assert.Equal(_series[85], again.Seen);
        Assert.Equal(untyped.Predict().Forecast, again.Next);
    }

    [Fact]
    public void ACustomMappingOfTheForecastFillsTheOutputType()
    {
        var model = _ml.Forecasting.ForecastByRnn(Small())
            .Append(_ml.Transforms.CustomMapping<ForecastVector, ForecastPeak>((input, output) => output.Peak = input.Forecast.Max(), contractName: null))
            .Fit(View(_ml, _series[..80]));
        var untyped = model.CreateForecastingEngine();
        using var typed = model.CreateForecastingEngine<Observation, ForecastPeak>(_ml);

        for (int t = 80; t < 84; t++)
        {
            untyped.Observe(_series[t]);
            Assert.Equal(untyped.Predict().Forecast.Max(), typed.Predict(new Observation { Value = _series[t] }).Peak);
        }
    }

    [Fact]
    public void WithStagesAfterTheForecasterAForecastHasTheWholeHorizonAndAMissingMemberIsNamed()
    {
        var model = _ml.Forecasting.ForecastByRnn(Small()).Append(_ml.Transforms.CopyColumns("Next", "Forecast")).Fit(View(_ml, _series[..80]));
        using var typed = model.CreateForecastingEngine<Observation, ForecastAndCopies>(_ml, ignoreMissingColumns: true);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => typed.Predict(new Observation { Value = _series[80] }, horizon: 2));
        Assert.Equal("horizon", ex.ParamName);
        Assert.Contains("model's horizon (4)", ex.Message);
        Assert.Equal(80, typed.ObservationCount);   // refused before observing

        var missing = Assert.Throws<ArgumentException>(() => model.CreateForecastingEngine<Observation, ForecastAndCopies>(_ml));
        Assert.Contains("Member 'Seen' of ForecastAndCopies names column 'Seen'", missing.Message);
        Assert.Contains("1 stage after it", missing.Message);
        Assert.Contains("Next", missing.Message);
    }

    [Fact]
    public void TypedEngineTakesKnownFutureCovariatesAsTheUntypedEngineDoes()
    {
        float[] promo = _series.Select((_, t) => (float)(t % 5 == 0 ? 1 : 0)).ToArray();
        var options = Small();
        options.KnownFutureColumnNames = [nameof(SeriesRow.Promo)];
        var model = _ml.Forecasting.ForecastByRnn(options).Fit(View(_ml, _series[..80], promo[..80]));
        var untyped = model.CreateForecastingEngine();
        using var typed = model.CreateForecastingEngine<ObservationWithPromo, ForecastOnly>(_ml);

        var ahead = new Dictionary<string, float[]> { ["Promo"] = promo[80..84] };
        Assert.Equal(untyped.Predict(ahead).Forecast, typed.Predict(ahead).Forecast);
        for (int t = 80; t < 85; t++)
        {
            untyped.Observe(_series[t], [promo[t]]);
            var next = new Dictionary<string, float[]> { ["Promo"] = promo[(t + 1)..(t + 5)] };
            var example = new ObservationWithPromo { Value = _series[t], Promo = promo[t] };
            Assert.Equal(untyped.Predict(next).Forecast, typed.Predict(example, next).Forecast);
        }
        Assert.Equal(85, typed.ObservationCount);
    }

    [Fact]
    public void MissingOrBadKnownFutureCovariatesAreRefusedBeforeObserving()
    {
        float[] promo = _series.Select((_, t) => (float)(t % 5 == 0 ? 1 : 0)).ToArray();
        var options = Small();
        options.KnownFutureColumnNames = [nameof(SeriesRow.Promo)];
        var model = _ml.Forecasting.ForecastByRnn(options).Fit(View(_ml, _series[..80], promo[..80]));
        using var typed = model.CreateForecastingEngine<ObservationWithPromo, ForecastOnly>(_ml);
        var example = new ObservationWithPromo { Value = _series[80], Promo = promo[80] };

        var none = Assert.Throws<ArgumentException>(() => typed.Predict(example));
        var shortOne = Assert.Throws<ArgumentException>(() => typed.Predict(example, new Dictionary<string, float[]> { ["Promo"] = [0f, 1f] }));

        Assert.Contains("'Promo'", none.Message);
        Assert.Contains("none were given", none.Message);
        Assert.Contains("Known-future column 'Promo' has 2 values", shortOne.Message);
        Assert.Equal(80, typed.ObservationCount);
    }

    [Fact]
    public void APanelsTypedEngineTakesEachSeriesKnownFutureCovariates()
    {
        var rows = Retail(3, 100);
        var o = FastPanel();
        o.KnownFutureColumnNames = ["Promo"];
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows.Where(r => (r.Date - rows[0].Date).Days < 90)));
        using var typed = model.CreateForecastingEngine<SaleWithPromo, SaleForecastOnly>(_ml);
        var untyped = model.CreateForecastingEngine();

        var days = rows.Where(r => r.Product == "P00001").ToArray();
        for (int d = 90; d < 93; d++)
        {
            var r = days[d];
            var ahead = Promotions(rows, "P00001", d + 1, 7);
            var f = typed.Predict(new SaleWithPromo { Product = r.Product, Sales = r.Sales, Promo = r.Promo }, ahead);
            untyped.Observe(r.Product, r.Sales, [r.Promo]);
            Assert.True(SameBits(untyped.Predict(r.Product, futureCovariates: ahead).Forecast, f.Forecast), $"day {d}");
        }
    }
}

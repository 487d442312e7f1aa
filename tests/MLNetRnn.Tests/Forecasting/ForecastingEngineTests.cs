using Microsoft.ML;
using Microsoft.ML.Data;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

public sealed class Observation
{
    public float Value { get; set; }
}

public sealed class ObservationWithPromo
{
    public float Value { get; set; }

    public float Promo { get; set; }
}

/// <summary>The series as doubles: a pipeline converts it before the forecaster.</summary>
public sealed class RawObservation
{
    public double Raw { get; set; }
}

public sealed class ForecastWithBounds
{
    public float[] Forecast { get; set; } = [];

    public float[] Lower { get; set; } = [];

    [ColumnName("Upper")]
    public float[] High = [];
}

public sealed class ForecastOnly
{
    public float[] Forecast { get; set; } = [];
}

public sealed class ForecastAsSingle
{
    public float Forecast { get; set; }
}

public sealed class ForecastWithExtra
{
    public float[] Forecast { get; set; } = [];

    public float[] Score { get; set; } = [];
}

public sealed class NoForecastMember
{
    public float[] Lower { get; set; } = [];
}

public sealed class ValueAsDouble
{
    public double Value { get; set; }
}

public class ForecastingEngineTests
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly float[] _series = Seasonal(90, seed: 4);

    /// <summary>A small, quick forecaster for the engine tests (window 12, horizon 4, one layer of 6, 15 epochs).</summary>
    internal static RnnForecastingOptions Small()
    {
        var o = Fast(window: 12, horizon: 4);
        o.Epochs = 15;
        o.HiddenSizes = [6];
        return o;
    }

    private RnnForecastingTransformer Fit(RnnForecastingOptions? options = null, float[]? promo = null)
        => _ml.Forecasting.ForecastByRnn(options ?? Small()).Fit(View(_ml, _series[..80], promo?[..80]));

    [Fact]
    public void TypedPredictWithExampleObservesThenForecastsLikeTheUntypedEngine()
    {
        var model = Fit();
        var untyped = model.CreateForecastingEngine();
        using var typed = model.CreateForecastingEngine<Observation, ForecastWithBounds>(_ml);

        var first = typed.Predict();
        Assert.Equal(untyped.Predict().Forecast, first.Forecast);
        Assert.Equal(80, typed.ObservationCount);     // forecasting alone observes nothing

        for (int t = 80; t < 90; t++)
        {
            untyped.Observe(_series[t]);
            var expected = untyped.Predict();
            var actual = typed.Predict(new Observation { Value = _series[t] });
            Assert.Equal(expected.Forecast, actual.Forecast);
            Assert.Equal(expected.LowerBound, actual.Lower);
            Assert.Equal(expected.UpperBound, actual.High);   // [ColumnName("Upper")] on a field
        }
        Assert.Equal(90, typed.ObservationCount);
    }

    [Fact]
    public void TypedPredictTakesHorizonAndConfidenceLevel()
    {
        var model = Fit();
        using var typed = model.CreateForecastingEngine<Observation, ForecastWithBounds>(_ml);
        var full = typed.Predict();
        var two = typed.Predict(horizon: 2, confidenceLevel: 0.5f);
        Assert.Equal(full.Forecast[..2], two.Forecast);
        Assert.True(two.High[0] - two.Lower[0] <= full.High[0] - full.Lower[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => typed.Predict(new Observation { Value = 1 }, horizon: 5));
        Assert.Equal(80, typed.ObservationCount);   // a refused call observes nothing

        typed.Predict(new Observation { Value = _series[80] }, ref full, horizon: 3);
        Assert.Equal(3, full.Forecast.Length);
        Assert.Equal(81, typed.ObservationCount);
    }

    [Fact]
    public void TypedEngineFeedsCovariatesByName()
    {
        float[] promo = _series.Select((_, t) => (float)(t % 3 == 0 ? 1 : 0)).ToArray();
        var options = Small();
        options.CovariateColumnNames = [nameof(SeriesRow.Promo)];
        var model = Fit(options, promo);
        var untyped = model.CreateForecastingEngine();
        using var typed = model.CreateForecastingEngine<ObservationWithPromo, ForecastOnly>(_ml);
        for (int t = 80; t < 90; t++)
        {
            untyped.Observe(_series[t], [promo[t]]);
            Assert.Equal(untyped.Predict().Forecast, typed.Predict(new ObservationWithPromo { Value = _series[t], Promo = promo[t] }).Forecast);
        }
    }

    [Fact]
    public void TypedEngineRunsTheStagesBeforeTheForecaster()
    {
        var raw = _ml.Data.LoadFromEnumerable(_series[..80].Select(v => new RawObservation { Raw = v }));
        var pipeline = _ml.Transforms.Conversion.ConvertType(nameof(SeriesRow.Value), nameof(RawObservation.Raw), DataKind.Single)
            .Append(_ml.Forecasting.ForecastByRnn(Small()));
        var model = pipeline.Fit(raw);
        var untyped = model.CreateForecastingEngine();
        using var typed = model.CreateForecastingEngine<RawObservation, ForecastOnly>(_ml);
        for (int t = 80; t < 85; t++)
        {
            untyped.Observe(_series[t]);
            Assert.Equal(untyped.Predict().Forecast, typed.Predict(new RawObservation { Raw = _series[t] }).Forecast);
        }
    }

    [Fact]
    public void TypedEngineNamesTheMemberThatDoesNotFit()
    {
        var model = Fit();
        var missing = Assert.Throws<ArgumentException>(() => model.CreateForecastingEngine<Observation, NoForecastMember>(_ml));
        Assert.Contains("forecast column 'Forecast'", missing.Message);
        var mistyped = Assert.Throws<ArgumentException>(() => model.CreateForecastingEngine<Observation, ForecastAsSingle>(_ml));
        Assert.Contains("Member 'Forecast' of ForecastAsSingle", mistyped.Message);
        Assert.Contains("float[]", mistyped.Message);
        var extra = Assert.Throws<ArgumentException>(() => model.CreateForecastingEngine<Observation, ForecastWithExtra>(_ml));
        Assert.Contains("Member 'Score' of ForecastWithExtra", extra.Message);
        using (model.CreateForecastingEngine<Observation, ForecastWithExtra>(_ml, ignoreMissingColumns: true)) { }

        var noInput = Assert.Throws<ArgumentException>(() => model.CreateForecastingEngine<RawObservation, ForecastOnly>(_ml));
        Assert.Contains("RawObservation has no member for the forecaster's input column 'Value'", noInput.Message);
        var doubleInput = Assert.Throws<ArgumentException>(() => model.CreateForecastingEngine<ValueAsDouble, ForecastOnly>(_ml));
        Assert.Contains("Member 'Value' of ValueAsDouble", doubleInput.Message);
        Assert.Contains("Single", doubleInput.Message);
    }

    [Fact]
    public void CheckPointToStreamContinuesWhereTheEngineStopped()
    {
        var model = Fit();
        using var typed = model.CreateForecastingEngine<Observation, ForecastOnly>(_ml);
        for (int t = 80; t < 85; t++) typed.Observe(new Observation { Value = _series[t] });
        using var stream = new MemoryStream();
        typed.CheckPoint(_ml, stream);

        stream.Position = 0;
        var loaded = _ml.Model.Load(stream, out var schema);
        Assert.Equal(nameof(Observation.Value), Assert.Single(schema!).Name);   // TSrc's schema is saved with it
        using var restored = loaded.CreateForecastingEngine<Observation, ForecastOnly>(_ml);
        Assert.Equal(85, restored.ObservationCount);
        Assert.Equal(typed.Predict(new Observation { Value = _series[85] }).Forecast, restored.Predict(new Observation { Value = _series[85] }).Forecast);

        // The untyped engine, in a pipeline: same through a stream as through a file.
        var pipeline = _ml.Transforms.CopyColumns("Copy", "Value").Append(_ml.Forecasting.ForecastByRnn(Small())).Fit(View(_ml, _series[..80]));
        var engine = pipeline.CreateForecastingEngine();
        engine.Observe(_series[80]);
        using var chainStream = new MemoryStream();
        engine.CheckPoint(_ml, chainStream);
        chainStream.Position = 0;
        var again = _ml.Model.Load(chainStream, out _).CreateForecastingEngine();
        Assert.Equal(81, again.ObservationCount);
        Assert.Equal(engine.Predict().Forecast, again.Predict().Forecast);
    }

    [Fact]
    public void CreatePredictionEngineNamesTheForecastingEngine()
    {
        var model = Fit();
        var alone = Assert.Throws<InvalidOperationException>(() => _ml.Model.CreatePredictionEngine<Observation, ForecastOnly>(model));
        Assert.Contains("CreateForecastingEngine", alone.Message);

        var pipeline = _ml.Transforms.CopyColumns("Copy", "Value").Append(_ml.Forecasting.ForecastByRnn(Small())).Fit(View(_ml, _series[..80]));
        var inChain = Assert.Throws<InvalidOperationException>(() => _ml.Model.CreatePredictionEngine<Observation, ForecastOnly>(pipeline));
        Assert.Contains("CreateForecastingEngine", inChain.Message);
    }
}

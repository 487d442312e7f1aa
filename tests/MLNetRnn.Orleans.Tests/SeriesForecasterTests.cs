using MLNetRnn.Orleans.Tests.Support;

namespace MLNetRnn.Orleans.Tests;

/// <summary>
/// RnnSeriesForecaster, the engine split so a service keeps each series' state: fed the same observations, a state
/// forecasts what the single-process engine forecasts, bit for bit, also after its bytes were written and read back
/// (a grain deactivated and activated elsewhere), for series of the model and series started cold.
/// </summary>
public sealed class SeriesForecasterTests
{
    private static bool Same(RnnForecast a, RnnForecast b)
        => a.Forecast.AsSpan().SequenceEqual(b.Forecast) && a.LowerBound.AsSpan().SequenceEqual(b.LowerBound)
           && a.UpperBound.AsSpan().SequenceEqual(b.UpperBound) && a.Quantiles.AsSpan().SequenceEqual(b.Quantiles);

    [Fact]
    public void StatesThroughTheirBytesForecastAsTheEngineBitForBit()
    {
        var engine = TestModels.V1.CreateForecastingEngine();
        var forecaster = new RnnSeriesForecaster(TestModels.V1);
        string[] ids = [TestModels.Trained[0], TestModels.Trained[7], .. TestModels.Cold];
        var states = ids.ToDictionary(id => id, forecaster.CreateState);
        // The cold series' history first (they are not in the model), then days 100–119 of every series.
        foreach (string id in TestModels.Cold)
            for (int day = 0; day < TestModels.FirstEnd; day++)
            {
                var o = TestModels.Observation(id, day);
                engine.Observe(id, o.Value, o.Covariates);
                forecaster.Observe(states[id], o.Value, o.Covariates);
            }
        for (int day = TestModels.FirstEnd; day < TestModels.FirstEnd + 20; day++)
            foreach (string id in ids)
            {
                var o = TestModels.Observation(id, day);
                engine.Observe(id, o.Value, o.Covariates);
                forecaster.Observe(states[id], o.Value, o.Covariates);
                var expected = engine.Predict(id, futureCovariates: TestModels.Future(id, day));
                var got = forecaster.Predict(states[id], futureCovariates: TestModels.Future(id, day));
                Assert.True(Same(expected, got), $"series {id}, day {day}: the state's forecast differs from the engine's");
                Assert.NotEmpty(got.Quantiles);
                // Every few days the state goes through its bytes, as a grain moving to another silo would.
                if (day % 3 == 0) states[id] = forecaster.ReadState(states[id].ToBytes());
            }
        Assert.All(TestModels.Cold, id => Assert.True(states[id].IsStarted));
    }

    [Fact]
    public void AColdStartedSeriesReadBackKeepsTheFitItStartedWith()
    {
        var forecaster = new RnnSeriesForecaster(TestModels.V1);
        string id = TestModels.Cold[0];
        var state = forecaster.CreateState(id);
        for (int day = 0; day < 40; day++) forecaster.Observe(state, TestModels.Observation(id, day).Value, [TestModels.Of(id)[day].Promo]);
        var first = forecaster.Predict(state, futureCovariates: TestModels.Future(id, 39));   // starts it on 40 values
        for (int day = 40; day < 60; day++) forecaster.Observe(state, TestModels.Observation(id, day).Value, [TestModels.Of(id)[day].Promo]);
        var read = forecaster.ReadState(state.ToBytes());
        Assert.True(Same(forecaster.Predict(state, futureCovariates: TestModels.Future(id, 59)), forecaster.Predict(read, futureCovariates: TestModels.Future(id, 59))));
        Assert.NotEqual(first.Forecast, forecaster.Predict(read, futureCovariates: TestModels.Future(id, 59)).Forecast);
        // A series started on 60 values would have another fit: the bytes kept the 40 it started from.
        var late = forecaster.CreateState(id);
        for (int day = 0; day < 60; day++) forecaster.Observe(late, TestModels.Observation(id, day).Value, [TestModels.Of(id)[day].Promo]);
        Assert.False(Same(forecaster.Predict(late, futureCovariates: TestModels.Future(id, 59)), forecaster.Predict(read, futureCovariates: TestModels.Future(id, 59))));
    }

    [Fact]
    public void ARefusedObservationLeavesTheStateAsItWas()
    {
        var forecaster = new RnnSeriesForecaster(TestModels.V1);
        var state = forecaster.CreateState(TestModels.Trained[1]);
        byte[] before = state.ToBytes();
        var nan = Assert.Throws<ArgumentException>(() => forecaster.Observe(state, float.NaN, [0f]));
        Assert.Contains("finite", nan.Message);
        var count = Assert.Throws<ArgumentException>(() => forecaster.Observe(state, 5f, [0f, 1f]));
        Assert.Contains("covariate", count.Message);
        Assert.Equal(before, state.ToBytes());
        // A new series whose first observation is refused is still unknown.
        var fresh = forecaster.CreateState("new");
        Assert.Throws<ArgumentException>(() => forecaster.Observe(fresh, float.PositiveInfinity, [0f]));
        Assert.Equal(0, fresh.ObservationCount);
        Assert.Contains("unknown", Assert.Throws<InvalidOperationException>(() => forecaster.Predict(fresh, futureCovariates: TestModels.Future("P00000", 0))).Message);
    }

    [Fact]
    public void BytesThatAreNotAWholeStateAreRefused()
    {
        var forecaster = new RnnSeriesForecaster(TestModels.V1);
        byte[] bytes = forecaster.CreateState(TestModels.Trained[2]).ToBytes();
        Assert.Contains("end early", Assert.Throws<InvalidDataException>(() => forecaster.ReadState(bytes[..^4])).Message);
        Assert.Contains("follow", Assert.Throws<InvalidDataException>(() => forecaster.ReadState([.. bytes, 0])).Message);
        Assert.Equal(bytes, forecaster.ReadState(bytes).ToBytes());
    }
}

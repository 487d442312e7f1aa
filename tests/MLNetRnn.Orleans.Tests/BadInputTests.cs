using MLNetRnn.Orleans.Models;
using MLNetRnn.Orleans.Tests.Support;

namespace MLNetRnn.Orleans.Tests;

/// <summary>
/// Bad input at the service boundary gets a clear error and changes no state: not the stored row (its version is
/// what it was), not the live state (the next forecast is what it would have been).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BadInputTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    private const string Id = "P00004";

    /// <summary>A deployment whose series <see cref="Id"/> has observed two days; its grain, stored version and forecast.</summary>
    private async Task<(string Deployment, ISeriesGrain Grain, long Version, SeriesForecast Forecast)> Observed()
    {
        string deployment = "b" + Guid.NewGuid().ToString("N")[..8];
        await Grains.GetGrain<IDeploymentGrain>(deployment).Deploy(TestModels.Name, "v1");
        var grain = Grains.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, Id));
        await grain.Observe(TestModels.Observation(Id, TestModels.FirstEnd));
        await grain.Observe(TestModels.Observation(Id, TestModels.FirstEnd + 1));
        long version = PostgresServer.StoredVersion(fixture.ServiceId, SeriesKey.Of(deployment, Id)) ?? throw new InvalidOperationException("nothing stored");
        return (deployment, grain, version, await grain.Predict(Request()));
    }

    private static ForecastRequest Request() => new(FutureCovariates: TestModels.Future(Id, TestModels.FirstEnd + 1));

    private async Task Unchanged(string deployment, ISeriesGrain grain, long version, SeriesForecast forecast)
    {
        Assert.Equal(version, PostgresServer.StoredVersion(fixture.ServiceId, SeriesKey.Of(deployment, Id)));
        var again = await grain.Predict(Request());
        Assert.Equal(forecast.ObservationCount, again.ObservationCount);
        Assert.True(forecast.Forecast.AsSpan().SequenceEqual(again.Forecast), "the forecast changed");
    }

    [PostgresFact]
    public async Task ANaNValueIsRefusedAndChangesNothing()
    {
        var (deployment, grain, version, forecast) = await Observed();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => grain.Observe(new Observation(float.NaN, [0f])));
        Assert.Contains("must be finite", error.Message);
        Assert.Contains(Id, error.Message);
        // Within a batch too: none of it is kept.
        var batch = await Assert.ThrowsAsync<ArgumentException>(() => grain.ObserveMany([new Observation(5f, [0f]), new Observation(float.NaN, [0f])]));
        Assert.Contains("Observation 2 of 2", batch.Message);
        await Unchanged(deployment, grain, version, forecast);
    }

    [PostgresFact]
    public async Task AWrongCovariateCountIsRefusedAndChangesNothing()
    {
        var (deployment, grain, version, forecast) = await Observed();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => grain.Observe(new Observation(5f, [0f, 1f])));
        Assert.Contains("1 covariate column (Promo); got 2", error.Message);
        // Observe-and-forecast with a bad forecast request keeps no observation either.
        var future = await Assert.ThrowsAsync<ArgumentException>(() => grain.ObserveAndPredict(new Observation(5f, [0f]), new ForecastRequest(FutureCovariates: new() { ["Promo"] = [1f] })));
        Assert.Contains("'Promo' has 1 value for the forecast", future.Message);
        await Unchanged(deployment, grain, version, forecast);
    }

    [PostgresFact]
    public async Task AnUnknownSeriesIsRefusedAndNothingIsStored()
    {
        string deployment = "b" + Guid.NewGuid().ToString("N")[..8];
        await Grains.GetGrain<IDeploymentGrain>(deployment).Deploy(TestModels.Name, "v1");
        var grain = Grains.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, "P99999"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Predict(Request()));
        Assert.Contains("Series 'P99999' is unknown", error.Message);
        Assert.Null(PostgresServer.StoredVersion(fixture.ServiceId, SeriesKey.Of(deployment, "P99999")));
        // A deployment nobody made is refused too.
        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => Grains.GetGrain<ISeriesGrain>(SeriesKey.Of("nodeployment", Id)).Predict(Request()));
        Assert.Contains("Nothing is deployed under 'nodeployment'", none.Message);
    }

    [PostgresFact]
    public async Task AModelVersionThatDoesNotExistIsRefusedAndTheMapStays()
    {
        var (deployment, grain, version, forecast) = await Observed();
        var deployments = Grains.GetGrain<IDeploymentGrain>(deployment);
        var before = await deployments.GetMap();
        var error = await Assert.ThrowsAsync<ModelNotFoundException>(() => deployments.SetVersion(0, "v9"));
        Assert.Contains("no version 'v9' of model 'retail'", error.Message);
        Assert.Contains("'v1', 'v2'", error.Message);
        var missing = await Assert.ThrowsAsync<ModelNotFoundException>(() => Grains.GetGrain<IDeploymentGrain>("b" + Guid.NewGuid().ToString("N")[..8]).Deploy("nomodel", "v1"));
        Assert.Contains("no model 'nomodel'", missing.Message);
        var after = await deployments.GetMap();
        Assert.Equal(before!.Revision, after!.Revision);
        Assert.Equal(before.Shards, after.Shards);
        Assert.Equal("retail@v1", (await grain.GetStatus()).Model);
        await Unchanged(deployment, grain, version, forecast);
    }
}

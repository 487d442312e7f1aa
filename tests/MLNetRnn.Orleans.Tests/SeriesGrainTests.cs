using MLNetRnn.Orleans.Models;
using MLNetRnn.Orleans.Tests.Support;

namespace MLNetRnn.Orleans.Tests;

/// <summary>
/// Series grains on three silos with their state in PostgreSQL: they forecast what the single-process engine fed the
/// same observations forecasts, bit for bit, across a silo killed mid-stream and across a swap of the model version;
/// each silo loads a model once.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SeriesGrainTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    private async Task<string> Deploy(string version = "v1")
    {
        string deployment = "d" + Guid.NewGuid().ToString("N")[..8];
        await Grains.GetGrain<IDeploymentGrain>(deployment).Deploy(TestModels.Name, version);
        return deployment;
    }

    private ISeriesGrain Series(string deployment, string id) => Grains.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, id));

    /// <summary>Streams days [from, to) of every series into the grains and the engine, comparing each forecast.</summary>
    private async Task Stream(string deployment, RnnForecastingEngine engine, string[] ids, int from, int to)
    {
        for (int day = from; day < to; day++)
        {
            var calls = ids.Select(id => Series(deployment, id).ObserveAndPredict(TestModels.Observation(id, day), new ForecastRequest(FutureCovariates: TestModels.Future(id, day)))).ToArray();
            var got = await Task.WhenAll(calls);
            for (int i = 0; i < ids.Length; i++)
            {
                var o = TestModels.Observation(ids[i], day);
                engine.Observe(ids[i], o.Value, o.Covariates);
                var expected = engine.Predict(ids[i], futureCovariates: TestModels.Future(ids[i], day));
                Assert.True(TestModels.Same(expected, got[i]), $"series {ids[i]}, day {day}: the grain's forecast differs from the engine's");
            }
        }
    }

    private async Task History(string deployment, RnnForecastingEngine engine, string[] ids)
    {
        foreach (string id in ids)
        {
            var history = Enumerable.Range(0, TestModels.FirstEnd).Select(d => TestModels.Observation(id, d)).ToArray();
            await Series(deployment, id).ObserveMany(history);
            foreach (var o in history) engine.Observe(id, o.Value, o.Covariates);
        }
    }

    [PostgresFact]
    public async Task ForecastsEqualTheEngineBitForBitAcrossAKilledSilo()
    {
        string deployment = await Deploy();
        var engine = TestModels.V1.CreateForecastingEngine();
        string[] ids = [.. TestModels.Trained, .. TestModels.Cold];
        await History(deployment, engine, TestModels.Cold);
        await Stream(deployment, engine, ids, TestModels.FirstEnd, TestModels.FirstEnd + 6);

        // Kill (no goodbye, no deactivation) a silo that holds some of the series; their grains come back elsewhere
        // from the store and go on as if nothing happened.
        var statuses = await Task.WhenAll(ids.Select(id => Series(deployment, id).GetStatus()));
        var victim = fixture.Cluster.GetActiveSilos().Where(s => s != fixture.Cluster.Primary)
            .OrderByDescending(s => statuses.Count(x => x.Silo == s.SiloAddress.ToString())).First();
        int onVictim = statuses.Count(x => x.Silo == victim.SiloAddress.ToString());
        await fixture.Cluster.KillSiloAsync(victim);
        await fixture.Cluster.StartAdditionalSiloAsync();
        await Stream(deployment, engine, ids, TestModels.FirstEnd + 6, TestModels.FirstEnd + 12);
        var after = await Task.WhenAll(ids.Select(id => Series(deployment, id).GetStatus()));
        Assert.All(after, s => Assert.Equal(TestModels.FirstEnd + 12, s.ObservationCount));
        Assert.True(onVictim > 0, $"no series lived on the killed silo {victim.SiloAddress} (they lived on {string.Join(", ", statuses.Select(x => x.Silo).Distinct())}), so nothing was tested");
    }

    [PostgresFact]
    public async Task ASwapToANewVersionKeepsTheObservationsAndForecastsAsThatVersionsEngine()
    {
        string deployment = await Deploy("v1");
        string[] ids = TestModels.Trained[..4];
        var v1 = TestModels.V1.CreateForecastingEngine();
        await Stream(deployment, v1, ids, TestModels.FirstEnd, TestModels.FirstEnd + 8);

        // v2 was fitted on five days more: it has seen days 100–104; the grains replay 105–107 from their logs.
        await Grains.GetGrain<IDeploymentGrain>(deployment).SetVersion(0, "v2");
        var v2 = TestModels.V2Through(ids, TestModels.FirstEnd + 8);
        foreach (string id in ids)
        {
            var status = await Series(deployment, id).GetStatus();
            Assert.Equal("retail@v2", status.Model);
            Assert.Equal(TestModels.FirstEnd + 8, status.ObservationCount);
            var got = await Series(deployment, id).Predict(new ForecastRequest(FutureCovariates: TestModels.Future(id, TestModels.FirstEnd + 7)));
            Assert.True(TestModels.Same(v2.Predict(id, futureCovariates: TestModels.Future(id, TestModels.FirstEnd + 7)), got), $"series {id} after the swap");
        }
        await Stream(deployment, v2, ids, TestModels.FirstEnd + 8, TestModels.FirstEnd + 11);
    }

    [PostgresFact]
    public async Task EachSiloLoadsAModelOnceHoweverManySeriesUseIt()
    {
        // A version no other test uses, so every load of it is this test's.
        string version = "once" + Guid.NewGuid().ToString("N")[..8];
        var store = new FileSystemModelStore(TestModels.StoreRoot);
        await store.SaveAsync(TestModels.Name, version, await store.ReadAsync(TestModels.Name, "v1"));
        string deployment = await Deploy(version);
        string[] ids = TestModels.Trained;
        await Task.WhenAll(ids.Select(id => Series(deployment, id).Predict(new ForecastRequest(FutureCovariates: TestModels.Future(id, TestModels.FirstEnd - 1)))));
        await Task.WhenAll(ids.Select(id => Series(deployment, id).Predict(new ForecastRequest(FutureCovariates: TestModels.Future(id, TestModels.FirstEnd - 1)))));
        var silos = (await Task.WhenAll(ids.Select(id => Series(deployment, id).GetStatus()))).Select(s => s.Silo).Distinct().Count();
        // Placement decides how many silos the series land on (usually two or three; on a loaded machine sometimes one):
        // whichever they are, each loads the version once for all the series it holds, where ten loads would fail below.
        var loads = fixture.LoadedModelsOfEachSilo().Select(m => m.LoadCount(TestModels.Name, version)).ToArray();
        Assert.All(loads, n => Assert.InRange(n, 0, 1));
        Assert.True(loads.Sum() >= silos, $"loads per silo {string.Join(", ", loads)} for series on {silos} silos");
    }

    [PostgresFact]
    public async Task PredictManyGivesEachSeriesForecastAndSaysWhyOthersHaveNone()
    {
        string deployment = await Deploy();
        var request = new ForecastRequest(FutureCovariates: TestModels.Future("P00000", TestModels.FirstEnd - 1));
        var batch = await Grains.GetGrain<IForecastGateway>(0).PredictMany(deployment, [.. TestModels.Trained[..3], "nobody"], request);
        Assert.Equal(TestModels.Trained[..3], batch.Forecasts.Select(f => f.SeriesId).Order());
        var error = Assert.Single(batch.Errors);
        Assert.Equal("nobody", error.SeriesId);
        Assert.Contains("unknown", error.Error);
        var engine = TestModels.V1.CreateForecastingEngine();
        foreach (var f in batch.Forecasts) Assert.True(TestModels.Same(engine.Predict(f.SeriesId, futureCovariates: request.FutureCovariates), f));
        Assert.All(batch.Forecasts, f => Assert.Equal([0.1f, 0.5f, 0.9f], f.QuantileLevels));
    }
}

using MLNetRnn.Orleans.Tests.Support;

namespace MLNetRnn.Orleans.Tests;

/// <summary>
/// A grouped deployment: the series kept in group grains, one call and one write per group. They forecast what the
/// single-process engine fed the same observations forecasts, bit for bit, across a silo killed mid-stream and a swap
/// of the model version; bad input for one series is refused for it alone; a series has one home.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GroupGrainTests(ClusterFixture fixture)
{
    private const int Groups = 3;

    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    private async Task<DeploymentMap> Deploy(string version = "v1", int groups = Groups)
        => await Grains.GetGrain<IDeploymentGrain>("g" + Guid.NewGuid().ToString("N")[..8]).DeployGrouped(TestModels.Name, version, groups);

    private ISeriesGroupGrain Group(DeploymentMap map, int group) => Grains.GetGrain<ISeriesGroupGrain>(SeriesGroups.Key(map.Deployment, group));

    private static ForecastRequest Request(string id, int day) => new(FutureCovariates: TestModels.Future(id, day));

    /// <summary>Streams days [from, to) of the series, one call per group per day, comparing each forecast with the engine's.</summary>
    private async Task Stream(DeploymentMap map, RnnForecastingEngine engine, string[] ids, int from, int to)
    {
        // Each series has its own known-future promotions: its item carries its request.
        for (int day = from; day < to; day++)
        {
            var byGroup = ids.GroupBy(map.GroupOf).ToArray();
            var batches = await Task.WhenAll(byGroup.Select(g => Group(map, g.Key).ObserveAndPredict(
                [.. g.Select(id => new SeriesObservation(id, TestModels.Observation(id, day), Request(id, day)))])));
            Assert.All(batches, b => Assert.Empty(b.Errors));
            var got = batches.SelectMany(b => b.Forecasts).ToDictionary(f => f.SeriesId);
            foreach (string id in ids)
            {
                var o = TestModels.Observation(id, day);
                engine.Observe(id, o.Value, o.Covariates);
                Assert.True(TestModels.Same(engine.Predict(id, futureCovariates: TestModels.Future(id, day)), got[id]), $"series {id}, day {day}: the group's forecast differs from the engine's");
            }
        }
    }

    [PostgresFact]
    public async Task ForecastsEqualTheEngineBitForBitAcrossAKilledSilo()
    {
        // Eight groups, so that some of them (not all on the primary, which is never killed) live on the victim.
        var map = await Deploy(groups: 8);
        var engine = TestModels.V1.CreateForecastingEngine();
        string[] ids = [.. TestModels.Trained, .. TestModels.Cold];
        Assert.True(ids.Select(map.GroupOf).Distinct().Count() > 1, "the test series fall in one group: nothing tests the routing");
        // The cold series' history: several values of a series in one call, in order.
        foreach (var g in TestModels.Cold.GroupBy(map.GroupOf))
        {
            var history = g.SelectMany(id => Enumerable.Range(0, TestModels.FirstEnd).Select(d => new SeriesObservation(id, TestModels.Observation(id, d)))).ToArray();
            Assert.Empty(await Group(map, g.Key).Observe(history));
            foreach (var item in history) engine.Observe(item.SeriesId, item.Observation.Value, item.Observation.Covariates);
        }
        await Stream(map, engine, ids, TestModels.FirstEnd, TestModels.FirstEnd + 5);

        var silos = await Task.WhenAll(ids.GroupBy(map.GroupOf).Select(async g => (await Group(map, g.Key).GetStatus(g.First())).Silo));
        var victim = fixture.Cluster.GetActiveSilos().Where(s => s != fixture.Cluster.Primary)
            .OrderByDescending(s => silos.Count(x => x == s.SiloAddress.ToString())).First();
        int onVictim = silos.Count(x => x == victim.SiloAddress.ToString());
        await fixture.Cluster.KillSiloAsync(victim);
        await fixture.Cluster.StartAdditionalSiloAsync();
        await Stream(map, engine, ids, TestModels.FirstEnd + 5, TestModels.FirstEnd + 10);
        foreach (string id in ids) Assert.Equal(TestModels.FirstEnd + 10, (await Group(map, map.GroupOf(id)).GetStatus(id)).ObservationCount);
        Assert.True(onVictim > 0, $"no group lived on the killed silo {victim.SiloAddress}, so nothing was tested");
    }

    [PostgresFact]
    public async Task ASwapToANewVersionKeepsTheObservationsAndForecastsAsThatVersionsEngine()
    {
        var map = await Deploy("v1");
        string[] ids = TestModels.Trained[..6];
        await Stream(map, TestModels.V1.CreateForecastingEngine(), ids, TestModels.FirstEnd, TestModels.FirstEnd + 8);
        await Grains.GetGrain<IDeploymentGrain>(map.Deployment).SetVersion(0, "v2");
        var v2 = TestModels.V2Through(ids, TestModels.FirstEnd + 8);
        foreach (string id in ids)
        {
            var batch = await Group(map, map.GroupOf(id)).Predict([id], Request(id, TestModels.FirstEnd + 7));
            Assert.Empty(batch.Errors);
            var f = Assert.Single(batch.Forecasts);
            Assert.Equal("retail@v2", f.Model);
            Assert.True(TestModels.Same(v2.Predict(id, futureCovariates: TestModels.Future(id, TestModels.FirstEnd + 7)), f), $"series {id} after the swap");
        }
        await Stream(map, v2, ids, TestModels.FirstEnd + 8, TestModels.FirstEnd + 10);
    }

    [PostgresFact]
    public async Task ABadObservationIsRefusedForItsSeriesAloneAndTheOthersGoOn()
    {
        var map = await Deploy();
        var (bad, good) = TestModels.Trained.GroupBy(map.GroupOf).Where(g => g.Count() >= 2).Select(g => (g.First(), g.Skip(1).First())).First();
        var group = Group(map, map.GroupOf(bad));
        int day = TestModels.FirstEnd;
        await group.Observe([new SeriesObservation(bad, TestModels.Observation(bad, day)), new SeriesObservation(good, TestModels.Observation(good, day))]);
        string key = SeriesGroups.Key(map.Deployment, map.GroupOf(bad));
        long? version = PostgresServer.StoredVersion(fixture.ServiceId, "seriesgroup", key, "group");
        Assert.NotNull(version);
        var before = (await group.Predict([bad], Request(bad, day))).Forecasts.Single();

        // A NaN for one series, a good value for another: the bad series keeps nothing (neither its first, good, value
        // nor the NaN after it), the good one is observed and forecast.
        var batch = await group.ObserveAndPredict([new SeriesObservation(bad, TestModels.Observation(bad, day + 1)),
            new SeriesObservation(good, TestModels.Observation(good, day + 1), Request(good, day + 1)), new SeriesObservation(bad, new Observation(float.NaN, [0f]))]);
        var error = Assert.Single(batch.Errors);
        Assert.Equal(bad, error.SeriesId);
        Assert.Contains("Observation 2 of 2", error.Error);
        Assert.Contains("must be finite", error.Error);
        Assert.Equal(good, Assert.Single(batch.Forecasts).SeriesId);
        Assert.Equal(TestModels.FirstEnd + 2, batch.Forecasts[0].ObservationCount);
        Assert.Equal(version + 1, PostgresServer.StoredVersion(fixture.ServiceId, "seriesgroup", key, "group"));
        var after = (await group.Predict([bad], Request(bad, day))).Forecasts.Single();
        Assert.Equal(before.ObservationCount, after.ObservationCount);
        Assert.True(before.Forecast.AsSpan().SequenceEqual(after.Forecast), "the refused series' forecast changed");

        // A call where every series is refused writes nothing.
        var refused = await group.Observe([new SeriesObservation(bad, new Observation(float.NaN, [0f]))]);
        Assert.Single(refused);
        Assert.Equal(version + 1, PostgresServer.StoredVersion(fixture.ServiceId, "seriesgroup", key, "group"));
    }

    [PostgresFact]
    public async Task ASeriesHasOneHome()
    {
        var map = await Deploy();
        string id = TestModels.Trained[0];
        int home = map.GroupOf(id), other = (home + 1) % Groups;
        var wrong = await Group(map, other).Observe([new SeriesObservation(id, TestModels.Observation(id, TestModels.FirstEnd))]);
        Assert.Contains($"belongs to group {home}", Assert.Single(wrong).Error);
        var status = await Assert.ThrowsAsync<ArgumentException>(() => Group(map, other).GetStatus(id));
        Assert.Contains("SeriesGroups.KeyOf", status.Message);
        // Its own grain would be a second state of the same series.
        var single = await Assert.ThrowsAsync<InvalidOperationException>(() => Grains.GetGrain<ISeriesGrain>(SeriesKey.Of(map.Deployment, id)).Predict(Request(id, TestModels.FirstEnd - 1)));
        Assert.Contains($"keeps its series in {Groups} group grains", single.Message);
        // The count is fixed: it decides the group.
        var regroup = await Assert.ThrowsAsync<ArgumentException>(() => Grains.GetGrain<IDeploymentGrain>(map.Deployment).DeployGrouped(TestModels.Name, "v1", Groups + 1));
        Assert.Contains($"keeps its series in {Groups} groups", regroup.Message);
        // A deployment with a grain per series has no groups to call.
        string perSeries = "s" + Guid.NewGuid().ToString("N")[..8];
        await Grains.GetGrain<IDeploymentGrain>(perSeries).Deploy(TestModels.Name, "v1");
        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => Grains.GetGrain<ISeriesGroupGrain>(SeriesGroups.Key(perSeries, 0)).Predict([id]));
        Assert.Contains("keeps each series in its own grain", none.Message);
    }

    [PostgresFact]
    public async Task TheGatewayRoutesAGroupedDeploymentsCallsToItsGroups()
    {
        var map = await Deploy();
        string[] ids = TestModels.Trained;
        int day = TestModels.FirstEnd;
        var engine = TestModels.V1.CreateForecastingEngine();
        // One request for the whole call: every series is forecast with the first one's promotions.
        var batch = await Grains.GetGrain<IForecastGateway>(0).ObserveAndPredictMany(map.Deployment, [.. ids, "nobody"],
            [.. ids.Select(id => TestModels.Observation(id, day)), new Observation(1f, [0f])], Request(ids[0], day));
        Assert.Equal("nobody", Assert.Single(batch.Errors).SeriesId);
        Assert.Equal(ids, batch.Forecasts.Select(f => f.SeriesId).Order());
        foreach (var f in batch.Forecasts)
        {
            var o = TestModels.Observation(f.SeriesId, day);
            engine.Observe(f.SeriesId, o.Value, o.Covariates);
            Assert.True(TestModels.Same(engine.Predict(f.SeriesId, futureCovariates: TestModels.Future(ids[0], day)), f), $"series {f.SeriesId}");
        }
        // And the group grains hold what the gateway observed.
        Assert.Equal(day + 1, (await Group(map, map.GroupOf(ids[0])).GetStatus(ids[0])).ObservationCount);
    }
}

/// <summary>Series ids to groups: stable, in range, and spread even over ids that differ only in their last characters.</summary>
public sealed class SeriesGroupsTests
{
    [Fact]
    public void IdsThatDifferInTheirLastCharactersSpreadOverTheGroups()
    {
        var sizes = Enumerable.Range(0, 100_000).GroupBy(i => SeriesGroups.GroupOf($"P{i:D5}", 1000)).Select(g => g.Count()).ToArray();
        Assert.Equal(1000, sizes.Length);
        // 100 per group on average; a binomial spread stays well inside 50–150.
        Assert.InRange(sizes.Min(), 50, 100);
        Assert.InRange(sizes.Max(), 100, 150);
        Assert.Equal(8, Enumerable.Range(0, 64).Select(i => SeriesGroups.GroupOf($"P{i:D5}", 8)).Distinct().Count());
    }

    [Fact]
    public void AGroupIsTheSameEveryTimeAndInRange()
    {
        Assert.Equal(SeriesGroups.GroupOf("meter-17", 7), SeriesGroups.GroupOf(new string("meter-17".ToCharArray()), 7));
        Assert.All(Enumerable.Range(0, 500), i => Assert.InRange(SeriesGroups.GroupOf("s" + i, 7), 0, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesGroups.GroupOf("a", 0));
    }
}

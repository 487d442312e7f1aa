using System.Globalization;
using System.Text.Json;
using MLNetRnn.Orleans.Sharding;
using MLNetRnn.Orleans.Tests.Support;

namespace MLNetRnn.Orleans.Tests;

/// <summary>
/// A panel trained as shards across the silos: each shard's model is the one a single process fits on the same
/// series, bit for bit; the shard map lands in the deployment, and each series' forecasts come from its shard's model.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ShardedTrainingTests(ClusterFixture fixture)
{
    [PostgresFact]
    public async Task ShardsTrainAcrossTheSilosAndForecastsRouteToEachSeriesShard()
    {
        string panel = Path.Combine(Path.GetTempPath(), $"mlnetrnn-panel-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(panel, ["series,value", .. TestModels.Rows.Where(r => (r.Date - TestModels.Rows[0].Date).Days < TestModels.FirstEnd)
            .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Product},{r.Sales}"))]);
        var options = TestModels.Options();
        options.KnownFutureColumnNames = [];
        options.Quantiles = [];
        string json = JsonSerializer.Serialize(options);
        string deployment = "s" + Guid.NewGuid().ToString("N")[..8];
        var request = new ShardedTrainingRequest(deployment, "v1", panel, ShardCount: 2, json);
        var training = fixture.Cluster.GrainFactory.GetGrain<IShardedTrainingGrain>($"{deployment}@v1");

        var progress = await training.Start(request);
        for (var until = DateTime.UtcNow.AddMinutes(3); !progress.Deployed && DateTime.UtcNow < until; progress = await training.GetProgress())
        {
            Assert.DoesNotContain(progress.Shards, s => s.Phase == ShardPhase.Failed);
            await Task.Delay(250);
        }
        Assert.True(progress.Deployed, $"not deployed in time: {progress}; {string.Join("; ", progress.Shards.Select(s => $"{s.Phase} {s.Message}"))}");
        Assert.Equal(12, progress.Shards.Sum(s => s.Series));
        Assert.All(progress.Shards, s => Assert.True(s.Silo.Length > 0 && s.PeakWorkingSetBytes > 0));
        // Spread over the silos (NumberedSpreadPlacement), not wherever load statistics that lag point them all.
        Assert.Equal(2, progress.Shards.Select(s => s.Silo).Distinct().Count());

        var map = await fixture.Cluster.GrainFactory.GetGrain<IDeploymentGrain>(deployment).GetMap();
        Assert.Equal([$"{deployment}/shard-0@v1", $"{deployment}/shard-1@v1"], map!.Shards.Select(s => s.ToString()));
        for (int shard = 0; shard < 2; shard++)
        {
            var engine = ShardTraining.Fit(ShardTraining.ReadShard(panel, 2, shard), json).CreateForecastingEngine();
            foreach (string id in engine.SeriesIds)
            {
                Assert.Equal(shard, map.ShardOf(id));
                var got = await fixture.Cluster.GrainFactory.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, id)).Predict();
                Assert.Equal($"{deployment}/shard-{shard}@v1", got.Model);
                Assert.True(engine.Predict(id).Forecast.AsSpan().SequenceEqual(got.Forecast), $"series {id}: the grain's forecast is not its shard model's");
            }
        }
        File.Delete(panel);
    }
}

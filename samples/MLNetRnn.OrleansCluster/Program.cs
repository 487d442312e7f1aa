using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using MLNetRnn;
using MLNetRnn.Orleans;
using MLNetRnn.Orleans.Hosting;
using MLNetRnn.Orleans.Models;
using MLNetRnn.Samples;
using Orleans.Configuration;
using Orleans.Runtime;

// A forecasting service on a local Orleans cluster (scripts/cluster.sh drives it):
//   train --store DIR --series N --days D        fit one global model to N retail series × D days, save it as retail@v1
//   silo  --store DIR --postgres CONN --index I  silo I of the cluster (silo 0 is the primary the others join)
//   load  --store DIR --series N --days D --seconds S --workers W --verify K [--groups G]
//         deploy retail@v1, stream days D, D+1, … of every series as observe-and-forecast calls for S seconds from W
//         concurrent callers, print throughput and latency, then check K series against a single-process engine.
//         --extra E: days generated after D for streaming (64; the run stops after E laps).
//         --groups G: a grouped deployment, the series kept in G group grains; each call observes and forecasts the
//         next day of every series of one group (N/G series), with one write.
//   memory --series N --observations K --store DIR --postgres CONN [--groups G]
//         one silo in this process: the managed memory it holds per active series grain after K observations each
//         (a full collection before and after), with the state in PostgreSQL.
//   train-shards --series N --days D --shards S --store DIR
//         on the cluster: N series × D days as S shards, one trainer grain per shard on the silos, progress every 10 s,
//         then each shard's time, silo, peak memory and MASE on the 7 days after D (its model loaded here from the store).
//   shards --series N --days D --shards S --store DIR
//         in one process: one model on all N series against S shard models (series split as the cluster splits them),
//         each scored by MASE on the 7 days after D; the same fit a shard trainer grain runs (ShardTraining.Fit).
var arguments = Arguments.Parse(args);
return arguments.Command switch
{
    "train" => Train(arguments),
    "silo" => await Silo(arguments),
    "load" => await Load(arguments),
    "shards" => Shards(arguments),
    "train-shards" => await TrainShards(arguments),
    "memory" => await Memory(arguments),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: train|silo|load [--store DIR] [--postgres CONN] [--index I] [--series N] [--days D] [--seconds S] [--workers W] [--verify K] [--shards S]");
    return 2;
}

// The panel's rows, by product (Generate writes them product by product, days in order): the first D days are what a
// model is trained on, the days after them what the load streams (the first D days of a product are the same
// however many days follow).
static RetailPanel.Sale[][] Panel(int series, int days, int extra = 64) => [.. RetailPanel.Generate(series, days + extra, seed: 7).Chunk(days + extra)];

static int Train(Arguments a)
{
    var clock = Stopwatch.StartNew();
    var panel = Panel(a.Series, a.Days);
    var ml = new MLContext(seed: 0);
    var data = ml.Data.LoadFromEnumerable(panel.SelectMany(s => s.Take(a.Days)));
    var options = new RnnForecastingOptions
    {
        OutputColumnName = "Forecast", InputColumnName = nameof(RetailPanel.Sale.Sales), SeriesIdColumnName = nameof(RetailPanel.Sale.Product),
        WindowSize = 14, Horizon = 7, SeasonalPeriod = 7, ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper",
        EnsembleSize = 1, HiddenSizes = [16], MaximumSteps = 300, Seed = 1,
    };
    var model = ml.Forecasting.ForecastByRnn(options).Fit(data);
    using var stream = new MemoryStream();
    ml.Model.Save(model, data.Schema, stream);
    new FileSystemModelStore(a.Store).SaveAsync("retail", "v1", stream.ToArray()).GetAwaiter().GetResult();
    Console.WriteLine($"trained retail@v1 on {a.Series} series × {a.Days} days in {clock.Elapsed.TotalSeconds:F0} s ({stream.Length / 1e6:F1} MB)");

    // What a silo holds per series besides Orleans' activation: the live state, and its bytes (the stored row's payload).
    var forecaster = new RnnSeriesForecaster(model);
    long heap = GC.GetTotalMemory(forceFullCollection: true);
    var states = panel.Select(s => forecaster.CreateState(s[0].Product)).ToArray();
    long live = (GC.GetTotalMemory(forceFullCollection: true) - heap) / states.Length;
    double bytes = states.Average(s => s.ToBytes().Length);
    GC.KeepAlive(states);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per series: {live} bytes of live state, {bytes:F0} bytes as stored"));
    return 0;
}

static async Task<int> Silo(Arguments a)
{
    // A shard's fit keeps cores busy for minutes (its own thread, and the pool threads of its parallel loops): enough
    // pool threads at hand that the silo still answers its one-second membership probes meanwhile.
    ThreadPool.GetMinThreads(out int workers, out int io);
    ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
    var primary = new IPEndPoint(IPAddress.Loopback, 11111);
    using var host = Host.CreateDefaultBuilder()
        .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: 11111 + a.Index, gatewayPort: 30000 + a.Index, primarySiloEndpoint: primary, serviceId: "mlnetrnn", clusterId: "local")
            .AddPostgresForecastingStorage(a.Postgres)
            .AddMLNetRnnForecasting(new FileSystemModelStore(a.Store))
            // A killed silo is declared dead after two missed one-second probes (defaults: 10 s probes, 3 missed, 2 votes),
            // so its series' grains come back on the others within seconds.
            .Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            })
            .Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5)))
        .Build();
    await host.StartAsync();
    Console.WriteLine($"silo {a.Index} up (pid {Environment.ProcessId})");
    await host.WaitForShutdownAsync();
    return 0;
}

static async Task<int> Load(Arguments a)
{
    if (a.Groups > 0) return await LoadGroups(a);
    using var host = await Client();
    var grains = host.Services.GetRequiredService<IClusterClient>();
    var panel = Panel(a.Series, a.Days, a.Extra);
    await grains.GetGrain<IDeploymentGrain>("retail").Deploy("retail", "v1");
    var management = grains.GetGrain<IManagementGrain>(0);

    // Warm-up: every silo loads the model; memory then, before the series' grains exist, is the baseline.
    // (A silo's first load of the model can outlast the 5 s response timeout on a busy machine: asked again then.)
    for (int attempt = 1; ; attempt++)
    {
        try
        {
            await Task.WhenAll(panel.Take(60).Select(s => grains.GetGrain<ISeriesGrain>(SeriesKey.Of("retail", s[0].Product)).Predict()));
            break;
        }
        catch (TimeoutException) when (attempt < 10) { }
    }
    var before = await Statistics(management);

    // Each worker owns every W-th series and goes round them, one day each per lap: a series' calls never overlap.
    var acknowledged = new int[panel.Length];
    var latencies = new List<double>[a.Workers];
    var recoveries = new List<double>[a.Workers];   // calls that failed at first: time until the series answered
    long failures = 0;
    var stop = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, a.Workers).Select(w => Task.Run(async () =>
    {
        var mine = latencies[w] = new List<double>(1 << 16);
        var recovered = recoveries[w] = [];
        for (int lap = 0; stop.Elapsed.TotalSeconds < a.Seconds && lap < a.Extra; lap++)
            for (int s = w; s < panel.Length && stop.Elapsed.TotalSeconds < a.Seconds; s += a.Workers)
            {
                var grain = grains.GetGrain<ISeriesGrain>(SeriesKey.Of("retail", panel[s][0].Product));
                var observation = new Observation(panel[s][a.Days + acknowledged[s]].Sales);
                long t0 = Stopwatch.GetTimestamp();
                bool failed = await UntilAcknowledged(() => grain.ObserveAndPredict(observation),
                    async () => (await grain.GetStatus()).ObservationCount == a.Days + acknowledged[s] + 1,
                    () => stop.Elapsed.TotalSeconds < a.Seconds + 120, () => Interlocked.Increment(ref failures));
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (failed) recovered.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                acknowledged[s]++;
            }
    })).ToArray();
    await Task.WhenAll(workers);
    double seconds = stop.Elapsed.TotalSeconds;
    var all = Sorted(latencies);
    var after = await Statistics(management);
    ReportRecovery(recoveries, "series");
    int touched = acknowledged.Count(n => n > 0);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{all.Length} observe-and-forecast calls in {seconds:F1} s from {a.Workers} callers: {all.Length / seconds:F0} calls/s; latency p50 {Quantile(all, 0.5):F1} ms, p99 {Quantile(all, 0.99):F1} ms, max {all[^1]:F0} ms; {failures} failed tries, retried"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{touched} series active over {after.Silos} silos: {after.Activations} activations; silo memory {before.Memory / 1e6:F0} MB before, {after.Memory / 1e6:F0} MB after: {(after.Memory - before.Memory) / Math.Max(1, after.Activations - before.Activations):F0} bytes per activation"));

    // Verification: a single-process engine fed the acknowledged observations forecasts what the grains forecast.
    var ml = new MLContext();
    using var file = new MemoryStream(await new FileSystemModelStore(a.Store).ReadAsync("retail", "v1"));
    var engine = ml.Model.Load(file, out _).CreateForecastingEngine();
    var sample = Enumerable.Range(0, panel.Length).Where(s => acknowledged[s] > 0).OrderBy(s => (s * 2654435761u) % 1000003).Take(a.Verify).ToArray();
    int differ = 0, lost = 0;
    foreach (int s in sample)
    {
        string id = panel[s][0].Product;
        for (int k = 0; k < acknowledged[s]; k++) engine.Observe(id, panel[s][a.Days + k].Sales);
        var grain = grains.GetGrain<ISeriesGrain>(SeriesKey.Of("retail", id));
        var status = await grain.GetStatus();
        if (status.ObservationCount < a.Days + acknowledged[s]) lost++;
        var got = await grain.Predict();
        if (!engine.Predict(id).Forecast.AsSpan().SequenceEqual(got.Forecast)) differ++;
    }
    Console.WriteLine($"verified {sample.Length} series against a single-process engine: {lost} with acknowledged observations lost, {differ} forecasts that differ");
    await host.StopAsync();
    return differ == 0 && lost == 0 ? 0 : 1;
}

// The grouped form of Load: one observe-and-forecast call per group and day, carrying every series of the group.
static async Task<int> LoadGroups(Arguments a)
{
    using var host = await Client();
    var grains = host.Services.GetRequiredService<IClusterClient>();
    var (ids, sales) = Compact(Panel(a.Series, a.Days, a.Extra));
    var map = await grains.GetGrain<IDeploymentGrain>("retail-groups").DeployGrouped("retail", "v1", a.Groups);
    var members = Enumerable.Range(0, a.Groups).Select(_ => new List<int>()).ToArray();
    for (int s = 0; s < ids.Length; s++) members[map.GroupOf(ids[s])].Add(s);
    ISeriesGroupGrain Group(int g) => grains.GetGrain<ISeriesGroupGrain>(SeriesGroups.Key(map.Deployment, g));
    var management = grains.GetGrain<IManagementGrain>(0);
    for (int attempt = 1; ; attempt++)
    {
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Math.Min(a.Groups, 60)).Where(g => members[g].Count > 0).Select(g => Group(g).Predict([ids[members[g][0]]])));
            break;
        }
        catch (TimeoutException) when (attempt < 10) { }
    }
    var before = await Statistics(management);

    // Each worker owns every W-th group and goes round them, one day of all the group's series per call.
    var days = new int[a.Groups];
    var latencies = new List<double>[a.Workers];
    var recoveries = new List<double>[a.Workers];
    long failures = 0, observed = 0;
    var stop = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, a.Workers).Select(w => Task.Run(async () =>
    {
        var mine = latencies[w] = new List<double>(1 << 14);
        var recovered = recoveries[w] = [];
        for (int lap = 0; stop.Elapsed.TotalSeconds < a.Seconds && lap < a.Extra; lap++)
            for (int g = w; g < a.Groups && stop.Elapsed.TotalSeconds < a.Seconds; g += a.Workers)
            {
                if (members[g].Count == 0) continue;
                int day = a.Days + days[g];
                SeriesObservation[] batch = [.. members[g].Select(s => new SeriesObservation(ids[s], new Observation(sales[s][day])))];
                long t0 = Stopwatch.GetTimestamp();
                // The group's one write has all of the day or none of it: one series' count says which.
                bool failed = await UntilAcknowledged(async () =>
                    {
                        var answer = await Group(g).ObserveAndPredict(batch);
                        if (answer.Errors.Length > 0) throw new InvalidOperationException($"group {g}: {answer.Errors[0].SeriesId}: {answer.Errors[0].Error}");
                    },
                    async () => (await Group(g).GetStatus(batch[0].SeriesId)).ObservationCount == day + 1,
                    () => stop.Elapsed.TotalSeconds < a.Seconds + 120, () => Interlocked.Increment(ref failures));
                mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (failed) recovered.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                Interlocked.Add(ref observed, batch.Length);
                days[g]++;
            }
    })).ToArray();
    await Task.WhenAll(workers);
    double seconds = stop.Elapsed.TotalSeconds;
    var all = Sorted(latencies);
    var after = await Statistics(management);
    ReportRecovery(recoveries, "groups");
    int touched = Enumerable.Range(0, a.Groups).Where(g => days[g] > 0).Sum(g => members[g].Count);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{observed} series observed and forecast in {all.Length} group calls ({(double)observed / Math.Max(1, all.Length):F0} series each) in {seconds:F1} s from {a.Workers} callers: {observed / seconds:F0} observe-and-forecasts/s, {all.Length / seconds:F0} calls/s; call latency p50 {Quantile(all, 0.5):F1} ms, p99 {Quantile(all, 0.99):F1} ms, max {all[^1]:F0} ms; {failures} failed tries, retried"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{touched} series active in {a.Groups} groups over {after.Silos} silos: {after.Activations} activations; silo memory {before.Memory / 1e6:F0} MB before, {after.Memory / 1e6:F0} MB after: {(after.Memory - before.Memory) / Math.Max(1, touched):F0} bytes per series"));

    var ml = new MLContext();
    using var file = new MemoryStream(await new FileSystemModelStore(a.Store).ReadAsync("retail", "v1"));
    var engine = ml.Model.Load(file, out _).CreateForecastingEngine();
    var sample = Enumerable.Range(0, ids.Length).Where(s => days[map.GroupOf(ids[s])] > 0).OrderBy(s => (s * 2654435761u) % 1000003).Take(a.Verify).ToArray();
    int differ = 0, lost = 0;
    foreach (int s in sample)
    {
        int seen = days[map.GroupOf(ids[s])];
        for (int k = 0; k < seen; k++) engine.Observe(ids[s], sales[s][a.Days + k]);
        var group = Group(map.GroupOf(ids[s]));
        if ((await group.GetStatus(ids[s])).ObservationCount < a.Days + seen) lost++;
        var got = (await group.Predict([ids[s]])).Forecasts.Single();
        if (!engine.Predict(ids[s]).Forecast.AsSpan().SequenceEqual(got.Forecast)) differ++;
    }
    Console.WriteLine($"verified {sample.Length} series against a single-process engine: {lost} with acknowledged observations lost, {differ} forecasts that differ");
    await host.StopAsync();
    return differ == 0 && lost == 0 ? 0 : 1;
}

// The client of the local cluster: a call whose silo died fails after 5 s (default 30 s) and is tried again, on the grain's new activation.
static async Task<IHost> Client()
{
    var host = Host.CreateDefaultBuilder()
        .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Error))
        .UseOrleansClient(c => c.UseLocalhostClustering([30000, 30001, 30002], serviceId: "mlnetrnn", clusterId: "local")
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5)))
        .Build();
    await host.StartAsync();
    return host;
}

// Each series' id and sales, without the row objects (a 100,000-series panel's rows take gigabytes).
static (string[] Ids, float[][] Sales) Compact(RetailPanel.Sale[][] panel) => ([.. panel.Select(s => s[0].Product)], [.. panel.Select(s => s.Select(r => r.Sales).ToArray())]);

static async Task<int> Memory(Arguments a)
{
    using var host = Host.CreateDefaultBuilder()
        .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: 11200, gatewayPort: 30200, serviceId: "mlnetrnn-memory", clusterId: "memory")
            .AddPostgresForecastingStorage(a.Postgres)
            .AddMLNetRnnForecasting(new FileSystemModelStore(a.Store)))
        .Build();
    await host.StartAsync();
    var grains = host.Services.GetRequiredService<IGrainFactory>();
    var panel = Panel(a.Series, a.Days);
    string deployment = "m" + Guid.NewGuid().ToString("N")[..8];
    if (a.Groups > 0)
    {
        // Grouped: the series in G group grains, each day of a group's series one call (and one write).
        var map = await grains.GetGrain<IDeploymentGrain>(deployment).DeployGrouped("retail", "v1", a.Groups);
        ISeriesGroupGrain Group(int g) => grains.GetGrain<ISeriesGroupGrain>(SeriesGroups.Key(deployment, g));
        var groups = panel.GroupBy(s => map.GroupOf(s[0].Product)).ToArray();
        await Group(groups[0].Key).Predict([groups[0].First()[0].Product]);   // the model, loaded
        long g0 = GC.GetTotalMemory(forceFullCollection: true);
        for (int k = 0; k < a.Observations; k++)
            foreach (var chunk in groups.Chunk(64))
                await Task.WhenAll(chunk.Select(g => Group(g.Key).Observe([.. g.Select(s => new SeriesObservation(s[0].Product, new Observation(s[a.Days + k].Sales)))])));
        long g1 = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{a.Series} series in {a.Groups} group grains after {a.Observations} observation(s) each: {(g1 - g0) / a.Series} bytes of managed memory per series (its share of the group's activation, its stored bytes and replay log, its live state)"));
        await host.StopAsync();
        return 0;
    }
    await grains.GetGrain<IDeploymentGrain>(deployment).Deploy("retail", "v1");
    await grains.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, panel[0][0].Product)).Predict();   // the model, loaded
    long m0 = GC.GetTotalMemory(forceFullCollection: true);
    for (int k = 0; k < a.Observations; k++)
        foreach (var chunk in panel.Chunk(256))
            await Task.WhenAll(chunk.Select(s => grains.GetGrain<ISeriesGrain>(SeriesKey.Of(deployment, s[0].Product)).Observe(new Observation(s[a.Days + k].Sales))));
    long m1 = GC.GetTotalMemory(forceFullCollection: true);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{a.Series} series grains after {a.Observations} observation(s) each: {(m1 - m0) / a.Series} bytes of managed memory per series (grain, activation, state, stored bytes, replay log)"));
    await host.StopAsync();
    return 0;
}

// The panel as the CSV file shard trainers read (series,value; the first D days of each series), and the options
// every shard is fitted with: the cluster model's.
static string PanelFile(Arguments a, RetailPanel.Sale[][] panel)
{
    string file = Path.GetFullPath(Path.Combine(a.Store, "..", $"panel-{a.Series}x{a.Days}.csv"));
    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
    File.WriteAllLines(file, ["series,value", .. panel.SelectMany(s => s.Take(a.Days)).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Product},{r.Sales}"))]);
    return file;
}

static string ShardOptions() => System.Text.Json.JsonSerializer.Serialize(new RnnForecastingOptions
{
    OutputColumnName = "Forecast", WindowSize = 14, Horizon = 7, SeasonalPeriod = 7, EnsembleSize = 1, HiddenSizes = [16], MaximumSteps = 300, Seed = 1,
});

static async Task<int> TrainShards(Arguments a)
{
    var panel = Panel(a.Series, a.Days);
    string file = PanelFile(a, panel);
    using var host = await Client();
    var grains = host.Services.GetRequiredService<IClusterClient>();
    string deployment = "sharded";
    var training = grains.GetGrain<MLNetRnn.Orleans.Sharding.IShardedTrainingGrain>($"{deployment}@v1");
    var progress = await training.Start(new MLNetRnn.Orleans.Sharding.ShardedTrainingRequest(deployment, "v1", file, a.ShardCount, ShardOptions()));
    var clock = Stopwatch.StartNew();
    while (!progress.Deployed)
    {
        await Task.Delay(10_000);
        try { progress = await training.GetProgress(); }
        catch (TimeoutException) { continue; }   // a silo busy fitting answers late
        Console.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: {progress}");
        if (progress.Shards.Any(s => s.Phase == MLNetRnn.Orleans.Sharding.ShardPhase.Failed))
        {
            Console.WriteLine(string.Join(Environment.NewLine, progress.Shards.Select(s => $"shard {s.Shard}: {s.Phase} {s.Message}")));
            return 1;
        }
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{a.Series} series × {a.Days} days in {a.ShardCount} shards: deployed after {progress.Seconds:F0} s"));
    var byId = panel.ToDictionary(s => s[0].Product);
    var store = new FileSystemModelStore(a.Store);
    var ml = new MLContext();
    double weighted = 0;
    foreach (var shard in progress.Shards)
    {
        using var bytes = new MemoryStream(await store.ReadAsync(MLNetRnn.Orleans.Sharding.ShardTraining.ModelName(deployment, shard.Shard), "v1"));
        var engine = ml.Model.Load(bytes, out _).CreateForecastingEngine();
        double mase = engine.SeriesIds.Average(id => Mase(byId[id], a.Days, engine.Predict(id).Forecast));
        weighted += mase * engine.SeriesIds.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"shard {shard.Shard}: {shard.Series} series on {shard.Silo}, fitted in {shard.Seconds:F0} s, peak working set {shard.PeakWorkingSetBytes / 1e6:F0} MB; MASE {mase:F4}"));
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"all shards: MASE {weighted / a.Series:F4} over {a.Series} series"));

    // One shard fitted again here, in one process, as ShardTraining.Fit does: its forecasts against the silo's model's.
    var clock2 = Stopwatch.StartNew();
    var local = MLNetRnn.Orleans.Sharding.ShardTraining.Fit(MLNetRnn.Orleans.Sharding.ShardTraining.ReadShard(file, a.ShardCount, 0), ShardOptions()).CreateForecastingEngine();
    using var first = new MemoryStream(await store.ReadAsync(MLNetRnn.Orleans.Sharding.ShardTraining.ModelName(deployment, 0), "v1"));
    var silo = ml.Model.Load(first, out _).CreateForecastingEngine();
    int differ = local.SeriesIds.Count(id => !local.Predict(id).Forecast.AsSpan().SequenceEqual(silo.Predict(id).Forecast));
    double localMase = local.SeriesIds.Average(id => Mase(byId[id], a.Days, local.Predict(id).Forecast));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"shard 0 fitted in this process in {clock2.Elapsed.TotalSeconds:F0} s: MASE {localMase:F4}; {differ} of {local.SeriesIds.Count} series forecast differently from the silo's shard model"));
    await host.StopAsync();
    return differ == 0 ? 0 : 1;
}

static int Shards(Arguments a)
{
    var panel = Panel(a.Series, a.Days);
    string file = PanelFile(a, panel);
    string json = ShardOptions();
    var byId = panel.ToDictionary(s => s[0].Product);
    double Score(int shards, int shard, out double seconds, out int series)
    {
        var clock = Stopwatch.StartNew();
        var rows = MLNetRnn.Orleans.Sharding.ShardTraining.ReadShard(file, shards, shard);
        var engine = MLNetRnn.Orleans.Sharding.ShardTraining.Fit(rows, json).CreateForecastingEngine();
        seconds = clock.Elapsed.TotalSeconds;
        series = engine.SeriesIds.Count;
        return engine.SeriesIds.Average(id => Mase(byId[id], a.Days, engine.Predict(id).Forecast));
    }
    double one = Score(1, 0, out double oneSeconds, out _);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"one model, {a.Series} series: MASE {one:F4}, fitted in {oneSeconds:F0} s"));
    double total = 0, weighted = 0;
    for (int k = 0; k < a.ShardCount; k++)
    {
        double mase = Score(a.ShardCount, k, out double seconds, out int series);
        total += seconds;
        weighted += mase * series;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"shard {k} of {a.ShardCount}, {series} series: MASE {mase:F4}, fitted in {seconds:F0} s"));
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{a.ShardCount} shards: MASE {weighted / a.Series:F4} over all series ({(weighted / a.Series / one - 1) * 100:+0.0;-0.0}% against one model); {total:F0} s fitting one after another"));
    return 0;
}

/// <summary>MASE of a forecast of the days after <paramref name="end"/>: its mean absolute error over the in-sample mean
/// absolute error of the weekly seasonal naive forecast.</summary>
static double Mase(RetailPanel.Sale[] series, int end, float[] forecast)
{
    double scale = Enumerable.Range(7, end - 7).Average(t => Math.Abs(series[t].Sales - series[t - 7].Sales));
    return Enumerable.Range(0, forecast.Length).Average(k => Math.Abs(series[end + k].Sales - forecast[k])) / scale;
}

// Makes a call until it is acknowledged. When it fails (a silo died under it) and keepTrying() still holds, waits,
// asks whether the store already has what it sent (then it was acknowledged) and otherwise sends it again. Returns
// whether any try failed.
static async Task<bool> UntilAcknowledged(Func<Task> call, Func<Task<bool>> stored, Func<bool> keepTrying, Action failedTry)
{
    bool failed = false;
    while (true)
    {
        try
        {
            await call();
            return failed;
        }
        catch (Exception) when (keepTrying())
        {
            failedTry();
            failed = true;
            await Task.Delay(200);
            try
            {
                if (await stored()) return true;
            }
            catch (Exception) { }
        }
    }
}

static double[] Sorted(IEnumerable<List<double>> lists) => [.. lists.SelectMany(l => l).Order()];

// Calls that met a dead silo: how long until what they called answered again.
static void ReportRecovery(List<double>[] recoveries, string what)
{
    var recovery = Sorted(recoveries);
    if (recovery.Length > 0)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{recovery.Length} calls met a dead silo; their {what} answered again after {Quantile(recovery, 0.5):F1} s (median), {recovery[^1]:F1} s (longest)"));
}

static double Quantile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

static async Task<(int Silos, long Activations, long Memory)> Statistics(IManagementGrain management)
{
    var hosts = await management.GetHosts(onlyActive: true);
    var stats = await management.GetRuntimeStatistics([.. hosts.Keys]);
    return (stats.Length, stats.Sum(s => (long)s.ActivationCount), stats.Sum(s => s.EnvironmentStatistics.FilteredMemoryUsageBytes));
}

internal sealed record Arguments(string Command, string Store, string Postgres, int Index, int Series, int Days, int Seconds, int Workers, int Verify, int ShardCount, int Observations, int Groups, int Extra)
{
    public static Arguments Parse(string[] args)
    {
        string Get(string name, string fallback) { int i = Array.IndexOf(args, "--" + name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        return new(args.Length > 0 ? args[0] : "", Get("store", Path.Combine(Path.GetTempPath(), "mlnetrnn-cluster", "models")),
            Get("postgres", "Host=127.0.0.1;Port=55432;Username=postgres;Database=mlnetrnn"), Int("index", 0), Int("series", 2000), Int("days", 120),
            Int("seconds", 30), Int("workers", 64), Int("verify", 200), Int("shards", 3), Int("observations", 1), Int("groups", 0), Int("extra", 64));
    }
}

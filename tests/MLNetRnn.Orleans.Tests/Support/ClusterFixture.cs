using Microsoft.Extensions.DependencyInjection;
using MLNetRnn.Orleans.Hosting;
using MLNetRnn.Orleans.Models;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace MLNetRnn.Orleans.Tests.Support;

/// <summary>Three silos in this process, their grain state in PostgreSQL, their models from <see cref="TestModels"/>'
/// store; every silo asks for the deployment map on every call, so a swap is seen at once.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public string ServiceId => Cluster.Options.ServiceId;

    public async Task InitializeAsync()
    {
        if (PostgresServer.ConnectionString is null) return;
        _ = TestModels.StoreRoot;   // trained before the silos start
        var builder = new TestClusterBuilder(3);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
    }

    /// <summary>The models loaded by each live silo.</summary>
    public IEnumerable<LoadedModels> LoadedModelsOfEachSilo()
        => Cluster.GetActiveSilos().OfType<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<LoadedModels>());

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo
            .AddPostgresForecastingStorage(PostgresServer.ConnectionString!)
            .AddMLNetRnnForecasting(new FileSystemModelStore(TestModels.StoreRoot), o => o.DeploymentRefreshInterval = TimeSpan.Zero);
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

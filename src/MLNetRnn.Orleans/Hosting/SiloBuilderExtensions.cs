using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MLNetRnn.Orleans.Models;
using MLNetRnn.Orleans.Storage;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;

namespace MLNetRnn.Orleans.Hosting;

/// <summary>Adds the forecasting grains to a silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// The forecasting service on this silo: the series, deployment, gateway and training grains, the models of
    /// <paramref name="modelStore"/> loaded once per silo, and the options. The grains persist to the storage provider
    /// named <see cref="ForecastingServiceOptions.StorageName"/>: add it too (<see cref="AddPostgresForecastingStorage"/>).
    /// </summary>
    public static ISiloBuilder AddMLNetRnnForecasting(this ISiloBuilder builder, IModelStore modelStore, Action<ForecastingServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(modelStore);
        builder.Services.AddSingleton(modelStore);
        builder.Services.AddSingleton<LoadedModels>();
        builder.Services.AddSingleton<DeploymentDirectory>();
        builder.Services.AddOptions<ForecastingServiceOptions>().Configure(o => configure?.Invoke(o));
        builder.Services.AddPlacementDirector<NumberedSpreadPlacement, NumberedSpreadPlacementDirector>();
        return builder;
    }

    /// <summary>Grain storage in PostgreSQL (<see cref="PostgresGrainStorage"/>) under <paramref name="name"/>, the
    /// forecasting grains' by default.</summary>
    public static ISiloBuilder AddPostgresForecastingStorage(this ISiloBuilder builder, string connectionString, string name = ForecastingStorage.Name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        builder.Services.AddGrainStorage(name, (services, _) => new PostgresGrainStorage(connectionString,
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId, services.GetRequiredService<Serializer>()));
        return builder;
    }
}

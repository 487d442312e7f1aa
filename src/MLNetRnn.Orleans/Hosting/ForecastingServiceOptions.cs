namespace MLNetRnn.Orleans.Hosting;

/// <summary>How the forecasting grains of a silo behave.</summary>
public sealed class ForecastingServiceOptions
{
    /// <summary>The grain storage provider the series, deployment and training grains persist to. Default
    /// <see cref="ForecastingStorage.Name"/>.</summary>
    public string StorageName { get; set; } = ForecastingStorage.Name;

    /// <summary>How long a silo trusts its copy of a deployment's shard map before asking its deployment grain again:
    /// a model swap reaches every series within this time. Zero: ask on every call (tests).</summary>
    public TimeSpan DeploymentRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Observations each series keeps besides its state, so that a swap to a model version trained on data
    /// ending up to this many observations ago replays what that version has not seen. 0: a swap needs a version
    /// whose data ends where the series is now. Each costs 4 bytes per value and covariate (and 9 with a date) in memory
    /// and in every write.</summary>
    public int ReplayLength { get; set; } = 32;
}

/// <summary>Names the forecasting grains' storage provider.</summary>
public static class ForecastingStorage
{
    /// <summary>"forecasting".</summary>
    public const string Name = "forecasting";
}

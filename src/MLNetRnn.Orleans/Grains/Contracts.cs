namespace MLNetRnn.Orleans;

/// <summary>One new value of a series.</summary>
/// <param name="Value">The value; finite.</param>
/// <param name="Covariates">Its row's covariates in the model's order (<see cref="RnnSeriesForecaster.CovariateColumnNames"/>); null or empty without.</param>
/// <param name="Date">With a date column: the row's date (null: one step after the last; required for a new series' first row).</param>
[GenerateSerializer, Immutable]
public sealed record Observation([property: Id(0)] float Value, [property: Id(1)] float[]? Covariates = null, [property: Id(2)] DateTime? Date = null);

/// <summary>What a forecast is asked for.</summary>
/// <param name="Horizon">Steps, 1 to the model's horizon; null = the model's.</param>
/// <param name="FutureCovariates">With known-future covariates: per column, one value per step of the model's horizon.</param>
/// <param name="ConfidenceLevel">Coverage of the bounds, in (0, 1); null = the model's.</param>
[GenerateSerializer, Immutable]
public sealed record ForecastRequest([property: Id(0)] int? Horizon = null, [property: Id(1)] Dictionary<string, float[]>? FutureCovariates = null,
    [property: Id(2)] float? ConfidenceLevel = null);

/// <summary>A forecast of one series, from the state that holds every acknowledged observation.</summary>
/// <param name="SeriesId">The series.</param>
/// <param name="Model">The model and version that made it (<c>name@version</c>).</param>
/// <param name="ObservationCount">Values of the series seen when it was made.</param>
/// <param name="Forecast">The next values, one per step.</param>
/// <param name="LowerBound">Lower bounds at <paramref name="ConfidenceLevel"/> (NaN without calibration).</param>
/// <param name="UpperBound">Upper bounds.</param>
/// <param name="ConfidenceLevel">Coverage the bounds aim at.</param>
/// <param name="Quantiles">With quantile heads, step-major (step k's levels at k·Q … k·Q + Q − 1); empty otherwise.</param>
/// <param name="QuantileLevels">The Q levels of <paramref name="Quantiles"/>.</param>
[GenerateSerializer, Immutable]
public sealed record SeriesForecast([property: Id(0)] string SeriesId, [property: Id(1)] string Model, [property: Id(2)] long ObservationCount,
    [property: Id(3)] float[] Forecast, [property: Id(4)] float[] LowerBound, [property: Id(5)] float[] UpperBound, [property: Id(6)] float ConfidenceLevel,
    [property: Id(7)] float[] Quantiles, [property: Id(8)] float[] QuantileLevels);

/// <summary>An observation, acknowledged: it is in the store.</summary>
/// <param name="SeriesId">The series.</param>
/// <param name="ObservationCount">Values of the series seen, this one included.</param>
[GenerateSerializer, Immutable]
public sealed record ObservationReceipt([property: Id(0)] string SeriesId, [property: Id(1)] long ObservationCount);

/// <summary>Where a series grain stands.</summary>
/// <param name="SeriesId">The series.</param>
/// <param name="Model">The model and version its state is of (<c>name@version</c>).</param>
/// <param name="ObservationCount">Values seen.</param>
/// <param name="Started">Whether it can be forecast without a cold start.</param>
/// <param name="Behind">Its shard's model is another version that this series could not move to (its replay log does not
/// reach back to where that version's data ends): it forecasts with <paramref name="Model"/> until it can.</param>
/// <param name="Shard">Its shard.</param>
/// <param name="Silo">The silo its grain is active on.</param>
[GenerateSerializer, Immutable]
public sealed record SeriesStatus([property: Id(0)] string SeriesId, [property: Id(1)] string Model, [property: Id(2)] long ObservationCount,
    [property: Id(3)] bool Started, [property: Id(4)] bool Behind, [property: Id(5)] int Shard, [property: Id(6)] string Silo);

/// <summary>The forecasts of many series: those that could be made, and why the others could not.</summary>
[GenerateSerializer, Immutable]
public sealed record ForecastBatch([property: Id(0)] SeriesForecast[] Forecasts, [property: Id(1)] SeriesError[] Errors);

/// <summary>Why a series of a batch has no forecast.</summary>
[GenerateSerializer, Immutable]
public sealed record SeriesError([property: Id(0)] string SeriesId, [property: Id(1)] string Error);

/// <summary>The model of one shard of a deployment.</summary>
/// <param name="ModelName">The model's name in the store.</param>
/// <param name="Version">Its version.</param>
[GenerateSerializer, Immutable]
public sealed record ShardModel([property: Id(0)] string ModelName, [property: Id(1)] string Version)
{
    /// <summary><c>name@version</c>.</summary>
    public override string ToString() => $"{ModelName}@{Version}";
}

/// <summary>
/// Which model serves each series of a deployment: S shards, series id to shard by a stable hash
/// (<see cref="Sharding.ShardMap.ShardOf"/>), one model per shard. One shard: one model for every series.
/// </summary>
/// <param name="Deployment">The deployment's name.</param>
/// <param name="Revision">Bumped by every change.</param>
/// <param name="Shards">The model of each shard.</param>
/// <param name="Groups">0: each series has its own grain (<see cref="ISeriesGrain"/>); G: the series are kept in G group
/// grains (<see cref="ISeriesGroupGrain"/>), series id to group by <see cref="SeriesGroups.GroupOf"/>.</param>
[GenerateSerializer, Immutable]
public sealed record DeploymentMap([property: Id(0)] string Deployment, [property: Id(1)] long Revision, [property: Id(2)] ShardModel[] Shards,
    [property: Id(3)] int Groups = 0)
{
    /// <summary>The shard of <paramref name="seriesId"/>.</summary>
    public int ShardOf(string seriesId) => Sharding.ShardMap.ShardOf(seriesId, Shards.Length);

    /// <summary>The group of <paramref name="seriesId"/> (with <see cref="Groups"/> &gt; 0).</summary>
    public int GroupOf(string seriesId) => SeriesGroups.GroupOf(seriesId, Groups);
}

/// <summary>One new value of a series of a group call.</summary>
/// <param name="SeriesId">The series.</param>
/// <param name="Observation">Its next value.</param>
/// <param name="Request">What the series' forecast is asked for (its own known-future covariates, say); null: the call's.
/// With several values of a series in one call, its last non-null request.</param>
[GenerateSerializer, Immutable]
public sealed record SeriesObservation([property: Id(0)] string SeriesId, [property: Id(1)] Observation Observation, [property: Id(2)] ForecastRequest? Request = null);

namespace MLNetRnn.Orleans;

/// <summary>
/// One series of a deployment, keyed <c>"{deployment}/{seriesId}"</c> (<see cref="SeriesKey"/>): its state is what
/// <see cref="RnnForecastingEngine"/> keeps of a series, persisted before an observation is acknowledged, so forecasts
/// equal, bit for bit, an engine's fed the same observations, across silo failures. Bad input (a value or covariate
/// that is not finite, the wrong number of covariates, a series never observed) is refused with the engine's message
/// and changes nothing.
/// </summary>
public interface ISeriesGrain : IGrainWithStringKey
{
    /// <summary>Observes the next value; returns once it is in the store.</summary>
    /// <exception cref="ArgumentException">A value is not finite, the covariate count is wrong, or the date is not the next step.</exception>
    Task<ObservationReceipt> Observe(Observation observation);

    /// <summary>Observes several next values in order, with one write; all or none.</summary>
    /// <exception cref="ArgumentException">One of them is bad (the message gives its position); none is kept.</exception>
    Task<ObservationReceipt> ObserveMany(Observation[] observations);

    /// <summary>Forecasts from the current state (the first forecast of a series the model does not know starts it cold).</summary>
    /// <exception cref="ArgumentException">The request is out of range, or the known-future covariates are missing or bad.</exception>
    /// <exception cref="InvalidOperationException">The series was never observed and the model does not know it, or is too short to start.</exception>
    Task<SeriesForecast> Predict(ForecastRequest? request = null);

    /// <summary>Observes the next value and forecasts from the state that includes it; the observation is kept (and
    /// written) only when the forecast succeeds too.</summary>
    Task<SeriesForecast> ObserveAndPredict(Observation observation, ForecastRequest? request = null);

    /// <summary>Where the series stands.</summary>
    Task<SeriesStatus> GetStatus();
}

/// <summary>Series grain keys.</summary>
public static class SeriesKey
{
    /// <summary><c>"{deployment}/{seriesId}"</c>; the deployment's name has no '/'.</summary>
    public static string Of(string deployment, string seriesId)
    {
        ArgumentException.ThrowIfNullOrEmpty(deployment);
        ArgumentNullException.ThrowIfNull(seriesId);
        if (deployment.Contains('/')) throw new ArgumentException($"A deployment's name has no '/'; got '{deployment}'.", nameof(deployment));
        return deployment + "/" + seriesId;
    }

    /// <summary>The deployment and series of a key.</summary>
    public static (string Deployment, string SeriesId) Parse(string key)
    {
        int slash = key.IndexOf('/');
        if (slash <= 0) throw new ArgumentException($"A series grain's key is '{{deployment}}/{{seriesId}}'; got '{key}'.", nameof(key));
        return (key[..slash], key[(slash + 1)..]);
    }
}

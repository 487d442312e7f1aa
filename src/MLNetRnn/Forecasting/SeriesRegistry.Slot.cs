using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

internal sealed partial class SeriesRegistry
{
    /// <summary>
    /// A registry that holds no series of its own: <see cref="RnnSeriesForecaster"/> lends it one series' parts
    /// (<see cref="Attach"/>) for the length of one call and takes them back (<see cref="Detach"/>), so the call runs
    /// the engine's own code on that series, its checks, gap filling and cold start included.
    /// </summary>
    public SeriesRegistry(ForecastModel model, ForecastColumns columns, int trainedSeries)
    {
        _model = model;
        _columns = columns;
        _trainedSeries = trainedSeries;
        _fits = new List<SeriesFit>(1);
        _ids = new List<string>(1);
        _states = new List<ForecastState>(1);
        _dates = new List<DateTime>(1);
        _index = new Dictionary<string, int>(1, StringComparer.Ordinal);
        _row = new float[model.Settings.CovariateCount];
    }

    /// <summary>One series' parts while nobody forecasts it: started (a fit and a state), or observed but not started
    /// (<see cref="Cold"/>), or neither (never observed). Owned by an <see cref="RnnSeriesState"/>.</summary>
    internal sealed class Slot(string id)
    {
        public string Id { get; } = id;
        public SeriesFit? Fit;                  // started: the model's fit of the series, or its own from a cold start
        public ForecastState? State;
        public DateTime LastDate;
        public ColdSeries? Cold;                // not started: what was observed of it; once started cold, what it started from
        public bool StartedCold;                // started here, not a series of the model: its fit is a function of Cold's values
    }

    /// <summary>Makes <paramref name="slot"/>'s series the registry's only one.</summary>
    public void Attach(Slot slot)
    {
        if (_ids.Count != 0 || _cold.Count != 0) throw new InvalidOperationException("The registry already holds a series.");
        if (slot.State is not null)
        {
            _fits.Add(slot.Fit!);
            _ids.Add(slot.Id);
            _states.Add(slot.State);
            _dates.Add(slot.LastDate);
            _index[slot.Id] = 0;
        }
        else if (slot.Cold is not null) _cold[slot.Id] = slot.Cold;
    }

    /// <summary>Takes the series back into <paramref name="slot"/> as the call left it (observed, started cold) and
    /// empties the registry.</summary>
    public void Detach(Slot slot)
    {
        if (_ids.Count == 1)
        {
            // Started during the call: StartCold took the values out of _cold; slot.Cold still holds them.
            if (slot.State is null) slot.StartedCold = true;
            slot.Fit = _fits[0];
            slot.State = _states[0];
            slot.LastDate = _dates[0];
        }
        else if (_cold.TryGetValue(slot.Id, out var cold)) slot.Cold = cold;
        _fits.Clear();
        _ids.Clear();
        _states.Clear();
        _dates.Clear();
        _index.Clear();
        _cold.Clear();
        _startedCold = false;
    }
}

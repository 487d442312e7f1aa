namespace MLNetRnn;

/// <summary>
/// Where one series stands for a <see cref="RnnSeriesForecaster"/>: what <see cref="RnnForecastingEngine"/> keeps of a
/// series, held by the caller instead of the engine (a grain of a forecasting service, a row of a database). The
/// forecaster observes into it and forecasts from it; <see cref="ToBytes"/> and
/// <see cref="RnnSeriesForecaster.ReadState"/> move it between processes, and the forecasts go on bit for bit.
/// Not thread-safe: one caller at a time.
/// </summary>
public sealed class RnnSeriesState
{
    internal RnnSeriesState(SeriesRegistry.Slot slot, RnnSeriesForecaster owner)
    {
        Slot = slot;
        Owner = owner;
    }

    internal SeriesRegistry.Slot Slot { get; }

    /// <summary>The forecaster (so the model) the state belongs to.</summary>
    internal RnnSeriesForecaster Owner { get; }

    /// <summary>The series' id.</summary>
    public string SeriesId => Slot.Id;

    /// <summary>Values seen so far: those of the model's training data (or checkpoint) and every observation since.</summary>
    public long ObservationCount => Slot.State?.Count ?? Slot.Cold?.Values.Count ?? 0;

    /// <summary>Whether the series can be forecast now without a cold start: a series of the model, or one started
    /// cold by an earlier forecast. False for a series observed but not started (its first forecast starts it).</summary>
    public bool IsStarted => Slot.State is not null;

    /// <summary>The date of the series' last value (with a date column; default otherwise, and before any).</summary>
    public DateTime LastDate => Slot.State is not null ? Slot.LastDate : Slot.Cold?.LastDate ?? default;

    /// <summary>The state as bytes (a few hundred for a typical series: the window, one season, the base's smoothing
    /// state; a series started cold also keeps the values it started from, of which its fit is a function).
    /// <see cref="RnnSeriesForecaster.ReadState"/> with the same model reads them back.</summary>
    public byte[] ToBytes() => Owner.Write(this);
}

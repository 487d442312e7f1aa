using System.Collections.Concurrent;
using Microsoft.ML;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>
/// <see cref="RnnForecastingEngine"/> split in two for a service that keeps each series' state itself (a grain, a
/// database row): the forecaster holds the fitted model, loaded once and shared by every thread; each series' state
/// is an <see cref="RnnSeriesState"/> the caller keeps, moves and saves (<see cref="RnnSeriesState.ToBytes"/>).
/// <see cref="Observe"/> and <see cref="Predict"/> run the engine's own code on one state (the same checks, gap
/// filling and cold start), so a series fed the same observations forecasts the same numbers, bit for bit, as the
/// series in an engine made from the same model.
/// </summary>
/// <remarks>Thread-safe: calls on different states may run at once (each borrows a one-series engine from a pool);
/// one state must not be used by two calls at once.</remarks>
public sealed class RnnSeriesForecaster
{
    private readonly RnnForecastingTransformer _forecaster;
    private readonly ForecastModel _model;
    private readonly ForecastColumns _columns;
    private readonly Dictionary<string, PendingSeries> _pending;
    private readonly ConcurrentBag<Lease> _pool = [];

    /// <summary>A one-series engine and the registry it runs on.</summary>
    private sealed record Lease(RnnForecastingEngine Engine, SeriesRegistry Registry);

    /// <summary>A forecaster for the series of <paramref name="model"/>.</summary>
    /// <param name="model">A fitted or loaded model: the forecaster alone, or a pipeline holding exactly one.</param>
    /// <exception cref="ArgumentException">The model holds no forecaster, or several.</exception>
    public RnnSeriesForecaster(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var found = model is RnnForecastingTransformer single ? [single]
            : model is IEnumerable<ITransformer> chain ? chain.OfType<RnnForecastingTransformer>().ToArray() : [];
        if (found.Length != 1)
            throw new ArgumentException($"The model must contain exactly one {nameof(RnnForecastingTransformer)}; found {found.Length} in a {model.GetType().Name}.", nameof(model));
        _forecaster = found[0];
        _model = _forecaster.Model;
        _columns = _forecaster.Columns;
        _pending = _forecaster.Series.Pending.ToDictionary(p => p.Id, StringComparer.Ordinal);
    }

    /// <summary>The most steps a forecast can have: the model's horizon.</summary>
    public int Horizon => _forecaster.Horizon;

    /// <summary>The confidence level of the bounds unless a call asks for another.</summary>
    public float ConfidenceLevel => _forecaster.ConfidenceLevel;

    /// <summary>Levels of the quantile heads, ascending; empty without them.</summary>
    public IReadOnlyList<float> QuantileLevels => _model.Settings.Quantiles;

    /// <summary>The covariates <see cref="Observe"/> takes per value, in order: past-only columns, then known-future
    /// columns, then the holiday column.</summary>
    public IReadOnlyList<string> CovariateColumnNames => _columns.Observed;

    /// <summary>The known-future columns <see cref="Predict"/> needs values of for the horizon (the holiday column last).</summary>
    public IReadOnlyList<string> KnownFutureColumnNames => _columns.Future;

    /// <summary>Whether observations carry dates (the model has a date column).</summary>
    public bool HasDates => _columns.Date is not null;

    /// <summary>The ids of the series the model was trained on (and checkpointed with); "" for a model of one series.</summary>
    public IReadOnlyList<string> SeriesIds => _forecaster.SeriesIds;

    /// <summary>Whether the model holds <paramref name="seriesId"/>: trained on it, or keeping it pending (too short).</summary>
    public bool Knows(string seriesId) => _forecaster.Series.Index.ContainsKey(seriesId) || _pending.ContainsKey(seriesId);

    /// <summary>
    /// The state <paramref name="seriesId"/> starts from, as an engine made from the model would hold it: a series of
    /// the model where its data (or checkpoint) ended (a copy), a pending one with its values, any other with nothing
    /// observed (its first observations start it cold).
    /// </summary>
    public RnnSeriesState CreateState(string seriesId)
    {
        ArgumentNullException.ThrowIfNull(seriesId);
        var slot = new SeriesRegistry.Slot(seriesId);
        var set = _forecaster.Series;
        if (set.Index.TryGetValue(seriesId, out int i))
        {
            slot.Fit = _model.Series[i];
            slot.State = set.States[i].Clone();
            slot.LastDate = set.LastDates[i];
        }
        else if (_pending.TryGetValue(seriesId, out var p))
        {
            slot.Cold = new SeriesRegistry.ColdSeries { LastDate = p.LastDate, Static = p.Static };
            slot.Cold.Values.AddRange(p.Values);
            slot.Cold.Covariates.AddRange(p.Covariates);
        }
        return new RnnSeriesState(slot, this);
    }

    /// <summary>Adds the next value of the series and its row's covariates (<see cref="CovariateColumnNames"/>), as
    /// <see cref="RnnForecastingEngine.Observe(string, float, ReadOnlySpan{float}, DateTime?)"/> does. On an exception
    /// the state is as it was.</summary>
    /// <exception cref="ArgumentException">A value is not finite, the number of covariates is wrong, or the date is not
    /// the next step (the message names the column or the dates).</exception>
    public void Observe(RnnSeriesState state, float value, ReadOnlySpan<float> covariates = default, DateTime? date = null)
    {
        var lease = Rent(state);
        try { lease.Engine.Observe(state.SeriesId, value, covariates, date); }
        finally { Return(lease, state); }
    }

    /// <summary>Forecasts the series from its state, as <see cref="RnnForecastingEngine.Predict(string, int?, IReadOnlyDictionary{string, float[]}?, float?)"/>
    /// does; the first forecast of a series observed but not started starts it cold (the state then holds its fit).</summary>
    /// <param name="state">The series' state.</param>
    /// <param name="horizon">1 to <see cref="Horizon"/>; null = the model's.</param>
    /// <param name="futureCovariates">With known-future covariates: per column, one value per step of the model's horizon.</param>
    /// <param name="confidenceLevel">In (0, 1); null = the model's.</param>
    /// <exception cref="ArgumentException">An argument is out of range, or the known-future covariates are missing, of the
    /// wrong length or not finite.</exception>
    /// <exception cref="InvalidOperationException">The series is unknown (never observed), or too short to start cold.</exception>
    public RnnForecast Predict(RnnSeriesState state, int? horizon = null, IReadOnlyDictionary<string, float[]>? futureCovariates = null, float? confidenceLevel = null)
    {
        var lease = Rent(state);
        try { return lease.Engine.Predict(state.SeriesId, horizon, futureCovariates, confidenceLevel); }
        finally { Return(lease, state); }
    }

    private Lease Rent(RnnSeriesState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!ReferenceEquals(state.Owner, this))
            throw new ArgumentException($"The state of series '{state.SeriesId}' belongs to another forecaster (another model); read its bytes with this one's ReadState, or create it here.", nameof(state));
        if (!_pool.TryTake(out var lease))
        {
            var registry = new SeriesRegistry(_model, _columns, _forecaster.SeriesIds.Count);
            lease = new Lease(new RnnForecastingEngine(_forecaster, null, registry), registry);
        }
        lease.Registry.Attach(state.Slot);
        return lease;
    }

    private void Return(Lease lease, RnnSeriesState state)
    {
        lease.Registry.Detach(state.Slot);
        // A failed first observation of a new series may leave an empty record behind: nothing was observed.
        if (state.Slot.Cold is { Values.Count: 0 }) state.Slot.Cold = null;
        if (state.Slot.StartedCold) state.Slot.Cold!.Covariates.Clear();   // the state holds the window's rows now
        _pool.Add(lease);
    }

    // *** Bytes of a state (version 1) *** int32 version; string id; byte kind:
    //   0 nothing observed;
    //   1 observed, not started: int64 last date (ticks); int32 n; float[n] values; float[n·C] covariates; bool static known, float[Z];
    //   2 a series of the model: int64 last date; the ForecastState (its binary format);
    //   3 started cold: int64 last date; int32 n; float[n] the values it started from; bool static known, float[Z]; the ForecastState.
    // A series started cold keeps its values rather than its fit: the fit is a function of them (ForecastModel.FitSeries),
    // refitted when the bytes are read, the same numbers.
    private const int BytesVersion = 1;

    internal byte[] Write(RnnSeriesState state)
    {
        var slot = state.Slot;
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(BytesVersion);
            w.Write(slot.Id);
            if (slot.State is null && slot.Cold is null) w.Write((byte)0);
            else if (slot.State is null)
            {
                var cold = slot.Cold!;
                w.Write((byte)1);
                w.Write(cold.LastDate.Ticks);
                w.Write(cold.Values.Count);
                foreach (float v in cold.Values) w.Write(v);
                foreach (float c in cold.Covariates) w.Write(c);
                WriteStatic(w, cold.Static);
            }
            else if (!slot.StartedCold)
            {
                w.Write((byte)2);
                w.Write(slot.LastDate.Ticks);
                slot.State.Write(w);
            }
            else
            {
                var cold = slot.Cold!;
                w.Write((byte)3);
                w.Write(slot.LastDate.Ticks);
                w.Write(cold.Values.Count);
                foreach (float v in cold.Values) w.Write(v);
                WriteStatic(w, cold.Static);
                slot.State.Write(w);
            }
        }
        return stream.ToArray();
    }

    private static void WriteStatic(BinaryWriter w, float[]? values)
    {
        w.Write(values is not null);
        if (values is null) return;
        foreach (float z in values) w.Write(z);
    }

    /// <summary>Reads what <see cref="RnnSeriesState.ToBytes"/> wrote, for this forecaster's model.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a state of this model's (a series it does not hold,
    /// buffers of another size, values that are not finite).</exception>
    public RnnSeriesState ReadState(ReadOnlySpan<byte> bytes)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8);
        try
        {
            int version = r.ReadInt32();
            if (version != BytesVersion) throw new InvalidDataException($"Series state bytes of version {version}; this version reads {BytesVersion}.");
            var slot = new SeriesRegistry.Slot(r.ReadString());
            byte kind = r.ReadByte();
            int C = _model.Settings.CovariateCount, Z = _model.Settings.StaticFeatureCount;
            switch (kind)
            {
                case 0:
                    break;
                case 1:
                    {
                        var date = ReadDate(r, slot.Id);
                        int n = ReadCount(r, slot.Id);
                        slot.Cold = new SeriesRegistry.ColdSeries { LastDate = date };
                        slot.Cold.Values.AddRange(ReadFinite(r, n, slot.Id));
                        slot.Cold.Covariates.AddRange(ReadFinite(r, n * C, slot.Id));
                        slot.Cold.Static = ReadStatic(r, Z, slot.Id);
                        break;
                    }
                case 2:
                    {
                        if (!_forecaster.Series.Index.TryGetValue(slot.Id, out int i))
                            throw new InvalidDataException($"The state is of series '{slot.Id}' of the model, but this model has no such series: it is another model's.");
                        slot.LastDate = ReadDate(r, slot.Id);
                        slot.Fit = _model.Series[i];
                        slot.State = ForecastState.Read(r, _model.Settings, slot.Fit);
                        break;
                    }
                case 3:
                    {
                        slot.LastDate = ReadDate(r, slot.Id);
                        int n = ReadCount(r, slot.Id);
                        slot.Cold = new SeriesRegistry.ColdSeries { LastDate = slot.LastDate };
                        slot.Cold.Values.AddRange(ReadFinite(r, n, slot.Id));
                        slot.Cold.Static = ReadStatic(r, Z, slot.Id);
                        slot.StartedCold = true;
                        // As SeriesRegistry.StartCold fits it: on the values it started from, unknown statics encoded as none.
                        slot.Fit = _model.FitSeries(slot.Cold.Values.ToArray(), slot.Cold.Static ?? _columns.EncodeStatic([]));
                        slot.State = ForecastState.Read(r, _model.Settings, slot.Fit);
                        break;
                    }
                default:
                    throw new InvalidDataException($"Series state kind {kind} of series '{slot.Id}' is not one this version writes (0 to 3).");
            }
            if (stream.Position != stream.Length) throw new InvalidDataException($"{stream.Length - stream.Position} bytes follow the state of series '{slot.Id}'.");
            return new RnnSeriesState(slot, this);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("The series state bytes end early.", ex);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The series state does not suit this model: {ex.Message}", ex);
        }
    }

    private static DateTime ReadDate(BinaryReader r, string id)
    {
        long ticks = r.ReadInt64();
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks) throw new InvalidDataException($"The saved date of series '{id}' is out of range.");
        return new DateTime(ticks);
    }

    private static int ReadCount(BinaryReader r, string id)
    {
        int n = r.ReadInt32();
        if (n < 1 || n > 1 << 26) throw new InvalidDataException($"Series '{id}' holds {n} saved values; expected 1 to {1 << 26}.");
        return n;
    }

    private static float[] ReadFinite(BinaryReader r, int n, string id)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
            if (!float.IsFinite(values[i] = r.ReadSingle())) throw new InvalidDataException($"Series '{id}' holds a saved value that is not finite.");
        return values;
    }

    private static float[]? ReadStatic(BinaryReader r, int Z, string id) => r.ReadBoolean() ? ReadFinite(r, Z, id) : null;
}

using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Training;

namespace MLNetRnn;

/// <summary>
/// The output of <see cref="RnnForecastingTransformer.Transform"/>: the input's columns, then the forecast, bound and
/// quantile vectors. Its cursor reads the rows in order and keeps, per series, the state of its rows so far, so each
/// row's forecast is made from its series' rows up to and including it. Rows depend on their predecessors, so it cannot
/// be shuffled and offers one cursor at a time.
/// </summary>
/// <remarks>
/// <para>
/// A model of many series, or with known-future covariates, first makes one pass over the data: series the model was
/// not trained on are fitted on their rows here (a cold start), and each series' known-future covariates are kept so
/// that a row's forecast can read those of the H rows after it.
/// </para>
/// <para>
/// A series' rows either restate its history (the training data, or a part of it: the forecasts start from nothing, as
/// on the training data) or continue it (only newer rows: the forecasts start from the model's state, as an engine
/// would after observing them). With a date column, rows continue a series when its first row here is dated after the
/// series' last date in the model; a gap between the two is filled or refused as in training. Without one, they
/// continue it when there are fewer of them than the series' first forecast reads (the window, and a season for a
/// seasonal base), since they could not be forecast from on their own; a longer run is read as the series' history.
/// A series the model holds as pending (shorter than a window) is continued by date only, from its pending values.
/// </para>
/// </remarks>
internal sealed partial class ForecastDataView : IDataView
{
    private readonly IDataView _source;
    private readonly RnnForecastingTransformer _transformer;
    private readonly PanelReader _reader;
    private readonly int _firstOutput;   // schema index of the first output column
    private Lookahead? _lookahead;
    private Dictionary<string, long>? _lengths;   // rows per series here, for the continuation rule without dates

    public ForecastDataView(IDataView source, RnnForecastingTransformer transformer, PanelReader reader)
    {
        _source = source; _transformer = transformer; _reader = reader;
        Schema = OutputSchema(source.Schema, transformer);
        _firstOutput = source.Schema.Count;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public static DataViewSchema OutputSchema(DataViewSchema input, RnnForecastingTransformer t)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        var type = new VectorDataViewType(NumberDataViewType.Single, t.Horizon);
        builder.AddColumn(t.OutputColumnName, type);
        if (t.LowerBoundColumnName is not null) builder.AddColumn(t.LowerBoundColumnName, type);
        if (t.UpperBoundColumnName is not null) builder.AddColumn(t.UpperBoundColumnName, type);
        if (t.QuantilesColumnName is not null) builder.AddColumn(t.QuantilesColumnName, new VectorDataViewType(NumberDataViewType.Single, t.Horizon, t.Quantiles.Count));
        return builder.ToSchema();
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        bool outputs = needed.Any(c => c.Index >= _firstOutput);
        var sourceColumns = needed.Where(c => c.Index < _firstOutput).Select(c => _source.Schema[c.Index]);
        if (outputs) sourceColumns = sourceColumns.Concat(_reader.Active);
        var cursor = _source.GetRowCursor(sourceColumns.Distinct().ToArray());
        if (outputs && (_transformer.SeriesIdColumnName is not null || _transformer.Model.Settings.FutureCovariateCount > 0)) _lookahead ??= Lookahead.Of(this);
        if (outputs && _transformer.DateColumnName is null) _lengths ??= _lookahead?.Lengths ?? CountRows();
        return new Cursor(this, cursor, outputs, needed.Select(c => c.Index).ToHashSet());
    }

    /// <summary>Rows per series (by id; "" without a series id column), in a pass that reads only the id.</summary>
    private Dictionary<string, long> CountRows()
    {
        var lengths = new Dictionary<string, long>(StringComparer.Ordinal);
        if (_reader.IdColumn is not { } idColumn)
        {
            long n = _source.GetRowCount() ?? -1;
            if (n < 0)
                using (var all = _source.GetRowCursor([]))
                    for (n = 0; all.MoveNext();) n++;
            lengths[""] = n;
            return lengths;
        }
        using var cursor = _source.GetRowCursor([idColumn]);
        var getId = PanelReader.TextGetter(cursor, idColumn);
        while (cursor.MoveNext())
        {
            string id = getId() ?? "";
            lengths[id] = lengths.GetValueOrDefault(id) + 1;
        }
        return lengths;
    }

    // Rows depend on their predecessors, so they cannot be split across parallel cursors.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    /// <summary>What the first pass learns: the fits of series the model does not know, and each series' known-future
    /// covariates (n·Cf, with gap-filled rows, as the cursor walks them).</summary>
    private sealed class Lookahead
    {
        public required Dictionary<string, SeriesFit?> ColdFits;     // null: too short to start
        public required Dictionary<string, float[]> Future;          // (n·Cf) per series
        public required Dictionary<string, long> Lengths;            // rows per series, as read (gap-filled rows included)
        public required HashSet<string> PendingContinued;           // pending series whose rows here are dated after them

        public static Lookahead Of(ForecastDataView view)
        {
            var t = view._transformer;
            var columns = t.Columns;
            var (rows, _) = view._reader.Read(view._source, columns.Step);
            var cold = new Dictionary<string, SeriesFit?>(StringComparer.Ordinal);
            var future = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var continued = new HashSet<string>(StringComparer.Ordinal);
            int Cu = columns.Observed.Length, Cp = columns.Covariates.Length, Cg = columns.Future.Length, Cf = columns.FutureWidth;
            for (int s = 0; s < rows.Count; s++)
            {
                var observed = rows.Observed[s];
                int n = rows.Values[s].Count;
                if (Cf > 0)
                {
                    // Each row's known-future covariates as a forecast reads them: the columns, then the calendar of its date.
                    var f = new float[n * Cf];
                    for (int r = 0; r < n; r++)
                    {
                        for (int c = 0; c < Cg; c++) f[r * Cf + c] = observed[r * Cu + Cp + c];
                        if (columns.Calendar != CalendarFeatures.None) Calendar.Write(columns.Calendar, rows.Dates[s][r], f.AsSpan(r * Cf + Cg, Cf - Cg));
                    }
                    future[rows.Ids[s]] = f;
                }
                if (t.Series.Index.ContainsKey(rows.Ids[s])) continue;
                // A series the model was not trained on: fitted on its rows here, as the estimator fitted the others on
                // theirs; a pending series whose rows here come after its pending values, on those values and these rows.
                var values = rows.Values[s];
                var pending = view.ContinuedPending(rows.Ids[s], rows.Dates[s].Count > 0 ? rows.Dates[s][0] : null);
                if (pending is not null)
                {
                    continued.Add(rows.Ids[s]);
                    values = [.. pending.Values, .. JunctionFill(columns, pending.Values[^1], pending.LastDate, rows.Dates[s][0], values[0], rows.Name(s, columns)), .. values];
                }
                try
                {
                    cold[rows.Ids[s]] = t.Model.FitSeries(values.ToArray(), columns.EncodeStatic(rows.Static[s]));
                }
                catch (ArgumentException)
                {
                    cold[rows.Ids[s]] = null;
                }
            }
            var lengths = rows.Ids.Select((id, s) => (id, (long)rows.Values[s].Count)).ToDictionary(x => x.id, x => x.Item2, StringComparer.Ordinal);
            return new Lookahead { ColdFits = cold, Future = future, Lengths = lengths, PendingContinued = continued };
        }
    }

    /// <summary>The pending series <paramref name="id"/> if the rows here continue it: the first is dated after its
    /// pending values (a date column is needed to tell; without one a pending series is read from its rows here alone).</summary>
    private PendingSeries? ContinuedPending(string id, DateTime? first)
    {
        if (first is not DateTime date || _transformer.DateColumnName is null) return null;
        var pending = _transformer.Series.Pending.FirstOrDefault(p => p.Id == id);
        return pending is not null && date > pending.LastDate ? pending : null;
    }

    /// <summary>The values filling the steps between a series' last value (<paramref name="last"/>, dated
    /// <paramref name="lastDate"/>) and the first row here, as training fills a gap: the last value carried, or the line
    /// to <paramref name="next"/>. Refused, as in training, when the model does not fill gaps or the dates are not a
    /// whole number of steps apart.</summary>
    /// <exception cref="InvalidOperationException">The gap cannot be filled (names the date column and both dates).</exception>
    private static List<float> JunctionFill(ForecastColumns columns, float last, DateTime lastDate, DateTime date, float next, string? series = null)
    {
        var filled = new List<float>();
        if (!columns.Step.IsKnown) return filled;
        long k = columns.Step.StepsBetween(lastDate, date);
        if (k == 1) return filled;
        string who = series ?? "the series";
        if (k < 1)
            throw new InvalidOperationException($"Date column '{columns.Date}': the first row of {who} here, {date:yyyy-MM-dd HH:mm:ss}, comes after the model's last date of it, " +
                $"{lastDate:yyyy-MM-dd HH:mm:ss}, so it is read as continuing the model; but it is not a whole number of time steps ({columns.Step}) later.");
        if (columns.Gaps == GapFilling.None)
            throw new InvalidOperationException($"Date column '{columns.Date}': the first row of {who} here, {date:yyyy-MM-dd HH:mm:ss}, continues the model's last date of it, " +
                $"{lastDate:yyyy-MM-dd HH:mm:ss}, after a gap of {Counted.Of(k - 1, "time step")} of {columns.Step}. Give the rows between (or all the rows from the start), " +
                "or fit with GapFilling PreviousValue or Linear.");
        float previous = last;
        for (long j = 1; j < k; j++)
        {
            previous = columns.Gaps == GapFilling.Linear ? previous + (next - previous) / (k - j + 1) : previous;
            filled.Add(previous);
        }
        return filled;
    }

    /// <summary>One series as the cursor walks it.</summary>
    private sealed class Walk
    {
        public required string Id;
        public required SeriesFit? Fit;      // null: the series cannot be forecast (unknown and too short)
        public required ForecastState? State;
        public DateTime LastDate;
        public bool Dated;                    // LastDate holds a date: the model's (continuing) or a row's
        public bool Continues;                // the rows here continue the model's state of the series
        public long Steps;                    // rows of this view pushed, filled ones included (not the junction's)
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ForecastDataView _view;
        private readonly DataViewRowCursor _source;
        private readonly bool _outputs;
        private readonly HashSet<int> _active;
        private readonly ForecastModel _model;
        private readonly ForecastColumns _columns;
        private readonly ForecastRunner.Scratch _scratch;
        private readonly Dictionary<string, Walk> _walks = new(StringComparer.Ordinal);
        private readonly ValueGetter<float>? _getValue;
        private readonly Func<float>[] _getObserved;
        private readonly Func<string?>? _getId;
        private readonly ValueGetter<DateTime>? _getDate;
        private readonly float[] _observed;                  // (Cu) the row's observed covariates
        private readonly float[] _previous;                  // (Cu) the series' previous observed covariates (gap filling)
        private readonly float[] _rowCovariates;             // (C)
        private readonly float[] _future;                    // (H·Cf)
        private readonly float[] _forecast, _lower, _upper;  // (H) each, for the current row
        private readonly float[] _quantiles;                 // (H·Q)
        private Walk? _current;
        private long _forecastFor = -1;

        public Cursor(ForecastDataView view, DataViewRowCursor source, bool outputs, HashSet<int> active)
        {
            _view = view; _source = source; _outputs = outputs; _active = active;
            _model = view._transformer.Model;
            _columns = view._transformer.Columns;
            var s = _model.Settings;
            int H = s.Horizon, Cu = _columns.Observed.Length;
            _observed = new float[Cu];
            _previous = new float[Cu];
            _rowCovariates = new float[s.CovariateCount];
            _future = new float[H * s.FutureCovariateCount];
            _forecast = new float[H]; _lower = new float[H]; _upper = new float[H];
            _quantiles = new float[H * s.QuantileCount];
            _scratch = _model.CreateScratch();
            _getObserved = [];
            if (outputs)
            {
                var reader = view._reader;
                _getValue = source.GetGetter<float>(reader.Value);
                _getObserved = reader.ObservedColumns.Select(c => PanelReader.FloatGetter(source, c)).ToArray();
                _getId = reader.IdColumn is { } id ? PanelReader.TextGetter(source, id) : null;
                _getDate = reader.DateColumn is { } date ? source.GetGetter<DateTime>(date) : null;
            }
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _source.Position;

        public override long Batch => _source.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _source.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column)
            => column.Index >= _view._firstOutput ? _outputs && _active.Contains(column.Index) : _source.IsColumnActive(_source.Schema[column.Index]);

        public override bool MoveNext()
        {
            if (!_source.MoveNext()) return false;
            if (!_outputs) return true;
            string id = _getId?.Invoke() ?? "";
            if (_getId is not null && id.Length == 0)
                throw new InvalidOperationException($"Series id column '{_columns.SeriesId}' has no value at row {_source.Position}; every row needs the id of its series.");
            DateTime date = default;
            _getDate?.Invoke(ref date);
            var walk = _current = WalkOf(id, date);
            float v = 0;
            _getValue!(ref v);
            for (int c = 0; c < _getObserved.Length; c++) _observed[c] = _getObserved[c]();
            if (_getDate is not null)
            {
                if (walk.Dated && _columns.Step.IsKnown) FillGap(walk, date, v);
                walk.LastDate = date;
                walk.Dated = true;
            }
            _columns.WriteCovariates(_observed, date, _rowCovariates);
            walk.State?.Push(walk.Fit!.Baseline, v, _rowCovariates);
            walk.Steps++;
            _observed.CopyTo(_previous, 0);
            return true;
        }

        /// <summary>Pushes the steps missing before <paramref name="date"/>, or refuses them as the estimator does.</summary>
        private void FillGap(Walk walk, DateTime date, float value)
        {
            string series = _columns.SeriesId is null ? "the series" : $"series '{walk.Id}'";
            if (walk.Continues && walk.Steps == 0)
            {
                // The first row continues the model's state: the steps between its last date and this row are filled as
                // an engine fills them, the state's last covariates carried; they are no rows of this view.
                var state = walk.State!;
                int Cu = _columns.Observed.Length, offset = state.Covariates.Length - Cu - Calendar.Count(_columns.Calendar);
                if (Cu > 0) state.Covariates.AsSpan(offset, Cu).CopyTo(_previous);
                var fill = JunctionFill(_columns, state.History[^1], walk.LastDate, date, value, series);
                for (int j = 0; j < fill.Count; j++)
                {
                    _columns.WriteCovariates(_previous, _columns.Step.Add(walk.LastDate, j + 1), _rowCovariates);
                    state.Push(walk.Fit!.Baseline, fill[j], _rowCovariates);
                }
                return;
            }
            long k = _columns.Step.StepsBetween(walk.LastDate, date);
            if (k == 1) return;
            if (k < 1)
                throw new InvalidOperationException($"Date column '{_columns.Date}' in {series} at row {_source.Position}: {date:yyyy-MM-dd HH:mm:ss} is not a whole number of time steps ({_columns.Step}) after {walk.LastDate:yyyy-MM-dd HH:mm:ss}.");
            if (_columns.Gaps == GapFilling.None)
                throw new InvalidOperationException($"Date column '{_columns.Date}': {series} has a gap at row {_source.Position}: {date:yyyy-MM-dd HH:mm:ss} follows {walk.LastDate:yyyy-MM-dd HH:mm:ss}, " +
                    $"{Counted.Of(k - 1, "time step")} of {_columns.Step} missing. Fill them in the data, or fit with GapFilling PreviousValue or Linear.");
            float previous = walk.State?.History[^1] ?? value;
            for (long j = 1; j < k; j++)
            {
                float filled = _columns.Gaps == GapFilling.Linear ? previous + (value - previous) / (k - j + 1) : previous;
                previous = filled;
                _columns.WriteCovariates(_previous, _columns.Step.Add(walk.LastDate, j), _rowCovariates);
                walk.State?.Push(walk.Fit!.Baseline, filled, _rowCovariates);
                walk.Steps++;
            }
        }

        /// <summary>The walk of series <paramref name="id"/>, started at its first row here (dated <paramref name="date"/>
        /// with a date column): from the model's state when the rows continue it, else from nothing.</summary>
        private Walk WalkOf(string id, DateTime date)
        {
            if (_walks.TryGetValue(id, out var walk)) return walk;
            SeriesFit? fit = null;
            var set = _view._transformer.Series;
            bool known = set.Index.TryGetValue(id, out int i);
            if (known) fit = _model.Series[i];
            else if (_view._lookahead?.ColdFits.TryGetValue(id, out var cold) == true) fit = cold;
            else if (_columns.SeriesId is null) fit = _model.Series[0];
            walk = new Walk { Id = id, Fit = fit, State = fit is null ? null : ForecastState.Empty(_model.Settings, fit) };
            if (known && Continues(i, id, date))
            {
                walk.State = set.States[i].Clone();
                walk.Continues = true;
                if (_columns.Date is not null) (walk.LastDate, walk.Dated) = (set.LastDates[i], true);
            }
            else if (fit is not null && _view._lookahead?.PendingContinued.Contains(id) == true)
            {
                // A pending series continued by date: its pending values first (its fit was made on them and these rows).
                var p = set.Pending.First(x => x.Id == id);
                int C = _model.Settings.CovariateCount;
                for (int k = 0; k < p.Values.Length; k++) walk.State!.Push(fit.Baseline, p.Values[k], p.Covariates.AsSpan(k * C, C));
                (walk.LastDate, walk.Dated, walk.Continues) = (p.LastDate, true, true);
            }
            _walks[id] = walk;
            return walk;
        }

        /// <summary>Do the rows here continue the model's series <paramref name="i"/>? By date when there is a date column,
        /// else when they are too few to forecast from on their own (<see cref="ForecastDataView"/>'s remarks).</summary>
        private bool Continues(int i, string id, DateTime date)
        {
            if (_columns.Date is not null) return date > _view._transformer.Series.LastDates[i];
            return _view._lengths!.GetValueOrDefault(id) < _model.Series[i].FirstOrigin(_model.Settings);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < _view._firstOutput) return _source.GetGetter<TValue>(_source.Schema[column.Index]);
            if (!IsColumnActive(column)) throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            if (typeof(TValue) != typeof(VBuffer<float>))
                throw new InvalidOperationException($"Column '{column.Name}' is a vector of Single; asked for {typeof(TValue).Name}.");
            var t = _view._transformer;
            float[] source = column.Name == t.OutputColumnName ? _forecast
                : column.Name == t.LowerBoundColumnName ? _lower
                : column.Name == t.UpperBoundColumnName ? _upper
                : _quantiles;
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) =>
            {
                EnsureForecast();
                var editor = VBufferEditor.Create(ref dst, source.Length);
                source.CopyTo(editor.Values);
                dst = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        private void EnsureForecast()
        {
            if (_forecastFor == _source.Position) return;
            _forecastFor = _source.Position;
            var walk = _current!;
            var s = _model.Settings;
            if (walk.State is null || walk.State.Count < walk.Fit!.FirstOrigin(s) || !Future(walk))
            {
                // Fewer rows than the window, a series that cannot be started, or known-future covariates past the data's end.
                Array.Fill(_forecast, float.NaN); Array.Fill(_lower, float.NaN); Array.Fill(_upper, float.NaN); Array.Fill(_quantiles, float.NaN);
                return;
            }
            _model.Forecast(walk.Fit, walk.State, _future, _view._transformer.ConfidenceLevel, _view._transformer.IntervalMethod, _scratch,
                _forecast, _lower, _upper, _quantiles);
        }

        /// <summary>The known-future covariates of the H steps after the current row: from the first pass, or, when
        /// they are only the calendar, from the row's date (as an engine writes them), so the last rows forecast too.</summary>
        private bool Future(Walk walk)
        {
            int Cf = _model.Settings.FutureCovariateCount, H = _model.Settings.Horizon;
            if (Cf == 0) return true;
            if (_columns.Future.Length == 0 && walk.Dated && _columns.Step.IsKnown)
            {
                _columns.WriteFuture([], walk.LastDate, H, _future);
                return true;
            }
            var all = _view._lookahead!.Future[walk.Id];
            long from = walk.Steps * Cf;
            if (from + (long)H * Cf > all.Length) return false;
            all.AsSpan((int)from, H * Cf).CopyTo(_future);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _source.Dispose();
            base.Dispose(disposing);
        }
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>
/// The output of <see cref="RnnForecastingTransformer.Transform"/>: the input's columns, then the forecast, bound and
/// quantile vectors. Its cursor reads the rows in order and keeps, per series, the state of its rows so far, so each
/// row's forecast is made from its series' rows up to and including it. Rows depend on their predecessors, so it cannot
/// be shuffled and offers one cursor at a time.
/// </summary>
/// <remarks>
/// A model of many series, or with known-future covariates, first makes one pass over the data: series the model was
/// not trained on are fitted on their rows here (a cold start), and each series' known-future covariates are kept so
/// that a row's forecast can read those of the H rows after it.
/// </remarks>
internal sealed partial class ForecastDataView : IDataView
{
    private readonly IDataView _source;
    private readonly RnnForecastingTransformer _transformer;
    private readonly PanelReader _reader;
    private readonly int _firstOutput;   // schema index of the first output column
    private Lookahead? _lookahead;

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
        return new Cursor(this, cursor, outputs, needed.Select(c => c.Index).ToHashSet());
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

        public static Lookahead Of(ForecastDataView view)
        {
            var t = view._transformer;
            var columns = t.Columns;
            var (rows, _) = view._reader.Read(view._source, columns.Step);
            var cold = new Dictionary<string, SeriesFit?>(StringComparer.Ordinal);
            var future = new Dictionary<string, float[]>(StringComparer.Ordinal);
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
                // A series the model was not trained on: fitted on its rows here, as the estimator fitted the others on theirs.
                try
                {
                    cold[rows.Ids[s]] = t.Model.FitSeries(rows.Values[s].ToArray(), columns.EncodeStatic(rows.Static[s]));
                }
                catch (ArgumentException)
                {
                    cold[rows.Ids[s]] = null;
                }
            }
            return new Lookahead { ColdFits = cold, Future = future };
        }
    }

    /// <summary>One series as the cursor walks it.</summary>
    private sealed class Walk
    {
        public required string Id;
        public required SeriesFit? Fit;      // null: the series cannot be forecast (unknown and too short)
        public required ForecastState? State;
        public DateTime LastDate;
        public long Steps;                    // rows pushed, filled ones included
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
            var walk = _current = WalkOf(id);
            float v = 0;
            _getValue!(ref v);
            for (int c = 0; c < _getObserved.Length; c++) _observed[c] = _getObserved[c]();
            DateTime date = default;
            if (_getDate is not null)
            {
                _getDate(ref date);
                if (walk.Steps > 0 && _columns.Step.IsKnown) FillGap(walk, date, v);
                walk.LastDate = date;
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
            long k = _columns.Step.StepsBetween(walk.LastDate, date);
            if (k == 1) return;
            string series = _columns.SeriesId is null ? "the series" : $"series '{walk.Id}'";
            if (k < 1)
                throw new InvalidOperationException($"Date column '{_columns.Date}' in {series} at row {_source.Position}: {date:yyyy-MM-dd HH:mm:ss} is not a whole number of time steps ({_columns.Step}) after {walk.LastDate:yyyy-MM-dd HH:mm:ss}.");
            if (_columns.Gaps == GapFilling.None)
                throw new InvalidOperationException($"Date column '{_columns.Date}': {series} has a gap at row {_source.Position}: {date:yyyy-MM-dd HH:mm:ss} follows {walk.LastDate:yyyy-MM-dd HH:mm:ss}, " +
                    $"{k - 1} time step(s) of {_columns.Step} missing. Fill them in the data, or fit with GapFilling PreviousValue or Linear.");
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

        private Walk WalkOf(string id)
        {
            if (_walks.TryGetValue(id, out var walk)) return walk;
            SeriesFit? fit = null;
            var set = _view._transformer.Series;
            if (set.Index.TryGetValue(id, out int i)) fit = _model.Series[i];
            else if (_view._lookahead?.ColdFits.TryGetValue(id, out var cold) == true) fit = cold;
            else if (_columns.SeriesId is null) fit = _model.Series[0];
            // A transformed data view is its own data: each series' history starts empty here.
            walk = new Walk { Id = id, Fit = fit, State = fit is null ? null : ForecastState.Empty(_model.Settings, fit) };
            _walks[id] = walk;
            return walk;
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

        /// <summary>The known-future covariates of the H steps after the current row, from the first pass.</summary>
        private bool Future(Walk walk)
        {
            int Cf = _model.Settings.FutureCovariateCount, H = _model.Settings.Horizon;
            if (Cf == 0) return true;
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

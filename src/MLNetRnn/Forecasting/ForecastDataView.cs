using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>
/// The output of <see cref="RnnForecastingTransformer.Transform"/>: the input's columns, then the forecast and
/// bound vectors. Its cursor reads the series in row order and keeps the last W rows, so each row's forecast is
/// made from the rows up to and including it. Rows depend on their predecessors, so it cannot be shuffled and
/// offers one cursor at a time.
/// </summary>
internal sealed partial class ForecastDataView : IDataView
{
    private readonly IDataView _source;
    private readonly RnnForecastingTransformer _transformer;
    private readonly SeriesColumns _columns;
    private readonly int _firstOutput;   // schema index of the first output column

    public ForecastDataView(IDataView source, RnnForecastingTransformer transformer, SeriesColumns columns)
    {
        _source = source; _transformer = transformer; _columns = columns;
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
        return builder.ToSchema();
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        bool outputs = needed.Any(c => c.Index >= _firstOutput);
        var sourceColumns = needed.Where(c => c.Index < _firstOutput).Select(c => _source.Schema[c.Index]);
        if (outputs) sourceColumns = sourceColumns.Append(_columns.Value).Concat(_columns.Covariates);
        var cursor = _source.GetRowCursor(sourceColumns.Distinct().ToArray());
        return new Cursor(this, cursor, outputs, needed.Select(c => c.Index).ToHashSet());
    }

    // Rows depend on their predecessors, so they cannot be split across parallel cursors.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ForecastDataView _view;
        private readonly DataViewRowCursor _source;
        private readonly bool _outputs;
        private readonly HashSet<int> _active;
        private readonly ForecastModel _model;
        private readonly ForecastModel.Scratch _scratch;
        private readonly ForecastState _state;
        private readonly ValueGetter<float>? _getValue;
        private readonly ValueGetter<float>[] _getCovariates;
        private readonly float[] _rowCovariates;            // (C)
        private readonly float[] _forecast, _lower, _upper; // (H) each, for the current row
        private long _forecastFor = -1;

        public Cursor(ForecastDataView view, DataViewRowCursor source, bool outputs, HashSet<int> active)
        {
            _view = view; _source = source; _outputs = outputs; _active = active;
            _model = view._transformer.Model;
            int W = _model.Settings.WindowSize, C = _model.Settings.CovariateCount, H = _model.Settings.Horizon;
            // A transformed data view is its own series: its history starts empty.
            _state = ForecastState.Empty(_model);
            _rowCovariates = new float[C];
            _forecast = new float[H]; _lower = new float[H]; _upper = new float[H];
            _scratch = _model.CreateScratch();
            _getCovariates = [];
            if (outputs)
            {
                _getValue = source.GetGetter<float>(view._columns.Value);
                _getCovariates = view._columns.Covariates.Select(c => source.GetGetter<float>(c)).ToArray();
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
            if (_outputs)
            {
                float v = 0;
                _getValue!(ref v);
                for (int c = 0; c < _getCovariates.Length; c++) _getCovariates[c](ref _rowCovariates[c]);
                _state.Push(_model.Baseline, v, _rowCovariates);
            }
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < _view._firstOutput) return _source.GetGetter<TValue>(_source.Schema[column.Index]);
            if (!IsColumnActive(column)) throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            if (typeof(TValue) != typeof(VBuffer<float>))
                throw new InvalidOperationException($"Column '{column.Name}' is a vector of Single; asked for {typeof(TValue).Name}.");
            // Output columns are forecast, then lower (if any), then upper (if any).
            int k = column.Index - _view._firstOutput;
            float[] source = k == 0 ? _forecast : k == 1 && _view._transformer.LowerBoundColumnName is not null ? _lower : _upper;
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
            if (_state.Count < _model.FirstOrigin)
            {
                // Fewer rows than the window: no forecast can be made yet.
                Array.Fill(_forecast, float.NaN); Array.Fill(_lower, float.NaN); Array.Fill(_upper, float.NaN);
                return;
            }
            _model.Forecast(_state, _view._transformer.ConfidenceLevel, _scratch, _forecast, _lower, _upper);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _source.Dispose();
            base.Dispose(disposing);
        }
    }
}

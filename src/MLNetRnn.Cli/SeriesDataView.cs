using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRnn.Cli;

/// <summary>
/// Columns held in arrays, as an ML.NET data view: the rows a CSV file gave after sorting and gap filling, which a text
/// loader over the file cannot give. Columns are Single (<see cref="float"/>[]), text (<see cref="ReadOnlyMemory{T}"/>
/// of char []) or DateTime (<see cref="DateTime"/>[]); one cursor reads them in row order.
/// </summary>
internal sealed class SeriesDataView : IDataView
{
    /// <summary>A named column and its values, one per row.</summary>
    internal sealed record Column(string Name, Array Values)
    {
        public DataViewType Type => Values switch
        {
            float[] => NumberDataViewType.Single,
            ReadOnlyMemory<char>[] => TextDataViewType.Instance,
            DateTime[] => DateTimeDataViewType.Instance,
            _ => throw new ArgumentException($"Column '{Name}' holds {Values.GetType().Name}; expected Single, text or DateTime values."),
        };
    }

    private readonly Column[] _columns;
    private readonly int _rows;

    public SeriesDataView(IEnumerable<Column> columns, int rows)
    {
        _columns = columns.ToArray();
        _rows = rows;
        var builder = new DataViewSchema.Builder();
        foreach (var c in _columns)
        {
            if (c.Values.Length != rows) throw new ArgumentException($"Column '{c.Name}' has {c.Values.Length} values; the view has {rows} rows.");
            builder.AddColumn(c.Name, c.Type);
        }
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rows;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this, columnsNeeded);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(SeriesDataView view, IEnumerable<DataViewSchema.Column> active) : DataViewRowCursor
    {
        private readonly HashSet<int> _active = active.Select(c => c.Index).ToHashSet();
        private long _position = -1;

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => view.Schema;

        public override bool MoveNext()
        {
            if (_position + 1 >= view._rows)
            {
                _position = view._rows;
                return false;
            }
            _position++;
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column)) throw new InvalidOperationException($"Column '{column.Name}' was not asked for when the cursor was made.");
            if (view._columns[column.Index].Values is not TValue[] values)
                throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it has no getter of {typeof(TValue).Name}.");
            return (ref TValue value) => value = values[_position];
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);
    }
}

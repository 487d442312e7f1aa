using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Serialization;

namespace MLNetRnn;

// S = series, n = rows of one series, Cu = covariate columns a row carries (past-only, known-future, holiday),
// Cc = calendar features, C = Cu + Cc, Z = encoded static features.

/// <summary>
/// The columns a fitted forecaster reads and what it derives from them: the series, its covariates (past-only and
/// known in advance), the series id, the date (calendar features, time step), the static features and how they are
/// encoded. Fixed by <see cref="RnnForecastingEstimator.Fit"/> and saved with the model.
/// </summary>
internal sealed class ForecastColumns
{
    public required string Input { get; init; }
    public required string[] Covariates { get; init; }      // past-only covariates
    public required string[] KnownFuture { get; init; }     // covariates whose future values are given for the forecast
    public string? Holiday { get; init; }                    // a known-future flag column
    public string? SeriesId { get; init; }
    public string? Date { get; init; }
    public CalendarFeatures Calendar { get; init; }          // resolved (never "automatic")
    public TimeStep Step { get; init; }                      // resolved from the training dates; unknown without a date column
    public GapFilling Gaps { get; init; }
    public StaticEncoder[] Static { get; init; } = [];

    /// <summary>The covariate columns each row carries, in the order the engine's Observe takes them: past-only,
    /// then known-future, then the holiday column.</summary>
    public string[] Observed => [.. Covariates, .. Future];

    /// <summary>The known-future columns, the holiday column last.</summary>
    public string[] Future => Holiday is null ? KnownFuture : [.. KnownFuture, Holiday];

    /// <summary>C: the covariates the networks read per row: the observed columns, then the calendar features.</summary>
    public int CovariateCount => Observed.Length + global::MLNetRnn.Calendar.Count(Calendar);

    /// <summary>The positions among the C covariates of those known for the horizon: the known-future columns and the
    /// calendar features (which follow from the dates).</summary>
    public int[] KnownFutureIndices => Enumerable.Range(Covariates.Length, Future.Length)
        .Concat(Enumerable.Range(Observed.Length, global::MLNetRnn.Calendar.Count(Calendar))).ToArray();

    /// <summary>Cf: covariates known for each step of the horizon (<see cref="KnownFutureIndices"/>).</summary>
    public int FutureWidth => Future.Length + global::MLNetRnn.Calendar.Count(Calendar);

    /// <summary>Writes step k's known-future covariates, (H, Cf) step-major: the given values of the known-future
    /// columns (<paramref name="given"/>, (H, Future.Length)), then the calendar features of the step's date, the
    /// (k + 1)-th step after <paramref name="lastDate"/>.</summary>
    public void WriteFuture(ReadOnlySpan<float> given, DateTime lastDate, int horizon, Span<float> destination)
    {
        int Cg = Future.Length, Cf = FutureWidth;
        for (int k = 0; k < horizon; k++)
        {
            var row = destination.Slice(k * Cf, Cf);
            given.Slice(k * Cg, Cg).CopyTo(row);
            if (Calendar != CalendarFeatures.None) global::MLNetRnn.Calendar.Write(Calendar, Step.Add(lastDate, k + 1), row[Cg..]);
        }
    }

    /// <summary>Z: the width of the encoded static features.</summary>
    public int StaticWidth => Static.Sum(e => e.Width);

    /// <summary>The category counts of the static columns read by index, which end the encoded static features.</summary>
    public int[] StaticCategories => Static.Where(e => e.Indexed).Select(e => e.Categories.Length).ToArray();

    /// <summary>Every input column, for cursors and schema checks.</summary>
    public IEnumerable<string> InputColumns => new[] { Input }.Concat(Observed).Concat(new[] { SeriesId, Date }.OfType<string>()).Concat(Static.Select(e => e.Column));

    /// <summary>Writes the covariates of one row: the observed values, then the calendar features of its date.</summary>
    public void WriteCovariates(ReadOnlySpan<float> observed, DateTime date, Span<float> destination)
    {
        observed.CopyTo(destination);
        if (Calendar != CalendarFeatures.None) global::MLNetRnn.Calendar.Write(Calendar, date, destination[observed.Length..]);
    }

    /// <summary>Encodes one series' static values (one per static column: a string or a float): the numbers (and
    /// one-hot blocks of a model saved before format 6) in column order, then the categories read by index, in column
    /// order, which the forecaster expects last.</summary>
    public float[] EncodeStatic(IReadOnlyList<object?> values)
    {
        var z = new float[StaticWidth];
        int p = 0;
        foreach (bool indexed in new[] { false, true })
            for (int i = 0; i < Static.Length; i++)
            {
                if (Static[i].Indexed != indexed) continue;
                Static[i].Encode(values.Count > i ? values[i] : null, z.AsSpan(p, Static[i].Width));
                p += Static[i].Width;
            }
        return z;
    }

    // *** Binary format (transformer payload version 3, after the version-2 column names) ***
    // string[] known-future; optional holiday, series id, date; int32 calendar flags; int32 step months, int64 step
    // ticks; string gap filling; int32 static columns, each StaticEncoder.Write (format 6 on: with its indexed flag)
    public void WriteExtension(BinaryWriter w)
    {
        w.Write(KnownFuture.Length);
        foreach (string c in KnownFuture) w.Write(c);
        WriteOptional(w, Holiday); WriteOptional(w, SeriesId); WriteOptional(w, Date);
        w.Write((int)Calendar);
        w.Write(Step.Months); w.Write(Step.Ticks);
        Persisted.WriteEnum(w, Gaps);
        w.Write(Static.Length);
        foreach (var e in Static) e.Write(w);
    }

    public static ForecastColumns ReadExtension(BinaryReader r, string input, string[] covariates, int version)
    {
        var future = ReadNames(r, "known-future column");
        string? holiday = ReadOptional(r), id = ReadOptional(r), date = ReadOptional(r);
        int calendar = r.ReadInt32();
        if (calendar < 0 || calendar > (int)(CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfMonth | CalendarFeatures.Month | CalendarFeatures.Hour))
            throw new InvalidDataException($"Calendar features {calendar} are out of range.");
        int months = r.ReadInt32();
        long ticks = r.ReadInt64();
        if (months < 0 || ticks < 0) throw new InvalidDataException($"The saved time step ({months} months, {ticks} ticks) is out of range.");
        var gaps = Persisted.ReadEnum<GapFilling>(r);
        int count = r.ReadInt32();
        if (count < 0 || count > 256) throw new InvalidDataException($"Static column count {count} is out of range.");
        var encoders = new StaticEncoder[count];
        for (int i = 0; i < count; i++) encoders[i] = StaticEncoder.Read(r, indexedFlag: version >= 6);
        return new ForecastColumns
        {
            Input = input, Covariates = covariates, KnownFuture = future, Holiday = holiday, SeriesId = id, Date = date,
            Calendar = (CalendarFeatures)calendar, Step = new TimeStep(months, ticks), Gaps = gaps, Static = encoders,
        };
    }

    internal static string[] ReadNames(BinaryReader r, string what)
    {
        int count = r.ReadInt32();
        if (count < 0 || count > 4096) throw new InvalidDataException($"The saved {what} count {count} is out of range.");
        var names = new string[count];
        for (int i = 0; i < count; i++) names[i] = r.ReadString();
        return names;
    }

    internal static void WriteOptional(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null) w.Write(s);
    }

    internal static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}

/// <summary>How one static feature column becomes numbers: a categorical column (text, key or integer) as the index of its
/// category among those seen in training (−1 for an unseen one), which the networks read as a one-hot input; a numeric
/// one standardised over the series. A model saved before format 6 encodes a category as the one-hot block itself.</summary>
/// <remarks>A one-hot input feeds every gate of the first layer through its own columns of the input weights, so each
/// category learns its own vector there: an embedding of width 3H (GRU) learned with the network.</remarks>
internal sealed class StaticEncoder
{
    public required string Column { get; init; }
    public required bool Categorical { get; init; }
    public bool Indexed { get; init; }                 // categorical, encoded as the category's index (−1: unseen) rather than one-hot
    public string[] Categories { get; init; } = [];
    public float Mean { get; init; }
    public float Scale { get; init; } = 1f;

    public int Width => Categorical && !Indexed ? Categories.Length : 1;

    /// <summary>Categories at most in one column, as the saved format reads them.</summary>
    public const int MaximumCategories = 1 << 16;

    /// <summary>Fits the encoding to the series' values (strings for a categorical column, floats for a numeric one).</summary>
    public static StaticEncoder Fit(string column, bool categorical, IReadOnlyList<object?> values)
    {
        if (categorical)
        {
            var categories = values.OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            if (categories.Length > MaximumCategories)
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Static feature column '{column}' has {categories.Length} categories; the saved format holds at most {MaximumCategories}. Leave it out of the static features (for the series id: SeriesIdFeature reads any number)."));
            // Read by index: the networks' one-hot input for the category costs one weight column per step, however many.
            return new StaticEncoder { Column = column, Categorical = true, Indexed = true, Categories = categories };
        }
        var numbers = values.OfType<float>().Select(v => (double)v).ToArray();
        double mean = numbers.Length == 0 ? 0 : numbers.Average();
        double sd = numbers.Length < 2 ? 0 : Math.Sqrt(numbers.Sum(v => (v - mean) * (v - mean)) / (numbers.Length - 1));
        return new StaticEncoder { Column = column, Categorical = false, Mean = (float)mean, Scale = sd > 0 ? (float)sd : 1f };
    }

    public void Encode(object? value, Span<float> destination)
    {
        destination.Clear();
        if (Categorical)
        {
            int i = value is string s ? Array.BinarySearch(Categories, s, StringComparer.Ordinal) : -1;
            if (Indexed) destination[0] = Math.Max(i, -1);
            else if (i >= 0) destination[i] = 1f;
        }
        else destination[0] = value is float v ? (v - Mean) / Scale : 0f;
    }

    public void Write(BinaryWriter w)
    {
        w.Write(Column); w.Write(Categorical); w.Write(Indexed);
        w.Write(Categories.Length);
        foreach (string c in Categories) w.Write(c);
        w.Write(Mean); w.Write(Scale);
    }

    public static StaticEncoder Read(BinaryReader r, bool indexedFlag)
    {
        string column = r.ReadString();
        bool categorical = r.ReadBoolean();
        bool indexed = indexedFlag && r.ReadBoolean();
        if (indexed && !categorical) throw new InvalidDataException($"Static column '{column}' is read by index but is not categorical.");
        int count = r.ReadInt32();
        if (count < 0 || count > MaximumCategories) throw new InvalidDataException($"Static column '{column}' has {count} categories; out of range.");
        var categories = new string[count];
        for (int i = 0; i < count; i++) categories[i] = r.ReadString();
        float mean = r.ReadSingle(), scale = r.ReadSingle();
        if (!float.IsFinite(mean) || !(scale > 0)) throw new InvalidDataException($"Static column '{column}' has an invalid standardisation (mean {mean}, scale {scale}).");
        if (indexed && count == 0) throw new InvalidDataException($"Static column '{column}' is read by index but has no categories.");
        return new StaticEncoder { Column = column, Categorical = categorical, Indexed = indexed, Categories = categories, Mean = mean, Scale = scale };
    }
}

/// <summary>The rows of a data view, grouped into series (in order of first appearance, rows in row order), checked.</summary>
internal sealed class PanelRows
{
    public List<string> Ids { get; } = [];
    public List<List<float>> Values { get; } = [];        // (S)(n)
    public List<List<float>> Observed { get; } = [];      // (S)(n·Cu)
    public List<List<DateTime>> Dates { get; } = [];      // (S)(n); empty lists without a date column
    public List<List<long>> Rows { get; } = [];           // (S)(n) each row's position in the data view
    public List<object?[]> Static { get; } = [];          // (S)(static columns) a string or a float
    public Dictionary<string, int> Index { get; } = new(StringComparer.Ordinal);
    public long RowCount { get; set; }

    public int Count => Ids.Count;

    /// <summary>How a message names series s: "series 'id'", or "the series" without a series id column.</summary>
    public string Name(int s, ForecastColumns columns) => columns.SeriesId is null ? "the series" : $"series '{Ids[s]}'";

    /// <summary>The rows of the given series, in that order.</summary>
    public PanelRows Subset(IEnumerable<int> series)
    {
        var subset = new PanelRows();
        foreach (int s in series)
        {
            subset.Index[Ids[s]] = subset.Count;
            subset.Ids.Add(Ids[s]);
            subset.Values.Add(Values[s]); subset.Observed.Add(Observed[s]); subset.Dates.Add(Dates[s]); subset.Rows.Add(Rows[s]);
            subset.Static.Add(Static[s]);
            subset.RowCount += Rows[s].Count(r => r >= 0);   // rows the data view held, not the steps gap filling added
        }
        return subset;
    }
}

/// <summary>Binds the forecaster's columns in a schema, checking their types, and reads the rows into series.</summary>
internal sealed class PanelReader
{
    private readonly ForecastColumns _columns;
    private readonly DataViewSchema.Column _value;
    private readonly DataViewSchema.Column[] _observed;
    private readonly DataViewSchema.Column? _id, _date;
    private readonly DataViewSchema.Column[] _static;

    private PanelReader(ForecastColumns columns, DataViewSchema schema, bool needStatic)
    {
        _columns = columns;
        _value = Find(schema, columns.Input, Single);
        _observed = columns.Observed.Select(n => Find(schema, n, n == columns.Holiday ? SingleOrBoolean : Single)).ToArray();
        _id = columns.SeriesId is null ? null : Find(schema, columns.SeriesId, TextKeyOrInteger);
        _date = columns.Date is null ? null : Find(schema, columns.Date, DateTimeOnly);
        _static = needStatic ? columns.Static.Select(e => Find(schema, e.Column, e.Categorical ? TextKeyOrInteger : SingleOrBoolean)).ToArray() : [];
    }

    /// <summary>Binds the columns, checking that each is present with a type the forecaster reads.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (the message names it).</exception>
    public static PanelReader Bind(ForecastColumns columns, DataViewSchema schema, bool needStatic = true) => new(columns, schema, needStatic);

    /// <summary>The columns a cursor must activate.</summary>
    public IEnumerable<DataViewSchema.Column> Active => new[] { _value }.Concat(_observed).Concat(new[] { _id, _date }.OfType<DataViewSchema.Column>()).Concat(_static);

    public DataViewSchema.Column Value => _value;
    public DataViewSchema.Column[] ObservedColumns => _observed;
    public DataViewSchema.Column? IdColumn => _id;
    public DataViewSchema.Column? DateColumn => _date;

    /// <summary>Is a column categorical (text, key, or integer: store numbers and product codes name things, they do
    /// not measure them)? A series id column must be; a static column is categorical if so, numeric if Single or Boolean.</summary>
    public static bool IsCategorical(DataViewType type) => type is TextDataViewType || type is KeyDataViewType || IntegerTypes.Contains(type.RawType);

    private static readonly HashSet<Type> IntegerTypes = [typeof(sbyte), typeof(byte), typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long), typeof(ulong)];

    /// <summary>
    /// Reads every row into series, checking as it goes: finite values and covariates, a series id on every row, static
    /// features constant within a series, dates increasing without gaps (or gaps filled by <see cref="ForecastColumns.Gaps"/>).
    /// Every error names the column, the series and the row.
    /// </summary>
    /// <param name="data">The data view.</param>
    /// <param name="step">The time step to check dates against; unknown: inferred from these dates.</param>
    /// <exception cref="InvalidOperationException">A value is missing, not finite, out of order, or a gap is not allowed.</exception>
    public (PanelRows Rows, TimeStep Step) Read(IDataView data, TimeStep step)
    {
        var rows = new PanelRows();
        int Cu = _observed.Length;
        using var cursor = data.GetRowCursor(Active);
        var getValue = cursor.GetGetter<float>(_value);
        var getObserved = _observed.Select(c => FloatGetter(cursor, c)).ToArray();
        var getId = _id is null ? null : TextGetter(cursor, _id.Value);
        var getDate = _date is null ? null : cursor.GetGetter<DateTime>(_date.Value);
        var getStatic = _static.Select(c => IsCategorical(c.Type) ? (Func<object?>)TextGetter(cursor, c) : FloatGetterBoxed(cursor, c)).ToArray();
        float v = 0;
        DateTime date = default;
        long row = -1;
        while (cursor.MoveNext())
        {
            row++;
            string id = "";
            if (getId is not null)
            {
                id = getId() ?? "";
                if (id.Length == 0)
                    throw new InvalidOperationException($"Series id column '{_columns.SeriesId}' has no value at row {row}; every row needs the id of its series.");
            }
            if (!rows.Index.TryGetValue(id, out int s))
            {
                s = rows.Count;
                rows.Index[id] = s;
                rows.Ids.Add(id);
                rows.Values.Add([]); rows.Observed.Add([]); rows.Dates.Add([]); rows.Rows.Add([]);
                rows.Static.Add(getStatic.Select(g => g()).ToArray());
                for (int i = 0; i < _static.Length; i++)
                    if (rows.Static[s][i] is null)
                        throw new InvalidOperationException($"Static feature column '{_static[i].Name}' has no value for {rows.Name(s, _columns)} at row {row}.");
            }
            else
                for (int i = 0; i < _static.Length; i++)
                {
                    object? value = getStatic[i]();
                    if (!Equals(value, rows.Static[s][i]))
                        throw new InvalidOperationException($"Static feature column '{_static[i].Name}' changes within {rows.Name(s, _columns)} at row {row}: " +
                            $"{Show(value)} after {Show(rows.Static[s][i])}. A static feature must be the same on every row of a series.");
                }
            getValue(ref v);
            if (!float.IsFinite(v))
                throw new InvalidOperationException($"Input column '{_value.Name}' has {v} at row {row} ({rows.Name(s, _columns)}, its row {rows.Values[s].Count}); the series and its covariates must be finite.");
            rows.Values[s].Add(v);
            for (int c = 0; c < Cu; c++)
            {
                float x = getObserved[c]();
                if (!float.IsFinite(x))
                    throw new InvalidOperationException($"Input column '{_observed[c].Name}' has {x} at row {row} ({rows.Name(s, _columns)}, its row {rows.Values[s].Count - 1}); the series and its covariates must be finite.");
                rows.Observed[s].Add(x);
            }
            if (getDate is not null)
            {
                getDate(ref date);
                rows.Dates[s].Add(date);
            }
            rows.Rows[s].Add(row);
        }
        rows.RowCount = row + 1;
        if (_date is null) return (rows, step);
        if (!step.IsKnown) step = TimeStep.Infer(rows.Dates.Select(d => d.ToArray()));
        for (int s = 0; s < rows.Count; s++) CheckDates(rows, s, step);
        return (rows, step);
    }

    /// <summary>Dates must increase by one step; a gap is refused, or filled per <see cref="ForecastColumns.Gaps"/>.</summary>
    private void CheckDates(PanelRows rows, int s, TimeStep step)
    {
        var dates = rows.Dates[s];
        int Cu = _observed.Length;
        for (int t = 1; t < dates.Count; t++)
        {
            DateTime a = dates[t - 1], b = dates[t];
            long at = rows.Rows[s][t];
            if (b <= a)
                throw new InvalidOperationException($"Date column '{_date!.Value.Name}' does not increase within {rows.Name(s, _columns)} at row {at}: {Show(b)} after {Show(a)}. " +
                    "Rows of a series must be in time order, one per time step.");
            long k = step.IsKnown ? step.StepsBetween(a, b) : 1;
            if (k == 1) continue;
            if (k < 0)
                throw new InvalidOperationException($"Date column '{_date!.Value.Name}' in {rows.Name(s, _columns)} at row {at}: {Show(b)} follows {Show(a)}, which is not a whole number of time steps ({step}) later.");
            if (_columns.Gaps == GapFilling.None)
                throw new InvalidOperationException($"Date column '{_date!.Value.Name}': {rows.Name(s, _columns)} has a gap at row {at}: {Show(b)} follows {Show(a)}, " +
                    $"{Training.Counted.Of(k - 1, "time step")} of {step} missing. Fill them in the data, or set GapFilling to PreviousValue or Linear.");
            // Fill the k − 1 missing steps: the previous row's covariates, the value carried or interpolated.
            for (long j = 1; j < k; j++)
            {
                int insert = t - 1 + (int)j;
                float previous = rows.Values[s][t - 1 + (int)j - 1], next = rows.Values[s][insert];
                float value = _columns.Gaps == GapFilling.Linear ? previous + (next - previous) / (k - j + 1) : previous;
                rows.Values[s].Insert(insert, value);
                rows.Observed[s].InsertRange(insert * Cu, rows.Observed[s].GetRange((insert - 1) * Cu, Cu));
                rows.Dates[s].Insert(insert, step.Add(a, j));
                rows.Rows[s].Insert(insert, -1);
            }
            t += (int)k - 1;
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "no value",
        string s => $"'{s}'",
        DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    // ------------------------------------------------------------------ getters and type checks

    private static readonly (Func<DataViewType, bool> Accepts, string Expected) Single = (t => t == NumberDataViewType.Single, "Single");
    private static readonly (Func<DataViewType, bool> Accepts, string Expected) SingleOrBoolean = (t => t == NumberDataViewType.Single || t == BooleanDataViewType.Instance, "Single or Boolean");
    private static readonly (Func<DataViewType, bool> Accepts, string Expected) TextKeyOrInteger = (t => IsCategorical(t), "Text, a key type or an integer type");
    private static readonly (Func<DataViewType, bool> Accepts, string Expected) DateTimeOnly = (t => t is DateTimeDataViewType, "DateTime");

    private static DataViewSchema.Column Find(DataViewSchema schema, string name, (Func<DataViewType, bool> Accepts, string Expected) type)
    {
        var column = schema.GetColumnOrNull(name) ?? throw SeriesColumns.Missing(name, schema.Where(c => !c.IsHidden).Select(c => c.Name));
        if (!type.Accepts(column.Type)) throw new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for input column '{name}': expected {type.Expected}, got {column.Type}.");
        return column;
    }

    /// <summary>A float getter for a Single or Boolean column (true = 1).</summary>
    internal static Func<float> FloatGetter(DataViewRow row, DataViewSchema.Column column)
    {
        if (column.Type == BooleanDataViewType.Instance)
        {
            var get = row.GetGetter<bool>(column);
            bool b = false;
            return () => { get(ref b); return b ? 1f : 0f; };
        }
        var getFloat = row.GetGetter<float>(column);
        float v = 0;
        return () => { getFloat(ref v); return v; };
    }

    private static Func<object?> FloatGetterBoxed(DataViewRow row, DataViewSchema.Column column)
    {
        var get = FloatGetter(row, column);
        return () => { float v = get(); return float.IsFinite(v) ? v : null; };
    }

    /// <summary>A getter of a text, key or integer column as a string: a key's text value when the column has key
    /// values, else its number; an integer in invariant digits; null for a missing value (empty text, key 0).</summary>
    internal static Func<string?> TextGetter(DataViewRow row, DataViewSchema.Column column)
    {
        if (column.Type is TextDataViewType)
        {
            var get = row.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> text = default;
            return () => { get(ref text); return text.IsEmpty ? null : text.ToString(); };
        }
        if (column.Type is not KeyDataViewType)
        {
            var type = column.Type.RawType;
            return type == typeof(int) ? Digits<int>(row, column) : type == typeof(long) ? Digits<long>(row, column)
                : type == typeof(uint) ? Digits<uint>(row, column) : type == typeof(ulong) ? Digits<ulong>(row, column)
                : type == typeof(short) ? Digits<short>(row, column) : type == typeof(ushort) ? Digits<ushort>(row, column)
                : type == typeof(byte) ? Digits<byte>(row, column) : Digits<sbyte>(row, column);
        }
        var key = (KeyDataViewType)column.Type;
        string[]? names = null;
        if (column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues) is not null)
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            column.GetKeyValues(ref values);
            names = values.DenseValues().Select(m => m.ToString()).ToArray();
        }
        Func<ulong> raw = key.RawType == typeof(uint) ? Raw<uint>(row, column, x => x)
            : key.RawType == typeof(ulong) ? Raw<ulong>(row, column, x => x)
            : key.RawType == typeof(ushort) ? Raw<ushort>(row, column, x => x)
            : Raw<byte>(row, column, x => x);
        return () =>
        {
            ulong k = raw();
            if (k == 0) return null;
            return names is not null && k <= (ulong)names.Length ? names[k - 1] : k.ToString(CultureInfo.InvariantCulture);
        };
    }

    private static Func<string?> Digits<T>(DataViewRow row, DataViewSchema.Column column) where T : IFormattable
    {
        var get = row.GetGetter<T>(column);
        T value = default!;
        return () => { get(ref value); return value.ToString(null, CultureInfo.InvariantCulture); };
    }

    private static Func<ulong> Raw<T>(DataViewRow row, DataViewSchema.Column column, Func<T, ulong> widen)
    {
        var get = row.GetGetter<T>(column);
        T value = default!;
        return () => { get(ref value); return widen(value); };
    }
}

using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Cli.Shared;

namespace MLNetRnn.Cli;

/// <summary>The columns of a CSV file a command reads, by name.</summary>
internal sealed record CsvColumns(string Value)
{
    public string? Date { get; init; }
    public string[] Covariates { get; init; } = [];    // observed with each row, past only
    public string[] KnownFuture { get; init; } = [];   // observed with each row, and known for the steps forecast
    public string[] Static { get; init; } = [];        // constant per series: text (categories) or numbers
    public string? SeriesId { get; init; }             // null: the file is one series
    public bool FutureRows { get; init; }              // a row without a value gives the known-future columns of a step to forecast
}

/// <summary>
/// A series read from a CSV file with a header row, columns chosen by name: the values, optional dates (for tables and
/// plots), covariates (past-only and known in advance), static columns, and optionally a series id column, which
/// makes the file a panel of many series (rows grouped by id, in file order within each). With
/// <see cref="CsvColumns.FutureRows"/>, a series' last rows may leave the value empty and give the known-future
/// columns of the steps to forecast. <see cref="View"/> is the ML.NET data view of the same file (ML.NET's text loader:
/// the value and covariates as Single, the id as text, a static column as text unless every entry is a number), so a
/// saved model's input schema is the file's.
/// </summary>
internal sealed class CsvSeries
{
    private CsvSeries(string path, CsvColumns columns, float[] values, float[] observed, DateTime[]? dates, IDataView view,
        string[]? ids, Dictionary<string, List<float[]>> future)
    {
        Path = path; Columns = columns; Values = values; Observed = observed; Dates = dates; View = view; Ids = ids; _future = future;
        var order = new List<string>();
        if (ids is not null)
            for (int r = 0; r < ids.Length; r++)
            {
                if (!_rows.TryGetValue(ids[r], out var list))
                {
                    _rows[ids[r]] = list = [];
                    order.Add(ids[r]);
                }
                list.Add(r);
            }
        SeriesIds = order.ToArray();
    }

    private readonly Dictionary<string, List<int>> _rows = new(StringComparer.Ordinal);        // each series' rows, in file order
    private readonly Dictionary<string, List<float[]>> _future;                                // each series' rows without a value: (Cf) each

    public string Path { get; }
    public CsvColumns Columns { get; }             // as the header spells them
    public string ValueColumn => Columns.Value;
    public string[] CovariateColumns => Columns.Covariates;
    public string? IdColumn => Columns.SeriesId;
    public float[] Values { get; }                 // every row's value, in file order (rows without one left out)
    public float[] Observed { get; }               // (rows, C + Cf) each row's covariates, then its known-future columns
    public int ObservedWidth => Columns.Covariates.Length + Columns.KnownFuture.Length;
    public DateTime[]? Dates { get; }
    public IDataView View { get; }
    public string[]? Ids { get; }                  // each row's series id, with IdColumn
    public string[] SeriesIds { get; }             // the panel's series, in order of first appearance; empty for one series

    /// <summary>Whether the file holds series <paramref name="id"/>.</summary>
    public bool HasSeries(string id) => _rows.ContainsKey(id);

    /// <summary>The known-future columns of the steps after series <paramref name="id"/>'s last value ("" for one series),
    /// at most <paramref name="horizon"/> of them, by column; null without known-future columns.</summary>
    public IReadOnlyDictionary<string, float[]>? FutureCovariates(string id, int horizon)
    {
        if (Columns.KnownFuture.Length == 0) return null;
        var rows = _future.TryGetValue(id, out var list) ? list.Take(horizon).ToArray() : [];
        return Columns.KnownFuture.Select((c, j) => (c, rows.Select(row => row[j]).ToArray())).ToDictionary(x => x.c, x => x.Item2);
    }

    /// <summary>The rows of series <paramref name="id"/>, as a one-series view for tables and plots (its label names the id).</summary>
    /// <exception cref="CliException">The file has no such series.</exception>
    public CsvSeries Part(string id)
    {
        if (Ids is null) return this;
        if (!_rows.TryGetValue(id, out var rows))
            throw new CliException($"Series id column '{IdColumn}' of '{Path}' has no series '{id}'; the first are {string.Join(", ", SeriesIds.Take(5).Select(x => $"'{x}'"))}.");
        int C = ObservedWidth;
        var observed = new float[rows.Count * C];
        for (int i = 0; i < rows.Count; i++) Observed.AsSpan(rows[i] * C, C).CopyTo(observed.AsSpan(i * C, C));
        var future = new Dictionary<string, List<float[]>>(StringComparer.Ordinal);
        if (_future.TryGetValue(id, out var f)) future[""] = f;
        return new CsvSeries(Path, Columns with { Value = $"{ValueColumn} ({id})", SeriesId = null }, rows.Select(r => Values[r]).ToArray(), observed,
            Dates is null ? null : rows.Select(r => Dates[r]).ToArray(), View, null, future);
    }

    /// <summary>Reads <paramref name="path"/>. Every error names the file and the column.</summary>
    /// <exception cref="CliException">The file is missing or empty, a column is missing, a value is not a number or date,
    /// a row has no series id, or a row with a value follows one without in the same series.</exception>
    public static CsvSeries Load(MLContext ml, string path, CsvColumns columns)
    {
        if (!File.Exists(path)) throw new CliException($"Data file '{path}' was not found.");
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length < 2) throw new CliException($"Data file '{path}' has no rows under its header.");
        var header = Split(lines[0]);
        int Index(string name, string role)
        {
            int i = Array.FindIndex(header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
            return i >= 0 ? i : throw new CliException($"Could not find {role} column '{name}' in '{path}'. Columns present: {string.Join(", ", header)}.");
        }
        int valueIndex = Index(columns.Value, "value");
        int? dateIndex = columns.Date is null ? null : Index(columns.Date, "date");
        var observedIndex = columns.Covariates.Select(c => Index(c, "covariate")).Concat(columns.KnownFuture.Select(c => Index(c, "known-future"))).ToArray();
        int C = columns.Covariates.Length, W = observedIndex.Length;
        var staticIndex = columns.Static.Select(c => Index(c, "static")).ToArray();
        int? idIndex = columns.SeriesId is null ? null : Index(columns.SeriesId, "series id");

        var values = new List<float>();
        var observed = new List<float>();
        var dates = dateIndex is null ? null : new List<DateTime>();
        var ids = idIndex is null ? null : new List<string>();
        var future = new Dictionary<string, List<float[]>>(StringComparer.Ordinal);
        var staticNumeric = staticIndex.Select(_ => true).ToArray();
        for (int r = 1; r < lines.Length; r++)
        {
            var fields = Split(lines[r]);
            string id = idIndex is null ? "" : Field(fields, idIndex.Value, header, r, path);
            if (idIndex is not null && id.Length == 0) throw new CliException($"Row {r + 1} of '{path}': series id column '{header[idIndex.Value]}' is empty; every row needs its series' id.");
            for (int s = 0; s < staticIndex.Length; s++)
                staticNumeric[s] &= float.TryParse(Field(fields, staticIndex[s], header, r, path), NumberStyles.Float, CultureInfo.InvariantCulture, out _);
            if (columns.FutureRows && Field(fields, valueIndex, header, r, path).Length == 0)
            {
                // A step to forecast: only its known-future columns are read.
                if (!future.TryGetValue(id, out var steps)) future[id] = steps = [];
                steps.Add(observedIndex[C..].Select(c => Number(fields, c, header, r, path)).ToArray());
                continue;
            }
            if (future.ContainsKey(id))
                throw new CliException($"Row {r + 1} of '{path}': {(idIndex is null ? "the series" : $"series '{id}'")} has a value after a row without one; the rows to forecast come last.");
            values.Add(Number(fields, valueIndex, header, r, path));
            foreach (int c in observedIndex) observed.Add(Number(fields, c, header, r, path));
            ids?.Add(id);
            if (dates is not null)
            {
                string raw = Field(fields, dateIndex!.Value, header, r, path);
                if (!DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
                    && !(double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double year) && TryYear(year, out at)))
                    throw new CliException($"Row {r + 1} of '{path}': date column '{header[dateIndex.Value]}' holds '{raw}', which is not a date (yyyy-MM-dd) or a year.");
                dates.Add(at);
            }
        }
        if (values.Count == 0) throw new CliException($"Data file '{path}' has no row with a value in column '{header[valueIndex]}'.");

        var loaderColumns = new[] { new TextLoader.Column(header[valueIndex], DataKind.Single, valueIndex) }
            .Concat(observedIndex.Select(c => new TextLoader.Column(header[c], DataKind.Single, c)))
            .Concat(staticIndex.Select((c, s) => new TextLoader.Column(header[c], staticNumeric[s] ? DataKind.Single : DataKind.String, c)))
            .Concat(idIndex is null ? [] : [new TextLoader.Column(header[idIndex.Value], DataKind.String, idIndex.Value)]).ToArray();
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options { HasHeader = true, Separators = [','], Columns = loaderColumns, AllowQuoting = true });
        var named = new CsvColumns(header[valueIndex])
        {
            Date = dateIndex is null ? null : header[dateIndex.Value], Covariates = observedIndex[..C].Select(c => header[c]).ToArray(),
            KnownFuture = observedIndex[C..].Select(c => header[c]).ToArray(), Static = staticIndex.Select(c => header[c]).ToArray(),
            SeriesId = idIndex is null ? null : header[idIndex.Value], FutureRows = columns.FutureRows,
        };
        return new CsvSeries(path, named, values.ToArray(), observed.ToArray(), dates?.ToArray(), loader.Load(path), ids?.ToArray(), future);
    }

    /// <summary>Dates after the last one, continuing the series' spacing: whole months when every step is a whole
    /// number of months (monthly and quarterly data), else the median spacing.</summary>
    public DateTime[] FutureDates(int count, long observed)
    {
        var d = Dates!;
        int last = (int)Math.Min(observed, d.Length) - 1;
        if (d.Length < 2) return Enumerable.Range(1, count).Select(k => d[^1].AddDays(k)).ToArray();
        var months = d.Zip(d.Skip(1), (a, b) => (b.Year - a.Year) * 12 + b.Month - a.Month).ToArray();
        bool monthly = d.Zip(d.Skip(1), (a, b) => a.Day == b.Day).All(x => x) && months.All(m => m == months[0] && m > 0);
        if (monthly) return Enumerable.Range(1, count).Select(k => d[last].AddMonths(k * months[0])).ToArray();
        var steps = d.Zip(d.Skip(1), (a, b) => (b - a).Ticks).Order().ToArray();
        long step = steps[steps.Length / 2];
        return Enumerable.Range(1, count).Select(k => d[last].AddTicks(k * step)).ToArray();
    }

    private static bool TryYear(double year, out DateTime date)
    {
        date = default;
        if (!(year >= 1 && year < 10000)) return false;
        int y = (int)Math.Floor(year);
        date = new DateTime(y, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays((year - y) * (DateTime.IsLeapYear(y) ? 366 : 365));
        return true;
    }

    private static string[] Split(string line) => line.Split(',').Select(f => f.Trim().Trim('"')).ToArray();

    private static string Field(string[] fields, int index, string[] header, int row, string path)
        => index < fields.Length ? fields[index] : throw new CliException($"Row {row + 1} of '{path}' has {fields.Length} fields; column '{header[index]}' is field {index + 1}.");

    private static float Number(string[] fields, int index, string[] header, int row, string path)
    {
        string raw = Field(fields, index, header, row, path);
        if (!float.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
            throw new CliException($"Row {row + 1} of '{path}': column '{header[index]}' holds '{raw}', which is not a finite number.");
        return v;
    }
}

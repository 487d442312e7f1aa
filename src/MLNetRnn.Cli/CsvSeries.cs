using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRnn.Cli;

/// <summary>
/// A series read from a CSV file with a header row, columns chosen by name: the values, optional dates (for tables and
/// plots), optional covariates, and optionally a series id column, which makes the file a panel of many series (rows
/// grouped by id, in file order within each). <see cref="View"/> is the ML.NET data view of the same file (ML.NET's
/// text loader, the value and covariate columns as Single, the id as text), so a saved model's input schema is the file's.
/// </summary>
internal sealed class CsvSeries
{
    private CsvSeries(string path, string valueColumn, string[] covariateColumns, float[] values, float[] covariates, DateTime[]? dates, IDataView view,
        string? idColumn, string[]? ids)
    {
        Path = path; ValueColumn = valueColumn; CovariateColumns = covariateColumns; Values = values; Covariates = covariates; Dates = dates; View = view;
        IdColumn = idColumn; Ids = ids;
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

    private readonly Dictionary<string, List<int>> _rows = new(StringComparer.Ordinal);   // each series' rows, in file order

    public string Path { get; }
    public string ValueColumn { get; }
    public string[] CovariateColumns { get; }
    public float[] Values { get; }                 // every row's value, in file order
    public float[] Covariates { get; }             // (rows, C) every row's covariates, in CovariateColumns' order
    public DateTime[]? Dates { get; }
    public IDataView View { get; }
    public string? IdColumn { get; }               // null: the file is one series
    public string[]? Ids { get; }                  // each row's series id, with IdColumn
    public string[] SeriesIds { get; }             // the panel's series, in order of first appearance; empty for one series

    /// <summary>Whether the file holds series <paramref name="id"/>.</summary>
    public bool HasSeries(string id) => _rows.ContainsKey(id);

    /// <summary>The rows of series <paramref name="id"/>, as a one-series view for tables and plots (its label names the id).</summary>
    /// <exception cref="CliException">The file has no such series.</exception>
    public CsvSeries Part(string id)
    {
        if (Ids is null) return this;
        if (!_rows.TryGetValue(id, out var rows))
            throw new CliException($"Series id column '{IdColumn}' of '{Path}' has no series '{id}'; the first are {string.Join(", ", SeriesIds.Take(5).Select(x => $"'{x}'"))}.");
        int C = CovariateColumns.Length;
        var covariates = new float[rows.Count * C];
        for (int i = 0; i < rows.Count; i++) Covariates.AsSpan(rows[i] * C, C).CopyTo(covariates.AsSpan(i * C, C));
        return new CsvSeries(Path, $"{ValueColumn} ({id})", CovariateColumns, rows.Select(r => Values[r]).ToArray(), covariates,
            Dates is null ? null : rows.Select(r => Dates[r]).ToArray(), View, null, null);
    }

    /// <summary>Reads <paramref name="path"/>. Every error names the file and the column.</summary>
    /// <exception cref="CliException">The file is missing or empty, a column is missing, a value is not a number or date, or
    /// a row has no series id.</exception>
    public static CsvSeries Load(MLContext ml, string path, string valueColumn, string? dateColumn, string[] covariateColumns, string? idColumn = null)
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
        int valueIndex = Index(valueColumn, "value");
        int? dateIndex = dateColumn is null ? null : Index(dateColumn, "date");
        var covariateIndex = covariateColumns.Select(c => Index(c, "covariate")).ToArray();
        int? idIndex = idColumn is null ? null : Index(idColumn, "series id");
        var ids = idIndex is null ? null : new string[lines.Length - 1];

        var values = new float[lines.Length - 1];
        var covariates = new float[(lines.Length - 1) * covariateIndex.Length];
        var dates = dateIndex is null ? null : new DateTime[lines.Length - 1];
        for (int r = 1; r < lines.Length; r++)
        {
            var fields = Split(lines[r]);
            values[r - 1] = Number(fields, valueIndex, header, r, path);
            for (int c = 0; c < covariateIndex.Length; c++) covariates[(r - 1) * covariateIndex.Length + c] = Number(fields, covariateIndex[c], header, r, path);
            if (ids is not null)
            {
                ids[r - 1] = Field(fields, idIndex!.Value, header, r, path);
                if (ids[r - 1].Length == 0) throw new CliException($"Row {r + 1} of '{path}': series id column '{header[idIndex.Value]}' is empty; every row needs its series' id.");
            }
            if (dates is not null)
            {
                string raw = Field(fields, dateIndex!.Value, header, r, path);
                if (!DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out dates[r - 1])
                    && !(double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double year) && TryYear(year, out dates[r - 1])))
                    throw new CliException($"Row {r + 1} of '{path}': date column '{header[dateIndex.Value]}' holds '{raw}', which is not a date (yyyy-MM-dd) or a year.");
            }
        }

        var loaderColumns = new[] { new TextLoader.Column(header[valueIndex], DataKind.Single, valueIndex) }
            .Concat(covariateIndex.Select(c => new TextLoader.Column(header[c], DataKind.Single, c)))
            .Concat(idIndex is null ? [] : [new TextLoader.Column(header[idIndex.Value], DataKind.String, idIndex.Value)]).ToArray();
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options { HasHeader = true, Separators = [','], Columns = loaderColumns, AllowQuoting = true });
        return new CsvSeries(path, header[valueIndex], covariateIndex.Select(c => header[c]).ToArray(), values, covariates, dates, loader.Load(path),
            idIndex is null ? null : header[idIndex.Value], ids);
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

/// <summary>A user error: the message says what is wrong; the tool prints it and exits with code 2.</summary>
internal sealed class CliException(string message) : Exception(message);

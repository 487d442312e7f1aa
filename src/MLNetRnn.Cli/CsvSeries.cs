using System.Globalization;
using System.Text;
using Microsoft.ML;
using MLNetRnn.Cli.Shared;

namespace MLNetRnn.Cli;

/// <summary>The columns of a CSV file a command reads, by name.</summary>
internal sealed record CsvColumns(string Value)
{
    public string? Date { get; init; }
    public bool FindDate { get; init; }                // Date null: use a column named 'date' when the header has one
    public string[] Covariates { get; init; } = [];    // observed with each row, past only
    public string[] KnownFuture { get; init; } = [];   // observed with each row, and known for the steps forecast
    public string[] Static { get; init; } = [];        // constant per series: text (categories) or numbers
    public string? SeriesId { get; init; }             // null: the file is one series
    public bool FutureRows { get; init; }              // a row without a value gives the known-future columns of a step to forecast
}

/// <summary>How a CSV file is read: its field separator, and what to do with rows out of time order and with dates
/// that skip time steps.</summary>
internal sealed record CsvReading
{
    public static readonly CsvReading Default = new();

    public char? Separator { get; init; }              // null: detected from the header line
    public bool Sort { get; init; }                    // sort each series' rows by date; else rows out of order are refused
    public GapFilling Gaps { get; init; }              // missing time steps: refused (None), or filled as the library fills them
}

/// <summary>
/// A series read from a CSV file with a header row, columns chosen by name: the values, optional dates, covariates
/// (past-only and known in advance), static columns, and optionally a series id column, which makes the file a panel of
/// many series (rows grouped by id, in time order within each). With a date column, the dates are read as the library
/// reads <see cref="RnnForecastingOptions.DateColumnName"/>: each series' rows must be in time order (or are sorted,
/// <see cref="CsvReading.Sort"/>), the time step is inferred from the dates with the library's calendar
/// (<see cref="TimeStep"/>: a duration, or whole calendar months), and a series that skips steps is refused, naming the
/// first gap, or filled (<see cref="CsvReading.Gaps"/>, the library's filling), so the model trains on one row per
/// step and the forecast is dated on that calendar. With <see cref="CsvColumns.FutureRows"/>, a series' last rows may
/// leave the value empty and give the known-future columns of the steps to forecast. <see cref="View"/> is the same
/// rows as an ML.NET data view (the value and covariates as Single, the id as text, a static column as text unless
/// every entry is a number, the date as DateTime), so a saved model's input schema is the file's.
/// </summary>
internal sealed class CsvSeries
{
    private CsvSeries(string path, CsvColumns columns, float[] values, float[] observed, DateTime[]? dates, TimeStep step, IDataView view,
        string[]? ids, Dictionary<string, List<float[]>> future)
    {
        Path = path; Columns = columns; Values = values; Observed = observed; Dates = dates; Step = step; View = view; Ids = ids; _future = future;
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

    private readonly Dictionary<string, List<int>> _rows = new(StringComparer.Ordinal);        // each series' rows, in time order
    private readonly Dictionary<string, List<float[]>> _future;                                // each series' rows without a value: (Cf) each

    public string Path { get; }
    public CsvColumns Columns { get; }             // as the header spells them
    public string ValueColumn => Columns.Value;
    public string[] CovariateColumns => Columns.Covariates;
    public string? IdColumn => Columns.SeriesId;
    public float[] Values { get; }                 // every row's value, series by series, in time order (rows without one left out, gaps filled)
    public float[] Observed { get; }               // (rows, C + Cf) each row's covariates, then its known-future columns
    public int ObservedWidth => Columns.Covariates.Length + Columns.KnownFuture.Length;
    public DateTime[]? Dates { get; }
    public TimeStep Step { get; }                  // inferred from the dates; unknown without them (or with one row per series)
    public IDataView View { get; }
    public string[]? Ids { get; }                  // each row's series id, with IdColumn
    public string[] SeriesIds { get; }             // the panel's series, in order of first appearance; empty for one series
    public char Separator { get; private init; }
    public int FilledSteps { get; private init; }  // time steps inserted by gap filling
    public string? FirstFill { get; private init; }  // where the first of them went, for the user
    public bool Sorted { get; private init; }      // rows were out of time order and sorting moved them

    /// <summary>The time step in words: hourly, daily, weekly, monthly, quarterly, yearly, or "every …".</summary>
    public string Frequency => Describe(Step);

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
            Dates is null ? null : rows.Select(r => Dates[r]).ToArray(), Step, View, null, future) { Separator = Separator };
    }

    /// <summary>The dates of the <paramref name="count"/> steps after the <paramref name="observed"/>-th value, on the
    /// series' calendar (months step by months); null without dates or a known step.</summary>
    public DateTime[]? FutureDates(int count, long observed)
    {
        if (Dates is not { Length: > 0 } d || !Step.IsKnown) return null;
        // A model that has seen more values than the file holds continues past the file's last date.
        int last = (int)Math.Min(observed, d.Length) - 1;
        long beyond = Math.Max(0, observed - d.Length);
        return Enumerable.Range(1, count).Select(k => Step.Add(d[last], beyond + k)).ToArray();
    }

    /// <summary>A date as tables and CSV output show it: ISO, with the time of day when the series steps within a day.</summary>
    public string FormatDate(DateTime date) => FormatDate(date, Step);

    private static string FormatDate(DateTime date, TimeStep step)
        => date.ToString(date.TimeOfDay != TimeSpan.Zero || (step.Months == 0 && step.Ticks > 0 && step.Ticks < TimeSpan.TicksPerDay)
            ? "yyyy-MM-dd HH:mm" : "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The time step in words.</summary>
    internal static string Describe(TimeStep step)
    {
        if (step.Months > 0)
            return step.Months switch { 1 => "monthly", 3 => "quarterly", 12 => "yearly", _ when step.Months % 12 == 0 => $"every {step.Months / 12} years", _ => $"every {step.Months} months" };
        if (step.Ticks <= 0) return "unknown";
        var span = TimeSpan.FromTicks(step.Ticks);
        return span switch
        {
            _ when span == TimeSpan.FromHours(1) => "hourly",
            _ when span == TimeSpan.FromDays(1) => "daily",
            _ when span == TimeSpan.FromDays(7) => "weekly",
            _ when span.Ticks % TimeSpan.TicksPerDay == 0 => $"every {span.Days} days",
            _ when span.Ticks % TimeSpan.TicksPerHour == 0 => $"every {(long)span.TotalHours} hours",
            _ when span.Ticks % TimeSpan.TicksPerMinute == 0 => $"every {(long)span.TotalMinutes} minutes",
            _ => $"every {span.TotalSeconds.ToString("G6", CultureInfo.InvariantCulture)} seconds",
        };
    }

    /// <summary>One row of the file: a value row, a row to forecast (no value), or a row inserted by gap filling (line 0).</summary>
    private sealed record Row(int Line, string Id, float? Value, float[] Observed, string[] Static, DateTime? Date);

    /// <summary>Reads <paramref name="path"/>. Every error names the file, the column and the row.</summary>
    /// <exception cref="CliException">The file is missing or empty, a column is missing, a value is not a number or date,
    /// a row has no series id, a row with a value follows one without in the same series, a series' dates go back
    /// (without <see cref="CsvReading.Sort"/>) or repeat, or skip time steps (without <see cref="CsvReading.Gaps"/>).</exception>
    public static CsvSeries Load(MLContext ml, string path, CsvColumns columns, CsvReading? reading = null)
    {
        reading ??= CsvReading.Default;
        if (!File.Exists(path)) throw new CliException($"Data file '{path}' was not found.");
        var raw = File.ReadAllLines(path);
        var lines = Enumerable.Range(0, raw.Length).Where(i => raw[i].Trim().Length > 0).Select(i => (Number: i + 1, Text: raw[i])).ToArray();
        if (lines.Length < 2) throw new CliException($"Data file '{path}' has no rows under its header.");
        char separator = reading.Separator ?? DetectSeparator(lines[0].Text);
        var header = Split(lines[0].Text, separator);
        int Index(string name, string role)
        {
            int i = Array.FindIndex(header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return i;
            // One column that holds another separator: the file is read with the wrong one.
            string hint = header.Length == 1 && header[0].IndexOfAny([',', ';', '\t', '|']) >= 0
                ? $" The header was split at {Name(separator)}; give the file's separator with --separator." : "";
            throw new CliException($"Could not find {role} column '{name}' in '{path}'. Columns present: {string.Join(", ", header)}.{hint}");
        }
        string? dateName = columns.Date ?? (columns.FindDate && header.Any(h => h.Equals("date", StringComparison.OrdinalIgnoreCase)) ? "date" : null);
        int valueIndex = Index(columns.Value, "value");
        int? dateIndex = dateName is null ? null : Index(dateName, "date");
        var observedIndex = columns.Covariates.Select(c => Index(c, "covariate")).Concat(columns.KnownFuture.Select(c => Index(c, "known-future"))).ToArray();
        int C = columns.Covariates.Length;
        var staticIndex = columns.Static.Select(c => Index(c, "static")).ToArray();
        int? idIndex = columns.SeriesId is null ? null : Index(columns.SeriesId, "series id");
        string dateColumn = dateIndex is null ? "" : header[dateIndex.Value];

        // Every row, grouped by series in order of first appearance.
        var series = new Dictionary<string, List<Row>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (line, text) in lines.Skip(1))
        {
            var fields = Split(text, separator);
            string id = idIndex is null ? "" : Field(fields, idIndex.Value, header, line, path);
            if (idIndex is not null && id.Length == 0) throw new CliException($"Row {line} of '{path}': series id column '{header[idIndex.Value]}' is empty; every row needs its series' id.");
            var statics = staticIndex.Select(c => Field(fields, c, header, line, path)).ToArray();
            bool toForecast = columns.FutureRows && Field(fields, valueIndex, header, line, path).Length == 0;
            // A step to forecast gives only its known-future columns.
            var observed = (toForecast ? observedIndex[C..] : observedIndex).Select(c => Number(fields, c, header, line, path)).ToArray();
            float? value = toForecast ? null : Number(fields, valueIndex, header, line, path);
            DateTime? date = dateIndex is null ? null : Date(Field(fields, dateIndex.Value, header, line, path), dateColumn, line, path);
            if (!series.TryGetValue(id, out var rows))
            {
                series[id] = rows = [];
                order.Add(id);
            }
            rows.Add(new Row(line, id, value, observed, statics, date));
        }

        bool sorted = false;
        if (dateIndex is not null)
            foreach (string id in order)
            {
                var rows = series[id];
                if (reading.Sort)
                {
                    var inOrder = rows.OrderBy(r => r.Date!.Value).ToList();   // stable: equal dates keep file order, and are refused below
                    sorted |= !inOrder.SequenceEqual(rows);
                    series[id] = rows = inOrder;
                }
                CheckOrder(rows, path, dateColumn, Of(idIndex, header, id));
            }
        foreach (string id in order)
        {
            var rows = series[id];
            int toForecast = rows.FindIndex(r => r.Value is null);
            if (toForecast >= 0 && rows.Skip(toForecast).FirstOrDefault(r => r.Value is not null) is { } after)
                throw new CliException($"Row {after.Line} of '{path}': {(idIndex is null ? "the series" : $"series '{id}'")} has a value after a row without one; the rows to forecast come last.");
        }

        var step = TimeStep.Unknown;
        int filled = 0;
        string? firstFill = null;
        if (dateIndex is not null)
        {
            step = TimeStep.Infer(order.Select(id => series[id].Select(r => r.Date!.Value).ToArray()));
            if (step.IsKnown)
                foreach (string id in order)
                    series[id] = CheckSteps(series[id], step, reading.Gaps, path, dateColumn, Of(idIndex, header, id), ref filled, ref firstFill);
        }

        var values = new List<float>();
        var observedAll = new List<float>();
        var dates = dateIndex is null ? null : new List<DateTime>();
        var ids = idIndex is null ? null : new List<string>();
        var staticRows = new List<string[]>();
        var future = new Dictionary<string, List<float[]>>(StringComparer.Ordinal);
        foreach (string id in order)
            foreach (var row in series[id])
            {
                if (row.Value is not float v)
                {
                    if (!future.TryGetValue(id, out var steps)) future[id] = steps = [];
                    steps.Add(row.Observed);
                    continue;
                }
                values.Add(v);
                observedAll.AddRange(row.Observed);
                dates?.Add(row.Date!.Value);
                ids?.Add(id);
                staticRows.Add(row.Static);
            }
        if (values.Count == 0) throw new CliException($"Data file '{path}' has no row with a value in column '{header[valueIndex]}'.");

        var named = new CsvColumns(header[valueIndex])
        {
            Date = dateIndex is null ? null : dateColumn, Covariates = observedIndex[..C].Select(c => header[c]).ToArray(),
            KnownFuture = observedIndex[C..].Select(c => header[c]).ToArray(), Static = staticIndex.Select(c => header[c]).ToArray(),
            SeriesId = idIndex is null ? null : header[idIndex.Value], FutureRows = columns.FutureRows,
        };
        var view = DataView(named, values, observedAll, staticRows, ids, dates);
        return new CsvSeries(path, named, values.ToArray(), observedAll.ToArray(), dates?.ToArray(), step, view, ids?.ToArray(), future)
        {
            Separator = separator, FilledSteps = filled, FirstFill = firstFill, Sorted = sorted,
        };
    }

    /// <summary>The rows as a data view, columns in the order value, covariates, known-future, static, id, date.</summary>
    private static IDataView DataView(CsvColumns named, List<float> values, List<float> observed, List<string[]> statics, List<string>? ids, List<DateTime>? dates)
    {
        int n = values.Count, W = named.Covariates.Length + named.KnownFuture.Length;
        var columns = new List<SeriesDataView.Column> { new(named.Value, values.ToArray()) };
        var observedNames = named.Covariates.Concat(named.KnownFuture).ToArray();
        for (int c = 0; c < W; c++)
        {
            var column = new float[n];
            for (int t = 0; t < n; t++) column[t] = observed[t * W + c];
            columns.Add(new SeriesDataView.Column(observedNames[c], column));
        }
        for (int s = 0; s < named.Static.Length; s++)
        {
            var text = statics.Select(r => r[s]).ToArray();
            // A static column is numeric when every entry is a number (standardised), else a category (one-hot).
            var numbers = new float[n];
            bool numeric = true;
            for (int t = 0; t < n && numeric; t++)
                numeric = float.TryParse(text[t], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[t]);
            columns.Add(numeric ? new SeriesDataView.Column(named.Static[s], numbers)
                : new SeriesDataView.Column(named.Static[s], text.Select(x => x.AsMemory()).ToArray()));
        }
        if (ids is not null) columns.Add(new SeriesDataView.Column(named.SeriesId!, ids.Select(x => x.AsMemory()).ToArray()));
        if (dates is not null) columns.Add(new SeriesDataView.Column(named.Date!, dates.ToArray()));
        return new SeriesDataView(columns, n);
    }

    /// <summary>How messages name a series: "" for one series, else " of series 'A'".</summary>
    private static string Of(int? idIndex, string[] header, string id) => idIndex is null ? "" : $" in series '{id}' ('{header[idIndex.Value]}')";

    /// <summary>Dates must increase within a series; one going back (a newest-first or shuffled export) or repeating is refused.</summary>
    private static void CheckOrder(List<Row> rows, string path, string dateColumn, string of)
    {
        for (int t = 1; t < rows.Count; t++)
        {
            DateTime a = rows[t - 1].Date!.Value, b = rows[t].Date!.Value;
            if (b == a)
                throw new CliException($"Date column '{dateColumn}' of '{path}' repeats {Show(b)}{of} at row {rows[t].Line} (row {rows[t - 1].Line} has it too); a series needs one row per date.");
            if (b < a)
                throw new CliException($"Rows of '{path}' are not in time order: date column '{dateColumn}' goes back{of} at row {rows[t].Line}, {Show(b)} after {Show(a)}. " +
                    "Sort the file oldest first, or pass --sort to sort each series' rows by date.");
        }
    }

    /// <summary>Each row must be one <paramref name="step"/> after the last: a gap is refused, naming it, or filled as the
    /// library fills it (<see cref="GapFilling"/>: the previous row's covariates, the value carried or interpolated).
    /// Rows to forecast take no filling: a gap next to them is refused.</summary>
    private static List<Row> CheckSteps(List<Row> rows, TimeStep step, GapFilling gaps, string path, string dateColumn, string of, ref int filled, ref string? firstFill)
    {
        var result = new List<Row>(rows.Count) { rows[0] };
        for (int t = 1; t < rows.Count; t++)
        {
            Row a = rows[t - 1], b = rows[t];
            long k = step.StepsBetween(a.Date!.Value, b.Date!.Value);
            if (k < 0)
                throw new CliException($"Date column '{dateColumn}' of '{path}'{of} at row {b.Line}: {Show(b.Date.Value)} follows {Show(a.Date.Value)}, which is not a whole number of " +
                    $"time steps later; the dates step {Describe(step)} (inferred from the file). Each row must be one step after the last.");
            if (k > 1 && (gaps == GapFilling.None || a.Value is null || b.Value is null))
            {
                string fix = a.Value is null || b.Value is null ? "The rows to forecast must follow the last value one step apart."
                    : "Add the missing rows, pass --fill-gaps linear or --fill-gaps previous to fill them, or --date none to take the rows as consecutive steps.";
                throw new CliException($"Date column '{dateColumn}' of '{path}' has a gap{of} at row {b.Line}: {Show(b.Date.Value)} follows {Show(a.Date.Value)}, " +
                    $"{k - 1} {Describe(step)} time step(s) missing. {fix}");
            }
            float previous = a.Value ?? 0;
            for (long j = 1; j < k; j++)
            {
                // As the library fills (ForecastColumns' gap filling): each missing step interpolated from the last one filled.
                previous = gaps == GapFilling.Linear ? previous + (b.Value!.Value - previous) / (k - j + 1) : previous;
                var at = step.Add(a.Date.Value, j);
                result.Add(a with { Line = 0, Value = previous, Date = at });
                filled++;
                firstFill ??= $"{Show(at)}{of}";
            }
            result.Add(b);
        }
        return result;
    }

    private static string Show(DateTime d) => d.ToString(d.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static DateTime Date(string raw, string column, int line, string path)
    {
        if (DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)) return at;
        if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double year) && TryYear(year, out at)) return at;
        throw new CliException($"Row {line} of '{path}': date column '{column}' holds '{raw}', which is not a date (yyyy-MM-dd) or a year.");
    }

    /// <summary>A year, possibly fractional: whole months when the fraction is one (1949.083 as R writes monthly time, 1949.25
    /// for a quarter), so such series step by months; otherwise the fraction of the year in days.</summary>
    private static bool TryYear(double year, out DateTime date)
    {
        date = default;
        if (!(year >= 1 && year < 10000)) return false;
        int y = (int)Math.Floor(year);
        double months = (year - y) * 12;
        if (Math.Abs(months - Math.Round(months)) < 0.05)
        {
            date = new DateTime(y, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths((int)Math.Round(months));
            return true;
        }
        date = new DateTime(y, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays((year - y) * (DateTime.IsLeapYear(y) ? 366 : 365));
        return true;
    }

    /// <summary>The separator of a header line: the most frequent of comma, semicolon, tab and '|' outside quotes
    /// (comma when none is there: a file of one column).</summary>
    internal static char DetectSeparator(string header)
    {
        char[] candidates = [',', ';', '\t', '|'];
        var counts = new int[candidates.Length];
        bool quoted = false;
        foreach (char c in header)
        {
            if (c == '"') quoted = !quoted;
            else if (!quoted && Array.IndexOf(candidates, c) is int i and >= 0) counts[i]++;
        }
        int best = 0;
        for (int i = 1; i < candidates.Length; i++) if (counts[i] > counts[best]) best = i;
        return candidates[best];
    }

    /// <summary>A separator as messages name it.</summary>
    internal static string Name(char separator) => separator switch { '\t' => "tabs", ',' => "commas", ';' => "semicolons", _ => $"'{separator}'" };

    /// <summary>The fields of a line: split at <paramref name="separator"/> outside double quotes, quotes removed ("" is
    /// a quote), each trimmed.</summary>
    internal static string[] Split(string line, char separator)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == separator)
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else field.Append(c);
        }
        fields.Add(field.ToString().Trim());
        return fields.ToArray();
    }

    private static string Field(string[] fields, int index, string[] header, int line, string path)
        => index < fields.Length ? fields[index] : throw new CliException($"Row {line} of '{path}' has {fields.Length} fields; column '{header[index]}' is field {index + 1}.");

    private static float Number(string[] fields, int index, string[] header, int line, string path)
    {
        string raw = Field(fields, index, header, line, path);
        if (!float.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
            throw new CliException($"Row {line} of '{path}': column '{header[index]}' holds '{raw}', which is not a finite number" +
                (raw.Contains(',') ? " (numbers are read with a decimal point, not a comma)." : "."));
        return v;
    }
}

using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRnn.Cli.Tests;

/// <summary>How the tool reads a CSV file's dates and fields: time order checked (or sorted), the time step inferred on
/// the calendar, gaps refused naming the first (or filled), every series on its own; the separator given or detected.</summary>
public sealed class CsvReadingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mlnetrnn-csv-" + Guid.NewGuid().ToString("N"));

    public CsvReadingTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, IEnumerable<string> lines)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string D(DateTime d) => d.ToString(d.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>A monthly series from January 2000: date,value with value 10·(t + 1).</summary>
    private static List<string> Monthly(int n) => ["date,value", .. Enumerable.Range(0, n).Select(t => $"{D(new DateTime(2000, 1, 1).AddMonths(t))},{10 * (t + 1)}")];

    private static CsvSeries Load(string path, CsvReading? reading = null, string? seriesId = null)
        => CsvSeries.Load(new MLContext(), path, new CsvColumns("value") { FindDate = true, SeriesId = seriesId }, reading);

    private static readonly string[] Fast = ["--epochs", "2", "--ensemble", "1", "--hidden", "4", "--window", "12", "--horizon", "3"];

    // ------------------------------------------------------------------ time order

    [Fact]
    public void ANewestFirstFileIsRefusedNamingTheFileTheColumnAndTheFirstRowOutOfOrder()
    {
        var lines = Monthly(60);
        string path = Write("newest.csv", [lines[0], .. lines.Skip(1).Reverse()]);
        var (code, output) = CliTests.Run(["fit", path, "--model", Path.Combine(_dir, "x.zip"), .. Fast]);
        Assert.Equal(2, code);
        Assert.Contains("newest.csv", output);
        Assert.Contains("date column 'date'", output);
        Assert.Contains("row 3, 2004-11-01 after 2004-12-01", output);
        Assert.Contains("--sort", output);
        Assert.DoesNotContain("epoch", output);             // refused before training
    }

    [Fact]
    public void SortPutsAShuffledFileInTimeOrderAndTheForecastFollowsTheNewestDate()
    {
        var lines = Monthly(60);
        var rng = new Random(1);
        var shuffled = lines.Skip(1).OrderBy(_ => rng.Next()).ToList();
        string path = Write("shuffled.csv", [lines[0], .. shuffled]);
        var series = Load(path, new CsvReading { Sort = true });
        Assert.True(series.Sorted);
        Assert.Equal(Enumerable.Range(1, 60).Select(t => 10f * t), series.Values);
        Assert.Equal(new DateTime(2005, 1, 1), series.FutureDates(1, series.Values.Length)![0]);

        var (code, output) = CliTests.Run(["fit", path, "--sort", "--model", Path.Combine(_dir, "x.zip"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("sorted by date", output);
        Assert.Contains("2005-01-01", output);              // the first step forecast: after the newest row, not the last line
    }

    [Fact]
    public void ARepeatedDateIsRefusedEvenWhenSorting()
    {
        var lines = Monthly(30);
        lines.Insert(11, lines[10]);
        var ex = Assert.Throws<MLNetRnn.Cli.Shared.CliException>(() => Load(Write("twice.csv", lines), new CsvReading { Sort = true }));
        Assert.Contains("repeats 2000-10-01", ex.Message);
        Assert.Contains("row 12", ex.Message);
    }

    // ------------------------------------------------------------------ gaps

    [Fact]
    public void AGapIsRefusedNamingTheFirstGapAndTheFlagsThatFillIt()
    {
        var lines = Monthly(60);
        lines.RemoveRange(20, 3);                            // 2001-08 … 2001-10 missing
        lines.RemoveAt(40);
        var (code, output) = CliTests.Run(["fit", Write("gaps.csv", lines), "--model", Path.Combine(_dir, "x.zip"), .. Fast]);
        Assert.Equal(2, code);
        Assert.Contains("gaps.csv", output);
        Assert.Contains("gap at row 21: 2001-11-01 follows 2001-07-01, 3 monthly time step(s) missing", output);
        Assert.Contains("--fill-gaps", output);
        Assert.DoesNotContain("epoch", output);
    }

    [Theory]
    [InlineData(GapFilling.Linear, new float[] { 70, 80, 90 })]
    [InlineData(GapFilling.PreviousValue, new float[] { 60, 60, 60 })]
    public void FillingInsertsTheMissingStepsAsTheLibraryFillsThem(GapFilling gaps, float[] inserted)
    {
        var lines = Monthly(36);
        lines.RemoveRange(7, 3);                             // values 70, 80, 90 (2000-07 … 2000-09) missing
        var series = Load(Write("gaps.csv", lines), new CsvReading { Gaps = gaps });
        Assert.Equal(36, series.Values.Length);
        Assert.Equal(inserted, series.Values[6..9]);
        Assert.Equal(Enumerable.Range(0, 36).Select(t => new DateTime(2000, 1, 1).AddMonths(t)), series.Dates!);
        Assert.Equal(3, series.FilledSteps);
        // The view the model trains on holds the same rows.
        Assert.Equal(36, series.View.GetRowCount());
        Assert.Equal(series.Values, series.View.GetColumn<float>("value").ToArray());
    }

    [Fact]
    public void FilledDataForecastsOnTheCalendar()
    {
        var lines = Monthly(48);
        lines.RemoveRange(30, 2);
        var (code, output) = CliTests.Run(["fit", Write("gaps.csv", lines), "--fill-gaps", "linear", "--model", Path.Combine(_dir, "x.zip"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("2 missing monthly time step(s) filled", output);
        Assert.Contains("2004-01-01", output);              // 48 months from 2000-01: the first step is 2004-01-01, …
        Assert.Contains("2004-03-01", output);              // … the third 2004-03-01, a month at a time
    }

    [Fact]
    public void DatesAreCheckedWithinEachSeriesOfAPanel()
    {
        var lines = new List<string> { "store,date,value" };
        for (int t = 0; t < 40; t++)
            foreach (string s in new[] { "A", "B" })
                if (!(s == "B" && t is 17 or 18))
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"{s},{D(new DateTime(2024, 1, 1).AddDays(t))},{20 + t % 7 + (s == "B" ? 5 : 0)}"));
        string path = Write("panel.csv", lines);
        var ex = Assert.Throws<MLNetRnn.Cli.Shared.CliException>(() => Load(path, seriesId: "store"));
        Assert.Contains("series 'B'", ex.Message);
        Assert.Contains("2024-01-20 follows 2024-01-17, 2 daily time step(s) missing", ex.Message);

        var filled = Load(path, new CsvReading { Gaps = GapFilling.PreviousValue }, seriesId: "store");
        Assert.Equal(40, filled.Part("A").Values.Length);
        Assert.Equal(40, filled.Part("B").Values.Length);
        Assert.Equal(2, filled.FilledSteps);
        Assert.Equal("daily", filled.Frequency);
    }

    [Fact]
    public void ForecastRefusesNewRowsThatDoNotContinueTheModelsDates()
    {
        string model = Path.Combine(_dir, "m.zip");
        Assert.Equal(0, CliTests.Run(["fit", Write("train.csv", Monthly(40)), "--model", model, .. Fast]).Code);
        // Regular dates, but ten years on: the 41st row is not the month after the model's last (2003-04).
        var later = Monthly(45).Select(l => l.Replace("200", "201", StringComparison.Ordinal)).ToList();
        var (code, output) = CliTests.Run("forecast", "--model", model, "--data", Write("later.csv", later));
        Assert.Equal(2, code);
        Assert.Contains("do not continue its dates", output);
        // The same file with the model's dates is observed and forecast from its end.
        (code, output) = CliTests.Run("forecast", "--model", model, "--data", Write("more.csv", Monthly(45)));
        Assert.True(code == 0, output);
        Assert.Contains("2003-10-01", output);
    }

    // ------------------------------------------------------------------ the time step, on the calendar

    public static TheoryData<string, string[], string, string> Frequencies()
    {
        static string[] Dates(int n, Func<int, string> at) => Enumerable.Range(0, n).Select(at).ToArray();
        var t0 = new DateTime(2024, 1, 1);
        return new()
        {
            { "hourly", Dates(30, t => D(t0.AddHours(t))), "hourly", "2024-01-02 06:00" },
            { "daily", Dates(30, t => D(t0.AddDays(t))), "daily", "2024-01-31" },
            { "weekly", Dates(30, t => D(t0.AddDays(7 * t))), "weekly", "2024-07-29" },
            { "month starts", Dates(30, t => D(t0.AddMonths(t))), "monthly", "2026-07-01" },
            // Month ends step by months (28 to 31 days), so the forecast lands on month ends too, never drifting.
            { "month ends", Dates(13, t => D(new DateTime(2023, 1, 1).AddMonths(t + 1).AddDays(-1))), "monthly", "2024-02-29" },
            { "quarterly", Dates(30, t => D(t0.AddMonths(3 * t))), "quarterly", "2031-07-01" },
            { "years as numbers", Dates(30, t => (1990 + t).ToString(CultureInfo.InvariantCulture)), "yearly", "2020-01-01" },
            // R writes monthly time as fractional years: 1949, 1949.083, 1949.167, …
            { "fractional years", Dates(30, t => (1949 + t / 12.0).ToString("F3", CultureInfo.InvariantCulture)), "monthly", "1951-07-01" },
        };
    }

    [Theory]
    [MemberData(nameof(Frequencies))]
    public void TheTimeStepIsInferredFromTheDatesAndTheForecastIsDatedOnItsCalendar(string what, string[] dates, string frequency, string next)
    {
        string path = Write($"{what}.csv", ["date,value", .. dates.Select((d, t) => $"{d},{t % 5 + 1}")]);
        var series = Load(path);
        Assert.Equal(frequency, series.Frequency);
        Assert.Equal(next, series.FormatDate(series.FutureDates(1, series.Values.Length)![0]));
    }

    // ------------------------------------------------------------------ separators

    [Theory]
    [InlineData(";")]
    [InlineData("\t")]
    [InlineData("|")]
    [InlineData(",")]
    public void TheSeparatorIsDetectedFromTheHeaderLine(string separator)
    {
        var lines = Monthly(24).Select(l => l.Replace(",", separator, StringComparison.Ordinal));
        var series = Load(Write("sep.csv", lines));
        Assert.Equal(separator[0], series.Separator);
        Assert.Equal(Enumerable.Range(1, 24).Select(t => 10f * t), series.Values);
        Assert.Equal("monthly", series.Frequency);
    }

    [Theory]
    [InlineData(";", ";")]
    [InlineData("\t", "tab")]
    [InlineData("\t", "\\t")]
    public void TheSeparatorOptionReadsTheFile(string separator, string option)
    {
        string path = Write("sep.csv", Monthly(40).Select(l => l.Replace(",", separator, StringComparison.Ordinal)));
        var (code, output) = CliTests.Run(["fit", path, "--separator", option, "--model", Path.Combine(_dir, "x.zip"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("Dates in 'date': monthly", output);
    }

    [Fact]
    public void AWrongSeparatorIsNamedWithTheOptionThatFixesIt()
    {
        string path = Write("semi.csv", Monthly(24).Select(l => l.Replace(",", ";", StringComparison.Ordinal)));
        var (code, output) = CliTests.Run(["fit", path, "--separator", ",", "--model", Path.Combine(_dir, "x.zip"), .. Fast]);
        Assert.Equal(2, code);
        Assert.Contains("Columns present: date;value", output);
        Assert.Contains("--separator", output);
    }

    [Fact]
    public void QuotedFieldsKeepTheirSeparators()
    {
        string path = Write("quoted.csv", ["\"name\",\"date\",\"value\"", .. Enumerable.Range(0, 20).Select(t => $"\"Smith, J.\",{D(new DateTime(2020, 1, 1).AddDays(t))},\"{t}\"")]);
        var series = CsvSeries.Load(new MLContext(), path, new CsvColumns("value") { FindDate = true, SeriesId = "name" });
        Assert.Equal(["Smith, J."], series.SeriesIds);
        Assert.Equal(19f, series.Values[^1]);
    }
}

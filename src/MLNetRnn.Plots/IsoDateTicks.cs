using System.Globalization;
using ScottPlot;

namespace MLNetRnn.Plots;

/// <summary>
/// Date ticks for an x axis in OLE Automation dates, labelled the ISO 8601 way the tables are (<c>2024-11-04</c>,
/// <c>2024-11</c>, <c>2024</c>, <c>2024-11-04 06:00</c>) whatever the machine's culture: ScottPlot's own date axis
/// labels by the current culture (11/4/2024 on most machines). The step is the finest of hours, days, weeks (from
/// Mondays), months, quarters, years … whose labels fit the axis side by side; a label shows only the parts the step
/// needs.
/// </summary>
internal sealed class IsoDateTicks : ITickGenerator
{
    private enum Unit { Hour, Day, Week, Month, Year }

    private static readonly (Unit Unit, int Step)[] Steps =
    [
        (Unit.Hour, 1), (Unit.Hour, 2), (Unit.Hour, 3), (Unit.Hour, 6), (Unit.Hour, 12),
        (Unit.Day, 1), (Unit.Day, 2), (Unit.Week, 1), (Unit.Week, 2),
        (Unit.Month, 1), (Unit.Month, 2), (Unit.Month, 3), (Unit.Month, 6),
        (Unit.Year, 1), (Unit.Year, 2), (Unit.Year, 5), (Unit.Year, 10), (Unit.Year, 20), (Unit.Year, 50), (Unit.Year, 100),
    ];

    /// <inheritdoc/>
    public Tick[] Ticks { get; set; } = [];

    /// <inheritdoc/>
    public int MaxTickCount { get; set; } = 1000;

    /// <inheritdoc/>
    public void Regenerate(CoordinateRange range, Edge edge, PixelLength size, Paint paint, LabelStyle labelStyle)
        => Ticks = Generate(range.Min, range.Max, size.Length);

    /// <summary>The ticks between <paramref name="min"/> and <paramref name="max"/> (OLE Automation dates) on an axis
    /// <paramref name="pixels"/> long.</summary>
    internal static Tick[] Generate(double min, double max, double pixels)
    {
        const double first = -657434, last = 2958465;   // the range DateTime.FromOADate accepts
        if (!(double.IsFinite(min) && double.IsFinite(max) && max > min)) return [];
        min = Math.Clamp(min, first, last);
        max = Math.Clamp(max, first, last);
        DateTime from = DateTime.FromOADate(min), to = DateTime.FromOADate(max);
        foreach (var (unit, step) in Steps)
        {
            string format = Format(unit);
            // About 8 px a character at the 13 px tick font, and a gap between labels.
            int fits = (int)(pixels / (format.Length * 8 + 28));
            // Counted before listing, so ten years of hours are not enumerated to be thrown away.
            if ((to - from).TotalDays / Days(unit, step) > fits + 1) continue;
            var dates = Dates(from, to, unit, step);
            if (dates.Count <= fits && dates.Count >= 2)
                return dates.Select(d => Tick.Major(d.ToOADate(), d.ToString(format, CultureInfo.InvariantCulture))).ToArray();
        }
        // An axis too short for two round dates: its two ends, in full.
        return [Tick.Major(min, from.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)), Tick.Major(max, to.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture))];
    }

    private static string Format(Unit unit) => unit switch
    {
        Unit.Hour => "yyyy-MM-dd HH:mm",
        Unit.Day or Unit.Week => "yyyy-MM-dd",
        Unit.Month => "yyyy-MM",
        _ => "yyyy",
    };

    private static double Days(Unit unit, int step) => step * unit switch
    {
        Unit.Hour => 1.0 / 24, Unit.Day => 1, Unit.Week => 7, Unit.Month => 30.4, _ => 365.25,
    };

    /// <summary>The round dates of the step from <paramref name="from"/> to <paramref name="to"/>: whole hours at a
    /// multiple of the step, midnights, Mondays, first days of months whose number is one more than a multiple of the step
    /// (quarters start in January, April, July, October), first days of years that are multiples of the step.</summary>
    private static List<DateTime> Dates(DateTime from, DateTime to, Unit unit, int step)
    {
        DateTime d = unit switch
        {
            Unit.Hour => new DateTime(from.Year, from.Month, from.Day, from.Hour, 0, 0),
            Unit.Day or Unit.Week => from.Date,
            Unit.Month => new DateTime(from.Year, from.Month, 1),
            _ => new DateTime(from.Year, 1, 1),
        };
        var dates = new List<DateTime>();
        while (d <= to && dates.Count < 1000)
        {
            bool round = unit switch
            {
                Unit.Hour => d.Hour % step == 0,
                Unit.Day => true,
                Unit.Week => d.DayOfWeek == DayOfWeek.Monday && (step == 1 || (d - DateTime.MinValue).Days / 7 % step == 0),
                Unit.Month => (d.Month - 1) % step == 0,
                _ => d.Year % step == 0,
            };
            if (round && d >= from) dates.Add(d);
            if (unit == Unit.Day && round && d >= from) d = d.AddDays(step);
            else d = unit switch
            {
                Unit.Hour => d.AddHours(1),
                Unit.Day or Unit.Week => d.AddDays(1),
                Unit.Month => d.AddMonths(1),
                _ => d.AddYears(1),
            };
        }
        return dates;
    }
}

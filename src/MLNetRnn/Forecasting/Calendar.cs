using System.Globalization;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>Calendar features the forecaster derives from the date column, each as a sine and a cosine of the position
/// in its cycle (so the last day of a cycle sits next to the first).</summary>
[Flags]
public enum CalendarFeatures
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>Day of the week (cycle of 7 days).</summary>
    DayOfWeek = 1,

    /// <summary>Day of the month (cycle of the month's length).</summary>
    DayOfMonth = 2,

    /// <summary>Month of the year (cycle of 12).</summary>
    Month = 4,

    /// <summary>Hour of the day, with minutes as a fraction (cycle of 24 hours).</summary>
    Hour = 8,
}

/// <summary>What to do when a series skips time steps (only checked with a date column).</summary>
public enum GapFilling
{
    /// <summary>Refuse the data with an error that names the series, the row and the dates around the gap.</summary>
    None = 0,

    /// <summary>Insert the missing steps with the previous row's value and covariates.</summary>
    PreviousValue = 1,

    /// <summary>Insert the missing steps with values interpolated linearly between the rows around the gap, and the
    /// previous row's covariates.</summary>
    Linear = 2,
}

/// <summary>The spacing of a series' dates: a whole number of calendar months (monthly, quarterly, yearly data, where
/// steps differ in days), or a fixed duration. The forecaster infers it from the date column
/// (<see cref="RnnForecastingOptions.DateColumnName"/>) to check gaps and date its forecasts; tools that read dates
/// themselves (the <c>mlnetrnn</c> CLI) use the same rules through this type.</summary>
/// <param name="Months">Calendar months per step (1 monthly, 3 quarterly, 12 yearly), or 0 for a fixed duration.</param>
/// <param name="Ticks">The fixed duration of a step in ticks when <paramref name="Months"/> is 0.</param>
public readonly record struct TimeStep(int Months, long Ticks)
{
    /// <summary>No step known (no dates, or fewer than two).</summary>
    public static readonly TimeStep Unknown = new(0, 0);

    /// <summary>Whether a step is known.</summary>
    public bool IsKnown => Months > 0 || Ticks > 0;

    /// <summary>The sampling frequency this step is, for seasonal-period detection: hourly, daily, weekly, monthly,
    /// quarterly, yearly, or unknown (no dates, or another step: every 15 minutes, every other month, …).</summary>
    public SamplingFrequency Frequency => this switch
    {
        { Months: 1 } => SamplingFrequency.Monthly,
        { Months: 3 } => SamplingFrequency.Quarterly,
        { Months: 12 } => SamplingFrequency.Yearly,
        { Months: 0, Ticks: TimeSpan.TicksPerHour } => SamplingFrequency.Hourly,
        { Months: 0, Ticks: TimeSpan.TicksPerDay } => SamplingFrequency.Daily,
        { Months: 0, Ticks: 7 * TimeSpan.TicksPerDay } => SamplingFrequency.Weekly,
        _ => SamplingFrequency.Unknown,
    };

    /// <summary>The date <paramref name="steps"/> steps after <paramref name="date"/>. Monthly steps from the last day
    /// of a month land on the last day of the target month.</summary>
    public DateTime Add(DateTime date, long steps)
    {
        if (Months == 0) return date.AddTicks(Ticks * steps);
        var target = date.AddMonths(checked((int)(Months * steps)));
        return IsMonthEnd(date) ? target.AddDays(DateTime.DaysInMonth(target.Year, target.Month) - target.Day) : target;
    }

    /// <summary>How many steps lie from <paramref name="from"/> to <paramref name="to"/>, or −1 when <paramref name="to"/>
    /// is not a whole number of steps later.</summary>
    public long StepsBetween(DateTime from, DateTime to)
    {
        if (to <= from) return -1;
        if (Months == 0)
        {
            long ticks = (to - from).Ticks;
            return ticks % Ticks == 0 ? ticks / Ticks : -1;
        }
        int months = (to.Year - from.Year) * 12 + to.Month - from.Month;
        if (months <= 0 || months % Months != 0) return -1;
        long steps = months / Months;
        return Add(from, steps) == to ? steps : -1;
    }

    /// <summary>The most common spacing between consecutive dates of the series (calendar months when the dates
    /// are a whole number of months apart on the same day, or on month ends).</summary>
    public static TimeStep Infer(IEnumerable<DateTime[]> series)
    {
        var months = new Dictionary<int, int>();
        var ticks = new Dictionary<long, int>();
        foreach (var dates in series)
            for (int t = 1; t < dates.Length; t++)
            {
                DateTime a = dates[t - 1], b = dates[t];
                if (b <= a) continue;
                int m = (b.Year - a.Year) * 12 + b.Month - a.Month;
                if (m > 0 && a.TimeOfDay == b.TimeOfDay && (a.Day == b.Day || (IsMonthEnd(a) && IsMonthEnd(b)))) months[m] = months.GetValueOrDefault(m) + 1;
                else ticks[(b - a).Ticks] = ticks.GetValueOrDefault((b - a).Ticks) + 1;
            }
        var bestMonths = months.OrderByDescending(p => p.Value).ThenBy(p => p.Key).FirstOrDefault();
        var bestTicks = ticks.OrderByDescending(p => p.Value).ThenBy(p => p.Key).FirstOrDefault();
        if (bestMonths.Value == 0 && bestTicks.Value == 0) return Unknown;
        // Month-based wins unless fixed durations are the clear majority (29-, 30- and 31-day months differ in ticks).
        return bestMonths.Value >= bestTicks.Value ? new TimeStep(bestMonths.Key, 0) : new TimeStep(0, bestTicks.Key);
    }

    private static bool IsMonthEnd(DateTime d) => d.Day == DateTime.DaysInMonth(d.Year, d.Month);

    /// <summary>The step in words ("1 day", "7 days", "1 hour", "3 months"), as messages name it; a step that is no whole
    /// number of days, hours, minutes or seconds as a time span.</summary>
    public override string ToString()
    {
        if (Months > 0) return Months == 1 ? "1 month" : $"{Months} months";
        var span = TimeSpan.FromTicks(Ticks);
        foreach (var (unit, name) in new[] { (TimeSpan.FromDays(1), "day"), (TimeSpan.FromHours(1), "hour"), (TimeSpan.FromMinutes(1), "minute"), (TimeSpan.FromSeconds(1), "second") })
            if (Ticks > 0 && Ticks % unit.Ticks == 0)
            {
                long n = Ticks / unit.Ticks;
                return string.Create(CultureInfo.InvariantCulture, $"{n} {(n == 1 ? name : name + "s")}");
            }
        return span.ToString("c", CultureInfo.InvariantCulture);
    }
}

/// <summary>The calendar features of dates, as sine/cosine pairs.</summary>
internal static class Calendar
{
    /// <summary>The features that suit a time step: hourly (or finer) data gets the hour and the day of the week, daily
    /// data the day of the week, of the month and the month, weekly to quarterly data the month, yearly data none.</summary>
    public static CalendarFeatures For(TimeStep step)
    {
        if (step.Months >= 12) return CalendarFeatures.None;
        if (step.Months > 0) return CalendarFeatures.Month;
        if (step.Ticks <= 0) return CalendarFeatures.None;
        var span = TimeSpan.FromTicks(step.Ticks);
        if (span < TimeSpan.FromDays(1)) return CalendarFeatures.Hour | CalendarFeatures.DayOfWeek;
        if (span < TimeSpan.FromDays(7)) return CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfMonth | CalendarFeatures.Month;
        return CalendarFeatures.Month;
    }

    /// <summary>Features per date: two per flag set.</summary>
    public static int Count(CalendarFeatures features) => 2 * System.Numerics.BitOperations.PopCount((uint)features);

    /// <summary>Writes the features of <paramref name="date"/> into <paramref name="destination"/> (<see cref="Count"/>
    /// values): for each flag in the order DayOfWeek, DayOfMonth, Month, Hour, sin then cos of its phase.</summary>
    public static void Write(CalendarFeatures features, DateTime date, Span<float> destination)
    {
        int p = 0;
        if (features.HasFlag(CalendarFeatures.DayOfWeek)) Pair((int)date.DayOfWeek / 7.0, destination, ref p);
        if (features.HasFlag(CalendarFeatures.DayOfMonth)) Pair((date.Day - 1) / (double)DateTime.DaysInMonth(date.Year, date.Month), destination, ref p);
        if (features.HasFlag(CalendarFeatures.Month)) Pair((date.Month - 1) / 12.0, destination, ref p);
        if (features.HasFlag(CalendarFeatures.Hour)) Pair((date.Hour + date.Minute / 60.0) / 24.0, destination, ref p);
    }

    private static void Pair(double phase, Span<float> destination, ref int p)
    {
        destination[p++] = (float)Math.Sin(2 * Math.PI * phase);
        destination[p++] = (float)Math.Cos(2 * Math.PI * phase);
    }
}

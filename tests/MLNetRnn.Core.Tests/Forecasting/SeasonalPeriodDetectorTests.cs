using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="SeasonalPeriodDetector"/>: a season is found at its period from the data alone and from the dates' calendar,
/// white noise and random walks are rarely given one, scaling or a linear trend changes no verdict, a repetition of a
/// season is not proposed as a season of its own, and a model that leaves a significant season out is told which.
/// </summary>
public sealed class SeasonalPeriodDetectorTests
{
    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Monthly, as AirPassengers: a rising level times a yearly season, with 3% noise.</summary>
    internal static float[] Airline(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(t => (float)((100 + 2 * t) * (1 + 0.2 * Math.Sin(2 * Math.PI * t / 12)) * (1 + 0.03 * Normal(rng)))).ToArray();
    }

    private static float[] WhiteNoise(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)Normal(rng)).ToArray();

    [Property(MaxTest = 200)]
    public bool APureSineIsDetectedAtItsPeriodFromTheDataAlone(PositiveInt period, PositiveInt seasons, NormalFloat phase, NonNegativeInt extra)
    {
        int p = 3 + period.Get % 46, k = 8 + seasons.Get % 12;
        int n = k * p + extra.Get % p;
        double phi = phase.Get;
        var x = Enumerable.Range(0, n).Select(t => (float)Math.Sin(2 * Math.PI * t / p + phi)).ToArray();
        var detection = SeasonalPeriodDetector.Detect(x);
        return detection.Period == p && detection.Candidates.Single(c => c.Period == p).Source.HasFlag(SeasonalPeriodSource.Autocorrelation);
    }

    [Fact]
    public void WhiteNoiseIsRarelyGivenASeason()
    {
        // Choosing the best of up to 400 lags would pass noise almost always; the season must also peak and repeat.
        var rng = new Random(7);
        foreach (var frequency in new[] { SamplingFrequency.Unknown, SamplingFrequency.Monthly, SamplingFrequency.Hourly })
        {
            int seasonal = Enumerable.Range(0, 400).Count(_ => SeasonalPeriodDetector.Detect(WhiteNoise(rng, rng.Next(40, 600)), frequency).Periods.Count > 0);
            Assert.True(seasonal <= 40, $"{seasonal} of 400 white-noise series ({frequency}) were given a season; expected at most 10%.");
        }
    }

    [Fact]
    public void ARandomWalkIsRarelyGivenASeason()
    {
        // Its autocorrelations are high at every lag; less its moving average, no lag stands out.
        var rng = new Random(11);
        int seasonal = Enumerable.Range(0, 400).Count(_ =>
        {
            double level = 0;
            var x = Enumerable.Range(0, rng.Next(40, 600)).Select(_ => (float)(level += Normal(rng))).ToArray();
            return SeasonalPeriodDetector.Detect(x, SamplingFrequency.Monthly).Periods.Count > 0;
        });
        Assert.True(seasonal <= 40, $"{seasonal} of 400 random walks were given a season; expected at most 10%.");
    }

    [Property(MaxTest = 100)]
    public bool ScalingTheSeriesChangesNoVerdictAndALinearTrendNoTest(PositiveInt seed, PositiveInt period, NormalFloat amplitude, NormalFloat factor, NormalFloat slope)
    {
        var rng = new Random(seed.Get);
        int p = 2 + period.Get % 24, n = rng.Next(4 * p, 400);
        double a = Math.Clamp(amplitude.Get, -3, 3);
        double c = Math.Pow(10, Math.Clamp(factor.Get, -3, 3)), b = Math.Clamp(slope.Get, -10, 10);   // c from 0.001 to 1000
        var x = Enumerable.Range(0, n).Select(t => (float)(10 + a * Math.Sin(2 * Math.PI * t / p) + Normal(rng))).ToArray();
        var frequency = (SamplingFrequency)(seed.Get % 7);
        var before = SeasonalPeriodDetector.Detect(x, frequency, periodsToTest: [2 * p]);
        var scaled = SeasonalPeriodDetector.Detect(x.Select(v => (float)(c * v)).ToArray(), frequency, periodsToTest: [2 * p]);
        // A trend large beside the season leaves every test as it was: the moving average follows it, the differences
        // shift by b. (Whether a multiple repeats a season can change: a trend changes a ratio to the season.)
        var trended = SeasonalPeriodDetector.Detect(x.Select((v, t) => (float)(v + b * t)).ToArray(), frequency, periodsToTest: [2 * p]);
        static string Tests(SeasonalPeriodDetection d) => string.Join(";", d.Candidates.Select(k => $"{k.Period}:{k.Source}:{k.Passes}"));
        static string Verdicts(SeasonalPeriodDetection d) => Tests(d) + "|" + string.Join(";", d.Candidates.Select(k => k.Repeats)) + "|" + string.Join(",", d.Periods);
        static bool Close(SeasonalPeriodDetection d, SeasonalPeriodDetection e) =>
            d.Candidates.Zip(e.Candidates).All(z => double.IsNaN(z.First.Strength) ? double.IsNaN(z.Second.Strength) : Math.Abs(z.First.Strength - z.Second.Strength) < 1e-3);
        return Verdicts(before) == Verdicts(scaled) && Tests(before) == Tests(trended) && Close(before, scaled) && Close(before, trended);
    }

    [Fact]
    public void TheCalendarProposesItsPeriodsWhenTheSeriesHoldsTwoOfThem()
    {
        Assert.Equal([24, 168], SeasonalPeriodDetector.CalendarPeriods(SamplingFrequency.Hourly));
        Assert.Equal([7, 365], SeasonalPeriodDetector.CalendarPeriods(SamplingFrequency.Daily));
        Assert.Equal([52], SeasonalPeriodDetector.CalendarPeriods(SamplingFrequency.Weekly));
        Assert.Equal([12], SeasonalPeriodDetector.CalendarPeriods(SamplingFrequency.Monthly));
        Assert.Equal([4], SeasonalPeriodDetector.CalendarPeriods(SamplingFrequency.Quarterly));
        Assert.Empty(SeasonalPeriodDetector.CalendarPeriods(SamplingFrequency.Yearly));

        var rng = new Random(3);
        float[] Daily(int n) => Enumerable.Range(0, n).Select(t => (float)(50 + 10 * Math.Sin(2 * Math.PI * t / 365.25) + 5 * ((t % 7) < 5 ? 1 : -1) + Normal(rng))).ToArray();
        // Under two years, no yearly candidate; two years list it, too short to test; three years test it; the Bartlett limit
        // of a smooth yearly season is high, and it passes from about five years.
        Assert.DoesNotContain(SeasonalPeriodDetector.Detect(Daily(700), SamplingFrequency.Daily).Candidates, c => c.Period == 365);
        var two = SeasonalPeriodDetector.Detect(Daily(800), SamplingFrequency.Daily).Candidates.Single(c => c.Period == 365);
        Assert.False(two.Tested);
        Assert.False(two.Passes);
        Assert.True(SeasonalPeriodDetector.Detect(Daily(1100), SamplingFrequency.Daily).Candidates.Single(c => c.Period == 365).Tested);
        var six = SeasonalPeriodDetector.Detect(Daily(6 * 365), SamplingFrequency.Daily);
        Assert.True(six.Candidates.Single(c => c.Period == 365).Passes, six.ToString());
        Assert.Equal([7, 365], six.Periods.Order());
    }

    [Fact]
    public void TheDatesNameASeasonTheDifferencesHide()
    {
        // A smooth yearly cycle of weekly data is a small step from one week to the next beside the noise: the scan of the
        // differences misses it, the calendar's 52 does not.
        var rng = new Random(3);
        var x = Enumerable.Range(0, 520).Select(t => (float)(20 + 8 * Math.Sin(2 * Math.PI * t / 52) + 4 * Normal(rng))).ToArray();
        Assert.Equal(1, SeasonalPeriodDetector.Detect(x).Period);
        var dated = SeasonalPeriodDetector.Detect(x, SamplingFrequency.Weekly);
        Assert.Equal(52, dated.Period);
        Assert.Equal(SeasonalPeriodSource.Dates, dated.Candidates.Single(c => c.Period == 52).Source);
    }

    [Fact]
    public void HourlyDataWithAWeekendTakesTheDayAndTheWeekAndDataWithoutOneOnlyTheDay()
    {
        var weekend = SeasonalPeriodDetector.Detect(SeasonalPeriodsTests.Weekly(6 * 168, seed: 1), SamplingFrequency.Hourly);
        Assert.Equal([24, 168], weekend.Periods.Order());
        // Every day alike: lag 168 is significant too (the day, seen seven days later), but not with the day removed.
        var alike = SeasonalPeriodDetector.Detect(SeasonalPeriodsTests.Daily(6 * 168, seed: 1), SamplingFrequency.Hourly);
        var week = alike.Candidates.Single(c => c.Period == 168);
        Assert.True(week.Passes, alike.ToString());
        Assert.Equal(24, week.Repeats);
        Assert.Equal([24], alike.Periods);
        Assert.Empty(alike.LeftOut([24]));
        Assert.Equal([168], weekend.LeftOut([24]).Select(c => c.Period));
    }

    [Fact]
    public void ARepetitionOfASeasonIsNotProposedAsOneOfItsOwn()
    {
        var x = Airline(144, seed: 1);
        var detection = SeasonalPeriodDetector.Detect(x, SamplingFrequency.Monthly, periodsToTest: [24]);
        var twice = detection.Candidates.Single(c => c.Period == 24);
        Assert.Equal(SeasonalPeriodSource.Given, twice.Source);
        Assert.True(twice.Passes, detection.ToString());   // lag 24 of a yearly season is significant too …
        Assert.Equal(12, twice.Repeats);                    // … but it is the year seen twice
        Assert.Equal([12], detection.Periods);
    }

    [Fact]
    public void AModelWithoutTheSeasonIsToldWhichItLeavesOut()
    {
        var detection = SeasonalPeriodDetector.Detect(Airline(144, seed: 2), SamplingFrequency.Monthly, periodsToTest: [7]);
        Assert.Equal(12, detection.Period);
        Assert.Equal([12], detection.LeftOut([1]).Select(c => c.Period));
        Assert.Equal([12], detection.LeftOut([7]).Select(c => c.Period));
        Assert.Empty(detection.LeftOut([12]));
        Assert.Empty(detection.LeftOut([24]));   // a two-year season holds the year's
        Assert.False(detection.Candidates.Single(c => c.Period == 7).Passes);
    }

    [Fact]
    public void APanelProposesThePeriodsMostOfItsSeriesPass()
    {
        var rng = new Random(9);
        var panel = Enumerable.Range(0, 12).Select(i => i < 9 ? Airline(120, seed: i) : WhiteNoise(rng, 120)).ToArray();
        var detection = SeasonalPeriodDetector.Detect(panel, SamplingFrequency.Monthly);
        var year = detection.Candidates.Single(c => c.Period == 12);
        Assert.Equal(12, year.SeriesTested);
        Assert.InRange(year.SeriesPassing, 9, 10);
        Assert.Equal(12, detection.Period);
        Assert.Equal(12, detection.SeriesCount);
    }

    [Fact]
    public void ConstantAndShortSeriesHaveNoSeason()
    {
        Assert.Equal(1, SeasonalPeriodDetector.Detect(Enumerable.Repeat(5f, 200).ToArray(), SamplingFrequency.Monthly).Period);
        Assert.Equal(1, SeasonalPeriodDetector.Detect(Enumerable.Range(0, 200).Select(t => 3f + 0.5f * t).ToArray(), SamplingFrequency.Monthly).Period);
        var shortSeries = SeasonalPeriodDetector.Detect(Airline(30, seed: 1), SamplingFrequency.Monthly);
        Assert.False(shortSeries.Candidates.Single().Tested);
        Assert.Equal(1, shortSeries.Period);
    }

    [Fact]
    public void BadArgumentsAreRefusedByName()
    {
        Assert.Equal("period", Assert.Throws<ArgumentOutOfRangeException>(() => SeasonalPeriodDetector.Test(new float[50], 1)).ParamName);
        Assert.Equal("series", Assert.Throws<ArgumentException>(() => SeasonalPeriodDetector.Detect(Array.Empty<float[]>())).ParamName);
        Assert.Equal("periodsToTest", Assert.Throws<ArgumentOutOfRangeException>(() => SeasonalPeriodDetector.Detect(new float[50], periodsToTest: [0])).ParamName);
    }
}

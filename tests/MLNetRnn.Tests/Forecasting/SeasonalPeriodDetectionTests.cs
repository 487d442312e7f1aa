using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Forecasting;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>A dated row of one of several series.</summary>
public sealed class DatedSeriesRow
{
    public string Series { get; set; } = "";

    public DateTime Date { get; set; }

    public float Value { get; set; }
}

/// <summary>
/// The seasonal period through ML.NET: left unset (0, the default) it is detected on the training data and the date
/// column's calendar, gives the same model as setting it, and is reported; a set period is used as set and a season it
/// leaves out is warned about; the backtest scales MASE by the detected period whatever the model uses.
/// </summary>
public sealed class SeasonalPeriodDetectionTests
{
    private readonly MLContext _ml = new(seed: 0);

    /// <summary>The base alone (no networks): what the period changes, fast.</summary>
    private static RnnForecastingOptions BaseOnly(int season, int window = 24, int horizon = 6)
    {
        var o = Fast(window, horizon, season);
        o.EnsembleSize = 0;
        return o;
    }

    /// <summary>Thirty days of hourly values: a daily profile whose level drops on the weekend, or the same every day.</summary>
    private static float[] Hourly(bool weekly, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, 30 * 24).Select(t => weekly
            ? (float)(((t / 24) % 7 >= 5 ? 40 : 100) * (1 + 0.3 * Math.Sin(2 * Math.PI * t / 24)) + 2 * Normal(rng))
            : (float)(100 + 0.02 * t + 20 * Math.Sin(2 * Math.PI * t / 24) + 5 * Normal(rng))).ToArray();
    }

    private IDataView Dated(IReadOnlyList<float[]> series, DateTime start, Func<DateTime, int, DateTime> step) => _ml.Data.LoadFromEnumerable(
        series.SelectMany((values, s) => values.Select((v, t) => new DatedSeriesRow { Series = $"S{s}", Date = step(start, t), Value = v })).ToArray());

    [Fact]
    public void AnUnsetSeasonalPeriodIsDetectedAndGivesTheModelOfSettingIt()
    {
        var data = View(_ml, Seasonal(120, seed: 4));
        var detected = _ml.Forecasting.ForecastByRnn(Fast(season: RnnForecastingOptions.Defaults.SeasonalPeriod)).Fit(data);
        var set = _ml.Forecasting.ForecastByRnn(Fast(season: 12)).Fit(data);

        Assert.Equal(0, RnnForecastingOptions.Defaults.SeasonalPeriod);
        Assert.Equal(12, detected.Model.Settings.SeasonalPeriod);
        var summary = detected.TrainingSummary;
        Assert.True(summary.SeasonalPeriodDetected);
        Assert.Equal([12], summary.SeasonalPeriods);
        var twelve = summary.SeasonalPeriodDetection!.Candidates.Single(c => c.Period == 12);
        Assert.True(twelve.Passes);
        Assert.Equal(SeasonalPeriodSource.Autocorrelation, twelve.Source);
        Assert.False(set.TrainingSummary.SeasonalPeriodDetected);
        // The same model, byte for byte, in the format a model with one period has always been saved in.
        Assert.Equal(set.Model.ToBytes(), detected.Model.ToBytes());
        Assert.Same(RnnForecastingTransformer.FormatWithoutPeriods, RnnForecastingTransformer.FormatFor(detected.Model));
        Assert.Equal(12, ForecastModel.FromBytes(detected.Model.ToBytes()).Settings.SeasonalPeriod);
    }

    [Fact]
    public void NoSeasonInTheDataGivesPeriodOne()
    {
        var rng = new Random(5);
        var noise = Enumerable.Range(0, 120).Select(_ => (float)(50 + Normal(rng))).ToArray();
        var model = _ml.Forecasting.ForecastByRnn(BaseOnly(season: 0)).Fit(View(_ml, noise));
        Assert.Equal(1, model.Model.Settings.SeasonalPeriod);
        Assert.Empty(model.Model.Settings.SeasonalPeriods);
        Assert.Equal([1], model.TrainingSummary.SeasonalPeriods);
    }

    [Fact]
    public void TheDateColumnsCalendarProposesASeasonTheDataScanMisses()
    {
        // Weekly data with a smooth yearly cycle: a small step from week to week beside the noise.
        var rng = new Random(3);
        var values = Enumerable.Range(0, 520).Select(t => (float)(20 + 8 * Math.Sin(2 * Math.PI * t / 52) + 4 * Normal(rng))).ToArray();
        var o = BaseOnly(season: 0, window: 52, horizon: 13);
        var undated = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, values));
        Assert.Equal(1, undated.Model.Settings.SeasonalPeriod);

        o.DateColumnName = nameof(DatedSeriesRow.Date);
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(Dated([values], new DateTime(2010, 1, 3), (d, t) => d.AddDays(7 * t)));
        Assert.Equal(52, model.Model.Settings.SeasonalPeriod);
        var detection = model.TrainingSummary.SeasonalPeriodDetection!;
        Assert.Equal(SamplingFrequency.Weekly, detection.Frequency);
        Assert.Equal(SeasonalPeriodSource.Dates, detection.Candidates.Single(c => c.Period == 52).Source);
    }

    [Fact]
    public void SeveralDetectedPeriodsBecomeTheCandidatesEachSeriesChoosesAmong()
    {
        // Hourly: S0's weekend differs (a week and a day), S1's days are all alike (a day).
        var data = Dated([Hourly(weekly: true, seed: 1), Hourly(weekly: false, seed: 3)],
            new DateTime(2020, 1, 6), (d, t) => d.AddHours(t));
        var o = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = nameof(DatedSeriesRow.Value), SeriesIdColumnName = nameof(DatedSeriesRow.Series),
            DateColumnName = nameof(DatedSeriesRow.Date), WindowSize = 48, Horizon = 24, EnsembleSize = 1, HiddenSizes = [8], MaximumSteps = 40, Seed = 1,
        };
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(data);

        Assert.Equal([24, 168], model.Model.Settings.SeasonalPeriods);
        Assert.Equal([168, 24], model.Model.Series.Select(f => f.SeasonalPeriod));
        Assert.Equal([24, 168], model.TrainingSummary.SeasonalPeriods);
        Assert.Equal(SamplingFrequency.Hourly, model.TrainingSummary.SeasonalPeriodDetection!.Frequency);
    }

    [Fact]
    public void ASetPeriodIsUsedAsSetAndASeasonItLeavesOutIsWarnedInTheSummaryAndTheLog()
    {
        var warnings = new List<string>();
        var ml = new MLContext(seed: 0);
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning && e.Source.StartsWith(nameof(RnnForecastingEstimator), StringComparison.Ordinal)) warnings.Add(e.RawMessage); };
        var data = View(ml, Seasonal(120, seed: 4));
        foreach (int season in new[] { 1, 7 })
        {
            warnings.Clear();
            var model = ml.Forecasting.ForecastByRnn(BaseOnly(season)).Fit(data);
            Assert.Equal(season, model.Model.Settings.SeasonalPeriod);
            Assert.False(model.TrainingSummary.SeasonalPeriodDetected);
            string note = Assert.Single(model.TrainingSummary.Notes, n => n.Contains("significant season of period 12", StringComparison.Ordinal));
            Assert.Contains($"seasonal period {season}", note);
            Assert.Contains("SeasonalPeriod = 12", note);
            Assert.Contains(note, warnings);
        }
        warnings.Clear();
        var right = ml.Forecasting.ForecastByRnn(BaseOnly(12)).Fit(data);
        Assert.DoesNotContain(right.TrainingSummary.Notes, n => n.Contains("significant season", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, n => n.Contains("significant season", StringComparison.Ordinal));
    }

    [Fact]
    public void TheWarningIsKeptInTheSavedModel()
    {
        var model = _ml.Forecasting.ForecastByRnn(BaseOnly(1)).Fit(View(_ml, Seasonal(120, seed: 4)));
        var read = ForecastModel.FromBytes(model.Model.ToBytes());
        Assert.Contains(read.Summary.Notes, n => n.Contains("significant season of period 12", StringComparison.Ordinal));
        Assert.Null(read.Summary.SeasonalPeriodDetection);
    }

    [Fact]
    public void BacktestMaseIsScaledByTheDetectedPeriodWhateverTheModelUses()
    {
        var values = Seasonal(120, seed: 4);
        var data = View(_ml, values);
        foreach (int season in new[] { 1, 12 })
        {
            var result = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(BaseOnly(season)), data, origins: 2);
            Assert.Equal(12, result.MaseSeasonalPeriod);
            foreach (var origin in result.Origins)
                Assert.Equal(ForecastMetrics.Mase(origin.Actual, origin.Forecast, values[..origin.Origin], 12), origin.Mase, 12);
        }
    }

    [Fact]
    public void SeasonalPeriodsAloneNeedNoSeasonalPeriod()
    {
        var o = Fast(season: 0);
        o.SeasonalPeriods = [24, 168];
        var settings = _ml.Forecasting.ForecastByRnn(o).Options.ToSettings();
        Assert.Equal(24, settings.SeasonalPeriod);
        Assert.Equal([24, 168], settings.SeasonalPeriods);
        o.SeasonalPeriod = 12;
        Assert.Equal("SeasonalPeriods", Assert.Throws<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o)).ParamName);
    }

    [Fact]
    public void DetectSeasonalPeriodsReadsTheDataAsTheForecasterDoes()
    {
        var monthly = Dated([Seasonal(120, seed: 4), Seasonal(96, seed: 5)], new DateTime(2001, 1, 31), (d, t) => d.AddMonths(t));
        var detection = _ml.Forecasting.DetectSeasonalPeriods(monthly, nameof(DatedSeriesRow.Value), nameof(DatedSeriesRow.Date), nameof(DatedSeriesRow.Series));
        Assert.Equal(SamplingFrequency.Monthly, detection.Frequency);
        Assert.Equal(2, detection.SeriesCount);
        Assert.Equal(12, detection.Period);
        Assert.Equal(SeasonalPeriodSource.Dates | SeasonalPeriodSource.Autocorrelation, detection.Candidates.Single(c => c.Period == 12).Source);

        var gap = Dated([Seasonal(60, seed: 4)], new DateTime(2001, 1, 1), (d, t) => d.AddDays(t < 30 ? t : t + 1));
        Assert.Contains("Date", Assert.Throws<InvalidOperationException>(() => _ml.Forecasting.DetectSeasonalPeriods(gap, nameof(DatedSeriesRow.Value), nameof(DatedSeriesRow.Date))).Message);
        Assert.Contains("'Missing'", Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Forecasting.DetectSeasonalPeriods(monthly, "Missing")).Message);
    }
}

using Microsoft.ML;
using MLNetRnn.Tests.Persistence;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>A row of one of several hourly series.</summary>
public sealed class HourlyRow
{
    public string Series { get; set; } = "";

    public float Value { get; set; }
}

/// <summary>
/// <see cref="RnnForecastingOptions.SeasonalPeriods"/> through ML.NET: each series' own period survives the model zip
/// and an engine's checkpoint (the forecasts are the same bits after loading), and bad values are refused naming the
/// option.
/// </summary>
public sealed class SeasonalPeriodsTests : IDisposable
{
    private const int Hours = 30 * 24;
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // S0: a daily profile whose level drops on the weekend (a weekly season); S1: the same profile every day.
    private static float[] Hourly(bool weekly, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, Hours).Select(t =>
        {
            double noise = ForecastingTestData.Normal(rng);
            return weekly
                ? (float)(((t / 24) % 7 >= 5 ? 40 : 100) * (1 + 0.3 * Math.Sin(2 * Math.PI * t / 24)) + 2 * noise)
                : (float)(100 + 0.02 * t + 20 * Math.Sin(2 * Math.PI * t / 24) + 5 * noise);
        }).ToArray();
    }

    private static readonly float[][] Data = [Hourly(weekly: true, seed: 1), Hourly(weekly: false, seed: 3)];

    private IDataView View() => _ml.Data.LoadFromEnumerable(Data.SelectMany((values, i) => values.Select(v => new HourlyRow { Series = $"S{i}", Value = v })));

    private static RnnForecastingOptions Options() => new()
    {
        OutputColumnName = "Forecast", InputColumnName = nameof(HourlyRow.Value), SeriesIdColumnName = nameof(HourlyRow.Series),
        WindowSize = 48, Horizon = 24, SeasonalPeriod = 24, SeasonalPeriods = [24, 168],
        EnsembleSize = 1, HiddenSizes = [8], MaximumSteps = 40, Seed = 1,
    };

    private static int[] Periods(RnnForecastingTransformer t) => t.Model.Series.Select(f => f.SeasonalPeriod).ToArray();

    [Fact]
    public void EachSeriesKeepsItsPeriodThroughTheZipAndACheckPoint()
    {
        var model = _ml.Forecasting.ForecastByRnn(Options()).Fit(View());
        Assert.Equal([168, 24], Periods(model));
        Assert.Contains(model.TrainingSummary.Notes, n => n.Contains("m = 24 (1), m = 168 (1)", StringComparison.Ordinal));

        string path = _dir.File("forecaster.zip");
        _ml.Model.Save(model, View().Schema, path);
        var loaded = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(path, out _));
        Assert.Equal([168, 24], Periods(loaded));
        var expected = model.CreateForecastingEngine().PredictAll();
        var again = loaded.CreateForecastingEngine().PredictAll();
        foreach (string id in new[] { "S0", "S1" }) Assert.Equal(expected[id], again[id], RnnForecastComparer.Instance);

        // An engine moves each series on by its own period (seasonal naive reads a week back for S0), checkpoints, restarts.
        var engine = model.CreateForecastingEngine();
        for (int t = 0; t < 30; t++)
            for (int i = 0; i < Data.Length; i++) engine.Observe($"S{i}", Data[i][Hours - 168 + t]);
        string checkpoint = _dir.File("checkpoint.zip");
        engine.CheckPoint(_ml, checkpoint);
        var restored = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.Load(checkpoint, out _));
        Assert.Equal([168, 24], Periods(restored));
        var restarted = restored.CreateForecastingEngine();
        foreach (string id in new[] { "S0", "S1" }) Assert.Equal(engine.Predict(id), restarted.Predict(id), RnnForecastComparer.Instance);
    }

    /// <summary>Only a model that uses candidate periods is written as format 8 (readable by version-8 readers alone); any
    /// other model keeps format 7's bytes and its promise that version-6 readers read it.</summary>
    [Fact]
    public void OnlyAModelWithCandidatePeriodsIsWrittenAsFormatEightAndWithDilatedNetworksAsNine()
    {
        (int Version, int ReadableBy) Saved(RnnForecastingOptions o)
        {
            // The formats of the options pinned here; decoder steps, a panel's default, raise every one to 11 (DecoderStepsTests).
            o.DecoderSteps = false;
            string path = _dir.File($"{Guid.NewGuid():N}.zip");
            _ml.Model.Save(_ml.Forecasting.ForecastByRnn(o).Fit(View()), View().Schema, path);
            return Probe.FormatVersions(path);
        }

        // Nested candidates (24 and 168) dilate the networks by default (SeasonalDilation), which needs format nine.
        Assert.Equal((9, 9), Saved(Options()));
        var undilated = Options();
        undilated.SeasonalDilation = false;
        Assert.Equal((8, 8), Saved(undilated));
        var without = Options();
        without.SeasonalPeriods = [];
        Assert.Equal((7, 6), Saved(without));
    }

    [Theory]
    [InlineData(new[] { 24, 0 }, "at least 1")]
    [InlineData(new[] { 168 }, "must contain SeasonalPeriod (24)")]
    public void BadCandidatesAreRefusedNamingTheOption(int[] periods, string why)
    {
        var o = Options();
        o.SeasonalPeriods = periods;
        var ex = Assert.ThrowsAny<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o).Fit(View()));
        Assert.Equal(nameof(RnnForecastingOptions.SeasonalPeriods), ex.ParamName);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }
}

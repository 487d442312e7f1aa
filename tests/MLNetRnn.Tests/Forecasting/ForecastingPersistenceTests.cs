using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Persistence;
using MLNetRnn.Tests.Persistence;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>The forecaster survives ML.NET's model zips: same process, fresh process, checkpoints, and a zip
/// written by format version 1 that must keep loading.</summary>
public sealed class ForecastingPersistenceTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private TransformerChain<RnnForecastingTransformer> FitPipeline(float[] series)
    {
        var o = Fast();
        o.InputColumnName = "Series";
        return _ml.Transforms.CopyColumns("Series", nameof(SeriesRow.Value)).Append(_ml.Forecasting.ForecastByRnn(o)).Fit(View(_ml, series));
    }

    [Fact]
    public void SaveLoadRoundTripGivesIdenticalForecasts()
    {
        var series = Seasonal(100, seed: 1);
        var model = FitPipeline(series);
        string path = _dir.File("forecaster.zip");
        _ml.Model.SaveAtomically(model, View(_ml, series).Schema, path);

        var loaded = new MLContext().Model.Load(path, out var schema);
        Assert.NotNull(schema);
        var forecaster = Assert.Single(((IEnumerable<ITransformer>)loaded).OfType<RnnForecastingTransformer>());
        var original = model.LastTransformer;
        Assert.Equal(original.TrainingSummary.Members[0].TrainingLoss, forecaster.TrainingSummary.Members[0].TrainingLoss);
        Assert.Equal(original.TrainingSummary.CorrectionWeight, forecaster.TrainingSummary.CorrectionWeight);
        foreach (string column in new[] { "Forecast", "Lower", "Upper" })
            Assert.Equal(Probe.Bits(model.Transform(View(_ml, series)), column), Probe.Bits(loaded.Transform(View(_ml, series)), column));
        Assert.Equal(model.CreateForecastingEngine().Predict(), loaded.CreateForecastingEngine().Predict(), RnnForecastComparer.Instance);
    }

    /// <summary>The forecaster's format declares itself readable by version-6 readers, which read each member's
    /// diagnostics in the middle of the file and know only diagnostics format 1: every diagnostics block in a saved
    /// forecaster must be version 1 (the same content as version 2, with its enums as integers).</summary>
    [Fact]
    public void ASavedForecasterHoldsDiagnosticsAVersionSixReaderReads()
    {
        var series = Seasonal(100, seed: 1);
        string path = _dir.File("forecaster.zip");
        _ml.Model.Save(FitPipeline(series), View(_ml, series).Schema, path);

        byte[] magic = "MLNRDIAG"u8.ToArray();
        var versions = new List<int>();
        using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
            foreach (var entry in zip.Entries)
            {
                using var stream = new MemoryStream();
                using (var s = entry.Open()) s.CopyTo(stream);
                byte[] bytes = stream.ToArray();
                for (int i = bytes.AsSpan().IndexOf(magic); i >= 0; i = NextIndex(bytes, magic, i))
                    versions.Add(BitConverter.ToInt32(bytes, i + magic.Length));
            }
        Assert.NotEmpty(versions);
        Assert.All(versions, v => Assert.Equal(1, v));

        static int NextIndex(byte[] bytes, byte[] magic, int from)
        {
            int next = bytes.AsSpan(from + 1).IndexOf(magic);
            return next < 0 ? -1 : from + 1 + next;
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ModelLoadsInFreshProcessWithoutRegistration()
    {
        var series = Seasonal(90, seed: 2);
        string csv = _dir.File("series.csv");
        File.WriteAllLines(csv, series.Select(v => v.ToString("R", CultureInfo.InvariantCulture)).Prepend("Value"));
        var data = _ml.Data.LoadFromTextFile(csv, [new TextLoader.Column("Value", DataKind.Single, 0)], separatorChar: ',', hasHeader: true);
        var model = FitPipeline(series);
        string path = _dir.File("forecaster.zip");
        _ml.Model.Save(model, data.Schema, path);

        var output = ModelLoaderProcess.Run(path, csv, "Forecast,Upper");

        Assert.Equal("preloaded: False", output[0]);
        Assert.Contains($"stage: {typeof(RnnForecastingTransformer).FullName}", output);
        var transformed = model.Transform(data);
        var expected = new[] { "Forecast", "Upper" }.SelectMany(c => Probe.Bits(transformed, c)
            .Select((bits, row) => $"row {row} {c}: {string.Join(" ", bits.Select(b => b.ToString("x8", CultureInfo.InvariantCulture)))}"));
        Assert.Equal(expected, output.Where(l => l.StartsWith("row ", StringComparison.Ordinal)));
    }

    [Fact]
    public void CheckPointContinuesExactlyWhereTheEngineStopped()
    {
        var series = Seasonal(140, seed: 3);
        var model = FitPipeline(series[..100]);
        var engine = model.CreateForecastingEngine();
        foreach (float v in series[100..120]) engine.Observe(v);
        string path = _dir.File("checkpoint.zip");
        engine.CheckPoint(_ml, path);

        // A restarted service: a new context loads the checkpoint and carries on.
        var restarted = new MLContext().Model.Load(path, out _).CreateForecastingEngine();
        Assert.Equal(120, restarted.ObservationCount);
        Assert.Equal(engine.Predict(), restarted.Predict(), RnnForecastComparer.Instance);
        foreach (float v in series[120..])
        {
            engine.Observe(v);
            restarted.Observe(v);
        }
        Assert.Equal(engine.Predict(), restarted.Predict(), RnnForecastComparer.Instance);
        // The original model is untouched by the checkpoint.
        Assert.Equal(100, model.CreateForecastingEngine().ObservationCount);
    }

    [Fact]
    public void FailedCheckPointLeavesTheEarlierCheckPointUntouched()
    {
        var model = FitPipeline(Seasonal(80, seed: 4));
        var engine = model.CreateForecastingEngine();
        string path = _dir.File("checkpoint.zip");
        engine.CheckPoint(_ml, path);
        byte[] before = File.ReadAllBytes(path);
        Assert.ThrowsAny<IOException>(() => engine.CheckPoint(_ml, _dir.File(Path.Combine("missing", "checkpoint.zip"))));
        Directory.CreateDirectory(_dir.File("locked.zip"));   // a directory where the file should go
        Assert.ThrowsAny<Exception>(() => engine.CheckPoint(_ml, _dir.File("locked.zip")));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void VersionOneFixtureKeepsLoading()
    {
        // Written by `dotnet run --project tests/MLNetRnn.Benchmarks -- fixtures` with format version 1.
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Models");
        var loaded = _ml.Model.LoadValidated(Path.Combine(dir, "forecaster-v1.zip"), out _);
        var expected = JsonSerializer.Deserialize<FixtureExpectation>(File.ReadAllText(Path.Combine(dir, "forecaster-v1.json")))!;
        var forecast = loaded.CreateForecastingEngine().Predict();
        // Bit equality is pinned by the round-trip tests; across machines and runtimes tanh/exp may differ in
        // the last bit, so the committed expectation allows float rounding.
        Close.AssertTensor("forecast", expected.Forecast, forecast.Forecast, 1e-5);
        // Version 1 clamped a level that needed more residuals than it had (7 here, 95% needs 19) to the largest
        // one; the same model now extrapolates beyond it, so its bounds contain version 1's and are wider.
        for (int k = 0; k < expected.Forecast.Length; k++)
        {
            Assert.True(forecast.LowerBound[k] < expected.Lower[k] && forecast.UpperBound[k] > expected.Upper[k],
                $"step {k}: [{forecast.LowerBound[k]}, {forecast.UpperBound[k]}] should strictly contain version 1's [{expected.Lower[k]}, {expected.Upper[k]}].");
        }
    }

    [Fact]
    public void VersionTwoFixtureKeepsLoading()
    {
        // Written by `dotnet run --project tests/MLNetRnn.Benchmarks -- fixtures` with format version 2 (one series per
        // model); later versions store per-series parts and must still read it, forecasting what version 2 forecast.
        AssertSingleSeriesFixtureForecasts("forecaster-v2");
    }

    [Fact]
    public void VersionThreeFixtureKeepsLoading()
    {
        // Written by the fixtures command of the release whose format version 3 was version 2 plus each member's
        // training diagnostics (one series per model).
        var loaded = AssertSingleSeriesFixtureForecasts("forecaster-v3");
        Assert.Single(loaded.Diagnostics);
    }

    /// <summary>Loads a one-series fixture and checks its forecast and bounds against its JSON.</summary>
    private RnnForecastingTransformer AssertSingleSeriesFixtureForecasts(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Models");
        var loaded = (RnnForecastingTransformer)_ml.Model.LoadValidated(Path.Combine(dir, name + ".zip"), out _);
        var expected = JsonSerializer.Deserialize<FixtureExpectation>(File.ReadAllText(Path.Combine(dir, name + ".json")))!;
        var forecast = loaded.CreateForecastingEngine().Predict();
        Close.AssertTensor("forecast", expected.Forecast, forecast.Forecast, 1e-5);
        Close.AssertTensor("lower", expected.Lower, forecast.LowerBound, 1e-5);
        Close.AssertTensor("upper", expected.Upper, forecast.UpperBound, 1e-5);
        return loaded;
    }

    [Fact]
    public void VersionFourFixtureKeepsLoading()
    {
        // Written by the fixtures command with format version 4: a panel of three series with a date column, promotions
        // known in advance, a static category, the series' scale and quantile heads.
        var loaded = AssertPanelFixtureForecasts("forecaster-v4");
        Assert.All(loaded.Model.Series, f => Assert.Null(f.CorrectionWeight));
    }

    [Fact]
    public void VersionFiveFixtureKeepsLoadingWithItsPerSeriesWeights()
    {
        // Written by the fixtures command with format version 5: version 4's panel, four longer series, so that
        // each has its own correction weight λ_s.
        var loaded = AssertPanelFixtureForecasts("forecaster-v5");
        Assert.Contains(loaded.Model.Series, f => f.CorrectionWeight is not null);
        Assert.Equal(0, loaded.Model.Settings.SeriesCategories);   // nothing read by index before version 6
        Assert.Empty(loaded.Model.Settings.StaticCategories);
    }

    [Fact]
    public void VersionSixFixtureKeepsLoadingWithTheIdsReadByIndex()
    {
        // Written by the fixtures command with format version 6: version 5's panel, whose networks read the four series'
        // ids and the product category as one-hot inputs given by index (version 5 had the category one-hot).
        var loaded = AssertPanelFixtureForecasts("forecaster-v6");
        Assert.Equal(4, loaded.Model.Settings.SeriesCategories);
        Assert.Single(loaded.Model.Settings.StaticCategories);   // the product category, read by index too
        Assert.Equal([0, 1, 2, 3], loaded.Model.Series.Select(f => f.Category));
        Assert.Equal(["Category"], loaded.StaticFeatureColumnNames);
    }

    [Fact]
    public void VersionSevenFixtureKeepsTheSeriesAnEngineHadNotStarted()
    {
        // Written by the fixtures command with format version 7: version 6's panel, checkpointed by an engine that had
        // observed 5 days of a fifth product (a cold start needs 14). A restarted engine has those 5 days, so after 11
        // more it starts the product and forecasts what the writer's restarted engine forecast. The cold start fits the
        // product with today's code (the file holds its values, not a fit), so the expectation moved once, on purpose,
        // when the base selection began to judge short series at partial-horizon origins (issue 19): it now repeats the
        // product's week instead of its last value.
        var loaded = AssertPanelFixtureForecasts("forecaster-v7");
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Models");
        var expected = JsonSerializer.Deserialize<PendingExpectation>(File.ReadAllText(Path.Combine(dir, "forecaster-v7.pending.json")))!;
        var engine = loaded.CreateForecastingEngine();
        Assert.DoesNotContain(expected.Id, engine.SeriesIds);
        Assert.Equal(expected.Observed, engine.GetObservationCount(expected.Id));
        foreach (var r in expected.Rest) engine.Observe(expected.Id, r.Sales, [r.Promo], r.Date);
        var f = engine.Predict(expected.Id, futureCovariates: new Dictionary<string, float[]> { ["Promo"] = expected.Promo });
        Close.AssertTensor("forecast of the series started after the restart", expected.Forecast, f.Forecast, 1e-5);
    }

    [Fact]
    public void VersionEightFixtureKeepsEachSeriesPeriod()
    {
        // Written by the fixtures command with format version 8: version 7's checkpoint, fitted with candidate seasonal
        // periods 7 and 14, each series keeping the one it chose.
        var loaded = AssertPanelFixtureForecasts("forecaster-v8");
        Assert.Equal([7, 14], loaded.Model.Settings.SeasonalPeriods);
        Assert.All(loaded.Model.Series, f => Assert.Contains(f.SeasonalPeriod, new[] { 7, 14 }));
        // Before version 8 every series had the model's period.
        var v7 = AssertPanelFixtureForecasts("forecaster-v7");
        Assert.Empty(v7.Model.Settings.SeasonalPeriods);
        Assert.All(v7.Model.Series, f => Assert.Equal(7, f.SeasonalPeriod));
    }

    [Fact]
    public void VersionNineFixtureKeepsItsDilatedResidualNetworks()
    {
        // Written by the fixtures command with format version 9: version 8's checkpoint with networks of two layers,
        // dilations 1 and 7, and residual connections.
        var loaded = AssertPanelFixtureForecasts("forecaster-v9");
        Assert.Equal([1, 7], loaded.Model.Settings.Dilations);
        Assert.True(loaded.Model.Settings.ResidualConnections);
        Assert.Equal([7, 14], loaded.Model.Settings.SeasonalPeriods);
    }

    [Fact]
    public void VersionElevenFixtureKeepsItsDecoderSteps()
    {
        // Written by the fixtures command with format version 11: version 9's checkpoint (no learned combination: the
        // panel has promotions known in advance) with DecoderSteps asked for, the flag at the end of the settings.
        var loaded = AssertPanelFixtureForecasts("forecaster-v11");
        Assert.True(loaded.Model.Settings.DecoderSteps);
        Assert.Equal([1, 7], loaded.Model.Settings.Dilations);
        Assert.False(AssertPanelFixtureForecasts("forecaster-v9").Model.Settings.DecoderSteps);
    }

    internal sealed record PendingRow(float Sales, float Promo, DateTime Date);

    internal sealed record PendingExpectation(string Id, int Observed, PendingRow[] Rest, float[] Promo, float[] Forecast);

    /// <summary>Loads a panel fixture and checks every series' forecast, bounds and quantiles against its JSON.</summary>
    private RnnForecastingTransformer AssertPanelFixtureForecasts(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Models");
        var loaded = (RnnForecastingTransformer)_ml.Model.LoadValidated(Path.Combine(dir, name + ".zip"), out _);
        var expected = JsonSerializer.Deserialize<Dictionary<string, PanelExpectation>>(File.ReadAllText(Path.Combine(dir, name + ".json")))!;
        var engine = loaded.CreateForecastingEngine();
        Assert.Equal(expected.Keys, engine.SeriesIds);
        foreach (var (id, e) in expected)
        {
            var f = engine.Predict(id, futureCovariates: new Dictionary<string, float[]> { ["Promo"] = e.Promo });
            Close.AssertTensor($"{id} forecast", e.Forecast, f.Forecast, 1e-5);
            Close.AssertTensor($"{id} lower", e.Lower, f.LowerBound, 1e-5);
            Close.AssertTensor($"{id} upper", e.Upper, f.UpperBound, 1e-5);
            Close.AssertTensor($"{id} quantiles", e.Quantiles, f.Quantiles, 1e-5);
        }
        return loaded;
    }

    internal sealed record PanelExpectation(float[] Promo, float[] Forecast, float[] Lower, float[] Upper, float[] Quantiles);

    [Fact]
    public void NewerFormatVersionGivesClearException()
    {
        var model = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, Seasonal(80, seed: 5)));
        int newer = RnnForecastingTransformer.Format.CurrentVersion + 1;
        var future = model.WithWriteFormat(RnnForecastingTransformer.Format.AsWrittenBy(version: newer, readableByVersion: newer));
        string path = _dir.File("future.zip");
        _ml.Model.SaveAtomically(future, null, path);
        var ex = Assert.Throws<UnsupportedModelVersionException>(() => _ml.Model.LoadValidated(path, out _));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"format version {newer}", ex.Message);
    }

    [Fact]
    public void TruncatedOrMissingModelGivesClearException()
    {
        var model = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, Seasonal(80, seed: 6)));
        string path = _dir.File("model.zip");
        _ml.Model.SaveAtomically(model, null, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var truncated = Assert.Throws<InvalidDataException>(() => _ml.Model.LoadValidated(path, out _));
        Assert.Contains(path, truncated.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => _ml.Model.LoadValidated(_dir.File("none.zip"), out _));
        Assert.Contains("none.zip", missing.Message);
    }

    internal sealed record FixtureExpectation(float[] Forecast, float[] Lower, float[] Upper);
}

/// <summary>Compares forecasts by value, bit for bit.</summary>
internal sealed class RnnForecastComparer : IEqualityComparer<RnnForecast>
{
    public static readonly RnnForecastComparer Instance = new();

    public bool Equals(RnnForecast? a, RnnForecast? b) => a is not null && b is not null && a.ConfidenceLevel == b.ConfidenceLevel
        && a.Forecast.SequenceEqual(b.Forecast) && a.LowerBound.SequenceEqual(b.LowerBound) && a.UpperBound.SequenceEqual(b.UpperBound);

    public int GetHashCode(RnnForecast f) => f.Forecast.Length;
}

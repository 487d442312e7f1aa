using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="ForecasterSettings.DecoderSteps"/>: a panel without covariates steps its networks through the horizon by
/// default (W + H steps, the decoder flag among the inputs, one correction per step), a single series, a panel with
/// covariates, no networks or the recursive strategy do not, the model keeps what training settled and its bytes
/// (version 5) give it back, and true with the recursive strategy is refused, in the options and in a file.
/// </summary>
public sealed class DecoderStepsTests
{
    private const int Hours = 24 * 16;

    private static ForecasterSettings Hourly(bool? decoderSteps = null) => new()
    {
        WindowSize = 48, Horizon = 12, SeasonalPeriod = 24, EnsembleSize = 1, HiddenSizes = [8], MaximumSteps = 40,
        MaximumDegreeOfParallelism = 1, DecoderSteps = decoderSteps,
        // Undamped and started away from zero, the networks' correction is in every forecast, so what they read shows.
        CorrectionDamping = false, ZeroHeadInitialization = false,
    };

    private static SeriesPanel Panel(params float[][] series)
        => new(series.Select((_, i) => $"S{i}").ToArray(), series, series.Select(_ => Array.Empty<float>()).ToArray(), series.Select(_ => Array.Empty<float>()).ToArray());

    private static readonly float[][] Series = [SeasonalPeriodsTests.Daily(Hours, 1), SeasonalPeriodsTests.Daily(Hours, 2), SeasonalPeriodsTests.Weekly(Hours, 3)];

    [Fact]
    public void NullSettlesOnForAPanelWithNetworksAndWithoutCovariatesOnly()
    {
        Assert.True(Hourly().WithDecoderSteps(seriesCount: 3).DecoderSteps);
        Assert.False(Hourly().WithDecoderSteps(seriesCount: 1).DecoderSteps);
        Assert.False((Hourly() with { CovariateCount = 1 }).WithDecoderSteps(3).DecoderSteps);
        Assert.False((Hourly() with { EnsembleSize = 0 }).WithDecoderSteps(3).DecoderSteps);
        Assert.False((Hourly() with { Recursive = true }).WithDecoderSteps(3).DecoderSteps);
        // Asked for, it applies to a single series too; refused, to a panel.
        Assert.True(Hourly(true).WithDecoderSteps(1).DecoderSteps);
        Assert.False(Hourly(false).WithDecoderSteps(3).DecoderSteps);
        // Settled settings are left as they are.
        var settled = Hourly(true);
        Assert.Same(settled, settled.WithDecoderSteps(3));
    }

    [Fact]
    public void DecoderStepsAddTheHorizonToTheNetworksStepsAndTheFlagToTheirInputs()
    {
        var on = Hourly(true);
        var off = Hourly(false);
        Assert.True(on.Decoder);
        Assert.False(off.Decoder);
        Assert.Equal(48 + 12, on.Steps);
        Assert.Equal(48, off.Steps);
        Assert.Equal(off.InputSize + 1, on.InputSize);
        Assert.True(new NetworkInputLayout(on).DecoderFlag >= 0);
        // One correction read at each of the H steps, where one head reads all H off the last step.
        Assert.Equal(1, on.HeadSize);
        Assert.Equal(12, off.HeadSize);
    }

    [Fact]
    public void APanelTrainsWithDecoderStepsByDefaultAndItsBytesGiveTheSameForecasts()
    {
        var model = ForecastModel.Train(Hourly(), Panel(Series));

        Assert.True(model.Settings.DecoderSteps);
        Assert.True(model.HasDecoderSteps);
        Assert.Equal(48 + 12, model.Settings.Steps);
        Assert.Contains(model.Summary.Notes, n => n.Contains("DecoderSteps", StringComparison.Ordinal));
        var bytes = model.ToBytes();
        Assert.Equal(5, BitConverter.ToInt32(bytes, 0));
        var loaded = ForecastModel.FromBytes(bytes);
        Assert.True(loaded.Settings.DecoderSteps);
        for (int i = 0; i < Series.Length; i++)
            Assert.Equal(SeasonalPeriodsTests.PanelForecast(model, i, Series[i]), SeasonalPeriodsTests.PanelForecast(loaded, i, Series[i]));
        Assert.Equal(bytes, loaded.ToBytes());

        // The option changes the networks, so it changes the forecast; without it the bytes keep their older version.
        var without = ForecastModel.Train(Hourly(false), Panel(Series));
        Assert.False(without.Settings.DecoderSteps);
        Assert.Equal(48, without.Settings.Steps);
        Assert.NotEqual(SeasonalPeriodsTests.PanelForecast(model, 0, Series[0]), SeasonalPeriodsTests.PanelForecast(without, 0, Series[0]));
        Assert.True(BitConverter.ToInt32(without.ToBytes(), 0) < 5);
        Assert.False(ForecastModel.FromBytes(without.ToBytes()).Settings.DecoderSteps);
    }

    [Fact]
    public void ASingleSeriesKeepsTheOneHeadByDefault()
    {
        var model = ForecastModel.Train(Hourly(), Series[0], []);
        Assert.False(model.Settings.DecoderSteps);
        Assert.False(model.Settings.Decoder);
        Assert.DoesNotContain(model.Summary.Notes, n => n.Contains("DecoderSteps", StringComparison.Ordinal));
    }

    [Fact]
    public void AskedForASingleSeriesStepsThroughTheHorizonAndItsBytesKeepThem()
    {
        var model = ForecastModel.Train(Hourly(true), Series[0], []);
        Assert.True(model.Settings.Decoder);
        Assert.Equal(48 + 12, model.Settings.Steps);
        var loaded = ForecastModel.FromBytes(model.ToBytes());
        Assert.True(loaded.Settings.DecoderSteps);
        Assert.Equal(SeasonalPeriodsTests.PanelForecast(model, 0, Series[0]), SeasonalPeriodsTests.PanelForecast(loaded, 0, Series[0]));
    }

    [Fact]
    public void TrueWithTheRecursiveStrategyIsRefusedNamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => ForecastModel.Train(Hourly(true) with { Recursive = true }, Panel(Series)));
        Assert.Equal(nameof(ForecasterSettings.DecoderSteps), e.ParamName);
        Assert.Contains("recursive", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileWithDecoderStepsAndTheRecursiveStrategyIsRefusedAndAnOlderLayoutCannotHoldThem()
    {
        var recursive = Hourly(true) with { Recursive = true };
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            recursive.Write(w);
            recursive.WriteExtension(w, seasonalPeriods: true, architecture: true, decoderSteps: true);
        }
        stream.Position = 0;
        using var r = new BinaryReader(stream);
        var e = Assert.Throws<InvalidDataException>(() => ForecasterSettings.ReadExtension(r, ForecasterSettings.Read(r), true, true, true, decoderSteps: true));
        Assert.Contains("decoder steps", e.Message, StringComparison.Ordinal);

        // Written without the flag, a reader would rebuild networks without decoder steps: refused at the writer.
        using var older = new BinaryWriter(new MemoryStream());
        Assert.Throws<InvalidOperationException>(() => Hourly(true).WriteExtension(older, seasonalPeriods: true, architecture: true));
    }
}

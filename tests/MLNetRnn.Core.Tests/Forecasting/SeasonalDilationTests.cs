using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="ForecasterSettings.SeasonalDilation"/>: series with nested seasons get ES-RNN's stack (two residual
/// layers, the second dilated by the shortest period), which the model keeps and says; one season, a network set by
/// hand or false keep the networks as set; true where it cannot apply is refused naming it.
/// </summary>
public sealed class SeasonalDilationTests
{
    private const int Hours = 24 * 24;

    private static ForecasterSettings Hourly(params int[] periods) => new()
    {
        WindowSize = 48, Horizon = 12, SeasonalPeriod = periods[0], SeasonalPeriods = periods, EnsembleSize = 1, HiddenSizes = [8],
        MaximumSteps = 20, MaximumDegreeOfParallelism = 1,
    };

    private static SeriesPanel Panel(params float[][] series)
        => new(series.Select((_, i) => $"S{i}").ToArray(), series, series.Select(_ => Array.Empty<float>()).ToArray(), series.Select(_ => Array.Empty<float>()).ToArray());

    [Fact]
    public void NestedSeasonsGiveTwoResidualLayersTheSecondDilatedByTheShortestPeriod()
    {
        var model = ForecastModel.Train(Hourly(24, 168), Panel(SeasonalPeriodsTests.Weekly(Hours, 1), SeasonalPeriodsTests.Daily(Hours, 2)));

        Assert.Equal([8, 8], model.Settings.HiddenSizes);
        Assert.Equal([1, 24], model.Settings.Dilations);
        Assert.True(model.Settings.ResidualConnections);
        var spec = Assert.Single(model.Members).Spec;
        Assert.Equal([8, 8], spec.HiddenSizes);
        Assert.Equal([1, 24], spec.Dilations);
        Assert.True(spec.ResidualConnections);
        Assert.Contains(model.Summary.Notes, n => n.Contains("dilated by the season 24", StringComparison.Ordinal) && n.Contains("SeasonalDilation", StringComparison.Ordinal));
        // What the model keeps is the network it trained: its bytes give it back, and it is not applied twice.
        var loaded = ForecastModel.FromBytes(model.ToBytes());
        Assert.Equal([1, 24], loaded.Settings.Dilations);
        Assert.Same(loaded.Settings, loaded.Settings.WithSeasonalDilation());
    }

    [Fact]
    public void OneSeasonOrANetworkSetByHandOrFalseKeepsTheNetworksAsSet()
    {
        Assert.Null(Hourly(24).SeasonalDilationPeriod());
        Assert.Null(Hourly(12, 500).SeasonalDilationPeriod());   // 500 is no multiple of 12
        Assert.Null((Hourly(24, 168) with { SeasonalDilation = false }).SeasonalDilationPeriod());
        Assert.Null((Hourly(24, 168) with { HiddenSizes = [8, 8] }).SeasonalDilationPeriod());
        Assert.Null((Hourly(24, 168) with { Dilations = [2] }).SeasonalDilationPeriod());
        Assert.Null((Hourly(24, 168) with { WindowSize = 36 }).SeasonalDilationPeriod());   // less than two days
        Assert.Null((Hourly(24, 168) with { EnsembleSize = 0 }).SeasonalDilationPeriod());  // no networks
        Assert.Null((Hourly(1, 24) with { SeasonalPeriod = 1 }).SeasonalDilationPeriod());  // one season above 1
        Assert.Null((Hourly(7, 365) with { WindowSize = 28 }).SeasonalDilationPeriod());     // seasons that do not nest
        Assert.Equal(4, (Hourly(4, 12, 500) with { WindowSize = 30 }).SeasonalDilationPeriod());  // 4 nests in 12
        Assert.Equal(24, Hourly(24, 168).SeasonalDilationPeriod());
        Assert.Equal(24, (Hourly(24) with { SeasonalDilation = true }).SeasonalDilationPeriod());

        var model = ForecastModel.Train(Hourly(24), Panel(SeasonalPeriodsTests.Daily(Hours, 3)));
        Assert.Equal([8], model.Settings.HiddenSizes);
        Assert.Empty(model.Settings.Dilations);
        Assert.DoesNotContain(model.Summary.Notes, n => n.Contains("SeasonalDilation", StringComparison.Ordinal));
    }

    [Fact]
    public void SeasonalDilationTrueWhereItCannotApplyIsRefusedNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => ForecastModel.Train(Hourly(24, 168) with { SeasonalDilation = true, HiddenSizes = [8, 8] },
            Panel(SeasonalPeriodsTests.Daily(Hours, 3))));
        Assert.Equal("SeasonalDilation", e.ParamName);
        Assert.Contains("HiddenSizes has 2 layers", e.Message);
        Assert.Contains("window (12) holds less than two of the period it would dilate by (24)", Assert.Throws<ArgumentException>(() => (Hourly(24) with { SeasonalDilation = true, WindowSize = 12 }).WithSeasonalDilation()).Message);
    }
}

using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// A panel that learns a base combination ships the mean of the networks' forecast and the combination unless the
/// held-out windows no member early-stopped on show the networks' forecast clearly better alone
/// (<see cref="CombinationMeanEvidence"/>). Here every series carries a cycle of 5 steps that no candidate base (season
/// 7) follows and the networks learn, so halving their correction would throw half of it away: the model keeps their
/// forecast on each series' selected base, says why, and holds no combination, which its bytes keep.
/// </summary>
public sealed class CombinationMeanTests
{
    private const int Series = 16;
    private static readonly float[] Cycle = [3f, -1f, 4f, -2f, -4f];

    private static float[] Values(int i, int length)
    {
        var rng = new Random(100 + i);
        return Enumerable.Range(0, length).Select(t => (float)(50 + 5 * i + 10 * Math.Sin(2 * Math.PI * t / 7) + 2 * Cycle[t % 5] + 0.3 * (rng.NextDouble() - 0.5))).ToArray();
    }

    private static ForecasterSettings Settings => new()
    {
        WindowSize = 14, Horizon = 5, SeasonalPeriod = 7, EnsembleSize = 1, HiddenSizes = [16], MaximumSteps = 600, MaximumDegreeOfParallelism = 2,
        Training = new() { Seed = 1 },
    };

    private static SeriesPanel Panel(int length)
    {
        var values = Enumerable.Range(0, Series).Select(i => Values(i, length)).ToArray();
        return new(values.Select((_, i) => $"S{i}").ToArray(), values, values.Select(_ => Array.Empty<float>()).ToArray(), values.Select(_ => Array.Empty<float>()).ToArray());
    }

    [Fact]
    public void NetworksThatClearlyBeatTheMeanOnUnseenHeldOutWindowsShipAlone()
    {
        // 720 values a series: each member's blocks hold more windows than early stopping reads, so some are unseen.
        var model = ForecastModel.Train(Settings, Panel(720));

        var note = Assert.Single(model.Summary.Notes, n => n.Contains("not its mean with the learned combination", StringComparison.Ordinal));
        Assert.Contains("t = ", note, StringComparison.Ordinal);
        Assert.Null(model.BaseCombination);
        Assert.DoesNotContain(model.Series, f => f.Baseline is { Weighted: true });
        Assert.True(model.CorrectionWeight > 0.5f, $"λ {model.CorrectionWeight}: the networks' whole correction, not half of it.");
        Assert.False(ForecastModel.FromBytes(model.ToBytes()).HasBaseCombination);
    }

    [Fact]
    public void WithoutHeldOutWindowsThatEarlyStoppingLeftUnseenTheMeanIsKept()
    {
        // 200 values a series: early stopping reads every held-out window, and those flatter the networks, so there is
        // no evidence to judge by and the model keeps the mean, however much better the networks would do alone.
        var model = ForecastModel.Train(Settings, Panel(200));

        var note = Assert.Single(model.Summary.Notes, n => n.Contains("the mean of the networks'", StringComparison.Ordinal));
        Assert.Contains("no held-out window the networks did not early-stop on", note, StringComparison.Ordinal);
        Assert.NotNull(model.BaseCombination);
        Assert.All(model.Series, f => Assert.True(f.Baseline is { Weighted: true }, "each base is the mean of the selection and the combination"));
    }
}

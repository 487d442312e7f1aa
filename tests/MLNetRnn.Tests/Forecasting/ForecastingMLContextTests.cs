using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Training;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>ForecastByRnn as an ML.NET citizen: it logs to mlContext.Log, takes its seed from the context, and
/// copies the options it is given.</summary>
public class ForecastingMLContextTests
{
    private static RnnForecastingOptions Tiny() => new()
    {
        OutputColumnName = "Forecast", InputColumnName = nameof(SeriesRow.Value), WindowSize = 12, Horizon = 3, SeasonalPeriod = 12,
        EnsembleSize = 2, Epochs = 40, EarlyStoppingPatience = 5, HiddenSizes = [4], Seed = 3,
    };

    private static float[] Forecasts(MLContext ml, RnnForecastingOptions options, float[] series)
        => ml.Forecasting.ForecastByRnn(options).Fit(View(ml, series)).CreateForecastingEngine().Predict().Forecast;

    [Fact]
    public void FitWritesEachPhaseAndEpochToMLContextLog()
    {
        var ml = new MLContext(seed: 0);
        var log = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { if (e.Source.StartsWith(nameof(RnnForecastingEstimator), StringComparison.Ordinal)) log.Add(e); };
        var progress = new List<TrainingProgress>();
        var estimator = ml.Forecasting.ForecastByRnn(Tiny());
        estimator.Progress = new SyncProgress(progress);

        estimator.Fit(View(ml, Seasonal(96, seed: 2)));

        var ours = log.Where(e => !e.RawMessage.StartsWith("Channel ", StringComparison.Ordinal)).ToList();
        Assert.All(ours, e => Assert.Equal("RnnForecastingEstimator; Training", e.Source));
        var epochs = ours.Where(e => e.Kind == ChannelMessageKind.Trace).Select(e => e.RawMessage).ToList();
        // Every epoch the caller's Progress saw is in the log, with its phase, in the same order within each phase
        // (members train in parallel, so phases may interleave).
        Assert.Equal(progress.Count, epochs.Count);
        var logged = epochs.Select(m => System.Text.RegularExpressions.Regex.Match(m, @"^(.+?), epoch (\d+)")).ToList();
        foreach (var phase in progress.Select(p => p.Phase).Distinct())
            Assert.Equal(progress.Where(p => p.Phase == phase).Select(p => p.Epoch + 1),
                logged.Where(g => g.Groups[1].Value == phase).Select(g => int.Parse(g.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains(epochs, m => m.StartsWith("member 1 of 2, epoch 1: ", StringComparison.Ordinal));
        Assert.Contains(epochs, m => m.StartsWith("member 2 of 2, epoch 1: ", StringComparison.Ordinal));
        // While early stopping decides, the patience is shown as the budget, not "of 40".
        Assert.All(epochs.Where(m => m.StartsWith("member", StringComparison.Ordinal)),
            m => Assert.Matches(@"; \d+ of 5 epochs without improvement \(at most 40\)", m));

        var info = ours.Where(e => e.Kind == ChannelMessageKind.Info).Select(e => e.RawMessage).ToList();
        Assert.StartsWith("Training 2 Gru(4) networks on 96 rows of 'Value'", info[0]);
        Assert.Contains("seed 3", info[0]);
        // Then the seasonal period: set here, and the candidates the detection tested beside it.
        Assert.StartsWith("Seasonal period set: 12.", info[1]);
        Assert.Contains("12 (autocorrelation, given): r = ", info[1]);
        Assert.Equal(["member 1 of 2:", "member 2 of 2:"], info.Skip(2).Take(2).Select(m => m[..(m.IndexOf(':') + 1)]).Order());
        Assert.StartsWith("Trained 2 networks", info[^1]);
    }

    [Fact]
    public void MLContextSeedIsUsedWhenOptionsLeaveSeedUnset()
    {
        var series = Seasonal(96, seed: 2);
        var unset = Tiny(); unset.Seed = null; unset.EnsembleSize = 1;
        float[] seed0 = Forecasts(new MLContext(seed: 0), unset, series);
        float[] seed0Again = Forecasts(new MLContext(seed: 0), unset, series);
        float[] seed1 = Forecasts(new MLContext(seed: 1), unset, series);

        Assert.Equal(seed0, seed0Again);
        Assert.NotEqual(seed0, seed1);
        // The seed drawn is the one the estimator reports, and setting it reproduces the model in any context.
        int? drawn = new MLContext(seed: 1).Forecasting.ForecastByRnn(unset).Options.Seed;
        Assert.NotNull(drawn);
        var pinned = Tiny(); pinned.Seed = drawn; pinned.EnsembleSize = 1;
        Assert.Equal(seed1, Forecasts(new MLContext(seed: 42), pinned, series));
    }

    [Fact]
    public void OptionsSeedWinsOverMLContextSeed()
    {
        var series = Seasonal(96, seed: 2);
        var options = Tiny(); options.EnsembleSize = 1;
        Assert.Equal(Forecasts(new MLContext(seed: 0), options, series), Forecasts(new MLContext(seed: 1), options, series));
    }

    [Fact]
    public void OptionsAreCopiedDeeply()
    {
        var ml = new MLContext(seed: 0);
        var options = Tiny();
        options.CovariateColumnNames = [nameof(SeriesRow.Promo)];
        var estimator = ml.Forecasting.ForecastByRnn(options);

        // Changing the caller's arrays afterwards must not reach the estimator.
        options.HiddenSizes[0] = -1;
        options.CovariateColumnNames[0] = "NoSuchColumn";
        Assert.Equal([4], estimator.Options.HiddenSizes);
        Assert.Equal([nameof(SeriesRow.Promo)], estimator.Options.CovariateColumnNames);

        // Nor changing the copy Options hands out.
        estimator.Options.HiddenSizes[0] = -1;
        estimator.Options.CovariateColumnNames[0] = "NoSuchColumn";
        Assert.Equal([4], estimator.Options.HiddenSizes);

        var series = Seasonal(96, seed: 2);
        var model = estimator.Fit(View(ml, series, promo: series.Select((_, t) => (float)(t % 2)).ToArray()));
        Assert.Equal([nameof(SeriesRow.Promo)], model.CovariateColumnNames);
    }

    private sealed class SyncProgress(List<TrainingProgress> into) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => into.Add(value);
    }
}

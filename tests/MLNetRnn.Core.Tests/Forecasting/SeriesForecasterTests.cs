using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// The series forecaster without ML.NET: its fallbacks, its folds, its seeds, its damping, and a learning test a
/// broken network could not pass.
/// </summary>
public sealed class SeriesForecasterTests
{
    private static ForecasterSettings Settings(int window, int horizon, int season = 1, ForecastBase b = ForecastBase.Auto, int members = 2, int steps = 300) => new()
    {
        WindowSize = window, Horizon = horizon, SeasonalPeriod = season, Base = b, EnsembleSize = members,
        HiddenSizes = [8], MaximumSteps = steps, MaximumDegreeOfParallelism = 1,
        Training = new TrainingOptions { Epochs = 60, BatchSize = 16, EarlyStoppingPatience = 10, Seed = 3 },
    };

    private static (float[] Forecast, float[] Lower, float[] Upper) Predict(ForecastModel model, float[] values, float level = 0.9f)
    {
        var state = ForecastState.AfterSeries(model, values, []);
        int H = model.Settings.Horizon;
        var f = new float[H];
        var lo = new float[H];
        var hi = new float[H];
        model.Forecast(state, level, model.CreateScratch(), f, lo, hi);
        return (f, lo, hi);
    }

    private static float[] Noise(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(scale * (rng.NextDouble() - 0.5))).ToArray();
    }

    [Fact]
    public void ConstantSeriesForecastsTheConstantWithZeroWidthBoundsAndSaysSo()
    {
        var x = Enumerable.Repeat(42f, 80).ToArray();
        var model = ForecastModel.Train(Settings(12, 6), x, []);
        var (f, lo, hi) = Predict(model, x);
        Assert.All(f, v => Assert.Equal(42f, v));
        Assert.Equal(f, lo);
        Assert.Equal(f, hi);
        Assert.Empty(model.Members);
        Assert.Contains(model.Summary.Notes, n => n.Contains("constant", StringComparison.Ordinal));
    }

    [Fact]
    public void ShortSeriesFallsBackToTheBaseAloneAndSaysSo()
    {
        var noise = Noise(24, 1, 4);
        var x = Enumerable.Range(0, 24).Select(t => 20f + t + noise[t]).ToArray();
        var model = ForecastModel.Train(Settings(8, 6, b: ForecastBase.DampedTrend), x, []);
        Assert.Empty(model.Members);
        Assert.False(model.Summary.UsesNetworks);
        Assert.Contains(model.Summary.Notes, n => n.Contains("base alone", StringComparison.Ordinal));
        var b = Baseline.Fit(x, 1, SeasonalAdjustment.Auto, [BaselineMethod.DampedTrend]);
        var state = new double[b.StateSize];
        b.ObserveAll(state, x);
        var expected = new float[6];
        b.Forecast(state, x, 24, expected, new float[6]);
        // The same forecast, through the window scaling and back (float rounding only).
        Close.AssertTensor("base forecast", expected, Predict(model, x).Forecast, 1e-5);
        Assert.False(float.IsNaN(Predict(model, x).Lower[0]), "the base alone is calibrated on every window");
    }

    [Fact]
    public void ZerosAndNegativesSwitchToDifferencesAndStayFinite()
    {
        // Log ratios need a positive series; Auto takes differences as soon as a value is 0 or below.
        var noise = Noise(160, 8, 3);
        var x = Enumerable.Range(0, 160).Select(t => MathF.Max(0f, 4f * MathF.Sin(2 * MathF.PI * t / 11f) + noise[t])).ToArray();
        var model = ForecastModel.Train(Settings(16, 5), x, []);
        Assert.Equal(SeriesScaling.Difference, model.Summary.Scaling);
        var (f, lo, hi) = Predict(model, x);
        Assert.All(f.Concat(lo).Concat(hi), v => Assert.True(float.IsFinite(v)));
        Assert.Throws<ArgumentException>(() => ForecastModel.Train(Settings(16, 5) with { Scaling = SeriesScaling.LogRatio }, x, []));
    }

    [Fact]
    public void ALevelTheCalibrationCannotSupportIsNamedInTheSummary()
    {
        // 13 windows of 6 steps: 78 pooled errors support up to 98.7%; 99% is extrapolated, 95% is not.
        var noise = Noise(30, 9, 4);
        var x = Enumerable.Range(0, 30).Select(t => 20f + t + noise[t]).ToArray();
        var at99 = ForecastModel.Train(Settings(12, 6, b: ForecastBase.Naive) with { ConfidenceLevel = 0.99f }, x, []);
        Assert.Contains(at99.Summary.Notes, n => n.Contains("99%", StringComparison.Ordinal) && n.Contains("extrapolated", StringComparison.Ordinal));
        var at95 = ForecastModel.Train(Settings(12, 6, b: ForecastBase.Naive) with { ConfidenceLevel = 0.95f }, x, []);
        Assert.DoesNotContain(at95.Summary.Notes, n => n.Contains("extrapolated", StringComparison.Ordinal));
    }

    [Fact]
    public void SummarySaysWhichBaseWasChosenAndWhy()
    {
        var noise = Noise(150, 2, 2);
        var x = Enumerable.Range(0, 150).Select(t => 100f + 1.5f * t + noise[t]).ToArray();
        var model = ForecastModel.Train(Settings(20, 10, members: 0), x, []);
        Assert.NotEqual("none", model.Summary.Base);
        Assert.Equal(BaselineSelection.DefaultCandidates.Count, model.Summary.BaseCandidates.Count);
        Assert.Contains(model.Summary.BaseCandidates[0].Methods[0].ToString(), model.Summary.Base);
        Assert.True(model.Summary.BaseCandidates.Zip(model.Summary.BaseCandidates.Skip(1), (a, b) => a.Score <= b.Score).All(ok => ok));
    }

    [Property(MaxTest = 300)]
    public bool NoTrainingTargetIsAValidationTarget(PositiveInt windows, PositiveInt members, PositiveInt horizon)
    {
        int N = 10 + windows.Get % 400, K = 1 + members.Get % 6, H = 1 + horizon.Get % 30, Vb = Math.Max(1, N / 5);
        var (start, train) = SeriesFolds.CrossValidationFolds(N, K, Vb, gap: H - 1);
        for (int k = 0; k < K; k++)
        {
            if (start[k] < 0 || start[k] + Vb > N) return false;
            // Window i's targets are values i .. i + H − 1 (relative to the first origin).
            int from = start[k], to = start[k] + Vb - 1 + H - 1;
            if (train[k].Any(i => i + H - 1 >= from && i <= to)) return false;
        }
        return start[0] == N - Vb;   // the first member validates on the most recent block
    }

    [Fact]
    public void DifferentSeedsNeverShareAMember()
    {
        var seen = new HashSet<int>();
        for (int seed = 0; seed < 200; seed++)
            for (int k = 0; k < 8; k++)
                Assert.True(seen.Add(ForecastTrainer.MemberSeed(seed, k)), $"seed {seed}, member {k} repeats an earlier member's seed");
    }

    [Fact]
    public void MembersTrainWithTheirDerivedSeeds()
    {
        var noise = Noise(200, 3, 2);
        var x = Enumerable.Range(0, 200).Select(t => 50f + 10f * MathF.Sin(t / 3f) + noise[t]).ToArray();
        var model = ForecastModel.Train(Settings(16, 4, members: 3), x, []);
        Assert.Equal([ForecastTrainer.MemberSeed(3, 0), ForecastTrainer.MemberSeed(3, 1), ForecastTrainer.MemberSeed(3, 2)], model.Summary.Members.Select(m => m.Seed));
    }

    [Fact]
    public void ProgressReachesTheCallerOneReportAtATimeWhileMembersTrainInParallel()
    {
        // Four members on several threads report into a caller's IProgress that is not thread-safe (a List, as a user
        // would write it) and lingers in Report so that overlapping calls would be seen: none overlaps, none is lost.
        // On two cores the pool's two threads may both be taken by the test host, which would leave the members on one
        // thread and the test proving nothing; a few more at hand (raising the minimum only pre-starts threads).
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), io);
        var noise = Noise(160, 3, 2);
        var x = Enumerable.Range(0, 160).Select(t => 50f + 10f * MathF.Sin(t / 3f) + noise[t]).ToArray();
        var progress = new OverlapDetectingProgress();
        var model = ForecastModel.Train(Settings(16, 4, members: 4) with { MaximumDegreeOfParallelism = 4 }, x, [], progress);

        Assert.True(progress.Threads.Count > 1, "the members trained on one thread, so the test shows nothing");
        Assert.Equal(0, progress.Overlaps);
        Assert.Equal(model.Summary.Members.Sum(m => m.TrainingLoss.Length), progress.Reports.Count);
        Assert.Equal(["member 1 of 4", "member 2 of 4", "member 3 of 4", "member 4 of 4"], progress.Reports.Select(r => r.Phase).Distinct().Order());
    }

    private sealed class OverlapDetectingProgress : IProgress<TrainingProgress>
    {
        private int _inside;
        public List<TrainingProgress> Reports { get; } = [];
        public HashSet<int> Threads { get; } = [];
        public int Overlaps { get; private set; }

        public void Report(TrainingProgress value)
        {
            if (Interlocked.Increment(ref _inside) > 1) Overlaps++;
            Thread.Sleep(1);
            Threads.Add(Environment.CurrentManagedThreadId);
            Reports.Add(value);
            Interlocked.Decrement(ref _inside);
        }
    }

    [Fact]
    public void DampingKeepsAConsistentCorrectionAndDropsNoise()
    {
        // 60 held-out windows of 5 steps: a correction equal to the base's error earns λ ≈ 1, noise earns 0.
        int N = 60, H = 5;
        var rng = new Random(4);
        var targets = Enumerable.Range(0, N * H).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var reference = new float[N * H];
        var validators = Enumerable.Range(0, N).Select(_ => new[] { 0 }).ToArray();
        var perfect = targets.ToArray();
        Assert.Equal(1f, CorrectionWeights.FitCorrectionWeight(perfect, targets, reference, validators, H, H), 3);
        var noise = Enumerable.Range(0, N * H).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        Assert.Equal(0f, CorrectionWeights.FitCorrectionWeight(noise, targets, reference, validators, H, H));
    }

    [Fact]
    public void WindowsStartWhereTheBaseCanForecast()
    {
        // Seasonal naive reads a whole season (24) though the window is 6: no window may start before it.
        var noise = Noise(120, 5, 1);
        var x = Enumerable.Range(0, 120).Select(t => 10f + 3f * MathF.Sin(2 * MathF.PI * t / 24) + noise[t]).ToArray();
        var model = ForecastModel.Train(Settings(6, 4, season: 24, b: ForecastBase.SeasonalNaive, members: 0), x, []);
        Assert.Equal(24, model.FirstOrigin);
        Assert.Equal(120 - 4 - 24 + 1, model.Summary.TotalWindows);
    }

    [Fact]
    public void NetworksLearnWhatTheBaseMisses()
    {
        // A noisy cycle of period 9 with no yearly season: naive cannot follow it, a network reading the last 18
        // values can. A network that learned nothing (a broken gradient) would leave the forecast at the base
        // (λ = 0 or zero correction) and fail both assertions.
        const int n = 400, H = 6;
        var noise = Noise(n + H, 6, 0.4);
        var x = Enumerable.Range(0, n + H).Select(t => 10f + 3f * MathF.Sin(2 * MathF.PI * t / 9f) + noise[t]).ToArray();
        var history = x[..n];
        var model = ForecastModel.Train(Settings(18, H, b: ForecastBase.Naive, members: 2, steps: 800), history, []);
        Assert.True(model.Summary.UsesNetworks, string.Join("; ", model.Summary.Notes));
        Assert.True(model.CorrectionWeight > 0.5f, $"λ = {model.CorrectionWeight}");
        var f = Predict(model, history).Forecast;
        double ours = f.Select((v, k) => Math.Abs(v - x[n + k])).Average();
        double naive = Enumerable.Range(0, H).Select(k => Math.Abs(history[^1] - x[n + k])).Average();
        Assert.True(ours < 0.5 * naive, $"MAE {ours:F3} against naive's {naive:F3}");
    }

    [Fact]
    public void HeldOutCalibrationCoversAboutAsPromised()
    {
        // Bounds calibrated on held-out windows of one stretch cover later values at about the nominal rate.
        const int n = 600, H = 5;
        var noise = Noise(n + 200, 7, 2);
        var x = Enumerable.Range(0, n + 200).Select(t => 50f + 5f * MathF.Sin(2 * MathF.PI * t / 12f) + noise[t]).ToArray();
        var model = ForecastModel.Train(Settings(12, H, season: 12, members: 2, steps: 300), x[..n], []);
        var state = ForecastState.AfterSeries(model, x[..n], []);
        var scratch = model.CreateScratch();
        var (f, lo, hi) = (new float[H], new float[H], new float[H]);
        int inside = 0, total = 0;
        for (int t = n; t + H <= n + 200; t++)
        {
            model.Forecast(state, 0.8f, scratch, f, lo, hi);
            for (int k = 0; k < H; k++, total++) if (x[t + k] >= lo[k] && x[t + k] <= hi[k]) inside++;
            state.Push(model.Baseline, x[t], []);
        }
        double coverage = (double)inside / total;
        Assert.InRange(coverage, 0.70, 0.92);
    }
}

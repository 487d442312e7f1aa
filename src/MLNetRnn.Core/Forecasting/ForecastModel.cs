using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Memory;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

// W = window, H = horizon, C = covariates, F = inputs per step (1 + C [+ 2]), N = windows, V = validation
// windows, K = ensemble members.

/// <summary>
/// A trained recurrent forecaster for one series: K networks that read a window of W past values (scaled
/// by the window's own level) and forecast the next H values, with split-conformal intervals from the
/// validation windows. Free of ML.NET; the ML.NET transformers wrap it.
/// </summary>
internal sealed class ForecastModel
{
    private ForecastModel(ForecasterSettings settings, WindowScaler scaler, float[] covariateMean, float[] covariateScale,
        RecurrentNetwork[] members, float[][] residuals, ForecastTrainingSummary summary)
    {
        Settings = settings; Scaler = scaler; CovariateMean = covariateMean; CovariateScale = covariateScale;
        Members = members; Residuals = residuals; Summary = summary;
    }

    public ForecasterSettings Settings { get; }
    public WindowScaler Scaler { get; }
    public float[] CovariateMean { get; }       // (C)
    public float[] CovariateScale { get; }      // (C)
    public RecurrentNetwork[] Members { get; }  // (K)
    public float[][] Residuals { get; }         // (H)(V) |ỹ − ŷ̃| on the validation windows, ascending per step
    public ForecastTrainingSummary Summary { get; }

    /// <summary>(K) each member's training diagnostics: the validated run that chose its epochs (or its only run).
    /// Set by <see cref="Train"/>; the transformer's payload saves and restores them.</summary>
    public TrainingDiagnostics[] Diagnostics { get; set; } = [];

    /// <summary>λ in [0, 1]: the forecast is baseline + λ·(the network's correction). Fitted by least squares on
    /// the validation windows when <see cref="ForecasterSettings.ShrinkToBaseline"/> is on, so a correction that
    /// did not help on held-out windows is damped towards seasonal naive; 1 otherwise.</summary>
    public float CorrectionWeight { get; private set; } = 1f;

    // ---------------------------------------------------------------- training

    /// <summary>Trains on <paramref name="values"/> (n) with covariates (n, C) in time order.</summary>
    /// <exception cref="ArgumentException">The series is too short for the window, horizon and validation.</exception>
    public static ForecastModel Train(ForecasterSettings s, float[] values, float[] covariates,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        int n = values.Length, W = s.WindowSize, H = s.Horizon, C = s.CovariateCount, F = s.InputSize;
        if (n < s.MinimumLength)
            throw new ArgumentException($"The series has {n} values; window {W} + horizon {H}{(s.ValidationFraction > 0 ? " + one validation window" : "")} needs at least {s.MinimumLength}.", nameof(values));
        if (s.SeasonalNaiveBaseline && s.SeasonalPeriod > W)
            throw new ArgumentOutOfRangeException(nameof(s.SeasonalPeriod), s.SeasonalPeriod, $"The seasonal naive baseline needs a window of at least one season; window {W} < period {s.SeasonalPeriod}.");
        var scaler = WindowScaler.Fit(s.Scaling, values, W, s.SeasonalPeriod);
        var (covMean, covScale) = CovariateStatistics(covariates, n, C);
        var model = new ForecastModel(s, scaler, covMean, covScale, [], [], ForecastTrainingSummary.Empty);

        // Every window: inputs (N, W, F), targets in network units (N, H), its level.
        int N = s.WindowCount(n);
        var inputs = new float[N * W * F];
        var targets = new float[N * H];
        for (int i = 0; i < N; i++)
        {
            float level = model.FillInputs(values.AsSpan(i, W), Slice(covariates, i * C, W * C), i, inputs.AsSpan(i * W * F, W * F));
            for (int h = 0; h < H; h++) targets[i * H + h] = scaler.Forward(values[i + W + h], level);
        }

        int V = s.ValidationWindows(N);
        int trainCount = N - V - (V > 0 ? s.Gap(N) : 0);
        if (trainCount < 1)
            throw new ArgumentException($"The series has {n} values: {N} windows leave none for training after {V} validation windows.", nameof(values));
        // The network learns the correction to the seasonal naive forecast (zero output = seasonal naive).
        var headTargets = (float[])targets.Clone();
        if (s.SeasonalNaiveBaseline)
            for (int i = 0; i < N; i++)
                for (int h = 0; h < H; h++) headTargets[i * H + h] -= inputs[(i * W + model.BaselineStep(h)) * F];
        SequenceDataset Windows(int start, int count) => new(
            inputs.AsSpan(start * W * F, count * W * F).ToArray(), HeadTargets(headTargets, start, count, H, s.OutputSize),
            count, W, F, s.OutputSize);
        var train = Windows(0, trainCount);
        var validation = V > 0 ? Windows(N - V, V) : null;

        var members = new RecurrentNetwork[s.EnsembleSize];
        var summaries = new MemberTrainingSummary[s.EnsembleSize];
        var diagnostics = new TrainingDiagnostics[s.EnsembleSize];
        for (int k = 0; k < s.EnsembleSize; k++)
        {
            int seed = s.Training.Seed + k;
            var options = s.Training with { Seed = seed, EarlyStoppingPatience = validation is null ? null : s.Training.EarlyStoppingPatience, ValidationFraction = 0 };
            var net = new RecurrentNetwork(s.NetworkSpec, seed);
            var recorder = new TrainingRecorder(net, options, PhaseProgress.Wrap(progress, $"member {k + 1} of {s.EnsembleSize}"));
            var report = new RecurrentTrainer(net, options).Fit(train, validation, recorder, ct);
            diagnostics[k] = recorder.Finish(report);
            members[k] = net;
            summaries[k] = MemberTrainingSummary.From(seed, report);
        }
        model = new ForecastModel(s, scaler, covMean, covScale, members, [], ForecastTrainingSummary.Empty);
        float lambda = V > 0 && s.SeasonalNaiveBaseline && s.ShrinkToBaseline ? model.FitCorrectionWeight(values, covariates, targets, N - V, V) : 1f;
        model.CorrectionWeight = lambda;

        // Calibrate on the validation windows with the models that did not train on them.
        var residuals = new float[H][];
        if (V > 0)
        {
            var scratch = model.CreateScratch();
            var scaled = new float[H];
            for (int h = 0; h < H; h++) residuals[h] = new float[V];
            for (int v = 0; v < V; v++)
            {
                int i = N - V + v;
                model.ForecastScaled(values.AsSpan(i, W), Slice(covariates, i * C, W * C), i, scratch, scaled, out _);
                for (int h = 0; h < H; h++) residuals[h][v] = Math.Abs(targets[i * H + h] - scaled[h]);
            }
            foreach (var r in residuals) Array.Sort(r);
        }
        else
        {
            for (int h = 0; h < H; h++) residuals[h] = [];
        }

        // The validation windows are the most recent data: a forecaster should not leave them out. Train
        // again on every window for the epochs early stopping found best (scaled by the data size).
        if (s.RefitOnFullSeries && V > 0)
        {
            var all = Windows(0, N);
            for (int k = 0; k < s.EnsembleSize; k++)
            {
                int epochs = Math.Max(1, (int)Math.Round((summaries[k].BestEpoch + 1) * (double)N / trainCount));
                var options = s.Training with { Seed = s.Training.Seed + k, Epochs = epochs, EarlyStoppingPatience = null, ValidationFraction = 0 };
                var net = new RecurrentNetwork(s.NetworkSpec, s.Training.Seed + k);
                var report = new RecurrentTrainer(net, options).Fit(all, null, PhaseProgress.Wrap(progress, $"refit {k + 1} of {s.EnsembleSize}"), ct);
                members[k] = net;
                summaries[k] = summaries[k] with { RefitEpochs = epochs, RefitFinalLoss = report.Epochs[^1].TrainingLoss };
            }
        }

        var summary = new ForecastTrainingSummary(scaler.Kind, trainCount, V, N, summaries,
            residuals.Select(r => r.Length == 0 ? float.NaN : r.Average()).ToArray(), lambda);
        return new ForecastModel(s, scaler, covMean, covScale, members, residuals, summary) { CorrectionWeight = lambda, Diagnostics = diagnostics };
    }

    /// <summary>λ = clamp(Σ (y − b)·c / Σ c², 0, 1) over the validation windows and steps, with y the target,
    /// b the seasonal naive baseline and c the ensemble's correction, all in network units.</summary>
    private float FitCorrectionWeight(float[] values, float[] covariates, float[] targets, int first, int count)
    {
        int W = Settings.WindowSize, C = Settings.CovariateCount, H = Settings.Horizon;
        CorrectionWeight = 1f;
        var scratch = CreateScratch();
        var withCorrection = new float[H];
        var baselineOnly = new float[H];
        double num = 0, den = 0;
        for (int i = first; i < first + count; i++)
        {
            CorrectionWeight = 1f;
            ForecastScaled(values.AsSpan(i, W), Slice(covariates, i * C, W * C), i, scratch, withCorrection, out _);
            CorrectionWeight = 0f;
            ForecastScaled(values.AsSpan(i, W), Slice(covariates, i * C, W * C), i, scratch, baselineOnly, out _);
            for (int h = 0; h < H; h++)
            {
                double c = withCorrection[h] - baselineOnly[h], e = targets[i * H + h] - baselineOnly[h];
                num += e * c; den += c * c;
            }
        }
        CorrectionWeight = 1f;
        return den > 0 ? (float)Math.Clamp(num / den, 0, 1) : 1f;
    }

    private static float[] HeadTargets(float[] targets, int start, int count, int H, int outputs)
    {
        var y = new float[count * outputs];
        for (int i = 0; i < count; i++) targets.AsSpan((start + i) * H, outputs).CopyTo(y.AsSpan(i * outputs));
        return y;
    }

    private static (float[] Mean, float[] Scale) CovariateStatistics(float[] covariates, int n, int C)
    {
        var mean = new float[C];
        var scale = new float[C];
        for (int c = 0; c < C; c++)
        {
            double m = 0, v = 0;
            for (int t = 0; t < n; t++) m += covariates[t * C + c];
            m /= n;
            for (int t = 0; t < n; t++) v += Math.Pow(covariates[t * C + c] - m, 2);
            double sd = Math.Sqrt(v / Math.Max(1, n - 1));
            mean[c] = (float)m;
            scale[c] = sd > 0 ? (float)sd : 1f;
        }
        return (mean, scale);
    }

    private static ReadOnlySpan<float> Slice(float[] a, int start, int length) => length == 0 ? ReadOnlySpan<float>.Empty : a.AsSpan(start, length);

    // ---------------------------------------------------------------- inference

    /// <summary>Per-caller buffers for <see cref="Forecast"/>: one workspace shared by the members.</summary>
    internal sealed class Scratch
    {
        public required Workspace Workspace;
        public required float[] Window;       // (W) raw values, shifted during recursive forecasting
        public required float[] Covariates;   // (W·C)
        public required float[] Sum;          // (O)
    }

    public Scratch CreateScratch() => new()
    {
        Workspace = Members[0].CreateWorkspace(Settings.WindowSize, 1, 1),
        Window = new float[Settings.WindowSize],
        Covariates = new float[Settings.WindowSize * Settings.CovariateCount],
        Sum = new float[Settings.OutputSize],
    };

    /// <summary>
    /// Forecasts the H values after a window and their bounds at <paramref name="confidenceLevel"/>.
    /// </summary>
    /// <param name="window">(W) the last W raw values, oldest first.</param>
    /// <param name="covariates">(W, C) the covariates of those rows.</param>
    /// <param name="firstIndex">Position of window[0] in the series (0 = first training value), for the seasonal features.</param>
    /// <param name="confidenceLevel">In (0, 1).</param>
    /// <param name="scratch">From <see cref="CreateScratch"/>; not shared between threads.</param>
    /// <param name="forecast">(H) written.</param>
    /// <param name="lower">(H) written; NaN when the model has no calibration windows.</param>
    /// <param name="upper">(H) written; NaN when the model has no calibration windows.</param>
    public void Forecast(ReadOnlySpan<float> window, ReadOnlySpan<float> covariates, long firstIndex, float confidenceLevel,
        Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper)
    {
        int H = Settings.Horizon;
        ForecastScaled(window, covariates, firstIndex, scratch, forecast, out float level);
        for (int h = 0; h < H; h++)
        {
            float y = forecast[h];
            float q = HalfWidth(h, confidenceLevel);
            forecast[h] = Scaler.Inverse(y, level);
            (lower[h], upper[h]) = float.IsNaN(q) ? (float.NaN, float.NaN) : Scaler.InverseInterval(y, q, level);
        }
    }

    /// <summary>Split-conformal half-width for step h: the ⌈(V+1)·c⌉-th smallest validation residual
    /// (the largest when that index exceeds V), in network units.</summary>
    public float HalfWidth(int h, float confidenceLevel)
    {
        var r = Residuals[h];
        if (r.Length == 0) return float.NaN;
        int k = (int)Math.Ceiling((r.Length + 1) * (double)confidenceLevel);
        return r[Math.Clamp(k, 1, r.Length) - 1];
    }

    /// <summary>The ensemble's forecast in network units relative to the window's level.</summary>
    internal void ForecastScaled(ReadOnlySpan<float> window, ReadOnlySpan<float> covariates, long firstIndex, Scratch scratch,
        Span<float> scaled, out float level)
    {
        var ws = scratch.Workspace;
        int H = Settings.Horizon, W = Settings.WindowSize;
        level = FillInputs(window, covariates, firstIndex, ws.Input);
        int F = Settings.InputSize;
        if (!Settings.Recursive)
        {
            MeanOfMembers(ws, scratch.Sum);
            for (int h = 0; h < H; h++)
                scaled[h] = CorrectionWeight * scratch.Sum[h] + (Settings.SeasonalNaiveBaseline ? ws.Input[BaselineStep(h) * F] : 0f);
            return;
        }
        // Recursive: forecast one step, append it, re-scale the shifted window by its own level, repeat.
        window.CopyTo(scratch.Window);
        float origin = level;
        for (int h = 0; h < H; h++)
        {
            float stepLevel = h == 0 ? level : FillInputs(scratch.Window, covariates, firstIndex + h, ws.Input);
            MeanOfMembers(ws, scratch.Sum);
            float raw = Scaler.Inverse(CorrectionWeight * scratch.Sum[0] + (Settings.SeasonalNaiveBaseline ? ws.Input[BaselineStep(0) * F] : 0f), stepLevel);
            scaled[h] = Scaler.Forward(raw, origin);
            Array.Copy(scratch.Window, 1, scratch.Window, 0, W - 1);
            scratch.Window[W - 1] = raw;
        }
    }

    /// <summary>The window step whose value seasonal naive repeats for horizon step h (0-based): the same
    /// position one season back, x_{t+h−m⌈(h+1)/m⌉}.</summary>
    internal int BaselineStep(int h) => Settings.WindowSize - Settings.SeasonalPeriod + h % Settings.SeasonalPeriod;

    private void MeanOfMembers(Workspace ws, float[] sum)
    {
        Array.Clear(sum);
        // λ = 0 leaves only the baseline: the networks' output would be multiplied away, so do not compute it.
        if (CorrectionWeight == 0f) return;
        foreach (var net in Members)
        {
            ws.ResetState(1);
            net.Forward(ws, Settings.WindowSize, 1, 1);
            for (int o = 0; o < sum.Length; o++) sum[o] += ws.Output[o];
        }
        for (int o = 0; o < sum.Length; o++) sum[o] /= Members.Length;
    }

    /// <summary>Writes the network input (W, F) for one window and returns its level.</summary>
    private float FillInputs(ReadOnlySpan<float> window, ReadOnlySpan<float> covariates, long firstIndex, Span<float> input)
    {
        int W = Settings.WindowSize, C = Settings.CovariateCount, F = Settings.InputSize, m = Settings.SeasonalPeriod;
        float level = Scaler.Level(window);
        for (int t = 0; t < W; t++)
        {
            Span<float> row = input.Slice(t * F, F);
            row[0] = Scaler.Forward(window[t], level);
            for (int c = 0; c < C; c++) row[1 + c] = (covariates[t * C + c] - CovariateMean[c]) / CovariateScale[c];
            if (Settings.UsesSeasonalFeatures)
            {
                double phase = 2 * Math.PI * ((firstIndex + t) % m) / m;
                row[1 + C] = (float)Math.Sin(phase);
                row[2 + C] = (float)Math.Cos(phase);
            }
        }
        return level;
    }

    // ---------------------------------------------------------------- persistence

    /// <summary>
    /// Binary layout (version 1): settings; scaler; C covariate means and scales; K; per member its parameter
    /// count and values (the spec follows from the settings); H residual arrays (length, values); the summary.
    /// </summary>
    public void Write(BinaryWriter w)
    {
        Settings.Write(w);
        Scaler.Write(w);
        foreach (float v in CovariateMean) w.Write(v);
        foreach (float v in CovariateScale) w.Write(v);
        w.Write(Members.Length);
        foreach (var net in Members)
        {
            w.Write(net.Parameters.Count);
            foreach (float v in net.Parameters.Values) w.Write(v);
        }
        foreach (var r in Residuals)
        {
            w.Write(r.Length);
            foreach (float v in r) w.Write(v);
        }
        Summary.Write(w);
        w.Write(CorrectionWeight);
    }

    public static ForecastModel Read(BinaryReader r)
    {
        var s = ForecasterSettings.Read(r);
        var scaler = WindowScaler.Read(r);
        var mean = new float[s.CovariateCount];
        var scale = new float[s.CovariateCount];
        for (int c = 0; c < mean.Length; c++) mean[c] = r.ReadSingle();
        for (int c = 0; c < scale.Length; c++) scale[c] = r.ReadSingle();
        int k = r.ReadInt32();
        if (k < 1 || k > 1024) throw new InvalidDataException($"Ensemble size {k} is out of range.");
        var spec = s.NetworkSpec;
        var members = new RecurrentNetwork[k];
        for (int i = 0; i < k; i++)
        {
            int count = r.ReadInt32();
            var values = new float[count];
            for (int j = 0; j < count; j++) values[j] = r.ReadSingle();
            members[i] = RecurrentNetwork.FromParameters(spec, values);
        }
        var residuals = new float[s.Horizon][];
        for (int h = 0; h < s.Horizon; h++)
        {
            int len = r.ReadInt32();
            if (len < 0 || len > 1 << 24) throw new InvalidDataException($"Residual count {len} is out of range.");
            residuals[h] = new float[len];
            for (int j = 0; j < len; j++) residuals[h][j] = r.ReadSingle();
        }
        var summary = ForecastTrainingSummary.Read(r);
        float lambda = r.ReadSingle();
        return new ForecastModel(s, scaler, mean, scale, members, residuals, summary) { CorrectionWeight = lambda };
    }
}

/// <summary>Names the phase of a multi-run fit in each progress report it passes on.</summary>
internal sealed class PhaseProgress(IProgress<TrainingProgress> inner, string phase) : IProgress<TrainingProgress>
{
    public static IProgress<TrainingProgress>? Wrap(IProgress<TrainingProgress>? inner, string phase) => inner is null ? null : new PhaseProgress(inner, phase);

    public void Report(TrainingProgress value) => inner.Report(value with { Phase = phase });
}

using System.Globalization;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Memory;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

// W = window, H = horizon, C = covariates, F = inputs per step (1 + C [+ 2]), O = head outputs (H, or 1 recursive),
// N = windows, V = validation windows, K = ensemble members, R = raw history kept (max(W, m)).
// t counts values from the first training value; a window "at origin o" reads values o−W..o−1 and is followed by
// the H values o..o+H−1.

/// <summary>
/// A trained recurrent forecaster for one series: a statistical base (chosen on the training series), and K
/// networks that read a window of W seasonally adjusted values, scaled by the window's own level, and forecast the
/// base's error over the next H values. The networks' correction is damped by a weight λ fitted on held-out
/// windows, and the bounds are split-conformal on those same windows, so they describe the model that is shipped.
/// Free of ML.NET; the ML.NET transformers wrap it.
/// </summary>
/// <remarks>
/// In network units, relative to the window's level ℓ: the base forecasts r_k (its adjusted forecast, scaled),
/// the networks ĉ_k, and the forecast is y_k = r_k + λ·ĉ_k, turned back into raw units by the scaling and the
/// seasonal indices. Zero correction is the base itself: the head starts at zero, and λ = 0 when the correction
/// did not help on the validation windows. Without a base (<see cref="ForecastBase.None"/>) r_k = 0: the networks
/// forecast relative to the level, a plain recurrent forecast.
/// </remarks>
internal sealed class ForecastModel
{
    private ForecastModel(ForecasterSettings settings, SeasonalDecomposition season, Baseline? baseline, WindowScaler scaler,
        float[] covariateMean, float[] covariateScale)
    {
        Settings = settings; Season = season; Baseline = baseline; Scaler = scaler; CovariateMean = covariateMean; CovariateScale = covariateScale;
    }

    public ForecasterSettings Settings { get; }
    public SeasonalDecomposition Season { get; }            // removed before the networks see a window
    public Baseline? Baseline { get; }                      // null: no base (ForecastBase.None)
    public WindowScaler Scaler { get; }
    public float[] CovariateMean { get; }                   // (C)
    public float[] CovariateScale { get; }                  // (C)
    public RecurrentNetwork[] Members { get; private set; } = [];   // (K); empty: the base alone
    public float CorrectionWeight { get; private set; }     // λ
    public ForecastCalibration Calibration { get; private set; } = new(ForecastCalibration.Kind.Pooled, []);
    public ForecastTrainingSummary Summary { get; private set; } = new();

    /// <summary>(K) each member's training diagnostics; empty for the base alone. Set by <see cref="Train"/>; the
    /// transformer's payload saves and restores them.</summary>
    public TrainingDiagnostics[] Diagnostics { get; set; } = [];

    /// <summary>The first origin (values seen) a forecast can be made from: a full window, and the history the base
    /// reads (one season for seasonal naive; two values for the smoothing methods' start).</summary>
    public int FirstOrigin => Math.Max(Math.Max(Settings.WindowSize, 2), Baseline?.HistoryLength ?? 1);

    /// <summary>The seed of ensemble member k: a mix of the forecaster's seed and k, so that members differ and
    /// two different forecaster seeds never share a member (as consecutive seeds did when member k used seed + k).</summary>
    public static int MemberSeed(int seed, int member)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)member) + 0x9E3779B97F4A7C15UL;   // SplitMix64
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    // ---------------------------------------------------------------- training

    /// <summary>Trains on <paramref name="values"/> (n) with covariates (n, C) in time order.</summary>
    /// <exception cref="ArgumentException">The series is shorter than one window and horizon.</exception>
    public static ForecastModel Train(ForecasterSettings s, float[] values, float[] covariates,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        int n = values.Length, W = s.WindowSize, H = s.Horizon, C = s.CovariateCount, m = s.SeasonalPeriod;
        if (n < s.MinimumLength)
            throw new ArgumentException($"The series has {n} values; window {W} + horizon {H} needs at least {s.MinimumLength}.", nameof(values));
        var notes = new List<string>();
        bool constant = values.AsSpan().IndexOfAnyExcept(values[0]) < 0;

        // The season is resolved once (Auto: tested) and shared by the networks' inputs and the base's smoothing.
        var season = SeasonalDecomposition.Fit(values, m, s.SeasonalAdjustment);
        IReadOnlyList<BaselineCandidate> candidates = [];
        BaselineMethod[]? methods = s.Base.Methods();
        if (s.Base == ForecastBase.Auto)
        {
            candidates = BaselineSelection.Rank(values, m, H, season.Kind, BaselineSelection.DefaultCandidates, maxOrigins: 8);
            methods = candidates[0].Methods.ToArray();
        }
        if (methods is not null && methods.Contains(BaselineMethod.SeasonalNaive) && n < m)
            methods = [BaselineMethod.Naive];
        var baseline = methods is null ? null : Baselines.Baseline.Fit(values, m, season.Kind, methods);

        var adjusted = new float[n];
        for (int t = 0; t < n; t++) adjusted[t] = season.Deseasonalize(values[t], t);
        var scaler = WindowScaler.Fit(s.Scaling, adjusted, W, m);
        var covariateScaling = FeatureStandardizer.Fit(covariates, C);
        var model = new ForecastModel(s, season, baseline, scaler, covariateScaling.Mean, covariateScaling.Scale);

        // Every window, through the same code path as a forecast: inputs (N, W, F), targets (N, H) in network
        // units relative to the window's level, and the base's forecast r (N, H) in the same units.
        // Window i is at origin o = i + FirstOrigin: the first origin where both the window and the base have the
        // history they read (one season for seasonal naive), so no target is measured against a base that cannot
        // forecast yet.
        int first0 = model.FirstOrigin;
        int N = Math.Max(0, n - H - first0 + 1), F = s.InputSize, O = s.OutputSize;
        var inputs = new float[N * W * F];
        var targets = new float[N * H];
        var reference = new float[N * H];
        var levels = new float[N];
        var scratch = model.CreateScratch();
        var state = ForecastState.Empty(model);
        for (int o = 1; o <= n - H; o++)
        {
            state.Push(baseline, values[o - 1], covariates.AsSpan((o - 1) * C, C));
            if (o < first0) continue;
            int i = o - first0;
            levels[i] = model.Prepare(state, scratch, reference.AsSpan(i * H, H));
            scratch.Input.CopyTo(inputs.AsSpan(i * W * F, W * F));
            for (int k = 0; k < H; k++) targets[i * H + k] = scaler.Forward(season.Deseasonalize(values[o + k], o + k), levels[i]);
        }

        // Cross-validated ensemble: member k holds out its own block of Vb consecutive windows (the last block for
        // the first member, earlier ones for the others, spread over the series), trains on the rest except a
        // gap of H − 1 windows on each side (their targets would overlap the block's), and early-stops on its
        // block. Every held-out window then has a forecast from members that never trained on it, so λ and the
        // bounds are judged on K blocks of the series instead of one, and the shipped members are those judged.
        int K = s.EnsembleSize, Vb = s.ValidationWindows(N);
        var (blockStart, trainIndex) = CrossValidationFolds(N, K, Vb, s.FoldGap);
        bool networks = K > 0 && !constant && Vb > 0 && trainIndex.All(t => t.Length >= ForecasterSettings.MinimumNetworkWindows);
        if (constant) notes.Add("The series is constant: the forecast is that constant, with zero-width bounds.");
        else if (K > 0 && !networks)
            notes.Add(string.Format(CultureInfo.InvariantCulture,
                "The series gives {0} windows of {1} + {2} values: too few to train and validate the networks (each needs at least {3} training windows besides its validation block), so the forecast is the base alone.",
                N, W, H, ForecasterSettings.MinimumNetworkWindows));

        var summaries = Array.Empty<MemberTrainingSummary>();
        var validators = new int[N][];   // the members that held window i out
        for (int i = 0; i < N; i++) validators[i] = [];
        if (networks)
        {
            for (int i = 0; i < N; i++) validators[i] = Enumerable.Range(0, K).Where(k => i >= blockStart[k] && i < blockStart[k] + Vb).ToArray();
            // The networks learn the base's error: target − r (zero output = the base).
            var corrections = new float[N * O];
            for (int i = 0; i < N; i++)
                for (int k = 0; k < O; k++) corrections[i * O + k] = targets[i * H + k] - reference[i * H + k];
            SequenceDataset Windows(IEnumerable<int> rows)
            {
                var index = rows.ToArray();
                var x = new float[index.Length * W * F];
                var y = new float[index.Length * O];
                for (int j = 0; j < index.Length; j++)
                {
                    inputs.AsSpan(index[j] * W * F, W * F).CopyTo(x.AsSpan(j * W * F));
                    corrections.AsSpan(index[j] * O, O).CopyTo(y.AsSpan(j * O));
                }
                return new SequenceDataset(x, y, index.Length, W, F, O);
            }
            // Early stopping looks at most MaximumEarlyStoppingWindows of a block, evenly spaced: consecutive windows
            // overlap in all but one value, so a long block says little more than its sample, and validating every
            // window after every epoch would cost more than the training on a long series.
            int stride = Math.Max(1, (Vb + ForecasterSettings.MaximumEarlyStoppingWindows - 1) / ForecasterSettings.MaximumEarlyStoppingWindows);
            var folds = Enumerable.Range(0, K).Select(k => (Windows(trainIndex[k]), Windows(Enumerable.Range(blockStart[k], Vb).Where(i => (i - blockStart[k]) % stride == 0)))).ToArray();
            (model.Members, summaries, model.Diagnostics) = TrainMembers(s, folds, progress, ct);
        }

        scratch = model.CreateScratch();   // now with a workspace per trained member

        // λ from the held-out forecasts (each window forecast by the members that did not train on it).
        bool corrected = networks;
        if (networks && s.CorrectionDamping && baseline is not null)
        {
            model.CorrectionWeight = 1f;
            var heldOut = model.HeldOutForecasts(values, covariates, validators, scratch);
            model.CorrectionWeight = FitCorrectionWeight(heldOut, targets, reference, validators, s.Recursive ? 1 : H, H);
            corrected = model.CorrectionWeight > 0f;
            if (!corrected)
                notes.Add("λ = 0: the networks' correction did not improve the base on the held-out windows, so the forecast is the base alone.");
        }
        else
        {
            model.CorrectionWeight = networks ? 1f : 0f;
        }

        // Calibrate on windows the shipped model did not train on: the held-out windows with the members that held
        // them out, or every window when the shipped model is the base alone (the base is not trained on windows).
        if (!corrected)
            for (int i = 0; i < N; i++) validators[i] = [-1];   // -1: the base alone
        var forecast = model.HeldOutForecasts(values, covariates, validators, scratch);
        int calibrated = validators.Count(v => v.Length > 0);
        var residuals = new float[H][];
        for (int k = 0; k < H; k++) residuals[k] = new float[calibrated];
        double shift = 0, shiftScale = ForecastMetrics.SeasonalNaiveScale(values, m);
        if (!(shiftScale > 0)) shiftScale = ForecastMetrics.SeasonalNaiveScale(values, 1);
        for (int i = 0, j = 0; i < N; i++)
        {
            if (validators[i].Length == 0) continue;
            int o = i + first0;
            for (int k = 0; k < H; k++)
            {
                residuals[k][j] = Math.Abs(targets[i * H + k] - forecast[i * H + k]);
                if (corrected && shiftScale > 0)
                    shift += Math.Abs(season.Reseasonalize(scaler.Inverse(forecast[i * H + k], levels[i]), o + k)
                        - season.Reseasonalize(scaler.Inverse(reference[i * H + k], levels[i]), o + k)) / shiftScale;
            }
            j++;
        }
        model.Calibration = new ForecastCalibration(ForecastCalibration.Kind.Pooled, residuals);
        if (model.Calibration.SampleSize == 0)
            notes.Add("No window was left to calibrate the bounds: they are NaN.");
        else if (s.ConfidenceLevel is float level && ForecastCalibration.ErrorsNeeded(level) > model.Calibration.SampleSize)
            notes.Add(string.Format(CultureInfo.InvariantCulture,
                "The {0:0.##}% bounds need at least {1} calibration errors and {2} were available, so they are extrapolated beyond the largest error with a normal tail (levels up to {3:0.##}% are read off the errors).",
                level * 100, ForecastCalibration.ErrorsNeeded(level), model.Calibration.SampleSize, model.Calibration.SupportedLevel * 100));

        model.Summary = new ForecastTrainingSummary
        {
            Scaling = scaler.Kind, SeasonalAdjustment = season.Kind, Base = baseline?.Description ?? "none", BaseCandidates = candidates,
            TrainingWindows = networks ? trainIndex.Min(t => t.Length) : 0, ValidationWindows = networks ? validators.Count(v => v.Length > 0) : 0,
            TotalWindows = N, Members = summaries,
            CorrectionWeight = model.CorrectionWeight, MeanCorrection = corrected && calibrated > 0 ? shift / (calibrated * H) : 0,
            ValidationErrorByHorizon = model.Calibration.MeanErrorByStep, CalibrationErrors = model.Calibration.SampleSize,
            SupportedConfidenceLevel = model.Calibration.SupportedLevel, Notes = notes,
        };
        return model;
    }

    /// <summary>
    /// The folds of the cross-validated ensemble over N windows: member k validates on the block of
    /// <paramref name="block"/> windows starting at BlockStart[k] (k = 0 the last block, the others spread evenly
    /// back to the first) and trains on every window outside the block and <paramref name="gap"/> windows on each
    /// side of it. With gap = H − 1 no training target is a validation target.
    /// </summary>
    internal static (int[] BlockStart, int[][] TrainIndex) CrossValidationFolds(int windows, int members, int block, int gap)
    {
        int N = windows, K = members, Vb = block;
        var blockStart = new int[K];
        var trainIndex = new int[K][];
        for (int k = 0; k < K; k++)
        {
            blockStart[k] = K == 1 ? N - Vb : N - Vb - (int)Math.Round(k * (N - Vb) / (double)(K - 1));
            int from = blockStart[k] - gap, to = blockStart[k] + Vb + gap;
            trainIndex[k] = Enumerable.Range(0, N).Where(i => i < from || i >= to).ToArray();
        }
        return (blockStart, trainIndex);
    }

    /// <summary>
    /// The forecast y (N, H) in network units of every window i with a non-empty <paramref name="members"/>[i],
    /// made by those members only (−1 alone: the base without networks), at the current λ; other rows are left 0.
    /// </summary>
    private float[] HeldOutForecasts(float[] values, float[] covariates, int[][] members, Scratch scratch)
    {
        int H = Settings.Horizon, C = Settings.CovariateCount, n = values.Length;
        var y = new float[members.Length * H];
        var state = ForecastState.Empty(this);
        for (int o = 1; o <= n - H; o++)
        {
            state.Push(Baseline, values[o - 1], covariates.AsSpan((o - 1) * C, C));
            int i = o - FirstOrigin;
            if (i < 0 || members[i].Length == 0) continue;
            ForecastScaled(state, scratch, y.AsSpan(i * H, H), members[i][0] < 0 ? [] : members[i]);
        }
        return y;
    }

    /// <summary>Trains member k on fold k (its training windows, its validation block), in parallel where cores
    /// allow. Each member depends only on its own seed and fold, so the result is the same on any number of threads.</summary>
    private static (RecurrentNetwork[] Members, MemberTrainingSummary[] Summaries, TrainingDiagnostics[] Diagnostics) TrainMembers(ForecasterSettings s,
        (SequenceDataset Train, SequenceDataset Validation)[] folds, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        int K = folds.Length;
        var members = new RecurrentNetwork[K];
        var summaries = new MemberTrainingSummary[K];
        var diagnostics = new TrainingDiagnostics[K];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, s.MaximumDegreeOfParallelism), CancellationToken = ct };
        Parallel.For(0, K, options, k =>
        {
            int seed = MemberSeed(s.Training.Seed, k);
            var training = s.Training with
            {
                Seed = seed, ValidationFraction = 0, SamplesPerEpoch = s.WindowsPerEpoch, MaximumSteps = s.MaximumSteps, TimeLimit = s.TimeLimit,
                KeepInitialWeightsIfBest = s.ZeroHeadInitialization && s.Base != ForecastBase.None,
            };
            var net = new RecurrentNetwork(s.NetworkSpec, seed);
            var recorder = new TrainingRecorder(net, training, PhaseProgress.Wrap(progress, $"member {k + 1} of {K}"));
            var report = new RecurrentTrainer(net, training).Fit(folds[k].Train, folds[k].Validation, recorder, ct);
            members[k] = net;
            summaries[k] = MemberTrainingSummary.From(seed, report);
            diagnostics[k] = recorder.Finish(report);
        });
        return (members, summaries, diagnostics);
    }

    /// <summary>
    /// λ, the weight of the ensemble's correction ĉ on the base's error e = y − r over the validation windows, in
    /// network units: the least-squares λ* = Σ e·ĉ / Σ ĉ², shrunk by the evidence for it, λ = λ*·(1 − 1/t²)₊ with
    /// t = λ*/se (the positive-part James–Stein factor), clamped to [0, 1].
    /// </summary>
    /// <remarks>
    /// Validation windows overlap: consecutive windows share H − 1 target values, so they are far from
    /// independent, and a handful of them can make any correction look good. The standard error is therefore a
    /// Newey–West one over the per-window scores with bandwidth H (the overlap), which counts a run of overlapping
    /// windows roughly once. On a short series a correction must be consistently right to survive; on a long one
    /// the shrinkage fades away.
    /// </remarks>
    internal static float FitCorrectionWeight(float[] heldOut, float[] targets, float[] reference, int[][] validators, int steps, int H)
    {
        int N = validators.Length;
        double num = 0, den = 0;
        for (int i = 0; i < N; i++)
        {
            if (validators[i].Length == 0) continue;
            for (int k = 0; k < steps; k++)
            {
                double e = targets[i * H + k] - reference[i * H + k], c = heldOut[i * H + k] - reference[i * H + k];
                num += e * c; den += c * c;
            }
        }
        if (!(den > 0)) return 0f;
        double lambda = num / den;
        if (!(lambda > 0)) return 0f;
        // Per-window scores S_i = Σ_k ĉ·(e − λ*ĉ); Var(Σ S) with Bartlett weights over lags < H, between held-out
        // windows only.
        var score = new double[N];
        for (int i = 0; i < N; i++)
        {
            if (validators[i].Length == 0) continue;
            for (int k = 0; k < steps; k++)
            {
                double e = targets[i * H + k] - reference[i * H + k], c = heldOut[i * H + k] - reference[i * H + k];
                score[i] += c * (e - lambda * c);
            }
        }
        double variance = 0;
        for (int lag = 0; lag < Math.Min(H, N); lag++)
        {
            double gamma = 0;
            for (int i = lag; i < N; i++)
                if (validators[i].Length > 0 && validators[i - lag].Length > 0) gamma += score[i] * score[i - lag];
            variance += (lag == 0 ? 1 : 2 * (1 - lag / (double)H)) * gamma;
        }
        double se = Math.Sqrt(Math.Max(variance, 0)) / den;
        double shrink = se > 0 ? Math.Max(0, 1 - (se * se) / (lambda * lambda)) : 1;
        return (float)Math.Clamp(lambda * shrink, 0, 1);
    }

    // ---------------------------------------------------------------- inference

    /// <summary>Per-caller buffers for forecasting: one workspace shared by the members. Not thread-safe.</summary>
    internal sealed class Scratch
    {
        public required float[] Input;                       // (W, F) the window as the networks read it
        public required InferenceWorkspace[] Inference;     // (K) one forward-only workspace per member (each packs its weights once)
        public required float[] Output;                     // (O) one member's output
        public required float[] Adjusted;        // (W) the window, seasonally adjusted
        public required float[] Sum;             // (O) the members' mean output
        public required float[] BaseForecast;    // (H) raw, then scaled
        public required float[] BaseScratch;     // (H)
        public required ForecastState Rolling;   // recursive strategy: the state advanced by each forecast step
        public required float[] Step;            // (1) recursive strategy: one step's base reference
    }

    public Scratch CreateScratch()
    {
        int W = Settings.WindowSize, H = Settings.Horizon;
        return new Scratch
        {
            Input = new float[W * Settings.InputSize],
            Inference = Members.Select(m => m.CreateInferenceWorkspace(W, blockRows: 1, threads: 1)).ToArray(),
            Output = new float[Settings.OutputSize],
            Adjusted = new float[W],
            Sum = new float[Settings.OutputSize],
            BaseForecast = new float[H],
            BaseScratch = new float[H],
            Rolling = ForecastState.Empty(this),
            Step = new float[1],
        };
    }

    /// <summary>
    /// Forecasts the H values after <paramref name="state"/> and their bounds at <paramref name="confidenceLevel"/>.
    /// The state must hold at least W values.
    /// </summary>
    /// <param name="state">The series so far.</param>
    /// <param name="confidenceLevel">In (0, 1).</param>
    /// <param name="scratch">From <see cref="CreateScratch"/>; not shared between threads.</param>
    /// <param name="forecast">(H) written.</param>
    /// <param name="lower">(H) written; NaN when the model has no calibration errors.</param>
    /// <param name="upper">(H) written; NaN when the model has no calibration errors.</param>
    public void Forecast(ForecastState state, float confidenceLevel, Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper)
    {
        int H = Settings.Horizon;
        float level = ForecastScaled(state, scratch, forecast);
        for (int k = 0; k < H; k++)
        {
            float y = forecast[k];
            float q = Calibration.HalfWidth(k, confidenceLevel);
            long t = state.Count + k;
            forecast[k] = Season.Reseasonalize(Scaler.Inverse(y, level), t);
            if (float.IsNaN(q))
            {
                lower[k] = upper[k] = float.NaN;
                continue;
            }
            var (lo, hi) = Scaler.InverseInterval(y, q, level);
            float a = Season.Reseasonalize(lo, t), b = Season.Reseasonalize(hi, t);
            (lower[k], upper[k]) = a <= b ? (a, b) : (b, a);
        }
    }

    /// <summary>The forecast y (H) in network units relative to the level of the state's window; returns the level.</summary>
    internal float ForecastScaled(ForecastState state, Scratch scratch, Span<float> y) => ForecastScaled(state, scratch, y, null);

    /// <summary>As <see cref="ForecastScaled(ForecastState, Scratch, Span{float})"/>, averaging only the members
    /// <paramref name="members"/> (null: all; empty: none, the base alone).</summary>
    private float ForecastScaled(ForecastState state, Scratch scratch, Span<float> y, int[]? members)
    {
        int H = Settings.Horizon;
        if (!Settings.Recursive)
        {
            float level = Prepare(state, scratch, scratch.BaseForecast);
            // λ = 0 leaves only the base: the networks' output would be multiplied away, so do not compute it.
            if (CorrectionWeight > 0f) MeanOfMembers(scratch, members);
            for (int k = 0; k < H; k++) y[k] = scratch.BaseForecast[k] + CorrectionWeight * scratch.Sum[k];
            return level;
        }
        // Recursive: forecast one step, append it to a copy of the state, re-scale by the new window's level, repeat.
        var rolling = scratch.Rolling;
        state.CopyTo(rolling);
        float origin = 0;
        for (int k = 0; k < H; k++)
        {
            float stepLevel = Prepare(rolling, scratch, scratch.Step, steps: 1);
            if (k == 0) origin = stepLevel;
            if (CorrectionWeight > 0f) MeanOfMembers(scratch, members);
            float adjusted = Scaler.Inverse(scratch.Step[0] + CorrectionWeight * scratch.Sum[0], stepLevel);
            y[k] = Scaler.Forward(adjusted, origin);
            rolling.Push(Baseline, Season.Reseasonalize(adjusted, rolling.Count), ReadOnlySpan<float>.Empty);
        }
        return origin;
    }

    /// <summary>
    /// Fills the workspace input (W, F) from the state's window and writes the base's forecast of the next
    /// <paramref name="steps"/> values in network units relative to the window's level (zeros without a base).
    /// Returns the level.
    /// </summary>
    private float Prepare(ForecastState state, Scratch scratch, Span<float> reference, int steps = -1)
    {
        int W = Settings.WindowSize, C = Settings.CovariateCount, F = Settings.InputSize, m = Settings.SeasonalPeriod;
        if (steps < 0) steps = Settings.Horizon;
        long start = state.Count - W;
        var history = state.History.AsSpan(state.History.Length - W, W);
        var d = scratch.Adjusted;
        for (int j = 0; j < W; j++) d[j] = Season.Deseasonalize(history[j], start + j);
        float level = Scaler.Level(d);
        var input = scratch.Input;
        int e = Settings.BaseErrorFeature ? 1 : 0;
        for (int j = 0; j < W; j++)
        {
            var row = input.AsSpan(j * F, F);
            row[0] = Scaler.Forward(d[j], level);
            if (e == 1) row[1] = row[0] - Scaler.Forward(Season.Deseasonalize(state.BaseOneStep[j], start + j), level);
            for (int c = 0; c < C; c++) row[1 + e + c] = (state.Covariates[j * C + c] - CovariateMean[c]) / CovariateScale[c];
            if (Settings.UsesSeasonalFeatures)
            {
                double phase = 2 * Math.PI * ((start + j) % m) / m;
                row[1 + e + C] = (float)Math.Sin(phase);
                row[2 + e + C] = (float)Math.Cos(phase);
            }
        }
        var r = reference[..steps];
        if (Baseline is null)
        {
            r.Clear();
            return level;
        }
        var raw = scratch.BaseForecast.AsSpan(0, steps);
        Baseline.Forecast(state.BaseState, state.History, state.Count, raw, scratch.BaseScratch.AsSpan(0, steps));
        for (int k = 0; k < steps; k++) r[k] = Scaler.Forward(Season.Deseasonalize(raw[k], state.Count + k), level);
        return level;
    }

    /// <summary>
    /// The raw numbers <see cref="Prepare"/> reads from <paramref name="state"/> for a direct forecast, for the ONNX
    /// export, whose graph repeats Prepare's arithmetic on them (docs/design/onnx.md): the window's W values and the
    /// base's one-step forecasts of them, the window's covariates (W, C), and the base's forecast of the next H values
    /// (left as it is without a base). No allocation.
    /// </summary>
    internal void RawForecastInputs(ForecastState state, Scratch scratch, Span<float> window, Span<float> baseOneStep, Span<float> covariates, Span<float> baseForecast)
    {
        int W = Settings.WindowSize, H = Settings.Horizon;
        state.History.AsSpan(state.History.Length - W, W).CopyTo(window);
        state.BaseOneStep.CopyTo(baseOneStep);
        state.Covariates.CopyTo(covariates);
        Baseline?.Forecast(state.BaseState, state.History, state.Count, baseForecast[..H], scratch.BaseScratch.AsSpan(0, H));
    }

    /// <summary>The mean output of <paramref name="members"/> (null: all) on the scratch's input, into scratch.Sum.
    /// Forward-only, no allocation.</summary>
    private void MeanOfMembers(Scratch scratch, int[]? members)
    {
        var sum = scratch.Sum;
        Array.Clear(sum);
        int count = members?.Length ?? Members.Length;
        if (count == 0) return;
        for (int j = 0; j < count; j++)
        {
            int k = members is null ? j : members[j];
            Members[k].Predict(scratch.Inference[k], scratch.Input, 1, Settings.WindowSize, scratch.Output);
            for (int o = 0; o < sum.Length; o++) sum[o] += scratch.Output[o];
        }
        for (int o = 0; o < sum.Length; o++) sum[o] /= count;
    }

    // ---------------------------------------------------------------- persistence

    // *** Binary format, payload version 2 ***
    // settings (ForecasterSettings.Write); seasonal decomposition; bool has base, base (Baseline.Write); scaler;
    // float[C] covariate means, float[C] scales; int32 K, per member int32 count + float[count] parameters;
    // float λ; calibration; summary
    public void Write(BinaryWriter w)
    {
        Settings.Write(w);
        Season.Write(w);
        w.Write(Baseline is not null);
        Baseline?.Write(w);
        Scaler.Write(w);
        foreach (float v in CovariateMean) w.Write(v);
        foreach (float v in CovariateScale) w.Write(v);
        w.Write(Members.Length);
        foreach (var net in Members)
        {
            w.Write(net.Parameters.Count);
            foreach (float v in net.Parameters.Values) w.Write(v);
        }
        w.Write(CorrectionWeight);
        Calibration.Write(w);
        Summary.Write(w);
    }

    public static ForecastModel Read(BinaryReader r)
    {
        var s = ForecasterSettings.Read(r);
        var season = SeasonalDecomposition.Read(r);
        var baseline = r.ReadBoolean() ? Baselines.Baseline.Read(r) : null;
        var scaler = WindowScaler.Read(r);
        var (mean, scale) = ReadCovariateStatistics(r, s.CovariateCount);
        var model = new ForecastModel(s, season, baseline, scaler, mean, scale) { Members = ReadMembers(r, s, allowEmpty: true) };
        model.CorrectionWeight = ReadWeight(r);
        model.Calibration = ForecastCalibration.Read(r, s.Horizon);
        model.Summary = ForecastTrainingSummary.Read(r);
        return model;
    }

    /// <summary>Reads payload version 1: a seasonal-naive base (or none) without seasonal adjustment, per-step
    /// conformal residuals. The forecasts are those version 1 made; the bounds no longer clamp to the largest
    /// residual when a level asks for more residuals than there are.</summary>
    public static ForecastModel ReadVersion1(BinaryReader r)
    {
        var s = ForecasterSettings.ReadVersion1(r);
        var scaler = WindowScaler.ReadVersion1(r);
        var (mean, scale) = ReadCovariateStatistics(r, s.CovariateCount);
        var members = ReadMembers(r, s, allowEmpty: false);
        var residuals = new float[s.Horizon][];
        for (int k = 0; k < s.Horizon; k++) residuals[k] = Serialization.Persisted.ReadArray(r, 1 << 24);
        var summary = ForecastTrainingSummary.ReadVersion1(r, scaler.Kind, s.Base == ForecastBase.SeasonalNaive);
        float lambda = ReadWeight(r);
        var baseline = s.Base == ForecastBase.SeasonalNaive ? Baselines.Baseline.SeasonalNaiveOnly(s.SeasonalPeriod) : null;
        return new ForecastModel(s, SeasonalDecomposition.Identity, baseline, scaler, mean, scale)
        {
            Members = members, CorrectionWeight = lambda, Calibration = new ForecastCalibration(ForecastCalibration.Kind.PerStep, residuals), Summary = summary,
        };
    }

    private static (float[] Mean, float[] Scale) ReadCovariateStatistics(BinaryReader r, int C)
    {
        var mean = new float[C];
        var scale = new float[C];
        for (int c = 0; c < C; c++) mean[c] = r.ReadSingle();
        for (int c = 0; c < C; c++) scale[c] = r.ReadSingle();
        return (mean, scale);
    }

    private static RecurrentNetwork[] ReadMembers(BinaryReader r, ForecasterSettings s, bool allowEmpty)
    {
        int k = r.ReadInt32();
        if (k < (allowEmpty ? 0 : 1) || k > 1024) throw new InvalidDataException($"Ensemble size {k} is out of range.");
        var spec = s.NetworkSpec;
        var members = new RecurrentNetwork[k];
        for (int i = 0; i < k; i++)
        {
            var values = Serialization.Persisted.ReadArray(r, 1 << 28);
            try
            {
                members[i] = RecurrentNetwork.FromParameters(spec, values);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"The saved parameters of member {i} do not fit the saved network: {ex.Message}", ex);
            }
        }
        return members;
    }

    private static float ReadWeight(BinaryReader r)
    {
        float lambda = r.ReadSingle();
        if (!(lambda >= 0f && lambda <= 1f)) throw new InvalidDataException($"The correction weight {lambda} is out of range [0, 1].");
        return lambda;
    }
}

/// <summary>Names the phase of a multi-run fit in each progress report it passes on.</summary>
internal sealed class PhaseProgress(IProgress<TrainingProgress> inner, string phase) : IProgress<TrainingProgress>
{
    public static IProgress<TrainingProgress>? Wrap(IProgress<TrainingProgress>? inner, string phase) => inner is null ? null : new PhaseProgress(inner, phase);

    public void Report(TrainingProgress value) => inner.Report(value with { Phase = phase });
}

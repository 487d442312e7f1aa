using System.Globalization;
using MLNetRnn.Core.Data;
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
        var (covMean, covScale) = CovariateStatistics(covariates, n, C);
        var model = new ForecastModel(s, season, baseline, scaler, covMean, covScale);

        // Every window, through the same code path as a forecast: inputs (N, W, F), targets (N, H) in network
        // units relative to the window's level, and the base's forecast r (N, H) in the same units.
        int N = s.WindowCount(n), F = s.InputSize, O = s.OutputSize;
        var inputs = new float[N * W * F];
        var targets = new float[N * H];
        var reference = new float[N * H];
        var levels = new float[N];
        var scratch = model.CreateScratch();
        var state = ForecastState.Empty(model);
        for (int o = 1; o <= n - H; o++)
        {
            state.Push(baseline, values[o - 1], covariates.AsSpan((o - 1) * C, C));
            if (o < W) continue;
            int i = o - W;
            levels[i] = model.Prepare(state, scratch, reference.AsSpan(i * H, H));
            scratch.Workspace.Input.AsSpan(0, W * F).CopyTo(inputs.AsSpan(i * W * F, W * F));
            for (int k = 0; k < H; k++) targets[i * H + k] = scaler.Forward(season.Deseasonalize(values[o + k], o + k), levels[i]);
        }

        int V = s.ValidationWindows(N);
        int trainCount = N - V - (V > 0 ? s.Gap(N) : 0);
        bool networks = s.EnsembleSize > 0 && !constant && V > 0 && trainCount >= ForecasterSettings.MinimumNetworkWindows;
        if (constant) notes.Add("The series is constant: the forecast is that constant, with zero-width bounds.");
        else if (s.EnsembleSize > 0 && !networks)
            notes.Add(string.Format(CultureInfo.InvariantCulture,
                "The series gives {0} windows of {1} + {2} values: too few to train and validate the networks (at least {3} training windows and one validation window), so the forecast is the base alone.",
                N, W, H, ForecasterSettings.MinimumNetworkWindows));

        var summaries = Array.Empty<MemberTrainingSummary>();
        if (networks)
        {
            // The networks learn the base's error: target − r (zero output = the base).
            var corrections = new float[N * O];
            for (int i = 0; i < N; i++)
                for (int k = 0; k < O; k++) corrections[i * O + k] = targets[i * H + k] - reference[i * H + k];
            SequenceDataset Windows(int start, int count) => new(inputs[(start * W * F)..((start + count) * W * F)],
                corrections[(start * O)..((start + count) * O)], count, W, F, O);
            var train = Windows(0, trainCount);
            var validation = Windows(N - V, V);
            (model.Members, summaries) = TrainMembers(s, train, validation, progress, ct);
        }
        model.CorrectionWeight = !networks ? 0f
            : s.CorrectionDamping && baseline is not null ? model.FitCorrectionWeight(inputs, targets, reference, N - V, V)
            : 1f;
        if (networks && model.CorrectionWeight == 0f)
            notes.Add("λ = 0: the networks' correction did not improve the base on the validation windows, so the forecast is the base alone.");

        // Calibrate on windows the shipped model did not train on: the validation windows, or every window when
        // the shipped model is the base alone (the base is not trained on windows).
        int first = model.Members.Length > 0 && model.CorrectionWeight > 0f ? N - V : 0;
        var residuals = new float[H][];
        for (int k = 0; k < H; k++) residuals[k] = new float[N - first];
        var forecast = new float[H];
        double shift = 0, shiftScale = ForecastMetrics.SeasonalNaiveScale(values, m);
        if (!(shiftScale > 0)) shiftScale = ForecastMetrics.SeasonalNaiveScale(values, 1);
        state = ForecastState.Empty(model);
        for (int o = 1; o <= n - H; o++)
        {
            state.Push(baseline, values[o - 1], covariates.AsSpan((o - 1) * C, C));
            int i = o - W;
            if (i < first) continue;
            float level = model.ForecastScaled(state, scratch, forecast);
            for (int k = 0; k < H; k++)
            {
                residuals[k][i - first] = Math.Abs(targets[i * H + k] - forecast[k]);
                if (i >= N - V && shiftScale > 0)
                    shift += Math.Abs(season.Reseasonalize(scaler.Inverse(forecast[k], level), o + k)
                        - season.Reseasonalize(scaler.Inverse(reference[i * H + k], level), o + k)) / shiftScale;
            }
        }
        model.Calibration = new ForecastCalibration(ForecastCalibration.Kind.Pooled, residuals);
        if (model.Calibration.SampleSize == 0)
            notes.Add("No window was left to calibrate the bounds: they are NaN.");

        model.Summary = new ForecastTrainingSummary
        {
            Scaling = scaler.Kind, SeasonalAdjustment = season.Kind, Base = baseline?.Description ?? "none", BaseCandidates = candidates,
            TrainingWindows = networks ? trainCount : 0, ValidationWindows = V, TotalWindows = N, Members = summaries,
            CorrectionWeight = model.CorrectionWeight, MeanCorrection = V > 0 && model.Members.Length > 0 ? shift / (V * H) : 0,
            ValidationErrorByHorizon = model.Calibration.MeanErrorByStep, CalibrationErrors = model.Calibration.SampleSize,
            SupportedConfidenceLevel = model.Calibration.SupportedLevel, Notes = notes,
        };
        return model;
    }

    /// <summary>Trains the K members, in parallel where cores allow. Each member depends only on its own seed, so
    /// the result is the same on any number of threads.</summary>
    private static (RecurrentNetwork[] Members, MemberTrainingSummary[] Summaries) TrainMembers(ForecasterSettings s, SequenceDataset train,
        SequenceDataset validation, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        int K = s.EnsembleSize;
        var members = new RecurrentNetwork[K];
        var summaries = new MemberTrainingSummary[K];
        int batches = (Math.Min(s.WindowsPerEpoch, train.Count) + Math.Min(s.Training.BatchSize, train.Count) - 1) / Math.Min(s.Training.BatchSize, train.Count);
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, s.MaximumDegreeOfParallelism), CancellationToken = ct };
        Parallel.For(0, K, options, k =>
        {
            int seed = MemberSeed(s.Training.Seed, k);
            var training = s.Training with
            {
                Seed = seed, ValidationFraction = 0, SamplesPerEpoch = s.WindowsPerEpoch, MaximumSteps = s.MaximumSteps, TimeLimit = s.TimeLimit,
            };
            var net = new RecurrentNetwork(s.NetworkSpec, seed);
            var report = new RecurrentTrainer(net, training).Fit(train, validation, PhaseProgress.Wrap(progress, $"member {k + 1} of {K}"), ct);
            members[k] = net;
            summaries[k] = MemberTrainingSummary.From(seed, report);
        });
        return (members, summaries);
    }

    /// <summary>λ = clamp(Σ (y − r)·ĉ / Σ ĉ², 0, 1) over the validation windows and steps: the least-squares weight
    /// of the ensemble's correction ĉ on the base's error y − r, in network units.</summary>
    private float FitCorrectionWeight(float[] inputs, float[] targets, float[] reference, int first, int count)
    {
        int W = Settings.WindowSize, F = Settings.InputSize, H = Settings.Horizon;
        var scratch = CreateScratch();
        double num = 0, den = 0;
        for (int i = first; i < first + count; i++)
        {
            inputs.AsSpan(i * W * F, W * F).CopyTo(scratch.Workspace.Input);
            if (Settings.Recursive)
            {
                // The recursive correction is not a fixed vector per window; weigh its first step, the one it was trained on.
                MeanOfMembers(scratch.Workspace, scratch.Sum);
                double e = targets[i * H] - reference[i * H], c = scratch.Sum[0];
                num += e * c; den += c * c;
                continue;
            }
            MeanOfMembers(scratch.Workspace, scratch.Sum);
            for (int k = 0; k < H; k++)
            {
                double e = targets[i * H + k] - reference[i * H + k], c = scratch.Sum[k];
                num += e * c; den += c * c;
            }
        }
        return den > 0 ? (float)Math.Clamp(num / den, 0, 1) : 0f;
    }

    private static (float[] Mean, float[] Scale) CovariateStatistics(float[] covariates, int n, int C)
    {
        var mean = new float[C];
        var scale = new float[C];
        for (int c = 0; c < C; c++)
        {
            double mu = 0, v = 0;
            for (int t = 0; t < n; t++) mu += covariates[t * C + c];
            mu /= n;
            for (int t = 0; t < n; t++) v += Math.Pow(covariates[t * C + c] - mu, 2);
            double sd = Math.Sqrt(v / Math.Max(1, n - 1));
            mean[c] = (float)mu;
            scale[c] = sd > 0 ? (float)sd : 1f;
        }
        return (mean, scale);
    }

    // ---------------------------------------------------------------- inference

    /// <summary>Per-caller buffers for forecasting: one workspace shared by the members. Not thread-safe.</summary>
    internal sealed class Scratch
    {
        public required Workspace Workspace;
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
        var spec = Settings.NetworkSpec;
        return new Scratch
        {
            Workspace = (Members.Length > 0 ? Members[0] : new RecurrentNetwork(spec, 0)).CreateWorkspace(W, 1, 1),
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
    internal float ForecastScaled(ForecastState state, Scratch scratch, Span<float> y)
    {
        int H = Settings.Horizon;
        if (!Settings.Recursive)
        {
            float level = Prepare(state, scratch, scratch.BaseForecast);
            // λ = 0 leaves only the base: the networks' output would be multiplied away, so do not compute it.
            if (CorrectionWeight > 0f) MeanOfMembers(scratch.Workspace, scratch.Sum);
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
            if (CorrectionWeight > 0f) MeanOfMembers(scratch.Workspace, scratch.Sum);
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
        var input = scratch.Workspace.Input;
        for (int j = 0; j < W; j++)
        {
            var row = input.AsSpan(j * F, F);
            row[0] = Scaler.Forward(d[j], level);
            for (int c = 0; c < C; c++) row[1 + c] = (state.Covariates[j * C + c] - CovariateMean[c]) / CovariateScale[c];
            if (Settings.UsesSeasonalFeatures)
            {
                double phase = 2 * Math.PI * ((start + j) % m) / m;
                row[1 + C] = (float)Math.Sin(phase);
                row[2 + C] = (float)Math.Cos(phase);
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

    private void MeanOfMembers(Workspace ws, float[] sum)
    {
        Array.Clear(sum);
        if (Members.Length == 0) return;
        foreach (var net in Members)
        {
            ws.ResetState(1);
            net.Forward(ws, Settings.WindowSize, 1, 1);
            for (int o = 0; o < sum.Length; o++) sum[o] += ws.Output[o];
        }
        for (int o = 0; o < sum.Length; o++) sum[o] /= Members.Length;
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

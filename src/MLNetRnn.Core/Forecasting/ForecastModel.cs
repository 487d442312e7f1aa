using System.Globalization;
using MathNet.Numerics.Distributions;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

// S = series, W = window, H = horizon, C = covariates, Cf = known-future covariates, Z = static features,
// F = inputs per step, O = head outputs (H, H·Q with quantile heads, or 1 recursive), Q = quantile levels,
// N = windows, K = ensemble members, R = raw history kept (max(W, m)), E = windows λ and the bounds are fitted on.
// t counts values from a series' first training value; a window "at origin o" reads values o−W..o−1 and is followed
// by the H values o..o+H−1.

/// <summary>How the bounds of a forecast are made.</summary>
public enum ForecastIntervalMethod
{
    /// <summary>Split-conformal: a quantile of the shipped model's errors on held-out windows, scaled per step ahead.</summary>
    Conformal = 0,

    /// <summary>Read off the quantile heads (trained with the pinball loss, then calibrated on the held-out windows),
    /// interpolated between their levels. A model that is the base alone (a series too short for networks) has no
    /// heads, and gives conformal bounds instead.</summary>
    Quantiles = 1,
}

/// <summary>
/// A trained recurrent forecaster for one series or a panel of many: per series a statistical base (chosen on the
/// series itself), a seasonal adjustment and a window scaling (<see cref="SeriesFit"/>); shared by all series, K
/// networks that read a window of W seasonally adjusted values, scaled by the window's own level, and forecast the
/// base's error over the next H values. The networks' correction is damped by a weight λ fitted on held-out windows,
/// and the bounds are split-conformal on those same windows (or read off quantile heads), so they describe the model
/// that is shipped. Free of ML.NET; the ML.NET transformers wrap it.
/// </summary>
/// <remarks>
/// In network units, relative to the window's level ℓ: the base forecasts r_k (its adjusted forecast, scaled),
/// the networks ĉ_k, and the forecast is y_k = r_k + λ·ĉ_k, turned back into raw units by the series' scaling and
/// seasonal indices. Zero correction is the base itself: the head starts at zero, and λ = 0 when the correction
/// did not help on the validation windows. Without a base (<see cref="ForecastBase.None"/>) r_k = 0: the networks
/// forecast relative to the level, a plain recurrent forecast. With quantile heads the networks output Q values per
/// step, the point forecast is the median head's, and quantile q is y_k + (ĉ_k,q − ĉ_k,median).
/// </remarks>
internal sealed class ForecastModel
{
    private ForecastModel(ForecasterSettings settings, IReadOnlyList<SeriesFit> series, float[] covariateMean, float[] covariateScale,
        float logScaleMean, float logScaleDeviation)
    {
        Settings = settings; Series = series; CovariateMean = covariateMean; CovariateScale = covariateScale;
        LogScaleMean = logScaleMean; LogScaleDeviation = logScaleDeviation;
    }

    public ForecasterSettings Settings { get; }
    public IReadOnlyList<SeriesFit> Series { get; }         // (S) the series trained on, in the panel's order
    public float[] CovariateMean { get; }                   // (C) over every row of every series
    public float[] CovariateScale { get; }                  // (C)
    public float LogScaleMean { get; }                      // the series' log scales are standardised by these
    public float LogScaleDeviation { get; }                 //   before they reach the networks (ScaleFeature)
    public RecurrentNetwork[] Members { get; private set; } = [];   // (K); empty: the base alone
    public float CorrectionWeight { get; private set; }     // λ
    public ForecastCalibration Calibration { get; private set; } = new(ForecastCalibration.Kind.Pooled, []);
    public ForecastTrainingSummary Summary { get; private set; } = new();

    /// <summary>Adds a note about the fit that only the caller knows (what it left out of the panel, say).</summary>
    internal void AddNote(string note) => Summary = Summary with { Notes = [.. Summary.Notes, note] };

    /// <summary>(K) each member's training diagnostics; empty for the base alone. Set by <see cref="Train(ForecasterSettings, SeriesPanel, IProgress{TrainingProgress}?, CancellationToken)"/>;
    /// the transformer's payload saves and restores them.</summary>
    public TrainingDiagnostics[] Diagnostics { get; set; } = [];

    /// <summary>The only series of a single-series model.</summary>
    public SeriesFit Single => Series.Count == 1 ? Series[0] : throw new InvalidOperationException($"The model holds {Series.Count} series; name one.");

    // A single-series model's parts, by the names the single-series code (and the ONNX export) reads them.
    public SeasonalDecomposition Season => Single.Season;
    public Baseline? Baseline => Single.Baseline;
    public WindowScaler Scaler => Single.Scaler;

    /// <summary>The first origin a single-series model's forecast can be made from (<see cref="SeriesFit.FirstOrigin"/>).</summary>
    public int FirstOrigin => Single.FirstOrigin(Settings);

    /// <summary>The same trained networks, λ and calibration with another list of series (the engine adds the series
    /// it started cold). Shares everything else.</summary>
    public ForecastModel WithSeries(IReadOnlyList<SeriesFit> series) => new(Settings, series, CovariateMean, CovariateScale, LogScaleMean, LogScaleDeviation)
    {
        Members = Members, CorrectionWeight = CorrectionWeight, Calibration = Calibration, Summary = Summary, Diagnostics = Diagnostics,
    };

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

    /// <summary>Fits a series the networks were not trained on (a cold start) to this model: its own season, base
    /// and scaling from <paramref name="values"/>, the networks and calibration unchanged.</summary>
    /// <exception cref="ArgumentException">Fewer values than a forecast reads.</exception>
    public SeriesFit FitSeries(float[] values, float[] staticFeatures)
    {
        int minimum = Settings.MinimumForecastLength;
        if (values.Length < minimum)
            throw new ArgumentException($"The series has {values.Length} values; a forecast reads at least {minimum} (the window).", nameof(values));
        var fit = SeriesFit.Fit(Settings, values, staticFeatures);
        if (values.Length < fit.FirstOrigin(Settings))
            throw new ArgumentException($"The series has {values.Length} values; its base ({fit.Baseline?.Description}) needs {fit.FirstOrigin(Settings)}.", nameof(values));
        return fit;
    }

    // ---------------------------------------------------------------- training

    /// <summary>Trains on one series: <paramref name="values"/> (n) with covariates (n, C) in time order.</summary>
    /// <exception cref="ArgumentException">The series is shorter than one window and horizon.</exception>
    public static ForecastModel Train(ForecasterSettings s, float[] values, float[] covariates,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
        => Train(s, SeriesPanel.Single(values, covariates), progress, ct);

    /// <summary>
    /// Trains one ensemble on the windows of every series of <paramref name="panel"/>, each series with its own
    /// season, base and scaling. A single series must hold a window and a horizon; a series of a panel at least
    /// a window (a shorter one gives no training window but is still forecast).
    /// </summary>
    /// <exception cref="ArgumentException">A series is too short, or does not suit an explicit option (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The panel gives more windows than can be indexed (2³¹ − 1).</exception>
    public static ForecastModel Train(ForecasterSettings s, SeriesPanel panel, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        int S = panel.Count, W = s.WindowSize, H = s.Horizon, C = s.CovariateCount, m = s.SeasonalPeriod;
        bool single = S == 1;
        for (int i = 0; i < S; i++)
        {
            int n = panel.Values[i].Length, minimum = single ? s.MinimumLength : s.MinimumForecastLength;
            if (n < minimum)
                throw new ArgumentException(single
                    ? $"The series has {n} values; window {W} + horizon {H} needs at least {s.MinimumLength}."
                    : $"{panel.Name(i)} has {n} values; a forecast reads at least {minimum} (the window).", "values");
        }
        if (s.SeriesCategories != 0 && s.SeriesCategories != S)
            throw new ArgumentException($"SeriesCategories is {s.SeriesCategories}; the networks read the index of each of the panel's {S} series, or none (0).", nameof(s));
        var notes = new List<string>();

        // Per series, on its own: the season (Auto: tested), the base (Auto: chosen on the series) and the scaling.
        var fits = new SeriesFit[S];
        ForEachSeries(S, s.MaximumDegreeOfParallelism, ct, i =>
        {
            try
            {
                fits[i] = SeriesFit.Fit(s, panel.Values[i], panel.StaticFeatures[i]);
                if (s.SeriesCategories > 0) fits[i].Category = i;
            }
            catch (ArgumentException ex) when (!single)
            {
                throw new ArgumentException($"{panel.Name(i)}: {ex.Message}", ex.ParamName, ex);
            }
        });
        var covariateScaling = FeatureStandardizer.Fit(panel.Covariates, C);
        var (covMean, covScale) = (covariateScaling.Mean, covariateScaling.Scale);
        var (scaleMean, scaleDeviation) = LogScaleStatistics(fits);
        var model = new ForecastModel(s, fits, covMean, covScale, scaleMean, scaleDeviation);
        var tracks = new SeriesTrack[S];
        ForEachSeries(S, s.MaximumDegreeOfParallelism, ct, i => tracks[i] = SeriesTrack.Build(s, fits[i], panel.Values[i], panel.Covariates[i]));

        // Every window of every series, numbered series by series; window i of series s is at origin i + its first
        // origin, where both the window and the base have the history they read (one season for seasonal naive),
        // so no target is measured against a base that cannot forecast yet.
        var start = new int[S + 1];
        long total = 0;
        for (int i = 0; i < S; i++)
        {
            start[i] = (int)total;
            total += tracks[i].Windows;
            if (total > int.MaxValue)
                throw new InvalidOperationException($"The series up to {panel.Name(i)} give {total} windows; at most {int.MaxValue} (2³¹ − 1) can be indexed. Fit fewer or shorter series per model.");
        }
        start[S] = (int)total;
        int N = (int)total, O = s.OutputSize, K = s.EnsembleSize;

        // Cross-validated ensemble: in every series, member k holds out its own block of Vb consecutive windows (the
        // last block for the first member, earlier ones for the others, spread over the series), trains on the rest
        // except a gap of H − 1 windows on each side (their targets would overlap the block's), and early-stops on its
        // blocks. Every held-out window then has a forecast from members that never trained on it, so λ and the
        // bounds are judged on K blocks of every series instead of one, and the shipped members are those judged.
        var folds = new SeriesFolds[S];
        for (int i = 0; i < S; i++) folds[i] = SeriesFolds.Of(s, tracks[i].Windows, fits[i].Constant);
        var trainIndex = new int[K][];
        for (int k = 0; k < K; k++)
        {
            var rows = new List<int>();
            for (int i = 0; i < S; i++)
                for (int w = 0; w < tracks[i].Windows; w++)
                    if (folds[i].Trains(k, w)) rows.Add(start[i] + w);
            trainIndex[k] = rows.ToArray();
        }
        int constants = fits.Count(f => f.Constant);
        bool networks = K > 0 && constants < S && folds.Sum(f => f.Block) > 0 && trainIndex.All(t => t.Length >= ForecasterSettings.MinimumNetworkWindows);
        if (single && fits[0].Constant) notes.Add("The series is constant: the forecast is that constant, with zero-width bounds.");
        else if (constants > 0)
            notes.Add(string.Format(CultureInfo.InvariantCulture, "{0} of {1} series are constant ({2}): their forecast is that constant, with zero-width bounds.",
                constants, S, string.Join(", ", Enumerable.Range(0, S).Where(i => fits[i].Constant).Take(5).Select(panel.Name)) + (constants > 5 ? ", …" : "")));
        if (K > 0 && !networks && !(single && fits[0].Constant))
            notes.Add(string.Format(CultureInfo.InvariantCulture, single
                ? "The series gives {0} windows of {1} + {2} values: too few to train and validate the networks (each needs at least {3} training windows besides its validation block), so the forecast is the base alone."
                : "The series give {0} windows of {1} + {2} values: too few to train and validate the networks (each needs at least {3} training windows besides its validation blocks), so the forecast is the base alone.",
                N, W, H, ForecasterSettings.MinimumNetworkWindows));

        var summaries = Array.Empty<MemberTrainingSummary>();
        if (networks)
        {
            var sources = new (WindowSource Train, WindowSource Validation)[K];
            // The draws within a series take their own stream, apart from the trainer's shuffle of the member's seed.
            for (int k = 0; k < K; k++)
                sources[k] = (new PanelWindowSource(model, tracks, start, trainIndex[k], single ? 1 : s.SeriesWeightExponent, MemberSeed(s.Training.Seed, k) ^ 0x5EED),
                    new PanelWindowSource(model, tracks, start, EarlyStoppingWindows(folds, start, k, single ? 1 : s.SeriesWeightExponent)));
            (model.Members, summaries, model.Diagnostics) = TrainMembers(s, sources, progress, ct);
        }

        // λ and the bounds, from the held-out forecasts (each window forecast by the members that did not train on
        // it) of every series, or of whole series taken evenly across a large panel.
        var scratch = model.CreateScratch();
        bool corrected = networks;
        Evaluation? heldOut = null;
        if (networks)
        {
            heldOut = model.Evaluate(tracks, folds, held: true, scratch, ct);
            if (s.CorrectionDamping && s.Base != ForecastBase.None)
            {
                int steps = s.Recursive ? 1 : H;
                var full = model.EvaluationForecasts(heldOut, tracks, 1f, scratch);
                model.CorrectionWeight = FitCorrectionWeight(heldOut, full, steps, H);
                corrected = model.CorrectionWeight > 0f;
                if (corrected && !single)
                {
                    // Every series' held-out windows, not only the sample λ was fitted on: each series needs its own.
                    // Beyond that sample, a group of series at a time, so memory stays that of one evaluation.
                    var estimates = new List<(int Series, double Lambda, double Variance)>();
                    if (heldOut.CoversEverySeries(folds)) model.CollectSeriesEstimates(heldOut, full, steps, H, estimates);
                    else
                        foreach (var group in SeriesGroups(folds, ForecasterSettings.MaximumEvaluationWindows))
                        {
                            var ev = model.Evaluate(tracks, folds, held: true, scratch, ct, only: group);
                            model.CollectSeriesEstimates(ev, model.EvaluationForecasts(ev, tracks, 1f, scratch), steps, H, estimates);
                        }
                    notes.Add(model.FitSeriesWeights(estimates, H));
                }
                if (!corrected)
                    notes.Add(single
                        ? "λ = 0: the networks' correction did not improve the base on the held-out windows, so the forecast is the base alone."
                        : "λ = 0: the networks' correction did not improve the bases on the held-out windows, so the forecasts are the bases alone.");
            }
            else model.CorrectionWeight = 1f;
        }
        else model.CorrectionWeight = 0f;

        if (networks && s.QuantileCount > 0 && !s.Recursive)
            notes.Add(model.CalibrateQuantileHeads(heldOut!, model.EvaluationForecasts(heldOut!, tracks, model.CorrectionWeight, scratch)));

        // Calibrate on windows the shipped model did not train on: the held-out windows with the members that held
        // them out, or every window when the shipped model is the base alone (the base is not trained on windows).
        var calibration = corrected ? heldOut! : model.Evaluate(tracks, folds, held: false, scratch, ct);
        var forecast = model.EvaluationForecasts(calibration, tracks, corrected ? model.CorrectionWeight : 0f, scratch);
        int E = calibration.Count;
        var residuals = new float[H][];
        for (int k = 0; k < H; k++) residuals[k] = new float[E];
        double shift = 0;
        for (int j = 0; j < E; j++)
        {
            var (series, o) = calibration.Window(j);
            for (int k = 0; k < H; k++)
            {
                residuals[k][j] = Math.Abs(calibration.Target[j * H + k] - forecast[j * H + k]);
                double shiftScale = calibration.ShiftScale[series];
                if (corrected && shiftScale > 0)
                {
                    var fit = fits[series];
                    float level = calibration.Level[j];
                    shift += Math.Abs(fit.Season.Reseasonalize(fit.Scaler.Inverse(forecast[j * H + k], level), o + k)
                        - fit.Season.Reseasonalize(fit.Scaler.Inverse(calibration.Reference[j * H + k], level), o + k)) / shiftScale;
                }
            }
        }
        model.Calibration = new ForecastCalibration(ForecastCalibration.Kind.Pooled, residuals);
        if (model.Calibration.SampleSize == 0)
            notes.Add("No window was left to calibrate the bounds: they are NaN.");
        else if (s.ConfidenceLevel is float level && ForecastCalibration.ErrorsNeeded(level) > model.Calibration.SampleSize)
            notes.Add(string.Format(CultureInfo.InvariantCulture,
                "The {0:0.##}% bounds need at least {1} calibration errors and {2} were available, so they are extrapolated beyond the largest error with a normal tail (levels up to {3:0.##}% are read off the errors).",
                level * 100, ForecastCalibration.ErrorsNeeded(level), model.Calibration.SampleSize, model.Calibration.SupportedLevel * 100));

        var seriesSummaries = Enumerable.Range(0, S).Select(i => new SeriesTrainingSummary(panel.Ids[i], fits[i].Baseline?.Description ?? "none",
            fits[i].Season.Kind, fits[i].Scaler.Kind, tracks[i].Windows, fits[i].Constant)).ToArray();
        model.Summary = new ForecastTrainingSummary
        {
            Scaling = single ? fits[0].Scaler.Kind : MostCommon(fits.Select(f => f.Scaler.Kind)),
            SeasonalAdjustment = single ? fits[0].Season.Kind : MostCommon(fits.Select(f => f.Season.Kind)),
            Base = single ? seriesSummaries[0].Base : string.Join(", ", seriesSummaries.GroupBy(x => x.Base).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} ({g.Count()})"))),
            BaseCandidates = single ? fits[0].Candidates : [],
            TrainingWindows = networks ? trainIndex.Min(t => t.Length) : 0, ValidationWindows = networks ? folds.Sum(f => f.HeldOut) : 0,
            TotalWindows = N, Members = summaries,
            CorrectionWeight = model.CorrectionWeight, MeanCorrection = corrected && E > 0 ? shift / ((double)E * H) : 0,
            ValidationErrorByHorizon = model.Calibration.MeanErrorByStep, CalibrationErrors = model.Calibration.SampleSize,
            SupportedConfidenceLevel = model.Calibration.SupportedLevel, Notes = notes, Series = seriesSummaries,
        };
        return model;
    }

    private static T MostCommon<T>(IEnumerable<T> values) where T : notnull => values.GroupBy(v => v).OrderByDescending(g => g.Count()).First().Key;

    /// <summary>Runs <paramref name="body"/> for every series, in parallel on a panel; a single series runs on the
    /// caller's thread. The first exception is rethrown as it was (not wrapped).</summary>
    private static void ForEachSeries(int count, int parallelism, CancellationToken ct, Action<int> body)
    {
        if (count == 1)
        {
            body(0);
            return;
        }
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = ct }, body);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw;
        }
    }

    /// <summary>
    /// Member k's early-stopping windows. Within each series' block at most <see cref="ForecasterSettings.MaximumEarlyStoppingWindows"/>,
    /// evenly spaced: consecutive windows overlap in all but one value, so a long block says little more than its
    /// sample, and validating every window after every epoch would cost more than the training on a long series. On a
    /// panel, each series' share reweighted as training draws the series (<see cref="SeriesWeighting"/>), then at most
    /// <see cref="ForecasterSettings.MaximumPanelEarlyStoppingWindows"/> of those, taken evenly across the series.
    /// </summary>
    internal static int[] EarlyStoppingWindows(SeriesFolds[] folds, int[] start, int k, double exponent = 1)
    {
        var rows = new List<int>();
        for (int i = 0; i < folds.Length; i++)
        {
            int Vb = folds[i].Block;
            if (Vb == 0) continue;
            int stride = Math.Max(1, (Vb + ForecasterSettings.MaximumEarlyStoppingWindows - 1) / ForecasterSettings.MaximumEarlyStoppingWindows);
            for (int w = folds[i].BlockStart[k]; w < folds[i].BlockStart[k] + Vb; w++)
                if ((w - folds[i].BlockStart[k]) % stride == 0) rows.Add(start[i] + w);
        }
        if (folds.Length > 1 && exponent != 1) rows = Reweighted(rows, start, exponent);
        if (folds.Length == 1 || rows.Count <= ForecasterSettings.MaximumPanelEarlyStoppingWindows) return rows.ToArray();
        int every = (rows.Count + ForecasterSettings.MaximumPanelEarlyStoppingWindows - 1) / ForecasterSettings.MaximumPanelEarlyStoppingWindows;
        return rows.Where((_, j) => j % every == 0).ToArray();
    }

    /// <summary>The same number of rows, each series' share now ∝ (its rows)^α: a series short of its share repeats
    /// its windows in turn, a long one gives evenly spaced ones. So early stopping weighs the series as training does.</summary>
    private static List<int> Reweighted(List<int> rows, int[] start, double exponent)
    {
        var runs = rows.GroupBy(g => PanelWindowSource.Locate(start, g).Series).Select(g => g.ToArray()).ToArray();
        double total = runs.Sum(r => Math.Pow(r.Length, exponent));
        var result = new List<int>(rows.Count);
        foreach (var run in runs)
        {
            int share = Math.Max(1, (int)Math.Round(Math.Pow(run.Length, exponent) / total * rows.Count));
            for (int j = 0; j < share; j++) result.Add(run[(int)((long)j * run.Length / share)]);
        }
        return result;
    }

    /// <summary>Trains member k on its training and validation windows, in parallel where cores allow. Each member
    /// depends only on its own seed and windows, so the result is the same on any number of threads.</summary>
    private static (RecurrentNetwork[] Members, MemberTrainingSummary[] Summaries, TrainingDiagnostics[] Diagnostics) TrainMembers(ForecasterSettings s,
        (WindowSource Train, WindowSource Validation)[] folds, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        int K = folds.Length;
        var members = new RecurrentNetwork[K];
        var summaries = new MemberTrainingSummary[K];
        var diagnostics = new TrainingDiagnostics[K];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, s.MaximumDegreeOfParallelism), CancellationToken = ct };
        Parallel.For(0, K, options, k =>
        {
            int seed = MemberSeed(s.Training.Seed, k);
            var training = s.MemberTraining with
            {
                Seed = seed, ValidationFraction = 0, SamplesPerEpoch = s.WindowsPerEpoch, MaximumSteps = s.MaximumSteps, TimeLimit = s.TimeLimit,
                KeepInitialWeightsIfBest = s.ZeroHeadInitialization && s.Base != ForecastBase.None,
            };
            var net = new RecurrentNetwork(s.NetworkSpec, seed);
            var recorder = new TrainingRecorder(net, training, PhaseProgress.Wrap(progress, $"member {k + 1} of {K}"));
            var report = new RecurrentTrainer(net, training).FitWindows(folds[k].Train, folds[k].Validation, recorder, ct);
            members[k] = net;
            summaries[k] = MemberTrainingSummary.From(seed, report);
            diagnostics[k] = recorder.Finish(report);
        });
        return (members, summaries, diagnostics);
    }

    /// <summary>Where member k's block of <paramref name="block"/> windows starts among N: k = 0 the last block, the others
    /// spread evenly back to the first.</summary>
    private static int[] BlockStarts(int windows, int members, int block)
    {
        int N = windows, K = members, Vb = block;
        var blockStart = new int[K];
        for (int k = 0; k < K; k++) blockStart[k] = K == 1 ? N - Vb : N - Vb - (int)Math.Round(k * (N - Vb) / (double)(K - 1));
        return blockStart;
    }

    /// <summary>
    /// The folds of the cross-validated ensemble over the N windows of one series: member k validates on the block of
    /// <paramref name="block"/> windows starting at BlockStart[k] and trains on every window outside the block and
    /// <paramref name="gap"/> windows on each side of it. With gap = H − 1 no training target is a validation target.
    /// </summary>
    internal static (int[] BlockStart, int[][] TrainIndex) CrossValidationFolds(int windows, int members, int block, int gap)
    {
        var blockStart = BlockStarts(windows, members, block);
        var trainIndex = new int[members][];
        for (int k = 0; k < members; k++)
        {
            int from = blockStart[k] - gap, to = blockStart[k] + block + gap;
            trainIndex[k] = Enumerable.Range(0, windows).Where(i => i < from || i >= to).ToArray();
        }
        return (blockStart, trainIndex);
    }

    /// <summary>How one series' windows are split between the members: the block each member holds out, the gap
    /// around it.</summary>
    internal sealed class SeriesFolds
    {
        public required int Windows;        // N_s
        public required int Block;          // Vb: windows per held-out block (0: the series is not validated)
        public required int Gap;            // windows dropped on each side of a block
        public required int[] BlockStart;   // (K)
        public required bool Excluded;      // constant: not trained on, not validated
        public int HeldOut;                 // windows held out by at least one member

        public static SeriesFolds Of(ForecasterSettings s, int windows, bool constant)
        {
            int K = s.EnsembleSize, N = windows, Vb = N == 0 || constant ? 0 : s.ValidationWindows(N);
            var blockStart = BlockStarts(N, K, Vb);
            var f = new SeriesFolds { Windows = N, Block = Vb, Gap = s.FoldGap, BlockStart = blockStart, Excluded = constant };
            for (int w = 0; w < N; w++)
                if (f.Validators(w) > 0) f.HeldOut++;
            return f;
        }

        /// <summary>Whether member k trains on window w.</summary>
        public bool Trains(int k, int w) => !Excluded && (Block == 0 || w < BlockStart[k] - Gap || w >= BlockStart[k] + Block + Gap);

        /// <summary>Whether member k holds window w out.</summary>
        public bool Holds(int k, int w) => Block > 0 && w >= BlockStart[k] && w < BlockStart[k] + Block;

        /// <summary>How many members hold window w out.</summary>
        public int Validators(int w)
        {
            int count = 0;
            for (int k = 0; k < BlockStart.Length; k++)
                if (Holds(k, w)) count++;
            return count;
        }
    }

    /// <summary>
    /// The windows λ and the bounds are fitted on, with what a forecast from each needs: the base's forecast r, the
    /// targets t and the level (all in network units), and for the direct strategy the held-out correction ĉ (the
    /// mean output, at the point head, of the members that held the window out). Windows are in series order, then
    /// window order.
    /// </summary>
    private sealed class Evaluation
    {
        public required int[] SeriesOf;        // (E)
        public required int[] IndexOf;         // (E) window index within the series
        public required int[] FirstOrigin;     // (S)
        public required int[] WindowCount;     // (S) N_s
        public required float[] Reference;     // (E·H) r
        public required float[] Target;        // (E·H) t
        public required float[] Level;         // (E)
        public required float[] Correction;    // (E·H) ĉ at the point head; zeros for the base alone or the recursive strategy
        public float[] Spread = [];             // (E·H·2) with quantile heads: the lowest and highest head's offset from the median head
        public required int[][] Members;       // (E) the members that held window j out; empty: the base alone
        public required double[] ShiftScale;   // (S) the series' mean absolute seasonal difference (MASE scale)

        public int Count => SeriesOf.Length;

        /// <summary>Whether every series with a held-out window is among these windows (false when a large panel's
        /// evaluation took whole series evenly across it).</summary>
        public bool CoversEverySeries(SeriesFolds[] folds)
        {
            var seen = new bool[folds.Length];
            foreach (int series in SeriesOf) seen[series] = true;
            for (int i = 0; i < folds.Length; i++)
                if (!seen[i] && folds[i].HeldOut > 0) return false;
            return true;
        }

        public (int Series, long Origin) Window(int j) => (SeriesOf[j], IndexOf[j] + FirstOrigin[SeriesOf[j]]);
    }

    /// <summary>
    /// The evaluation windows: with <paramref name="held"/>, every window some member held out, forecast by those
    /// members; otherwise every window, forecast by the base alone. On a panel with more than
    /// <see cref="ForecasterSettings.MaximumEvaluationWindows"/> such windows, whole series are taken evenly (so the
    /// overlap structure within a series, which λ's standard error accounts for, is kept).
    /// </summary>
    private Evaluation Evaluate(SeriesTrack[] tracks, SeriesFolds[] folds, bool held, Scratch scratch, CancellationToken ct,
        int[]? only = null)
    {
        var s = Settings;
        int S = tracks.Length, H = s.Horizon, W = s.Steps, F = s.InputSize, O = s.OutputSize, K = Members.Length;
        // Constant series are left out of a panel's calibration (their errors are zero); a single series never is.
        bool skipConstant = Series.Any(f => !f.Constant);
        var counts = new long[S];
        for (int i = 0; i < S; i++) counts[i] = skipConstant && Series[i].Constant ? 0 : held ? folds[i].HeldOut : tracks[i].Windows;
        var candidates = (only ?? Enumerable.Range(0, S)).Where(i => counts[i] > 0).ToArray();
        long total = candidates.Sum(i => counts[i]);
        const int Cap = ForecasterSettings.MaximumEvaluationWindows;
        int every = candidates.Length <= 1 || only is not null ? 1 : (int)Math.Max(1, (total + Cap - 1) / Cap);
        var chosen = candidates.Where((_, j) => j % every == 0).ToArray();

        var seriesOf = new List<int>();
        var indexOf = new List<int>();
        var members = new List<int[]>();
        foreach (int i in chosen)
            for (int w = 0; w < tracks[i].Windows; w++)
            {
                if (held && folds[i].Validators(w) == 0) continue;
                seriesOf.Add(i);
                indexOf.Add(w);
                members.Add(held ? Enumerable.Range(0, K).Where(k => folds[i].Holds(k, w)).ToArray() : []);
            }
        int E = seriesOf.Count;
        var ev = new Evaluation
        {
            SeriesOf = seriesOf.ToArray(), IndexOf = indexOf.ToArray(), FirstOrigin = tracks.Select(t => t.First).ToArray(),
            WindowCount = tracks.Select(t => t.Windows).ToArray(), Reference = new float[E * H], Target = new float[E * H], Level = new float[E],
            Correction = new float[E * H], Members = members.ToArray(), ShiftScale = new double[S],
        };
        int Q = s.QuantileCount;
        foreach (int i in chosen)
        {
            int m = s.SeasonalPeriod;
            double scale = ForecastMetrics.SeasonalNaiveScale(tracks[i].Values, m);
            if (!(scale > 0)) scale = ForecastMetrics.SeasonalNaiveScale(tracks[i].Values, 1);
            ev.ShiftScale[i] = scale;
        }

        // In chunks: build the chunk's windows once, then one network call per member for the windows it held out.
        const int Chunk = 512;
        var builder = new WindowBuilder(this, tracks);
        bool predict = held && !s.Recursive && K > 0;
        if (predict && Q > 0) ev.Spread = new float[E * H * 2];
        var inputs = new float[Math.Min(Chunk, Math.Max(E, 1)) * W * F];
        var batch = predict ? new float[inputs.Length] : [];
        var output = predict ? new float[Math.Min(Chunk, Math.Max(E, 1)) * O] : [];
        var sum = predict ? new float[output.Length] : [];
        var rows = new int[Chunk];
        var workspaces = predict ? Members.Select(n => n.CreateInferenceWorkspace(W, blockRows: 32, threads: Math.Max(1, s.MaximumDegreeOfParallelism), HeadSteps)).ToArray() : [];
        for (int from = 0; from < E; from += Chunk)
        {
            ct.ThrowIfCancellationRequested();
            int count = Math.Min(Chunk, E - from);
            for (int j = 0; j < count; j++)
            {
                int e = from + j;
                ev.Level[e] = builder.Build(ev.SeriesOf[e], ev.IndexOf[e], inputs.AsSpan(j * W * F, W * F), ev.Reference.AsSpan(e * H, H), ev.Target.AsSpan(e * H, H));
            }
            if (!predict) continue;
            Array.Clear(sum);
            for (int k = 0; k < K; k++)
            {
                int b = 0;
                for (int j = 0; j < count; j++)
                    if (Array.IndexOf(ev.Members[from + j], k) >= 0)
                    {
                        inputs.AsSpan(j * W * F, W * F).CopyTo(batch.AsSpan(b * W * F));
                        rows[b++] = j;
                    }
                if (b == 0) continue;
                Members[k].Predict(workspaces[k], batch.AsSpan(0, b * W * F), b, W, output.AsSpan(0, b * O), HeadSteps);
                for (int r = 0; r < b; r++)
                    for (int o = 0; o < O; o++) sum[rows[r] * O + o] += output[r * O + o];
            }
            for (int j = 0; j < count; j++)
            {
                int e = from + j, n = ev.Members[e].Length;
                for (int o = 0; o < O; o++) sum[j * O + o] /= n;
                for (int k = 0; k < H; k++) ev.Correction[e * H + k] = sum[j * O + PointOutput(k)];
                if (Q == 0) continue;
                for (int k = 0; k < H; k++)
                {
                    float median = sum[j * O + PointOutput(k)], low = 0f, high = 0f;
                    for (int q = 0; q < Q; q++)
                    {
                        float offset = sum[j * O + k * Q + q] - median;
                        low = Math.Min(low, offset);
                        high = Math.Max(high, offset);
                    }
                    ev.Spread[(e * H + k) * 2] = low;
                    ev.Spread[(e * H + k) * 2 + 1] = high;
                }
            }
        }
        return ev;
    }

    /// <summary>The forecast y (E·H) in network units of every evaluation window at correction weight
    /// <paramref name="lambda"/> (or a series' own, once <see cref="FitSeriesWeights"/> has set it): r + λ·ĉ for the
    /// direct strategy; the recursive one runs each window again.</summary>
    private float[] EvaluationForecasts(Evaluation ev, SeriesTrack[] tracks, float lambda, Scratch scratch)
    {
        int H = Settings.Horizon, E = ev.Count;
        var y = new float[E * H];
        if (!Settings.Recursive)
        {
            for (int e = 0; e < E; e++)
            {
                bool networks = ev.Members[e].Length > 0;
                float weight = networks ? Series[ev.SeriesOf[e]].CorrectionWeight ?? lambda : 0f;
                for (int k = 0; k < H; k++)
                    y[e * H + k] = ev.Reference[e * H + k] + weight * ev.Correction[e * H + k];
            }
            return y;
        }
        // Recursive: walk each series with a state, forecasting from the evaluation windows' origins.
        float saved = CorrectionWeight;
        CorrectionWeight = lambda;
        try
        {
            for (int e = 0; e < E; )
            {
                int series = ev.SeriesOf[e];
                var fit = Series[series];
                var track = tracks[series];
                var state = ForecastState.Empty(Settings, fit);
                int C = Settings.CovariateCount;
                long o = 0;
                for (; e < E && ev.SeriesOf[e] == series; e++)
                {
                    long origin = ev.IndexOf[e] + track.First;
                    for (; o < origin; o++) state.Push(fit.Baseline, track.Values[o], track.Covariates.AsSpan((int)o * C, C));
                    ForecastRecursive(fit, state, scratch, y.AsSpan(e * H, H), ev.Members[e]);
                }
            }
        }
        finally
        {
            CorrectionWeight = saved;
        }
        return y;
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
    /// windows roughly once. Windows of different series are taken as independent. On a short series a correction
    /// must be consistently right to survive; on a long one (or a panel) the shrinkage fades away.
    /// </remarks>
    internal static float FitCorrectionWeight(float[] heldOut, float[] targets, float[] reference, int[][] validators, int steps, int H)
    {
        // One series: the windows some member held out, in order, as an evaluation.
        var held = Enumerable.Range(0, validators.Length).Where(i => validators[i].Length > 0).ToArray();
        float[] Pick(float[] a) => held.SelectMany(i => a.AsSpan(i * H, H).ToArray()).ToArray();
        var ev = new Evaluation
        {
            SeriesOf = new int[held.Length], IndexOf = held, FirstOrigin = [0], WindowCount = [validators.Length], Reference = Pick(reference), Target = Pick(targets),
            Level = new float[held.Length], Correction = new float[held.Length * H], Members = held.Select(i => validators[i]).ToArray(), ShiftScale = [0],
        };
        return FitCorrectionWeight(ev, Pick(heldOut), steps, H);
    }

    private static float FitCorrectionWeight(Evaluation ev, float[] heldOut, int steps, int H)
    {
        var (lambda, se) = CorrectionEstimate(ev, heldOut, steps, H, 0, ev.Count);
        if (!(lambda > 0)) return 0f;
        double shrink = se > 0 ? Math.Max(0, 1 - (se * se) / (lambda * lambda)) : 1;
        return (float)Math.Clamp(lambda * shrink, 0, 1);
    }

    /// <summary>
    /// The least-squares λ* = Σ e·ĉ / Σ ĉ² over the evaluation windows [<paramref name="from"/>, <paramref name="to"/>)
    /// and its Newey–West standard error (see <see cref="FitCorrectionWeight(float[], float[], float[], int[][], int, int)"/>);
    /// NaN when the correction is zero there. The windows are in series order.
    /// </summary>
    private static (double Lambda, double Se) CorrectionEstimate(Evaluation ev, float[] heldOut, int steps, int H, int from, int to)
    {
        float[] targets = ev.Target, reference = ev.Reference;
        double num = 0, den = 0;
        for (int i = from; i < to; i++)
        {
            for (int k = 0; k < steps; k++)
            {
                double e = targets[i * H + k] - reference[i * H + k], c = heldOut[i * H + k] - reference[i * H + k];
                num += e * c; den += c * c;
            }
        }
        if (!(den > 0)) return (double.NaN, double.NaN);
        double lambda = num / den;
        // Per-window scores S_i = Σ_k ĉ·(e − λ*ĉ), laid out per series by window index (0 where not held out);
        // Var(Σ S) with Bartlett weights over lags < H, between held-out windows of the same series only.
        var segments = new List<(double[] Score, bool[] Held)>();
        for (int i = from; i < to; )
        {
            int series = ev.SeriesOf[i], N = ev.WindowCount[series];
            var score = new double[N];
            var held = new bool[N];
            for (; i < to && ev.SeriesOf[i] == series; i++)
            {
                int w = ev.IndexOf[i];
                held[w] = true;
                for (int k = 0; k < steps; k++)
                {
                    double e = targets[i * H + k] - reference[i * H + k], c = heldOut[i * H + k] - reference[i * H + k];
                    score[w] += c * (e - lambda * c);
                }
            }
            segments.Add((score, held));
        }
        int longest = segments.Max(x => x.Score.Length);
        double variance = 0;
        for (int lag = 0; lag < Math.Min(H, longest); lag++)
        {
            double gamma = 0;
            foreach (var (score, held) in segments)
                for (int i = lag; i < score.Length; i++)
                    if (held[i] && held[i - lag]) gamma += score[i] * score[i - lag];
            variance += (lag == 0 ? 1 : 2 * (1 - lag / (double)H)) * gamma;
        }
        return (lambda, Math.Sqrt(Math.Max(variance, 0)) / den);
    }

    /// <summary>
    /// Gives each series of a panel its own λ: its least-squares λ*_s from its own held-out windows (the
    /// <paramref name="estimates"/> of <see cref="CollectSeriesEstimates"/>), pulled towards the panel's mean λ as a
    /// random-effects estimate does,
    /// λ_s = μ̂ + τ²/(τ² + se_s²)·(λ*_s − μ̂), clamped to [0, 1], where τ² is the spread of the true per-series weights
    /// (DerSimonian–Laird: what the spread of the λ*_s leaves once their own standard errors are accounted for) and
    /// μ̂ their random-effects mean. μ̂ also becomes the panel's λ, the weight of every series without an estimate of
    /// its own and of series first seen after training. Returns the note for the summary.
    /// </summary>
    /// <remarks>
    /// One λ for a panel assumes the networks' correction is as good for every series. It is not: a shared network
    /// can fit some series' corrections well and hurt others' (on the accuracy protocol's nine monthly series fitted
    /// together, one λ left several series worse than their bases). When the series agree (τ² ≈ 0) every series gets
    /// the same λ; when they differ, a series with strong evidence of its own moves to it. A series with fewer than
    /// 2H held-out windows takes μ̂: its Newey–West error has too few windows to mean anything (with one window the
    /// score sums to zero by construction), so it would look certain.
    ///
    /// The target is μ̂ rather than the λ fitted on all held-out windows pooled: pooling weighs each series by its
    /// number of windows and the size of its errors, so a few long or hard series set it, and it says how much
    /// correction the pooled windows want, not how much a typical series does. (On the monthly series the pooled λ
    /// was 1.00 at every origin while μ̂ was about 0.6, and the short series that fell back to it lost the most.)
    /// </remarks>
    private string FitSeriesWeights(List<(int Series, double Lambda, double Variance)> estimates, int H)
    {
        if (estimates.Count < 2)
            return string.Create(CultureInfo.InvariantCulture, $"One λ for the panel ({CorrectionWeight:F2}): fewer than two series have the {2 * H} held-out windows a series' own λ needs.");
        var (own, tau2, mean) = ShrinkSeriesWeights(estimates.Select(e => e.Lambda).ToArray(), estimates.Select(e => e.Variance).ToArray());
        for (int j = 0; j < estimates.Count; j++) Series[estimates[j].Series].CorrectionWeight = own[j];
        float pooled = CorrectionWeight;
        CorrectionWeight = mean;       // for the series without their own, and for series first seen after training
        Array.Sort(own);
        return string.Create(CultureInfo.InvariantCulture,
            $"λ per series: {estimates.Count} of {Series.Count} series have their own (median {own[own.Length / 2]:F2}, from {own[0]:F2} to {own[^1]:F2}; spread between series τ = {Math.Sqrt(tau2):F2}); the others take the panel's mean λ {mean:F2} (λ fitted on all windows pooled: {pooled:F2}).");
    }

    /// <summary>Adds λ*_s and its sampling variance se_s² for each series of <paramref name="ev"/> with at least 2H
    /// held-out windows (<paramref name="heldOut"/>: the forecasts at λ = 1).</summary>
    private void CollectSeriesEstimates(Evaluation ev, float[] heldOut, int steps, int H, List<(int Series, double Lambda, double Variance)> estimates)
    {
        for (int i = 0; i < ev.Count; )
        {
            int series = ev.SeriesOf[i], from = i;
            while (i < ev.Count && ev.SeriesOf[i] == series) i++;
            if (i - from < 2 * H || Series[series].Constant) continue;
            var (lambda, se) = CorrectionEstimate(ev, heldOut, steps, H, from, i);
            if (double.IsFinite(lambda) && se > 0 && double.IsFinite(se)) estimates.Add((series, lambda, se * se));
        }
    }

    /// <summary>Consecutive groups of series whose held-out windows add up to at most <paramref name="windows"/> (a
    /// series with more is a group of its own).</summary>
    private static IEnumerable<int[]> SeriesGroups(SeriesFolds[] folds, int windows)
    {
        var group = new List<int>();
        long count = 0;
        for (int i = 0; i < folds.Length; i++)
        {
            if (folds[i].HeldOut == 0) continue;
            if (group.Count > 0 && count + folds[i].HeldOut > windows)
            {
                yield return group.ToArray();
                group.Clear();
                count = 0;
            }
            group.Add(i);
            count += folds[i].HeldOut;
        }
        if (group.Count > 0) yield return group.ToArray();
    }

    /// <summary>
    /// Scales the quantile heads' spread around the median head so that, on the held-out windows, the lowest and the
    /// highest head cover what their levels say: factors f_lo, f_hi per step ahead (one per side with a decoder, whose
    /// head is shared by the steps), applied to every member's head rows, q ← median + f·(q − median). The offsets are
    /// linear in those rows, so the members' mean offset scales by f too, and the levels between keep their order.
    /// Returns the note for the summary.
    /// </summary>
    /// <remarks>
    /// The heads are fitted by the pinball loss to windows the networks trained on, which they fit more closely than
    /// new ones: on the accuracy protocol's single series their 10–90% bounds covered 65.5% before this step. The
    /// held-out windows are the conformal bounds' calibration set, and the factors are split-conformal quantiles of
    /// the normalised errors there (Lei et al. 2018's locally weighted conformal, with the heads as the local scale).
    /// The point forecast (the median head) does not change.
    /// </remarks>
    private string CalibrateQuantileHeads(Evaluation ev, float[] point)
    {
        var s = Settings;
        int H = s.Horizon, Q = s.QuantileCount, med = s.MedianIndex, E = ev.Count;
        float low = s.Quantiles[0], high = s.Quantiles[Q - 1];
        int groups = s.Decoder ? 1 : H;
        var factors = new (float Low, float High)[groups];
        var lowScores = new List<float>();
        var highScores = new List<float>();
        for (int g = 0; g < groups; g++)
        {
            lowScores.Clear();
            highScores.Clear();
            for (int e = 0; e < E; e++)
            {
                if (Series[ev.SeriesOf[e]].Constant) continue;
                for (int k = s.Decoder ? 0 : g; k < (s.Decoder ? H : g + 1); k++)
                {
                    int at = e * H + k;
                    float error = ev.Target[at] - point[at], below = -ev.Spread[at * 2], above = ev.Spread[at * 2 + 1];
                    if (below > 0f) lowScores.Add(-error / below);
                    if (above > 0f) highScores.Add(error / above);
                }
            }
            factors[g] = (SpreadFactor(lowScores, 1f - low), SpreadFactor(highScores, high));
        }
        int Htop = s.HiddenSizes[^1];
        foreach (var member in Members)
        {
            var weight = member.Parameters.Value(member.Head.Weight);   // (O, H_top)
            var bias = member.Parameters.Value(member.Head.Bias);       // (O)
            for (int g = 0; g < groups; g++)
            {
                int row0 = s.Decoder ? 0 : g * Q;
                for (int q = 0; q < Q; q++)
                {
                    if (q == med) continue;
                    float f = s.Quantiles[q] < 0.5f ? factors[g].Low : factors[g].High;
                    int r = row0 + q, m = row0 + med;
                    for (int i = 0; i < Htop; i++) weight[r * Htop + i] = weight[m * Htop + i] + f * (weight[r * Htop + i] - weight[m * Htop + i]);
                    bias[r] = bias[m] + f * (bias[r] - bias[m]);
                }
            }
        }
        float lo = factors.Min(x => Math.Min(x.Low, x.High)), hi = factors.Max(x => Math.Max(x.Low, x.High));
        return string.Create(CultureInfo.InvariantCulture,
            $"Quantile heads calibrated on {E} held-out windows: their spread around the median scaled by {lo:F2}–{hi:F2} so that the {low:0.##} and {high:0.##} heads cover their levels there.");
    }

    /// <summary>The split-conformal factor for one side: the ⌈(n+1)·level⌉-th smallest normalised error, at least 0
    /// (a head already wide enough is narrowed, never flipped across the median); 1 (the heads as trained) with too
    /// few errors to read that level from.</summary>
    internal static float SpreadFactor(List<float> scores, float level)
    {
        int n = scores.Count, rank = (int)Math.Ceiling((n + 1) * (double)level);
        if (rank > n || n == 0) return 1f;
        scores.Sort();
        return Math.Max(0f, scores[rank - 1]);
    }

    /// <summary>
    /// The random-effects step of <see cref="FitSeriesWeights"/>. Estimates λ*_s with sampling variances v_s are
    /// treated as draws around a panel mean μ with spread τ² between the true weights: τ² is DerSimonian–Laird's
    /// estimate (0 when the λ*_s differ no more than their errors explain), μ̂ their mean weighted by 1/(v_s + τ²),
    /// and each weight is the best linear predictor μ̂ + τ²/(τ² + v_s)·(λ*_s − μ̂), clamped to [0, 1]. Returns
    /// the weights, τ² and μ̂ clamped to [0, 1] (the weight of a series with no estimate of its own).
    /// </summary>
    internal static (float[] Weights, double Tau2, float Mean) ShrinkSeriesWeights(double[] lambda, double[] variance)
    {
        int n = lambda.Length;
        double sw = 0, sw2 = 0, swx = 0;
        for (int j = 0; j < n; j++) { sw += 1 / variance[j]; sw2 += 1 / (variance[j] * variance[j]); swx += lambda[j] / variance[j]; }
        double fixedMean = swx / sw, q = 0;
        for (int j = 0; j < n; j++) q += (lambda[j] - fixedMean) * (lambda[j] - fixedMean) / variance[j];
        double c = sw - sw2 / sw;
        double tau2 = c > 0 ? Math.Max(0, (q - (n - 1)) / c) : 0;
        // The mean of the true weights: each series counts by its precision as a draw from the panel, 1/(v_s + τ²),
        // so with a real spread between series no single precise series decides it.
        double rw = 0, rwx = 0;
        for (int j = 0; j < n; j++) { double w = 1 / (variance[j] + tau2); rw += w; rwx += w * lambda[j]; }
        double mean = rwx / rw;
        var weights = new float[n];
        for (int j = 0; j < n; j++) weights[j] = (float)Math.Clamp(mean + tau2 / (tau2 + variance[j]) * (lambda[j] - mean), 0, 1);
        return (weights, tau2, (float)Math.Clamp(mean, 0, 1));
    }

    /// <summary>Mean and standard deviation of the series' log scales (1 when they do not vary).</summary>
    private static (float Mean, float Deviation) LogScaleStatistics(IReadOnlyList<SeriesFit> fits)
    {
        double mean = fits.Average(f => (double)f.LogScale);
        double variance = fits.Sum(f => (f.LogScale - mean) * (f.LogScale - mean)) / Math.Max(1, fits.Count - 1);
        double sd = Math.Sqrt(variance);
        return ((float)mean, sd > 1e-6 ? (float)sd : 1f);
    }

    // ---------------------------------------------------------------- inference

    /// <summary>Per-caller buffers for forecasting up to <see cref="Capacity"/> series at once: one forward-only
    /// workspace per member. Not thread-safe.</summary>
    internal sealed class Scratch
    {
        public required int Capacity;                       // B
        public required float[] Input;                      // (B, T, F) the windows as the networks read them
        public required InferenceWorkspace[] Inference;     // (K) one forward-only workspace per member (each packs its weights once)
        public required float[] Output;                     // (B, O) one member's outputs
        public required float[] Sum;                        // (B, O) the members' mean output
        public required float[] Adjusted;                   // (W) one window, seasonally adjusted
        public required float[] BaseForecast;               // (B, H) raw, then scaled: the base's forecast r
        public required float[] BaseScratch;                // (H)
        public required float[] Levels;                     // (B) each window's level
        public required float[] Step;                       // (1) recursive strategy: one step's base reference
        public required float[] Sorted;                     // (Q) one step's quantiles
        public required SeriesFit[] OneFit;                 // (1) a single forecast's series, without allocating
        public required ForecastState[] OneState;           // (1)
        public ForecastState? Rolling;                      // recursive strategy: the state advanced by each forecast step
    }

    public Scratch CreateScratch(int capacity = 1)
    {
        int W = Settings.WindowSize, T = Settings.Steps, H = Settings.Horizon, O = Settings.OutputSize, B = Math.Max(1, capacity);
        return new Scratch
        {
            Capacity = B,
            Input = new float[B * T * Settings.InputSize],
            Inference = Members.Select(m => B == 1 ? m.CreateInferenceWorkspace(T, blockRows: 1, threads: 1, HeadSteps)
                : m.CreateInferenceWorkspace(T, blockRows: 32, threads: Math.Max(1, Settings.MaximumDegreeOfParallelism), HeadSteps)).ToArray(),
            Output = new float[B * O],
            Sum = new float[B * O],
            Adjusted = new float[W],
            BaseForecast = new float[B * H],
            BaseScratch = new float[H],
            Levels = new float[B],
            Step = new float[1],
            Sorted = new float[Math.Max(1, Settings.QuantileCount)],
            OneFit = new SeriesFit[1],
            OneState = new ForecastState[1],
        };
    }

    /// <summary>The steps the head is read at: the last, or the H future steps of a decoder. Either way a window's
    /// outputs are (H, Q) step-major.</summary>
    private int HeadSteps => Settings.Decoder ? Settings.Horizon : 1;

    /// <summary>The head output that carries step k's point forecast: k, or the median head's with quantile heads.</summary>
    private int PointOutput(int k) => Settings.QuantileCount == 0 ? k : k * Settings.QuantileCount + Settings.MedianIndex;

    /// <summary>Forecasts the H values after <paramref name="state"/> of a single-series model without known-future
    /// covariates, with conformal bounds at <paramref name="confidenceLevel"/>. No allocation.</summary>
    public void Forecast(ForecastState state, float confidenceLevel, Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper)
        => Forecast(Single, state, ReadOnlySpan<float>.Empty, confidenceLevel, ForecastIntervalMethod.Conformal, scratch, forecast, lower, upper, Span<float>.Empty);

    /// <summary>
    /// The raw numbers <see cref="Prepare"/> reads from <paramref name="state"/> for a direct forecast of a single-series
    /// model, for the ONNX export, whose graph repeats Prepare's arithmetic on them (docs/design/onnx.md): the window's
    /// W values and the base's one-step forecasts of them, the window's covariates (W, C), and the base's forecast of the
    /// next H values (left as it is without a base). No allocation.
    /// </summary>
    internal void RawForecastInputs(ForecastState state, Scratch scratch, Span<float> window, Span<float> baseOneStep, Span<float> covariates, Span<float> baseForecast)
    {
        int W = Settings.WindowSize, H = Settings.Horizon;
        state.History.AsSpan(state.History.Length - W, W).CopyTo(window);
        state.BaseOneStep.CopyTo(baseOneStep);
        state.Covariates.CopyTo(covariates);
        Baseline?.Forecast(state.BaseState, state.History, state.Count, baseForecast[..H], scratch.BaseScratch.AsSpan(0, H));
    }

    /// <summary>
    /// Forecasts the H values after <paramref name="state"/> of series <paramref name="fit"/>, with bounds at
    /// <paramref name="confidenceLevel"/> and, with quantile heads, the Q quantiles of every step. The state must
    /// hold at least the series' first origin of values. No allocation.
    /// </summary>
    /// <param name="fit">The series' fitted parts.</param>
    /// <param name="state">The series so far.</param>
    /// <param name="future">(H·Cf) the known-future covariates of the H steps, raw, step-major; empty without them.</param>
    /// <param name="confidenceLevel">In (0, 1).</param>
    /// <param name="method">Where the bounds come from (<see cref="ForecastIntervalMethod.Quantiles"/> needs quantile heads;
    /// a model that is the base alone has none, and gives its conformal bounds).</param>
    /// <param name="scratch">From <see cref="CreateScratch"/>; not shared between threads.</param>
    /// <param name="forecast">(H) written.</param>
    /// <param name="lower">(H) written; NaN when the model has no calibration errors.</param>
    /// <param name="upper">(H) written; NaN when the model has no calibration errors.</param>
    /// <param name="quantiles">(H·Q) written, step-major, ascending within a step; empty to skip.</param>
    public void Forecast(SeriesFit fit, ForecastState state, ReadOnlySpan<float> future, float confidenceLevel, ForecastIntervalMethod method,
        Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper, Span<float> quantiles)
    {
        scratch.OneFit[0] = fit;
        scratch.OneState[0] = state;
        Forecast(scratch.OneFit, scratch.OneState, future, 1, confidenceLevel, method, scratch, forecast, lower, upper, quantiles);
    }

    /// <summary>
    /// As <see cref="Forecast(SeriesFit, ForecastState, ReadOnlySpan{float}, float, ForecastIntervalMethod, Scratch, Span{float}, Span{float}, Span{float}, Span{float})"/>
    /// for <paramref name="count"/> series at once (at most the scratch's capacity): one network call per member for
    /// all of them. Outputs are (count, H) and (count, H·Q); <paramref name="futures"/> is (count, H·Cf).
    /// </summary>
    public void Forecast(IReadOnlyList<SeriesFit> fits, IReadOnlyList<ForecastState> states, ReadOnlySpan<float> futures, int count, float confidenceLevel,
        ForecastIntervalMethod method, Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper, Span<float> quantiles)
    {
        int H = Settings.Horizon, Q = Settings.QuantileCount;
        var y = forecast[..(count * H)];
        var yq = quantiles.IsEmpty ? Span<float>.Empty : quantiles[..(count * H * Q)];
        ForecastScaled(fits, states, futures, count, scratch, y, yq);
        float tauLow = (1 - confidenceLevel) / 2, tauHigh = (1 + confidenceLevel) / 2;
        for (int b = 0; b < count; b++)
        {
            var fit = fits[b];
            // A model that is the base alone (too few windows for networks) has no heads to read the bounds off: its
            // quantile curve is the point forecast at every level. Its conformal bounds were calibrated on every window.
            bool heads = method == ForecastIntervalMethod.Quantiles && Q > 0 && Members.Length > 0 && !fit.Constant;
            float level = scratch.Levels[b];
            long origin = states[b].Count;
            for (int k = 0; k < H; k++)
            {
                int at = b * H + k;
                float v = y[at];
                long t = origin + k;
                float lo, hi;
                if (heads)
                {
                    var curve = yq.Slice(at * Q, Q);
                    lo = QuantileAt(curve, tauLow);
                    hi = QuantileAt(curve, tauHigh);
                }
                else
                {
                    float q = Calibration.HalfWidth(k, confidenceLevel);
                    if (fit.Constant && !float.IsNaN(q)) q = 0f;
                    lo = v - q;
                    hi = v + q;
                }
                forecast[at] = fit.Season.Reseasonalize(fit.Scaler.Inverse(v, level), t);
                if (float.IsNaN(lo) || float.IsNaN(hi))
                {
                    lower[at] = upper[at] = float.NaN;
                }
                else
                {
                    float a = fit.Season.Reseasonalize(fit.Scaler.Inverse(lo, level), t), c = fit.Season.Reseasonalize(fit.Scaler.Inverse(hi, level), t);
                    (lower[at], upper[at]) = a <= c ? (a, c) : (c, a);
                }
                if (!yq.IsEmpty)
                    for (int q = 0; q < Q; q++) yq[at * Q + q] = fit.Season.Reseasonalize(fit.Scaler.Inverse(yq[at * Q + q], level), t);
            }
        }
    }

    /// <summary>
    /// The value at level τ of a quantile curve given at <see cref="ForecasterSettings.Quantiles"/>: linear between
    /// the levels; beyond the outermost, a normal tail through the median and the outermost quantile
    /// (v = median + (v_edge − median)·z(τ)/z(τ_edge)), so bounds for any level widen smoothly with it.
    /// </summary>
    internal float QuantileAt(ReadOnlySpan<float> curve, float tau)
    {
        var levels = Settings.Quantiles;
        int Q = levels.Count, med = Settings.MedianIndex;
        if (tau <= levels[0] || tau >= levels[Q - 1])
        {
            int edge = tau <= levels[0] ? 0 : Q - 1;
            if (edge == med) return curve[med];
            double ratio = Normal.InvCDF(0, 1, tau) / Normal.InvCDF(0, 1, levels[edge]);
            return (float)(curve[med] + (curve[edge] - curve[med]) * ratio);
        }
        int j = 1;
        while (levels[j] < tau) j++;
        float w = (tau - levels[j - 1]) / (levels[j] - levels[j - 1]);
        return curve[j - 1] + w * (curve[j] - curve[j - 1]);
    }

    /// <summary>
    /// The forecasts y (count·H) in network units relative to each window's level (written to scratch.Levels) and,
    /// with quantile heads, the quantiles (count·H·Q, ascending within a step; empty to skip).
    /// </summary>
    internal void ForecastScaled(IReadOnlyList<SeriesFit> fits, IReadOnlyList<ForecastState> states, ReadOnlySpan<float> futures, int count,
        Scratch scratch, Span<float> y, Span<float> quantiles)
    {
        int H = Settings.Horizon, T = Settings.Steps, F = Settings.InputSize, O = Settings.OutputSize, Q = Settings.QuantileCount, Cf = H * Settings.FutureCovariateCount;
        if (count > scratch.Capacity) throw new ArgumentException($"The scratch holds {scratch.Capacity} series; asked for {count}.", nameof(count));
        if (Settings.Recursive)
        {
            for (int b = 0; b < count; b++) scratch.Levels[b] = ForecastRecursive(fits[b], states[b], scratch, y.Slice(b * H, H), null);
            return;
        }
        for (int b = 0; b < count; b++)
        {
            var st = states[b];
            var r = scratch.BaseForecast.AsSpan(b * H, H);
            scratch.Levels[b] = Prepare(fits[b], st.History, st.BaseOneStep, st.Covariates, st.BaseState, st.Count, futures.Slice(b * Cf, Cf),
                scratch.Input.AsSpan(b * T * F, T * F), scratch.Adjusted, r, r, scratch.BaseScratch, H);
        }
        // λ = 0 without quantile heads leaves only the base: the networks' output would be multiplied away.
        bool networks = Members.Length > 0 && (CorrectionWeight > 0f || Q > 0);
        for (int b = 0; b < count && !networks; b++) networks = Members.Length > 0 && fits[b].CorrectionWeight > 0f;
        if (networks) MeanOfMembers(scratch, count, null);
        else scratch.Sum.AsSpan(0, count * O).Clear();
        for (int b = 0; b < count; b++)
        {
            bool corrected = networks && !fits[b].Constant;
            float lambda = fits[b].Constant ? 0f : fits[b].CorrectionWeight ?? CorrectionWeight;
            for (int k = 0; k < H; k++)
            {
                float point = scratch.BaseForecast[b * H + k] + lambda * scratch.Sum[b * O + PointOutput(k)];
                y[b * H + k] = point;
                if (quantiles.IsEmpty) continue;
                // Quantile q is the point forecast plus its head's offset from the median head; sorted, because
                // heads trained apart can cross (sorting never raises the pinball loss, Chernozhukov et al. 2010).
                var sorted = scratch.Sorted.AsSpan(0, Q);
                for (int q = 0; q < Q; q++)
                    sorted[q] = corrected ? point + (scratch.Sum[b * O + k * Q + q] - scratch.Sum[b * O + k * Q + Settings.MedianIndex]) : point;
                sorted.Sort();
                sorted.CopyTo(quantiles.Slice((b * H + k) * Q, Q));
            }
        }
    }

    /// <summary>The recursive strategy: forecast one step, append it to a copy of the state, re-scale by the new
    /// window's level, repeat. Averages only <paramref name="members"/> (null: all; empty: none, the base alone).
    /// Returns the level of the first window, in whose units y is.</summary>
    private float ForecastRecursive(SeriesFit fit, ForecastState state, Scratch scratch, Span<float> y, int[]? members)
    {
        int H = Settings.Horizon, W = Settings.WindowSize, F = Settings.InputSize;
        if (scratch.Rolling is null || scratch.Rolling.BaseState.Length != state.BaseState.Length) scratch.Rolling = ForecastState.Empty(Settings, fit);
        var rolling = scratch.Rolling;
        state.CopyTo(rolling);
        float origin = 0;
        for (int k = 0; k < H; k++)
        {
            float stepLevel = Prepare(fit, rolling.History, rolling.BaseOneStep, rolling.Covariates, rolling.BaseState, rolling.Count, ReadOnlySpan<float>.Empty,
                scratch.Input.AsSpan(0, W * F), scratch.Adjusted, scratch.Step, scratch.BaseForecast.AsSpan(0, 1), scratch.BaseScratch, steps: 1);
            if (k == 0) origin = stepLevel;
            float lambda = fit.CorrectionWeight ?? CorrectionWeight;
            if (lambda > 0f) MeanOfMembers(scratch, 1, members);
            else scratch.Sum[0] = 0f;
            float adjusted = fit.Scaler.Inverse(scratch.Step[0] + lambda * scratch.Sum[0], stepLevel);
            y[k] = fit.Scaler.Forward(adjusted, origin);
            rolling.Push(fit.Baseline, fit.Season.Reseasonalize(adjusted, rolling.Count), ReadOnlySpan<float>.Empty);
        }
        return origin;
    }

    /// <summary>
    /// Fills <paramref name="input"/> (T, F) from a window of a series and writes the base's forecast of the next
    /// <paramref name="steps"/> values, in network units relative to the window's level, into
    /// <paramref name="reference"/> (zeros without a base). Returns the level. No allocation.
    /// </summary>
    /// <param name="fit">The series' fitted parts.</param>
    /// <param name="history">The newest raw values, oldest first: at least W (and one season for seasonal naive).</param>
    /// <param name="oneStep">(W) the base's one-step forecasts of the window's values, raw.</param>
    /// <param name="covariates">(W·C) the window rows' covariates, raw.</param>
    /// <param name="baseState">The base's state after <paramref name="count"/> values.</param>
    /// <param name="count">Values observed so far: the time of the first value forecast.</param>
    /// <param name="future">(H·Cf) the horizon's known-future covariates, raw; empty without them.</param>
    /// <param name="input">(T·F) written, T = W (and H future steps with a decoder).</param>
    /// <param name="adjusted">(W) scratch.</param>
    /// <param name="reference">(steps) written; may be <paramref name="raw"/> itself.</param>
    /// <param name="raw">(steps) the base's raw forecast, written.</param>
    /// <param name="baseScratch">(steps) scratch.</param>
    /// <param name="steps">Values forecast by the base.</param>
    internal float Prepare(SeriesFit fit, ReadOnlySpan<float> history, ReadOnlySpan<float> oneStep, ReadOnlySpan<float> covariates, ReadOnlySpan<double> baseState,
        long count, ReadOnlySpan<float> future, Span<float> input, Span<float> adjusted, Span<float> reference, Span<float> raw, Span<float> baseScratch, int steps)
    {
        var s = Settings;
        int W = s.WindowSize, C = s.CovariateCount, F = s.InputSize, m = s.SeasonalPeriod, H = s.Horizon, Cf = s.FutureCovariateCount;
        int Zd = s.StaticFeatureCount - s.StaticCategories.Count;   // static features that are numbers
        long start = count - W;
        var window = history.Slice(history.Length - W, W);
        var season = fit.Season;
        var scaler = fit.Scaler;
        var d = adjusted[..W];
        for (int j = 0; j < W; j++) d[j] = season.Deseasonalize(window[j], start + j);
        float level = scaler.Level(d);
        int e = s.BaseErrorFeature ? 1 : 0;
        float logScale = s.ScaleFeature ? (fit.LogScale - LogScaleMean) / LogScaleDeviation : 0f;
        for (int j = 0; j < W; j++)
        {
            var row = input.Slice(j * F, F);
            row[0] = scaler.Forward(d[j], level);
            if (e == 1) row[1] = row[0] - scaler.Forward(season.Deseasonalize(oneStep[j], start + j), level);
            for (int c = 0; c < C; c++) row[1 + e + c] = (covariates[j * C + c] - CovariateMean[c]) / CovariateScale[c];
            int p = 1 + e + C;
            if (s.UsesSeasonalFeatures)
            {
                double phase = 2 * Math.PI * ((start + j) % m) / m;
                row[p++] = (float)Math.Sin(phase);
                row[p++] = (float)Math.Cos(phase);
            }
            // What does not change along the window: the series' static features and scale, and last its categories.
            for (int z = 0; z < Zd; z++) row[p++] = fit.StaticFeatures[z];
            if (s.ScaleFeature) row[p++] = logScale;
            if (s.Decoder) row[p++] = 0f;
            WriteCategories(fit, row[p..]);
        }
        var r = reference[..steps];
        if (fit.Baseline is null) r.Clear();
        else
        {
            var rawSteps = raw[..steps];
            fit.Baseline.Forecast(baseState, history, count, rawSteps, baseScratch[..steps]);
            for (int k = 0; k < steps; k++) r[k] = scaler.Forward(season.Deseasonalize(rawSteps[k], count + k), level);
        }
        if (!s.Decoder) return level;
        // The decoder's H future steps: the base's forecast where the value was, no one-step error, the step's
        // known-future covariates (past-only ones at their mean, 0), its seasonal position, the series' features, flag 1.
        for (int k = 0; k < H; k++)
        {
            var row = input.Slice((W + k) * F, F);
            row.Clear();
            row[0] = r[k];
            for (int f = 0; f < Cf; f++)
            {
                int c = s.KnownFutureCovariates[f];
                row[1 + e + c] = (future[k * Cf + f] - CovariateMean[c]) / CovariateScale[c];
            }
            int p = 1 + e + C;
            if (s.UsesSeasonalFeatures)
            {
                double phase = 2 * Math.PI * ((count + k) % m) / m;
                row[p++] = (float)Math.Sin(phase);
                row[p++] = (float)Math.Cos(phase);
            }
            for (int z = 0; z < Zd; z++) row[p++] = fit.StaticFeatures[z];
            if (s.ScaleFeature) row[p++] = logScale;
            row[p++] = 1f;
            WriteCategories(fit, row[p..]);
        }
        return level;
    }

    /// <summary>The category indices that end an input row: the series' static categories, then its own index.</summary>
    private void WriteCategories(SeriesFit fit, Span<float> row)
    {
        var s = Settings;
        int Zd = s.StaticFeatureCount - s.StaticCategories.Count, p = 0;
        for (int z = Zd; z < s.StaticFeatureCount; z++) row[p++] = fit.StaticFeatures[z];
        if (s.SeriesCategories > 0) row[p] = fit.Category;
    }

    /// <summary>The mean output of <paramref name="members"/> (null: all) on the scratch's first
    /// <paramref name="count"/> windows, into scratch.Sum (count, O). Forward-only, no allocation.</summary>
    private void MeanOfMembers(Scratch scratch, int count, int[]? members)
    {
        int O = Settings.OutputSize, T = Settings.Steps;
        var sum = scratch.Sum.AsSpan(0, count * O);
        sum.Clear();
        int n = members?.Length ?? Members.Length;
        if (n == 0) return;
        var input = scratch.Input.AsSpan(0, count * T * Settings.InputSize);
        var output = scratch.Output.AsSpan(0, count * O);
        for (int j = 0; j < n; j++)
        {
            int k = members is null ? j : members[j];
            Members[k].Predict(scratch.Inference[k], input, count, T, output, HeadSteps);
            for (int o = 0; o < sum.Length; o++) sum[o] += output[o];
        }
        for (int o = 0; o < sum.Length; o++) sum[o] /= n;
    }

    // ---------------------------------------------------------------- persistence

    // *** Binary format, payload version 3 ***
    // settings (ForecasterSettings.Write, then WriteExtension); float[C] covariate means, float[C] scales;
    // float log-scale mean, float log-scale deviation; int32 S, per series SeriesFit.Write;
    // int32 K, per member int32 count + float[count] parameters; float λ; calibration; summary (Write, then WriteExtension)
    public void Write(BinaryWriter w)
    {
        Settings.Write(w);
        Settings.WriteExtension(w);
        foreach (float v in CovariateMean) w.Write(v);
        foreach (float v in CovariateScale) w.Write(v);
        w.Write(LogScaleMean);
        w.Write(LogScaleDeviation);
        w.Write(Series.Count);
        foreach (var fit in Series) fit.Write(w);
        w.Write(Members.Length);
        foreach (var net in Members)
        {
            w.Write(net.Parameters.Count);
            foreach (float v in net.Parameters.Values) w.Write(v);
        }
        w.Write(CorrectionWeight);
        Calibration.Write(w);
        Summary.Write(w);
        Summary.WriteExtension(w);
    }

    /// <summary>Reads what <see cref="Write"/> wrote (payload version 3; <paramref name="seriesCategories"/>: with the
    /// settings of transformer format 6).</summary>
    public static ForecastModel Read(BinaryReader r, bool seriesCategories)
    {
        var s = ForecasterSettings.ReadExtension(r, ForecasterSettings.Read(r), seriesCategories);
        var (mean, scale) = ReadCovariateStatistics(r, s.CovariateCount);
        float scaleMean = r.ReadSingle(), scaleDeviation = r.ReadSingle();
        if (!float.IsFinite(scaleMean) || !(scaleDeviation > 0) || !float.IsFinite(scaleDeviation))
            throw new InvalidDataException($"The saved log-scale statistics are out of range (mean {scaleMean}, deviation {scaleDeviation}).");
        int S = r.ReadInt32();
        if (S < 1 || S > 1 << 26) throw new InvalidDataException($"Series count {S} is out of range (1 to {1 << 26}).");
        var series = new SeriesFit[S];
        for (int i = 0; i < S; i++) series[i] = SeriesFit.Read(r, s);
        if (s.SeriesCategories > S) throw new InvalidDataException($"The saved model reads {s.SeriesCategories} series by index but holds {S}.");
        // The training series come first, in the order that gave them their index.
        for (int i = 0; i < s.SeriesCategories; i++) series[i].Category = i;
        var model = new ForecastModel(s, series, mean, scale, scaleMean, scaleDeviation) { Members = ReadMembers(r, s, allowEmpty: true) };
        model.CorrectionWeight = ReadWeight(r);
        model.Calibration = ForecastCalibration.Read(r, s.Horizon);
        model.Summary = ForecastTrainingSummary.ReadExtension(r, ForecastTrainingSummary.Read(r));
        return model;
    }

    // *** Binary format of the per-series weights (transformer format 5, after the diagnostics) ***
    // int32 S; float[S] each series' own λ, NaN where the series takes the model's
    public void WriteSeriesWeights(BinaryWriter w)
    {
        w.Write(Series.Count);
        foreach (var fit in Series) w.Write(fit.CorrectionWeight ?? float.NaN);
    }

    /// <summary>Reads what <see cref="WriteSeriesWeights"/> wrote onto this model's series.</summary>
    public void ReadSeriesWeights(BinaryReader r)
    {
        int count = r.ReadInt32();
        if (count != Series.Count) throw new InvalidDataException($"The saved model has {Series.Count} series but {count} per-series correction weights.");
        foreach (var fit in Series)
        {
            float v = r.ReadSingle();
            if (!float.IsNaN(v) && !(v >= 0f && v <= 1f)) throw new InvalidDataException($"A saved per-series correction weight is {v}; expected a value in [0, 1] or NaN.");
            fit.CorrectionWeight = float.IsNaN(v) ? null : v;
        }
    }

    /// <summary>Reads payload version 2: one series (settings; seasonal decomposition; base; scaler; covariate
    /// statistics; members; λ; calibration; summary).</summary>
    public static ForecastModel ReadVersion2(BinaryReader r)
    {
        var s = ForecasterSettings.Read(r);
        var season = SeasonalDecomposition.Read(r);
        var baseline = r.ReadBoolean() ? Baselines.Baseline.Read(r) : null;
        var scaler = WindowScaler.Read(r);
        var (mean, scale) = ReadCovariateStatistics(r, s.CovariateCount);
        var members = ReadMembers(r, s, allowEmpty: true);
        float lambda = ReadWeight(r);
        var calibration = ForecastCalibration.Read(r, s.Horizon);
        var summary = ForecastTrainingSummary.Read(r);
        var fit = new SeriesFit(season, baseline, scaler, [], 0f, summary.BaseCandidates, constant: false);
        return new ForecastModel(s, [fit], mean, scale, 0f, 1f) { Members = members, CorrectionWeight = lambda, Calibration = calibration, Summary = summary };
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
        var fit = new SeriesFit(SeasonalDecomposition.Identity, baseline, scaler, [], 0f, [], constant: false);
        return new ForecastModel(s, [fit], mean, scale, 0f, 1f)
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

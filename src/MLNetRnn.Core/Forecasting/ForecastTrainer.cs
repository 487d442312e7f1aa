using System.Globalization;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

// S = series, W = window, H = horizon, C = covariates, m = seasonal period, N = windows of all series,
// O = head outputs, K = ensemble members, Vb = windows per held-out block, E = windows λ and the bounds are fitted on.
// A window "at origin o" reads values o−W..o−1 and is followed by the H values o..o+H−1.

/// <summary>
/// Trains a <see cref="ForecastModel"/>: fits each series' season, base and scaling, trains the K members of the
/// cross-validated ensemble on the windows of every series (<see cref="SeriesFolds"/>), then fits the correction
/// weight λ (<see cref="CorrectionWeights"/>), the quantile heads (<see cref="QuantileHeadCalibration"/>) and the
/// conformal bounds on the windows each member held out (<see cref="HeldOutEvaluation"/>), and sums it all up.
/// </summary>
internal static class ForecastTrainer
{
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
        int S = panel.Count, W = s.WindowSize, H = s.Horizon, C = s.CovariateCount;
        bool single = S == 1;
        s.ValidateSeasonalPeriods();
        if (s.LearnedBaseCombination == true && s.Base != ForecastBase.Auto)
            throw new ArgumentException($"LearnedBaseCombination is true, but Base is {s.Base}: a combination is learned over the candidates the selection scores (Base = Auto).", nameof(s));
        s = s.WithDecoderSteps(S);
        var asked = s;
        s = s.WithSeasonalDilation();
        for (int i = 0; i < S; i++)
        {
            int n = panel.Values[i].Length, minimum = single ? s.MinimumLength : s.MinimumForecastLength;
            if (n < minimum)
                throw new ArgumentException(single
                    ? $"The series has {Counted.Of(n, "value")}; window {W} + horizon {H} needs at least {s.MinimumLength}."
                    : $"{panel.Name(i)} has {Counted.Of(n, "value")}; a forecast reads at least {minimum} (the window).", "values");
        }
        if (s.SeriesCategories != 0 && s.SeriesCategories != S)
            throw new ArgumentException($"SeriesCategories is {s.SeriesCategories}; the networks read the index of each of the panel's {S} series, or none (0).", nameof(s));
        var notes = new List<string>();
        if (!ReferenceEquals(s, asked))
            notes.Add(string.Format(CultureInfo.InvariantCulture,
                "The networks are two residual {0} layers of {1}, the second dilated by the season {2} (of {3}): the same point of earlier seasons is one recurrent step away (SeasonalDilation).",
                s.Cell, s.HiddenSizes[0], s.Dilations[1], string.Join(", ", s.CandidatePeriods.Where(p => p > 1))));

        if (s.HasDecoderSteps && s.FutureCovariateCount == 0)
            notes.Add(string.Format(CultureInfo.InvariantCulture,
                "The networks read the {0} window steps, then step through the {1} horizon steps on the base's forecast and give one correction at each (DecoderSteps).",
                W, H));

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
        // The networks learn the selection's errors; the model ships each series with the combined base (below).
        var combination = LearnBaseCombination(s, panel, fits, notes, ct);
        var shipped = fits;
        if (combination is not null)
        {
            shipped = new SeriesFit[S];
            ForEachSeries(S, s.MaximumDegreeOfParallelism, ct, i => shipped[i] = fits[i].WithCombination(combination, panel.Values[i], H));
        }
        int passedOver = fits.Count(f => f.BasesPassedOver > 0);
        if (passedOver > 0)
            notes.Add(single
                ? "The best-scored base forecast zero or below within the horizon on this positive series, so the next in the ranking that stays positive was taken."
                : string.Create(CultureInfo.InvariantCulture, $"On {Counted.Of(passedOver, "positive series", "positive series")} the best-scored base forecast zero or below within the horizon, so the next in the ranking that stays positive was taken."));
        var covariateScaling = FeatureStandardizer.Fit(panel.Covariates, C);
        var (covMean, covScale) = (covariateScaling.Mean, covariateScaling.Scale);
        var (scaleMean, scaleDeviation) = LogScaleStatistics(fits);
        var model = new ForecastModel(s, fits, covMean, covScale, scaleMean, scaleDeviation) { BaseCombination = combination };
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
            notes.Add(string.Format(CultureInfo.InvariantCulture, "{0} of {1} series {3} constant ({2}): their forecast is that constant, with zero-width bounds.",
                constants, S, string.Join(", ", Enumerable.Range(0, S).Where(i => fits[i].Constant).Take(5).Select(panel.Name)) + (constants > 5 ? ", …" : ""), constants == 1 ? "is" : "are"));
        if (K > 0 && !networks && !(single && fits[0].Constant))
            notes.Add(string.Format(CultureInfo.InvariantCulture, single
                ? "The series gives {0} of {1} + {2} values: too few to train and validate the networks (each needs at least {3} training windows besides its validation block), so the forecast is the base alone."
                : "The series give {0} of {1} + {2} values: too few to train and validate the networks (each needs at least {3} training windows besides its validation blocks), so the forecast is the base alone.",
                Counted.Of(N, "window"), W, H, ForecasterSettings.MinimumNetworkWindows));

        var summaries = Array.Empty<MemberTrainingSummary>();
        if (networks)
        {
            var sources = new (WindowSource Train, WindowSource Validation)[K];
            // The draws within a series take their own stream, apart from the trainer's shuffle of the member's seed.
            for (int k = 0; k < K; k++)
                sources[k] = (new PanelWindowSource(model, tracks, start, trainIndex[k], single ? 1 : s.SeriesWeightExponent, MemberSeed(s.Training.Seed, k) ^ 0x5EED),
                    new PanelWindowSource(model, tracks, start, SeriesFolds.EarlyStoppingWindows(folds, start, k, single ? 1 : s.SeriesWeightExponent)));
            // The decay and the budget were sized on single series; a panel's are sized for its series (see each), and
            // the notes say what the members were given.
            int memberWindows = trainIndex.Min(t => t.Length), seriesWithWindows = tracks.Count(t => t.Windows > 0);
            int budget = single ? 1 : PanelBudgetFactor(s, memberWindows);
            var training = MemberTraining(s, seriesWithWindows, budget);
            if (training.Optimizer.WeightDecay != s.Training.Optimizer.WeightDecay)
                notes.Add(string.Format(CultureInfo.InvariantCulture,
                    "The networks trained with weight decay {0:G3}: the {1:G3} of one series shared among the {2} series that gave windows.",
                    training.Optimizer.WeightDecay, s.Training.Optimizer.WeightDecay, seriesWithWindows));
            if (budget > 1)
                notes.Add(string.Format(CultureInfo.InvariantCulture,
                    "Each network had {0} times the budget of one series ({1} steps, {2} epochs, patience {3}): its {4} training windows are more than {5} steps of {6} cover.",
                    budget, training.MaximumSteps, training.Epochs, training.EarlyStoppingPatience?.ToString(CultureInfo.InvariantCulture) ?? "none",
                    memberWindows, s.MaximumSteps, s.Training.BatchSize));
            (model.Members, summaries, model.Diagnostics) = TrainMembers(s, training, sources, progress, ct);
        }
        // λ and the bounds, from the held-out forecasts (each window forecast by the members that did not train on
        // it) of every series, or of whole series taken evenly across a large panel. λ weighs the correction the
        // networks learned, against the selection's base; with a learned combination the model then ships the combined
        // base and half of each λ (WithShippedBases), and the quantile heads and bounds are fitted for that forecast.
        var scratch = ForecastRunner.CreateScratch(model);
        bool corrected = networks;
        HeldOutEvaluation? heldOut = null;
        if (networks)
        {
            heldOut = HeldOutEvaluation.Evaluate(model, tracks, folds, held: true, scratch, ct);
            corrected = CorrectionWeights.Fit(model, heldOut, tracks, folds, scratch, notes, ct);
        }
        else model.CorrectionWeight = 0f;
        if (combination is not null)
        {
            float whole = model.CorrectionWeight;
            // The mean is a hedge for networks that add little to a panel's short series. Only a backtest at an origin
            // the choice has not looked at decides against it: windows inside the training span flatter the networks'
            // forecast (early stopping chose the epoch on their neighbours, the selection chose each base on the last
            // ones), and a rule that read them went alone, wrongly, on three of M3's four panels (docs/accuracy.md, M3).
            var verdict = corrected ? CombinationBacktest.Judge(model, combination, panel, folds, ct) : default;
            if (verdict.NetworksAlone)
            {
                model.BaseCombination = null;
                notes.Add(string.Format(CultureInfo.InvariantCulture,
                    "The forecast is the networks' (each series' selected base with their correction, λ {0:0.###}), not its mean with the learned combination: {1}.",
                    whole, verdict));
            }
            else
            {
                (model, tracks) = WithShippedBases(model, shipped, tracks, panel, ct);
                scratch = ForecastRunner.CreateScratch(model);
                if (networks) heldOut = HeldOutEvaluation.Evaluate(model, tracks, folds, held: true, scratch, ct);
                if (corrected)
                    notes.Add(string.Format(CultureInfo.InvariantCulture,
                        "The forecast is the mean of the networks' (each series' selected base with their correction, λ {0:0.###}) and the learned combination: each base is the mean of the two bases, and λ is halved to {1:0.###} ({2}).",
                        whole, model.CorrectionWeight, verdict));
            }
        }
        fits = model.Series.ToArray();

        if (networks && s.QuantileCount > 0 && !s.Recursive)
            notes.Add(QuantileHeadCalibration.Calibrate(model, heldOut!, heldOut!.Forecasts(model, tracks, model.CorrectionWeight, scratch)));

        // Calibrate on windows the shipped model did not train on: the held-out windows with the members that held
        // them out, or every window when the shipped model is the base alone (the base is not trained on windows).
        var calibration = corrected ? heldOut! : HeldOutEvaluation.Evaluate(model, tracks, folds, held: false, scratch, ct);
        var forecast = calibration.Forecasts(model, tracks, corrected ? model.CorrectionWeight : 0f, scratch);
        int E = calibration.Count;
        var (residuals, shift) = calibration.Errors(fits, forecast, corrected, H);
        model.Calibration = new ForecastCalibration(ForecastCalibration.Kind.Pooled, residuals);
        if (model.Calibration.SampleSize == 0)
            notes.Add("No window was left to calibrate the bounds: they are NaN.");
        else if (s.ConfidenceLevel is float level && ForecastCalibration.ErrorsNeeded(level) > model.Calibration.SampleSize)
            notes.Add(string.Format(CultureInfo.InvariantCulture,
                "The {0:0.##}% bounds need at least {1} calibration errors and {2} were available, so they are extrapolated beyond the largest error with a normal tail (levels up to {3:0.##}% are read off the errors).",
                level * 100, ForecastCalibration.ErrorsNeeded(level), model.Calibration.SampleSize, model.Calibration.SupportedLevel * 100));

        bool choosesPeriod = s.CandidatePeriods.Count > 1;
        if (choosesPeriod)
            notes.Add(string.Format(CultureInfo.InvariantCulture, "Seasonal period chosen per series among {0}: {1}.", string.Join(", ", s.CandidatePeriods),
                string.Join(", ", s.CandidatePeriods.Select(p => string.Create(CultureInfo.InvariantCulture, $"m = {p} ({fits.Count(f => f.SeasonalPeriod == p)})")))));
        var seriesSummaries = Enumerable.Range(0, S).Select(i => new SeriesTrainingSummary(panel.Ids[i], BaseDescription(fits[i], choosesPeriod),
            fits[i].Season.Kind, fits[i].Scaler.Kind, tracks[i].Windows, fits[i].Constant)).ToArray();
        model.Summary = new ForecastTrainingSummary
        {
            Scaling = single ? fits[0].Scaler.Kind : MostCommon(fits.Select(f => f.Scaler.Kind)),
            SeasonalAdjustment = single ? fits[0].Season.Kind : MostCommon(fits.Select(f => f.Season.Kind)),
            // A learned combination weighs the candidates differently on every series: those count as one kind of base.
            Base = single ? seriesSummaries[0].Base : string.Join(", ", Enumerable.Range(0, S).GroupBy(i => fits[i].Baseline is { Weighted: true } ? "learned combination of the candidates" : seriesSummaries[i].Base)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
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

    /// <summary>
    /// The model a panel with a learned combination ships: each series' base the equal mean of the selection's and the
    /// combination's (<see cref="SeriesFit.WithCombination"/>), the networks' correction, learned against the selection's
    /// base, at half its λ (the model's and each series' own), and the tracks rebuilt on the new bases for the quantile
    /// heads and the bounds. The forecast is then, up to the window scaling, the equal mean of two forecasts: the
    /// networks' (the selection's base with its correction) and the panel's combination of the candidates. Why not train
    /// the networks against the combined base: so trained, they made M1's forecasts worse than that base alone (15.104
    /// against 14.912), and with their full λ on the combined base 15.013, while this mean scores 14.859
    /// (docs/accuracy.md; M4 hourly likewise, 9.222 / 0.847 against 9.014 / 0.816). A series whose windows would change (a combined base that reads a season more history than
    /// the window) keeps the selection's base and its whole λ, so the folds hold out the windows they held out in training.
    /// </summary>
    private static (ForecastModel Model, SeriesTrack[] Tracks) WithShippedBases(ForecastModel model, SeriesFit[] shipped, SeriesTrack[] tracks, SeriesPanel panel,
        CancellationToken ct)
    {
        var s = model.Settings;
        var fits = (SeriesFit[])shipped.Clone();
        var rebuilt = new SeriesTrack[fits.Length];
        ForEachSeries(fits.Length, s.MaximumDegreeOfParallelism, ct, i =>
        {
            if (ReferenceEquals(fits[i], model.Series[i])) { rebuilt[i] = tracks[i]; return; }
            rebuilt[i] = SeriesTrack.Build(s, fits[i], panel.Values[i], panel.Covariates[i]);
            if (rebuilt[i].Windows != tracks[i].Windows) (fits[i], rebuilt[i]) = (model.Series[i], tracks[i]);
        });
        // A series that kept the selection's base keeps its whole λ, also where it took the model's.
        for (int i = 0; i < fits.Length; i++)
            fits[i].CorrectionWeight = ReferenceEquals(fits[i], model.Series[i]) ? model.Series[i].CorrectionWeight ?? model.CorrectionWeight : model.Series[i].CorrectionWeight / 2;
        var shippedModel = new ForecastModel(s, fits, model.CovariateMean, model.CovariateScale, model.LogScaleMean, model.LogScaleDeviation)
        {
            Members = model.Members, Diagnostics = model.Diagnostics, BaseCombination = model.BaseCombination,
            CorrectionWeight = model.CorrectionWeight / 2,
        };
        return (shippedModel, rebuilt);
    }

    /// <summary>
    /// The combination of the candidate bases learned on the panel's training origins (<see cref="BaseCombination"/>),
    /// or null: where <see cref="ForecasterSettings.LearnedBaseCombination"/> is off (by default a single series, or a
    /// panel with covariates), the
    /// base is not chosen by the selection, or the series give fewer than <see cref="BaseCombination.MinimumOrigins"/>
    /// origins (the notes say so). At most <see cref="BaseCombination.MaximumSeries"/> series, taken evenly, give origins.
    /// </summary>
    private static BaseCombination? LearnBaseCombination(ForecasterSettings s, SeriesPanel panel, SeriesFit[] fits, List<string> notes, CancellationToken ct)
    {
        int S = panel.Count;
        // By default only where the networks see nothing the bases cannot: with covariates (known-future promotions,
        // calendar features) their forecast carries information the bases lack, and the mean would give half of it away.
        if (s.Base != ForecastBase.Auto || !(s.LearnedBaseCombination ?? (S > 1 && s.CovariateCount == 0))) return null;
        var taken = Enumerable.Range(0, S).Where(i => !fits[i].Constant && fits[i].Ranked is not null).ToArray();
        if (taken.Length > BaseCombination.MaximumSeries)
            taken = Enumerable.Range(0, BaseCombination.MaximumSeries).Select(j => taken[(int)((long)j * taken.Length / BaseCombination.MaximumSeries)]).ToArray();
        var origins = new List<BaseCombination.Origin>[taken.Length];
        ForEachSeries(taken.Length, s.MaximumDegreeOfParallelism, ct, j =>
        {
            var fit = fits[taken[j]];
            origins[j] = BaseCombination.Origins(panel.Values[taken[j]], fit.SeasonalPeriod, s.Horizon, s.SeasonalAdjustment, fit.NestedIn, BaselineSelection.MaxOrigins);
        });
        var all = origins.SelectMany(o => o).ToArray();
        var combination = BaseCombination.Learn(all);
        notes.Add(combination is null
            ? string.Format(CultureInfo.InvariantCulture,
                "Each series' base is its best-scored candidate: the series gave {0} to learn a combination of the candidates from, and it needs {1}.",
                Counted.Of(all.Length, "training origin"), BaseCombination.MinimumOrigins)
            : string.Format(CultureInfo.InvariantCulture,
                "Each series' base combines the candidates with weights learned on {0} of {1}: softmax(a − {2:0.00}·ln score), a = {3}.",
                Counted.Of(all.Length, "training origin"), Counted.Of(taken.Length, "series", "series"), combination.Sharpness,
                string.Join(", ", BaselineSelection.DefaultCandidates.Select((c, k) => string.Create(CultureInfo.InvariantCulture,
                    $"{string.Join("+", c)} {combination.Bias[k]:0.00}")))));
        return combination;
    }

    // With candidate periods a series' base says which period it took, also where its description would not (a
    // seasonal naive base, or no seasonal adjustment); with one period the description is as it always was.
    private static string BaseDescription(SeriesFit fit, bool choosesPeriod)
    {
        string description = fit.Baseline?.Description ?? "none";
        return choosesPeriod && !description.Contains("(m = ", StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"{description} (m = {fit.SeasonalPeriod})") : description;
    }

    private static T MostCommon<T>(IEnumerable<T> values) where T : notnull => values.GroupBy(v => v).OrderByDescending(g => g.Count()).First().Key;

    /// <summary>Runs <paramref name="body"/> for every series, in parallel on a panel; a single series runs on the
    /// caller's thread. The first exception is rethrown as it was (not wrapped).</summary>
    internal static void ForEachSeries(int count, int parallelism, CancellationToken ct, Action<int> body)
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
    /// The weight decay the members train with: the settings' on one series, divided by the number of series that give
    /// training windows on a panel. Decay is a prior that the base is right (the head starts at zero, so decay pulls
    /// the correction back to the base unless the data keep pushing it away); its strength was chosen on single
    /// series, and a panel of S series holds S series' evidence against it. Kept whole on a panel, it held the global
    /// networks of M4 Hourly's 414 series to sMAPE 9.474 where no decay gives 9.278 (docs/accuracy.md).
    /// </summary>
    internal static float MemberWeightDecay(ForecasterSettings s, int seriesWithWindows)
        => s.Training.Optimizer.WeightDecay / Math.Max(1, seriesWithWindows);

    /// <summary>
    /// How many times the single-series budget (<see cref="ForecasterSettings.MaximumSteps"/>, the epochs and the
    /// early-stopping patience) a panel's members get: as many as their training windows fill budgets of
    /// MaximumSteps × BatchSize, at most <see cref="ForecasterSettings.MaximumPanelBudgetFactor"/>. The budget was
    /// sized on single series of a few thousand windows at most; a global model of hundreds of series stops with most
    /// of its windows never drawn (M4 Hourly: 2,000 steps of 16 out of 211,000 windows).
    /// </summary>
    internal static int PanelBudgetFactor(ForecasterSettings s, int trainingWindows)
        => (int)Math.Clamp(trainingWindows / ((long)s.MaximumSteps * s.Training.BatchSize), 1, ForecasterSettings.MaximumPanelBudgetFactor);

    /// <summary>What every member trains with but its seed: the settings' training, over windows (the folds hold out
    /// validation), with a panel's decay (<see cref="MemberWeightDecay"/>) and <paramref name="budget"/> times the steps,
    /// epochs and patience (<see cref="PanelBudgetFactor"/>).</summary>
    private static TrainingOptions MemberTraining(ForecasterSettings s, int seriesWithWindows, int budget) => s.MemberTraining with
    {
        Optimizer = s.MemberTraining.Optimizer with { WeightDecay = MemberWeightDecay(s, seriesWithWindows) },
        Epochs = s.Training.Epochs * budget, EarlyStoppingPatience = s.Training.EarlyStoppingPatience * budget,
        MaximumSteps = (int)Math.Min(int.MaxValue, (long)s.MaximumSteps * budget),
        ValidationFraction = 0, SamplesPerEpoch = s.WindowsPerEpoch, TimeLimit = s.TimeLimit,
        KeepInitialWeightsIfBest = s.ZeroHeadInitialization && s.Base != ForecastBase.None,
    };

    /// <summary>Trains member k on its training and validation windows, in parallel where cores allow. Each member
    /// depends only on its own seed and windows, so the result is the same on any number of threads.</summary>
    private static (RecurrentNetwork[] Members, MemberTrainingSummary[] Summaries, TrainingDiagnostics[] Diagnostics) TrainMembers(ForecasterSettings s,
        TrainingOptions memberTraining, (WindowSource Train, WindowSource Validation)[] folds, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        int K = folds.Length;
        var members = new RecurrentNetwork[K];
        var summaries = new MemberTrainingSummary[K];
        var diagnostics = new TrainingDiagnostics[K];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, s.MaximumDegreeOfParallelism), CancellationToken = ct };
        var reporting = new object();
        Parallel.For(0, K, options, k =>
        {
            int seed = MemberSeed(s.Training.Seed, k);
            var training = memberTraining with { Seed = seed };
            var net = new RecurrentNetwork(s.NetworkSpec, seed);
            var recorder = new TrainingRecorder(net, training, PhaseProgress.Wrap(progress, $"member {k + 1} of {K}", reporting));
            var report = new RecurrentTrainer(net, training).FitWindows(folds[k].Train, folds[k].Validation, recorder, ct);
            members[k] = net;
            summaries[k] = MemberTrainingSummary.From(seed, report);
            diagnostics[k] = recorder.Finish(report);
        });
        return (members, summaries, diagnostics);
    }

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

    /// <summary>Mean and standard deviation of the series' log scales (1 when they do not vary).</summary>
    private static (float Mean, float Deviation) LogScaleStatistics(IReadOnlyList<SeriesFit> fits)
    {
        double mean = fits.Average(f => (double)f.LogScale);
        double variance = fits.Sum(f => (f.LogScale - mean) * (f.LogScale - mean)) / Math.Max(1, fits.Count - 1);
        double sd = Math.Sqrt(variance);
        return ((float)mean, sd > 1e-6 ? (float)sd : 1f);
    }
}

/// <summary>Names the phase of a multi-run fit in each progress report it passes on, one report at a time: the runs
/// of a fit share <paramref name="gate"/>, so the caller's <see cref="IProgress{T}"/> (a list, a progress bar) need
/// not be thread-safe while members train in parallel.</summary>
internal sealed class PhaseProgress(IProgress<TrainingProgress> inner, string phase, object gate) : IProgress<TrainingProgress>
{
    public static IProgress<TrainingProgress>? Wrap(IProgress<TrainingProgress>? inner, string phase, object gate)
        => inner is null ? null : new PhaseProgress(inner, phase, gate);

    public void Report(TrainingProgress value)
    {
        lock (gate) inner.Report(value with { Phase = phase });
    }
}

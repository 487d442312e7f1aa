using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn;

/// <summary>How a multi-step forecast is produced.</summary>
public enum ForecastingStrategy
{
    /// <summary>One head outputs all horizon steps at once (the default): no error feedback between steps.</summary>
    Direct,

    /// <summary>A one-step head applied horizon times, each forecast fed back as the newest value.
    /// Cannot be combined with covariates, whose future values are unknown, nor with quantile heads.</summary>
    Recursive,
}

/// <summary>
/// Options of <see cref="RnnForecastingEstimator"/>, the recurrent counterpart of ML.NET's <c>ForecastBySsa</c>.
/// Every default is in <see cref="Defaults"/>; the training defaults come from
/// <see cref="ForecastingDefaults"/>, chosen on the 21 series of the accuracy protocol (docs/accuracy.md).
/// </summary>
/// <remarks>
/// The network, training and validation options are <see cref="RnnOptionsBase"/>'s, shared with window mode. In series
/// mode they apply to each network of the ensemble (<see cref="EnsembleSize"/>): <see cref="RnnOptionsBase.MaximumSteps"/>
/// is per network, <see cref="RnnOptionsBase.TruncationLength"/> is at most <see cref="WindowSize"/>, and the windows held
/// out by <see cref="RnnOptionsBase.ValidationFraction"/> also fit the damping λ and calibrate the bounds; a fraction of
/// 0 turns the networks off (the base alone is kept, its bounds calibrated on every window).
/// <para>
/// The training budget and <see cref="WeightDecay"/> are sized for one series. With <see cref="SeriesIdColumnName"/> set
/// (one model for many series), the decay is divided by the number of series that give training windows, and a
/// network whose training windows outnumber <see cref="RnnOptionsBase.MaximumSteps"/> × <see cref="RnnOptionsBase.BatchSize"/>
/// gets that many times the steps, epochs and <see cref="EarlyStoppingPatience"/>, at most three; the summary's notes
/// say what was used.
/// </para>
/// </remarks>
public sealed class RnnForecastingOptions : RnnOptionsBase
{
    /// <summary>Default values, in one place: the catalog's optional arguments use the same constants.</summary>
    public static class Defaults
    {
        /// <summary>Seasonal period: 0, detected from the data and the dates (1 would mean no season).</summary>
        public const int SeasonalPeriod = 0;

        /// <summary>Confidence level of the bounds.</summary>
        public const float ConfidenceLevel = 0.95f;

        /// <summary>Cell of every layer.</summary>
        public const RecurrentCellKind Cell = ForecastingDefaults.Cell;

        /// <summary>Hidden units of the single default layer.</summary>
        public const int HiddenSize = ForecastingDefaults.HiddenSize;

        /// <summary>Networks trained from different seeds and averaged.</summary>
        public const int EnsembleSize = ForecastingDefaults.EnsembleSize;

        /// <summary>Feed a panel's networks each series' scale. On by default, as DeepAR and the other global
        /// forecasters of GluonTS feed log(scale) to every step; chosen on the protocol's nine monthly series fitted
        /// together (9.9% → 7.7% worse than fitting them alone, docs/benchmarks.md). No effect on a single series.</summary>
        public const bool SeriesScaleFeature = true;

        /// <summary>The largest panel whose networks read the series ids when <see cref="SeriesIdFeature"/> is null. Chosen
        /// on the synthetic retail panel (docs/benchmarks.md): the ids lowered mean MASE by 3.2% on 1,000 products (fit
        /// 82 → 103 s) and by 3.4% on 5,000 (61 → 112 s). Each step's optimiser still updates every series' weights, so
        /// the cost grows with the panel: 10,000 series × 200 points fit in 197 s with them (108 s without), inside the
        /// 5-minute budget of issue 10; beyond that it would not be.</summary>
        public const int SeriesIdFeatureMaximumSeries = 10_000;

        /// <summary>How often a panel's training draws each series.</summary>
        public const SeriesWeighting SeriesWeighting = ForecastingDefaults.SeriesWeighting;

        /// <summary>Training loss.</summary>
        public const LossKind Loss = ForecastingDefaults.Loss;

        /// <summary>Maximum epochs.</summary>
        public const int Epochs = ForecastingDefaults.Epochs;

        /// <summary>Windows per mini-batch.</summary>
        public const int BatchSize = ForecastingDefaults.BatchSize;

        /// <summary>Windows sampled per epoch.</summary>
        public const int WindowsPerEpoch = ForecastingDefaults.WindowsPerEpoch;

        /// <summary>Optimiser steps per network, at most.</summary>
        public const int MaximumSteps = ForecastingDefaults.MaximumSteps;

        /// <summary>Optimiser.</summary>
        public const OptimizerKind Optimizer = ForecastingDefaults.Optimizer;

        /// <summary>Weight decay.</summary>
        public const float WeightDecay = ForecastingDefaults.WeightDecay;

        /// <summary>Adam's learning rate.</summary>
        public const float LearningRate = ForecastingDefaults.LearningRate;

        /// <summary>Global-norm clipping threshold.</summary>
        public const float GradientClippingThreshold = ForecastingDefaults.GradientClippingThreshold;

        /// <summary>Fraction of windows, from the end, held out for validation.</summary>
        public const float ValidationFraction = ForecastingDefaults.ValidationFraction;

        /// <summary>Epochs without a better validation loss before training stops.</summary>
        public const int EarlyStoppingPatience = ForecastingDefaults.EarlyStoppingPatience;
    }

    /// <summary>Name of the output column: a vector of <see cref="Horizon"/> forecasts. Required.</summary>
    public string OutputColumnName { get; set; } = null!;

    /// <summary>Name of the input column: the series, <see cref="float"/>, rows in time order. Required.</summary>
    public string InputColumnName { get; set; } = null!;

    /// <summary>Past values the networks read (W), at least 1. Seasons are removed before the networks see a
    /// window, so it need not cover one: about two horizons is a good start, capped at a quarter of the series.
    /// Required.</summary>
    public int WindowSize { get; set; }

    /// <summary>Steps forecast from each row (H), at least 1. Required.</summary>
    public int Horizon { get; set; }

    /// <summary>Names of covariate columns: known numeric features per row (<see cref="float"/>), fed to the
    /// network beside the series at each step of the window. Default: none.</summary>
    public string[] CovariateColumnNames { get; set; } = [];

    /// <summary>Name of the series id column (text, a key type, or an integer type: its digits are the id), or
    /// <see langword="null"/> when the data is one series. With an id, rows are grouped by it (in row order within each
    /// id; ids may interleave), series may have different lengths and start dates, and one ensemble is trained on the
    /// windows of all of them, each series keeping its own season, base, scaling and state. Default: null.</summary>
    public string? SeriesIdColumnName { get; set; }

    /// <summary>Name of a <see cref="DateTime"/> column, or <see langword="null"/> for none. With a date column every
    /// series must advance one time step per row (the step is inferred from the training data: a duration, or whole
    /// calendar months); a gap is an error unless <see cref="GapFilling"/> fills it; and the calendar features of
    /// <see cref="CalendarFeatures"/> are fed to the networks. Default: null.</summary>
    public string? DateColumnName { get; set; }

    /// <summary>Calendar features derived from <see cref="DateColumnName"/>, each as a sine/cosine pair, fed to the
    /// networks at every step of the window (the horizon's calendar follows from the window's, so it needs no input of
    /// its own). <see langword="null"/> chooses by the time step: hour and day of week for hourly data; day of week,
    /// day of month and month for daily data; month for weekly to quarterly data; none for yearly data. Default: null.</summary>
    public CalendarFeatures? CalendarFeatures { get; set; }

    /// <summary>What to do when a series skips time steps (needs <see cref="DateColumnName"/>). Default:
    /// <see cref="MLNetRnn.GapFilling.None"/>: the data is refused with an error that names the series and the row.</summary>
    public GapFilling GapFilling { get; set; }

    /// <summary>Names of covariate columns (<see cref="float"/>) whose values are known in advance (promotions,
    /// prices, planned events): fed to the networks for the window like any covariate, and also for the H forecast
    /// steps, which the forecast then needs (the engine's <c>Predict</c> takes them; <c>Transform</c> reads them from the
    /// next rows). List a column here or in <see cref="CovariateColumnNames"/>, not both. Default: none.</summary>
    public string[] KnownFutureColumnNames { get; set; } = [];

    /// <summary>Name of a holiday flag column (<see cref="float"/> or <see cref="bool"/>), or <see langword="null"/>:
    /// a known-future covariate like those of <see cref="KnownFutureColumnNames"/>. Default: null.</summary>
    public string? HolidayColumnName { get; set; }

    /// <summary>Names of static feature columns: constant within each series (needs <see cref="SeriesIdColumnName"/>).
    /// A text, key or integer column is one-hot over the categories seen in training (which amounts to a learned embedding in the
    /// networks' input weights), given to the networks by index, so a column of thousands of categories costs one weight
    /// column per step; a <see cref="float"/> or <see cref="bool"/> column is standardised over the series. The series id
    /// column itself may be one (then <see cref="SeriesIdFeature"/> does not add it again). Default: none.</summary>
    public string[] StaticFeatureColumnNames { get; set; } = [];

    /// <summary>Feed the networks each series' size, ln(1 + mean |x|) standardised over the series, at every step.
    /// Windows are scaled by their own level, so without it the networks cannot tell a series of 10 from one of 10⁶.
    /// Applies to panels of two or more series (<see cref="SeriesIdColumnName"/> set): a single series' scale would be
    /// a constant input.
    /// Default: <see cref="Defaults.SeriesScaleFeature"/> (true).</summary>
    public bool SeriesScaleFeature { get; set; } = Defaults.SeriesScaleFeature;

    /// <summary>Give the networks each series' id: one-hot over the ids seen in training, which is a learned input offset
    /// per series, so the shared networks can learn what sets each series apart (a series first seen after training
    /// gets none). The networks read it by index (<see cref="MLNetRnn.Core.Network.RecurrentNetworkSpec.InputCategories"/>):
    /// one weight column per step, however many series. <see langword="null"/> (the default): on for panels of 2 to
    /// <see cref="Defaults.SeriesIdFeatureMaximumSeries"/> (10,000) series. On the panels measured (the accuracy protocol's nine
    /// monthly series, synthetic retail panels of 30 to 5,000 products) it lowered mean MASE by 3–6%
    /// (docs/benchmarks.md). Needs <see cref="SeriesIdColumnName"/>.</summary>
    public bool? SeriesIdFeature { get; set; }

    /// <summary>How often a panel's training draws each series: in proportion to its windows, to their square root,
    /// or every series alike (<see cref="MLNetRnn.Core.Forecasting.SeriesWeighting"/>). No effect on a single series.
    /// Default: <see cref="Defaults.SeriesWeighting"/>.</summary>
    public SeriesWeighting SeriesWeighting { get; set; } = Defaults.SeriesWeighting;

    /// <summary>Quantile levels, each in (0, 1), for quantile heads trained with the pinball loss (replacing
    /// <see cref="Loss"/>); 0.5 is always added, and the median head gives the forecast. After training, the heads'
    /// spread around the median is calibrated on the held-out windows so that the lowest and highest cover their
    /// levels there. Empty: no quantile heads. Default: none.</summary>
    public float[] Quantiles { get; set; } = [];

    /// <summary>Name of an output column with the quantiles of every step (a vector of Horizon × Q values, step-major,
    /// levels ascending), or <see langword="null"/> for none. Needs <see cref="Quantiles"/>. Default: null.</summary>
    public string? QuantilesColumnName { get; set; }

    /// <summary>Where the bound columns and the engine's bounds come from: split-conformal on held-out windows, or the
    /// quantile heads (needs <see cref="Quantiles"/>; a level between two trained levels is interpolated, one beyond them
    /// extrapolated with a normal tail). A series too short for the networks is forecast by its base alone, which has no
    /// heads: its bounds are conformal either way, and the training summary says it is the base alone.
    /// Default: <see cref="ForecastIntervalMethod.Conformal"/>.</summary>
    public ForecastIntervalMethod IntervalMethod { get; set; } = ForecastIntervalMethod.Conformal;

    /// <summary>Name of the lower-bound vector column, or <see langword="null"/> for none. Default: null.</summary>
    public string? ConfidenceLowerBoundColumn { get; set; }

    /// <summary>Name of the upper-bound vector column, or <see langword="null"/> for none. Default: null.</summary>
    public string? ConfidenceUpperBoundColumn { get; set; }

    /// <summary>Coverage the bounds aim at, in (0, 1). The bounds are split-conformal per horizon step, from
    /// validation windows the networks did not train on. Default: 0.95.</summary>
    public float ConfidenceLevel { get; set; } = Defaults.ConfidenceLevel;

    /// <summary>Seasonal period m (12 for monthly data with a yearly season); 1 means no season; 0 (the default) detects it.
    /// Used by the seasonal adjustment, by seasonal naive, and by the MASE of the base selection.
    /// </summary>
    /// <remarks>
    /// With 0 and no <see cref="SeasonalPeriods"/>, <see cref="RnnForecastingEstimator.Fit"/> detects the periods on the
    /// training data (<see cref="SeasonalPeriodDetector"/>): the calendar of the date column's frequency when
    /// <see cref="DateColumnName"/> is set (hourly 24 and 168, daily 7 and 365, weekly 52, monthly 12, quarterly 4), and the
    /// data's own autocorrelation peak, each tested with the lag-m autocorrelation test of R's forecast package and the M4
    /// benchmarks. None passing gives m = 1; one gives that period, exactly as if it had been set; several become
    /// candidates each series chooses among, as with <see cref="SeasonalPeriods"/>. The training summary
    /// (<see cref="ForecastTrainingSummary.SeasonalPeriodDetection"/>, <see cref="ForecastTrainingSummary.SeasonalPeriods"/>) and
    /// <see cref="Microsoft.ML.MLContext.Log"/> say what was detected, from what, and what was used; the saved model keeps the
    /// periods used. A period set here is used as it is, and a significant season it leaves out (m = 1 on monthly data with a
    /// yearly season) is reported as a warning, in the summary's notes and the log. Default: 0.
    /// </remarks>
    public int SeasonalPeriod { get; set; } = Defaults.SeasonalPeriod;

    /// <summary>Candidate seasonal periods; each series takes the one its own training data supports best; default:
    /// only <see cref="SeasonalPeriod"/> (or those detected when it is 0). The rolling-origin evaluation that chooses the base
    /// scores every candidate period with every base on the series' training data, and the best pair wins; the series'
    /// seasonal adjustment, seasonal naive, seasonal features and window scaling then use its period (the training summary
    /// shows it). Each at least 1; a nonzero <see cref="SeasonalPeriod"/> must be among them (e.g. SeasonalPeriod = 24 with
    /// { 24, 168 } for hourly data with daily and weekly seasons; with SeasonalPeriod 0 the list alone is used, and the
    /// model records its first as its period). Default: empty.</summary>
    public int[] SeasonalPeriods { get; set; } = [];

    /// <summary>How the season is removed before the base's smoothing and the networks. Default:
    /// <see cref="SeasonalAdjustment.Auto"/>: only when the lag-m autocorrelation test finds a season, multiplicative
    /// for positive series, additive otherwise.</summary>
    public SeasonalAdjustment SeasonalAdjustment { get; set; } = ForecastingDefaults.SeasonalAdjustment;

    /// <summary>Local scaling of each window. Default: <see cref="SeriesScaling.Auto"/> (log ratio to the window's
    /// level for positive series, scaled difference otherwise).</summary>
    public SeriesScaling Scaling { get; set; } = ForecastingDefaults.Scaling;

    /// <summary>The statistical forecast the networks learn to correct. Default: <see cref="ForecastBase.Auto"/>,
    /// chosen per series on the training data; <see cref="ForecastBase.None"/> asks for a plain recurrent forecast.</summary>
    public ForecastBase Base { get; set; } = ForecastingDefaults.Base;

    /// <summary>Start every network's head at zero, so that training starts from "no correction" (the base itself).
    /// Default: true.</summary>
    public bool ZeroHeadInitialization { get; set; } = ForecastingDefaults.ZeroHeadInitialization;

    /// <summary>Damp the networks' correction by the weight λ in [0, 1] that fits the validation windows best, so
    /// a correction that does not help on held-out windows fades out (λ = 0 leaves the base). Needs a base and
    /// validation windows. Default: true.</summary>
    public bool CorrectionDamping { get; set; } = ForecastingDefaults.CorrectionDamping;

    /// <summary>Direct (one head for all steps) or recursive. Default: <see cref="ForecastingStrategy.Direct"/>.</summary>
    public ForecastingStrategy Strategy { get; set; } = ForecastingStrategy.Direct;

    /// <summary>Add sin/cos of the position within the season to the inputs (position counted from the first row of
    /// the training data and of each transformed data view). Default: false.</summary>
    public bool SeasonalFeatures { get; set; }

    /// <summary>Nonlinearity of Elman cells. Default: tanh.</summary>
    public ElmanActivation Activation { get; set; } = ForecastingDefaults.Activation;

    /// <summary>Networks trained from different seeds and averaged, at least 0 (0 = the base alone). Each holds out
    /// its own block of the series for validation (the last block, then earlier ones), so λ and the bounds are
    /// judged on several stretches of the series. They train in parallel on the machine's cores; the result does
    /// not depend on how many. Default: 5.</summary>
    public int EnsembleSize { get; set; } = Defaults.EnsembleSize;

    /// <summary>Windows sampled per epoch, at least 1 (all of them when the series has fewer), so an epoch costs the
    /// same on a short or a long series. Default: 256.</summary>
    public int WindowsPerEpoch { get; set; } = Defaults.WindowsPerEpoch;

    /// <summary>A wall-clock limit per network, or <see langword="null"/> for none. With a limit, the model depends
    /// on the machine's speed, not only on the seed. Default: null.</summary>
    public TimeSpan? TimeLimit { get; set; }

    /// <summary>Training loss of the networks. Default: <see cref="LossKind.Huber"/> (δ = 1 network unit, about one
    /// typical step of the series).</summary>
    public LossKind Loss { get; set; } = Defaults.Loss;

    /// <summary>Optimiser. Default: <see cref="OptimizerKind.AdamW"/> (Adam with decoupled weight decay).</summary>
    public OptimizerKind Optimizer { get; set; } = Defaults.Optimizer;

    /// <summary>Weight decay, ≥ 0 (decoupled with <see cref="OptimizerKind.AdamW"/>, an L2 penalty otherwise). With the
    /// head starting at zero, decay pulls the networks' correction towards the base. It is the prior of one series: with
    /// <see cref="SeriesIdColumnName"/> set, the networks train with it divided by the number of series that give
    /// training windows (the summary's notes say so), since a panel of S series holds S series' evidence against it.
    /// Default: 0.5.</summary>
    public float WeightDecay { get; set; } = Defaults.WeightDecay;

    /// <summary>Networks for nested seasons, as ES-RNN stacks them: two residual layers of the size in
    /// <see cref="RnnOptionsBase.HiddenSizes"/>, the second dilated by a seasonal period, so that the same hour
    /// of earlier days is one recurrent step away instead of 24. <see langword="null"/> (the default): on when the seasons
    /// nest, a candidate period being a multiple of a shorter one above 1 (<see cref="SeasonalPeriods"/>, or those
    /// detected: hourly data's 24 and 168, not daily data's 7 and 365), dilated by the shorter, when
    /// <see cref="RnnOptionsBase.HiddenSizes"/> has one layer, <see cref="RnnOptionsBase.Dilations"/> is empty and the
    /// window holds at least two of that period; <see langword="true"/>: also without nesting, by the shortest period above
    /// 1 (an <see cref="ArgumentException"/> at Fit when the other conditions fail); <see langword="false"/>: never. The summary's
    /// notes say when it applied. A model with it cannot be exported to ONNX (residual layers); set false for one that can.
    /// Chosen on M4 hourly (docs/accuracy.md: sMAPE 9.250 → 9.217, MASE 0.820 → 0.803, at twice the training time).</summary>
    public bool? SeasonalDilation { get; set; }

    /// <summary>A combination of the candidate bases learned across the series: each series' candidates weighted by
    /// softmax(a − β·ln score) of their own rolling-origin scores, with a (one number per candidate) and β learned on the
    /// training values of all series, where without it each series takes its best-scored candidate alone. At up to
    /// eight origins of each series (of at most 250 series, taken evenly), every candidate is refitted on the values
    /// before the origin and scored by the selection run on those alone, and a and β minimise the combination's scaled
    /// absolute error on the values after it. The networks still learn the errors of each series' selected base; the
    /// model forecasts the mean of their forecast and the combination (each series' base is the mean of its selection
    /// and the combination, and the correction weight λ is halved), unless a backtest shows the networks' forecast
    /// clearly better alone (a paired t above 2 over up to 250 series, each cut before its last
    /// <see cref="Horizon"/> values, its base chosen again on the cut and both forecasts made by the member that held its
    /// last block out; the summary's notes give the evidence). Where the networks earn much more than the bases (long
    /// series with strong seasons, as M4 hourly's, where the backtest leans to them but not clearly: t = 1.22),
    /// <see langword="false"/> keeps their whole forecast: there 8.572 / 0.774 sMAPE / MASE against the mean's 8.543 /
    /// 0.804; on short series (M1, M3) the mean is better (docs/accuracy.md). <see langword="null"/> (the default): on with
    /// <see cref="SeriesIdColumnName"/> when <see cref="Base"/> is Auto and the model has no covariates (no
    /// <see cref="CovariateColumnNames"/>, <see cref="KnownFutureColumnNames"/> or calendar features: with them the
    /// networks' forecast carries what the bases cannot see, and the mean would give half of it away; on the retail
    /// panel with promotions known in advance MASE went from 0.437 to 0.597), off for a single series (whose eight origins
    /// cannot learn nine numbers); <see langword="true"/>: on whenever there are enough origins (an
    /// <see cref="ArgumentException"/> when <see cref="Base"/> is not Auto); <see langword="false"/>: never. Learned only
    /// from at least 90 training origins, which a single series, at eight at most, never gives; the summary's notes say
    /// what was learned, or why not. A model with it is saved in transformer format
    /// 10. Chosen on M1 and M4 hourly (docs/accuracy.md: M1's global model 15.426 → 14.859 sMAPE, ahead of R's ets,
    /// auto.arima and thetaf on every frequency).</summary>
    public bool? LearnedBaseCombination { get; set; }

    /// <summary>Networks that step through the horizon: after the window they read one more step per forecast step, each
    /// carrying the base's forecast of that step, and give that step's correction there, where without it one output
    /// layer reads all <see cref="Horizon"/> corrections off the window's last step. Models with
    /// <see cref="KnownFutureColumnNames"/> always step through the horizon, each step with its known values; this
    /// option gives the same steps to models without them. <see langword="null"/> (the default): on with
    /// <see cref="SeriesIdColumnName"/> when the model has no covariates (no <see cref="CovariateColumnNames"/>,
    /// <see cref="KnownFutureColumnNames"/> or calendar features), <see cref="EnsembleSize"/> is above 0 and the strategy
    /// is Direct; off for a single series (on the 21-series protocol they cost rank 3.00 → 3.33, docs/design/collections.md).
    /// <see langword="true"/>: on (an <see cref="ArgumentException"/> with
    /// <see cref="ForecastingStrategy.Recursive"/>, whose one-step head has no horizon steps); <see langword="false"/>:
    /// never. The windows grow from <see cref="WindowSize"/> to <see cref="WindowSize"/> + <see cref="Horizon"/> steps, so
    /// training costs more (the 10,000-series panel of docs/benchmarks.md: 174–178 s → 192 s). A model with it is saved in
    /// transformer format 11 and cannot be exported to ONNX. Chosen on M1 and M4 hourly (docs/accuracy.md: M4's global
    /// model 9.014 / 0.816 → 8.543 / 0.804 sMAPE / MASE, and 8.572 / 0.774 with <see cref="LearnedBaseCombination"/>
    /// false; M1 unchanged by the steps).</summary>
    public bool? DecoderSteps { get; set; }

    /// <summary>Decay of a moving average of the networks' weights, in (0, 1), or <see langword="null"/> for none: early
    /// stopping judges, and the model keeps, the average of the weights over the last ≈ 1/(1 − d) steps instead of the
    /// last step's (see <see cref="TrainingOptions.WeightAveraging"/>). Default: null.</summary>
    public float? WeightAveraging { get; set; }

    /// <summary>How the threshold is applied. Default: <see cref="GradientClippingMode.GlobalNorm"/>.</summary>
    public GradientClippingMode GradientClipping { get; set; } = GradientClippingMode.GlobalNorm;

    /// <summary>Epochs without a lower validation loss before training stops (best weights are restored), at
    /// least 1. Default: 20.</summary>
    public int EarlyStoppingPatience { get; set; } = Defaults.EarlyStoppingPatience;

    /// <summary>Throws, naming the option, if a value is out of range or options contradict each other.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName is required.", nameof(OutputColumnName));
        if (LearnedBaseCombination == true && Base != ForecastBase.Auto)
            throw new ArgumentException($"LearnedBaseCombination is true, but Base is {Base}: a combination is learned over the candidates the selection scores (Base = Auto).", nameof(LearnedBaseCombination));
        if (DecoderSteps == true && Strategy == ForecastingStrategy.Recursive)
            throw new ArgumentException("DecoderSteps is true, but Strategy is Recursive: its one-step head reads no horizon steps. Use ForecastingStrategy.Direct.", nameof(DecoderSteps));
        if (string.IsNullOrWhiteSpace(InputColumnName)) throw new ArgumentException("InputColumnName is required.", nameof(InputColumnName));
        if (WindowSize < 1) throw new ArgumentOutOfRangeException(nameof(WindowSize), WindowSize, $"WindowSize must be at least 1; got {WindowSize}.");
        if (Horizon < 1) throw new ArgumentOutOfRangeException(nameof(Horizon), Horizon, $"Horizon must be at least 1; got {Horizon}.");
        if (SeasonalPeriod < 0) throw new ArgumentOutOfRangeException(nameof(SeasonalPeriod), SeasonalPeriod, $"SeasonalPeriod must be 0 (detect it) or at least 1; got {SeasonalPeriod}.");
        if (SeasonalPeriods is null) throw new ArgumentNullException(nameof(SeasonalPeriods));
        foreach (int p in SeasonalPeriods)
            if (p < 1) throw new ArgumentOutOfRangeException(nameof(SeasonalPeriods), p, $"SeasonalPeriods must each be at least 1; got {p}.");
        if (SeasonalPeriods.Length > 0 && SeasonalPeriod != 0 && Array.IndexOf(SeasonalPeriods, SeasonalPeriod) < 0)
            throw new ArgumentException($"SeasonalPeriods ({string.Join(", ", SeasonalPeriods)}) must contain SeasonalPeriod ({SeasonalPeriod}).", nameof(SeasonalPeriods));
        if (!(ConfidenceLevel > 0f && ConfidenceLevel < 1f))
            throw new ArgumentOutOfRangeException(nameof(ConfidenceLevel), ConfidenceLevel, $"ConfidenceLevel must be in (0, 1); got {ConfidenceLevel}.");
        if (CovariateColumnNames is null) throw new ArgumentNullException(nameof(CovariateColumnNames));
        if (KnownFutureColumnNames is null) throw new ArgumentNullException(nameof(KnownFutureColumnNames));
        if (StaticFeatureColumnNames is null) throw new ArgumentNullException(nameof(StaticFeatureColumnNames));
        if (Quantiles is null) throw new ArgumentNullException(nameof(Quantiles));
        if (Strategy == ForecastingStrategy.Recursive && (CovariateColumnNames.Length > 0 || KnownFutureColumnNames.Length > 0 || HolidayColumnName is not null || DateColumnName is not null))
            throw new ArgumentException("The recursive strategy cannot use covariates (nor calendar features): their future values are unknown. Use ForecastingStrategy.Direct.", nameof(Strategy));
        if (Strategy == ForecastingStrategy.Recursive && Quantiles.Length > 0)
            throw new ArgumentException("The recursive strategy cannot train quantile heads. Use ForecastingStrategy.Direct.", nameof(Quantiles));
        foreach (float q in Quantiles)
            if (!(q > 0f && q < 1f)) throw new ArgumentOutOfRangeException(nameof(Quantiles), q, $"Quantiles must be in (0, 1); got {q}.");
        if (Quantiles.Distinct().Count() != Quantiles.Length) throw new ArgumentException($"Quantiles must be distinct; got {string.Join(", ", Quantiles)}.", nameof(Quantiles));
        if (QuantilesColumnName is not null && Quantiles.Length == 0)
            throw new ArgumentException("QuantilesColumnName needs Quantiles: the levels of the quantile heads to train.", nameof(QuantilesColumnName));
        if (!Enum.IsDefined(IntervalMethod)) throw new ArgumentOutOfRangeException(nameof(IntervalMethod), IntervalMethod, "Unknown interval method.");
        if (IntervalMethod == ForecastIntervalMethod.Quantiles && Quantiles.Length == 0)
            throw new ArgumentException("IntervalMethod Quantiles needs Quantiles: the levels of the quantile heads to train.", nameof(IntervalMethod));
        if (!Enum.IsDefined(GapFilling)) throw new ArgumentOutOfRangeException(nameof(GapFilling), GapFilling, "Unknown gap filling.");
        if (GapFilling != GapFilling.None && DateColumnName is null)
            throw new ArgumentException("GapFilling needs DateColumnName: gaps are found from the dates.", nameof(GapFilling));
        if (CalendarFeatures is CalendarFeatures calendar)
        {
            if ((calendar & ~(MLNetRnn.CalendarFeatures.DayOfWeek | MLNetRnn.CalendarFeatures.DayOfMonth | MLNetRnn.CalendarFeatures.Month | MLNetRnn.CalendarFeatures.Hour)) != 0)
                throw new ArgumentOutOfRangeException(nameof(CalendarFeatures), calendar, "Unknown calendar feature.");
            if (calendar != MLNetRnn.CalendarFeatures.None && DateColumnName is null)
                throw new ArgumentException("CalendarFeatures needs DateColumnName: the features are computed from the dates.", nameof(CalendarFeatures));
        }
        if (SeriesIdFeature == true && SeriesIdColumnName is null)
            throw new ArgumentException("SeriesIdFeature needs SeriesIdColumnName: the feature is each series' id.", nameof(SeriesIdFeature));
        if (StaticFeatureColumnNames.Length > 0 && SeriesIdColumnName is null)
            throw new ArgumentException("StaticFeatureColumnNames needs SeriesIdColumnName: static features describe each series of a panel.", nameof(StaticFeatureColumnNames));
        // The series id may also be a static feature (a learned embedding per series); no other column takes two roles.
        var roles = new[] { InputColumnName }.Concat(CovariateColumnNames).Concat(KnownFutureColumnNames)
            .Concat(StaticFeatureColumnNames.Where(n => !string.Equals(n, SeriesIdColumnName, StringComparison.Ordinal)))
            .Concat(new[] { HolidayColumnName, SeriesIdColumnName, DateColumnName }.OfType<string>()).ToArray();
        var twice = roles.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new ArgumentException($"Column '{twice.Key}' is given more than one role (input, covariate, known-future, holiday, static feature, series id, date); list it once (known-future columns are covariates too).", nameof(KnownFutureColumnNames));
        if (!Enum.IsDefined(Strategy)) throw new ArgumentOutOfRangeException(nameof(Strategy), Strategy, "Unknown strategy.");
        if (!Enum.IsDefined(SeriesWeighting)) throw new ArgumentOutOfRangeException(nameof(SeriesWeighting), SeriesWeighting, "Unknown series weighting: Windows, SquareRoot or Series.");
        if (!Enum.IsDefined(Scaling)) throw new ArgumentOutOfRangeException(nameof(Scaling), Scaling, "Unknown scaling.");
        if (!Enum.IsDefined(SeasonalAdjustment)) throw new ArgumentOutOfRangeException(nameof(SeasonalAdjustment), SeasonalAdjustment, "Unknown seasonal adjustment.");
        if (!Enum.IsDefined(Base)) throw new ArgumentOutOfRangeException(nameof(Base), Base, "Unknown base.");
        if (!Enum.IsDefined(Loss)) throw new ArgumentOutOfRangeException(nameof(Loss), Loss, "Unknown loss.");
        if (EnsembleSize < 0) throw new ArgumentOutOfRangeException(nameof(EnsembleSize), EnsembleSize, $"EnsembleSize must be at least 0; got {EnsembleSize}.");
        if (WindowsPerEpoch < 1) throw new ArgumentOutOfRangeException(nameof(WindowsPerEpoch), WindowsPerEpoch, $"WindowsPerEpoch must be at least 1; got {WindowsPerEpoch}.");
        ValidateShared((WindowSize, nameof(WindowSize)));
        if (TimeLimit is TimeSpan limit && limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimeLimit), TimeLimit, $"TimeLimit must be positive (or null); got {limit}.");
        var names = new[] { OutputColumnName, ConfidenceLowerBoundColumn, ConfidenceUpperBoundColumn, QuantilesColumnName }.Where(n => n is not null).ToArray();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ArgumentException($"The output, lower-bound, upper-bound and quantiles columns need distinct names; got {string.Join(", ", names.Select(n => $"'{n}'"))}.", nameof(ConfidenceLowerBoundColumn));
        // The rest (optimiser, loss, …) is checked by the core with the option's name.
        var settings = ToSettings();
        settings.NetworkSpec.Validate();
        settings.Training.Validate(settings.NetworkSpec);
    }

    /// <summary>The columns the forecaster will read, before the data has resolved the calendar, time step and
    /// static encodings.</summary>
    internal ForecastColumns Columns() => new()
    {
        Input = InputColumnName, Covariates = CovariateColumnNames.ToArray(), KnownFuture = KnownFutureColumnNames.ToArray(), Holiday = HolidayColumnName,
        SeriesId = SeriesIdColumnName, Date = DateColumnName, Calendar = CalendarFeatures ?? MLNetRnn.CalendarFeatures.None, Step = TimeStep.Unknown,
        Gaps = GapFilling,
        Static = StaticFeatureColumnNames.Select(n => new StaticEncoder { Column = n, Categorical = false }).ToArray(),
    };

    /// <summary>The quantile levels of the heads: the user's, sorted, with the median added.</summary>
    internal float[] QuantileLevels() => Quantiles.Length == 0 ? [] : Quantiles.Append(0.5f).Distinct().Order().ToArray();

    internal ForecasterSettings ToSettings() => ToSettings(Columns());

    internal ForecasterSettings ToSettings(ForecastColumns columns) => new()
    {
        WindowSize = WindowSize,
        Horizon = Horizon,
        // 0 (detect) is settled by Fit (SeasonalPeriodChoice); until then the settings hold the first candidate, or no season.
        SeasonalPeriod = SeasonalPeriod != 0 ? SeasonalPeriod : SeasonalPeriods is { Length: > 0 } ? SeasonalPeriods[0] : ForecastingDefaults.SeasonalPeriod,
        SeasonalPeriods = SeasonalPeriods?.ToArray() ?? throw new ArgumentNullException(nameof(SeasonalPeriods)),
        CovariateCount = columns.CovariateCount,
        KnownFutureCovariates = columns.KnownFutureIndices,
        StaticFeatureCount = columns.StaticWidth,
        StaticCategories = columns.StaticCategories,
        ScaleFeature = SeriesScaleFeature && SeriesIdColumnName is not null,
        SeriesWeighting = SeriesWeighting,
        Quantiles = QuantileLevels(),
        Scaling = Scaling,
        SeasonalAdjustment = SeasonalAdjustment,
        Base = Base,
        ZeroHeadInitialization = ZeroHeadInitialization,
        CorrectionDamping = CorrectionDamping,
        SeasonalFeatures = SeasonalFeatures,
        Recursive = Strategy == ForecastingStrategy.Recursive,
        Cell = Cell,
        HiddenSizes = HiddenSizes ?? throw new ArgumentNullException(nameof(HiddenSizes)),
        Activation = Activation,
        LayerNormalization = LayerNormalization,
        Dilations = Dilations ?? throw new ArgumentNullException(nameof(Dilations)),
        ResidualConnections = ResidualConnections,
        SeasonalDilation = SeasonalDilation,
        DecoderSteps = DecoderSteps,
        LearnedBaseCombination = LearnedBaseCombination,
        EnsembleSize = EnsembleSize,
        ValidationFraction = ValidationFraction,
        WindowsPerEpoch = WindowsPerEpoch,
        MaximumSteps = MaximumSteps,
        TimeLimit = TimeLimit,
        ConfidenceLevel = ConfidenceLevel,
        Training = new TrainingOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            Optimizer = new OptimizerOptions { Kind = Optimizer, LearningRate = LearningRate, WeightDecay = WeightDecay },
            Loss = Loss,
            GradientClipping = GradientClippingThreshold is null ? GradientClippingMode.None : GradientClipping,
            GradientClippingThreshold = GradientClippingThreshold ?? TrainingOptions.Defaults.GradientClippingThreshold,
            TruncationLength = TruncationLength,
            VanishingRegularizerWeight = VanishingRegularizerWeight,
            EarlyStoppingPatience = EarlyStoppingPatience,
            WeightAveraging = WeightAveraging,
            Seed = Seed ?? 0,
        },
    };

    /// <summary>A deep copy: the arrays too, so that changing the caller's arrays later does not reach the estimator.</summary>
    internal RnnForecastingOptions Clone()
    {
        var copy = CloneShared<RnnForecastingOptions>();
        copy.CovariateColumnNames = CovariateColumnNames?.ToArray()!;
        copy.KnownFutureColumnNames = KnownFutureColumnNames?.ToArray()!;
        copy.StaticFeatureColumnNames = StaticFeatureColumnNames?.ToArray()!;
        copy.Quantiles = Quantiles?.ToArray()!;
        copy.SeasonalPeriods = SeasonalPeriods?.ToArray()!;
        return copy;
    }
}

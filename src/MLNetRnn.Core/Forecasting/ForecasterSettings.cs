using System.ComponentModel;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

/// <summary>
/// The defaults of the recurrent forecasters, in one place: series mode (<c>ForecastByRnn</c>) and window mode
/// (<c>Regression.Trainers.Rnn</c>) both take theirs from here. They were chosen on the 21 series of the accuracy
/// protocol (docs/accuracy.md), one configuration for every series.
/// </summary>
public static class ForecastingDefaults
{
    /// <summary>Seasonal period m: 1 means no season.</summary>
    public const int SeasonalPeriod = 1;

    /// <summary>Local scaling of each window: chosen from the series (log ratio for positive series).</summary>
    public const SeriesScaling Scaling = SeriesScaling.Auto;

    /// <summary>Seasonal adjustment: only when the lag-m autocorrelation test finds a season.</summary>
    public const SeasonalAdjustment SeasonalAdjustment = Baselines.SeasonalAdjustment.Auto;

    /// <summary>The statistical base the networks correct: chosen per series on the training data.</summary>
    public const ForecastBase Base = ForecastBase.Auto;

    /// <summary>Start the networks' head at zero, so training starts from "no correction" (the base itself).</summary>
    public const bool ZeroHeadInitialization = true;

    /// <summary>Damp the networks' correction by the weight λ that fits the validation windows best.</summary>
    public const bool CorrectionDamping = true;

    /// <summary>Nonlinearity of Elman cells.</summary>
    public const ElmanActivation Activation = ElmanActivation.Tanh;

    /// <summary>Cell of every layer.</summary>
    public const RecurrentCellKind Cell = RecurrentCellKind.Gru;

    /// <summary>Hidden units of the single default layer.</summary>
    public const int HiddenSize = 32;

    /// <summary>Networks trained from different seeds, each holding out its own block of the series, and averaged.</summary>
    public const int EnsembleSize = 5;

    /// <summary>Training loss: Huber (δ = 1 in network units, about one typical step of the series), which weighs
    /// the rare large miss linearly instead of quadratically, closer to the absolute errors forecasts are judged by.</summary>
    public const LossKind Loss = LossKind.Huber;

    /// <summary>Ceiling on epochs; early stopping and <see cref="MaximumSteps"/> usually end training first.</summary>
    public const int Epochs = 200;

    /// <summary>Windows per mini-batch.</summary>
    public const int BatchSize = 16;

    /// <summary>Windows sampled per epoch (all of them when there are fewer), so an epoch costs the same on a
    /// series of 100 or 100,000 values.</summary>
    public const int WindowsPerEpoch = 256;

    /// <summary>Ceiling on optimiser steps per network: the training budget that keeps a fit's time bounded.</summary>
    public const int MaximumSteps = 2000;

    /// <summary>The optimiser: Adam with decoupled weight decay.</summary>
    public const OptimizerKind Optimizer = OptimizerKind.AdamW;

    /// <summary>Decoupled weight decay of the forecaster's networks. Their heads start at zero (the base itself), so
    /// decay pulls the correction back towards the base unless the data keep pushing it away: a prior that the base
    /// is right. It is the prior of one series: a panel's networks train with it divided by the number of series that
    /// give windows, which hold that many series' evidence. (Window mode, which has no base, keeps plain Adam.)</summary>
    public const float WeightDecay = 0.5f;

    /// <summary>Adam's learning rate.</summary>
    public const float LearningRate = 3e-3f;

    /// <summary>Global-norm clipping threshold: the trainer's own default, held by <see cref="TrainingOptions.Defaults"/>.</summary>
    public const float GradientClippingThreshold = TrainingOptions.Defaults.GradientClippingThreshold;

    /// <summary>Fraction of windows (series mode) or rows (window mode), from the end, held out for validation.</summary>
    public const float ValidationFraction = 0.2f;

    /// <summary>How often a panel's training and early stopping draw each series: every series alike, as GluonTS's
    /// default sampler (an expected one window per series) and N-BEATS do. Chosen on the accuracy protocol's nine
    /// monthly series fitted together, the one panel of unequal lengths we have (docs/benchmarks.md); series of equal
    /// length are drawn alike either way.</summary>
    public const SeriesWeighting SeriesWeighting = Forecasting.SeriesWeighting.Series;

    /// <summary>Epochs without a better validation loss before training stops.</summary>
    public const int EarlyStoppingPatience = 20;
}

/// <summary>
/// Everything a forecaster needs to train and to forecast: what <see cref="ForecastModel.Train(ForecasterSettings, float[], float[], IProgress{TrainingProgress}?, CancellationToken)"/>
/// takes. Only <see cref="WindowSize"/> and <see cref="Horizon"/> are required; every other setting starts at
/// <see cref="ForecastingDefaults"/>. The ML.NET options (<c>RnnForecastingOptions</c>) resolve to these.
/// </summary>
/// <remarks>
/// The stable API is the settable properties (a <c>with</c> expression changes one). What the model derives from
/// them (network sizes, input layout) and how they are saved are internal; a model file saves the settings a
/// forecast needs, not the training ones (<see cref="Training"/>, <see cref="TimeLimit"/>, <see cref="SeriesWeighting"/>,
/// <see cref="MaximumDegreeOfParallelism"/>, <see cref="ConfidenceLevel"/>).
/// </remarks>
public sealed partial record ForecasterSettings
{
    /// <summary>W: past values the networks read per forecast.</summary>
    public required int WindowSize { get; init; }

    /// <summary>H: values forecast at once.</summary>
    public required int Horizon { get; init; }

    /// <summary>m: values per season; 1 means no season. With <see cref="SeasonalPeriods"/>, one of the candidates.</summary>
    public int SeasonalPeriod { get; init; } = ForecastingDefaults.SeasonalPeriod;

    /// <summary>
    /// Candidate seasonal periods; each series takes the one its own training data supports best (the rolling-origin
    /// evaluation that chooses the base scores every candidate period with every base, and the best pair wins), and
    /// everything about the series then uses that period: its seasonal adjustment, seasonal naive, seasonal features and
    /// window scaling. Empty (the default): only <see cref="SeasonalPeriod"/>. Each at least 1, and
    /// <see cref="SeasonalPeriod"/> must be among them (it is not added silently: with the default m = 1, "no season"
    /// would become a candidate nobody asked for).
    /// </summary>
    public IReadOnlyList<int> SeasonalPeriods { get; init; } = [];

    /// <summary>The periods a series' fit chooses among, ascending and distinct: <see cref="SeasonalPeriod"/> alone
    /// without <see cref="SeasonalPeriods"/>.</summary>
    internal IReadOnlyList<int> CandidatePeriods => SeasonalPeriods.Count == 0 ? [SeasonalPeriod] : SeasonalPeriods.Distinct().Order().ToArray();

    /// <summary>Throws, naming <see cref="SeasonalPeriods"/>, when a candidate is below 1 or <see cref="SeasonalPeriod"/>
    /// is not among them.</summary>
    internal void ValidateSeasonalPeriods()
    {
        ArgumentNullException.ThrowIfNull(SeasonalPeriods, nameof(SeasonalPeriods));
        foreach (int p in SeasonalPeriods)
            if (p < 1) throw new ArgumentOutOfRangeException(nameof(SeasonalPeriods), p, $"SeasonalPeriods must each be at least 1; got {p}.");
        if (SeasonalPeriods.Count > 0 && !SeasonalPeriods.Contains(SeasonalPeriod))
            throw new ArgumentException($"SeasonalPeriods ({string.Join(", ", SeasonalPeriods)}) must contain SeasonalPeriod ({SeasonalPeriod}).", nameof(SeasonalPeriods));
    }

    /// <summary>C: numeric covariates per row (known at every observed row; see <see cref="KnownFutureCovariates"/>).</summary>
    public int CovariateCount { get; init; }

    /// <summary>How each window is scaled by its own level before the networks read it.</summary>
    public SeriesScaling Scaling { get; init; } = ForecastingDefaults.Scaling;

    /// <summary>Whether the season is removed before the networks and the base see the series.</summary>
    public SeasonalAdjustment SeasonalAdjustment { get; init; } = ForecastingDefaults.SeasonalAdjustment;

    /// <summary>The statistical forecast the networks correct.</summary>
    public ForecastBase Base { get; init; } = ForecastingDefaults.Base;

    /// <summary>
    /// A combination of the candidate bases learned across a panel (<see cref="Baselines.BaseCombination"/>): each
    /// series' candidates weighted by softmax(a − β·ln score) on its own scores, with a and β learned on the panel's
    /// training origins, instead of its best-scored candidate alone; the networks still learn the selection's errors,
    /// and the model forecasts the mean of their forecast and the combination (ForecastTrainer), unless a backtest
    /// shows their forecast clearly better alone (<see cref="CombinationBacktest"/>). Null (the default): on
    /// for a panel whose base is <see cref="ForecastBase.Auto"/> and which has no covariates (<see cref="CovariateCount"/>
    /// 0: with covariates, calendar ones too, the networks' forecast carries what the bases cannot see, and the mean would
    /// give half of it away: the retail panel with promotions known in advance went from MASE 0.437 to 0.597); off for a
    /// single series. True: whenever there are enough origins; false: never. Either way it is learned only from at least
    /// <see cref="Baselines.BaseCombination.MinimumOrigins"/> training origins (a single series gives eight at most), and
    /// the bases are chosen as without it below that. Chosen on M1 and M4 hourly (docs/accuracy.md).
    /// </summary>
    public bool? LearnedBaseCombination { get; init; }

    /// <summary>Start the networks' head at zero, so training starts from "no correction" (the base itself).</summary>
    public bool ZeroHeadInitialization { get; init; } = ForecastingDefaults.ZeroHeadInitialization;

    /// <summary>Damp the networks' correction by the weight λ fitted on the validation windows.</summary>
    public bool CorrectionDamping { get; init; } = ForecastingDefaults.CorrectionDamping;

    /// <summary>Add the sine and cosine of the position in the season to every step's inputs.</summary>
    public bool SeasonalFeatures { get; init; }

    /// <summary>A one-step head applied H times instead of a direct H-step head.</summary>
    public bool Recursive { get; init; }

    /// <summary>Cell of every layer.</summary>
    public RecurrentCellKind Cell { get; init; } = ForecastingDefaults.Cell;

    /// <summary>Hidden units per layer, bottom first.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [ForecastingDefaults.HiddenSize];

    /// <summary>Nonlinearity of Elman cells.</summary>
    public ElmanActivation Activation { get; init; } = ForecastingDefaults.Activation;

    /// <summary>Layer normalisation of the gates' pre-activations.</summary>
    public bool LayerNormalization { get; init; }

    /// <summary>Per recurrent layer, the step its recurrence reaches back (h_t reads h_{t−d}); empty means 1 for every
    /// layer (see <see cref="RecurrentNetworkSpec.Dilations"/>).</summary>
    public IReadOnlyList<int> Dilations { get; init; } = [];

    /// <summary>Add each stacked layer's input to its output (see <see cref="RecurrentNetworkSpec.ResidualConnections"/>).</summary>
    public bool ResidualConnections { get; init; }

    /// <summary>
    /// Networks for nested seasons (ES-RNN's dilated stack): when true, the networks are two residual layers of the
    /// one layer's size, the second dilated by a seasonal period, so that the same hour of earlier days is
    /// one recurrent step away instead of 24. Null (the default): on when the seasons nest, a candidate period being a
    /// multiple of a shorter one above 1 (<see cref="SeasonalPeriods"/>: hourly data's 24 and 168; not daily data's 7
    /// and 365), the networks dilated by the shorter, when <see cref="HiddenSizes"/> is one layer,
    /// <see cref="Dilations"/> is empty and the window holds at least two of that period; true: also without nesting
    /// (by the shortest period above 1); false: never.
    /// Chosen on M4 hourly (docs/accuracy.md): 9.250 → 9.217 sMAPE at twice the CPU.
    /// </summary>
    public bool? SeasonalDilation { get; init; }

    /// <summary>The period the second layer is dilated by when <see cref="SeasonalDilation"/> applies, else null.</summary>
    /// <exception cref="ArgumentException">SeasonalDilation is true and the settings cannot take it (the message says why).</exception>
    internal int? SeasonalDilationPeriod()
    {
        if (SeasonalDilation == false || EnsembleSize == 0) return null;
        var seasons = CandidatePeriods.Where(p => p > 1).ToArray();
        // Nested seasons: a candidate that is a multiple of a shorter one (a week of hours), as for the nested season.
        int? nested = seasons.Cast<int?>().FirstOrDefault(p => seasons.Any(q => q > p && q % p == 0));
        string? obstacle = seasons.Length == 0 ? "the series have no seasonal period above 1"
            : HiddenSizes.Count != 1 ? $"HiddenSizes has {HiddenSizes.Count} layers; it builds its two from one"
            : Dilations.Count > 0 ? "Dilations is set; it sets them itself"
            : 2 * (nested ?? seasons[0]) > WindowSize ? $"the window ({WindowSize}) holds less than two of the period it would dilate by ({nested ?? seasons[0]})"
            : null;
        if (SeasonalDilation == true && obstacle is not null)
            throw new ArgumentException($"SeasonalDilation is true, but {obstacle}.", nameof(SeasonalDilation));
        return obstacle is null ? nested ?? (SeasonalDilation == true ? seasons[0] : null) : null;
    }

    /// <summary>These settings with <see cref="SeasonalDilation"/> applied: the networks it builds, or unchanged. Training
    /// applies it; the model keeps the result.</summary>
    /// <exception cref="ArgumentException">SeasonalDilation is true and the settings cannot take it.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ForecasterSettings WithSeasonalDilation() => SeasonalDilationPeriod() is int d
        ? this with { HiddenSizes = [HiddenSizes[0], HiddenSizes[0]], Dilations = [1, d], ResidualConnections = true, SeasonalDilation = false }
        : this;

    /// <summary>K: networks trained from different seeds and averaged; 0 keeps the base alone.</summary>
    public int EnsembleSize { get; init; } = ForecastingDefaults.EnsembleSize;

    /// <summary>Fraction of windows, from the end, each member holds out for validation.</summary>
    public float ValidationFraction { get; init; } = ForecastingDefaults.ValidationFraction;

    /// <summary>Windows sampled per epoch (all of them when there are fewer).</summary>
    public int WindowsPerEpoch { get; init; } = ForecastingDefaults.WindowsPerEpoch;

    /// <summary>Ceiling on optimiser steps per network.</summary>
    public int MaximumSteps { get; init; } = ForecastingDefaults.MaximumSteps;

    /// <summary>Wall-clock limit per network; null: none, and the result depends only on the seed. Not saved.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>How often a panel's training draws each series. Not saved.</summary>
    public SeriesWeighting SeriesWeighting { get; init; } = ForecastingDefaults.SeriesWeighting;

    /// <summary>α: a panel's training draws series s with probability ∝ N_s^α.</summary>
    internal double SeriesWeightExponent => SeriesWeighting switch { SeriesWeighting.Series => 0, SeriesWeighting.SquareRoot => 0.5, _ => 1 };

    /// <summary>Threads training and batched forecasts may use. Not saved.</summary>
    public int MaximumDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The networks' training options (loss, optimiser, clipping, seed, epochs). Not saved: a loaded model
    /// forecasts, it does not retrain.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>The confidence level the caller will ask for, so that the training summary can say when it is
    /// extrapolated beyond the held-out errors; null: not said. Not saved.</summary>
    public float? ConfidenceLevel { get; init; }

    // Many series, known-future covariates, quantiles (payload version 3; all off in a version-2 model).

    /// <summary>(Cf) Indices into the C covariates, ascending, of those whose values for the H forecast steps are
    /// known and fed to the networks (a decoder reads them).</summary>
    public IReadOnlyList<int> KnownFutureCovariates { get; init; } = [];

    /// <summary>Z: encoded static features per series (numbers, then the category indices of <see cref="StaticCategories"/>).</summary>
    public int StaticFeatureCount { get; init; }

    /// <summary>(k) The last k of the Z static features are category indices (0 to C_j − 1, negative for a category not
    /// seen in training), which the networks read as one-hot inputs given by index, after the other inputs
    /// (<see cref="RecurrentNetworkSpec.InputCategories"/>): C_j each. Empty: every static feature is a number.</summary>
    public IReadOnlyList<int> StaticCategories { get; init; } = [];

    /// <summary>Append the series' standardised log scale to every step's inputs (for panels of series of different size).</summary>
    public bool ScaleFeature { get; init; }

    /// <summary>(Q) Levels of the quantile heads, ascending, 0.5 among them; empty: no quantile heads.</summary>
    public IReadOnlyList<float> Quantiles { get; init; } = [];

    /// <summary>
    /// S: the networks read which of the model's S training series a window is from, as a one-hot input given by index
    /// (the last input, after the static categories; <see cref="RecurrentNetworkSpec.InputCategories"/>), so each series learns its own input
    /// offset; 0: they do not. A series started cold has no index (−1) and reads zeros there, as a one-hot vector of a
    /// category never seen would. Read by index, the ids cost one weight column per step however many series there are.
    /// </summary>
    public int SeriesCategories { get; init; }

    /// <summary>The category counts of the inputs given by index, in input order: the static categories, then the series.</summary>
    internal int[] InputCategories => SeriesCategories > 0 ? [.. StaticCategories, SeriesCategories] : [.. StaticCategories];

    /// <summary>Cf: covariates whose values for the H forecast steps are known and fed to the networks.</summary>
    public int FutureCovariateCount => KnownFutureCovariates.Count;

    /// <summary>Q: quantile heads per step ahead (0 without them).</summary>
    public int QuantileCount => Quantiles.Count;

    /// <summary>The position of level 0.5 among <see cref="Quantiles"/>: the median head gives the point forecast.</summary>
    internal int MedianIndex => Quantiles.Count == 0 ? 0 : Quantiles.ToList().IndexOf(0.5f);

    /// <summary>Inputs per step: the scaled value, the base's one-step error (with a base), the covariates, two
    /// seasonal features when enabled, then (for many series) the Z static features and the series' scale, and with a
    /// decoder a flag that is 1 on the H future steps; last the category indices: those of the static features
    /// (<see cref="StaticCategories"/>), then with <see cref="SeriesCategories"/> the series' own.</summary>
    internal int InputSize => 1 + (BaseErrorFeature ? 1 : 0) + CovariateCount + (UsesSeasonalFeatures ? 2 : 0)
        + StaticFeatureCount + (ScaleFeature ? 1 : 0) + (Decoder ? 1 : 0) + (SeriesCategories > 0 ? 1 : 0);

    /// <summary>
    /// With known-future covariates the networks read a window of W past steps followed by H future steps (a
    /// decoder): a future step carries the base's forecast for it in place of the value, that step's known-future
    /// covariates (the others at their mean), its seasonal position, and a flag; the head is read at each future step,
    /// so the forecast of step k sees step k's covariates directly (as DeepAR's and seq2seq forecasters' decoders do).
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool Decoder => (FutureCovariateCount > 0 || DecoderSteps == true) && !Recursive;

    /// <summary>
    /// Decoder steps without known-future covariates: the networks read the W window rows and then the H horizon rows
    /// (<see cref="Decoder"/>), each carrying the base's forecast of its step, the decoder flag, the series' scale and id,
    /// and the head is read once per step, where without them one head reads all H corrections off the last window step.
    /// Null (the default): on for a panel with networks, no covariates and the direct strategy, off for a single series; true: on
    /// (refused with <see cref="Recursive"/>); false: off. Training settles null; the model keeps true or false. Chosen on
    /// M1 and M4 hourly (docs/accuracy.md: M4's global model 9.014 → 8.543 sMAPE, 8.572 / 0.774 where the networks'
    /// forecast is then kept alone; M1 unchanged by the steps).
    /// </summary>
    public bool? DecoderSteps { get; init; }

    /// <summary>These settings with <see cref="DecoderSteps"/> settled for <paramref name="seriesCount"/> series: null
    /// becomes true for a panel with networks, without covariates and with the direct strategy, else false.</summary>
    /// <exception cref="ArgumentException">DecoderSteps is true with the recursive strategy, whose one-step head has no
    /// horizon rows to read.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ForecasterSettings WithDecoderSteps(int seriesCount)
    {
        if (DecoderSteps == true && Recursive)
            throw new ArgumentException("DecoderSteps is true, but the strategy is recursive: its one-step head reads no horizon rows. Use the direct strategy.", nameof(DecoderSteps));
        // Without networks there is nothing to step through, and the flag would only cost the newer format.
        bool on = DecoderSteps ?? (seriesCount > 1 && CovariateCount == 0 && !Recursive && EnsembleSize > 0);
        return DecoderSteps == on ? this : this with { DecoderSteps = on };
    }

    /// <summary>Whether the settings ask for decoder steps (<see cref="DecoderSteps"/> true), which only transformer format
    /// 11 records.</summary>
    internal bool HasDecoderSteps => DecoderSteps == true;

    /// <summary>Steps the networks read: W, and H more with a decoder.</summary>
    internal int Steps => WindowSize + (Decoder ? Horizon : 0);

    /// <summary>Outputs of the networks' head per step it is read at: all of <see cref="OutputSize"/> at the last step,
    /// or with a decoder max(1, Q) at each of the H future steps.</summary>
    internal int HeadSize => Decoder ? Math.Max(1, QuantileCount) : OutputSize;

    /// <summary>Each step also carries the base's one-step error at that step, so the networks see how the base
    /// has been missing lately (what they are asked to correct). Version-1 models have no such input.</summary>
    internal bool BaseErrorFeature => Base != ForecastBase.None && !Version1;

    /// <summary>Read from a version-1 payload: the networks' inputs are the scaled value (and covariates) only.</summary>
    internal bool Version1 { get; init; }

    // The input layout is the model's, so it has the seasonal columns when any series may have a season.
    internal bool UsesSeasonalFeatures => SeasonalFeatures && CandidatePeriods[^1] > 1;

    /// <summary>Outputs of the head: H for the direct strategy (H·Q with quantile heads, laid out (H, Q)), 1 for
    /// the recursive one.</summary>
    internal int OutputSize => Recursive ? 1 : Horizon * Math.Max(1, QuantileCount);

    /// <summary>The training options of one member: the user's, with the pinball loss on the quantile levels when
    /// the networks have quantile heads.</summary>
    internal TrainingOptions MemberTraining => QuantileCount == 0 ? Training : Training with { Loss = Losses.LossKind.Pinball, Quantiles = Quantiles.ToArray() };

    /// <summary>The networks these settings train.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RecurrentNetworkSpec NetworkSpec => new()
    {
        Cell = Cell, InputSize = InputSize, InputCategories = InputCategories, HiddenSizes = HiddenSizes.ToArray(), OutputSize = HeadSize,
        Activation = Activation, LayerNormalization = LayerNormalization, Dilations = Dilations.ToArray(), ResidualConnections = ResidualConnections,
        Initialization = ZeroHeadInitialization ? new InitializationSpec { HeadWeights = InitializerKind.Zeros } : InitializationSpec.Default,
    };

    /// <summary>Windows each ensemble member holds out as its validation block (early stopping; with the other
    /// members' blocks, the damping λ and the intervals).</summary>
    internal int ValidationWindows(int windows) => ValidationFraction <= 0 ? 0 : Math.Max(1, (int)Math.Round(windows * ValidationFraction));

    /// <summary>
    /// Windows dropped on each side of a validation block, so that no validation target is also a training target:
    /// H − 1 with the direct strategy, 0 with the recursive one (whose training target is one step). Never shrunk:
    /// on a short series a smaller gap would let the networks see the very values they are judged on, and the
    /// held-out evidence for their correction (λ) would be worthless.
    /// </summary>
    internal int FoldGap => Recursive ? 0 : Horizon - 1;

    /// <summary>The shortest series a fit accepts: one window and the H values after it. Shorter than what the
    /// networks need (<see cref="MinimumNetworkWindows"/> training windows and a validation window), a fit keeps
    /// the base alone and says so.</summary>
    public int MinimumLength => WindowSize + Horizon;

    /// <summary>The fewest values a forecast of a series reads: one window (and at least two). A panel's series, a
    /// series started cold and a series kept pending until it has them are measured against it.</summary>
    public int MinimumForecastLength => ForecastLength(WindowSize);

    /// <summary><see cref="MinimumForecastLength"/> for a window of <paramref name="windowSize"/> values, before any
    /// settings exist.</summary>
    public static int ForecastLength(int windowSize) => Math.Max(windowSize, 2);

    /// <summary>Windows of a validation block that early stopping evaluates after each epoch (evenly spaced through
    /// the block); λ and the bounds use every held-out window.</summary>
    internal const int MaximumEarlyStoppingWindows = 256;

    /// <summary>The most times the single-series budget (steps, epochs, patience) a panel's networks get when their
    /// training windows outnumber it (<c>ForecastTrainer.PanelBudgetFactor</c>): a bound on the fit's time. Chosen on M4
    /// Hourly (three times the patience and the steps: sMAPE 9.301 → 9.250, fit 213 → 298 s).</summary>
    internal const int MaximumPanelBudgetFactor = 3;

    /// <summary>Training windows below which the networks are not trained (the base alone is kept).</summary>
    internal const int MinimumNetworkWindows = 8;

    /// <summary>Held-out windows at most that λ and the bounds are fitted on. Beyond, whole series are taken evenly
    /// across the panel until this many are reached (a single series is always taken whole), so fitting many
    /// series does not predict every held-out window twice.</summary>
    internal const int MaximumEvaluationWindows = 20_000;

    /// <summary>Validation windows at most that a member's early stopping is judged on in a panel, taken evenly across
    /// the series' blocks (each already at most <see cref="MaximumEarlyStoppingWindows"/>), so an epoch's validation
    /// stays cheap however many series there are.</summary>
    internal const int MaximumPanelEarlyStoppingWindows = 2048;
}

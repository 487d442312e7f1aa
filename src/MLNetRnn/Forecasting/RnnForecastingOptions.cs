using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Training;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>How a multi-step forecast is produced.</summary>
public enum ForecastingStrategy
{
    /// <summary>One head outputs all horizon steps at once (the default): no error feedback between steps.</summary>
    Direct,

    /// <summary>A one-step head applied horizon times, each forecast fed back as the newest value.
    /// Cannot be combined with covariates, whose future values are unknown.</summary>
    Recursive,
}

/// <summary>
/// Options of <see cref="RnnForecastingEstimator"/>, the recurrent counterpart of ML.NET's <c>ForecastBySsa</c>.
/// Every default is in <see cref="Defaults"/> and was chosen by the accuracy protocol in docs/accuracy.md.
/// </summary>
public sealed class RnnForecastingOptions
{
    /// <summary>Default values, in one place: the catalog's optional arguments use the same constants.</summary>
    public static class Defaults
    {
        /// <summary>Seasonal period: 1 means no season.</summary>
        public const int SeasonalPeriod = 1;

        /// <summary>Confidence level of the bounds.</summary>
        public const float ConfidenceLevel = 0.95f;

        /// <summary>Cell of every layer.</summary>
        public const RecurrentCellKind Cell = RecurrentCellKind.Gru;

        /// <summary>Hidden units of the single default layer.</summary>
        public const int HiddenSize = 32;

        /// <summary>Networks trained with consecutive seeds and averaged.</summary>
        public const int EnsembleSize = 3;

        /// <summary>Maximum epochs.</summary>
        public const int Epochs = 300;

        /// <summary>Windows per mini-batch.</summary>
        public const int BatchSize = 16;

        /// <summary>Adam's learning rate.</summary>
        public const float LearningRate = 3e-3f;

        /// <summary>Global-norm clipping threshold.</summary>
        public const float GradientClippingThreshold = 1f;

        /// <summary>Fraction of windows, from the end, held out for validation.</summary>
        public const float ValidationFraction = 0.15f;

        /// <summary>Epochs without a better validation loss before training stops.</summary>
        public const int EarlyStoppingPatience = 30;
    }

    /// <summary>Name of the output column: a vector of <see cref="Horizon"/> forecasts. Required.</summary>
    public string OutputColumnName { get; set; } = null!;

    /// <summary>Name of the input column: the series, <see cref="float"/>, rows in time order. Required.</summary>
    public string InputColumnName { get; set; } = null!;

    /// <summary>Past values the network reads (W), at least 1 and at least <see cref="SeasonalPeriod"/>. A good
    /// start is two seasons (or twice the horizon), capped at half the series. Required.</summary>
    public int WindowSize { get; set; }

    /// <summary>Steps forecast from each row (H), at least 1. Required.</summary>
    public int Horizon { get; set; }

    /// <summary>Names of covariate columns: known numeric features per row (<see cref="float"/>), fed to the
    /// network beside the series at each step of the window. Default: none.</summary>
    public string[] CovariateColumnNames { get; set; } = [];

    /// <summary>Name of the lower-bound vector column, or <see langword="null"/> for none. Default: null.</summary>
    public string? ConfidenceLowerBoundColumn { get; set; }

    /// <summary>Name of the upper-bound vector column, or <see langword="null"/> for none. Default: null.</summary>
    public string? ConfidenceUpperBoundColumn { get; set; }

    /// <summary>Coverage the bounds aim at, in (0, 1). The bounds are split-conformal per horizon step, from
    /// validation windows the networks did not train on. Default: 0.95.</summary>
    public float ConfidenceLevel { get; set; } = Defaults.ConfidenceLevel;

    /// <summary>Seasonal period m (12 for monthly data with a yearly season), at least 1; 1 means no season.
    /// Sets the level each window is scaled by (mean of its last season) and the seasonal naive baseline.
    /// Default: 1.</summary>
    public int SeasonalPeriod { get; set; } = Defaults.SeasonalPeriod;

    /// <summary>Local scaling of each window. Default: <see cref="SeriesScaling.Auto"/> (log ratio to the window's
    /// level for positive series, scaled difference otherwise).</summary>
    public SeriesScaling Scaling { get; set; } = SeriesScaling.Auto;

    /// <summary>The network forecasts the correction to the seasonal naive forecast (the last season repeated),
    /// starting from zero correction, and the correction is damped by a weight fitted on the validation windows.
    /// Keeps forecasts sane on short series. Default: true.</summary>
    public bool SeasonalNaiveBaseline { get; set; } = true;

    /// <summary>Direct (one head for all steps) or recursive. Default: <see cref="ForecastingStrategy.Direct"/>.</summary>
    public ForecastingStrategy Strategy { get; set; } = ForecastingStrategy.Direct;

    /// <summary>Add sin/cos of the position within the season to the inputs (position counted from the first row of
    /// the training data and of each transformed data view). Default: false.</summary>
    public bool SeasonalFeatures { get; set; }

    /// <summary>Cell of every layer. Default: <see cref="RecurrentCellKind.Gru"/>.</summary>
    public RecurrentCellKind Cell { get; set; } = Defaults.Cell;

    /// <summary>Hidden size of each layer, bottom first. Default: [32].</summary>
    public int[] HiddenSizes { get; set; } = [Defaults.HiddenSize];

    /// <summary>Nonlinearity of Elman cells. Default: tanh.</summary>
    public ElmanActivation Activation { get; set; } = ElmanActivation.Tanh;

    /// <summary>Layer-normalise every gate's pre-activation. Default: false.</summary>
    public bool LayerNormalization { get; set; }

    /// <summary>Networks trained with consecutive seeds and averaged, at least 1. Default: 3.</summary>
    public int EnsembleSize { get; set; } = Defaults.EnsembleSize;

    /// <summary>Maximum epochs, at least 1. Default: 300.</summary>
    public int Epochs { get; set; } = Defaults.Epochs;

    /// <summary>Windows per mini-batch, at least 1. Default: 16.</summary>
    public int BatchSize { get; set; } = Defaults.BatchSize;

    /// <summary>Optimiser. Default: Adam.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Learning rate, positive. Default: 3e-3.</summary>
    public float LearningRate { get; set; } = Defaults.LearningRate;

    /// <summary>Threshold τ of global-norm clipping (Pascanu et al. 2013), positive; <see langword="null"/> turns
    /// clipping off. Default: 1.</summary>
    public float? GradientClippingThreshold { get; set; } = Defaults.GradientClippingThreshold;

    /// <summary>How the threshold is applied. Default: <see cref="GradientClippingMode.GlobalNorm"/>.</summary>
    public GradientClippingMode GradientClipping { get; set; } = GradientClippingMode.GlobalNorm;

    /// <summary>Backpropagate through the last k steps of each window only, k in [1, WindowSize];
    /// <see langword="null"/> = exact BPTT. Default: null.</summary>
    public int? TruncationLength { get; set; }

    /// <summary>Weight α of Pascanu's vanishing-gradient regulariser (Elman cells), ≥ 0. Default: 0.</summary>
    public float VanishingRegularizerWeight { get; set; }

    /// <summary>Fraction of windows, from the end of the series, held out for early stopping and for calibrating
    /// the bounds, in [0, 1); 0 turns both off (the bounds are then NaN). Default: 0.15.</summary>
    public float ValidationFraction { get; set; } = Defaults.ValidationFraction;

    /// <summary>Epochs without a lower validation loss before training stops (best weights are restored), at
    /// least 1. Default: 30.</summary>
    public int EarlyStoppingPatience { get; set; } = Defaults.EarlyStoppingPatience;

    /// <summary>After early stopping, train again on every window (validation included) for the epochs found
    /// best, so the most recent data is not left out. Default: true.</summary>
    public bool RefitOnFullSeries { get; set; } = true;

    /// <summary>Seed of initialisation and shuffling; the same seed gives bit-identical models on the same machine.
    /// <see langword="null"/> draws one from the <c>MLContext</c>'s random source when the estimator is created, as
    /// ML.NET's trainers do: <c>new MLContext(seed: s)</c> is then repeatable, and a context without a seed is not.
    /// Default: null.</summary>
    public int? Seed { get; set; }

    /// <summary>Throws, naming the option, if a value is out of range or options contradict each other.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName is required.", nameof(OutputColumnName));
        if (string.IsNullOrWhiteSpace(InputColumnName)) throw new ArgumentException("InputColumnName is required.", nameof(InputColumnName));
        if (WindowSize < 1) throw new ArgumentOutOfRangeException(nameof(WindowSize), WindowSize, $"WindowSize must be at least 1; got {WindowSize}.");
        if (Horizon < 1) throw new ArgumentOutOfRangeException(nameof(Horizon), Horizon, $"Horizon must be at least 1; got {Horizon}.");
        if (SeasonalPeriod < 1) throw new ArgumentOutOfRangeException(nameof(SeasonalPeriod), SeasonalPeriod, $"SeasonalPeriod must be at least 1; got {SeasonalPeriod}.");
        if (SeasonalNaiveBaseline && SeasonalPeriod > WindowSize)
            throw new ArgumentOutOfRangeException(nameof(WindowSize), WindowSize, $"WindowSize ({WindowSize}) must cover at least one season (SeasonalPeriod = {SeasonalPeriod}) for the seasonal naive baseline.");
        if (!(ConfidenceLevel > 0f && ConfidenceLevel < 1f))
            throw new ArgumentOutOfRangeException(nameof(ConfidenceLevel), ConfidenceLevel, $"ConfidenceLevel must be in (0, 1); got {ConfidenceLevel}.");
        if (CovariateColumnNames is null) throw new ArgumentNullException(nameof(CovariateColumnNames));
        if (Strategy == ForecastingStrategy.Recursive && CovariateColumnNames.Length > 0)
            throw new ArgumentException("The recursive strategy cannot use covariates: their future values are unknown. Use ForecastingStrategy.Direct.", nameof(Strategy));
        if (!Enum.IsDefined(Strategy)) throw new ArgumentOutOfRangeException(nameof(Strategy), Strategy, "Unknown strategy.");
        if (!Enum.IsDefined(Scaling)) throw new ArgumentOutOfRangeException(nameof(Scaling), Scaling, "Unknown scaling.");
        if (EnsembleSize < 1) throw new ArgumentOutOfRangeException(nameof(EnsembleSize), EnsembleSize, $"EnsembleSize must be at least 1; got {EnsembleSize}.");
        if (GradientClippingThreshold is float t && !(t > 0f && float.IsFinite(t)))
            throw new ArgumentOutOfRangeException(nameof(GradientClippingThreshold), t, $"GradientClippingThreshold must be positive (or null to turn clipping off); got {t}.");
        if (TruncationLength is int k && (k < 1 || k > WindowSize))
            throw new ArgumentOutOfRangeException(nameof(TruncationLength), k, $"TruncationLength must be between 1 and WindowSize ({WindowSize}); got {k}.");
        if (!(ValidationFraction >= 0f && ValidationFraction < 1f))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, $"ValidationFraction must be in [0, 1); got {ValidationFraction}.");
        var names = new[] { OutputColumnName, ConfidenceLowerBoundColumn, ConfidenceUpperBoundColumn }.Where(n => n is not null).ToArray();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ArgumentException($"The output, lower-bound and upper-bound columns need distinct names; got {string.Join(", ", names.Select(n => $"'{n}'"))}.", nameof(ConfidenceLowerBoundColumn));
        // The rest (network sizes, optimiser values, epochs…) is checked by the core with the option's name.
        var settings = ToSettings();
        settings.NetworkSpec.Validate();
        settings.Training.Validate(settings.NetworkSpec);
    }

    internal ForecasterSettings ToSettings() => new()
    {
        WindowSize = WindowSize,
        Horizon = Horizon,
        SeasonalPeriod = SeasonalPeriod,
        CovariateCount = CovariateColumnNames.Length,
        Scaling = Scaling,
        SeasonalFeatures = SeasonalFeatures,
        Recursive = Strategy == ForecastingStrategy.Recursive,
        SeasonalNaiveBaseline = SeasonalNaiveBaseline,
        ShrinkToBaseline = SeasonalNaiveBaseline,
        ZeroHeadInitialization = SeasonalNaiveBaseline,
        Cell = Cell,
        HiddenSizes = HiddenSizes ?? throw new ArgumentNullException(nameof(HiddenSizes)),
        Activation = Activation,
        LayerNormalization = LayerNormalization,
        EnsembleSize = EnsembleSize,
        ValidationFraction = ValidationFraction,
        RefitOnFullSeries = RefitOnFullSeries,
        Training = new TrainingOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            Optimizer = new OptimizerOptions { Kind = Optimizer, LearningRate = LearningRate },
            GradientClipping = GradientClippingThreshold is null ? GradientClippingMode.None : GradientClipping,
            GradientClippingThreshold = GradientClippingThreshold ?? 1f,
            TruncationLength = TruncationLength,
            VanishingRegularizerWeight = VanishingRegularizerWeight,
            EarlyStoppingPatience = EarlyStoppingPatience,
            Seed = Seed ?? 0,
        },
    };

    /// <summary>A deep copy: the arrays too, so that changing the caller's arrays later does not reach the estimator.</summary>
    internal RnnForecastingOptions Clone()
    {
        var copy = (RnnForecastingOptions)MemberwiseClone();
        copy.CovariateColumnNames = CovariateColumnNames?.ToArray()!;
        copy.HiddenSizes = HiddenSizes?.ToArray()!;
        return copy;
    }
}

using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

/// <summary>Everything the forecaster needs to train and to forecast, resolved from the user's options.</summary>
internal sealed record ForecasterSettings
{
    public required int WindowSize { get; init; }             // W: past values the net reads
    public required int Horizon { get; init; }                // H: steps forecast at once
    public int SeasonalPeriod { get; init; } = 1;             // m: 1 = no season
    public int CovariateCount { get; init; }                  // C: known numeric features per row
    public SeriesScaling Scaling { get; init; } = SeriesScaling.Auto;
    public bool SeasonalFeatures { get; init; }               // add sin/cos of the position in the season
    public bool Recursive { get; init; }                      // one-step head applied H times instead of a direct H-step head
    public bool SeasonalNaiveBaseline { get; init; } = true;  // the net forecasts the correction to seasonal naive
    public bool ZeroHeadInitialization { get; init; } = true; // start from "no correction": the head's weights at 0
    public bool ShrinkToBaseline { get; init; } = true;       // damp the correction by λ fitted on validation windows
    public RecurrentCellKind Cell { get; init; } = RecurrentCellKind.Gru;
    public IReadOnlyList<int> HiddenSizes { get; init; } = [32];
    public ElmanActivation Activation { get; init; } = ElmanActivation.Tanh;
    public bool LayerNormalization { get; init; }
    public int EnsembleSize { get; init; } = 1;
    public float ValidationFraction { get; init; } = 0.2f;
    public bool RefitOnFullSeries { get; init; } = true;
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Inputs per step: the scaled value, the covariates, and two seasonal features when enabled.</summary>
    public int InputSize => 1 + CovariateCount + (UsesSeasonalFeatures ? 2 : 0);

    public bool UsesSeasonalFeatures => SeasonalFeatures && SeasonalPeriod > 1;

    /// <summary>Outputs of the head: H for the direct strategy, 1 for the recursive one.</summary>
    public int OutputSize => Recursive ? 1 : Horizon;

    public RecurrentNetworkSpec NetworkSpec => new()
    {
        Cell = Cell, InputSize = InputSize, HiddenSizes = HiddenSizes.ToArray(), OutputSize = OutputSize,
        Activation = Activation, LayerNormalization = LayerNormalization,
        Initialization = ZeroHeadInitialization ? new InitializationSpec { HeadWeights = InitializerKind.Zeros } : InitializationSpec.Default,
    };

    /// <summary>Windows a series of <paramref name="length"/> values yields: each needs W inputs and the H values
    /// after them (the recursive strategy trains on the first, and calibrates its H-step forecasts on all H).</summary>
    public int WindowCount(int length) => length - WindowSize - Horizon + 1;

    /// <summary>Windows held out at the end for validation (early stopping and interval calibration).</summary>
    public int ValidationWindows(int windows) => ValidationFraction <= 0 ? 0 : Math.Max(1, (int)Math.Round(windows * ValidationFraction));

    /// <summary>
    /// Windows dropped between training and validation so that no validation target is also a training
    /// target: H − 1 with the direct strategy. On a short series that would leave too little to train on, so
    /// the gap shrinks until half the windows (at least 4) remain for training; the validation loss is then
    /// slightly optimistic, which the refit on the full series does not inherit.
    /// </summary>
    public int Gap(int windows)
    {
        if (Recursive) return 0;
        int validation = ValidationWindows(windows);
        int keep = Math.Max(4, windows / 2);
        return Math.Clamp(windows - validation - keep, 0, Horizon - 1);
    }

    /// <summary>The shortest series that leaves at least one training and, when validating, one validation window.</summary>
    public int MinimumLength => WindowSize + Horizon + (ValidationFraction > 0 ? 1 : 0);

    public void Write(BinaryWriter w)
    {
        w.Write(WindowSize); w.Write(Horizon); w.Write(SeasonalPeriod); w.Write(CovariateCount);
        w.Write((int)Scaling); w.Write(SeasonalFeatures); w.Write(Recursive); w.Write(SeasonalNaiveBaseline); w.Write(ShrinkToBaseline);
        w.Write((int)Cell); w.Write(HiddenSizes.Count); foreach (int h in HiddenSizes) w.Write(h);
        w.Write((int)Activation); w.Write(LayerNormalization); w.Write(EnsembleSize);
        w.Write(ValidationFraction); w.Write(RefitOnFullSeries);
    }

    /// <summary>Reads what <see cref="Write"/> wrote. Training options are not persisted: a loaded model
    /// forecasts, it does not retrain.</summary>
    public static ForecasterSettings Read(BinaryReader r)
    {
        int w = r.ReadInt32(), h = r.ReadInt32(), m = r.ReadInt32(), c = r.ReadInt32();
        var scaling = (SeriesScaling)r.ReadInt32();
        bool seasonal = r.ReadBoolean(), recursive = r.ReadBoolean(), baseline = r.ReadBoolean(), shrink = r.ReadBoolean();
        var cell = (RecurrentCellKind)r.ReadInt32();
        int layers = r.ReadInt32();
        if (layers < 1 || layers > 64) throw new InvalidDataException($"Layer count {layers} is out of range.");
        var hidden = new int[layers];
        for (int i = 0; i < layers; i++) hidden[i] = r.ReadInt32();
        var activation = (ElmanActivation)r.ReadInt32();
        bool ln = r.ReadBoolean();
        int ensemble = r.ReadInt32();
        float vf = r.ReadSingle();
        bool refit = r.ReadBoolean();
        return new ForecasterSettings
        {
            WindowSize = w, Horizon = h, SeasonalPeriod = m, CovariateCount = c, Scaling = scaling, SeasonalFeatures = seasonal,
            Recursive = recursive, SeasonalNaiveBaseline = baseline, ShrinkToBaseline = shrink, Cell = cell, HiddenSizes = hidden, Activation = activation, LayerNormalization = ln,
            EnsembleSize = ensemble, ValidationFraction = vf, RefitOnFullSeries = refit,
        };
    }
}

using System.ComponentModel;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Forecasting.Baselines;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Forecasting;

// S = series, W = window, H = horizon, C = covariates, Q = quantile levels, K = ensemble members.
// t counts values from a series' first training value; a window "at origin o" reads values o−W..o−1 and is followed
// by the H values o..o+H−1.
//
// The model's state lives here; the work is done by ForecastTrainer (training), ForecastRunner (forecasts),
// NetworkInputWriter (what the networks read) and ForecastModelFormat (the file), which the methods at the end
// of this class call, so a caller needs only this class.

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
/// <para>The stable API, for forecasting without ML.NET: <see cref="Train(ForecasterSettings, float[], float[], IProgress{TrainingProgress}?, CancellationToken)"/>
/// and its panel overload; <see cref="Settings"/>, <see cref="Series"/>, <see cref="Single"/>, <see cref="FirstOrigin"/>,
/// <see cref="CorrectionWeight"/>, <see cref="Summary"/>, <see cref="Diagnostics"/>; <see cref="FitSeries"/> (a cold
/// start); <see cref="CreateScratch"/> and the three <c>Forecast</c> overloads, from a <see cref="ForecastState"/>;
/// <see cref="ToBytes"/> and <see cref="FromBytes"/>. Members hidden from IntelliSense
/// (<see cref="EditorBrowsableAttribute"/> Never) are the ML.NET layer's plumbing (its model files, its ONNX export)
/// and may change in any release.</para>
/// <para>In network units, relative to the window's level ℓ: the base forecasts r_k (its adjusted forecast, scaled),
/// the networks ĉ_k, and the forecast is y_k = r_k + λ·ĉ_k, turned back into raw units by the series' scaling and
/// seasonal indices. Zero correction is the base itself: the head starts at zero, and λ = 0 when the correction
/// did not help on the validation windows. Without a base (<see cref="ForecastBase.None"/>) r_k = 0: the networks
/// forecast relative to the level, a plain recurrent forecast. With quantile heads the networks output Q values per
/// step, the point forecast is the median head's, and quantile q is y_k + (ĉ_k,q − ĉ_k,median).</para>
/// </remarks>
public sealed class ForecastModel
{
    internal ForecastModel(ForecasterSettings settings, IReadOnlyList<SeriesFit> series, float[] covariateMean, float[] covariateScale,
        float logScaleMean, float logScaleDeviation)
    {
        Settings = settings; Series = series; CovariateMean = covariateMean; CovariateScale = covariateScale;
        LogScaleMean = logScaleMean; LogScaleDeviation = logScaleDeviation;
        Input = new NetworkInputWriter(settings, covariateMean, covariateScale, logScaleMean, logScaleDeviation);
    }

    /// <summary>The settings the model was trained with (those a model file keeps, when it was read).</summary>
    public ForecasterSettings Settings { get; }

    /// <summary>(S) The series trained on, in the panel's order (with those an engine started cold after them).</summary>
    public IReadOnlyList<SeriesFit> Series { get; }

    /// <summary>(C) Means of the covariates over every row of every series, which the networks' inputs subtract.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float[] CovariateMean { get; }

    /// <summary>(C) Scales of the covariates, which the networks' inputs divide by.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float[] CovariateScale { get; }
    internal float LogScaleMean { get; }                      // the series' log scales are standardised by these
    internal float LogScaleDeviation { get; }                 //   before they reach the networks (ScaleFeature)
    /// <summary>(K) The trained networks, averaged; empty: the model is the base alone.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RecurrentNetwork[] Members { get; internal set; } = [];

    /// <summary>The combination of the candidate bases the panel learned (<see cref="ForecasterSettings.LearnedBaseCombination"/>),
    /// which every series' base, and a series started cold, take; null: each series' base is the selection's.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public BaseCombination? BaseCombination { get; internal set; }

    /// <summary>λ: the weight of the networks' correction, fitted on held-out windows (a panel's series may have their own).</summary>
    public float CorrectionWeight { get; internal set; }
    internal ForecastCalibration Calibration { get; set; } = new(ForecastCalibration.Kind.Pooled, []);
    /// <summary>What training chose and measured: the base, the windows, each member's curves, notes.</summary>
    public ForecastTrainingSummary Summary { get; internal set; } = new();

    /// <summary>Adds a note about the fit that only the caller knows (what it left out of the panel, say).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void AddNote(string note) => Summary = Summary with { Notes = [.. Summary.Notes, note] };

    /// <summary>Records in <see cref="Summary"/> what the seasonal-period detection found and whether it chose the periods,
    /// with the periods the series use, and adds a note for each significant season the model leaves out
    /// (<see cref="SeasonalPeriodDetection.LeftOut"/> of its candidate periods). Returns those notes.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IReadOnlyList<string> ReportSeasonalPeriods(SeasonalPeriodDetection detection, bool detected)
    {
        ArgumentNullException.ThrowIfNull(detection);
        var warnings = SeasonalPeriodNotes.LeftOut(detection, Settings.CandidatePeriods);
        Summary = Summary with
        {
            SeasonalPeriodDetection = detection, SeasonalPeriodDetected = detected,
            SeasonalPeriods = Series.Select(f => f.SeasonalPeriod).Distinct().Order().ToArray(),
            Notes = [.. Summary.Notes, .. warnings],
        };
        return warnings;
    }

    /// <summary>(K) each member's training diagnostics; empty for the base alone. Set by <see cref="Train(ForecasterSettings, SeriesPanel, IProgress{TrainingProgress}?, CancellationToken)"/>;
    /// the transformer's payload saves and restores them.</summary>
    public TrainingDiagnostics[] Diagnostics { get; set; } = [];

    /// <summary>The only series of a single-series model.</summary>
    /// <exception cref="InvalidOperationException">The model holds several series.</exception>
    public SeriesFit Single => Series.Count == 1 ? Series[0] : throw new InvalidOperationException($"The model holds {Series.Count} series; name one.");

    // A single-series model's parts, by the names the single-series code (and the ONNX export) reads them.

    /// <summary>A single-series model's seasonal adjustment.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public SeasonalDecomposition Season => Single.Season;

    /// <summary>A single-series model's base; null without one.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Baseline? Baseline => Single.Baseline;

    /// <summary>A single-series model's window scaling.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public WindowScaler Scaler => Single.Scaler;

    /// <summary>The half-width of the conformal bounds at step <paramref name="step"/> (0 to H − 1) and
    /// <paramref name="confidenceLevel"/>, in network units; NaN when the model has no calibration errors.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float HalfWidth(int step, float confidenceLevel) => Calibration.HalfWidth(step, confidenceLevel);

    /// <summary>Where each part of the networks' input sits in a step's F inputs.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public NetworkInputLayout InputLayout => Input.Layout;

    /// <summary>The first origin a single-series model's forecast can be made from (<see cref="SeriesFit.FirstOrigin"/>).</summary>
    public int FirstOrigin => Single.FirstOrigin(Settings);

    /// <summary>The same trained networks, λ and calibration with another list of series (the engine adds the series
    /// it started cold). Shares everything else.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ForecastModel WithSeries(IReadOnlyList<SeriesFit> series) => new(Settings, series, CovariateMean, CovariateScale, LogScaleMean, LogScaleDeviation)
    {
        Members = Members, BaseCombination = BaseCombination, CorrectionWeight = CorrectionWeight, Calibration = Calibration, Summary = Summary, Diagnostics = Diagnostics,
    };

    /// <summary>Fits a series the networks were not trained on (a cold start) to this model: its own season, base
    /// and scaling from <paramref name="values"/>, the networks and calibration unchanged.</summary>
    /// <exception cref="ArgumentException">Fewer values than a forecast reads.</exception>
    public SeriesFit FitSeries(float[] values, float[] staticFeatures)
    {
        int minimum = Settings.MinimumForecastLength;
        if (values.Length < minimum)
            throw new ArgumentException($"The series has {Counted.Of(values.Length, "value")}; a forecast reads at least {minimum} (the window).", nameof(values));
        // With candidate periods the cold series chooses its own, as a training series does.
        var fit = SeriesFit.Fit(Settings, values, staticFeatures, BaseCombination);
        if (values.Length < fit.FirstOrigin(Settings))
            throw new ArgumentException($"The series has {Counted.Of(values.Length, "value")}; its base ({fit.Baseline?.Description}) needs {fit.FirstOrigin(Settings)}.", nameof(values));
        return fit;
    }

    /// <summary>How a window of a series is written for the networks (the same for training and forecasts).</summary>
    internal NetworkInputWriter Input { get; }

    /// <summary>The steps the head is read at: the last, or the H future steps of a decoder. Either way a window's
    /// outputs are (H, Q) step-major.</summary>
    internal int HeadSteps => Settings.Decoder ? Settings.Horizon : 1;

    /// <summary>The head output that carries step k's point forecast: k, or the median head's with quantile heads.</summary>
    internal int PointOutput(int k) => Settings.QuantileCount == 0 ? k : k * Settings.QuantileCount + Settings.MedianIndex;

    // ---------------------------------------------------------------- the front door: train, forecast, save, load

    /// <summary>Trains on one series (<see cref="ForecastTrainer"/>).</summary>
    /// <exception cref="ArgumentException">The series is shorter than one window and horizon.</exception>
    public static ForecastModel Train(ForecasterSettings s, float[] values, float[] covariates,
        IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
        => ForecastTrainer.Train(s, values, covariates, progress, ct);

    /// <summary>Trains one ensemble on every series of <paramref name="panel"/> (<see cref="ForecastTrainer"/>). Members
    /// train in parallel; their epochs reach <paramref name="progress"/> one at a time, each naming its member.</summary>
    /// <exception cref="ArgumentException">A series is too short, or does not suit an explicit option (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The panel gives more windows than can be indexed (2³¹ − 1).</exception>
    public static ForecastModel Train(ForecasterSettings s, SeriesPanel panel, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
        => ForecastTrainer.Train(s, panel, progress, ct);

    /// <summary>Per-caller buffers to forecast up to <paramref name="capacity"/> series at once (<see cref="ForecastRunner"/>).</summary>
    public ForecastRunner.Scratch CreateScratch(int capacity = 1) => ForecastRunner.CreateScratch(this, capacity);

    /// <summary>Forecasts the H values after <paramref name="state"/> of a single-series model without known-future
    /// covariates, with conformal bounds at <paramref name="confidenceLevel"/>. No allocation.</summary>
    public void Forecast(ForecastState state, float confidenceLevel, ForecastRunner.Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper)
        => ForecastRunner.Forecast(this, state, confidenceLevel, scratch, forecast, lower, upper);

    /// <summary>Forecasts the H values after <paramref name="state"/> of series <paramref name="fit"/>, with bounds and,
    /// with quantile heads, the quantiles of every step (<see cref="ForecastRunner"/>). No allocation.</summary>
    public void Forecast(SeriesFit fit, ForecastState state, ReadOnlySpan<float> future, float confidenceLevel, ForecastIntervalMethod method,
        ForecastRunner.Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper, Span<float> quantiles)
        => ForecastRunner.Forecast(this, fit, state, future, confidenceLevel, method, scratch, forecast, lower, upper, quantiles);

    /// <summary>Forecasts <paramref name="count"/> series at once, one network call per member for all of them
    /// (<see cref="ForecastRunner"/>). No allocation.</summary>
    public void Forecast(IReadOnlyList<SeriesFit> fits, IReadOnlyList<ForecastState> states, ReadOnlySpan<float> futures, int count, float confidenceLevel,
        ForecastIntervalMethod method, ForecastRunner.Scratch scratch, Span<float> forecast, Span<float> lower, Span<float> upper, Span<float> quantiles)
        => ForecastRunner.Forecast(this, fits, states, futures, count, confidenceLevel, method, scratch, forecast, lower, upper, quantiles);

    /// <summary>Writes the model (<see cref="ForecastModelFormat"/>, payload version 3): when <see cref="HasDecoderSteps"/>, in
    /// transformer format 11's layout (format 10's, with the decoder-steps flag); else when <see cref="HasBaseCombination"/>,
    /// in transformer format 10's layout (format 9's, with the bases' weights and the learned combination); else when <see cref="HasArchitectureOptions"/>,
    /// in transformer format 9's layout (format 8's, then the networks' dilations and residual flag); else with the candidate
    /// seasonal periods and each series' own period when <see cref="HasSeasonalPeriods"/> (what transformer format 8 adds);
    /// else in format 7's layout.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Write(BinaryWriter w) => ForecastModelFormat.Write(this, w);

    /// <summary>Whether the settings list candidate seasonal periods (<see cref="ForecasterSettings.SeasonalPeriods"/>):
    /// then <see cref="Write"/> writes the periods, and only a reader that knows them (transformer format 8) reads it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool HasSeasonalPeriods => Settings.SeasonalPeriods.Count > 0;

    /// <summary>Whether the networks use dilations or residual connections between stacked layers
    /// (<see cref="ForecasterSettings.Dilations"/>, <see cref="ForecasterSettings.ResidualConnections"/> with more than one
    /// layer): then <see cref="Write"/> records them, and only a reader that knows them (transformer format 9) reads it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool HasArchitectureOptions => Settings.HasArchitectureOptions;

    /// <summary>Whether the panel learned a combination of the candidate bases (<see cref="BaseCombination"/>): then
    /// <see cref="Write"/> records it and every base's weights, and only a reader that knows them (transformer format 10) reads it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool HasBaseCombination => BaseCombination is not null;

    /// <summary>Whether the networks step through the horizon without known-future covariates
    /// (<see cref="ForecasterSettings.DecoderSteps"/>): then <see cref="Write"/> records it, and only a reader that knows it
    /// (transformer format 11) reads it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public bool HasDecoderSteps => Settings.HasDecoderSteps;

    /// <summary>Reads what <see cref="Write"/> wrote (<see cref="ForecastModelFormat.Read"/>), by what the transformer's
    /// format version says the payload holds: <paramref name="seriesCategories"/>, the settings carry the series count
    /// (format 6 on); <paramref name="seasonalPeriods"/>, the candidate seasonal periods and each series' own period
    /// (format 8 on); <paramref name="architecture"/>, the networks' dilations and residual flag after the periods
    /// (format 9 on, which always writes the periods block, so it implies <paramref name="seasonalPeriods"/>);
    /// <paramref name="baseCombination"/>, the bases' weights and the learned combination (format 10 on, which implies the others);
    /// <paramref name="decoderSteps"/>, the decoder-steps flag (format 11 on, which implies all of them).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ForecastModel Read(BinaryReader r, bool seriesCategories, bool seasonalPeriods, bool architecture, bool baseCombination = false,
        bool decoderSteps = false)
        => ForecastModelFormat.Read(r, seriesCategories, seasonalPeriods, architecture, baseCombination, decoderSteps);

    /// <summary>Reads payload version 2 (<see cref="ForecastModelFormat.ReadVersion2"/>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ForecastModel ReadVersion2(BinaryReader r) => ForecastModelFormat.ReadVersion2(r);

    /// <summary>Reads payload version 1 (<see cref="ForecastModelFormat.ReadVersion1"/>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ForecastModel ReadVersion1(BinaryReader r) => ForecastModelFormat.ReadVersion1(r);

    /// <summary>Writes each series' own λ (<see cref="ForecastModelFormat.WriteSeriesWeights"/>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void WriteSeriesWeights(BinaryWriter w) => ForecastModelFormat.WriteSeriesWeights(this, w);

    /// <summary>Reads what <see cref="WriteSeriesWeights"/> wrote onto this model's series.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void ReadSeriesWeights(BinaryReader r) => ForecastModelFormat.ReadSeriesWeights(this, r);

    /// <summary>
    /// The model as bytes: the settings a forecast needs, every series' fit and own λ, the networks, the calibration
    /// and the training summary (not the members' diagnostics, which a forecast does not read).
    /// <see cref="FromBytes"/> reads them back into a model that forecasts the same numbers, bit for bit.
    /// </summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            // The oldest layout that holds this model, as the transformer's formats do.
            w.Write(HasDecoderSteps ? BytesVersion : HasBaseCombination ? 4 : HasArchitectureOptions ? 3 : HasSeasonalPeriods ? 2 : 1);
            Write(w);
            WriteSeriesWeights(w);
        }
        return stream.ToArray();
    }

    /// <summary>Reads what <see cref="ToBytes"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a model this version reads.</exception>
    public static ForecastModel FromBytes(ReadOnlySpan<byte> bytes)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8);
        int version = r.ReadInt32();
        if (version is < 1 or > BytesVersion) throw new InvalidDataException($"Model bytes of version {version}; this version reads 1 to {BytesVersion}.");
        var model = Read(r, seriesCategories: true, seasonalPeriods: version >= 2, architecture: version >= 3, baseCombination: version >= 4, decoderSteps: version >= 5);
        model.ReadSeriesWeights(r);
        if (stream.Position != stream.Length) throw new InvalidDataException($"{stream.Length - stream.Position} bytes follow the model.");
        return model;
    }

    // *** Bytes of ToBytes *** int32 version (5 with decoder steps, else 4 with a learned base combination, else 3 with
    // dilations or residual connections, else 2 with candidate seasonal periods, else 1); the payload (Write); the
    // per-series weights (WriteSeriesWeights). Version 4: the payload without the decoder-steps flag (transformer format
    // 10's). Version 3: also without the combination (format 9's). Version 2: also without the architecture (format 8's).
    // Version 1: also without the seasonal periods (format 7's).
    private const int BytesVersion = 5;
}

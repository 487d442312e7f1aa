using System.Diagnostics;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Memory;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Serialization;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Regression;

// N = rows, V = validation rows (the last V), W = steps per row, F = features per step, k = target feature.
// A row's features are (W, F) row-major: step-major, oldest step first. Feature k of each step is the raw
// series the label continues (RnnRegressionOptions.TargetFeatureIndex); the local scalings take their level from it.

/// <summary>
/// The fitted scaling of window mode: how a row's features and label map to network units and back. The series
/// the label continues (feature k of every step) and the label go through the core's <see cref="WindowScaler"/>,
/// the scaling series mode uses too, with the row's level taken from feature k; the other features through the
/// shared <see cref="FeatureStandardizer"/>. See <see cref="RnnRegressionScaling"/> for the equations.
/// Allocation-free per row.
/// </summary>
internal sealed class WindowScaling
{
    public WindowScaling(RnnRegressionScaling kind, int targetFeature, WindowScaler target, FeatureStandardizer features)
    {
        Debug.Assert(targetFeature >= 0 && targetFeature < features.Count);
        Kind = kind; TargetFeature = targetFeature; Target = target; Features = features;
    }

    public RnnRegressionScaling Kind { get; }

    /// <summary>k: the feature of each step that holds the raw series the label continues, in label units.
    /// Unused by <see cref="RnnRegressionScaling.Global"/>.</summary>
    public int TargetFeature { get; }

    /// <summary>The scaling of feature k and the label.</summary>
    public WindowScaler Target { get; }

    /// <summary>The z-scores of the features (of every feature under <see cref="RnnRegressionScaling.Global"/>).</summary>
    public FeatureStandardizer Features { get; }

    /// <summary>s: one network unit of the label (LastValue, WindowMean: RMS of y − ℓ; LogRatio: RMS of ln(y/ℓ);
    /// Global: σ of y).</summary>
    public float TargetScale => Target.Scale;

    /// <summary>Global: μ of the label; the level of every row.</summary>
    public float LabelMean => Target.Mean;

    public float[] FeatureMean => Features.Mean;     // (F) μ per feature over the training rows and steps
    public float[] FeatureScale => Features.Scale;   // (F) σ per feature, 1 where σ is 0

    public int FeaturesPerStep => Features.Count;

    /// <summary>The core scaling each option stands for: where the level comes from (the last value of feature k,
    /// or its mean over the W steps) and how values relate to it.</summary>
    private static (SeriesScaling Kind, int LevelSteps) Core(RnnRegressionScaling kind, int W) => kind switch
    {
        RnnRegressionScaling.LastValue => (SeriesScaling.Difference, 1),
        RnnRegressionScaling.WindowMean => (SeriesScaling.Difference, W),
        RnnRegressionScaling.LogRatio => (SeriesScaling.LogRatio, 1),
        _ => (SeriesScaling.Global, 1),
    };

    /// <summary>Fits the scaling to the training rows (N, W, F) and labels (N); for <see cref="RnnRegressionScaling.LogRatio"/>
    /// feature k and the labels must be positive (the caller checks).</summary>
    public static WindowScaling Fit(RnnRegressionScaling kind, int targetFeature, ReadOnlySpan<float> features, ReadOnlySpan<float> labels, int N, int W, int F)
    {
        var standardizer = FeatureStandardizer.Fit(features[..(N * W * F)], F);
        var (core, levelSteps) = Core(kind, W);
        var provisional = new WindowScaling(kind, targetFeature, new WindowScaler(core, levelSteps, 1f, 0f, 0f), standardizer);
        var levels = new float[N];
        for (int n = 0; n < N; n++) levels[n] = provisional.Level(features.Slice(n * W * F, W * F));
        return new WindowScaling(kind, targetFeature, WindowScaler.FitToTargets(core, levelSteps, levels, labels[..N]), standardizer);
    }

    /// <summary>ℓ of one row (W·F values): feature k at the last step, its mean over the steps, or the label mean.</summary>
    public float Level(ReadOnlySpan<float> row)
    {
        int F = FeaturesPerStep, W = row.Length / F, k = TargetFeature;
        if (Target.LevelSteps == 1 || Target.Kind == SeriesScaling.Global) return Target.Level(row.Slice((W - 1) * F + k, 1));
        Span<float> series = W <= 1024 ? stackalloc float[W] : new float[W];
        for (int t = 0; t < W; t++) series[t] = row[t * F + k];
        return Target.Level(series);
    }

    /// <summary>Writes the network input of one row into <paramref name="destination"/> (W·F values). Returns
    /// false when the row cannot be scaled: LogRatio with a feature k that is not positive.</summary>
    public bool ScaleFeatures(ReadOnlySpan<float> row, float level, Span<float> destination)
    {
        int F = FeaturesPerStep;
        bool global = Kind == RnnRegressionScaling.Global, log = Kind == RnnRegressionScaling.LogRatio;
        for (int j = 0; j < row.Length; j++)
        {
            int f = j % F;
            if (f != TargetFeature || global)
            {
                destination[j] = Features.Apply(row[j], f);
                continue;
            }
            if (log && !(row[j] > 0f && level > 0f)) return false;
            destination[j] = Target.Forward(row[j], level);
        }
        return true;
    }

    /// <summary>Label units → network units.</summary>
    public float ScaleLabel(float y, float level) => Target.Forward(y, level);

    /// <summary>Network units → label units.</summary>
    public float Unscale(float output, float level) => Target.Inverse(output, level);

    /// <summary>Writes the current format (2); see <see cref="WindowRegressionModel.Write"/>.</summary>
    public void Write(BinaryWriter w)
    {
        Persisted.WriteEnum(w, Kind);
        w.Write(TargetScale);
        w.Write(LabelMean);
        w.Write(FeaturesPerStep);
        w.Write(TargetFeature);
        foreach (float v in FeatureMean) w.Write(v);
        foreach (float v in FeatureScale) w.Write(v);
    }

    /// <summary>Reads format <paramref name="version"/>: 1 wrote the kind as an integer and had no target feature
    /// (it was always feature 0); 2 writes the kind by name and the target feature.</summary>
    public static WindowScaling Read(BinaryReader r, int version)
    {
        var kind = version == 1 ? (RnnRegressionScaling)r.ReadInt32() : Persisted.ReadEnum<RnnRegressionScaling>(r);
        if (!Enum.IsDefined(kind)) throw new InvalidDataException($"Unknown scaling {(int)kind}.");
        float targetScale = r.ReadSingle(), labelMean = r.ReadSingle();
        int F = r.ReadInt32();
        if (F < 1 || F > 1 << 20) throw new InvalidDataException($"Features per step {F} is out of range.");
        int k = version == 1 ? 0 : r.ReadInt32();
        if (k < 0 || k >= F) throw new InvalidDataException($"Target feature {k} is out of range for {Training.Counted.Of(F, "feature")} per step.");
        var mean = new float[F];
        var scale = new float[F];
        for (int f = 0; f < F; f++) mean[f] = r.ReadSingle();
        for (int f = 0; f < F; f++) scale[f] = r.ReadSingle();
        if (!(targetScale > 0) || !float.IsFinite(targetScale) || !float.IsFinite(labelMean))
            throw new InvalidDataException($"Saved scaling out of range: unit {targetScale}, label mean {labelMean}.");
        // The level rule follows from the kind and the row, so only W is missing: WindowMean's level averages every
        // step, which Level reads off the row's length (levelSteps = int.MaxValue is capped by it).
        var (core, levelSteps) = Core(kind, int.MaxValue);
        return new WindowScaling(kind, k, new WindowScaler(core, levelSteps, targetScale, labelMean, 0f), new FeatureStandardizer(mean, scale));
    }
}

/// <summary>
/// Window mode's model without ML.NET: a scaling and a recurrent network that reads W steps of F features and
/// predicts one value at the last step. The transformer wraps it; tests can drive it with arrays.
/// </summary>
internal sealed class WindowRegressionModel
{
    public WindowRegressionModel(int steps, WindowScaling scaling, RecurrentNetwork network)
    {
        Debug.Assert(network.Spec.InputSize == scaling.FeaturesPerStep && network.Spec.OutputSize == 1);
        Steps = steps; Scaling = scaling; Network = network;
    }

    /// <summary>W.</summary>
    public int Steps { get; }

    /// <summary>F.</summary>
    public int FeaturesPerStep => Scaling.FeaturesPerStep;

    public WindowScaling Scaling { get; }

    public RecurrentNetwork Network { get; }

    /// <summary>
    /// Fits the scaling on the training rows and trains the network, validating on the last
    /// ⌊N·ValidationFraction⌉ rows. <paramref name="features"/> is (N, W, F), <paramref name="labels"/> (N).
    /// </summary>
    /// <exception cref="InvalidOperationException">Too few rows for the validation split (names ValidationFraction).</exception>
    /// <param name="o">The options; <see cref="RnnOptionsBase.Seed"/> is ignored in favour of <paramref name="seed"/>.</param>
    /// <param name="seed">The seed actually used: the options' or the one drawn from the MLContext.</param>
    /// <param name="features">(N, W, F) raw features.</param>
    /// <param name="labels">(N) raw labels.</param>
    /// <param name="N">Rows.</param>
    /// <param name="W">Steps per row.</param>
    /// <param name="progress">Told after each epoch.</param>
    /// <param name="ct">Cancels training.</param>
    public static (WindowRegressionModel Model, RnnRegressionTrainingSummary Summary, TrainingDiagnostics Diagnostics) Train(RnnRegressionOptions o, int seed,
        float[] features, float[] labels, int N, int W, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        int F = o.FeaturesPerStep;
        int V = ValidationRows(o.ValidationFraction, N);
        int trainCount = N - V;
        var scaling = WindowScaling.Fit(o.Scaling, o.TargetFeatureIndex, features.AsSpan(0, trainCount * W * F), labels.AsSpan(0, trainCount), trainCount, W, F);

        var inputs = new float[N * W * F];      // (N, W, F) network units
        var targets = new float[N];             // (N, 1, 1) network units
        for (int n = 0; n < N; n++)
        {
            var row = features.AsSpan(n * W * F, W * F);
            float level = scaling.Level(row);
            bool scaled = scaling.ScaleFeatures(row, level, inputs.AsSpan(n * W * F, W * F));
            Debug.Assert(scaled, "The estimator checks LogRatio's positive values before training.");
            targets[n] = scaling.ScaleLabel(labels[n], level);
        }
        var train = new SequenceDataset(inputs[..(trainCount * W * F)], targets[..trainCount], trainCount, W, F, 1);
        var validation = V > 0 ? new SequenceDataset(inputs[(trainCount * W * F)..], targets[trainCount..], V, W, F, 1) : null;

        var spec = new RecurrentNetworkSpec
        {
            Cell = o.Cell, InputSize = F, HiddenSizes = o.HiddenSizes.ToArray(), OutputSize = 1, LayerNormalization = o.LayerNormalization,
            Dilations = o.Dilations.ToArray(), ResidualConnections = o.ResidualConnections,
        };
        var network = new RecurrentNetwork(spec, seed);
        var training = new TrainingOptions
        {
            Epochs = o.Epochs,
            BatchSize = o.BatchSize,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = o.LearningRate },
            GradientClipping = o.GradientClippingThreshold is null ? GradientClippingMode.None : GradientClippingMode.GlobalNorm,
            GradientClippingThreshold = o.GradientClippingThreshold ?? TrainingOptions.Defaults.GradientClippingThreshold,
            TruncationLength = o.TruncationLength,
            VanishingRegularizerWeight = o.VanishingRegularizerWeight,
            SamplesPerEpoch = o.RowsPerEpoch,
            MaximumSteps = o.MaximumSteps,
            EarlyStoppingPatience = validation is null ? null : o.EarlyStoppingPatience,
            RestoreBestWeights = true,
            Seed = seed,
        };
        var recorder = new TrainingRecorder(network, training, progress);
        var report = new RecurrentTrainer(network, training).Fit(train, validation, recorder, ct);
        return (new WindowRegressionModel(W, scaling, network), RnnRegressionTrainingSummary.From(report, scaling, trainCount, V, seed), recorder.Finish(report));
    }

    /// <summary>V for N rows: ⌊N·fraction⌉, 0 when the fraction is 0.</summary>
    /// <exception cref="InvalidOperationException">The split leaves no row on one side.</exception>
    public static int ValidationRows(float fraction, int N)
    {
        if (fraction == 0f) return 0;
        int V = (int)Math.Round(N * (double)fraction, MidpointRounding.AwayFromZero);
        if (V < 1 || V >= N)
            throw new InvalidOperationException(
                $"ValidationFraction {fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)} of {Training.Counted.Of(N, "row")} leaves {V} for validation and {N - V} for training; " +
                "both need at least 1. Provide more rows or set ValidationFraction to 0.");
        return V;
    }

    /// <summary>What one thread needs to predict: a workspace for one row. Allocates it.</summary>
    public Workspace CreateWorkspace() => Network.CreateWorkspace(Steps, 1, 1);

    /// <summary>The prediction for one row of W·F raw features, in label units. No allocation.</summary>
    public float Predict(ReadOnlySpan<float> row, Workspace ws)
    {
        Debug.Assert(row.Length == Steps * FeaturesPerStep);
        float level = Scaling.Level(row);
        // One row: the workspace's time-major (W, 1, F) input is the row's own (W, F) layout.
        if (!Scaling.ScaleFeatures(row, level, ws.Input.AsSpan(0, row.Length))) return float.NaN;
        ws.ResetState(1);
        Network.Forward(ws, Steps, 1, 1);
        return Scaling.Unscale(ws.Output[0], level);
    }

    // *** Binary format, version 2 (RnnRegressionModelParameters) ***
    // int32:   W, steps per row
    // scaling: string kind, float s, float label mean, int32 F, int32 target feature k,
    //          float[F] feature means, float[F] feature scales
    // spec:    string cell, int32 I, int32 L, int32[L] hidden sizes, int32 O, bool layer norm,
    //          string Elman activation, float leaky slope, float rrelu lower, float rrelu upper, float ELU α
    //          (format 4 on: int32 D, int32[D] dilations, bool residual connections)
    // int32:   parameter count, then float[count] parameters (ParameterBuffer layout)
    // Enums are written by name, so reordering or inserting a member never changes what an old model means.
    //
    // *** Binary format, version 1 (RnnRegressionTransformer, read by RnnRegressionVersionOneLoader) ***
    // As version 2, but enums as int32 and no target feature (always 0).
    public void Write(BinaryWriter w, bool architecture)
    {
        // Without the architecture a reader rebuilds an undilated network without residual connections: another model.
        if (!architecture && HasArchitectureOptions)
            throw new InvalidOperationException("This network uses dilations or residual connections, which only format 4 records.");
        w.Write(Steps);
        Scaling.Write(w);
        var spec = Network.Spec;
        Persisted.WriteEnum(w, spec.Cell);
        w.Write(spec.InputSize);
        w.Write(spec.HiddenSizes.Count);
        foreach (int h in spec.HiddenSizes) w.Write(h);
        w.Write(spec.OutputSize);
        w.Write(spec.LayerNormalization);
        Persisted.WriteEnum(w, spec.Activation);
        w.Write(spec.LeakySlope);
        w.Write(spec.RandomizedLeakyLower);
        w.Write(spec.RandomizedLeakyUpper);
        w.Write(spec.EluAlpha);
        if (architecture)
        {
            w.Write(spec.Dilations.Count);
            foreach (int d in spec.Dilations) w.Write(d);
            w.Write(spec.ResidualConnections);
        }
        var values = Network.Parameters.Values;
        w.Write(values.Length);
        foreach (float v in values) w.Write(v);
    }

    /// <summary>Whether the network uses dilations or residual connections between stacked layers, which only format 4
    /// records. Residual connections on a single layer connect nothing, so such a model is written as before.</summary>
    public bool HasArchitectureOptions => Network.Spec.Dilations.Count > 0 || (Network.Spec.ResidualConnections && Network.Spec.Layers > 1);

    public static WindowRegressionModel Read(BinaryReader r, int version)
    {
        int W = r.ReadInt32();
        if (W < 1) throw new InvalidDataException($"Steps per row {W} is out of range.");
        var scaling = WindowScaling.Read(r, version);
        var cell = version == 1 ? (Core.Cells.RecurrentCellKind)r.ReadInt32() : Persisted.ReadEnum<Core.Cells.RecurrentCellKind>(r);
        int inputSize = r.ReadInt32();
        int layers = r.ReadInt32();
        if (layers < 1 || layers > 1024) throw new InvalidDataException($"Layer count {layers} is out of range.");
        var hidden = new int[layers];
        for (int l = 0; l < layers; l++) hidden[l] = r.ReadInt32();
        int outputSize = r.ReadInt32();
        bool layerNorm = r.ReadBoolean();
        var activation = version == 1 ? (Core.Cells.ElmanActivation)r.ReadInt32() : Persisted.ReadEnum<Core.Cells.ElmanActivation>(r);
        var spec = new RecurrentNetworkSpec
        {
            Cell = cell, InputSize = inputSize, HiddenSizes = hidden, OutputSize = outputSize, LayerNormalization = layerNorm,
            Activation = activation, LeakySlope = r.ReadSingle(),
            RandomizedLeakyLower = r.ReadSingle(), RandomizedLeakyUpper = r.ReadSingle(), EluAlpha = r.ReadSingle(),
        };
        if (version >= 4)
        {
            int D = r.ReadInt32();
            if (D < 0 || D > layers) throw new InvalidDataException($"Dilation count {D} is out of range (0 to {layers}).");
            var dilations = new int[D];
            for (int l = 0; l < D; l++) dilations[l] = r.ReadInt32();
            spec = spec with { Dilations = dilations, ResidualConnections = r.ReadBoolean() };
        }
        try
        {
            spec.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The saved network is invalid: {ex.Message}", ex);
        }
        if (spec.InputSize != scaling.FeaturesPerStep || spec.OutputSize != 1)
            throw new InvalidDataException($"The saved network reads {spec.InputSize} features and writes {spec.OutputSize} outputs; the scaling has {scaling.FeaturesPerStep} features per step and one label.");
        int count = r.ReadInt32();
        if (count < 0 || count > 1 << 28) throw new InvalidDataException($"Parameter count {count} is out of range.");
        var values = new float[count];
        for (int k = 0; k < count; k++) values[k] = r.ReadSingle();
        try
        {
            return new WindowRegressionModel(W, scaling, RecurrentNetwork.FromParameters(spec, values));
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The saved parameters do not fit the saved network: {ex.Message}", ex);
        }
    }
}

using System.Globalization;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Forecasting.Baselines;
using Names = MLNetRnn.RnnForecastingOnnxNames;

namespace MLNetRnn.Onnx;

// N = forecast origins (the graph's dynamic batch), W = window, H = horizon, C = covariates, F = inputs per step,
// m = seasonal period, K = ensemble members, L = trailing values averaged into the level.
// t = the time index of the first value to forecast (the values observed so far, counted from the first training
// value): window step j is time t − W + j, forecast step k is time t + k. The graph reads t mod m.
//
// The graph repeats NetworkInputWriter.Prepare and ForecastRunner's MeanOfMembers and Forecast with the same operations
// in the same order (deseasonalise, level, x − ℓ then ÷ s, ℓ + s·y, reseasonalise), so everything but the recurrent
// kernels and the float log/exp is bit for bit the library's arithmetic (docs/design/onnx.md). The networks' input is
// assembled from the model's NetworkInputLayout, the same description of a row the library's writer fills.

/// <summary>
/// Writes a series-mode forecaster (<see cref="ForecastModel"/>, direct strategy) as one ONNX graph from what a
/// forecast at one origin reads to the forecast and its bounds, for N origins at once. The statistical base's
/// smoothing state stays outside: the graph reads the base's forecasts, which <see cref="InputsFor"/> takes from a
/// series state. No ML.NET here.
/// </summary>
internal static class ForecastModelOnnx
{
    private const string Prefix = "mlnetrnn";

    /// <summary>One graph input: its name, its shape after N, and what it holds.</summary>
    internal readonly record struct InputSpec(string Name, long[] Dims, string Doc);

    /// <summary>Throws if the model has a part the graph cannot express, naming the option.</summary>
    /// <exception cref="NotSupportedException">Many series, a decoder, static or scale features, quantile heads, the
    /// recursive strategy, or layer normalisation.</exception>
    public static void CheckExportable(ForecastModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var s = model.Settings;
        // The graph carries one series' seasonal indices and scaling, and the direct head read at the last step.
        if (model.Series.Count != 1)
            throw new NotSupportedException($"This forecaster holds {model.Series.Count} series (SeriesIdColumnName); the ONNX export writes the graph of one series' forecaster. Fit one series per model to export it.");
        if (s.Decoder || s.QuantileCount > 0 || s.StaticFeatureCount > 0 || s.ScaleFeature)
            throw new NotSupportedException("This forecaster steps through the horizon (a decoder: known-future covariates, calendar features or DecoderSteps), reads static features, the series' scale, or has quantile heads; the ONNX export covers the direct forecaster without them.");
        if (s.Recursive)
            throw new NotSupportedException(
                "This forecaster uses the recursive strategy (Strategy = ForecastingStrategy.Recursive): each step's forecast is " +
                "appended to the window, re-scaled by the new window's level and read again by the base and the networks, a loop " +
                "over the horizon with the base's smoothing inside, which the ONNX export does not express. Train with " +
                "Strategy = ForecastingStrategy.Direct (the default) to export the model.");
        RecurrentNetworkOnnx.CheckExportable(s.NetworkSpec);
        foreach (var segment in model.InputLayout.Segments)
            if (segment.Part is not (NetworkInputPart.Value or NetworkInputPart.BaseError or NetworkInputPart.Covariates or NetworkInputPart.Season))
                throw new NotSupportedException($"The networks read {segment.Part} (input columns {segment.Offset} to {segment.Offset + segment.Width - 1}), which the ONNX export does not write.");
        if (model.Season.Kind != SeasonalAdjustment.None && model.Season.Period != model.Single.SeasonalPeriod)
            throw new NotSupportedException($"The seasonal indices have period {model.Season.Period}, the series {model.Single.SeasonalPeriod}; the graph reads one position in the season.");
    }

    /// <summary>The graph's inputs, in order. Which ones depend on the model: the base's forecasts only with a base,
    /// the covariates only with covariates, the position in the season only when the season is removed or fed to the
    /// networks.</summary>
    public static IReadOnlyList<InputSpec> Inputs(ForecastModel model)
    {
        var s = model.Settings;
        var layout = model.InputLayout;
        int W = s.WindowSize, H = s.Horizon, C = layout.CovariateCount;
        var inputs = new List<InputSpec>
        {
            new(Names.Values, [W], "(N, W) the last W values of the series, oldest first, as observed (not seasonally adjusted)."),
        };
        if (layout.BaseError >= 0)
            inputs.Add(new(Names.BaseOneStepForecasts, [W], "(N, W) the base's one-step forecast of each of those W values, made before it saw the value."));
        if (C > 0)
            inputs.Add(new(Names.Covariates, [W, C], "(N, W, C) the covariates of those W rows, as observed (the graph standardises them)."));
        if (UsesSeasonPosition(model))
            inputs.Add(new(Names.SeasonPosition, [1], $"(N, 1) t mod {model.Single.SeasonalPeriod}: the position in the season of the first value to forecast, t counted from the first training value (an integer in [0, {model.Single.SeasonalPeriod}))."));
        if (model.Baseline is not null)
            inputs.Add(new(Names.BaseForecast, [H], "(N, H) the base's forecast of the next H values, as the base makes it (seasonal)."));
        return inputs;
    }

    /// <summary>The whole ONNX model, encoded. Nothing is built when the model cannot be exported.</summary>
    /// <exception cref="NotSupportedException">See <see cref="CheckExportable"/>.</exception>
    public static byte[] Export(ForecastModel model, float confidenceLevel)
    {
        CheckExportable(model);
        var s = model.Settings;
        int H = s.Horizon;
        var g = new OnnxModelWriter();
        foreach (var input in Inputs(model)) g.AddInput(input.Name, OnnxModelWriter.Float, input.Doc, input.Dims);
        var (forecast, lower, upper) = Write(g, model, confidenceLevel);
        string level = confidenceLevel.ToString("R", CultureInfo.InvariantCulture);
        g.AddOutput(Names.Forecast, forecast, "(N, H) the forecast of the next H values, in the series' units.", H);
        g.AddOutput(Names.LowerBound, lower, $"(N, H) lower bounds at confidence level {level} (NaN when the model has no calibration errors).", H);
        g.AddOutput(Names.UpperBound, upper, $"(N, H) upper bounds at confidence level {level}.", H);

        g.AddMetadata("mlnetrnn.confidence_level", level);
        g.AddMetadata("mlnetrnn.window_size", s.WindowSize.ToString(CultureInfo.InvariantCulture));
        g.AddMetadata("mlnetrnn.horizon", H.ToString(CultureInfo.InvariantCulture));
        g.AddMetadata("mlnetrnn.seasonal_period", model.Single.SeasonalPeriod.ToString(CultureInfo.InvariantCulture));
        g.AddMetadata("mlnetrnn.covariates", s.CovariateCount.ToString(CultureInfo.InvariantCulture));
        g.AddMetadata("mlnetrnn.base", model.Baseline?.Description ?? "none");
        string version = typeof(ForecastModelOnnx).Assembly.GetName().Version?.ToString() ?? "";
        return g.ToModel("mlnetrnn_forecaster", version,
            "An MLNetRnn series-mode forecaster: N forecasts of H values from what a forecast reads at each origin " +
            "(docs/design/onnx.md, 'Series mode'). RnnForecastingEngine.GetOnnxInputs produces the inputs from a series state.");
    }

    /// <summary>The inputs of the graph for the forecast from <paramref name="state"/> (N = 1).</summary>
    public static RnnForecastingOnnxInputs InputsFor(ForecastModel model, ForecastState state)
    {
        var s = model.Settings;
        int W = s.WindowSize, H = s.Horizon, C = s.CovariateCount;
        var values = new float[W];
        var oneStep = new float[W];
        var covariates = new float[W * C];
        var baseForecast = new float[H];
        RawForecastInputs(model, state, values, oneStep, covariates, baseForecast, new float[H]);
        var tensors = Inputs(model).Select(input => new RnnOnnxTensor(input.Name, input.Name switch
        {
            Names.Values => values,
            Names.BaseOneStepForecasts => oneStep,
            Names.Covariates => covariates,
            Names.SeasonPosition => [(float)(state.Count % model.Single.SeasonalPeriod)],
            Names.BaseForecast => baseForecast,
            _ => throw new InvalidOperationException($"No value for ONNX input '{input.Name}'."),
        }, [1, .. input.Dims.Select(d => (int)d)])).ToArray();
        return new RnnForecastingOnnxInputs(1, tensors);
    }

    /// <summary>
    /// The raw numbers NetworkInputWriter.Prepare (in MLNetRnn.Core) reads from <paramref name="state"/> for a direct forecast
    /// of a single-series model, which the graph turns into the networks' input with the same arithmetic: the window's
    /// W values and the base's one-step forecasts of them, the window's covariates (W, C), and the base's forecast of
    /// the next H values (left as it is without a base). No allocation.
    /// </summary>
    private static void RawForecastInputs(ForecastModel model, ForecastState state, Span<float> window, Span<float> baseOneStep,
        Span<float> covariates, Span<float> baseForecast, Span<float> baseScratch)
    {
        int W = model.Settings.WindowSize, H = model.Settings.Horizon;
        state.History.AsSpan(state.History.Length - W, W).CopyTo(window);
        state.BaseOneStep.CopyTo(baseOneStep);
        state.Covariates.CopyTo(covariates);
        model.Baseline?.Forecast(state.BaseState, state.History, state.Count, baseForecast[..H], baseScratch[..H]);
    }

    /// <summary>Writes the nodes from the declared inputs to the forecast and the bounds at
    /// <paramref name="confidenceLevel"/>; returns the three variables, each (N, H).</summary>
    public static (string Forecast, string Lower, string Upper) Write(IOnnxGraph g, ForecastModel model, float confidenceLevel)
    {
        var s = model.Settings;
        var scaler = model.Scaler;
        var season = model.Season;
        int W = s.WindowSize, H = s.Horizon, m = model.Single.SeasonalPeriod;
        bool log = scaler.Kind == SeriesScaling.LogRatio;
        string scale = g.AddInitializer($"{Prefix}.scale", [scaler.Scale], 1);
        string floor = log ? g.AddInitializer($"{Prefix}.floor", [scaler.Floor], 1) : "";

        // Positions in the season, int64: (t − W + j) mod m for the window (N, W), (t + k) mod m for the horizon (N, H).
        string windowPosition = "", horizonPosition = "";
        if (UsesSeasonPosition(model))
        {
            string t = Node(g, "Cast", [Names.SeasonPosition], "t", OnnxAttribute.Int("to", OnnxModelWriter.Int64));
            string period = g.AddInitializer($"{Prefix}.period", [(long)m], 1);
            long shift = (long)m * ((W + m - 1) / m);   // a multiple of m ≥ W, so no operand of Mod is negative
            var windowOffsets = Enumerable.Range(0, W).Select(j => j - W + shift).ToArray();
            var horizonOffsets = Enumerable.Range(0, H).Select(k => (long)k).ToArray();
            windowPosition = Node(g, "Mod", [Node(g, "Add", [t, g.AddInitializer($"{Prefix}.window_offsets", windowOffsets, 1, W)], "window_time"), period], "window_position");
            horizonPosition = Node(g, "Mod", [Node(g, "Add", [t, g.AddInitializer($"{Prefix}.horizon_offsets", horizonOffsets, 1, H)], "horizon_time"), period], "horizon_position");
        }
        string indices = season.Kind == SeasonalAdjustment.None ? "" : g.AddInitializer($"{Prefix}.seasonal_indices", season.Indices, season.Period);
        var gathered = new Dictionary<string, string>();   // positions → their seasonal indices, gathered once
        string SeasonalIndex(string positions) => gathered.TryGetValue(positions, out var v) ? v
            : gathered[positions] = Node(g, "Gather", [indices, positions], "seasonal_index", OnnxAttribute.Int("axis", 0));
        // SeasonalDecomposition.Deseasonalize and Reseasonalize.
        string Deseasonalize(string x, string positions) => season.Kind switch
        {
            SeasonalAdjustment.Multiplicative => Node(g, "Div", [x, SeasonalIndex(positions)], "adjusted"),
            SeasonalAdjustment.Additive => Node(g, "Sub", [x, SeasonalIndex(positions)], "adjusted"),
            _ => x,
        };
        string Reseasonalize(string d) => season.Kind switch
        {
            SeasonalAdjustment.Multiplicative => Node(g, "Mul", [d, SeasonalIndex(horizonPosition)], "reseasonalized"),
            SeasonalAdjustment.Additive => Node(g, "Add", [d, SeasonalIndex(horizonPosition)], "reseasonalized"),
            _ => d,
        };

        // The level ℓ (N, 1) of the adjusted window, as WindowScaler.Level: the last value, or the mean of the last L in
        // double precision (geometric for log ratios, of values floored at the scaler's floor), rounded to float.
        string adjusted = Deseasonalize(Names.Values, windowPosition);
        string level;
        if (scaler.Kind == SeriesScaling.Global)
        {
            level = g.AddInitializer($"{Prefix}.level", [scaler.Mean], 1, 1);
        }
        else if (scaler.LevelSteps == 1)
        {
            level = Gather(g, adjusted, [W - 1], "level");
        }
        else
        {
            int L = Math.Min(scaler.LevelSteps, W);
            string last = Gather(g, adjusted, Enumerable.Range(W - L, L).Select(j => (long)j).ToArray(), "level_values");
            if (log) last = Node(g, "Max", [last, floor], "level_floored");
            string wide = Node(g, "Cast", [last], "level_double", OnnxAttribute.Int("to", OnnxModelWriter.Double));
            if (log) wide = Node(g, "Log", [wide], "level_log");
            string mean = Node(g, "ReduceMean", [wide], "level_mean", OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 1));
            if (log) mean = Node(g, "Exp", [mean], "level_geometric");
            level = Node(g, "Cast", [mean], "level", OnnxAttribute.Int("to", OnnxModelWriter.Float));
        }

        // WindowScaler.Forward and Inverse.
        string Forward(string x) => log
            ? Node(g, "Div", [Node(g, "Log", [Node(g, "Div", [Node(g, "Max", [x, floor], "floored"), level], "ratio")], "log_ratio"), scale], "scaled")
            : Node(g, "Div", [Node(g, "Sub", [x, level], "minus_level"), scale], "scaled");
        string Inverse(string y) => log
            ? Node(g, "Mul", [level, Node(g, "Exp", [Node(g, "Mul", [y, scale], "s_y")], "exp")], "unscaled")
            : Node(g, "Add", [level, Node(g, "Mul", [scale, y], "s_y")], "unscaled");

        // The networks' input (W, N, F): one part per block of the model's input layout, concatenated in its column
        // order, so a row holds what NetworkInputWriter writes where it writes it: the scaled value, the base's
        // one-step error, the standardised covariates, sin and cos of the position in the season.
        string value = Forward(adjusted);
        var parts = new List<string>();
        foreach (var segment in model.InputLayout.Segments)
            parts.Add(segment.Part switch
            {
                NetworkInputPart.Value => Steps(g, value, W, "value_feature"),
                NetworkInputPart.BaseError =>
                    Steps(g, Node(g, "Sub", [value, Forward(Deseasonalize(Names.BaseOneStepForecasts, windowPosition))], "base_error"), W, "base_error_feature"),
                NetworkInputPart.Covariates =>
                    Node(g, "Div", [Node(g, "Sub", [Names.Covariates, g.AddInitializer($"{Prefix}.covariate_mean", model.CovariateMean, segment.Width)], "covariates_centred"),
                        g.AddInitializer($"{Prefix}.covariate_scale", model.CovariateScale, segment.Width)], "covariate_features"),
                NetworkInputPart.Season =>
                    Node(g, "Gather", [g.AddInitializer($"{Prefix}.season_sin_cos", SinCosTable(m), m, segment.Width), windowPosition], "season_features", OnnxAttribute.Int("axis", 0)),
                _ => throw new NotSupportedException($"The networks read {segment.Part}, which the ONNX export does not write (see CheckExportable)."),
            });
        string features = parts.Count == 1 ? parts[0] : Node(g, "Concat", [.. parts], "features", OnnxAttribute.Int("axis", 2));
        string sequence = Node(g, "Transpose", [features], "sequence", OnnxAttribute.Ints("perm", 1, 0, 2));

        // y = r + λ·(mean of the members' outputs), as ForecastScaled; with λ = 0 the library skips the networks, and so
        // does the graph.
        string? correction = null;
        if (model.CorrectionWeight > 0f && model.Members.Length > 0)
        {
            string sum = "";
            for (int k = 0; k < model.Members.Length; k++)
            {
                string output = RecurrentNetworkOnnx.WriteLastStep(g, model.Members[k], sequence, W, $"{Prefix}.member{k}");   // (N, H)
                sum = k == 0 ? output : Node(g, "Add", [sum, output], "members_sum");
            }
            string mean = Node(g, "Div", [sum, g.AddInitializer($"{Prefix}.members", [(float)model.Members.Length], 1)], "members_mean");
            correction = Node(g, "Mul", [g.AddInitializer($"{Prefix}.lambda", [model.CorrectionWeight], 1), mean], "correction");
        }
        string? reference = model.Baseline is null ? null : Forward(Deseasonalize(Names.BaseForecast, horizonPosition));
        string y = (reference, correction) switch
        {
            ({ } r, { } c) => Node(g, "Add", [r, c], "y"),
            ({ } r, null) => r,
            (null, { } c) => c,
            // Neither base nor networks: y = 0, (N, H).
            _ => Node(g, "Mul", [Gather(g, adjusted, [W - 1], "last"), g.AddInitializer($"{Prefix}.zeros", new float[H], 1, H)], "y"),
        };

        // The forecast and the bounds, as ForecastRunner.Forecast: ℓ⁻¹(y ∓ q_k), reseasonalised, in order.
        var halfWidths = Enumerable.Range(0, H).Select(k => model.HalfWidth(k, confidenceLevel)).ToArray();
        string q = g.AddInitializer($"{Prefix}.half_width", halfWidths, 1, H);
        string forecast = Reseasonalize(Inverse(y));
        string a = Reseasonalize(Inverse(Node(g, "Sub", [y, q], "y_low")));
        string b = Reseasonalize(Inverse(Node(g, "Add", [y, q], "y_high")));
        return (forecast, Node(g, "Min", [a, b], "lower"), Node(g, "Max", [a, b], "upper"));
    }

    private static bool UsesSeasonPosition(ForecastModel model)
        => model.Season.Kind != SeasonalAdjustment.None || model.InputLayout.Season >= 0;

    /// <summary>(m, 2): sin and cos of 2π·p/m for each position p, computed as NetworkInputWriter.Prepare computes them.</summary>
    private static float[] SinCosTable(int m)
    {
        var table = new float[2 * m];
        for (int p = 0; p < m; p++)
        {
            double phase = 2 * Math.PI * p / m;
            table[2 * p] = (float)Math.Sin(phase);
            table[2 * p + 1] = (float)Math.Cos(phase);
        }
        return table;
    }

    /// <summary>(N, W) → (N, W, 1), one feature per step.</summary>
    private static string Steps(IOnnxGraph g, string x, int W, string name)
        => Node(g, "Reshape", [x, g.AddInitializer($"{Prefix}.shape_NW1", [-1L, W, 1], 3)], name);

    /// <summary>Columns <paramref name="columns"/> of <paramref name="x"/> (N, ·): (N, count).</summary>
    private static string Gather(IOnnxGraph g, string x, long[] columns, string name)
        => Node(g, "Gather", [x, g.AddInitializer($"{Prefix}.{name}_columns", columns, columns.Length)], name, OnnxAttribute.Int("axis", 1));

    private static string Node(IOnnxGraph g, string op, string[] inputs, string name, params OnnxAttribute[] attributes)
    {
        string output = g.NewVariable($"{Prefix}.{name}");
        g.AddNode(op, inputs, [output], attributes);
        return output;
    }
}

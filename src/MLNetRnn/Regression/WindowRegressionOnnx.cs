using MLNetRnn.Onnx;

namespace MLNetRnn.Regression;

// N = rows (dynamic), W = steps, F = features per step, S = W·F slots, k = target feature.
// The features arrive as (N, S), step-major as in training. Every scaling below is the one WindowScaling applies,
// written with the same operations in the same order (x − ℓ, then ÷ s; ℓ + s·out), so ONNX Runtime reproduces the
// library's inputs to the network exactly and its outputs within the rounding of the recurrent kernels.

/// <summary>
/// Writes a window-mode model into an ONNX graph: the scaling of each row, the network (through
/// <see cref="RecurrentNetworkOnnx"/>) and the scaling back to label units. No ML.NET here.
/// </summary>
internal static class WindowRegressionOnnx
{
    private const string Prefix = "mlnetrnn";

    /// <summary>Writes the nodes that turn <paramref name="features"/> (N, W·F) into <paramref name="output"/> (N, 1).</summary>
    /// <exception cref="NotSupportedException">The network cannot be expressed with ONNX's operators (the message says why).</exception>
    public static void Write(IOnnxGraph g, WindowRegressionModel model, string features, string output)
    {
        var scaling = model.Scaling;
        RecurrentNetworkOnnx.CheckExportable(model.Network.Spec);   // before any node is written
        int W = model.Steps, F = model.FeaturesPerStep, S = W * F, k = scaling.TargetFeature;
        var kind = scaling.Kind;
        bool global = kind == RnnRegressionScaling.Global;

        // Per slot: is it the target feature (scaled with the level), and the mean and scale of the z-score otherwise.
        var isTarget = new bool[S];
        var mean = new float[S];
        var scale = new float[S];
        for (int j = 0; j < S; j++)
        {
            int f = j % F;
            isTarget[j] = !global && f == k;
            mean[j] = isTarget[j] ? 0f : scaling.FeatureMean[f];
            scale[j] = isTarget[j] ? scaling.TargetScale : scaling.FeatureScale[f];
        }
        string s = g.AddInitializer($"{Prefix}.target_scale", [scaling.TargetScale], 1);

        string level = kind switch
        {
            RnnRegressionScaling.LastValue or RnnRegressionScaling.LogRatio => Gather(g, features, [(long)(W - 1) * F + k], "level"),
            RnnRegressionScaling.WindowMean => Mean(g, Gather(g, features, Enumerable.Range(0, W).Select(t => (long)t * F + k).ToArray(), "target_steps")),
            _ => g.AddInitializer($"{Prefix}.label_mean", [scaling.LabelMean], 1),
        };

        string scaled;
        string guard = "";
        if (kind == RnnRegressionScaling.LogRatio)
        {
            // Target slots ln(x/ℓ)/s, others (x − μ)/σ; Where picks per slot, so a log of a non-positive covariate in
            // the unpicked branch does no harm.
            string logRatio = Node(g, "Div", [Node(g, "Log", [Node(g, "Div", [features, level], "ratio")], "log_ratio"), s], "scaled_target");
            string zScore = ZScore(g, features, mean, scale);
            scaled = Node(g, "Where", [g.AddInitializer($"{Prefix}.is_target", isTarget, S), logRatio, zScore], "scaled");
            guard = NonPositiveGuard(g, features, isTarget);
        }
        else if (global)
        {
            scaled = ZScore(g, features, mean, scale);
        }
        else
        {
            // x − a⊙ℓ − c, then ÷ d: for target slots a = 1, c = 0, d = s, so (x − ℓ)/s; elsewhere a = 0, d = σ, (x − μ)/σ.
            var a = isTarget.Select(t => t ? 1f : 0f).ToArray();
            string shifted = Node(g, "Sub", [features, Node(g, "Mul", [level, g.AddInitializer($"{Prefix}.level_mask", a, S)], "level_slots")], "minus_level");
            scaled = ZScore(g, shifted, mean, scale);
        }

        string sequence = RecurrentNetworkOnnx.ToTimeMajor(g, scaled, W, F, Prefix);
        string net = RecurrentNetworkOnnx.WriteLastStep(g, model.Network, sequence, W, $"{Prefix}.net");   // (N, 1)
        string sOut = Node(g, "Mul", [net, s], "s_out");
        if (kind == RnnRegressionScaling.LogRatio)
        {
            // ℓ·exp(s·out), NaN where WindowScaling would refuse the row (a target value or the level not positive).
            string prediction = Node(g, "Mul", [level, Node(g, "Exp", [sOut], "exp")], "prediction");
            g.AddNode("Add", [prediction, guard], [output]);
        }
        else
        {
            g.AddNode("Add", [level, sOut], [output]);   // ℓ + s·out (Global: μ_y + σ_y·out)
        }
    }

    /// <summary>(x − c)/d per slot.</summary>
    private static string ZScore(IOnnxGraph g, string x, float[] c, float[] d)
        => Node(g, "Div", [Node(g, "Sub", [x, g.AddInitializer($"{Prefix}.feature_mean", c, c.Length)], "centred"),
            g.AddInitializer($"{Prefix}.feature_scale", d, d.Length)], "scaled");

    /// <summary>(N, 1): 0 where every target slot is positive, NaN otherwise.</summary>
    private static string NonPositiveGuard(IOnnxGraph g, string features, bool[] isTarget)
    {
        string ones = g.AddInitializer($"{Prefix}.one", [1f], 1);
        string targetsOnly = Node(g, "Where", [g.AddInitializer($"{Prefix}.is_target", isTarget, isTarget.Length), features, ones], "targets_only");
        string positive = Node(g, "Greater", [targetsOnly, g.AddInitializer($"{Prefix}.zero", [0f], 1)], "positive");
        string perSlot = Node(g, "Where", [positive, g.AddInitializer($"{Prefix}.zero", [0f], 1), g.AddInitializer($"{Prefix}.nan", [float.NaN], 1)], "guard_slots");
        // A product with a column of ones sums the slots and carries any NaN; MatMul has kept its form in every opset.
        return Node(g, "MatMul", [perSlot, g.AddInitializer($"{Prefix}.ones", Enumerable.Repeat(1f, isTarget.Length).ToArray(), isTarget.Length, 1)], "guard");
    }

    private static string Gather(IOnnxGraph g, string x, long[] indices, string name)
        => Node(g, "Gather", [x, g.AddInitializer($"{Prefix}.{name}_index", indices, indices.Length)], name, OnnxAttribute.Int("axis", 1));

    private static string Mean(IOnnxGraph g, string x)
        => Node(g, "ReduceMean", [x], "level", OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 1));

    private static string Node(IOnnxGraph g, string op, string[] inputs, string name, params OnnxAttribute[] attributes)
    {
        string output = g.NewVariable($"{Prefix}.{name}");
        g.AddNode(op, inputs, [output], attributes);
        return output;
    }
}

using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Memory;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Training;

/// <summary>Each clipping mode means exactly what its name says (properties over a few hundred random gradients).</summary>
public sealed class GradientClippingTests
{
    private static ParameterBuffer Buffer(float[] g, int split)
    {
        split = Math.Clamp(split, 1, Math.Max(1, g.Length - 1));
        var layout = g.Length > 1
            ? new[] { ("a", split, 1, true), ("b", g.Length - split, 1, true) }
            : new[] { ("a", 1, 1, true) };
        var p = new ParameterBuffer(layout);
        g.CopyTo(p.Gradients, 0);
        return p;
    }

    private static float[] Finite(NormalFloat[] xs, double scale) => xs.Select(x => (float)(x.Get * scale)).ToArray();

    [Property(MaxTest = 300)]
    public bool ClipByNormKeepsDirection(NonEmptyArray<NormalFloat> values, PositiveInt scale, PositiveInt split)
    {
        var g = Finite(values.Get, scale.Get);
        var p = Buffer(g, split.Get);
        const float tau = 1f;
        var (before, after) = GradientClipping.Apply(p, GradientClippingMode.GlobalNorm, tau);
        double norm = GradientClipping.Norm(g);
        if (Math.Abs(before - norm) > 1e-9 * Math.Max(1, norm)) return false;
        if (after > tau * (1 + 1e-5) || (norm <= tau && p.Gradients.Where((x, i) => x != g[i]).Any())) return false;
        // Same direction: every component scaled by the same factor.
        double factor = norm > tau ? tau / norm : 1;
        return p.Gradients.Select((x, i) => Math.Abs(x - g[i] * factor) <= 1e-5 * Math.Abs(g[i] * factor) + 1e-12).All(ok => ok);
    }

    [Property(MaxTest = 300)]
    public bool ClipBelowThresholdIsNoOp(NonEmptyArray<NormalFloat> values, PositiveInt split)
    {
        var g = Finite(values.Get, 1);
        var p = Buffer(g, split.Get);
        double norm = GradientClipping.Norm(g);
        float tau = (float)(norm * 1.01 + 1e-6);
        GradientClipping.Apply(p, GradientClippingMode.GlobalNorm, tau);
        GradientClipping.Apply(p, GradientClippingMode.PerParameterNorm, tau);
        GradientClipping.Apply(p, GradientClippingMode.Value, tau);
        return p.Gradients.SequenceEqual(g);
    }

    [Property(MaxTest = 300)]
    public bool ClipByValueClampsEachElement(NonEmptyArray<NormalFloat> values, PositiveInt scale, PositiveInt split)
    {
        var g = Finite(values.Get, scale.Get);
        var p = Buffer(g, split.Get);
        const float tau = 0.5f;
        GradientClipping.Apply(p, GradientClippingMode.Value, tau);
        return p.Gradients.Select((x, i) => x == Math.Clamp(g[i], -tau, tau)).All(ok => ok);
    }

    [Property(MaxTest = 300)]
    public bool ClipByParameterNormCapsEachTensorOnItsOwn(NonEmptyArray<NormalFloat> values, PositiveInt scale, PositiveInt split)
    {
        var g = Finite(values.Get, scale.Get);
        var p = Buffer(g, split.Get);
        const float tau = 1f;
        var normsBefore = p.Tensors.Select(t => GradientClipping.Norm(g.AsSpan(t.Offset, t.Length))).ToArray();
        GradientClipping.Apply(p, GradientClippingMode.PerParameterNorm, tau);
        for (int k = 0; k < p.Tensors.Count; k++)
        {
            var t = p.Tensors[k];
            double after = GradientClipping.Norm(p.Gradient(t));
            double expected = Math.Min(normsBefore[k], tau);
            if (Math.Abs(after - expected) > 1e-5 * Math.Max(1, expected)) return false;
        }
        return true;
    }

    [Fact]
    public void NoneReportsTheNormAndLeavesTheGradient()
    {
        var p = Buffer([3f, 4f], 1);
        var (before, after) = GradientClipping.Apply(p, GradientClippingMode.None, 1f);
        Assert.Equal(5.0, before, 12);
        Assert.Equal(5.0, after, 12);
        Assert.Equal([3f, 4f], p.Gradients);
    }
}

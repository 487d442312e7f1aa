using System.ComponentModel;
namespace MLNetRnn.Core.Forecasting;

// F = features, counted per row (series mode: covariates per row; window mode: features per step).

/// <summary>
/// z-scores of the features that are not the series itself (covariates, other features of a step), with the
/// training data's mean and standard deviation per feature. Used by both modes, beside the
/// <see cref="WindowScaler"/> that scales the series.
/// </summary>
/// <remarks>Public for the ML.NET layer (MLNetRnn), not part of the stable API: it may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class FeatureStandardizer
{
    /// <summary>z-scores with these means and scales (F each).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public FeatureStandardizer(float[] mean, float[] scale)
    {
        if (mean.Length != scale.Length) throw new ArgumentException("mean and scale must have one value per feature.");
        Mean = mean; Scale = scale;
    }

    /// <summary>(F) μ per feature.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float[] Mean { get; }
    /// <summary>(F) σ per feature (population), 1 where σ is 0.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float[] Scale { get; }

    /// <summary>F: the features.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int Count => Mean.Length;

    /// <summary>Fits μ and σ per feature to <paramref name="values"/>, rows of <paramref name="features"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static FeatureStandardizer Fit(ReadOnlySpan<float> values, int features)
    {
        int F = features, rows = F == 0 ? 0 : values.Length / F;
        var mean = new float[F];
        var scale = new float[F];
        for (int f = 0; f < F; f++)
        {
            double sum = 0, sumSq = 0;
            for (int k = f; k < rows * F; k += F) sum += values[k];
            double mu = rows == 0 ? 0 : sum / rows;
            for (int k = f; k < rows * F; k += F) sumSq += (values[k] - mu) * (values[k] - mu);
            double sd = rows == 0 ? 0 : Math.Sqrt(sumSq / rows);
            mean[f] = (float)mu;
            // A constant feature has no spread to divide by; 1 keeps its values as they are.
            scale[f] = sd > 1e-30 && double.IsFinite(sd) ? (float)sd : 1f;
        }
        return new FeatureStandardizer(mean, scale);
    }

    /// <summary>Fits μ and σ per feature to the rows of several parts (the series of a panel), as if concatenated:
    /// one part gives exactly <see cref="Fit(ReadOnlySpan{float}, int)"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static FeatureStandardizer Fit(IReadOnlyList<float[]> parts, int features)
    {
        int F = features;
        long rows = F == 0 ? 0 : parts.Sum(p => (long)(p.Length / F));
        var mean = new float[F];
        var scale = new float[F];
        for (int f = 0; f < F; f++)
        {
            double sum = 0, sumSq = 0;
            foreach (var values in parts)
                for (int k = f; k < values.Length / F * F; k += F) sum += values[k];
            double mu = rows == 0 ? 0 : sum / rows;
            foreach (var values in parts)
                for (int k = f; k < values.Length / F * F; k += F) sumSq += (values[k] - mu) * (values[k] - mu);
            double sd = rows == 0 ? 0 : Math.Sqrt(sumSq / rows);
            mean[f] = (float)mu;
            scale[f] = sd > 1e-30 && double.IsFinite(sd) ? (float)sd : 1f;
        }
        return new FeatureStandardizer(mean, scale);
    }

    /// <summary>Feature f's value x in network units.</summary>
    /// <summary>(x − μ_f) / σ_f.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float Apply(float x, int f) => (x - Mean[f]) / Scale[f];
}

using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting.Baselines;

/// <summary>How a season is removed before the smoothing baselines and the network see a series.</summary>
public enum SeasonalAdjustment
{
    /// <summary>Multiplicative when every training value is positive, additive otherwise; none when
    /// <see cref="SeasonalityTest"/> finds no significant season.</summary>
    Auto = 0,

    /// <summary>No adjustment: the series is modelled as it is.</summary>
    None = 1,

    /// <summary>x = d·s: the season scales with the level (positive series only).</summary>
    Multiplicative = 2,

    /// <summary>x = d + s: the season adds a fixed amount.</summary>
    Additive = 3,
}

/// <summary>
/// Classical decomposition (as R's <c>decompose</c> and the M4 benchmarks): a centred moving average of one
/// season (2×m when m is even) estimates the trend, the ratio (or difference) to it is averaged per position in
/// the season, and the m indices are normalised to mean 1 (or 0). Position p holds for every t with t mod m = p,
/// t counted from the first training value. With period 1 it is the identity.
/// </summary>
public sealed class SeasonalDecomposition
{
    private SeasonalDecomposition(SeasonalAdjustment kind, float[] indices)
    {
        Kind = kind; Indices = indices;
    }

    /// <summary>No adjustment: deseasonalising and reseasonalising leave values unchanged.</summary>
    public static SeasonalDecomposition Identity { get; } = new(SeasonalAdjustment.None, [0f]);

    /// <summary><see cref="SeasonalAdjustment.None"/>, <see cref="SeasonalAdjustment.Multiplicative"/> or
    /// <see cref="SeasonalAdjustment.Additive"/> (never Auto).</summary>
    public SeasonalAdjustment Kind { get; }

    /// <summary>The m seasonal indices (factors for multiplicative, offsets for additive); one neutral value
    /// without adjustment.</summary>
    public IReadOnlyList<float> Indices { get; }

    /// <summary>The period m (1 without adjustment).</summary>
    public int Period => Indices.Count;

    /// <summary>
    /// Decomposes <paramref name="values"/> with period <paramref name="seasonalPeriod"/>. With
    /// <see cref="SeasonalAdjustment.Auto"/> the season is removed only if <see cref="SeasonalityTest"/> finds it,
    /// multiplicatively when every value is positive.
    /// </summary>
    /// <exception cref="ArgumentException">Multiplicative adjustment of a series that is not positive, or fewer than
    /// two seasons for an explicit adjustment.</exception>
    public static SeasonalDecomposition Fit(ReadOnlySpan<float> values, int seasonalPeriod, SeasonalAdjustment adjustment)
    {
        if (seasonalPeriod < 1) throw new ArgumentOutOfRangeException(nameof(seasonalPeriod), seasonalPeriod, "seasonalPeriod must be at least 1.");
        int m = seasonalPeriod, n = values.Length;
        bool positive = true;
        foreach (float v in values) positive &= v > 0;
        var kind = adjustment switch
        {
            SeasonalAdjustment.Auto => SeasonalityTest.IsSeasonal(values, m)
                ? (positive ? SeasonalAdjustment.Multiplicative : SeasonalAdjustment.Additive)
                : SeasonalAdjustment.None,
            _ => m == 1 ? SeasonalAdjustment.None : adjustment,
        };
        if (kind == SeasonalAdjustment.None) return Identity;
        if (n < 2 * m)
            throw new ArgumentException($"A seasonal adjustment with period {m} needs at least two seasons ({2 * m} values); got {n}.", nameof(values));
        if (kind == SeasonalAdjustment.Multiplicative && !positive)
            throw new ArgumentException("Multiplicative seasonal adjustment needs a positive series; use Additive or Auto.", nameof(adjustment));
        bool multiplicative = kind == SeasonalAdjustment.Multiplicative;

        // Centred moving average: m odd → plain m-term mean; m even → 2×m (half weight on the two ends).
        int half = m / 2;
        var sum = new double[m];
        var count = new int[m];
        for (int t = half; t < n - half; t++)
        {
            double trend = 0;
            if (m % 2 == 1)
            {
                for (int j = -half; j <= half; j++) trend += values[t + j];
                trend /= m;
            }
            else
            {
                trend = 0.5 * (values[t - half] + values[t + half]);
                for (int j = -half + 1; j < half; j++) trend += values[t + j];
                trend /= m;
            }
            int p = t % m;
            sum[p] += multiplicative ? values[t] / trend : values[t] - trend;
            count[p]++;
        }
        var indices = new float[m];
        double mean = 0;
        for (int p = 0; p < m; p++)
        {
            double s = count[p] > 0 ? sum[p] / count[p] : (multiplicative ? 1 : 0);
            indices[p] = (float)s;
            mean += s;
        }
        mean /= m;
        for (int p = 0; p < m; p++) indices[p] = (float)(multiplicative ? indices[p] / mean : indices[p] - mean);
        return new SeasonalDecomposition(kind, indices);
    }

    /// <summary>Rebuilds a decomposition from saved indices.</summary>
    internal static SeasonalDecomposition FromIndices(SeasonalAdjustment kind, float[] indices)
        => kind == SeasonalAdjustment.None ? Identity : new SeasonalDecomposition(kind, indices);

    /// <summary>x at time t → the seasonally adjusted d.</summary>
    public float Deseasonalize(float x, long t) => Kind switch
    {
        SeasonalAdjustment.Multiplicative => x / Indices[(int)(t % Period)],
        SeasonalAdjustment.Additive => x - Indices[(int)(t % Period)],
        _ => x,
    };

    /// <summary>The adjusted d at time t → x.</summary>
    public float Reseasonalize(float d, long t) => Kind switch
    {
        SeasonalAdjustment.Multiplicative => d * Indices[(int)(t % Period)],
        SeasonalAdjustment.Additive => d + Indices[(int)(t % Period)],
        _ => d,
    };

    internal void Write(BinaryWriter w)
    {
        w.Write(Kind.ToString());
        w.Write(Indices.Count);
        foreach (float v in Indices) w.Write(v);
    }

    internal static SeasonalDecomposition Read(BinaryReader r)
    {
        var kind = Persisted.ReadEnum<SeasonalAdjustment>(r);
        int m = r.ReadInt32();
        if (m < 1 || m > 1 << 20) throw new InvalidDataException($"Seasonal period {m} is out of range.");
        var indices = new float[m];
        for (int p = 0; p < m; p++) indices[p] = r.ReadSingle();
        return FromIndices(kind, indices);
    }
}

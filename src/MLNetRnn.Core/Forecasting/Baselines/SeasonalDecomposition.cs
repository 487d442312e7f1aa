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
        => Fit(values, seasonalPeriod, adjustment, nestedIn: 1);

    /// <summary>
    /// As <see cref="Fit(ReadOnlySpan{float}, int, SeasonalAdjustment)"/>; when the period M is a multiple of a
    /// shorter season <paramref name="nestedIn"/> = m (a week of hours in a day of hours), the M indices are shrunk
    /// halfway towards the nested season: the m-position profile times one factor per block of m (a day-of-week
    /// factor), which has m + M/m free values instead of M. See <see cref="NestedIn"/>.
    /// </summary>
    /// <param name="values">The series.</param>
    /// <param name="seasonalPeriod">M.</param>
    /// <param name="adjustment">As the other overload.</param>
    /// <param name="nestedIn">m; 1 (or any m that does not divide M, or is not shorter) fits the M indices alone.</param>
    internal static SeasonalDecomposition Fit(ReadOnlySpan<float> values, int seasonalPeriod, SeasonalAdjustment adjustment, int nestedIn)
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
        var indices = FitIndices(values, m, multiplicative, blocksOf: 1);
        if (nestedIn > 1 && nestedIn < m && m % nestedIn == 0)
        {
            // Why shrink: the M indices are each the mean of n/M ratios (about 5 on 960 hourly values with M = 168),
            // noisy; the nested season has few parameters but forces every day to the same shape. Halfway between
            // them keeps both mean 1 (or 0), since the nested product's mean is the product (sum) of its factors' means.
            var nested = FitNested(values, m, nestedIn, multiplicative);
            for (int p = 0; p < m; p++) indices[p] = 0.5f * (indices[p] + nested[p]);
        }
        return new SeasonalDecomposition(kind, indices);
    }

    /// <summary>
    /// The shorter season a period nests in, among <paramref name="periods"/>: the longest candidate p &gt; 1 shorter
    /// than <paramref name="period"/> that divides it (24 for 168 among { 24, 168 }), or 1 when none does (7 and 365
    /// do not nest). A series' season of that period is fitted by <see cref="Fit(ReadOnlySpan{float}, int, SeasonalAdjustment, int)"/>.
    /// </summary>
    internal static int NestedIn(IReadOnlyList<int> periods, int period)
    {
        int inner = 1;
        foreach (int p in periods)
            if (p > 1 && p < period && period % p == 0) inner = Math.Max(inner, p);
        return inner;
    }

    // The m-profile D by the classical decomposition, then on the D-adjusted series the M/m block factors F, each the
    // mean ratio (difference) to the M-term centred moving average over its block; index p is D[p mod m]·F[p / m].
    private static float[] FitNested(ReadOnlySpan<float> values, int M, int m, bool multiplicative)
    {
        int n = values.Length;
        var profile = FitIndices(values, m, multiplicative, blocksOf: 1);
        var adjusted = new float[n];
        for (int t = 0; t < n; t++) adjusted[t] = multiplicative ? values[t] / profile[t % m] : values[t] - profile[t % m];
        var blocks = FitIndices(adjusted, M, multiplicative, blocksOf: m);
        var indices = new float[M];
        for (int p = 0; p < M; p++) indices[p] = multiplicative ? profile[p % m] * blocks[p / m] : profile[p % m] + blocks[p / m];
        return indices;
    }

    // The m indices of the classical decomposition, normalised to mean 1 (0); with blocksOf = b, the m/b factors of
    // the blocks of b consecutive positions, each the mean over its positions.
    private static float[] FitIndices(ReadOnlySpan<float> values, int m, bool multiplicative, int blocksOf)
    {
        int n = values.Length;
        // Centred moving average: m odd → plain m-term mean; m even → 2×m (half weight on the two ends).
        int half = m / 2;
        var sum = new double[m / blocksOf];
        var count = new int[m / blocksOf];
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
            int p = t % m / blocksOf;
            sum[p] += multiplicative ? values[t] / trend : values[t] - trend;
            count[p]++;
        }
        int k = m / blocksOf;
        var indices = new float[k];
        double mean = 0;
        for (int p = 0; p < k; p++)
        {
            double s = count[p] > 0 ? sum[p] / count[p] : (multiplicative ? 1 : 0);
            indices[p] = (float)s;
            mean += s;
        }
        mean /= k;
        for (int p = 0; p < k; p++) indices[p] = (float)(multiplicative ? indices[p] / mean : indices[p] - mean);
        return indices;
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

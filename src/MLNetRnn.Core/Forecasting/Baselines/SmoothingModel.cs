using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting.Baselines;

/// <summary>
/// The statistical forecasters a base is made of, in this layer's own words, since Baselines reads nothing of the
/// forecaster above it. Users name them by <c>ForecastBase</c>, whose members of the same names mean the same
/// methods; <c>BaseMethodCodes</c> (Forecasting) is the one mapping between the two. The names are what model files
/// hold (<see cref="Persisted"/> writes enums by name), so a name here never changes; the numbers are not saved.
/// </summary>
internal enum BaselineMethod
{
    /// <summary>The last (seasonally adjusted) value, repeated.</summary>
    Naive = 0,

    /// <summary>The last season of raw values, repeated (no adjustment involved).</summary>
    SeasonalNaive = 1,

    /// <summary>The last value plus the mean step of the whole history, per step ahead (random walk with drift).</summary>
    Drift = 2,

    /// <summary>Simple exponential smoothing: a level ℓ ← ℓ + α(y − ℓ), forecast flat.</summary>
    SimpleExponentialSmoothing = 3,

    /// <summary>Holt's linear trend: level and slope smoothed with α and β, the slope extrapolated.</summary>
    Holt = 4,

    /// <summary>Holt's trend damped by φ per step (Gardner &amp; McKenzie): the slope fades out.</summary>
    DampedTrend = 5,

    /// <summary>The Theta method (Assimakopoulos &amp; Nikolopoulos 2000) as Hyndman &amp; Billah's SES with drift:
    /// SES plus half the slope of the series' linear trend.</summary>
    Theta = 6,
}

/// <summary>
/// One smoothing forecaster of the family, on a seasonally adjusted series, with its fitted parameters. The
/// state it carries is four numbers (<see cref="StateSize"/>): level ℓ, slope b, values seen n, first value
/// y₁; <see cref="Update"/> moves it on by one observation and <see cref="Forecast"/> reads the next H values
/// off it, so the same object forecasts from every origin of a training series and, later, from the engine's
/// latest observation. Parameters are fitted by least squares of the one-step errors over the training series,
/// within the bounds R's <c>ets</c> uses (0 &lt; β ≤ α &lt; 1, 0.8 ≤ φ ≤ 0.98).
/// </summary>
internal sealed class SmoothingModel
{
    public const int StateSize = 4;   // ℓ, b, n, y₁
    private const int Level = 0, Slope = 1, Count = 2, First = 3;

    public SmoothingModel(BaselineMethod method, double alpha, double beta, double phi, double drift)
    {
        if (method == BaselineMethod.SeasonalNaive) throw new ArgumentException("Seasonal naive is not a smoothing model.", nameof(method));
        Method = method; Alpha = alpha; Beta = beta; Phi = phi; Drift = drift;
    }

    public BaselineMethod Method { get; }
    public double Alpha { get; }     // SES, Holt, damped, Theta
    public double Beta { get; }      // Holt, damped
    public double Phi { get; }       // damped (1 for Holt)
    public double Drift { get; }     // Theta: half the least-squares slope of the training series

    /// <summary>Fits the method to the adjusted series <paramref name="d"/> (at least 2 values).</summary>
    public static SmoothingModel Fit(BaselineMethod method, ReadOnlySpan<float> d)
    {
        switch (method)
        {
            case BaselineMethod.Naive:
            case BaselineMethod.Drift:
                return new SmoothingModel(method, 1, 0, 1, 0);
            case BaselineMethod.SimpleExponentialSmoothing:
                return new SmoothingModel(method, FitAlpha(d), 0, 1, 0);
            case BaselineMethod.Theta:
                return new SmoothingModel(method, FitAlpha(d), 0, 1, LeastSquaresSlope(d) / 2);
            case BaselineMethod.Holt:
            case BaselineMethod.DampedTrend:
                return FitTrend(method, d);
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "Not a smoothing method.");
        }
    }

    /// <summary>Starts a state before any observation.</summary>
    public static void Reset(Span<double> state) => state[..StateSize].Clear();

    /// <summary>Moves the state on by one adjusted observation y. The one-step forecast made before it is
    /// <see cref="OneStep"/>. No allocation.</summary>
    public void Update(Span<double> s, double y)
    {
        double n = s[Count];
        if (n == 0)
        {
            s[Level] = y; s[Slope] = 0; s[First] = y;
        }
        else
        {
            switch (Method)
            {
                case BaselineMethod.Naive:
                case BaselineMethod.Drift:
                    s[Level] = y;
                    break;
                case BaselineMethod.SimpleExponentialSmoothing:
                case BaselineMethod.Theta:
                    s[Level] += Alpha * (y - s[Level]);
                    break;
                default:
                    if (n == 1)
                    {
                        // Holt's classic start: ℓ₂ = y₂, b₂ = y₂ − y₁.
                        s[Slope] = y - s[Level];
                        s[Level] = y;
                        break;
                    }
                    double previous = s[Level];
                    s[Level] = Alpha * y + (1 - Alpha) * (previous + Phi * s[Slope]);
                    s[Slope] = Beta * (s[Level] - previous) + (1 - Beta) * Phi * s[Slope];
                    break;
            }
        }
        s[Count] = n + 1;
    }

    /// <summary>The forecast one step after the state, as <see cref="Forecast"/>'s first value.</summary>
    public double OneStep(ReadOnlySpan<double> s) => Ahead(s, 1);

    /// <summary>Writes the next <c>f.Length</c> adjusted values after the state. No allocation.</summary>
    public void Forecast(ReadOnlySpan<double> s, Span<float> f)
    {
        for (int k = 1; k <= f.Length; k++) f[k - 1] = (float)Ahead(s, k);
    }

    private double Ahead(ReadOnlySpan<double> s, int k)
    {
        double n = s[Count];
        switch (Method)
        {
            case BaselineMethod.Drift:
                return n < 2 ? s[Level] : s[Level] + k * (s[Level] - s[First]) / (n - 1);
            case BaselineMethod.Theta:
                // Hyndman & Billah (2003): ŷ(k) = ℓ + b/2·(k − 1 + (1 − (1 − α)ⁿ)/α), b/2 = Drift.
                return s[Level] + Drift * (k - 1 + (1 - Math.Pow(1 - Alpha, n)) / Alpha);
            case BaselineMethod.Holt:
                return s[Level] + k * s[Slope];
            case BaselineMethod.DampedTrend:
                double sum = 0, p = 1;
                for (int j = 1; j <= k; j++) { p *= Phi; sum += p; }
                return s[Level] + sum * s[Slope];
            default:
                return s[Level];
        }
    }

    /// <summary>Sum of squared one-step errors over <paramref name="d"/>, from the third value on (the first two
    /// start the state).</summary>
    public double SumOfSquaredErrors(ReadOnlySpan<float> d)
    {
        Span<double> s = stackalloc double[StateSize];
        Reset(s);
        double sse = 0;
        for (int t = 0; t < d.Length; t++)
        {
            if (t >= 2)
            {
                double e = d[t] - OneStep(s);
                sse += e * e;
            }
            Update(s, d[t]);
        }
        return sse;
    }

    private static double FitAlpha(ReadOnlySpan<float> d)
    {
        var copy = d.ToArray();
        return Minimise(a => new SmoothingModel(BaselineMethod.SimpleExponentialSmoothing, a, 0, 1, 0).SumOfSquaredErrors(copy), 0.0001, 0.9999);
    }

    private static SmoothingModel FitTrend(BaselineMethod method, ReadOnlySpan<float> d)
    {
        var copy = d.ToArray();
        bool damped = method == BaselineMethod.DampedTrend;
        double Sse(double a, double b, double phi) => new SmoothingModel(method, a, b, phi, 0).SumOfSquaredErrors(copy);
        // A coarse grid, then coordinate-wise golden sections: deterministic, and cheap (each SSE is one pass).
        double bestA = 0.5, bestB = 0.1, bestPhi = damped ? 0.9 : 1, best = double.PositiveInfinity;
        double[] phis = damped ? [0.8, 0.85, 0.9, 0.95, 0.98] : [1.0];
        foreach (double phi in phis)
            for (double a = 0.05; a < 1; a += 0.1)
                for (double bf = 0.05; bf < 1; bf += 0.2)
                {
                    double e = Sse(a, a * bf, phi);
                    if (e < best) { best = e; bestA = a; bestB = a * bf; bestPhi = phi; }
                }
        for (int round = 0; round < 3; round++)
        {
            double b0 = bestB / bestA, phi0 = bestPhi;
            bestA = Minimise(a => Sse(a, a * b0, phi0), 0.0001, 0.9999);
            double a0 = bestA;
            bestB = a0 * Minimise(bf => Sse(a0, a0 * bf, phi0), 0.0001, 0.9999);
            if (damped)
            {
                double bb = bestB;
                bestPhi = Minimise(phi => Sse(a0, bb, phi), 0.8, 0.98);
            }
        }
        return new SmoothingModel(method, bestA, bestB, bestPhi, 0);
    }

    /// <summary>Golden-section search for the minimum of f on [lo, hi], after a 20-point grid picks the bracket
    /// (the SSE curves here can have more than one dip).</summary>
    private static double Minimise(Func<double, double> f, double lo, double hi)
    {
        const int Grid = 20;
        int bestI = 0;
        double best = double.PositiveInfinity;
        for (int i = 0; i <= Grid; i++)
        {
            double v = f(lo + (hi - lo) * i / Grid);
            if (v < best) { best = v; bestI = i; }
        }
        double a = lo + (hi - lo) * Math.Max(0, bestI - 1) / Grid, b = lo + (hi - lo) * Math.Min(Grid, bestI + 1) / Grid;
        const double R = 0.6180339887498949;
        double x1 = b - R * (b - a), x2 = a + R * (b - a), f1 = f(x1), f2 = f(x2);
        for (int i = 0; i < 30; i++)
        {
            if (f1 < f2) { b = x2; x2 = x1; f2 = f1; x1 = b - R * (b - a); f1 = f(x1); }
            else { a = x1; x1 = x2; f1 = f2; x2 = a + R * (b - a); f2 = f(x2); }
        }
        return (a + b) / 2;
    }

    /// <summary>Slope of the least-squares line through (t, d_t).</summary>
    internal static double LeastSquaresSlope(ReadOnlySpan<float> d)
    {
        int n = d.Length;
        if (n < 2) return 0;
        double tMean = (n - 1) / 2.0, yMean = 0;
        foreach (float v in d) yMean += v;
        yMean /= n;
        double num = 0, den = 0;
        for (int t = 0; t < n; t++) { num += (t - tMean) * (d[t] - yMean); den += (t - tMean) * (t - tMean); }
        return num / den;
    }

    internal void Write(BinaryWriter w)
    {
        Persisted.WriteEnum(w, Method);
        w.Write(Alpha); w.Write(Beta); w.Write(Phi); w.Write(Drift);
    }

    internal static SmoothingModel Read(BinaryReader r)
    {
        var method = Persisted.ReadEnum<BaselineMethod>(r);
        if (method == BaselineMethod.SeasonalNaive) throw new InvalidDataException("Seasonal naive is not a smoothing model.");
        double a = r.ReadDouble(), b = r.ReadDouble(), phi = r.ReadDouble(), drift = r.ReadDouble();
        if (!(a > 0 && a <= 1) || !(b >= 0 && b <= 1) || !(phi > 0 && phi <= 1) || !double.IsFinite(drift))
            throw new InvalidDataException($"Smoothing parameters out of range: α {a}, β {b}, φ {phi}, drift {drift}.");
        return new SmoothingModel(method, a, b, phi, drift);
    }
}

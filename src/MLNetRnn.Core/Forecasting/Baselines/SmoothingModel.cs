using System.Numerics;
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
    /// <remarks>The parameter searches call this about 1,200 times for each origin of a selection's ranking (eight per series), so the methods
    /// they fit run their own loop with the state in locals; each does exactly the arithmetic of <see cref="Update"/> and
    /// <see cref="OneStep"/>, in the same order, so the sum is the same to the bit (<see cref="ReferenceSumOfSquaredErrors"/>;
    /// a property test holds them together).</remarks>
    public double SumOfSquaredErrors(ReadOnlySpan<float> d) => Method switch
    {
        _ when d.Length < 2 => 0,
        BaselineMethod.SimpleExponentialSmoothing => LevelSumOfSquaredErrors(d, Alpha),
        BaselineMethod.Holt => TrendSumOfSquaredErrors(d, Alpha, Beta, Phi, forecastPhi: 1),
        BaselineMethod.DampedTrend => TrendSumOfSquaredErrors(d, Alpha, Beta, Phi, forecastPhi: Phi),
        _ => ReferenceSumOfSquaredErrors(d),
    };

    // SES: ℓ ← ℓ + α(y − ℓ), one-step forecast ℓ.
    private static double LevelSumOfSquaredErrors(ReadOnlySpan<float> d, double alpha)
    {
        double level = d[0], sse = 0;
        level += alpha * (d[1] - level);
        for (int t = 2; t < d.Length; t++)
        {
            double y = d[t], e = y - level;
            sse += e * e;
            level += alpha * (y - level);
        }
        return sse;
    }

    // Holt and damped trend from Holt's classic start (ℓ₂ = y₂, b₂ = y₂ − y₁); the one-step forecast is ℓ + φ·b, where
    // Holt's forecast reads b whole (forecastPhi 1) and its update still reads its φ (1 when fitted).
    private static double TrendSumOfSquaredErrors(ReadOnlySpan<float> d, double alpha, double beta, double phi, double forecastPhi)
    {
        double level = d[0], slope, sse = 0;
        slope = d[1] - level;
        level = d[1];
        double keepLevel = 1 - alpha, keepSlope = (1 - beta) * phi;
        for (int t = 2; t < d.Length; t++)
        {
            double y = d[t], e = y - (level + forecastPhi * slope);
            sse += e * e;
            double previous = level;
            level = alpha * y + keepLevel * (previous + phi * slope);
            slope = beta * (level - previous) + keepSlope * slope;
        }
        return sse;
    }

    /// <summary><see cref="SumOfSquaredErrors"/> step by step through <see cref="Update"/> and <see cref="OneStep"/>:
    /// the definition the fast loops must match.</summary>
    internal double ReferenceSumOfSquaredErrors(ReadOnlySpan<float> d)
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

    // ------------------------------------------------------------------ fitting the parameters

    // The grids below score 21 to 250 independent parameter points, each a chain of dependent updates (bound by the
    // latency of one multiply-add after another, not by arithmetic), so SumsOfSquaredErrors runs the points side by
    // side, one per SIMD lane; the golden sections, one point after another, take the scalar loops.

    private static double FitAlpha(ReadOnlySpan<float> d)
    {
        var copy = d.ToArray();
        return Minimise(a => new SmoothingModel(BaselineMethod.SimpleExponentialSmoothing, a, 0, 1, 0).SumOfSquaredErrors(copy),
            (x, sse) => SumsOfSquaredErrors(BaselineMethod.SimpleExponentialSmoothing, copy, x, x, x, sse), 0.0001, 0.9999);
    }

    private static SmoothingModel FitTrend(BaselineMethod method, ReadOnlySpan<float> d)
    {
        var copy = d.ToArray();
        bool damped = method == BaselineMethod.DampedTrend;
        double Sse(double a, double b, double phi) => new SmoothingModel(method, a, b, phi, 0).SumOfSquaredErrors(copy);
        // A coarse grid, then coordinate-wise golden sections: deterministic, and cheap (each SSE is one pass).
        double bestA = 0.5, bestB = 0.1, bestPhi = damped ? 0.9 : 1, best = double.PositiveInfinity;
        var start = damped ? DampedGrid : HoltGrid;
        var grid = new double[start.Alpha.Length];
        SumsOfSquaredErrors(method, copy, start.Alpha, start.Beta, start.Phi, grid);
        for (int i = 0; i < grid.Length; i++)
            if (grid[i] < best) { best = grid[i]; bestA = start.Alpha[i]; bestB = start.Beta[i]; bestPhi = start.Phi[i]; }
        var (lineAlpha, lineBeta, linePhi) = (new double[Grid + 1], new double[Grid + 1], new double[Grid + 1]);
        for (int round = 0; round < 3; round++)
        {
            double b0 = bestB / bestA, phi0 = bestPhi;
            bestA = Minimise(a => Sse(a, a * b0, phi0), (x, sse) =>
            {
                for (int i = 0; i < x.Length; i++) { lineAlpha[i] = x[i]; lineBeta[i] = x[i] * b0; linePhi[i] = phi0; }
                SumsOfSquaredErrors(method, copy, lineAlpha, lineBeta, linePhi, sse);
            }, 0.0001, 0.9999);
            double a0 = bestA;
            bestB = a0 * Minimise(bf => Sse(a0, a0 * bf, phi0), (x, sse) =>
            {
                for (int i = 0; i < x.Length; i++) { lineAlpha[i] = a0; lineBeta[i] = a0 * x[i]; linePhi[i] = phi0; }
                SumsOfSquaredErrors(method, copy, lineAlpha, lineBeta, linePhi, sse);
            }, 0.0001, 0.9999);
            if (damped)
            {
                double bb = bestB;
                bestPhi = Minimise(phi => Sse(a0, bb, phi), (x, sse) =>
                {
                    for (int i = 0; i < x.Length; i++) { lineAlpha[i] = a0; lineBeta[i] = bb; linePhi[i] = x[i]; }
                    SumsOfSquaredErrors(method, copy, lineAlpha, lineBeta, linePhi, sse);
                }, 0.8, 0.98);
            }
        }
        return new SmoothingModel(method, bestA, bestB, bestPhi, 0);
    }

    // The trend methods' starting grid, in the order it is searched (the first of equal sums wins): α from 0.05 by 0.1,
    // β a fraction of α from 0.05 by 0.2, and φ among five values for damped trend (1 for Holt).
    private static readonly (double[] Alpha, double[] Beta, double[] Phi) HoltGrid = TrendGrid([1.0]);
    private static readonly (double[] Alpha, double[] Beta, double[] Phi) DampedGrid = TrendGrid([0.8, 0.85, 0.9, 0.95, 0.98]);

    private static (double[] Alpha, double[] Beta, double[] Phi) TrendGrid(double[] phis)
    {
        var (alpha, beta, phi) = (new List<double>(), new List<double>(), new List<double>());
        foreach (double p in phis)
            for (double a = 0.05; a < 1; a += 0.1)
                for (double bf = 0.05; bf < 1; bf += 0.2) { alpha.Add(a); beta.Add(a * bf); phi.Add(p); }
        return (alpha.ToArray(), beta.ToArray(), phi.ToArray());
    }

    private const int Grid = 20;

    /// <summary>Golden-section search for the minimum of f on [lo, hi], after a 20-point grid (scored at once by
    /// <paramref name="grid"/>, which must agree with f to the bit) picks the bracket (the SSE curves here can have
    /// more than one dip).</summary>
    private static double Minimise(Func<double, double> f, Action<double[], double[]> grid, double lo, double hi)
    {
        var x = new double[Grid + 1];
        var v = new double[Grid + 1];
        for (int i = 0; i <= Grid; i++) x[i] = lo + (hi - lo) * i / Grid;
        grid(x, v);
        int bestI = 0;
        double best = double.PositiveInfinity;
        for (int i = 0; i <= Grid; i++)
            if (v[i] < best) { best = v[i]; bestI = i; }
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

    /// <summary>
    /// <see cref="SumOfSquaredErrors"/> of <paramref name="method"/> (SES, Holt or damped trend) at K parameter points,
    /// sse[k] for (alpha[k], beta[k], phi[k]) (SES reads alpha alone): the points' recursions run side by side, one per
    /// lane of <see cref="Vector{T}"/>, each lane doing exactly the scalar loop's arithmetic (lane-wise IEEE operations,
    /// no fused multiply-add), so each sum is the one the point gives alone, to the bit, at either vector width.
    /// </summary>
    internal static void SumsOfSquaredErrors(BaselineMethod method, ReadOnlySpan<float> d, ReadOnlySpan<double> alpha, ReadOnlySpan<double> beta,
        ReadOnlySpan<double> phi, Span<double> sse)
    {
        if (method is not (BaselineMethod.SimpleExponentialSmoothing or BaselineMethod.Holt or BaselineMethod.DampedTrend))
            throw new ArgumentOutOfRangeException(nameof(method), method, "Only SES, Holt and damped trend are scored in lanes.");
        int K = sse.Length, L = Vector<double>.Count;
        if (d.Length < 2) { sse.Clear(); return; }
        Span<double> a = stackalloc double[L], b = stackalloc double[L], p = stackalloc double[L], e = stackalloc double[L];
        for (int k0 = 0; k0 < K; k0 += L)
        {
            // A last, partial group repeats its last point in the spare lanes and keeps only its own sums.
            for (int j = 0; j < L; j++)
            {
                int k = Math.Min(k0 + j, K - 1);
                a[j] = alpha[k]; b[j] = beta[k]; p[j] = phi[k];
            }
            var va = new Vector<double>(a);
            var result = method == BaselineMethod.SimpleExponentialSmoothing
                ? LevelSums(d, va)
                : TrendSums(d, va, new Vector<double>(b), new Vector<double>(p), method == BaselineMethod.Holt ? Vector<double>.One : new Vector<double>(p));
            result.CopyTo(e);
            for (int j = 0; j < L && k0 + j < K; j++) sse[k0 + j] = e[j];
        }
    }

    // LevelSumOfSquaredErrors, one point per lane.
    private static Vector<double> LevelSums(ReadOnlySpan<float> d, Vector<double> alpha)
    {
        var level = new Vector<double>((double)d[0]);
        var sse = Vector<double>.Zero;
        level += alpha * (new Vector<double>((double)d[1]) - level);
        for (int t = 2; t < d.Length; t++)
        {
            var y = new Vector<double>((double)d[t]);
            var e = y - level;
            sse += e * e;
            level += alpha * (y - level);
        }
        return sse;
    }

    // TrendSumOfSquaredErrors, one point per lane.
    private static Vector<double> TrendSums(ReadOnlySpan<float> d, Vector<double> alpha, Vector<double> beta, Vector<double> phi, Vector<double> forecastPhi)
    {
        var level = new Vector<double>((double)d[0]);
        var slope = new Vector<double>((double)d[1]) - level;
        level = new Vector<double>((double)d[1]);
        var sse = Vector<double>.Zero;
        Vector<double> keepLevel = Vector<double>.One - alpha, keepSlope = (Vector<double>.One - beta) * phi;
        for (int t = 2; t < d.Length; t++)
        {
            var y = new Vector<double>((double)d[t]);
            var e = y - (level + forecastPhi * slope);
            sse += e * e;
            var previous = level;
            level = alpha * y + keepLevel * (previous + phi * slope);
            slope = beta * (level - previous) + keepSlope * slope;
        }
        return sse;
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

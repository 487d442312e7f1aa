using MathNet.Numerics.Distributions;
using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Core.Forecasting;

// H = horizon, V = calibration windows. Residuals are |y − ŷ| in network units (the correction's units), one
// array per step ahead.

/// <summary>
/// Split-conformal half-widths of the forecast intervals, from the errors of the shipped model on windows it
/// was not trained on.
/// </summary>
/// <remarks>
/// <para><b>Pooled</b> (current models): the errors of step k are divided by their scale σ_k (the root mean
/// square, made non-decreasing in k, as uncertainty does not shrink further ahead), the V·H normalised errors
/// are pooled, and the half-width at level c is σ_k times their ⌈(N+1)·c⌉-th smallest value (N = V·H). Pooling
/// gives H times more errors than treating each step alone, which a short series needs for 95% or 99%.</para>
/// <para><b>PerStep</b> (models saved by format version 1): the ⌈(V+1)·c⌉-th smallest error of step k.</para>
/// <para>When the rank exceeds the number of errors the level cannot be read off the data. Rather than clamp to
/// the largest error (which made 90%, 95% and 99% identical on short series), the bound is extrapolated with a
/// normal tail through the largest error at the highest supported level N/(N+1), so it is wider than any error
/// seen and grows with the level; <see cref="SupportedLevel"/> says where that starts.</para>
/// </remarks>
internal sealed class ForecastCalibration
{
    public enum Kind { Pooled = 0, PerStep = 1 }

    private readonly float[][] _residuals;   // (H)(V) ascending per step
    private readonly float[] _scale;         // (H) σ_k, non-decreasing (Pooled)
    private readonly float[] _pooled;        // (N) normalised errors, ascending (Pooled)

    internal ForecastCalibration(Kind method, float[][] residuals)
    {
        Method = method;
        _residuals = residuals.Select(r => r.Order().ToArray()).ToArray();
        int H = residuals.Length;
        _scale = new float[H];
        double running = 0;
        for (int k = 0; k < H; k++)
        {
            var r = _residuals[k];
            double rms = r.Length == 0 ? 0 : Math.Sqrt(r.Sum(x => (double)x * x) / r.Length);
            running = Math.Max(running, rms);
            _scale[k] = (float)running;
        }
        _pooled = method == Kind.Pooled
            ? _residuals.SelectMany((r, k) => r.Select(x => _scale[k] > 0 ? x / _scale[k] : 0f)).Order().ToArray()
            : [];
    }

    internal Kind Method { get; }

    /// <summary>Errors per step ahead (V; 0 when the model was not calibrated).</summary>
    internal int Count => _residuals.Length == 0 ? 0 : _residuals.Min(r => r.Length);

    /// <summary>Errors each level's rank is read from: V·H pooled, V per step.</summary>
    internal int SampleSize => Method == Kind.Pooled ? _pooled.Length : Count;

    /// <summary>The highest level read off the errors themselves, N/(N+1); above it bounds are extrapolated.
    /// 0 without errors.</summary>
    internal double SupportedLevel => SampleSize == 0 ? 0 : SampleSize / (SampleSize + 1.0);

    /// <summary>Mean |error| per step ahead, in network units; NaN without errors.</summary>
    internal float[] MeanErrorByStep => _residuals.Select(r => r.Length == 0 ? float.NaN : r.Average()).ToArray();

    /// <summary>The half-width, in network units, of the interval at step k (0-based) and level c; NaN without errors.</summary>
    internal float HalfWidth(int k, float confidenceLevel)
    {
        if (Method == Kind.Pooled)
        {
            if (_pooled.Length == 0) return float.NaN;
            return _scale[k] * Quantile(_pooled, confidenceLevel);
        }
        var r = _residuals[k];
        return r.Length == 0 ? float.NaN : Quantile(r, confidenceLevel);
    }

    /// <summary>The ⌈(N+1)·c⌉-th smallest of <paramref name="sorted"/>, or the normal-tail extrapolation beyond
    /// the largest.</summary>
    private static float Quantile(float[] sorted, float c)
    {
        int n = sorted.Length;
        int rank = Rank(n, c);
        if (rank <= n) return sorted[Math.Max(rank, 1) - 1];
        double supported = n / (n + 1.0);
        double ratio = Normal.InvCDF(0, 1, (1 + c) / 2.0) / Normal.InvCDF(0, 1, (1 + supported) / 2.0);
        return (float)(sorted[n - 1] * ratio);
    }

    /// <summary>⌈(n + 1)·c⌉, forgiving the float's representation error (0.95f is 0.94999999…, 0.99f 0.99000001…),
    /// so that 19 errors support 95% and 99 support 99%, as the decimal levels promise.</summary>
    internal static int Rank(int n, float c) => (int)Math.Ceiling((n + 1) * (double)c - 1e-6);

    /// <summary>The fewest errors that support level c without extrapolation.</summary>
    internal static int ErrorsNeeded(float c)
    {
        int n = 1;
        while (Rank(n, c) > n) n++;
        return n;
    }

    internal void Write(BinaryWriter w)
    {
        Persisted.WriteEnum(w, Method);
        w.Write(_residuals.Length);
        foreach (var r in _residuals) Persisted.WriteArray(w, r);
    }

    internal static ForecastCalibration Read(BinaryReader r, int horizon)
    {
        var method = Persisted.ReadEnum<Kind>(r);
        int H = r.ReadInt32();
        if (H != horizon) throw new InvalidDataException($"The calibration has {H} steps; the model forecasts {horizon}.");
        var residuals = new float[H][];
        for (int k = 0; k < H; k++) residuals[k] = Persisted.ReadArray(r, 1 << 24);
        return new ForecastCalibration(method, residuals);
    }
}

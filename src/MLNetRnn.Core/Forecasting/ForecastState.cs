using System.ComponentModel;
using MLNetRnn.Core.Forecasting.Baselines;

namespace MLNetRnn.Core.Forecasting;

/// <summary>
/// Where a series stands: its newest raw values (enough for the window and for one season of seasonal naive),
/// the covariates of the window's rows, the base's smoothing state and how many values came before. What a
/// forecast from "now" needs; held by a fitted model (the end of its training series), advanced by engines and
/// cursors one observation at a time without allocating.
/// </summary>
/// <remarks>
/// The stable API: <see cref="Empty(ForecastModel)"/>, <see cref="AfterSeries(ForecastModel, ReadOnlySpan{float}, ReadOnlySpan{float})"/>
/// and their overloads for one series of a panel, <see cref="Observe"/>, <see cref="Count"/>, <see cref="Clone"/>,
/// <see cref="CopyTo"/>. The buffers and the binary format (hidden from IntelliSense) are the ML.NET layer's plumbing.
/// </remarks>
public sealed class ForecastState
{
    private ForecastState(float[] history, float[] baseOneStep, float[] covariates, double[] baseState, long count)
    {
        History = history; BaseOneStep = baseOneStep; Covariates = covariates; BaseState = baseState; Count = count;
    }

    /// <summary>(R) Raw values, newest last; only the last min(Count, R) are meaningful.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float[] History { get; }
    /// <summary>(W) The base's one-step forecast of each of the last W values, raw.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float[] BaseOneStep { get; }
    /// <summary>(W·C) The covariates of the last W rows.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float[] Covariates { get; }
    /// <summary>The base's smoothing state after <see cref="Count"/> values.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public double[] BaseState { get; }
    /// <summary>Values observed so far.</summary>
    public long Count { get; private set; }

    /// <summary>An empty series fitted as <paramref name="series"/>: nothing observed yet.</summary>
    public static ForecastState Empty(ForecasterSettings s, SeriesFit series)
    {
        var state = new ForecastState(new float[series.HistoryLength(s)], new float[s.WindowSize], new float[s.WindowSize * s.CovariateCount],
            new double[series.Baseline?.StateSize ?? 0], 0);
        series.Baseline?.Reset(state.BaseState);
        return state;
    }

    /// <summary>An empty series of a single-series model.</summary>
    public static ForecastState Empty(ForecastModel model) => Empty(model.Settings, model.Single);

    /// <summary>The state of a single-series model's series after observing every value (and covariate row) of it.</summary>
    public static ForecastState AfterSeries(ForecastModel model, ReadOnlySpan<float> values, ReadOnlySpan<float> covariates)
        => AfterSeries(model.Settings, model.Single, values, covariates);

    /// <summary>The state after observing every value (and covariate row) of a series.</summary>
    public static ForecastState AfterSeries(ForecasterSettings s, SeriesFit series, ReadOnlySpan<float> values, ReadOnlySpan<float> covariates)
    {
        var state = Empty(s, series);
        int C = s.CovariateCount;
        for (int t = 0; t < values.Length; t++) state.Push(series.Baseline, values[t], covariates.Slice(t * C, C));
        return state;
    }

    /// <summary>A copy that moves on independently.</summary>
    public ForecastState Clone() => new((float[])History.Clone(), (float[])BaseOneStep.Clone(), (float[])Covariates.Clone(), (double[])BaseState.Clone(), Count);

    /// <summary>Copies this state into <paramref name="target"/> (same model), without allocating.</summary>
    public void CopyTo(ForecastState target)
    {
        History.CopyTo(target.History, 0);
        BaseOneStep.CopyTo(target.BaseOneStep, 0);
        Covariates.CopyTo(target.Covariates, 0);
        BaseState.CopyTo(target.BaseState, 0);
        target.Count = Count;
    }

    /// <summary>Observes the next value of series <paramref name="series"/> and its covariate row (C values; empty
    /// without covariates), dropping the oldest. No allocation.</summary>
    public void Observe(SeriesFit series, float value, ReadOnlySpan<float> covariates) => Push(series.Baseline, value, covariates);

    /// <summary>Appends one observation, dropping the oldest, as <paramref name="baseline"/> sees it. No allocation.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Push(Baseline? baseline, float value, ReadOnlySpan<float> covariates)
    {
        int R = History.Length, C = covariates.Length, W = BaseOneStep.Length;
        // What the base expected of this value, before it sees it; until the base has warmed up, the value itself.
        float expected = value;
        if (baseline is not null && Count >= Math.Max(2, baseline.HistoryLength))
        {
            Span<float> one = stackalloc float[2];
            baseline.Forecast(BaseState, History, Count, one[..1], one[1..]);
            expected = one[0];
        }
        Array.Copy(BaseOneStep, 1, BaseOneStep, 0, W - 1);
        BaseOneStep[W - 1] = expected;
        Array.Copy(History, 1, History, 0, R - 1);
        History[R - 1] = value;
        if (C > 0)
        {
            Array.Copy(Covariates, C, Covariates, 0, (W - 1) * C);
            covariates.CopyTo(Covariates.AsSpan((W - 1) * C, C));
        }
        baseline?.Observe(BaseState, value, Count);
        Count++;
    }

    // *** Binary format (version 2) *** int64 count; int32 R, float[R] history; int32 W, float[W] base one-step
    // forecasts; int32 W·C, float[W·C] covariates;
    // int32 S, double[S] base state
    /// <summary>Writes the state (the ML.NET layer's model files).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Write(BinaryWriter w)
    {
        w.Write(Count);
        w.Write(History.Length);
        foreach (float v in History) w.Write(v);
        w.Write(BaseOneStep.Length);
        foreach (float v in BaseOneStep) w.Write(v);
        w.Write(Covariates.Length);
        foreach (float v in Covariates) w.Write(v);
        w.Write(BaseState.Length);
        foreach (double v in BaseState) w.Write(v);
    }

    /// <summary>Reads what <see cref="Write"/> wrote, for series <paramref name="series"/> of a model with <paramref name="settings"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ForecastState Read(BinaryReader r, ForecasterSettings settings, SeriesFit series)
    {
        long count = r.ReadInt64();
        if (count < 0) throw new InvalidDataException($"Series length {count} is out of range.");
        var empty = Empty(settings, series);
        ReadInto(r, empty.History, "history");
        ReadInto(r, empty.BaseOneStep, "base forecast");
        ReadInto(r, empty.Covariates, "covariate");
        int S = r.ReadInt32();
        if (S != empty.BaseState.Length) throw new InvalidDataException($"The saved base state has {S} numbers; the model's base needs {empty.BaseState.Length}.");
        for (int i = 0; i < S; i++) empty.BaseState[i] = r.ReadDouble();
        return new ForecastState(empty.History, empty.BaseOneStep, empty.Covariates, empty.BaseState, count);
    }

    /// <summary>Reads the series state of payload version 1 (count, the W-value window, its covariates).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ForecastState ReadVersion1(BinaryReader r, ForecasterSettings settings, SeriesFit series)
    {
        long count = r.ReadInt64();
        if (count < 0) throw new InvalidDataException($"Series length {count} is out of range.");
        var s = Empty(settings, series);
        // Version 1 windows always covered a season, so the history is the window.
        for (int i = 0; i < s.History.Length; i++) s.History[i] = r.ReadSingle();
        for (int i = 0; i < s.Covariates.Length; i++) s.Covariates[i] = r.ReadSingle();
        return new ForecastState(s.History, s.BaseOneStep, s.Covariates, s.BaseState, count);
    }

    private static void ReadInto(BinaryReader r, float[] target, string what)
    {
        int n = r.ReadInt32();
        if (n != target.Length) throw new InvalidDataException($"The saved {what} buffer has {n} values; the model needs {target.Length}.");
        for (int i = 0; i < n; i++) target[i] = r.ReadSingle();
    }
}

using MLNetRnn.Core.Data;

namespace MLNetRnn.Core.Forecasting;

// S = series, n = values of one series, C = covariates, Cf = known-future covariates, Z = static features,
// W = window, H = horizon, F = inputs per step, O = head outputs, Q = quantile levels.
// A window "at origin o" of a series reads values o−W..o−1 and is followed by the H values o..o+H−1; its series-local
// index is i = o − first origin. Global window ids number the windows of series 0, then series 1, …

/// <summary>The training data of a forecaster: one or more series, each with its covariate rows and static features.</summary>
public sealed class SeriesPanel
{
    /// <summary>S series to train one model on: an id, the values (oldest first), the covariate rows (n·C, row-major) and the Z encoded static features of each.</summary>
    public SeriesPanel(IReadOnlyList<string> ids, IReadOnlyList<float[]> values, IReadOnlyList<float[]> covariates, IReadOnlyList<float[]> staticFeatures)
    {
        if (values.Count == 0) throw new ArgumentException("A panel needs at least one series.", nameof(values));
        if (ids.Count != values.Count || covariates.Count != values.Count || staticFeatures.Count != values.Count)
            throw new ArgumentException("Every series needs an id, its covariates and its static features.", nameof(values));
        Ids = ids; Values = values; Covariates = covariates; StaticFeatures = staticFeatures;
    }

    /// <summary>One series without an id (the single-series forecaster).</summary>
    internal static SeriesPanel Single(float[] values, float[] covariates) => new([""], [values], [covariates], [[]]);

    /// <summary>S: the series in the panel.</summary>
    public int Count => Values.Count;
    /// <summary>(S) Each series' id, "" for a single series; messages name series by it.</summary>
    public IReadOnlyList<string> Ids { get; }                 // (S) "" for a single series
    /// <summary>(S)(n) Each series' values, oldest first.</summary>
    public IReadOnlyList<float[]> Values { get; }
    /// <summary>(S)(n·C) Each series' covariate rows, row-major; empty without covariates.</summary>
    public IReadOnlyList<float[]> Covariates { get; }
    /// <summary>(S)(Z) Each series' static features, encoded: numbers, then category indices.</summary>
    public IReadOnlyList<float[]> StaticFeatures { get; }

    /// <summary>How a message names series s: "series 'id'", or "the series" when there is only one.</summary>
    internal string Name(int s) => Count == 1 && Ids[0].Length == 0 ? "the series" : $"series '{Ids[s]}'";
}

/// <summary>
/// What the windows of one training series read besides its raw values and covariates: the base's one-step forecast
/// of every value (n floats) and the base's smoothing state every <see cref="Stride"/> values, so that the state at
/// any origin is a checkpoint moved on by fewer than <see cref="Stride"/> observations. Exactly the numbers a
/// <see cref="ForecastState"/> walked through the series would hold, at a few bytes per value.
/// </summary>
internal sealed class SeriesTrack
{
    public const int Stride = 64;

    private SeriesTrack(float[] values, float[] covariates, float[] oneStep, double[] checkpoints, int stateSize, int first, int windows)
    {
        Values = values; Covariates = covariates; OneStep = oneStep; Checkpoints = checkpoints; StateSize = stateSize; First = first; Windows = windows;
    }

    public float[] Values { get; }       // (n)
    public float[] Covariates { get; }   // (n·C)
    public float[] OneStep { get; }      // (n) the base's forecast of value t made before seeing it (value t itself until it has warmed up)
    public double[] Checkpoints { get; } // (n/Stride + 1, StateSize) the base state after 0, Stride, 2·Stride, … values
    public int StateSize { get; }
    public int First { get; }            // the first origin of a window
    public int Windows { get; }          // N_s

    public static SeriesTrack Build(ForecasterSettings s, SeriesFit fit, float[] values, float[] covariates)
    {
        int n = values.Length, C = s.CovariateCount, W = s.WindowSize, first = fit.FirstOrigin(s);
        int S = fit.Baseline?.StateSize ?? 0;
        var oneStep = new float[n];
        var checkpoints = new double[(n / Stride + 1) * S];
        var state = ForecastState.Empty(s, fit);
        for (int t = 0; t < n; t++)
        {
            if (t % Stride == 0) state.BaseState.CopyTo(checkpoints, t / Stride * S);
            state.Push(fit.Baseline, values[t], covariates.AsSpan(t * C, C));
            oneStep[t] = state.BaseOneStep[W - 1];
        }
        if (n % Stride == 0) state.BaseState.CopyTo(checkpoints, n / Stride * S);
        return new SeriesTrack(values, covariates, oneStep, checkpoints, S, first, Math.Max(0, n - s.Horizon - first + 1));
    }

    /// <summary>Writes the base state after <paramref name="origin"/> values into <paramref name="state"/>. No allocation.</summary>
    public void StateAt(SeriesFit fit, int origin, Span<double> state)
    {
        if (StateSize == 0) return;
        int c = origin / Stride;
        Checkpoints.AsSpan(c * StateSize, StateSize).CopyTo(state);
        for (long t = (long)c * Stride; t < origin; t++) fit.Baseline!.Observe(state, Values[t], t);
    }
}

/// <summary>Builds training windows on demand, exactly as a forecast from that origin would see them (both are written
/// by the model's <see cref="NetworkInputWriter"/>). One per thread (it owns its scratch buffers).</summary>
internal sealed class WindowBuilder
{
    private readonly ForecastModel _model;
    private readonly SeriesTrack[] _tracks;
    private readonly float[] _adjusted;   // (W)
    private readonly float[] _raw;        // (H) the base's raw forecast
    private readonly float[] _scratch;    // (H)
    private readonly float[] _future;     // (H·Cf) the horizon's known-future covariates, raw
    private readonly double[] _state;     // (largest base state)

    public WindowBuilder(ForecastModel model, SeriesTrack[] tracks)
    {
        var s = model.Settings;
        _model = model; _tracks = tracks;
        _adjusted = new float[s.WindowSize];
        _raw = new float[s.Horizon];
        _scratch = new float[s.Horizon];
        _future = new float[s.Horizon * s.FutureCovariateCount];
        _state = new double[tracks.Length == 0 ? 0 : tracks.Max(t => t.StateSize)];
    }

    public SeriesTrack[] Tracks => _tracks;

    /// <summary>Window i of series s: its inputs (T·F), the base's forecast (H) and the targets (H), both in network
    /// units relative to the window's level. Returns the level. No allocation.</summary>
    public float Build(int s, int i, Span<float> input, Span<float> reference, Span<float> target)
    {
        var st = _model.Settings;
        var track = _tracks[s];
        var fit = _model.Series[s];
        int W = st.WindowSize, H = st.Horizon, C = st.CovariateCount, R = fit.HistoryLength(st), o = i + track.First;
        var state = _state.AsSpan(0, track.StateSize);
        track.StateAt(fit, o, state);
        var future = _future.AsSpan();
        for (int k = 0; k < H; k++)
            for (int f = 0; f < st.FutureCovariateCount; f++) future[k * st.FutureCovariateCount + f] = track.Covariates[(o + k) * C + st.KnownFutureCovariates[f]];
        int from = Math.Max(0, o - R);
        float level = _model.Input.Prepare(fit, track.Values.AsSpan(from, o - from), track.OneStep.AsSpan(o - W, W), track.Covariates.AsSpan((o - W) * C, W * C),
            state, o, future, input, _adjusted, reference, _raw, _scratch, H);
        for (int k = 0; k < H; k++) target[k] = fit.Scaler.Forward(fit.Season.Deseasonalize(track.Values[o + k], o + k), level);
        return level;
    }
}

/// <summary>
/// The training (or validation) windows of one ensemble member, by global id, built batch by batch: memory grows
/// with the batch, not with the windows. The member learns the base's error, target − base, in network units; with
/// quantile heads every one of the H errors is the target of its Q outputs.
/// </summary>
internal sealed class PanelWindowSource : WindowSource
{
    private readonly WindowBuilder _builder;
    private readonly int[] _windows;       // (N) global window ids
    private readonly int[] _start;         // (S+1) global id of each series' first window
    private readonly float[] _input;       // (T·F) one window (and a decoder's future steps)
    private readonly float[] _reference;   // (H)
    private readonly float[] _target;      // (H)
    private readonly int _T, _F, _O, _Q, _H, _P;     // _O: head outputs per step read; _P: steps read (1, or H with a decoder)

    // Series-weighted draws (exponent α ≠ 1): row r of the Count rows is a slot of one series, series s holding a share
    // ∝ N_s^α of the slots, and each slot draws one of the series' windows at random. The trainer's shuffle then spreads
    // the series over the batches in those shares, whatever their lengths.
    private readonly int[]? _slotStart;    // (S'+1) first slot of each series with training windows
    private readonly int[]? _rangeStart;   // (S'+1) where each such series' windows start in _windows
    private readonly Random? _draw;

    public PanelWindowSource(ForecastModel model, SeriesTrack[] tracks, int[] start, int[] windows, double exponent = 1, int seed = 0)
    {
        var s = model.Settings;
        _builder = new WindowBuilder(model, tracks);
        _windows = windows; _start = start;
        _T = s.Steps; _F = s.InputSize; _O = s.HeadSize; _Q = Math.Max(1, s.QuantileCount); _H = s.Horizon; _P = s.Decoder ? s.Horizon : 1;
        _input = new float[_T * _F];
        _reference = new float[_H];
        _target = new float[_H];
        if (exponent != 1 && windows.Length > 0)
        {
            // windows are ascending global ids, so each series' windows are one run of them.
            var ranges = new List<int> { 0 };
            int previous = Locate(start, windows[0]).Series;
            for (int j = 1; j < windows.Length; j++)
            {
                int series = Locate(start, windows[j]).Series;
                if (series != previous) ranges.Add(j);
                previous = series;
            }
            ranges.Add(windows.Length);
            int R = ranges.Count - 1;
            double total = 0;
            for (int r = 0; r < R; r++) total += Math.Pow(ranges[r + 1] - ranges[r], exponent);
            _rangeStart = ranges.ToArray();
            _slotStart = new int[R + 1];
            double cumulative = 0;
            for (int r = 0; r < R; r++)
            {
                cumulative += Math.Pow(ranges[r + 1] - ranges[r], exponent);
                _slotStart[r + 1] = Math.Max(_slotStart[r] + 1, (int)Math.Round(cumulative / total * windows.Length));
            }
            _draw = new Random(seed);
        }
    }

    public override int Count => _slotStart?[^1] ?? _windows.Length;

    /// <summary>The global window id behind trainer row <paramref name="row"/> (a fresh draw each time under series weighting).</summary>
    internal int Window(int row)
    {
        if (_slotStart is null) return _windows[row];
        int r = Array.BinarySearch(_slotStart, row);
        if (r < 0) r = ~r - 1;
        return _windows[_rangeStart![r] + _draw!.Next(_rangeStart[r + 1] - _rangeStart[r])];
    }
    public override int Steps => _T;
    public override int InputSize => _F;
    public override int TargetSteps => _P;
    public override int OutputSize => _O;

    /// <summary>The series of global window <paramref name="g"/> and its index within the series.</summary>
    public static (int Series, int Index) Locate(int[] start, int g)
    {
        int s = Array.BinarySearch(start, g);
        if (s < 0) s = ~s - 1;
        while (s + 1 < start.Length && start[s + 1] == g) s++;   // skip series without windows
        return (s, g - start[s]);
    }

    public override void Gather(ReadOnlySpan<int> rows, Span<float> input, Span<float> targets)
    {
        int B = rows.Length, T = _T, F = _F, O = _O, Q = _Q;
        for (int b = 0; b < B; b++)
        {
            var (s, i) = Locate(_start, Window(rows[b]));
            _builder.Build(s, i, _input, _reference, _target);
            for (int t = 0; t < T; t++) _input.AsSpan(t * F, F).CopyTo(input.Slice((t * B + b) * F, F));
            if (_P == 1)
            {
                var y = targets.Slice(b * O, O);
                for (int o = 0; o < O; o++) y[o] = _target[o / Q] - _reference[o / Q];
            }
            else
                // A decoder's targets are (H, B, Q) time-major: step k's Q outputs all learn step k's error.
                for (int k = 0; k < _P; k++)
                    targets.Slice((k * B + b) * O, O).Fill(_target[k] - _reference[k]);
        }
    }
}

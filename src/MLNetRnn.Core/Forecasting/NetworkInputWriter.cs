namespace MLNetRnn.Core.Forecasting;

// W = window, H = horizon, T = steps the networks read (W, and H more with a decoder), F = inputs per step,
// C = covariates, Cf = known-future covariates, Zd = static features that are numbers, m = seasonal period.
// A window "at origin o" reads values o−W..o−1 and is followed by the H values o..o+H−1.

/// <summary>
/// Turns a window of a series into what the networks read: W window rows and, with a decoder, H decoder rows, each
/// of F inputs in the columns of <see cref="Layout"/>, with the base's forecast in the same units. Training windows
/// (<see cref="WindowBuilder"/>), held-out evaluation and forecasts all come through <see cref="Prepare"/>, so a window
/// is encoded one way everywhere; the ONNX export builds its graph from the same <see cref="Layout"/>.
/// </summary>
public sealed class NetworkInputWriter
{
    private readonly ForecasterSettings _settings;
    private readonly float[] _covariateMean;    // (C)
    private readonly float[] _covariateScale;   // (C)
    private readonly float _logScaleMean, _logScaleDeviation;

    internal NetworkInputWriter(ForecasterSettings settings, float[] covariateMean, float[] covariateScale, float logScaleMean, float logScaleDeviation)
    {
        _settings = settings;
        _covariateMean = covariateMean; _covariateScale = covariateScale;
        _logScaleMean = logScaleMean; _logScaleDeviation = logScaleDeviation;
        Layout = new NetworkInputLayout(settings);
    }

    /// <summary>Where each feature sits in a row.</summary>
    internal NetworkInputLayout Layout { get; }

    /// <summary>
    /// Fills <paramref name="input"/> (T, F) from a window of a series and writes the base's forecast of the next
    /// <paramref name="steps"/> values, in network units relative to the window's level, into
    /// <paramref name="reference"/> (zeros without a base). Returns the level. No allocation.
    /// </summary>
    /// <param name="fit">The series' fitted parts.</param>
    /// <param name="history">The newest raw values, oldest first: at least W (and one season for seasonal naive).</param>
    /// <param name="oneStep">(W) the base's one-step forecasts of the window's values, raw.</param>
    /// <param name="covariates">(W·C) the window rows' covariates, raw.</param>
    /// <param name="baseState">The base's state after <paramref name="count"/> values.</param>
    /// <param name="count">Values observed so far: the time of the first value forecast.</param>
    /// <param name="future">(H·Cf) the horizon's known-future covariates, raw; empty without them.</param>
    /// <param name="input">(T·F) written, T = W (and H future steps with a decoder).</param>
    /// <param name="adjusted">(W) scratch.</param>
    /// <param name="reference">(steps) written; may be <paramref name="raw"/> itself.</param>
    /// <param name="raw">(steps) the base's raw forecast, written.</param>
    /// <param name="baseScratch">(steps) scratch.</param>
    /// <param name="steps">Values forecast by the base.</param>
    internal float Prepare(SeriesFit fit, ReadOnlySpan<float> history, ReadOnlySpan<float> oneStep, ReadOnlySpan<float> covariates, ReadOnlySpan<double> baseState,
        long count, ReadOnlySpan<float> future, Span<float> input, Span<float> adjusted, Span<float> reference, Span<float> raw, Span<float> baseScratch, int steps)
    {
        var s = _settings;
        int W = s.WindowSize;
        long start = count - W;
        var window = history.Slice(history.Length - W, W);
        var season = fit.Season;
        var scaler = fit.Scaler;
        var d = adjusted[..W];
        for (int j = 0; j < W; j++) d[j] = season.Deseasonalize(window[j], start + j);
        float level = scaler.Level(d);
        float logScale = s.ScaleFeature ? (fit.LogScale - _logScaleMean) / _logScaleDeviation : 0f;
        WriteWindowRows(fit, d, oneStep, covariates, start, level, logScale, input);
        var r = reference[..steps];
        if (fit.Baseline is null) r.Clear();
        else
        {
            var rawSteps = raw[..steps];
            fit.Baseline.Forecast(baseState, history, count, rawSteps, baseScratch[..steps]);
            for (int k = 0; k < steps; k++) r[k] = scaler.Forward(season.Deseasonalize(rawSteps[k], count + k), level);
        }
        if (s.Decoder) WriteDecoderRows(fit, r, future, count, logScale, input);
        return level;
    }

    /// <summary>The W window rows: each step's scaled value, the base's one-step error of it, its covariates, its
    /// seasonal position, and what does not change along the window (the series' static features and scale, a decoder
    /// flag of 0, and last its categories).</summary>
    private void WriteWindowRows(SeriesFit fit, ReadOnlySpan<float> d, ReadOnlySpan<float> oneStep, ReadOnlySpan<float> covariates, long start, float level,
        float logScale, Span<float> input)
    {
        var s = _settings;
        var L = Layout;
        int W = s.WindowSize, C = L.CovariateCount, F = L.Width, m = fit.SeasonalPeriod;
        var season = fit.Season;
        var scaler = fit.Scaler;
        for (int j = 0; j < W; j++)
        {
            var row = input.Slice(j * F, F);
            row[L.Value] = scaler.Forward(d[j], level);
            if (L.BaseError >= 0) row[L.BaseError] = row[L.Value] - scaler.Forward(season.Deseasonalize(oneStep[j], start + j), level);
            for (int c = 0; c < C; c++) row[L.Covariates + c] = (covariates[j * C + c] - _covariateMean[c]) / _covariateScale[c];
            if (L.Season >= 0) WriteSeason(row, L.Season, start + j, m);
            for (int z = 0; z < L.StaticFeatureCount; z++) row[L.StaticFeatures + z] = fit.StaticFeatures[z];
            if (L.Scale >= 0) row[L.Scale] = logScale;
            if (L.DecoderFlag >= 0) row[L.DecoderFlag] = 0f;
            WriteCategories(fit, row);
        }
    }

    /// <summary>The decoder's H future steps, after the window rows: the base's forecast <paramref name="r"/> where the
    /// value was, no one-step error, the step's known-future covariates (past-only ones at their mean, 0), its seasonal
    /// position, the series' features, flag 1.</summary>
    private void WriteDecoderRows(SeriesFit fit, ReadOnlySpan<float> r, ReadOnlySpan<float> future, long count, float logScale, Span<float> input)
    {
        var s = _settings;
        var L = Layout;
        int W = s.WindowSize, H = s.Horizon, F = L.Width, m = fit.SeasonalPeriod, Cf = s.FutureCovariateCount;
        for (int k = 0; k < H; k++)
        {
            var row = input.Slice((W + k) * F, F);
            row.Clear();
            row[L.Value] = r[k];
            for (int f = 0; f < Cf; f++)
            {
                int c = s.KnownFutureCovariates[f];
                row[L.Covariates + c] = (future[k * Cf + f] - _covariateMean[c]) / _covariateScale[c];
            }
            if (L.Season >= 0) WriteSeason(row, L.Season, count + k, m);
            for (int z = 0; z < L.StaticFeatureCount; z++) row[L.StaticFeatures + z] = fit.StaticFeatures[z];
            if (L.Scale >= 0) row[L.Scale] = logScale;
            row[L.DecoderFlag] = 1f;
            WriteCategories(fit, row);
        }
    }

    /// <summary>The category indices that end an input row: the series' static categories (which follow its numeric
    /// static features in <see cref="SeriesFit.StaticFeatures"/>), then its own index.</summary>
    /// <summary>The sine and cosine of position t in a season of m, at row[at] and row[at + 1]: the window rows and the
    /// decoder rows write the same two columns the same way.</summary>
    private static void WriteSeason(Span<float> row, int at, long t, int m)
    {
        double phase = 2 * Math.PI * (t % m) / m;
        row[at] = (float)Math.Sin(phase);
        row[at + 1] = (float)Math.Cos(phase);
    }

    private void WriteCategories(SeriesFit fit, Span<float> row)
    {
        var L = Layout;
        int Zd = L.StaticFeatureCount, p = L.Categories;
        for (int z = Zd; z < _settings.StaticFeatureCount; z++) row[p++] = fit.StaticFeatures[z];
        if (_settings.SeriesCategories > 0) row[p] = fit.Category;
    }
}

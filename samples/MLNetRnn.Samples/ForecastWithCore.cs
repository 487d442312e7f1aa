using System.Globalization;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Samples;

/// <summary>
/// Forecasts AirPassengers with MLNetRnn.Core alone, no ML.NET: train a forecaster on the first 132 months, forecast
/// the last 12 from the series' state, observe one more month and forecast again, and check that the model's bytes
/// read back into a model that forecasts the same numbers. A sample compiles against the public API only, so it is
/// also the proof that a .NET user can do all of this without ML.NET.
/// </summary>
public static class ForecastWithCore
{
    /// <summary>Runs the sample, writing its report to <paramref name="output"/>. Returns 0 when the model's bytes
    /// round-trip to identical forecasts.</summary>
    public static int Run(TextWriter output, int ensembleSize = 2, int maximumSteps = 300)
    {
        string csv = Path.Combine(AppContext.BaseDirectory, "Data", "AirPassengers.csv");
        float[] series = File.ReadLines(csv).Skip(1).Select(l => float.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        const int H = 12;
        var train = series[..^H];

        var settings = new ForecasterSettings
        {
            WindowSize = 24, Horizon = H, SeasonalPeriod = 12, EnsembleSize = ensembleSize, MaximumSteps = maximumSteps,
            MaximumDegreeOfParallelism = 1,
        };
        var model = ForecastModel.Train(settings, train, covariates: []);
        var fit = model.Single;
        var state = ForecastState.AfterSeries(model, train, covariates: []);

        var scratch = model.CreateScratch();
        float[] forecast = new float[H], lower = new float[H], upper = new float[H];
        model.Forecast(state, 0.9f, scratch, forecast, lower, upper);
        double mae = forecast.Zip(series[^H..], (f, y) => Math.Abs(f - y)).Average();
        output.WriteLine($"AirPassengers with MLNetRnn.Core alone: base {model.Summary.Base}, λ {model.CorrectionWeight:F3}, MAE over the last {H} months {mae:F1}");
        output.WriteLine($"  1960-12: {forecast[^1]:F0} [{lower[^1]:F0}, {upper[^1]:F0}], actual {series[^1]:F0}");

        // A month later: observe it, forecast on from there.
        state.Observe(fit, series[^H], ReadOnlySpan<float>.Empty);
        float[] next = new float[H];
        model.Forecast(state, 0.9f, scratch, next, lower, upper);
        output.WriteLine($"  after observing 1960-01 ({series[^H]:F0}): 1960-02 forecast {next[0]:F0}, actual {series[^(H - 1)]:F0}");

        var loaded = ForecastModel.FromBytes(model.ToBytes());
        float[] again = new float[H];
        loaded.Forecast(ForecastState.AfterSeries(loaded, series[..^(H - 1)], []), 0.9f, loaded.CreateScratch(), again, lower, upper);
        bool same = next.AsSpan().SequenceEqual(again);
        output.WriteLine($"  model bytes round trip: same forecast {(same ? "yes" : "NO")}");
        return same ? 0 : 1;
    }
}

using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Persistence;

namespace MLNetRnn.Samples;

/// <summary>
/// The main sample: monthly airline passengers 1949–1960 from the bundled CSV, a pipeline with
/// <c>ForecastByRnn</c>, a 12-month holdout evaluated with ML.NET's regression metrics beside seasonal naive,
/// the model saved to a zip, loaded back in a new <see cref="MLContext"/>, and the next year forecast with
/// 90% intervals through the forecasting engine.
/// </summary>
public static class ForecastAirPassengers
{
    /// <summary>One row of the CSV.</summary>
    public sealed class Month
    {
        /// <summary>First day of the month, as written in the file.</summary>
        [LoadColumn(0)] public string Date { get; set; } = "";

        /// <summary>Passengers, thousands.</summary>
        [LoadColumn(1)] public float Value { get; set; }
    }

    private sealed class Scored
    {
        public float Label { get; set; }

        public float Score { get; set; }
    }

    /// <summary>Runs the sample, writing its report to <paramref name="output"/>. Returns 0 on success.</summary>
    public static int Run(TextWriter output, string? modelPath = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var mlContext = new MLContext(seed: 0);
        string csv = Path.Combine(AppContext.BaseDirectory, "Data", "AirPassengers.csv");
        IDataView all = mlContext.Data.LoadFromTextFile<Month>(csv, hasHeader: true, separatorChar: ',');
        float[] series = all.GetColumn<float>(nameof(Month.Value)).ToArray();
        const int horizon = 12, holdout = 12;
        IDataView train = mlContext.Data.TakeRows(all, series.Length - holdout);

        // An ordinary pipeline: name the series, then forecast it. The seasonal period is left to the forecaster, which
        // detects it in the training data (seasonalPeriod: 12 would give the same model).
        var pipeline = mlContext.Transforms.CopyColumns("Passengers", nameof(Month.Value))
            .Append(mlContext.Forecasting.ForecastByRnn(
                outputColumnName: "Forecast", inputColumnName: "Passengers",
                windowSize: 24, horizon: horizon,
                confidenceLowerBoundColumn: "Lower", confidenceUpperBoundColumn: "Upper", confidenceLevel: 0.9f));
        var started = DateTime.UtcNow;
        var model = pipeline.Fit(train);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;
        var forecaster = model.LastTransformer;
        var summary = forecaster.TrainingSummary;
        output.WriteLine($"AirPassengers: {series.Length} months; trained on the first {series.Length - holdout} in {seconds:F1} s.");
        // What the fit did: the season it found, the statistical base it chose (and the runners-up), and how much the
        // networks changed it.
        var season = summary.SeasonalPeriodDetection!.Candidates.FirstOrDefault(c => c.Period == summary.SeasonalPeriods[0]);
        output.WriteLine(season is null ? $"  season: none detected (m = {summary.SeasonalPeriods[0]})"
            : string.Format(inv, "  season: m = {0}, {1} (lag-{0} autocorrelation {2:F2}, above the 90% limit {3:F2})",
                season.Period, summary.SeasonalPeriodDetected ? "detected" : "set", season.Strength, season.Threshold));
        output.WriteLine($"  base: {summary.Base} (chosen over {string.Join(", ", summary.BaseCandidates.Skip(1).Take(2))} on the training series)");
        output.WriteLine(string.Format(inv, "  {0} GRU(32) networks correct it with weight λ = {1:F2}, moving the forecast by {2:F2} MASE units on held-out windows",
            summary.Members.Count, summary.CorrectionWeight, summary.MeanCorrection));
        output.WriteLine(string.Format(inv, "  {0} scaling, {1} training windows per network, {2} held out, best epochs {3}",
            summary.Scaling, summary.TrainingWindows, summary.ValidationWindows, string.Join("/", summary.Members.Select(m => m.BestEpoch))));
        foreach (string note in summary.Notes) output.WriteLine("  note: " + note);

        // Holdout: the forecast from the end of the training months against the last 12 months.
        var holdoutForecast = model.CreateForecastingEngine().Predict();
        float[] actual = series[^holdout..];
        float[] history = series[..^holdout];
        float[] naive = ForecastMetrics.SeasonalNaive(history, horizon, 12);
        var rnn = Evaluate(mlContext, actual, holdoutForecast.Forecast);
        var snaive = Evaluate(mlContext, actual, naive);
        int covered = actual.Where((y, i) => y >= holdoutForecast.LowerBound[i] && y <= holdoutForecast.UpperBound[i]).Count();
        output.WriteLine();
        output.WriteLine("Holdout, last 12 months        MAE     RMSE      R²    sMAPE   MASE");
        output.WriteLine(string.Format(inv, "  ForecastByRnn            {0,8:F2} {1,8:F2} {2,7:F3} {3,7:F2}% {4,6:F3}", rnn.MeanAbsoluteError, rnn.RootMeanSquaredError, rnn.RSquared,
            ForecastMetrics.SymmetricMape(actual, holdoutForecast.Forecast), ForecastMetrics.Mase(actual, holdoutForecast.Forecast, history, 12)));
        output.WriteLine(string.Format(inv, "  seasonal naive           {0,8:F2} {1,8:F2} {2,7:F3} {3,7:F2}% {4,6:F3}", snaive.MeanAbsoluteError, snaive.RootMeanSquaredError, snaive.RSquared,
            ForecastMetrics.SymmetricMape(actual, naive), ForecastMetrics.Mase(actual, naive, history, 12)));
        output.WriteLine($"  {covered} of {holdout} months inside the 90% interval.");

        // Save, then load in a new context as a service would, and forecast the year after the data.
        modelPath ??= Path.Combine(Path.GetTempPath(), "airpassengers-rnn.zip");
        mlContext.Model.SaveAtomically(model, train.Schema, modelPath);
        var serviceContext = new MLContext();
        var loaded = serviceContext.Model.Load(modelPath, out _);
        var engine = loaded.CreateForecastingEngine();
        bool same = engine.Predict().Forecast.SequenceEqual(holdoutForecast.Forecast);
        foreach (float y in actual) engine.Observe(y);   // the holdout months arrive
        var next = engine.Predict();
        output.WriteLine();
        output.WriteLine($"Saved to {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB) and loaded in a new MLContext: same forecast {(same ? "yes" : "NO")}.");
        output.WriteLine("Forecast for 1961 after observing 1960:");
        output.WriteLine("  month   forecast   90% interval");
        for (int h = 0; h < horizon; h++)
            output.WriteLine(string.Format(inv, "  1961-{0:D2} {1,8:F0}   [{2:F0}, {3:F0}]", h + 1, next.Forecast[h], next.LowerBound[h], next.UpperBound[h]));
        return same && rnn.MeanAbsoluteError < snaive.MeanAbsoluteError ? 0 : 1;
    }

    private static RegressionMetrics Evaluate(MLContext mlContext, float[] actual, float[] forecast)
    {
        var rows = actual.Select((y, i) => new Scored { Label = y, Score = forecast[i] });
        return mlContext.Regression.Evaluate(mlContext.Data.LoadFromEnumerable(rows));
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>A reference forecaster that <see cref="RnnCatalog.Backtest"/> scores beside the model, on the same origins.</summary>
public enum BacktestBaselineKind
{
    /// <summary>The model's own statistical base alone: the estimator with <see cref="RnnForecastingOptions.EnsembleSize"/>
    /// = 0, fitted (or observing) as the model is at each origin. What the networks add is the difference to it.</summary>
    Base = 0,

    /// <summary>The last season repeated, f_{n+h} = y_{n+h−m·⌈h/m⌉}, with m the period detected in the data,
    /// <see cref="RnnBacktestResult.MaseSeasonalPeriod"/>: the forecast MASE is scaled by, so its MASE is near 1.</summary>
    SeasonalNaive = 1,

    /// <summary>The last value repeated.</summary>
    Naive = 2,
}

/// <summary>A reference forecaster's backtest: its forecast from each of the model's origins, scored as the model's are
/// (the same sMAPE, MASE scale and ML.NET regression metrics), so each figure compares with the model's beside it.</summary>
/// <param name="Kind">Which forecaster.</param>
/// <param name="Name">What it is, for a table: "base alone", "seasonal naive (m = 12)", "naive".</param>
/// <param name="Origins">Its forecast from each origin of the model's backtest, in the same order (no bounds for the
/// naive forecasts: NaN).</param>
/// <param name="ByHorizon">Its accuracy per step ahead, pooled over origins and series as the model's.</param>
/// <param name="Smape">Mean over series of each series' mean sMAPE over origins.</param>
/// <param name="Mase">Mean over series of each series' mean MASE over origins.</param>
/// <param name="RootMeanSquaredError">Mean over series of each series' mean RMSE over origins.</param>
public sealed record BacktestBaseline(BacktestBaselineKind Kind, string Name, IReadOnlyList<BacktestOrigin> Origins,
    IReadOnlyList<HorizonAccuracy> ByHorizon, double Smape, double Mase, double RootMeanSquaredError);

/// <summary>The baselines of a backtest, from the model's origins.</summary>
internal static class BacktestBaselines
{
    /// <summary>The base alone, from its own backtest (the estimator with no networks, same origins).</summary>
    public static BacktestBaseline Base(RnnBacktestResult result)
        => new(BacktestBaselineKind.Base, "base alone", result.Origins, result.ByHorizon, result.Smape, result.Mase, result.RootMeanSquaredError);

    /// <summary>The last <paramref name="period"/> values repeated from each of the model's origins (1: naive), scored with
    /// <paramref name="mase"/>, the model's MASE.</summary>
    /// <param name="env">For ML.NET's regression metrics.</param>
    /// <param name="kind">Naive or seasonal naive.</param>
    /// <param name="period">Values repeated: 1, or the seasonal period.</param>
    /// <param name="model">The model's backtest, series by series.</param>
    /// <param name="history">The values of a series before an origin.</param>
    /// <param name="mase">The MASE of a forecast, given the history before its origin.</param>
    public static BacktestBaseline Repeat(IHostEnvironment env, BacktestBaselineKind kind, int period, IReadOnlyList<SeriesBacktest> model,
        Func<string, int, float[]> history, Func<float[], float[], float[], double> mase)
    {
        var perSeries = model.Select(s => s.Origins.Select(o =>
        {
            var before = history(o.SeriesId, o.Origin);
            var f = ForecastMetrics.SeasonalNaive(before, o.Actual.Length, period);
            var none = Enumerable.Repeat(float.NaN, f.Length).ToArray();
            return (Origin: new BacktestOrigin(o.Origin, o.Actual, f, none, none, ForecastMetrics.SymmetricMape(o.Actual, f), mase(o.Actual, f, before)) { SeriesId = o.SeriesId },
                History: before);
        }).ToArray()).ToArray();
        var all = perSeries.SelectMany(s => s).ToArray();
        int h = all[0].Origin.Actual.Length;
        var regression = new RegressionCatalog(env);
        var byHorizon = new List<HorizonAccuracy>();
        for (int step = 0; step < h; step++)
        {
            var builder = new ArrayDataViewBuilder(env);
            builder.AddColumn("Label", NumberDataViewType.Single, all.Select(x => x.Origin.Actual[step]).ToArray());
            builder.AddColumn("Score", NumberDataViewType.Single, all.Select(x => x.Origin.Forecast[step]).ToArray());
            var metrics = regression.Evaluate(builder.GetDataView());
            double smape = all.Average(x => ForecastMetrics.SymmetricMape(x.Origin.Actual.AsSpan(step, 1), x.Origin.Forecast.AsSpan(step, 1)));
            double stepMase = all.Average(x => mase(x.Origin.Actual[step..(step + 1)], x.Origin.Forecast[step..(step + 1)], x.History));
            byHorizon.Add(new HorizonAccuracy(step + 1, metrics, smape, stepMase, double.NaN));
        }
        string name = kind == BacktestBaselineKind.Naive ? "naive" : $"seasonal naive (m = {period})";
        return new BacktestBaseline(kind, name, all.Select(x => x.Origin).ToArray(), byHorizon,
            perSeries.Average(s => s.Average(x => x.Origin.Smape)), perSeries.Average(s => s.Average(x => x.Origin.Mase)),
            perSeries.Average(s => s.Average(x => ForecastMetrics.RootMeanSquaredError(x.Origin.Actual, x.Origin.Forecast))));
    }
}

using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>One forecast origin of a backtest: the forecast made after <see cref="Origin"/> rows and what followed.</summary>
/// <param name="Origin">Rows available when the forecast was made.</param>
/// <param name="Actual">The values that followed, one per step ahead.</param>
/// <param name="Forecast">The forecast, one per step ahead.</param>
/// <param name="LowerBound">Lower bounds at the estimator's confidence level.</param>
/// <param name="UpperBound">Upper bounds at the estimator's confidence level.</param>
/// <param name="Smape">sMAPE of this origin, percent (M4).</param>
/// <param name="Mase">MASE of this origin, scaled by the seasonal naive error before the origin (M4).</param>
public sealed record BacktestOrigin(int Origin, float[] Actual, float[] Forecast, float[] LowerBound, float[] UpperBound, double Smape, double Mase);

/// <summary>Accuracy at one step ahead, over all origins of a backtest.</summary>
/// <param name="Step">Steps ahead, from 1.</param>
/// <param name="Metrics">ML.NET's regression metrics (MAE, RMSE, R², …) of the forecasts made this many steps ahead.</param>
/// <param name="Smape">Mean sMAPE of these forecasts, percent.</param>
/// <param name="Mase">Mean MASE of these forecasts (each scaled by its origin's seasonal naive error).</param>
/// <param name="Coverage">Share of actual values inside the bounds (NaN when the model has none).</param>
public sealed record HorizonAccuracy(int Step, RegressionMetrics Metrics, double Smape, double Mase, double Coverage);

/// <summary>The result of <see cref="RnnCatalog.Backtest"/>: each origin, and the accuracy per step ahead.</summary>
/// <param name="Origins">One entry per forecast origin, oldest first.</param>
/// <param name="ByHorizon">One entry per step ahead.</param>
/// <param name="Smape">Mean sMAPE over origins (the protocol's "rolling" figure).</param>
/// <param name="Mase">Mean MASE over origins.</param>
/// <param name="RootMeanSquaredError">Mean over origins of each origin's RMSE.</param>
public sealed record RnnBacktestResult(IReadOnlyList<BacktestOrigin> Origins, IReadOnlyList<HorizonAccuracy> ByHorizon,
    double Smape, double Mase, double RootMeanSquaredError);

/// <summary>Rolling-origin evaluation of a forecasting estimator over the end of a series.</summary>
internal static class RnnBacktest
{
    public static RnnBacktestResult Run(IHostEnvironment env, RnnForecastingEstimator estimator, IDataView data, int origins, int? horizon, bool refit)
    {
        var options = estimator.Options;
        int h = horizon ?? options.Horizon;
        if (origins < 1) throw new ArgumentOutOfRangeException(nameof(origins), origins, "origins must be at least 1.");
        if (h < 1 || h > options.Horizon)
            throw new ArgumentOutOfRangeException(nameof(horizon), h, $"horizon must be between 1 and the estimator's Horizon ({options.Horizon}).");
        var columns = SeriesColumns.Bind(data.Schema, options.InputColumnName, options.CovariateColumnNames);
        var (values, covariates) = columns.ReadAll(data);
        int n = values.Length, C = options.CovariateColumnNames.Length, m = options.SeasonalPeriod;
        int first = n - origins * h;
        int minimum = options.ToSettings().MinimumLength;
        if (first < minimum)
            throw new InvalidOperationException($"Input column '{options.InputColumnName}' has {n} rows: {origins} origins of horizon {h} leave {first} for the first fit, which needs at least {minimum}.");

        var results = new List<BacktestOrigin>();
        RnnForecastingTransformer? model = null;
        for (int k = 0; k < origins; k++)
        {
            int origin = first + k * h;
            RnnForecastingEngine engine;
            if (refit || model is null)
            {
                model = estimator.Fit(Prefix(env, options, values, covariates, origin));
                engine = model.CreateForecastingEngine();
            }
            else
            {
                // Without refitting, the first model observes the rows since its own origin.
                engine = model.CreateForecastingEngine();
                for (int t = first; t < origin; t++) engine.Observe(values[t], covariates.AsSpan(t * C, C));
            }
            var f = engine.Predict(h, options.ConfidenceLevel);
            var actual = values.AsSpan(origin, h).ToArray();
            var history = values.AsSpan(0, origin);
            results.Add(new BacktestOrigin(origin, actual, f.Forecast, f.LowerBound, f.UpperBound,
                ForecastMetrics.SymmetricMape(actual, f.Forecast), ForecastMetrics.Mase(actual, f.Forecast, history, m)));
        }

        var regression = new RegressionCatalog(env);
        var byHorizon = new List<HorizonAccuracy>();
        for (int s = 0; s < h; s++)
        {
            var builder = new ArrayDataViewBuilder(env);
            builder.AddColumn("Label", NumberDataViewType.Single, results.Select(r => r.Actual[s]).ToArray());
            builder.AddColumn("Score", NumberDataViewType.Single, results.Select(r => r.Forecast[s]).ToArray());
            var metrics = regression.Evaluate(builder.GetDataView());
            double smape = results.Average(r => ForecastMetrics.SymmetricMape(r.Actual.AsSpan(s, 1), r.Forecast.AsSpan(s, 1)));
            double mase = results.Average(r => ForecastMetrics.Mase(r.Actual.AsSpan(s, 1), r.Forecast.AsSpan(s, 1), values.AsSpan(0, r.Origin), m));
            double coverage = results.Any(r => float.IsNaN(r.LowerBound[s])) ? double.NaN
                : results.Average(r => r.Actual[s] >= r.LowerBound[s] && r.Actual[s] <= r.UpperBound[s] ? 1.0 : 0.0);
            byHorizon.Add(new HorizonAccuracy(s + 1, metrics, smape, mase, coverage));
        }
        return new RnnBacktestResult(results, byHorizon, results.Average(r => r.Smape), results.Average(r => r.Mase),
            results.Average(r => ForecastMetrics.RootMeanSquaredError(r.Actual, r.Forecast)));
    }

    /// <summary>The first <paramref name="rows"/> rows of the series and covariate columns, as a data view.</summary>
    private static IDataView Prefix(IHostEnvironment env, RnnForecastingOptions o, float[] values, float[] covariates, int rows)
    {
        var builder = new ArrayDataViewBuilder(env);
        builder.AddColumn(o.InputColumnName, NumberDataViewType.Single, values[..rows]);
        int C = o.CovariateColumnNames.Length;
        for (int c = 0; c < C; c++)
            builder.AddColumn(o.CovariateColumnNames[c], NumberDataViewType.Single, Enumerable.Range(0, rows).Select(t => covariates[t * C + c]).ToArray());
        return builder.GetDataView();
    }
}

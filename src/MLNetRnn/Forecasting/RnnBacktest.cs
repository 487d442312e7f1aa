using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>One forecast origin of a backtest: the forecast made after <see cref="Origin"/> rows of a series and what followed.</summary>
/// <param name="Origin">Rows of the series available when the forecast was made.</param>
/// <param name="Actual">The values that followed, one per step ahead.</param>
/// <param name="Forecast">The forecast, one per step ahead.</param>
/// <param name="LowerBound">Lower bounds at the estimator's confidence level.</param>
/// <param name="UpperBound">Upper bounds at the estimator's confidence level.</param>
/// <param name="Smape">sMAPE of this origin, percent (M4).</param>
/// <param name="Mase">MASE of this origin, scaled by the seasonal naive error before the origin (M4).</param>
public sealed record BacktestOrigin(int Origin, float[] Actual, float[] Forecast, float[] LowerBound, float[] UpperBound, double Smape, double Mase)
{
    /// <summary>The series' id ("" when the data is one series).</summary>
    public string SeriesId { get; init; } = "";

    /// <summary>With quantile heads: the quantiles of every step, step-major; empty otherwise.</summary>
    public float[] Quantiles { get; init; } = [];
}

/// <summary>Accuracy at one step ahead, over all origins (and series) of a backtest.</summary>
/// <param name="Step">Steps ahead, from 1.</param>
/// <param name="Metrics">ML.NET's regression metrics (MAE, RMSE, R², …) of the forecasts made this many steps ahead, pooled over origins and series.</param>
/// <param name="Smape">Mean sMAPE of these forecasts, percent.</param>
/// <param name="Mase">Mean MASE of these forecasts (each scaled by its origin's seasonal naive error).</param>
/// <param name="Coverage">Share of actual values inside the bounds (NaN when the model has none).</param>
public sealed record HorizonAccuracy(int Step, RegressionMetrics Metrics, double Smape, double Mase, double Coverage);

/// <summary>The backtest of one series of a panel.</summary>
/// <param name="SeriesId">The series' id.</param>
/// <param name="Origins">Its forecast origins, oldest first.</param>
/// <param name="Smape">Mean sMAPE over its origins.</param>
/// <param name="Mase">Mean MASE over its origins.</param>
/// <param name="RootMeanSquaredError">Mean over its origins of each origin's RMSE.</param>
public sealed record SeriesBacktest(string SeriesId, IReadOnlyList<BacktestOrigin> Origins, double Smape, double Mase, double RootMeanSquaredError);

/// <summary>The result of <see cref="RnnCatalog.Backtest"/>: each origin, the accuracy per step ahead, for a panel
/// each series' accuracy, and the same figures for baselines (<see cref="Baselines"/>).</summary>
/// <param name="Origins">One entry per forecast origin (per series, series by series), oldest first.</param>
/// <param name="ByHorizon">One entry per step ahead, pooled over every series.</param>
/// <param name="Smape">Mean over series of each series' mean sMAPE over origins (the protocol's "rolling" figure).</param>
/// <param name="Mase">Mean over series of each series' mean MASE over origins.</param>
/// <param name="RootMeanSquaredError">Mean over series of each series' mean RMSE over origins.</param>
public sealed record RnnBacktestResult(IReadOnlyList<BacktestOrigin> Origins, IReadOnlyList<HorizonAccuracy> ByHorizon,
    double Smape, double Mase, double RootMeanSquaredError)
{
    /// <summary>Each series' backtest, in the order of the data (one entry for a single series).</summary>
    public IReadOnlyList<SeriesBacktest> Series { get; init; } = [];

    /// <summary>The seasonal period m every MASE of this backtest is scaled by (the mean absolute lag-m difference before
    /// the origin): the period detected in the whole data and its dates (<see cref="RnnCatalog.DetectSeasonalPeriods"/>;
    /// 1 when none passes), whatever period the model was given, so backtests of models with different seasons compare.</summary>
    public int MaseSeasonalPeriod { get; init; } = 1;

    /// <summary>The series of a panel left out of the backtest: too short for a forecast at its first origin (fewer
    /// rows than the window before it). They are in none of the figures.</summary>
    public IReadOnlyList<string> SeriesLeftOut { get; init; } = [];

    /// <summary>Reference forecasters scored on the same origins, to read the model's figures against: the model's base
    /// alone (<see cref="BacktestBaselineKind.Base"/>), seasonal naive (when the seasonal period is above 1 and every
    /// origin has a season of history) and naive, in that order.</summary>
    public IReadOnlyList<BacktestBaseline> Baselines { get; init; } = [];
}

/// <summary>Rolling-origin evaluation of a forecasting estimator over the end of each series.</summary>
internal static class RnnBacktest
{
    public static RnnBacktestResult Run(IHostEnvironment env, RnnForecastingEstimator estimator, IDataView data, int origins, int? horizon, bool refit,
        bool baselines = true)
    {
        var options = estimator.Options;
        int h = horizon ?? options.Horizon, H = options.Horizon;
        if (origins < 1) throw new ArgumentOutOfRangeException(nameof(origins), origins, "origins must be at least 1.");
        if (h < 1 || h > H)
            throw new ArgumentOutOfRangeException(nameof(horizon), h, $"horizon must be between 1 and the estimator's Horizon ({H}).");
        var columns = options.Columns();
        var staticColumns = options.StaticFeatureColumnNames.Select(n => data.Schema.GetColumnOrNull(n)
            ?? throw SeriesColumns.Missing(n, data.Schema.Where(c => !c.IsHidden).Select(c => c.Name))).ToArray();
        columns = new ForecastColumns
        {
            Input = columns.Input, Covariates = columns.Covariates, KnownFuture = columns.KnownFuture, Holiday = columns.Holiday, SeriesId = columns.SeriesId,
            Date = columns.Date, Gaps = columns.Gaps, Calendar = columns.Calendar,
            Static = staticColumns.Select(c => new StaticEncoder { Column = c.Name, Categorical = PanelReader.IsCategorical(c.Type) }).ToArray(),
        };
        var (rows, timeStep) = PanelReader.Bind(columns, data.Schema).Read(data, TimeStep.Unknown);
        // MASE is scaled by the period detected in the data (and its dates), for every series, whatever period the model was
        // given or each series chose, so that backtests of models with different seasons compare.
        int m = SeasonalPeriodDetector.Detect(rows.Values.Select(v => v.ToArray()).ToArray(), SeasonalPeriodChoice.Frequency(timeStep)).Period;
        int Cf = columns.Future.Length, Cu = columns.Observed.Length;
        int minimum = columns.SeriesId is null ? options.ToSettings().MinimumLength : ForecasterSettings.ForecastLength(options.WindowSize);
        // With known-future covariates a forecast reads those of all H steps, so the last origin leaves H rows after it.
        int margin = Cf > 0 ? H - h : 0;
        // A panel's series too short to forecast at the first origin (a product launched lately) are left out, and said
        // to be; the fit would keep them pending, and no origin could score them. All of them too short is an error.
        var leftOut = Array.Empty<string>();
        var enough = rows.Values.Select(v => v.Count - origins * h - margin >= minimum).ToArray();
        if (columns.SeriesId is not null && enough.Contains(true) && enough.Contains(false))
        {
            leftOut = rows.Ids.Where((_, s) => !enough[s]).ToArray();
            rows = rows.Subset(Enumerable.Range(0, rows.Count).Where(s => enough[s]));
        }
        int S = rows.Count;
        var first = new int[S];
        for (int s = 0; s < S; s++)
        {
            int n = rows.Values[s].Count;
            first[s] = n - origins * h - margin;
            if (first[s] < minimum)
                throw new InvalidOperationException(columns.SeriesId is null
                    ? $"Input column '{options.InputColumnName}' has {Training.Counted.Of(n, "row")}: {Training.Counted.Of(origins, "origin")} of horizon {h} leave {first[s]} for the first fit, which needs at least {minimum}."
                    : $"Input column '{options.InputColumnName}': series '{rows.Ids[s]}' has {Training.Counted.Of(n, "row")}: {Training.Counted.Of(origins, "origin")} of horizon {h} leave {first[s]} for the first fit, which needs at least {minimum}.");
        }

        var results = new List<BacktestOrigin>[S];
        for (int s = 0; s < S; s++) results[s] = [];
        RnnForecastingTransformer? model = null;
        for (int k = 0; k < origins; k++)
        {
            RnnForecastingEngine engine;
            if (refit || model is null)
            {
                model = estimator.Fit(Prefix(env, columns, rows, staticColumns, s => first[s] + k * h));
                engine = model.CreateForecastingEngine();
            }
            else
            {
                // Without refitting, the first model observes the rows since its own origin.
                engine = model.CreateForecastingEngine();
                for (int s = 0; s < S; s++)
                    for (int t = first[s]; t < first[s] + k * h; t++)
                        engine.Observe(rows.Ids[s], rows.Values[s][t], rows.Observed[s].GetRange(t * Cu, Cu).ToArray(),
                            columns.Date is null ? null : rows.Dates[s][t]);
            }
            for (int s = 0; s < S; s++)
            {
                int origin = first[s] + k * h;
                Dictionary<string, float[]>? future = null;
                if (Cf > 0)
                {
                    future = [];
                    for (int c = 0; c < Cf; c++)
                        future[columns.Future[c]] = Enumerable.Range(origin, H).Select(t => rows.Observed[s][t * Cu + columns.Covariates.Length + c]).ToArray();
                }
                var f = columns.SeriesId is null && future is null ? engine.Predict(h, options.ConfidenceLevel)
                    : engine.Predict(rows.Ids[s], h, future, options.ConfidenceLevel);
                var values = rows.Values[s];
                var actual = values.GetRange(origin, h).ToArray();
                var history = values.GetRange(0, origin).ToArray();
                results[s].Add(new BacktestOrigin(origin, actual, f.Forecast, f.LowerBound, f.UpperBound,
                    ForecastMetrics.SymmetricMape(actual, f.Forecast), ForecastMetrics.Mase(actual, f.Forecast, history, m))
                {
                    SeriesId = rows.Ids[s], Quantiles = f.Quantiles,
                });
            }
        }

        var all = results.SelectMany(r => r).ToList();
        var regression = new RegressionCatalog(env);
        var byHorizon = new List<HorizonAccuracy>();
        for (int step = 0; step < h; step++)
        {
            var builder = new ArrayDataViewBuilder(env);
            builder.AddColumn("Label", NumberDataViewType.Single, all.Select(r => r.Actual[step]).ToArray());
            builder.AddColumn("Score", NumberDataViewType.Single, all.Select(r => r.Forecast[step]).ToArray());
            var metrics = regression.Evaluate(builder.GetDataView());
            double smape = all.Average(r => ForecastMetrics.SymmetricMape(r.Actual.AsSpan(step, 1), r.Forecast.AsSpan(step, 1)));
            double mase = all.Average(r => ForecastMetrics.Mase(r.Actual.AsSpan(step, 1), r.Forecast.AsSpan(step, 1),
                rows.Values[rows.Index[r.SeriesId]].GetRange(0, r.Origin).ToArray(), m));
            double coverage = all.Any(r => float.IsNaN(r.LowerBound[step])) ? double.NaN
                : all.Average(r => r.Actual[step] >= r.LowerBound[step] && r.Actual[step] <= r.UpperBound[step] ? 1.0 : 0.0);
            byHorizon.Add(new HorizonAccuracy(step + 1, metrics, smape, mase, coverage));
        }
        var series = Enumerable.Range(0, S).Select(s => new SeriesBacktest(rows.Ids[s], results[s], results[s].Average(r => r.Smape), results[s].Average(r => r.Mase),
            results[s].Average(r => ForecastMetrics.RootMeanSquaredError(r.Actual, r.Forecast)))).ToArray();
        var result = new RnnBacktestResult(all, byHorizon, series.Average(x => x.Smape), series.Average(x => x.Mase), series.Average(x => x.RootMeanSquaredError))
        {
            Series = series, SeriesLeftOut = leftOut, MaseSeasonalPeriod = m,
        };
        return baselines ? result with { Baselines = Baselines(env, estimator, data, origins, horizon, refit, result, rows, m) } : result;
    }

    /// <summary>The base alone (the estimator without networks, backtested the same way), seasonal naive and naive from
    /// the model's origins, each scored with the model's MASE (period <paramref name="m"/>).</summary>
    private static BacktestBaseline[] Baselines(IHostEnvironment env, RnnForecastingEstimator estimator, IDataView data, int origins, int? horizon,
        bool refit, RnnBacktestResult model, PanelRows rows, int m)
    {
        var options = estimator.Options;
        int ensemble = options.EnsembleSize;
        options.EnsembleSize = 0;
        var alone = ensemble == 0 ? model : Run(env, new RnnForecastingEstimator(env, options), data, origins, horizon, refit, baselines: false);
        float[] History(string id, int origin) => rows.Values[rows.Index[id]].GetRange(0, origin).ToArray();
        double Mase(float[] actual, float[] forecast, float[] history) => ForecastMetrics.Mase(actual, forecast, history, m);
        var list = new List<BacktestBaseline> { BacktestBaselines.Base(alone) };
        if (m > 1 && model.Origins.All(o => o.Origin >= m))
            list.Add(BacktestBaselines.Repeat(env, BacktestBaselineKind.SeasonalNaive, m, model.Series, History, Mase));
        list.Add(BacktestBaselines.Repeat(env, BacktestBaselineKind.Naive, 1, model.Series, History, Mase));
        return list.ToArray();
    }

    /// <summary>The first <paramref name="rows"/>(s) rows of every series, as a data view with the forecaster's columns.</summary>
    private static IDataView Prefix(IHostEnvironment env, ForecastColumns columns, PanelRows data, DataViewSchema.Column[] staticColumns, Func<int, int> rows)
    {
        int S = data.Count, Cu = columns.Observed.Length;
        var order = Enumerable.Range(0, S).SelectMany(s => Enumerable.Range(0, rows(s)).Select(t => (s, t))).ToArray();
        var builder = new ArrayDataViewBuilder(env);
        builder.AddColumn(columns.Input, NumberDataViewType.Single, order.Select(x => data.Values[x.s][x.t]).ToArray());
        var observed = columns.Observed;
        for (int c = 0; c < Cu; c++)
            builder.AddColumn(observed[c], NumberDataViewType.Single, order.Select(x => data.Observed[x.s][x.t * Cu + c]).ToArray());
        if (columns.SeriesId is not null) builder.AddColumn(columns.SeriesId, order.Select(x => data.Ids[x.s]).ToArray());
        if (columns.Date is not null) builder.AddColumn(columns.Date, DateTimeDataViewType.Instance, order.Select(x => data.Dates[x.s][x.t]).ToArray());
        for (int i = 0; i < staticColumns.Length; i++)
        {
            if (staticColumns[i].Name == columns.SeriesId) continue;   // the id as a static feature: the id column is there
            if (PanelReader.IsCategorical(staticColumns[i].Type)) builder.AddColumn(staticColumns[i].Name, order.Select(x => (string)data.Static[x.s][i]!).ToArray());
            else builder.AddColumn(staticColumns[i].Name, NumberDataViewType.Single, order.Select(x => (float)data.Static[x.s][i]!).ToArray());
        }
        return builder.GetDataView();
    }
}

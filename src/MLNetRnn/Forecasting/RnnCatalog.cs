using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>The front doors of MLNetRnn's forecasting components: extension methods on ML.NET's catalogs.</summary>
public static class RnnCatalog
{
    /// <summary>
    /// Creates a <see cref="RnnForecastingEstimator"/>: a recurrent network (a GRU ensemble by default) that
    /// forecasts the next <paramref name="horizon"/> values of a series from the last <paramref name="windowSize"/>,
    /// the recurrent counterpart of <c>ForecastBySsa</c>.
    /// </summary>
    /// <param name="catalog">The forecasting catalog, <c>mlContext.Forecasting</c>.</param>
    /// <param name="outputColumnName">Name of the output column: a vector of <paramref name="horizon"/> forecasts.</param>
    /// <param name="inputColumnName">Name of the series column (<see cref="float"/>, rows in time order).</param>
    /// <param name="windowSize">Past values each forecast reads, at least 1 and at least one season.</param>
    /// <param name="horizon">Steps forecast from each row, at least 1.</param>
    /// <param name="seasonalPeriod">Seasonal period (12 for monthly data with a yearly season); 1 = none; 0 (the default) =
    /// detected from the data (<see cref="RnnForecastingOptions.SeasonalPeriod"/>).</param>
    /// <param name="confidenceLowerBoundColumn">Name of the lower-bound vector column, or null for none.</param>
    /// <param name="confidenceUpperBoundColumn">Name of the upper-bound vector column, or null for none.</param>
    /// <param name="confidenceLevel">Coverage of the bounds, in (0, 1).</param>
    /// <exception cref="ArgumentException">An argument is out of range (the message names it).</exception>
    /// <example><format type="text/markdown"><![CDATA[
    /// [!code-csharp[ForecastByRnn](~/samples/MLNetRnn.Samples/ForecastAirPassengers.cs)]
    /// ]]></format></example>
    public static RnnForecastingEstimator ForecastByRnn(this ForecastingCatalog catalog, string outputColumnName, string inputColumnName,
        int windowSize, int horizon, int seasonalPeriod = RnnForecastingOptions.Defaults.SeasonalPeriod,
        string? confidenceLowerBoundColumn = null, string? confidenceUpperBoundColumn = null,
        float confidenceLevel = RnnForecastingOptions.Defaults.ConfidenceLevel)
        => ForecastByRnn(catalog, new RnnForecastingOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            WindowSize = windowSize,
            Horizon = horizon,
            SeasonalPeriod = seasonalPeriod,
            ConfidenceLowerBoundColumn = confidenceLowerBoundColumn,
            ConfidenceUpperBoundColumn = confidenceUpperBoundColumn,
            ConfidenceLevel = confidenceLevel,
        });

    /// <summary>Creates a <see cref="RnnForecastingEstimator"/> with every option: cell, layers, truncation,
    /// clipping, Pascanu's regulariser, optimiser, epochs, validation, early stopping, covariates, seed.</summary>
    /// <param name="catalog">The forecasting catalog, <c>mlContext.Forecasting</c>.</param>
    /// <param name="options">The options; copied, so later changes do not affect the estimator.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public static RnnForecastingEstimator ForecastByRnn(this ForecastingCatalog catalog, RnnForecastingOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new RnnForecastingEstimator(((IInternalCatalog)catalog).Environment, options);
    }

    /// <summary>
    /// Rolling-origin backtest of <paramref name="estimator"/> over the end of the series in <paramref name="data"/>:
    /// forecasts are made at origins n − origins·h, …, n − h (disjoint test windows tiling the last origins·h rows),
    /// each from the rows before it, and scored per step ahead with ML.NET's regression metrics, sMAPE and MASE
    /// (M4 definitions: sMAPE = mean 200·|y − f|/(|y| + |f|); MASE = MAE over the mean absolute seasonal difference
    /// of the rows before the origin, at the period detected in the data, <see cref="RnnBacktestResult.MaseSeasonalPeriod"/>,
    /// whatever period the estimator uses, so backtests of estimators with different seasons compare).
    /// </summary>
    /// <param name="catalog">The forecasting catalog, <c>mlContext.Forecasting</c>.</param>
    /// <param name="estimator">The forecaster to evaluate.</param>
    /// <param name="data">The whole series (and covariates), rows in time order.</param>
    /// <param name="origins">Number of forecast origins, at least 1. Default: 3.</param>
    /// <param name="horizon">Steps scored from each origin, 1 to the estimator's horizon; null = the estimator's.</param>
    /// <param name="refit">Fit a new model at every origin (true), or fit once at the first origin and let its engine
    /// observe the rows that follow (false, much faster). Default: true.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or a column is missing.</exception>
    /// <exception cref="InvalidOperationException">The series is too short for the origins and the first fit (in a panel:
    /// every series is; a panel's series too short for them are otherwise left out, listed in
    /// <see cref="RnnBacktestResult.SeriesLeftOut"/>).</exception>
    public static RnnBacktestResult Backtest(this ForecastingCatalog catalog, RnnForecastingEstimator estimator, IDataView data,
        int origins = 3, int? horizon = null, bool refit = true)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(data);
        return RnnBacktest.Run(((IInternalCatalog)catalog).Environment, estimator, data, origins, horizon, refit);
    }

    /// <summary>
    /// Proposes seasonal periods for the series in <paramref name="data"/>, as <see cref="ForecastByRnn(ForecastingCatalog, RnnForecastingOptions)"/>
    /// does when its seasonal period is left unset (<see cref="RnnForecastingOptions.SeasonalPeriod"/> 0): from the calendar of
    /// the dates' frequency (hourly 24 and 168, daily 7 and 365, weekly 52, monthly 12, quarterly 4) when
    /// <paramref name="dateColumnName"/> is given, and from the data's autocorrelations, each period tested with the lag-m
    /// autocorrelation test of R's forecast package (<see cref="SeasonalPeriodDetector"/>).
    /// </summary>
    /// <param name="catalog">The forecasting catalog, <c>mlContext.Forecasting</c>.</param>
    /// <param name="data">The series, rows in time order (within each series).</param>
    /// <param name="inputColumnName">Name of the series column (<see cref="float"/>).</param>
    /// <param name="dateColumnName">Name of a <see cref="DateTime"/> column, or null: with it, the dates must advance one
    /// step per row (checked as <see cref="RnnForecastingOptions.DateColumnName"/> is), and the step gives the calendar's periods.</param>
    /// <param name="seriesIdColumnName">Name of the series id column of a panel, or null for one series: then a period is
    /// proposed when it passes in at least a quarter of the series long enough to test it.</param>
    /// <param name="gapFilling">What to do when a series skips time steps (needs <paramref name="dateColumnName"/>). Default:
    /// <see cref="GapFilling.None"/>: a gap is an error naming the series and the row.</param>
    /// <returns>Every candidate period with its source, strength (the lag-m autocorrelation) and verdict;
    /// <see cref="SeasonalPeriodDetection.Periods"/> and <see cref="SeasonalPeriodDetection.Period"/> are what the forecaster would use.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The data view is empty, a value is not finite, or the dates go backwards or skip steps.</exception>
    public static SeasonalPeriodDetection DetectSeasonalPeriods(this ForecastingCatalog catalog, IDataView data, string inputColumnName,
        string? dateColumnName = null, string? seriesIdColumnName = null, GapFilling gapFilling = GapFilling.None)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return SeasonalPeriodChoice.Detect(data, inputColumnName, dateColumnName, seriesIdColumnName, gapFilling);
    }

    /// <summary>
    /// A stateful forecasting engine from a fitted or loaded model: the <see cref="RnnForecastingTransformer"/>
    /// itself or a pipeline (transformer chain) that contains one. The engine starts from the last window the
    /// model knows: the end of its training series, or the state it was checkpointed with.
    /// </summary>
    /// <param name="model">A fitted or loaded model.</param>
    /// <exception cref="ArgumentException">The model holds no <see cref="RnnForecastingTransformer"/>, or several.</exception>
    public static RnnForecastingEngine CreateForecastingEngine(this ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (forecaster, _) = Locate(model);
        return new RnnForecastingEngine(forecaster, model is RnnForecastingTransformer ? null : model);
    }

    /// <summary>
    /// A typed stateful forecasting engine, as ML.NET's <c>CreateTimeSeriesEngine&lt;TSrc, TDst&gt;</c> gives for
    /// <c>ForecastBySsa</c>: <c>Predict(example)</c> observes the example and forecasts what follows it,
    /// <c>Predict()</c> forecasts from the current state, <c>CheckPoint</c> saves model and state.
    /// </summary>
    /// <typeparam name="TSrc">The example type: members named like the pipeline's input columns.</typeparam>
    /// <typeparam name="TDst">The forecast type: <c>float[]</c> members named like the forecast and bound columns (with
    /// stages after the forecaster: members named like the columns of the last stage's output).</typeparam>
    /// <param name="model">A fitted or loaded model: the forecaster alone, or a pipeline that contains it (row-to-row
    /// stages before it run on each example, those after it on each forecast).</param>
    /// <param name="mlContext">The context; <c>TSrc</c> is read through it as a <c>PredictionEngine</c> reads it.</param>
    /// <param name="ignoreMissingColumns">Leave <typeparamref name="TDst"/> members that name no forecaster column
    /// unset instead of failing. Default: false, as in ML.NET.</param>
    /// <param name="inputSchemaDefinition">How <typeparamref name="TSrc"/> maps to columns; null = by member names.</param>
    /// <param name="outputSchemaDefinition">How <typeparamref name="TDst"/> maps to columns; null = by member names.</param>
    /// <exception cref="ArgumentException">The model holds no forecaster, or several; a stage is not row to row; or a
    /// member of <typeparamref name="TSrc"/> or <typeparamref name="TDst"/> is missing or has the wrong type (the message
    /// names it).</exception>
    public static RnnForecastingEngine<TSrc, TDst> CreateForecastingEngine<TSrc, TDst>(this ITransformer model, MLContext mlContext,
        bool ignoreMissingColumns = false, SchemaDefinition? inputSchemaDefinition = null, SchemaDefinition? outputSchemaDefinition = null)
        where TSrc : class
        where TDst : class, new()
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(mlContext);
        var (forecaster, index) = Locate(model);
        var stages = model is IEnumerable<ITransformer> chain ? chain.ToArray() : [model];
        return new RnnForecastingEngine<TSrc, TDst>(mlContext, forecaster, model, stages[..index], stages[(index + 1)..], ignoreMissingColumns,
            inputSchemaDefinition, outputSchemaDefinition);
    }

    /// <summary>The one forecaster in <paramref name="model"/> and its stage index (0 when the model is the forecaster).</summary>
    private static (RnnForecastingTransformer Forecaster, int Index) Locate(ITransformer model)
    {
        if (model is RnnForecastingTransformer forecaster) return (forecaster, 0);
        var stages = model is IEnumerable<ITransformer> chain ? chain.ToArray() : [];
        var found = stages.Select((t, i) => (t, i)).Where(p => p.t is RnnForecastingTransformer).ToArray();
        if (found.Length != 1)
            throw new ArgumentException($"The model must contain exactly one {nameof(RnnForecastingTransformer)}; found {found.Length} in a {model.GetType().Name}.", nameof(model));
        return ((RnnForecastingTransformer)found[0].t, found[0].i);
    }
}

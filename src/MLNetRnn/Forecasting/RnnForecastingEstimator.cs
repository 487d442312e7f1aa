using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Core.Training;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Training;

namespace MLNetRnn;

/// <summary>
/// Forecasts a time series with a recurrent network: trained in <see cref="Fit"/> on one series (rows in time
/// order), it produces for each row a vector of <see cref="RnnForecastingOptions.Horizon"/> forecasts made from
/// the rows up to and including it, with optional lower and upper bounds.
/// </summary>
/// <remarks>
/// <para><b>Estimator characteristics</b></para>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description><see cref="float"/> (the series), plus optional <see cref="float"/> covariate columns</description></item>
/// <item><term>Output column data type</term><description>Known-size vector of <see cref="float"/> (length = horizon), and the same for each bound column</description></item>
/// </list>
/// <para>
/// Each window of W past values is scaled by its own level (so trends beyond the training range carry over),
/// the networks forecast the correction to the seasonal naive forecast, and several of them are averaged. The
/// bounds are split-conformal: per horizon step, a quantile of the absolute errors on validation windows the
/// networks did not train on. Scaling, calibration and the series' last window are part of the model, so raw
/// units go in and come out, and <see cref="RnnForecastingTransformer.CreateForecastingEngine"/> continues from
/// the end of the training series. Create it with
/// <see cref="RnnCatalog.ForecastByRnn(ForecastingCatalog, string, string, int, int, int, string, string, float)"/>.
/// </para>
/// <para>
/// As ML.NET's trainers do, the estimator registers with the <see cref="MLContext"/> it was created from: <see cref="Fit"/>
/// writes what it trains, one <see cref="ChannelMessageKind.Trace"/> line per epoch and one
/// <see cref="ChannelMessageKind.Info"/> line per phase (each ensemble member), to <see cref="MLContext.Log"/>,
/// and when <see cref="RnnForecastingOptions.Seed"/> is <see langword="null"/> the seed is drawn from the context's
/// random source, so <c>new MLContext(seed: s)</c> makes training repeatable and different <c>s</c> give different models.
/// </para>
/// </remarks>
public sealed class RnnForecastingEstimator : IEstimator<RnnForecastingTransformer>
{
    private readonly IHost _host;
    private readonly RnnForecastingOptions _options;

    internal RnnForecastingEstimator(IHostEnvironment env, RnnForecastingOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(RnnForecastingEstimator));
        _options = options.Clone();
        _options.Validate();
        // As ML.NET's trainers (PCA, LightGBM): an unset seed comes from the context's random source, once, here,
        // so the same estimator fits the same model every time and the seed it used can be read back from Options.
        _options.Seed ??= _host.Rand.Next();
    }

    /// <summary>A copy of the options this estimator trains with; <see cref="RnnForecastingOptions.Seed"/> is the seed
    /// drawn from the <see cref="MLContext"/> when the options given left it <see langword="null"/>.</summary>
    public RnnForecastingOptions Options => _options.Clone();

    /// <summary>Progress of each epoch during <see cref="Fit"/>, naming the phase (<see cref="TrainingProgress.Phase"/>:
    /// "member 2 of 3"), if set. The same progress also goes to <see cref="MLContext.Log"/>.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Cancels <see cref="Fit"/> when signalled.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Trains on the series in <paramref name="input"/>, in row order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The data view is empty, a value is NaN or infinite, or the series
    /// is shorter than window + horizon + validation (the message names the column and the numbers).</exception>
    public RnnForecastingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var columns = SeriesColumns.Bind(input.Schema, _options.InputColumnName, _options.CovariateColumnNames);
        var (values, covariates) = columns.ReadAll(input);
        var settings = _options.ToSettings();
        if (values.Length == 0)
            throw new InvalidOperationException($"The training data view is empty: input column '{_options.InputColumnName}' has no rows.");
        if (values.Length < settings.MinimumLength)
            throw new InvalidOperationException(
                $"Input column '{_options.InputColumnName}' has {values.Length} rows; WindowSize {_options.WindowSize} + Horizon {_options.Horizon} needs at least {settings.MinimumLength}.");
        ForecastModel model;
        using (var ch = _host.Start("Training"))
        {
            ch.Info(MessageSensitivity.None, Describe(values.Length));
            var progress = new ChannelProgress(ch, Progress);
            model = ForecastModel.Train(settings, values, covariates, progress, CancellationToken);
            var summary = model.Summary;
            ch.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
                $"Trained {summary.Members.Count} network(s) on {summary.TotalWindows} windows ({summary.TrainingWindows} for training, " +
                $"{summary.ValidationWindows} for validation); base {summary.Base}, seasonal adjustment {summary.SeasonalAdjustment}, " +
                $"scaling {summary.Scaling}, correction weight {summary.CorrectionWeight:G4}."));
            // What a user should know about the fit (a fallback to the base, extrapolated bounds): warnings, as ML.NET's are.
            foreach (string note in summary.Notes) ch.Warning(MessageSensitivity.None, note);
        }
        var state = ForecastState.AfterSeries(model, values, covariates);
        return new RnnForecastingTransformer(_options, model, state);
    }

    private string Describe(int rows)
    {
        var o = _options;
        return string.Create(CultureInfo.InvariantCulture,
            $"Training {o.EnsembleSize} {o.Cell}({string.Join(", ", o.HiddenSizes)}) network(s) on {rows} rows of '{o.InputColumnName}'" +
            $"{(o.CovariateColumnNames.Length > 0 ? $" with covariates {string.Join(", ", o.CovariateColumnNames.Select(c => $"'{c}'"))}" : "")}: " +
            $"window {o.WindowSize}, horizon {o.Horizon}, seasonal period {o.SeasonalPeriod}, at most {o.Epochs} epochs, seed {o.Seed}.");
    }

    /// <summary>The schema after transformation: the input's columns plus the forecast and bound vectors.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (string name in _options.CovariateColumnNames.Prepend(_options.InputColumnName))
        {
            if (!inputSchema.TryFindColumn(name, out var column))
                throw SeriesColumns.Missing(name, inputSchema.Select(c => c.Name));
            if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Single)
                throw SeriesColumns.Mismatch(name, column.ItemType?.ToString() + (column.Kind == SchemaShape.Column.VectorKind.Scalar ? "" : " vector"));
        }
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (string name in RnnForecastingTransformer.OutputNames(_options))
            result[name] = new SchemaShape.Column(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}

/// <summary>The series column and covariate columns of a schema, checked once.</summary>
internal sealed class SeriesColumns
{
    public required DataViewSchema.Column Value;
    public required DataViewSchema.Column[] Covariates;

    public static SeriesColumns Bind(DataViewSchema schema, string valueName, string[] covariateNames) => new()
    {
        Value = Find(schema, valueName),
        Covariates = covariateNames.Select(n => Find(schema, n)).ToArray(),
    };

    private static DataViewSchema.Column Find(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name) ?? throw Missing(name, schema.Where(c => !c.IsHidden).Select(c => c.Name));
        if (column.Type != NumberDataViewType.Single) throw Mismatch(name, column.Type.ToString() ?? "unknown");
        return column;
    }

    public static ArgumentOutOfRangeException Missing(string name, IEnumerable<string> present) =>
        new("inputSchema", $"Could not find input column '{name}'. Columns present: {string.Join(", ", present)}.");

    public static ArgumentOutOfRangeException Mismatch(string name, string actual) =>
        new("inputSchema", $"Schema mismatch for input column '{name}': expected Single, got {actual}.");

    /// <summary>Reads every row, checking that each value is finite. Allocates the arrays.</summary>
    public (float[] Values, float[] Covariates) ReadAll(IDataView data)
    {
        var values = new List<float>();
        var covariates = new List<float>();
        using var cursor = data.GetRowCursor(Covariates.Prepend(Value));
        var getValue = cursor.GetGetter<float>(Value);
        var getCovariates = Covariates.Select(c => cursor.GetGetter<float>(c)).ToArray();
        float v = 0;
        while (cursor.MoveNext())
        {
            getValue(ref v);
            Finite(Value.Name, v, values.Count);
            values.Add(v);
            for (int c = 0; c < getCovariates.Length; c++)
            {
                getCovariates[c](ref v);
                Finite(Covariates[c].Name, v, values.Count - 1);
                covariates.Add(v);
            }
        }
        return (values.ToArray(), covariates.ToArray());
    }

    private static void Finite(string column, float v, int row)
    {
        if (!float.IsFinite(v))
            throw new InvalidOperationException($"Input column '{column}' has {v} at row {row}; the series and its covariates must be finite.");
    }
}

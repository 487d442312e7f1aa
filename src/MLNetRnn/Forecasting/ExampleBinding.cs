using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Training;

namespace MLNetRnn;

/// <summary>One example as the forecaster reads it: its value, its covariates (the observed ones, in the model's
/// order), and with a panel or a date column its series id and date.</summary>
internal readonly record struct Example(float Value, float[] Covariates, string? SeriesId, DateTime? Date);

/// <summary>
/// How <see cref="RnnForecastingEngine{TSrc, TDst}"/> meets its types, as a <c>PredictionEngine</c> does: the members
/// of <typeparamref name="TSrc"/> feed the pipeline's input columns by name (through the stages before the forecaster),
/// and the forecaster's columns fill the <c>float[]</c> members of <typeparamref name="TDst"/>; with stages after the
/// forecaster, they run on a row of the forecaster's output (its input row and the forecast columns) and
/// <typeparamref name="TDst"/> is filled from theirs, as a <c>PredictionEngine</c> fills its output. Every type is
/// checked here, once, with messages that name the member and the column; the engine only forecasts.
/// </summary>
internal sealed class ExampleBinding<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private readonly DataViewSchema _inputSchema;
    private readonly DataViewConstructionUtils.InputRow<TSrc> _inputRow;
    private readonly DataViewRow _row;                  // the input row after the stages before the forecaster
    private readonly ValueGetter<float> _getValue;
    private readonly Func<float>[] _getCovariates;
    private readonly Func<string?>? _getId;             // a panel's series id
    private readonly ValueGetter<DateTime>? _getDate;
    private readonly float[] _covariates;              // (Cu) the current example's covariates
    private readonly string? _idColumn;
    private readonly Action<TDst, float[]>? _setForecast, _setLower, _setUpper;
    private readonly ForecastRow? _forecastRow;         // with stages after the forecaster: what they read
    private readonly DataViewRow? _outputRow;           // ... and what they give
    private readonly IRowReadableAs<TDst>? _typedOutput;
    private readonly Func<TSrc>? _blankExample;         // fills the input row before any example, for the stages after
    private TSrc? _current;                             // the example the input row holds
    private bool _hasExample;

    /// <summary>Binds the members of <typeparamref name="TSrc"/> and <typeparamref name="TDst"/> to the forecaster's
    /// columns, running <paramref name="before"/> (the pipeline's stages before the forecaster) on each example and
    /// <paramref name="after"/> (those after it) on each forecast.</summary>
    /// <exception cref="ArgumentException">A member is missing or of the wrong type, or a stage before or after the
    /// forecaster is not row to row; the message names the member, column or stage.</exception>
    public ExampleBinding(IHostEnvironment env, RnnForecastingTransformer forecaster, ITransformer[] before, ITransformer[] after,
        bool ignoreMissingColumns, SchemaDefinition? inputSchemaDefinition, SchemaDefinition? outputSchemaDefinition)
    {
        // Outputs first: they depend on nothing but the types, and a wrong TDst is the likelier mistake. With stages
        // after the forecaster, TDst takes their columns: it is bound once their schema is known.
        if (after.Length == 0)
        {
            var outputs = new[] { forecaster.OutputColumnName, forecaster.LowerBoundColumnName, forecaster.UpperBoundColumnName };
            var setters = OutputSetters(outputs, outputSchemaDefinition, ignoreMissingColumns);
            _setForecast = setters.GetValueOrDefault(forecaster.OutputColumnName);
            if (forecaster.LowerBoundColumnName is { } lower) _setLower = setters.GetValueOrDefault(lower);
            if (forecaster.UpperBoundColumnName is { } upper) _setUpper = setters.GetValueOrDefault(upper);
            if (_setForecast is null)
                throw new ArgumentException(
                    $"{typeof(TDst).Name} has no member for the forecast column '{forecaster.OutputColumnName}'; add " +
                    $"'public float[] {forecaster.OutputColumnName} {{ get; set; }}' (or a float[] member with [ColumnName(\"{forecaster.OutputColumnName}\")]).",
                    nameof(TDst));
        }

        _inputRow = DataViewConstructionUtils.CreateInputRow<TSrc>(env, inputSchemaDefinition);
        _inputSchema = _inputRow.Schema;
        var columnsOf = forecaster.Columns;
        _idColumn = columnsOf.SeriesId;
        var names = columnsOf.Observed.Prepend(forecaster.InputColumnName).Concat(new[] { columnsOf.SeriesId, columnsOf.Date }.OfType<string>()).ToArray();
        DataViewSchema schema = _inputSchema;
        _row = _inputRow;
        if (before.Length > 0)
        {
            for (int i = 0; i < before.Length; i++)
                if (!before[i].IsRowToRowMapper)
                    throw new ArgumentException($"Stage {i} of the pipeline ({before[i].GetType().Name}) comes before the forecaster and is not a " +
                        "row-to-row transformer, so it cannot run on one example at a time.", "model");
            var mapper = ((ITransformer)new TransformerChain<ITransformer>(before)).GetRowToRowMapper(_inputSchema);
            schema = mapper.OutputSchema;
            var needed = names.Select(n => schema.GetColumnOrNull(n) ?? throw MissingInput(n, before.Length)).ToArray();
            // The stages after the forecaster may read any column that reaches it.
            _row = mapper.GetRow(_inputRow, after.Length > 0 ? schema : needed);
        }
        if (after.Length > 0)
        {
            for (int i = 0; i < after.Length; i++)
                if (!after[i].IsRowToRowMapper)
                    throw new ArgumentException($"Stage {before.Length + 1 + i} of the pipeline ({after[i].GetType().Name}) comes after the forecaster and is " +
                        "not a row-to-row transformer, so it cannot run on one forecast at a time.", "model");
            _forecastRow = new ForecastRow(_row, ForecastDataView.OutputSchema(schema, forecaster), forecaster);
            var mapper = ((ITransformer)new TransformerChain<ITransformer>(after)).GetRowToRowMapper(_forecastRow.Schema);
            _outputRow = mapper.GetRow(_forecastRow, mapper.OutputSchema);
            _typedOutput = BindOutput(env, mapper.OutputSchema, after.Length, ignoreMissingColumns, outputSchemaDefinition).GetRow(_outputRow);
            _blankExample = typeof(TSrc).GetConstructor(Type.EmptyTypes) is null ? null : () => Activator.CreateInstance<TSrc>();
        }
        var columns = names.Select(n => schema.GetColumnOrNull(n) ?? throw MissingInput(n, 0)).ToArray();
        int Cu = columnsOf.Observed.Length;
        for (int i = 0; i <= Cu; i++)
        {
            var c = columns[i];
            bool ok = c.Type == NumberDataViewType.Single || (c.Name == columnsOf.Holiday && c.Type == BooleanDataViewType.Instance);
            if (!ok)
                throw new ArgumentException(before.Length == 0
                    ? $"Member '{c.Name}' of {typeof(TSrc).Name} feeds the forecaster's input column '{c.Name}', which must be Single (float); it is {c.Type}."
                    : $"Column '{c.Name}' reaches the forecaster as {c.Type}; the forecaster needs Single (float).", nameof(TSrc));
        }
        int next = Cu + 1;
        if (columnsOf.SeriesId is not null)
        {
            var id = columns[next++];
            if (!PanelReader.IsCategorical(id.Type))
                throw new ArgumentException($"Member '{id.Name}' of {typeof(TSrc).Name} feeds the series id column, which must be text, a key or an integer; it is {id.Type}.", nameof(TSrc));
            _getId = PanelReader.TextGetter(_row, id);
        }
        if (columnsOf.Date is not null)
        {
            var date = columns[next];
            if (date.Type is not DateTimeDataViewType)
                throw new ArgumentException($"Member '{date.Name}' of {typeof(TSrc).Name} feeds the date column, which must be DateTime; it is {date.Type}.", nameof(TSrc));
            _getDate = _row.GetGetter<DateTime>(date);
        }
        _getValue = _row.GetGetter<float>(columns[0]);
        _getCovariates = columns.Skip(1).Take(Cu).Select(c => PanelReader.FloatGetter(_row, c)).ToArray();
        _covariates = new float[Cu];
    }

    /// <summary>The schema <typeparamref name="TSrc"/> gives the pipeline: saved as the input schema of a checkpoint.</summary>
    public DataViewSchema InputSchema => _inputSchema;

    /// <summary>Whether the examples carry a series id (a panel) or a date: then an observation names its series or date.</summary>
    public bool HasSeriesId => _getId is not null;

    /// <summary>Whether stages follow the forecaster: they read its columns as vectors of the model's horizon, so a
    /// forecast must have all of it.</summary>
    public bool HasStagesAfter => _forecastRow is not null;

    /// <summary>Reads <paramref name="example"/> through the stages before the forecaster. The covariates are written
    /// into a buffer of the binding, valid until the next call.</summary>
    /// <exception cref="ArgumentException">The example's series id is missing.</exception>
    public Example Read(TSrc example)
    {
        _inputRow.ExtractValues(example);
        _current = example;
        _hasExample = true;
        float value = 0;
        _getValue(ref value);
        for (int c = 0; c < _getCovariates.Length; c++) _covariates[c] = _getCovariates[c]();
        DateTime? date = null;
        if (_getDate is not null)
        {
            DateTime d = default;
            _getDate(ref d);
            date = d;
        }
        string? id = null;
        if (_getId is not null)
            id = _getId() ?? throw new ArgumentException($"The example's series id ('{_idColumn}') is missing.", nameof(example));
        return new Example(value, _covariates, id, date);
    }

    /// <summary>The series id of <paramref name="example"/>, read without leaving it in the input row (which goes back
    /// to the example it held), so that a call refused after this reads nothing.</summary>
    public string? PeekSeriesId(TSrc example)
    {
        var (previous, had) = (_current, _hasExample);
        try
        {
            return Read(example).SeriesId;
        }
        finally
        {
            if (previous is not null) _inputRow.ExtractValues(previous);
            (_current, _hasExample) = (previous, had);
        }
    }

    /// <summary>Fills <paramref name="prediction"/>'s forecast and bound members; with stages after the forecaster,
    /// runs them on the forecast (and the last example's input columns) and fills every member from their output.</summary>
    /// <exception cref="InvalidOperationException">Stages follow the forecaster, no example was observed yet, and
    /// <typeparamref name="TSrc"/> has no parameterless constructor to stand for one.</exception>
    public void Write(TDst prediction, RnnForecast forecast)
    {
        if (_forecastRow is null)
        {
            _setForecast!(prediction, forecast.Forecast);
            _setLower?.Invoke(prediction, forecast.LowerBound);
            _setUpper?.Invoke(prediction, forecast.UpperBound);
            return;
        }
        if (!_hasExample)
        {
            // The stages after the forecaster may read the input's columns: before the first example, a blank one's.
            var blank = _blankExample ?? throw new InvalidOperationException(
                $"The stages after the forecaster read the input row, and no {typeof(TSrc).Name} has been observed yet (nor can one be " +
                "created without arguments to stand for it). Observe an example first, or call Predict(example).");
            _inputRow.ExtractValues(blank());
            _hasExample = true;
        }
        _forecastRow.Set(forecast);
        _typedOutput!.FillValues(prediction);
    }

    /// <summary>Releases the rows examples are read through.</summary>
    public void Dispose()
    {
        _outputRow?.Dispose();
        if (!ReferenceEquals(_row, _inputRow)) _row.Dispose();
        _inputRow.Dispose();
    }

    /// <summary>ML.NET's typed view of the last stage's output, as a <c>PredictionEngine</c> binds its output type, after
    /// checking each member of <typeparamref name="TDst"/> names a column there (a message that lists them).</summary>
    private static TypedCursorable<TDst> BindOutput(IHostEnvironment env, DataViewSchema output, int stagesAfter, bool ignoreMissingColumns,
        SchemaDefinition? definition)
    {
        definition ??= SchemaDefinition.Create(typeof(TDst), SchemaDefinition.Direction.Write);
        if (!ignoreMissingColumns)
            foreach (var column in definition)
                if (output.GetColumnOrNull(column.ColumnName) is null)
                    throw new ArgumentException(
                        $"Member '{column.MemberName}' of {typeof(TDst).Name} names column '{column.ColumnName}', which the pipeline does not produce " +
                        $"(after the forecaster and the {Counted.Of(stagesAfter, "stage")} after it, its columns are: " +
                        $"{string.Join(", ", output.Where(c => !c.IsHidden).Select(c => c.Name))}). Rename it, mark it [NoColumn], or pass ignoreMissingColumns: true.",
                        nameof(TDst));
        try
        {
            return TypedCursorable<TDst>.Create(env, new EmptyDataView(env, output), ignoreMissingColumns, definition);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException($"{typeof(TDst).Name} cannot receive the pipeline's output: {ex.Message}", nameof(TDst), ex);
        }
    }

    /// <summary>
    /// The row the stages after the forecaster read, one forecast at a time: the columns that reach the forecaster (from
    /// the example's row) and the forecast, bound and quantile vectors, each of the model's horizon. Its position moves
    /// with every forecast, so the stages' cached values never outlive one.
    /// </summary>
    private sealed class ForecastRow : DataViewRow
    {
        private readonly DataViewRow _input;
        private readonly int _inputCount;
        private readonly RnnForecastingTransformer _forecaster;
        private RnnForecast? _forecast;
        private long _position = -1;

        public ForecastRow(DataViewRow input, DataViewSchema schema, RnnForecastingTransformer forecaster)
        {
            _input = input; Schema = schema; _forecaster = forecaster;
            _inputCount = input.Schema.Count;
        }

        public override DataViewSchema Schema { get; }

        public override long Position => _position;

        public override long Batch => 0;

        public void Set(RnnForecast forecast)
        {
            _forecast = forecast;
            _position++;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column)
            => column.Index >= _inputCount || _input.IsColumnActive(_input.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < _inputCount) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            if (typeof(TValue) != typeof(VBuffer<float>))
                throw new InvalidOperationException($"Column '{column.Name}' is a vector of Single; asked for {typeof(TValue).Name}.");
            var t = _forecaster;
            Func<RnnForecast, float[]> pick = column.Name == t.OutputColumnName ? f => f.Forecast
                : column.Name == t.LowerBoundColumnName ? f => f.LowerBound
                : column.Name == t.UpperBoundColumnName ? f => f.UpperBound
                : f => f.Quantiles;
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) =>
            {
                var values = pick(_forecast ?? throw new InvalidOperationException("No forecast has been made yet."));
                var editor = VBufferEditor.Create(ref dst, values.Length);
                values.CopyTo(editor.Values);
                dst = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }

    private ArgumentException MissingInput(string column, int stagesBefore) => new(stagesBefore == 0
        ? $"{typeof(TSrc).Name} has no member for the forecaster's input column '{column}' (members: " +
          $"{string.Join(", ", _inputSchema.Where(c => !c.IsHidden).Select(c => c.Name))}); add a float member named '{column}' or marked [ColumnName(\"{column}\")]."
        : $"The {Counted.Of(stagesBefore, "stage")} before the forecaster {(stagesBefore == 1 ? "does" : "do")} not produce its input column '{column}' from {typeof(TSrc).Name}.", nameof(TSrc));

    /// <summary>One setter per TDst member that receives a forecaster column, keyed by column name.</summary>
    private static Dictionary<string, Action<TDst, float[]>> OutputSetters(string?[] outputs, SchemaDefinition? definition, bool ignoreMissingColumns)
    {
        definition ??= SchemaDefinition.Create(typeof(TDst), SchemaDefinition.Direction.Write);
        var setters = new Dictionary<string, Action<TDst, float[]>>(StringComparer.Ordinal);
        var present = outputs.OfType<string>().ToArray();
        foreach (var column in definition)
        {
            if (!present.Contains(column.ColumnName, StringComparer.Ordinal))
            {
                if (ignoreMissingColumns) continue;
                throw new ArgumentException(
                    $"Member '{column.MemberName}' of {typeof(TDst).Name} names column '{column.ColumnName}', which the forecaster does not produce " +
                    $"(its columns: {string.Join(", ", present)}). Rename it, mark it [NoColumn], or pass ignoreMissingColumns: true.", nameof(TDst));
            }
            var member = (MemberInfo?)typeof(TDst).GetField(column.MemberName) ?? typeof(TDst).GetProperty(column.MemberName)!;
            var type = member is FieldInfo f ? f.FieldType : ((PropertyInfo)member).PropertyType;
            if (type != typeof(float[]))
                throw new ArgumentException(
                    $"Member '{column.MemberName}' of {typeof(TDst).Name} receives column '{column.ColumnName}', a vector of Single; declare it float[] (it is {type.Name}).",
                    nameof(TDst));
            setters[column.ColumnName] = member is FieldInfo field
                ? (dst, values) => field.SetValue(dst, values)
                : (dst, values) => ((PropertyInfo)member).SetValue(dst, values);
        }
        return setters;
    }
}

using System.Globalization;
using System.Text.Json;
using Microsoft.ML;

namespace MLNetRnn.Orleans.Sharding;

/// <summary>
/// What a shard trainer does, callable in one process too (to compare a shard fitted on a silo with one fitted here):
/// read a shard's series from a panel file, fit one global model on them.
/// </summary>
public static class ShardTraining
{
    /// <summary>A row of a panel file.</summary>
    public sealed class PanelRow
    {
        /// <summary>The series id.</summary>
        public string Series { get; set; } = "";

        /// <summary>The value.</summary>
        public float Value { get; set; }
    }

    /// <summary>The rows of shard <paramref name="shard"/> of <paramref name="shardCount"/> in the CSV file
    /// <paramref name="panelPath"/> (a header, then <c>series,value</c>), in file order; streamed, so a silo holds only its shard.</summary>
    /// <exception cref="InvalidDataException">A line is not <c>series,value</c> with a number (the message gives its number).</exception>
    public static List<PanelRow> ReadShard(string panelPath, int shardCount, int shard)
    {
        var rows = new List<PanelRow>();
        int line = 0;
        foreach (string text in File.ReadLines(panelPath))
        {
            if (line++ == 0 || text.Length == 0) continue;
            int comma = text.IndexOf(',');
            if (comma <= 0 || !float.TryParse(text.AsSpan(comma + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                throw new InvalidDataException($"{panelPath}, line {line}: expected 'series,value' with a number; got '{text}'.");
            string id = text[..comma];
            if (ShardMap.ShardOf(id, shardCount) == shard) rows.Add(new PanelRow { Series = id, Value = value });
        }
        return rows;
    }

    /// <summary>The options of a request, with the panel file's column names.</summary>
    /// <exception cref="ArgumentException">The JSON does not read as <see cref="RnnForecastingOptions"/>.</exception>
    public static RnnForecastingOptions Options(string optionsJson)
    {
        RnnForecastingOptions? options;
        try { options = JsonSerializer.Deserialize<RnnForecastingOptions>(optionsJson); }
        catch (JsonException ex) { throw new ArgumentException($"The training options do not read as RnnForecastingOptions: {ex.Message}", nameof(optionsJson), ex); }
        if (options is null) throw new ArgumentException("The training options are null.", nameof(optionsJson));
        options.SeriesIdColumnName = nameof(PanelRow.Series);
        options.InputColumnName = nameof(PanelRow.Value);
        options.OutputColumnName ??= "Forecast";
        return options;
    }

    /// <summary>Fits one global model on <paramref name="rows"/>, as a shard trainer does (an <see cref="MLContext"/> of
    /// seed 0, so an unset Seed repeats).</summary>
    public static ITransformer Fit(IReadOnlyList<PanelRow> rows, string optionsJson, Action<string>? log = null)
    {
        var ml = new MLContext(seed: 0);
        if (log is not null) ml.Log += (_, e) => log(e.Message);
        return ml.Forecasting.ForecastByRnn(Options(optionsJson)).Fit(ml.Data.LoadFromEnumerable(rows));
    }

    /// <summary>The model as the bytes of a model zip.</summary>
    public static byte[] Save(ITransformer model)
    {
        using var stream = new MemoryStream();
        new MLContext().Model.Save(model, null, stream);
        return stream.ToArray();
    }

    /// <summary>The store name of shard <paramref name="shard"/>'s model: <c>{deployment}/shard-{shard}</c>.</summary>
    public static string ModelName(string deployment, int shard) => $"{deployment}/shard-{shard}";
}

using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn;

/// <summary>
/// How the forecaster settles its seasonal periods. With <see cref="RnnForecastingOptions.SeasonalPeriod"/> 0 and no
/// <see cref="RnnForecastingOptions.SeasonalPeriods"/> (the defaults) it takes what <see cref="SeasonalPeriodDetector"/>
/// proposes from the training data and the date column's frequency; periods set in the options are used as they are, and
/// the detection then only tells (in the summary and the log) which significant season they leave out.
/// </summary>
internal static class SeasonalPeriodChoice
{
    /// <summary>Whether the options leave the seasonal periods to the detection.</summary>
    public static bool Detects(RnnForecastingOptions options) => options.SeasonalPeriod == 0 && options.SeasonalPeriods.Length == 0;

    /// <summary>The sampling frequency of a time step inferred from the dates (<see cref="TimeStep.Frequency"/>).</summary>
    public static SamplingFrequency Frequency(TimeStep step) => step.Frequency;

    /// <summary>Detects on the training series, testing the periods the options set as well, so that the report can
    /// compare them with what the data holds.</summary>
    public static SeasonalPeriodDetection Detect(RnnForecastingOptions options, IReadOnlyList<float[]> series, TimeStep step)
    {
        int[] given = Detects(options) ? [] : options.SeasonalPeriods.Append(options.SeasonalPeriod).Where(p => p > 1).Distinct().ToArray();
        return SeasonalPeriodDetector.Detect(series, Frequency(step), given);
    }

    /// <summary>Detects on the series of <paramref name="data"/>, read as the forecaster reads them (rows grouped by the
    /// series id, dates checked for order and gaps, the step inferred from them): <see cref="RnnCatalog.DetectSeasonalPeriods"/>.</summary>
    public static SeasonalPeriodDetection Detect(IDataView data, string inputColumnName, string? dateColumnName, string? seriesIdColumnName, GapFilling gapFilling)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (string.IsNullOrWhiteSpace(inputColumnName)) throw new ArgumentException("inputColumnName is required.", nameof(inputColumnName));
        if (!Enum.IsDefined(gapFilling)) throw new ArgumentOutOfRangeException(nameof(gapFilling), gapFilling, "Unknown gap filling.");
        if (gapFilling != GapFilling.None && dateColumnName is null)
            throw new ArgumentException("gapFilling needs dateColumnName: gaps are found from the dates.", nameof(gapFilling));
        var columns = new ForecastColumns
        {
            Input = inputColumnName, Covariates = [], KnownFuture = [], SeriesId = seriesIdColumnName, Date = dateColumnName, Gaps = gapFilling,
        };
        var (rows, step) = PanelReader.Bind(columns, data.Schema).Read(data, TimeStep.Unknown);
        if (rows.RowCount == 0) throw new InvalidOperationException($"The data view is empty: input column '{inputColumnName}' has no rows.");
        return SeasonalPeriodDetector.Detect(rows.Values.Select(v => v.ToArray()).ToArray(), Frequency(step));
    }

    /// <summary>The settings with the detected periods when the options leave them unset: none passing, m = 1; one, that
    /// period alone (exactly the settings of setting it); several, each series chooses among them, as with
    /// <see cref="RnnForecastingOptions.SeasonalPeriods"/>. Set periods leave the settings as they are.</summary>
    public static ForecasterSettings Apply(ForecasterSettings settings, RnnForecastingOptions options, SeasonalPeriodDetection detection)
    {
        if (!Detects(options)) return settings;
        var periods = detection.Periods;
        return periods.Count switch
        {
            0 => settings with { SeasonalPeriod = 1, SeasonalPeriods = [] },
            1 => settings with { SeasonalPeriod = periods[0], SeasonalPeriods = [] },
            _ => settings with { SeasonalPeriod = periods[0], SeasonalPeriods = periods.Order().ToArray() },
        };
    }

    /// <summary>The log line: what was detected, from what, and what the model uses.</summary>
    public static string Describe(SeasonalPeriodDetection detection, ForecasterSettings settings, bool detected)
    {
        string used = settings.SeasonalPeriods.Count > 0
            ? $"chosen per series among {string.Join(", ", settings.SeasonalPeriods.Distinct().Order())}"
            : settings.SeasonalPeriod.ToString(CultureInfo.InvariantCulture) + (settings.SeasonalPeriod == 1 ? " (no season)" : "");
        return $"Seasonal period {(detected ? "detected" : "set")}: {used}. Candidates ({detection}).";
    }
}

using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Benchmarks;

/// <summary>What the specialist studies (<see cref="FineTuneStudy"/>, <see cref="HeadStudy"/>) read a fitted global
/// model's windows through.</summary>
internal static class StudyWindows
{
    /// <summary>The windows exactly as the trainer numbered them: each series' track (from its training values, no
    /// covariates) and the global id of each series' first window, series by series (S + 1 entries).</summary>
    public static (SeriesTrack[] Tracks, int[] Start) Of(ForecastModel model, float[][] values)
    {
        int S = values.Length;
        var tracks = new SeriesTrack[S];
        var start = new int[S + 1];
        for (int i = 0; i < S; i++)
        {
            tracks[i] = SeriesTrack.Build(model.Settings, model.Series[i], values[i], []);
            start[i + 1] = start[i] + tracks[i].Windows;
        }
        return (tracks, start);
    }
}

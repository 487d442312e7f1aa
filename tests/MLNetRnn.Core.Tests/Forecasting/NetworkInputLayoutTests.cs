using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>The input layout names every column of a network input row once, in the order the writer fills them and
/// the ONNX graph concatenates them, with the category indices last (where the networks embed them).</summary>
public sealed class NetworkInputLayoutTests
{
    private static readonly ForecasterSettings[] Cases =
    [
        new ForecasterSettings { WindowSize = 12, Horizon = 4, SeasonalPeriod = 1 },
        new ForecasterSettings { WindowSize = 12, Horizon = 4, SeasonalPeriod = 12, SeasonalFeatures = true, Base = ForecastBase.None, CovariateCount = 3 },
        new ForecasterSettings
        {
            WindowSize = 14, Horizon = 7, SeasonalPeriod = 7, SeasonalFeatures = true, CovariateCount = 2, KnownFutureCovariates = [1],
            StaticFeatureCount = 4, StaticCategories = [3, 5], ScaleFeature = true, SeriesCategories = 9,
        },
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void SegmentsCoverEveryInputColumnOnceInOrder(int index)
    {
        var s = Cases[index];
        var layout = new NetworkInputLayout(s);
        int next = 0;
        foreach (var segment in layout.Segments)
        {
            Assert.True(segment.Offset == next, $"{segment.Part} starts at column {segment.Offset}; expected {next}.");
            Assert.True(segment.Width > 0, $"{segment.Part} has width {segment.Width}.");
            next += segment.Width;
        }
        Assert.Equal(s.InputSize, next);
        Assert.Equal(s.InputSize, layout.Width);
        Assert.Equal(NetworkInputPart.Value, layout.Segments[0].Part);
        if (s.InputCategories.Length > 0)
        {
            var last = layout.Segments[^1];
            Assert.Equal((NetworkInputPart.Categories, s.InputSize - s.InputCategories.Length, s.InputCategories.Length), (last.Part, last.Offset, last.Width));
        }
    }

    [Fact]
    public void WindowRowsCarryTheDecoderFlagWhereTheLayoutPutsIt()
    {
        var s = new ForecasterSettings { WindowSize = 14, Horizon = 7, SeasonalPeriod = 7, CovariateCount = 2, KnownFutureCovariates = [1], EnsembleSize = 0 };
        var values = Enumerable.Range(0, 120).Select(t => (float)(100 + 10 * Math.Sin(2 * Math.PI * t / 7) + t)).ToArray();
        var covariates = Enumerable.Range(0, 120 * 2).Select(j => (float)(j % 5)).ToArray();
        var model = ForecastModel.Train(s, values, covariates);
        var layout = model.Input.Layout;
        var state = ForecastState.AfterSeries(model, values, covariates);
        int W = s.WindowSize, H = s.Horizon, F = layout.Width;
        var input = new float[s.Steps * F];
        model.Input.Prepare(model.Single, state.History, state.BaseOneStep, state.Covariates, state.BaseState, state.Count, new float[H],
            input, new float[W], new float[H], new float[H], new float[H], H);
        for (int t = 0; t < W + H; t++)
            Assert.Equal(t < W ? 0f : 1f, input[t * F + layout.DecoderFlag]);
    }
}

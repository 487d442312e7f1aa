using System.Reflection;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// A .NET user forecasts with MLNetRnn.Core alone: train, forecast from a state, observe, save and read the model's
/// bytes. This project sees Core's internals, so the second test checks by reflection that everything the first one
/// calls is public (samples/MLNetRnn.Samples' <c>core</c> command, compiled without internals, is the other proof).
/// </summary>
public sealed class PublicForecastingApiTests
{
    private static float[] Series(int n) => Enumerable.Range(0, n).Select(t => 100f + 0.5f * t + 10f * MathF.Sin(2 * MathF.PI * t / 12)).ToArray();

    [Fact]
    public void TrainForecastObserveAndBytesRoundTripThroughThePublicApi()
    {
        var values = Series(120);
        var settings = new ForecasterSettings { WindowSize = 24, Horizon = 6, SeasonalPeriod = 12, EnsembleSize = 1, MaximumSteps = 60, MaximumDegreeOfParallelism = 1 };
        var model = ForecastModel.Train(settings, values, []);
        var state = ForecastState.AfterSeries(model, values, []);
        Assert.Equal(values.Length, state.Count);

        var scratch = model.CreateScratch();
        float[] forecast = new float[6], lower = new float[6], upper = new float[6];
        model.Forecast(state, 0.9f, scratch, forecast, lower, upper);
        Assert.All(forecast, f => Assert.InRange(f, 100f, 200f));

        state.Observe(model.Single, 165f, ReadOnlySpan<float>.Empty);
        Assert.Equal(values.Length + 1, state.Count);
        float[] next = new float[6];
        model.Forecast(state, 0.9f, scratch, next, lower, upper);
        Assert.NotEqual(forecast, next);

        var loaded = ForecastModel.FromBytes(model.ToBytes());
        var loadedState = ForecastState.AfterSeries(loaded, [.. values, 165f], []);
        float[] again = new float[6], lowerAgain = new float[6], upperAgain = new float[6];
        loaded.Forecast(loadedState, 0.9f, loaded.CreateScratch(), again, lowerAgain, upperAgain);
        Assert.Equal(next, again);
        Assert.Equal(lower, lowerAgain);
        Assert.Equal(upper, upperAgain);
        Assert.Equal(model.ToBytes(), loaded.ToBytes());
    }

    [Fact]
    public void WhatTheFirstTestCallsIsPublic()
    {
        Type[] types = [typeof(ForecasterSettings), typeof(ForecastModel), typeof(ForecastState), typeof(SeriesFit), typeof(ForecastRunner.Scratch), typeof(SeriesPanel), typeof(BaselineCandidate)];
        Assert.All(types, t => Assert.True(t.IsVisible, $"{t} is not public"));
        (Type Type, string Member)[] members =
        [
            (typeof(ForecasterSettings), nameof(ForecasterSettings.WindowSize)), (typeof(ForecasterSettings), nameof(ForecasterSettings.Horizon)),
            (typeof(ForecasterSettings), nameof(ForecasterSettings.SeasonalPeriod)), (typeof(ForecasterSettings), nameof(ForecasterSettings.EnsembleSize)),
            (typeof(ForecasterSettings), nameof(ForecasterSettings.MaximumSteps)), (typeof(ForecasterSettings), nameof(ForecasterSettings.MaximumDegreeOfParallelism)),
            (typeof(ForecastModel), nameof(ForecastModel.Train)), (typeof(ForecastModel), nameof(ForecastModel.CreateScratch)),
            (typeof(ForecastModel), nameof(ForecastModel.Forecast)), (typeof(ForecastModel), nameof(ForecastModel.Single)),
            (typeof(ForecastModel), nameof(ForecastModel.ToBytes)), (typeof(ForecastModel), nameof(ForecastModel.FromBytes)),
            (typeof(ForecastState), nameof(ForecastState.AfterSeries)), (typeof(ForecastState), nameof(ForecastState.Observe)),
            (typeof(ForecastState), nameof(ForecastState.Count)),
        ];
        foreach (var (type, name) in members)
        {
            var found = type.GetMember(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static);
            Assert.True(found.Length > 0, $"{type.Name}.{name} is not public");
        }
        // Every overload the first test calls, by signature.
        Assert.NotNull(typeof(ForecastModel).GetMethod(nameof(ForecastModel.Train), [typeof(ForecasterSettings), typeof(float[]), typeof(float[]), typeof(IProgress<Core.Training.TrainingProgress>), typeof(CancellationToken)]));
        Assert.NotNull(typeof(ForecastModel).GetMethod(nameof(ForecastModel.Forecast), [typeof(ForecastState), typeof(float), typeof(ForecastRunner.Scratch), typeof(Span<float>), typeof(Span<float>), typeof(Span<float>)]));
        Assert.NotNull(typeof(ForecastState).GetMethod(nameof(ForecastState.AfterSeries), [typeof(ForecastModel), typeof(ReadOnlySpan<float>), typeof(ReadOnlySpan<float>)]));
        var setter = typeof(ForecasterSettings).GetProperty(nameof(ForecasterSettings.WindowSize))!.SetMethod!;
        Assert.True(setter.IsPublic, "WindowSize cannot be set");
    }
}

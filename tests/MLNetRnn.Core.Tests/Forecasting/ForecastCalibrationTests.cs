using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>Conformal half-widths: the right order statistic, every level its own bound, never a silent clamp.</summary>
public sealed class ForecastCalibrationTests
{
    [Fact]
    public void PerStepHalfWidthIsTheConformalOrderStatistic()
    {
        // V = 19 errors: the 90% bound is the ⌈20·0.9⌉ = 18th smallest, 95% the 19th.
        var errors = Enumerable.Range(1, 19).Select(i => (float)i).Reverse().ToArray();
        var c = new ForecastCalibration(ForecastCalibration.Kind.PerStep, [errors]);
        Assert.Equal(18f, c.HalfWidth(0, 0.90f));
        Assert.Equal(19f, c.HalfWidth(0, 0.95f));
        Assert.Equal(0.95, c.SupportedLevel, 6);
    }

    [Fact]
    public void PooledHalfWidthScalesOneQuantileOfNormalisedErrorsByEachStepsScale()
    {
        // Step 1's errors are step 0's doubled: normalised, they are the same values, so the bound doubles.
        var step0 = Enumerable.Range(1, 20).Select(i => (float)i).ToArray();
        var step1 = step0.Select(v => 2 * v).ToArray();
        var c = new ForecastCalibration(ForecastCalibration.Kind.Pooled, [step0, step1]);
        Assert.Equal(40, c.SampleSize);
        float q0 = c.HalfWidth(0, 0.8f), q1 = c.HalfWidth(1, 0.8f);
        Assert.Equal(2 * q0, q1, 4);
        // ⌈41·0.8⌉ = 33rd of the pooled normalised errors: step values 17 (two copies: ranks 33 and 34).
        Assert.Equal(17f, q0, 3);
    }

    [Fact]
    public void ScaleNeverShrinksFurtherAhead()
    {
        var c = new ForecastCalibration(ForecastCalibration.Kind.Pooled, [[4f, 4f, 4f], [1f, 1f, 1f], [2f, 2f, 2f]]);
        Assert.True(c.HalfWidth(1, 0.5f) >= c.HalfWidth(0, 0.5f));
        Assert.True(c.HalfWidth(2, 0.5f) >= c.HalfWidth(1, 0.5f));
    }

    [Fact]
    public void LevelsBeyondTheErrorsAreExtrapolatedWiderThanAnyErrorNotClamped()
    {
        // 9 errors support up to 90%; 95% and 99% used to collapse onto the largest error.
        float[] errors = [0.5f, 1f, 1.5f, 2f, 2.5f, 3f, 3.5f, 4f, 4.5f];
        var c = new ForecastCalibration(ForecastCalibration.Kind.PerStep, [errors]);
        float q90 = c.HalfWidth(0, 0.90f), q95 = c.HalfWidth(0, 0.95f), q99 = c.HalfWidth(0, 0.99f);
        Assert.Equal(4.5f, q90);
        Assert.True(q95 > 4.5f && q99 > q95, $"90% {q90}, 95% {q95}, 99% {q99}");
    }

    [Property(MaxTest = 200)]
    public bool HigherLevelsGiveStrictlyWiderBounds(NonEmptyArray<PositiveInt> raw, PositiveInt steps)
    {
        int H = 1 + steps.Get % 4;
        var residuals = Enumerable.Range(0, H).Select(k => raw.Get.Select((v, i) => (float)((v.Get % 1000) + i * 0.001 + k)).ToArray()).ToArray();
        var c = new ForecastCalibration(ForecastCalibration.Kind.Pooled, residuals);
        for (int k = 0; k < H; k++)
        {
            float a = c.HalfWidth(k, 0.90f), b = c.HalfWidth(k, 0.95f), d = c.HalfWidth(k, 0.99f);
            // Distinct errors: every level has its own order statistic or its own extrapolation.
            if (!(a <= b && b <= d)) return false;
            if (c.SampleSize < 200 && !(b < d)) return false;
        }
        return true;
    }

    [Fact]
    public void NoErrorsMeansNoBounds()
    {
        var c = new ForecastCalibration(ForecastCalibration.Kind.Pooled, [[], []]);
        Assert.True(float.IsNaN(c.HalfWidth(0, 0.9f)));
        Assert.Equal(0, c.SupportedLevel);
    }

    [Fact]
    public void RoundTripKeepsTheHalfWidths()
    {
        var c = new ForecastCalibration(ForecastCalibration.Kind.Pooled, [[1f, 3f, 2f], [2f, 5f, 4f]]);
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) c.Write(w);
        stream.Position = 0;
        var back = ForecastCalibration.Read(new BinaryReader(stream), horizon: 2);
        foreach (float level in new[] { 0.5f, 0.8f, 0.99f })
            for (int k = 0; k < 2; k++) Assert.Equal(c.HalfWidth(k, level), back.HalfWidth(k, level));
    }
}

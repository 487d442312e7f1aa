using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>The split-conformal factor that scales the quantile heads' spread on held-out windows
/// (<see cref="QuantileHeadCalibration.SpreadFactor"/>).</summary>
public sealed class QuantileCalibrationTests
{
    [Fact]
    public void TheFactorIsTheConformalQuantileOfTheNormalisedErrors()
    {
        // 100 errors at 0.00, 0.01, …, 0.99 of the head's spread: 90% of new errors fall within the ⌈101·0.9⌉ = 91st.
        var scores = Enumerable.Range(0, 100).Select(i => i / 100f).Reverse().ToList();
        Assert.Equal(0.90f, QuantileHeadCalibration.SpreadFactor(scores, 0.9f), 1e-6f);
    }

    [Fact]
    public void HeadsThatAlreadyCoverEverythingAreNarrowedButNeverFlipped()
    {
        var scores = Enumerable.Range(0, 50).Select(i => -1f - i / 50f).ToList();   // every error on the median's other side
        Assert.Equal(0f, QuantileHeadCalibration.SpreadFactor(scores, 0.9f));
    }

    [Fact]
    public void TooFewErrorsToReadTheLevelKeepTheHeadsAsTrained()
    {
        Assert.Equal(1f, QuantileHeadCalibration.SpreadFactor([3f, 4f, 5f, 6f, 7f], 0.9f));   // ⌈6·0.9⌉ = 6 > 5
        Assert.Equal(1f, QuantileHeadCalibration.SpreadFactor([], 0.8f));
    }

    [Property(MaxTest = 300)]
    public bool ScaledHeadsCoverAtLeastTheirLevelOfTheErrorsTheyWereCalibratedOn(NormalFloat[] errors, PositiveInt percent)
    {
        float level = 0.5f + Math.Min(percent.Get, 49) / 100f;
        var scores = errors.Select(e => (float)Math.Clamp(e.Get, -1e3, 1e3)).ToList();
        int n = scores.Count;
        float f = QuantileHeadCalibration.SpreadFactor(scores.ToList(), level);
        if ((int)Math.Ceiling((n + 1) * (double)level) > n) return f == 1f;
        return f >= 0f && scores.Count(x => x <= f) >= level * n;
    }
}

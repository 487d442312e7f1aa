using FsCheck;
using FsCheck.Xunit;
using MLNetRnn.Core.Forecasting;

namespace MLNetRnn.Core.Tests.Forecasting;

/// <summary>
/// <see cref="CombinationMeanEvidence"/>: the paired t over the backtested series, which keeps the mean with the learned combination
/// unless the networks' forecast alone is clearly better; series the backtest could not judge do not count, and a
/// consistent small gain counts more than a large one on a single series.
/// </summary>
public sealed class CombinationMeanEvidenceTests
{
    [Fact]
    public void TIsThePairedMeanDifferenceOverItsStandardError()
    {
        double[] alone = [1.0, 2.0, 3.0, 4.0];
        double[] mean = [1.2, 2.1, 3.3, 4.2];
        var e = CombinationMeanEvidence.Judge(alone, mean);
        // d = 0.2, 0.1, 0.3, 0.2: d̄ = 0.2, s = √(0.02 / 3), t = 0.2 / (s / 2).
        Assert.Equal(4, e.Series);
        Assert.Equal(2.5, e.Alone, 12);
        Assert.Equal(2.7, e.Mean, 12);
        Assert.Equal(0.2 / (Math.Sqrt(0.02 / 3) / 2), e.T, 9);
        Assert.True(e.NetworksAlone);
    }

    [Fact]
    public void ASeriesWithoutAJudgementDoesNotCountAndNoneLeavesTheMean()
    {
        var e = CombinationMeanEvidence.Judge([1.0, double.NaN, 2.0, 3.0], [1.5, 9.0, double.NaN, 3.5]);
        Assert.Equal(2, e.Series);
        Assert.Equal(2.0, e.Alone, 12);
        Assert.False(CombinationMeanEvidence.Judge([double.NaN], [1.0]).NetworksAlone);
        Assert.Equal(0, CombinationMeanEvidence.Judge([double.NaN], [1.0]).Series);
        Assert.False(default(CombinationMeanEvidence).NetworksAlone);
    }

    [Fact]
    public void OneLargeGainIsNotEvidenceAndAConsistentSmallOneIs()
    {
        // One series far better alone, the others a little worse: the average favours alone, t does not.
        double[] alone = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
        double[] mean = [0.9, 0.9, 0.9, 0.9, 0.9, 5.0];
        var one = CombinationMeanEvidence.Judge(alone, mean);
        Assert.True(one.Alone < one.Mean);
        Assert.False(one.NetworksAlone);

        var consistent = CombinationMeanEvidence.Judge([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.01, 1.02, 1.01, 1.02, 1.01, 1.02]);
        Assert.True(consistent.NetworksAlone);
    }

    [Property(MaxTest = 200)]
    public bool SwappingTheTwoNegatesTAndTheMeanIsKeptUnlessAloneIsBetterOnAverage(NormalFloat[] a, NormalFloat[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        var alone = a.Take(n).Select(x => Math.Abs(x.Get) % 100).ToArray();
        var mean = b.Take(n).Select(x => Math.Abs(x.Get) % 100).ToArray();
        var e = CombinationMeanEvidence.Judge(alone, mean);
        var swapped = CombinationMeanEvidence.Judge(mean, alone);
        bool negated = !double.IsFinite(e.T) || Math.Abs(e.T + swapped.T) <= 1e-9 * Math.Max(1, Math.Abs(e.T));
        bool kept = !e.NetworksAlone || e.Alone < e.Mean;
        bool notBoth = !(e.NetworksAlone && swapped.NetworksAlone);
        return negated && kept && notBoth;
    }
}

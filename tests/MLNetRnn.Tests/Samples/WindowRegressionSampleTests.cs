using MLNetRnn.Samples;

namespace MLNetRnn.Tests.Samples;

/// <summary>The window-mode sample compiles with the tests and runs in CI, so it cannot rot.</summary>
[Trait("Category", "Slow")]
public sealed class WindowRegressionSampleTests
{
    [Fact]
    public void WindowRegressionSampleCrossValidatesAndBeatsNaiveOnEveryFold()
    {
        var output = new StringWriter();
        int code = WindowRegressionSample.Run(output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("3-fold cross-validation", text);
        Assert.Contains("Every fold beats the naive prediction.", text);
        Assert.Contains("predicted for the next month", text);
    }
}

using MLNetRnn.Samples;

namespace MLNetRnn.Tests.Samples;

/// <summary>The samples compile with the tests and run in CI, so they cannot rot.</summary>
public sealed class SamplesRunTests
{
    [Fact]
    public void AddingProblemSampleSolvesTheTaskAndReportsDiagnostics()
    {
        var output = new StringWriter();
        int code = AddingProblemSample.Run(output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("solved", text);
        Assert.Contains("Gradient norm before clipping", text);
        Assert.Contains("spectral radius", text);
    }
}

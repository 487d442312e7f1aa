using MLNetRnn.Samples;

namespace MLNetRnn.Tests.Samples;

/// <summary>The samples compile with the tests and run in CI, so they cannot rot.</summary>
public sealed class SamplesRunTests
{
    [Fact]
    public void AirPassengersSampleBeatsSeasonalNaiveAndRoundTripsTheModel()
    {
        var output = new StringWriter();
        string path = Path.Combine(Path.GetTempPath(), $"airpassengers-{Guid.NewGuid():N}.zip");
        try
        {
            int code = ForecastAirPassengers.Run(output, path);
            string text = output.ToString();
            Assert.True(code == 0, text);
            Assert.Contains("same forecast yes", text);
            Assert.Contains("1961-12", text);
        }
        finally
        {
            File.Delete(path);
        }
    }

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

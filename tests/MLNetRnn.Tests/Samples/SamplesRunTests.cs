using MLNetRnn.Samples;

namespace MLNetRnn.Tests.Samples;

/// <summary>The samples compile with the tests and run in CI, so they cannot rot. Slow: each trains a model of
/// sample size.</summary>
[Trait("Category", "Slow")]
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
            Assert.Contains("season: m = 12, detected", text);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ManySeriesSampleFitsThePanelAndTheMonthlySeriesTogether()
    {
        // A small panel, so CI stays quick; the sample's own size is 300 products × 730 days.
        var output = new StringWriter();
        int code = ForecastManySeries.Run(output, new ForecastManySeries.Size(Products: 24, Days: 150, Horizon: 14, Alone: 2, Steps: 300));
        string text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("promotions known in advance", text);
        Assert.Contains("one model per product", text);
        Assert.Contains("a new product", text);
        Assert.Contains("sunspot_month", text);
        Assert.Contains("no id feature", text);
    }

    [Fact]
    public void AddingProblemSampleSolvesTheTaskAndReportsDiagnostics()
    {
        var output = new StringWriter();
        int code = AddingProblemSample.Run(output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        // The report reads "→ solved, in …" or "→ NOT solved, in …"; the second contains "solved" too.
        Assert.Contains("→ solved, in ", text);
        Assert.Contains("Gradient norm before clipping", text);
        Assert.Contains("spectral radius", text);
    }

    [Fact]
    public void CoreOnlySampleForecastsAndRoundTripsTheModelBytes()
    {
        // The sample compiles against MLNetRnn.Core's public API alone (samples see no internals).
        var output = new StringWriter();
        int code = ForecastWithCore.Run(output, ensembleSize: 1, maximumSteps: 100);
        string text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("same forecast yes", text);
        Assert.Contains("after observing 1960-01", text);
    }
}

using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Persistence;

namespace MLNetRnn.Cli.Tests;

/// <summary>The seasonal period as the tool sees it: detected when <c>--season</c> is left out (from the dates' frequency
/// and an autocorrelation test), printed with every candidate and its strength by <c>fit</c> and <c>backtest</c>, a warning
/// in the tool's terms when a given <c>--season</c> leaves a significant season out, and backtest MASE scaled by the detected
/// period whatever season was given.</summary>
public sealed class SeasonTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mlnetrnn-season-" + Guid.NewGuid().ToString("N"));

    public SeasonTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name) => Path.Combine(_dir, name);

    private static readonly string[] Fast = ["--epochs", "4", "--ensemble", "1", "--hidden", "4", "--patience", "2", "--window", "14", "--horizon", "7"];

    /// <summary>Thirty weeks of daily visitors: quiet Mondays, busy weekends, a slow rise and some noise.</summary>
    private string Daily()
    {
        double[] week = [0.6, 0.9, 0.9, 1.0, 1.1, 1.5, 1.3];
        var random = new Random(7);
        var lines = new List<string> { "date,value" };
        var start = new DateTime(2024, 1, 1);   // a Monday
        for (int t = 0; t < 210; t++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{start.AddDays(t):yyyy-MM-dd},{(100 + 0.2 * t) * week[t % 7] * (1 + 0.05 * (random.NextDouble() - 0.5)):F1}"));
        System.IO.File.WriteAllLines(File("daily.csv"), lines);
        return File("daily.csv");
    }

    [Fact]
    public void FitDetectsTheWeeklySeasonOfDailyDataWhenNoSeasonIsGivenAndPrintsTheCandidates()
    {
        var (code, output) = CliTests.Run(["fit", Daily(), "--model", File("m.zip"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("season detected.", output);
        Assert.Contains("Seasonal periods (daily data)", output);
        Assert.Matches(@"│ 7 +│ dates, autocorrelation +│ 0\.\d\d +│ 0\.\d\d +│ passes", output);   // the candidate, its r and limit
        Assert.Contains("Season: 7, detected", output);
        Assert.Contains("(m = 7)", output);                                                        // the model's base uses it
        Assert.DoesNotContain("warning:", output);
    }

    [Fact]
    public void AGivenSeasonThatLeavesOutASignificantOneIsWarnedAboutInTheToolsTerms()
    {
        var (code, output) = CliTests.Run(["fit", Daily(), "--model", File("m.zip"), "--season", "12", .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("Season: 12, set by --season.", output);
        Assert.Matches(@"│ 12 +│ --season +│", output);                                          // the given period tested too
        Assert.Contains("warning: the data has a significant season of period 7", output);
        Assert.Contains("that --season 12 leaves out: pass --season 7, or leave --season out to have it detected.", output);
        Assert.DoesNotContain("SeasonalPeriods", output);                                          // not the library's wording for its options
    }

    [Fact]
    public void BacktestPrintsTheDetectedSeasonAndScalesMaseByItWhateverSeasonIsGiven()
    {
        string data = Daily();
        foreach (string[] season in new[] { Array.Empty<string>(), ["--season", "12"] })
        {
            var (code, output) = CliTests.Run(["backtest", data, "--origins", "2", "--no-refit", .. season, .. Fast]);
            Assert.True(code == 0, output);
            Assert.Contains("Seasonal periods (daily data)", output);
            Assert.Contains("seasonal naive (m = 7)", output);
            Assert.Contains("Every MASE above is scaled by the seasonal period detected in the whole file, m = 7", output);
            Assert.Equal(season.Length > 0, output.Contains("warning: the data has a significant season of period 7", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void TheSeasonDetectedInMonthlyDataGivesTheModelOfSeason12()
    {
        string air = Path.Combine(AppContext.BaseDirectory, "Data", "AirPassengers.csv");
        var (code, output) = CliTests.Run(["fit", air, "--model", File("detected.zip"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("Season: 12, detected", output);
        Assert.Equal(0, CliTests.Run(["fit", air, "--model", File("twelve.zip"), "--season", "12", .. Fast]).Code);
        var ml = new MLContext();
        float[] Forecast(string model) => ml.Model.LoadValidated(File(model), out _).CreateForecastingEngine().Predict().Forecast;
        Assert.Equal(Forecast("twelve.zip"), Forecast("detected.zip"));
    }
}

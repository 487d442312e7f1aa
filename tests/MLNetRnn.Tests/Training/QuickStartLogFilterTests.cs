using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetRnn.Tests.Persistence;
using MLNetRnn.Tests.Regression;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Training;

/// <summary>
/// The README quick start's log line (issue 21: it printed every line of <c>mlContext.Log</c>, about a thousand,
/// burying the two results) keeps the library's own messages, which all come from sources starting with "Rnn", and
/// leaves out the per-epoch Trace lines and ML.NET's tracing.
/// </summary>
public sealed class QuickStartLogFilterTests
{
    /// <summary>The quick start's line, as the READMEs have it (without its trailing comment).</summary>
    private const string ReadmeLine =
        "ml.Log += (_, e) => { if (e.Source.StartsWith(\"Rnn\") && e.Kind != ChannelMessageKind.Trace) Console.WriteLine(e.RawMessage); };";

    [Theory]
    [InlineData("README.md")]
    [InlineData("src/MLNetRnn/README.md")]   // the package's
    public void TheReadmeQuickStartFiltersTheLogAsThisTestDoes(string file)
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), file));
        int start = readme.IndexOf("```csharp\nusing Microsoft.ML;", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no quick-start block starting with 'using Microsoft.ML;'.");
        string block = readme[start..readme.IndexOf("```", start + 3, StringComparison.Ordinal)];

        string line = Assert.Single(block.Split('\n'), l => l.StartsWith("ml.Log", StringComparison.Ordinal));
        int comment = line.IndexOf("  //", StringComparison.Ordinal);

        Assert.Equal(ReadmeLine, (comment < 0 ? line : line[..comment]).TrimEnd());
        Assert.Contains("using Microsoft.ML.Runtime;", block);   // ChannelMessageKind
    }

    [Fact]
    public void TheFilterPassesOnlyTheLibrarysMessagesAndFewOfThem()
    {
        var ml = new MLContext(seed: 0);
        var all = new List<LoggingEventArgs>();
        var passed = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { lock (all) all.Add(e); };
        // The README's condition, word for word; a list instead of the console.
        ml.Log += (_, e) => { if (e.Source.StartsWith("Rnn") && e.Kind != ChannelMessageKind.Trace) lock (passed) passed.Add(e); };

        // A forecaster read from a CSV, as the quick start's is (ML.NET's loader traces too), and a window-mode fit.
        using var dir = new TempDirectory();
        string csv = dir.File("series.csv");
        File.WriteAllLines(csv, Seasonal(96, seed: 2).Select(v => v.ToString("R", CultureInfo.InvariantCulture)).Prepend("Value"));
        var data = ml.Data.LoadFromTextFile(csv, [new TextLoader.Column("Value", DataKind.Single, 0)], separatorChar: ',', hasHeader: true);
        var options = Fast(window: 12, horizon: 3);
        options.EnsembleSize = 2;
        options.Epochs = 30;
        ml.Forecasting.ForecastByRnn(options).Fit(data);
        ml.Regression.Trainers.Rnn(RegressionTestData.Fast()).Fit(RegressionTestData.View(ml, RegressionTestData.Rows(RegressionTestData.SeasonalTrend(100, seed: 7))));

        // Only the library's messages pass: its two trainers' channels.
        Assert.All(passed, e => Assert.Contains(e.Source, new[] { "RnnForecastingEstimator; Training", "RnnRegressionEstimator; Training" }));
        // They are what the fits said: what is trained and how it ended, for each fit and each of the forecaster's networks.
        var said = passed.Select(e => e.RawMessage).ToList();
        Assert.Single(said, m => m.StartsWith("Training 2 Gru(16)", StringComparison.Ordinal));
        Assert.Equal(["member 1 of 2:", "member 2 of 2:"], said.Where(m => m.StartsWith("member", StringComparison.Ordinal)).Select(m => m[..(m.IndexOf(':') + 1)]).Order());
        Assert.Single(said, m => m.StartsWith("Trained 2", StringComparison.Ordinal));
        Assert.Single(said, m => m.StartsWith("Training Gru [16]", StringComparison.Ordinal));
        Assert.Single(said, m => m.StartsWith("The model keeps the weights", StringComparison.Ordinal));
        // And they are few: the epochs (Trace, from the same sources) and ML.NET's tracing stay out.
        Assert.InRange(passed.Count, 6, 10);
        Assert.Contains(all, e => e.Source.StartsWith("Rnn", StringComparison.Ordinal) && e.Kind == ChannelMessageKind.Trace && e.RawMessage.Contains("epoch 1", StringComparison.Ordinal));
        Assert.Contains(all, e => !e.Source.StartsWith("Rnn", StringComparison.Ordinal));
        Assert.True(passed.Count * 10 < all.Count, $"{passed.Count} of {all.Count} messages passed.");
    }

    private static string RepositoryRoot()
    {
        string? root = typeof(QuickStartLogFilterTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "MLNetRnn.RepositoryRoot")?.Value;
        Assert.False(string.IsNullOrEmpty(root), "The test assembly does not record MLNetRnn.RepositoryRoot (see MLNetRnn.Tests.csproj).");
        return root!;
    }
}

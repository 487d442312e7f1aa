using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace MLNetRnn.Cli.Tests;

/// <summary>What the tool writes lands in folders it creates, and whatever goes wrong ends as one <c>error:</c> line and a
/// non-zero exit code, never a stack trace.</summary>
public sealed class OutputAndErrorTests : IDisposable
{
    private static readonly string AirPassengers = Path.Combine(AppContext.BaseDirectory, "Data", "AirPassengers.csv");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mlnetrnn-out-" + Guid.NewGuid().ToString("N"));

    public OutputAndErrorTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string In(params string[] parts) => Path.Combine([_dir, .. parts]);

    private static readonly string[] Fast = ["--epochs", "2", "--ensemble", "1", "--hidden", "4"];

    [Fact]
    public void FitAndForecastCreateTheFoldersTheyWriteTo()
    {
        var (code, output) = CliTests.Run(["fit", AirPassengers, "--model", In("models", "new", "air.zip"), "--diagnostics", In("diag", "run1"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.True(File.Exists(In("models", "new", "air.zip")));
        Assert.True(File.Exists(In("diag", "run1", "member1", "diagnostics.json")));

        (code, output) = CliTests.Run("forecast", "--model", In("models", "new", "air.zip"), "--data", AirPassengers,
            "--output", In("forecasts", "f.csv"), "--plot", In("pictures", "f.png"));
        Assert.True(code == 0, output);
        Assert.True(File.Exists(In("forecasts", "f.csv")));
        Assert.True(File.Exists(In("pictures", "f.png")));
    }

    [Fact]
    public void AnOutputThatCannotBeWrittenIsRefusedBeforeTraining()
    {
        // A folder cannot be made under a file: said at once, not after the networks have trained.
        var (code, output) = CliTests.Run(["fit", AirPassengers, "--model", Path.Combine(AirPassengers, "air.zip"), .. Fast]);
        Assert.Equal(2, code);
        Assert.Contains("--model", output);
        Assert.DoesNotContain("epoch", output);
        // A folder given where a file is wanted.
        (code, output) = CliTests.Run(["fit", AirPassengers, "--model", _dir, .. Fast]);
        Assert.Equal(2, code);
        Assert.Contains("is a folder", output);
    }

    [Fact]
    public void AnyExceptionEndsAsOneErrorLineWithANonZeroExitCode()
    {
        var boom = new Command("boom");
        boom.SetAction((Func<ParseResult, int>)(_ => throw new NotSupportedException("first line\nsecond line")));
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 400;
        int code = CliApp.Invoke(new RootCommand { boom }, ["boom"], console, writer);
        Assert.Equal(1, code);
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["error: first line second line (NotSupportedException)"], lines.Select(l => l.TrimEnd()));
    }
}

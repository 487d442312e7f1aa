using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Persistence;
using SkiaSharp;
using Spectre.Console;

namespace MLNetRnn.Cli.Tests;

/// <summary>The tool end to end, in process: fit on AirPassengers (a few epochs), then forecast, backtest and plot from
/// what it saved. Each test names what a user would see.</summary>
public sealed class CliTests : IDisposable
{
    private static readonly string AirPassengers = Path.Combine(AppContext.BaseDirectory, "Data", "AirPassengers.csv");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mlnetrnn-cli-" + Guid.NewGuid().ToString("N"));

    public CliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name) => Path.Combine(_dir, name);

    private static readonly string[] Fast = ["--epochs", "6", "--ensemble", "1", "--hidden", "8", "--patience", "3"];

    /// <summary>Runs the tool; returns its exit code and everything it printed.</summary>
    internal static (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;
        int code = CliApp.Run(args, console, writer);
        return (code, writer.ToString());
    }

    private static void AssertPng(string path)
    {
        Assert.True(System.IO.File.Exists(path), $"{path} was not written");
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal((1100, 620), (bitmap.Width, bitmap.Height));
        // A drawn picture has many colours; a blank or failed render has one or two.
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 7) for (int x = 0; x < bitmap.Width; x += 7) colours.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colours.Count > 10, $"{path} looks blank ({colours.Count} colours)");
    }

    [Fact]
    public void FitShowsProgressSavesAnMLNetZipAndWritesPlotsAndDiagnostics()
    {
        var (code, output) = Run(["fit", AirPassengers, "--model", File("air.zip"), "--plots", File("plots"), "--diagnostics", File("diag"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("member 1 of 1", output);       // the progress display names the phase
        Assert.Contains("epoch", output);
        Assert.Contains("‖g‖", output);
        Assert.Contains("Training", output);           // the summary table
        Assert.Contains("1961-12-01", output);         // the forecast table continues the monthly dates

        var model = new MLContext().Model.LoadValidated(File("air.zip"), out var schema);
        var forecaster = Assert.IsType<RnnForecastingTransformer>(model);
        Assert.Equal("value", forecaster.InputColumnName);
        Assert.NotNull(schema!.GetColumnOrNull("value"));
        Assert.True(forecaster.Diagnostics[0].HasBackwardSignal);

        foreach (var png in new[] { "forecast.png", "loss.png", "gradient-norm.png", "backward-signal.png", "spectrum.png" })
            AssertPng(Path.Combine(File("plots"), png));
        Assert.True(System.IO.File.Exists(Path.Combine(File("diag"), "member1", "steps.csv")));
        Assert.True(System.IO.File.Exists(Path.Combine(File("diag"), "member1", "diagnostics.json")));
    }

    [Fact]
    public void ForecastFromASavedModelMatchesTheEngineAndWritesCsvAndPlot()
    {
        Assert.Equal(0, Run(["fit", AirPassengers, "--model", File("air.zip"), .. Fast]).Code);
        var (code, output) = Run("forecast", "--model", File("air.zip"), "--data", AirPassengers, "--output", File("forecast.csv"), "--plot", File("forecast.png"));
        Assert.True(code == 0, output);
        var rows = System.IO.File.ReadAllLines(File("forecast.csv"));
        Assert.Equal("step,date,forecast,lower,upper", rows[0]);
        Assert.Equal(13, rows.Length);
        Assert.StartsWith("1,1961-01-01,", rows[1]);
        var expected = new MLContext().Model.LoadValidated(File("air.zip"), out _).CreateForecastingEngine().Predict();
        for (int h = 0; h < 12; h++)
            Assert.Equal(expected.Forecast[h], float.Parse(rows[h + 1].Split(',')[2], CultureInfo.InvariantCulture));
        AssertPng(File("forecast.png"));
    }

    [Fact]
    public void BacktestPrintsAccuracyPerStepAndDrawsTheOrigins()
    {
        var (code, output) = Run(["backtest", AirPassengers, "--origins", "2", "--no-refit", "--plot", File("backtest.png"), .. Fast]);
        Assert.True(code == 0, output);
        Assert.Contains("Accuracy per step ahead", output);
        Assert.Contains("MASE", output);
        Assert.Contains("Over 2 origins", output);
        AssertPng(File("backtest.png"));
    }

    [Fact]
    public void PlotDrawsASavedModelsDiagnostics()
    {
        Assert.Equal(0, Run(["fit", AirPassengers, "--model", File("air.zip"), .. Fast]).Code);
        var (code, output) = Run("plot", "--model", File("air.zip"), "--output", File("plots"));
        Assert.True(code == 0, output);
        Assert.Contains("no forecast picture", output);
        foreach (var png in new[] { "loss.png", "gradient-norm.png", "backward-signal.png", "spectrum.png" })
            AssertPng(Path.Combine(File("plots"), png));
    }

    [Fact]
    public void AutoClipIsAvailableFromTheCommandLine()
    {
        var (code, output) = Run(["fit", AirPassengers, "--model", File("auto.zip"), "--clip", "auto", .. Fast]);
        Assert.True(code == 0, output);
        var forecaster = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.LoadValidated(File("auto.zip"), out _));
        Assert.Equal(Core.Training.GradientClippingMode.AutoClip, forecaster.Diagnostics[0].Clipping.Mode);
    }

    [Theory]
    [InlineData("--value", "passengers", "value column 'passengers'")]
    [InlineData("--date", "month", "date column 'month'")]
    [InlineData("--clip", "sometimes", "--clip")]
    public void BadInputNamesTheColumnOrOptionAndExitsWithTwo(string option, string value, string expected)
    {
        var (code, output) = Run(["fit", AirPassengers, "--model", File("x.zip"), option, value, .. Fast]);
        Assert.Equal(2, code);
        Assert.Contains(expected, output);
        Assert.False(System.IO.File.Exists(File("x.zip")));
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var (code, output) = Run("fit", File("none.csv"), "--model", File("x.zip"));
        Assert.Equal(2, code);
        Assert.Contains("none.csv", output);
        (code, output) = Run("forecast", "--model", File("none.zip"));
        Assert.Equal(2, code);
        Assert.Contains("none.zip", output);
    }
}

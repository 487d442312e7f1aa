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
        // Baselines on the same origins, per step and overall, beside the model.
        Assert.Contains("MASE per step ahead, beside baselines", output);
        foreach (string baseline in new[] { "base alone", "seasonal naive (m = 12)", "naive" })
            Assert.Contains(baseline, output);
        Assert.Contains("Model and baselines over all steps", output);
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
    [Fact]
    public void ForecastObservesTheNewRowsWithTheirCovariates()
    {
        string Write(string name, int rows)
        {
            var lines = new List<string> { "date,value,temp" };
            for (int t = 0; t < rows; t++)
            {
                double temp = 10 + 8 * Math.Sin(2 * Math.PI * t / 12);
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{new DateTime(2000, 1, 1).AddMonths(t):yyyy-MM-dd},{50 + 0.2 * t + 1.5 * temp + t % 5:F3},{temp:F3}"));
            }
            System.IO.File.WriteAllLines(File(name), lines);
            return File(name);
        }
        Assert.Equal(0, Run(["fit", Write("train.csv", 90), "--model", File("cov.zip"), "--covariates", "temp", .. Fast]).Code);
        string all = Write("all.csv", 100);
        var (code, output) = Run("forecast", "--model", File("cov.zip"), "--data", all, "--output", File("forecast.csv"));
        Assert.True(code == 0, output);
        var engine = new MLContext().Model.LoadValidated(File("cov.zip"), out _).CreateForecastingEngine();
        foreach (var f in System.IO.File.ReadAllLines(all).Skip(91).Select(l => l.Split(',')))
            engine.Observe(float.Parse(f[1], CultureInfo.InvariantCulture), [float.Parse(f[2], CultureInfo.InvariantCulture)]);
        var expected = engine.Predict();
        var rows = System.IO.File.ReadAllLines(File("forecast.csv"));
        Assert.StartsWith("1,2008-05-01,", rows[1]);   // after the 100th month
        for (int h = 0; h < 12; h++)
            Assert.Equal(expected.Forecast[h], float.Parse(rows[h + 1].Split(',')[2], CultureInfo.InvariantCulture));
    }

    // ------------------------------------------------------------------ a file of many series

    /// <summary>Writes a panel CSV (product, date, sales): weekly seasonality, a level per product, <paramref name="days"/>
    /// rows each, products interleaved by date as an export from a database would be.</summary>
    private string Panel(string name, string[] products, int days)
    {
        var lines = new List<string> { "product,date,sales" };
        var start = new DateTime(2024, 1, 1);
        for (int t = 0; t < days; t++)
            for (int p = 0; p < products.Length; p++)
            {
                double v = 20 + 10 * p + 5 * Math.Sin(2 * Math.PI * t / 7 + p) + 0.03 * t + (t * 7919 + p * 104729) % 13 / 6.0;
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{products[p]},{start.AddDays(t):yyyy-MM-dd},{v:F3}"));
            }
        System.IO.File.WriteAllLines(File(name), lines);
        return File(name);
    }

    private static readonly string[] PanelFast = ["--series-id", "product", "--value", "sales", "--window", "14", "--horizon", "7", "--season", "7", .. Fast];

    [Fact]
    public void FitOnAFileOfManySeriesTrainsOneModelAndForecastsEverySeries()
    {
        string data = Panel("panel.csv", ["A", "B", "C"], 80);
        var (code, output) = Run(["fit", data, "--model", File("panel.zip"), .. PanelFast]);
        Assert.True(code == 0, output);
        Assert.Contains("3 series ('product'), 240 rows of 'sales'", output);
        Assert.Contains("Forecast of 3 series", output);
        Assert.Contains("2024-03-21", output);         // step 1 follows each series' last date (2024-03-20)
        var forecaster = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.LoadValidated(File("panel.zip"), out _));
        Assert.Equal(["A", "B", "C"], forecaster.SeriesIds);
        Assert.Equal("product", forecaster.SeriesIdColumnName);
    }

    [Fact]
    public void ForecastFromAModelOfManySeriesObservesEachSeriesNewRowsAndWritesEveryStepOfEverySeries()
    {
        Assert.Equal(0, Run(["fit", Panel("train.csv", ["A", "B"], 70), "--model", File("panel.zip"), .. PanelFast]).Code);
        // Ten more days of A and B, and a product the model never saw, started cold from its rows.
        string data = Panel("all.csv", ["A", "B", "N"], 80);
        var (code, output) = Run("forecast", "--model", File("panel.zip"), "--data", data, "--output", File("forecast.csv"), "--plot", File("b.png"), "--series", "B");
        Assert.True(code == 0, output);
        var rows = System.IO.File.ReadAllLines(File("forecast.csv"));
        Assert.Equal("series,step,date,forecast,lower,upper", rows[0]);
        Assert.Equal(1 + 3 * 7, rows.Length);
        Assert.StartsWith("A,1,2024-03-21,", rows[1]);
        Assert.Contains(rows, l => l.StartsWith("N,7,2024-03-27,", StringComparison.Ordinal));

        var engine = new MLContext().Model.LoadValidated(File("panel.zip"), out _).CreateForecastingEngine();
        var all = System.IO.File.ReadAllLines(data).Skip(1).Select(l => l.Split(',')).ToArray();
        foreach (var id in new[] { "A", "B", "N" })
        {
            // The model knows its dates (fit passes the date column), so a series new to it starts at its first date.
            var mine = all.Where(f => f[0] == id).ToArray();
            for (long i = engine.GetObservationCount(id); i < mine.Length; i++)
                engine.Observe(id, float.Parse(mine[i][2], CultureInfo.InvariantCulture), default, DateTime.Parse(mine[i][1], CultureInfo.InvariantCulture));
        }
        var expected = engine.PredictAll();
        foreach (var line in rows.Skip(1))
        {
            var f = line.Split(',');
            Assert.Equal(expected[f[0]].Forecast[int.Parse(f[1], CultureInfo.InvariantCulture) - 1], float.Parse(f[3], CultureInfo.InvariantCulture));
        }
        Assert.Contains("series 'B'", output);
        AssertPng(File("b.png"));
    }

    [Fact]
    public void ASeriesTooShortToForecastIsNamedWhenAskedToDrawIt()
    {
        Assert.Equal(0, Run(["fit", Panel("train.csv", ["A", "B"], 70), "--model", File("panel.zip"), .. PanelFast]).Code);
        var lines = System.IO.File.ReadAllLines(File("train.csv")).ToList();
        for (int t = 0; t < 5; t++) lines.Add($"S,2024-01-0{t + 1},{20 + t}");
        System.IO.File.WriteAllLines(File("short.csv"), lines);
        var (code, output) = Run("forecast", "--model", File("panel.zip"), "--data", File("short.csv"), "--plot", File("s.png"), "--series", "S");
        Assert.Equal(2, code);
        Assert.Contains("Series 'S' has no forecast: it has 5 values", output);
    }

    [Fact]
    public void BacktestOnAFileOfManySeriesScoresEachSeries()
    {
        string data = Panel("panel.csv", ["A", "B", "C"], 80);
        // A product launched 20 days before the end: too short to forecast at the first of two origins of 7.
        System.IO.File.AppendAllLines(data, Enumerable.Range(60, 20).Select(t => string.Create(CultureInfo.InvariantCulture, $"New,{new DateTime(2024, 1, 1).AddDays(t):yyyy-MM-dd},{30 + t % 7}")));
        var (code, output) = Run(["backtest", data, "--origins", "2", "--no-refit", "--plot", File("c.png"), "--series", "C", .. PanelFast]);
        Assert.True(code == 0, output);
        Assert.Contains("Accuracy per series", output);
        Assert.Contains("Over 3 series, 6 origins", output);
        Assert.Contains("Left out, too short to forecast at the first origin: New.", output);
        AssertPng(File("c.png"));
    }

    [Fact]
    public void ARowWithoutASeriesIdIsRefusedNamingTheRowAndColumn()
    {
        string data = Panel("panel.csv", ["A", "B"], 40);
        var lines = System.IO.File.ReadAllLines(data);
        lines[5] = "," + lines[5].Split(',', 2)[1];
        System.IO.File.WriteAllLines(data, lines);
        var (code, output) = Run(["fit", data, "--model", File("x.zip"), .. PanelFast]);
        Assert.Equal(2, code);
        Assert.Contains("Row 6", output);
        Assert.Contains("series id column 'product' is empty", output);
        (code, output) = Run(["fit", data, "--model", File("x.zip"), .. PanelFast[2..], "--series-id", "store"]);
        Assert.Equal(2, code);
        Assert.Contains("series id column 'store'", output);
    }
    /// <summary>A panel with promotions known in advance and a category per product; the last <paramref name="ahead"/>
    /// days of each product leave the sales empty (the steps to forecast, with their promotions).</summary>
    private string PromoPanel(string name, int days, int ahead)
    {
        var lines = new List<string> { "product,date,sales,promo,category" };
        string[] products = ["A", "B", "C"], categories = ["fresh", "dry", "fresh"];
        for (int t = 0; t < days + ahead; t++)
            for (int p = 0; p < products.Length; p++)
            {
                int promo = (t * 3 + p * 5) % 9 == 0 ? 1 : 0;
                double v = 20 + 10 * p + 4 * Math.Sin(2 * Math.PI * t / 7) + 12 * promo + (t * 7919 + p * 104729) % 11 / 5.0;
                string sales = t < days ? v.ToString("F3", CultureInfo.InvariantCulture) : "";
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{products[p]},{new DateTime(2024, 1, 1).AddDays(t):yyyy-MM-dd},{sales},{promo},{categories[p]}"));
            }
        System.IO.File.WriteAllLines(File(name), lines);
        return File(name);
    }

    [Fact]
    public void KnownFutureAndStaticColumnsReachTheModelAndForecastReadsThePromotionsOfTheStepsAhead()
    {
        var (code, output) = Run(["fit", PromoPanel("train.csv", 80, 0), "--model", File("promo.zip"), "--known-future", "promo", "--static", "category", .. PanelFast]);
        Assert.True(code == 0, output);
        Assert.Contains("`forecast --data` as rows that leave the value empty", output);
        var model = Assert.IsType<RnnForecastingTransformer>(new MLContext().Model.LoadValidated(File("promo.zip"), out _));
        Assert.Equal(["promo"], model.KnownFutureColumnNames);
        Assert.Equal(["category"], model.StaticFeatureColumnNames);

        string data = PromoPanel("ahead.csv", 84, 7);   // four more days observed, then the week to forecast
        (code, output) = Run("forecast", "--model", File("promo.zip"), "--data", data, "--output", File("forecast.csv"));
        Assert.True(code == 0, output);
        var engine = model.CreateForecastingEngine();
        var rows = System.IO.File.ReadAllLines(data).Skip(1).Select(l => l.Split(',')).ToArray();
        var futures = new Dictionary<string, IReadOnlyDictionary<string, float[]>>();
        foreach (var id in new[] { "A", "B", "C" })
        {
            var mine = rows.Where(f => f[0] == id).ToArray();
            foreach (var f in mine.Where(f => f[2].Length > 0).Skip(80))
                engine.Observe(id, float.Parse(f[2], CultureInfo.InvariantCulture), [float.Parse(f[3], CultureInfo.InvariantCulture)]);
            futures[id] = new Dictionary<string, float[]> { ["promo"] = mine.Where(f => f[2].Length == 0).Select(f => float.Parse(f[3], CultureInfo.InvariantCulture)).ToArray() };
        }
        var expected = engine.PredictAll(futureCovariates: futures);
        var written = System.IO.File.ReadAllLines(File("forecast.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(21, written.Length);
        Assert.StartsWith("2024-03-25", written[0][2]);
        foreach (var f in written)
            Assert.Equal(expected[f[0]].Forecast[int.Parse(f[1], CultureInfo.InvariantCulture) - 1], float.Parse(f[3], CultureInfo.InvariantCulture));

        // Without the steps to forecast, the engine's message names the column.
        (code, output) = Run("forecast", "--model", File("promo.zip"), "--data", PromoPanel("none.csv", 84, 0));
        Assert.Equal(2, code);
        Assert.Contains("promo", output);
        // A value after the steps to forecast is refused, naming the row.
        var lines = System.IO.File.ReadAllLines(data).ToList();
        lines.Add("A,2024-04-01,30,0,fresh");
        System.IO.File.WriteAllLines(data, lines);
        (code, output) = Run("forecast", "--model", File("promo.zip"), "--data", data);
        Assert.Equal(2, code);
        Assert.Contains($"Row {lines.Count} of", output);
        Assert.Contains("series 'A' has a value after a row without one", output);
    }
}

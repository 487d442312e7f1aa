using System.Text.RegularExpressions;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Data;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;
using MLNetRnn.Plots;
using ScottPlot;

namespace MLNetRnn.Cli.Tests;

/// <summary>What the pictures show, read off the plots before they become pixels: the x range of a forecast on a long
/// series, the date labels, where the legend sits, the titles and labels that say which member is drawn and what
/// best epoch −1 means.</summary>
public sealed class PlotTests
{
    private static readonly Regex IsoLabel = new(@"^\d{4}(-\d{2}(-\d{2}( \d{2}:\d{2})?)?)?$");

    /// <summary>Ten years of a daily series (weekly and yearly season, trend, noise) and a 14-day forecast past its end.</summary>
    private static ForecastPlotData TenYearsDaily(bool showAll = false)
    {
        var random = new Random(3);
        var dates = Enumerable.Range(0, 3653).Select(d => new DateTime(2015, 1, 1).AddDays(d)).ToArray();
        float[] values = dates.Select((_, t) => (float)(200 + 0.03 * t + 15 * Math.Sin(2 * Math.PI * t / 7) + 40 * Math.Sin(2 * Math.PI * t / 365.25) + 6 * random.NextDouble())).ToArray();
        float[] forecast = Enumerable.Range(0, 14).Select(h => values[values.Length - 7 + h % 7]).ToArray();
        return new ForecastPlotData(values, [new ForecastPath(values.Length - 1, forecast, forecast.Select(v => v - 10).ToArray(), forecast.Select(v => v + 10).ToArray())],
            dates, "sales", 0.9f, SeasonalPeriod: 7, ShowAll: showAll);
    }

    /// <summary>Renders the plot (which sets its axis limits and ticks) at the size the files have.</summary>
    private static Plot Rendered(Plot plot)
    {
        plot.GetImage(1100, 620).Dispose();
        return plot;
    }

    [Fact]
    public void AForecastOnTenYearsOfDailyDataShowsTheRecentWeeksAndTheForecastTakesAReadableShareOfTheAxis()
    {
        var data = TenYearsDaily();
        var plot = Rendered(ForecastPlots.Build(data, null));
        var x = plot.Axes.GetLimits();
        double lastObserved = data.Dates![^1].ToOADate(), lastForecast = lastObserved + 14;
        int recent = ForecastPlots.RecentValues(horizon: 14, seasonalPeriod: 7);
        Assert.Equal(84, recent);   // six horizons: longer than three weeks
        Assert.InRange(x.Left, data.Dates[^recent].ToOADate() - 5, data.Dates[^recent].ToOADate());
        Assert.True((lastForecast - lastObserved) / (x.Right - x.Left) > 0.12, $"The forecast takes {(lastForecast - lastObserved) / (x.Right - x.Left):P1} of the axis.");
        Assert.Contains("the last 84 of 3,653 values", plot.Axes.Bottom.Label.Text);

        var whole = Rendered(ForecastPlots.Build(TenYearsDaily(showAll: true), null)).Axes.GetLimits();
        Assert.True(whole.Left <= data.Dates[0].ToOADate(), "ShowAll does not draw the series from its start.");
    }

    [Theory]
    [InlineData(14, 7, 84)]      // daily, weekly season: six horizons
    [InlineData(12, 12, 72)]     // monthly: six horizons, six years
    [InlineData(48, 168, 504)]   // hourly, weekly season: three seasons, longer than six horizons
    [InlineData(14, 365, 280)]   // daily, yearly season: three years would squeeze the forecast; twenty horizons at most
    public void TheRecentStretchIsSixHorizonsOrThreeSeasonsButAtMostTwentyHorizons(int horizon, int season, int expected)
        => Assert.Equal(expected, ForecastPlots.RecentValues(horizon, season));

    [Fact]
    public void ASeriesNotMuchLongerThanTheRecentStretchIsDrawnWhole()
    {
        // AirPassengers' length, forecast 12 months: 72 recent values of 100 would hide too little to be worth it.
        var data = new ForecastPlotData(new float[100], [new ForecastPath(99, new float[12])]);
        Assert.Equal(0, ForecastPlots.FirstShown(data));
        Assert.Equal(200 - 72, ForecastPlots.FirstShown(data with { Actual = new float[200], Paths = [new ForecastPath(199, new float[12])] }));
    }

    [Fact]
    public void ABacktestIsDrawnFromTheRecentStretchBeforeItsFirstOrigin()
    {
        var data = TenYearsDaily();
        int n = data.Actual.Length;
        var backtest = data with { Paths = new[] { 14, 28, 42 }.Select(back => new ForecastPath(n - 1 - back, new float[14])).ToArray() };
        Assert.Equal(n - 1 - 42 + 1 - 84, ForecastPlots.FirstShown(backtest));
    }

    [Theory]
    [InlineData(84 * 24.0, 1000)]        // twelve weeks of days
    [InlineData(3653 * 24.0, 1000)]      // ten years
    [InlineData(700 * 24.0, 1000)]       // two years
    [InlineData(48.0, 1000)]             // two days of hours
    [InlineData(84 * 24.0, 300)]         // a narrow axis
    public void DateTicksAreLabelledTheIsoWay(double hours, double pixels)
    {
        var start = new DateTime(2023, 3, 17, 5, 0, 0);
        var ticks = IsoDateTicks.Generate(start.ToOADate(), start.AddHours(hours).ToOADate(), pixels);
        Assert.True(ticks.Length >= 2, $"{ticks.Length} ticks");
        Assert.All(ticks, t => Assert.Matches(IsoLabel, t.Label));
        Assert.All(ticks, t => Assert.InRange(t.Position, start.ToOADate(), start.AddHours(hours).ToOADate()));
        // Labels that fit side by side: about 8 px a character.
        Assert.True(ticks.Sum(t => t.Label.Length * 8) < pixels, string.Join(" ", ticks.Select(t => t.Label)));
    }

    [Fact]
    public void TheForecastPicturesDateAxisIsLabelledTheIsoWay()
    {
        var plot = Rendered(ForecastPlots.Build(TenYearsDaily(), null));
        var labels = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Label).ToArray();
        Assert.True(labels.Length >= 3, string.Join(" ", labels));
        Assert.All(labels, l => Assert.Matches(IsoLabel, l));
    }

    [Fact]
    public void LegendsSitOutsideTheData()
    {
        var runs = TinyEnsemble(members: 2);
        var pictures = TrainingPlots.All(runs).Select(p => p.Plot).Append(ForecastPlots.Build(TenYearsDaily(), null));
        foreach (var plot in pictures.Select(Rendered))
        {
            // A legend on an edge is a panel beside the data area; the legend inside the data area is hidden.
            Assert.False(plot.Legend.IsVisible, $"'{plot.Axes.Title.Label.Text}' draws its legend over the data.");
            Assert.Contains(plot.Axes.GetPanels(), p => p is ScottPlot.Panels.LegendPanel);
        }
    }

    [Fact]
    public void PicturesOfOneMemberOfAnEnsembleSayWhichMemberInTheTitle()
    {
        var pictures = TrainingPlots.All(TinyEnsemble(members: 2), "sales").ToDictionary(p => p.File, p => p.Plot.Axes.Title.Label.Text);
        Assert.Contains("member 1 of 2", pictures[TrainingPlots.Files.BackwardSignal]);
        Assert.Contains("member 1 of 2", pictures[TrainingPlots.Files.Spectrum]);
        // The gradient-norm picture draws every member's curve but only the first member's clipped steps.
        var gradient = TrainingPlots.All(TinyEnsemble(members: 2)).Single(p => p.File == TrainingPlots.Files.GradientNorm).Plot;
        Assert.Contains(gradient.Legend.GetItems(), i => i.LabelText.StartsWith("member 1: clipped", StringComparison.Ordinal));

        var single = TrainingPlots.All(TinyEnsemble(members: 1), "sales").ToDictionary(p => p.File, p => p.Plot.Axes.Title.Label.Text);
        Assert.DoesNotContain("member", single[TrainingPlots.Files.BackwardSignal]);
    }

    [Fact]
    public void TheLossPictureSaysWhichMembersKeptTheirInitialWeightsAsBestEpochMinusOne()
    {
        var network = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 1, HiddenSizes = [4], OutputSize = 1 }, seed: 0);
        TrainingDiagnostics Run(int bestEpoch) => TrainingDiagnostics.FromCurves(network, null, [0.5f, 0.4f, 0.3f], [0.5f, 0.4f, 0.3f],
            trainingLoss: [1.0, 0.8, 0.7], validationLoss: [1.1, 1.2, 1.3], bestEpoch, stoppedEarly: true, restoredBestWeights: true);

        string label = TrainingPlots.LossPlot([Run(1), Run(-1), Run(-1)]).Axes.Bottom.Label.Text;
        Assert.Contains("members 2 and 3 kept the initial weights", label);
        Assert.Contains("best epoch −1", label);
        Assert.DoesNotContain("best epoch −1", TrainingPlots.LossPlot([Run(1), Run(2)]).Axes.Bottom.Label.Text);
        Assert.Contains("initial ones", TrainingPlots.SpectrumPlot(Run(-1)).Axes.Bottom.Label.Text);
    }

    [Fact]
    [Trait("Category", "Slow")]   // two fits and two backtests: about ten seconds
    public void PlotAllDrawsTheWholeSeriesInTheForecastPictureOfEveryCommandThatDrawsOne()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnetrnn-plots-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string csv = Path.Combine(AppContext.BaseDirectory, "Data", "AirPassengers.csv");
            string model = Path.Combine(dir, "air.zip");
            string[] fast = ["--epochs", "2", "--ensemble", "1", "--hidden", "4"];
            // AirPassengers is 144 months; a 12-month forecast shows the last 72 unless --plot-all. The pictures differ.
            void Picture(string name, bool all, params string[] command)
            {
                string png = Path.Combine(dir, name);
                var (code, output) = CliTests.Run([.. command.Select(a => a.Replace("{png}", png, StringComparison.Ordinal)), .. all ? new[] { "--plot-all" } : []]);
                Assert.True(code == 0, output);
            }
            bool Same(string a, string b) => File.ReadAllBytes(a).AsSpan().SequenceEqual(File.ReadAllBytes(b));
            Picture("fit", all: false, ["fit", csv, "--model", model, "--plots", "{png}", .. fast]);
            Picture("fit-all", all: true, ["fit", csv, "--model", model, "--plots", "{png}", .. fast]);
            Assert.False(Same(Path.Combine(dir, "fit", ForecastPlots.FileName), Path.Combine(dir, "fit-all", ForecastPlots.FileName)), "fit --plot-all changes nothing");
            foreach (var (name, command) in new (string, string[])[]
            {
                ("forecast", ["forecast", "--model", model, "--data", csv, "--plot", "{png}"]),
                ("backtest", ["backtest", csv, "--origins", "1", "--no-refit", "--plot", "{png}", .. fast]),
            })
            {
                Picture(name + ".png", all: false, command);
                Picture(name + "-all.png", all: true, command);
                Assert.False(Same(Path.Combine(dir, name + ".png"), Path.Combine(dir, name + "-all.png")), $"{name} --plot-all changes nothing");
            }
            Picture("plot", all: false, ["plot", "--model", model, "--data", csv, "--output", "{png}"]);
            Picture("plot-all", all: true, ["plot", "--model", model, "--data", csv, "--output", "{png}"]);
            Assert.False(Same(Path.Combine(dir, "plot", ForecastPlots.FileName), Path.Combine(dir, "plot-all", ForecastPlots.FileName)), "plot --plot-all changes nothing");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Members trained for two epochs on a tiny adding problem, clipped at a threshold every step exceeds.</summary>
    private static TrainingDiagnostics[] TinyEnsemble(int members)
        => Enumerable.Range(0, members).Select(seed =>
        {
            var network = new RecurrentNetwork(new RecurrentNetworkSpec { Cell = RecurrentCellKind.Gru, InputSize = 2, HiddenSizes = [4], OutputSize = 1 }, seed);
            var trainer = new RecurrentTrainer(network, new TrainingOptions
            {
                Epochs = 2, BatchSize = 16, GradientClipping = GradientClippingMode.GlobalNorm, GradientClippingThreshold = 1e-6f, Seed = seed,
            });
            return trainer.FitWithDiagnostics(SyntheticTasks.AddingProblem(count: 64, steps: 8, seed: seed), SyntheticTasks.AddingProblem(count: 16, steps: 8, seed: 100 + seed)).Diagnostics;
        }).ToArray();
}

using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNetRnn.Tests.Forecasting;
using MLNetRnn.Tests.Regression;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Training;

/// <summary>Messages put numbers and nouns in agreement (issue 21: "has 1 rows"): one row, one time step, one epoch,
/// several rows; no "(s)".</summary>
public sealed class NumberAgreementTests
{
    private readonly MLContext _ml = new(seed: 0);

    [Theory]
    [InlineData(0, "0 rows")]
    [InlineData(1, "1 row")]
    [InlineData(2, "2 rows")]
    [InlineData(-1, "-1 rows")]
    public void CountedPutsTheNounInTheNumbersForm(long n, string expected)
    {
        Assert.Equal(expected, MLNetRnn.Training.Counted.Of(n, "row"));
        Assert.Equal(expected, MLNetRnn.Core.Training.Counted.Of(n, "row"));
    }

    [Fact]
    public void CountedTakesAnIrregularPlural()
    {
        Assert.Equal("1 series", MLNetRnn.Training.Counted.Of(1, "series", "series"));
        Assert.Equal("3 series", MLNetRnn.Training.Counted.Of(3, "series", "series"));
        Assert.Equal("12000 values", MLNetRnn.Training.Counted.Of(12_000, "value"));   // invariant digits, no grouping
    }

    [Fact]
    public void ASeriesOfOneRowIsCalledOneRow()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, [100f])));

        Assert.Contains("Input column 'Value' has 1 row;", ex.Message);
    }

    [Fact]
    public void AGapOfOneStepIsCalledOneTimeStep()
    {
        var series = Seasonal(80, seed: 1);
        var options = Fast(window: 12, horizon: 3);
        options.Epochs = 2;
        options.DateColumnName = nameof(DatedRow.Date);
        var start = new DateTime(2000, 1, 1);
        var model = _ml.Forecasting.ForecastByRnn(options)
            .Fit(_ml.Data.LoadFromEnumerable(series.Select((v, i) => new DatedRow { Date = start.AddMonths(i), Value = v })));
        var engine = model.CreateForecastingEngine();

        var ex = Assert.Throws<ArgumentException>(() => engine.Observe("", 1f, default, start.AddMonths(81)));

        Assert.Contains("1 time step of", ex.Message);
        // A single-series model's series has no id: it is "the series", and its step is said in words.
        Assert.StartsWith("The series has a gap", ex.Message);
        Assert.Contains("of 1 month missing", ex.Message);
    }

    [Theory]
    [InlineData(0, 24 * 36_000_000_000L, "1 day")]
    [InlineData(0, 7 * 24 * 36_000_000_000L, "7 days")]
    [InlineData(0, 36_000_000_000L, "1 hour")]
    [InlineData(0, 90 * 600_000_000L, "90 minutes")]
    [InlineData(0, 15_000_000L, "00:00:01.5000000")]
    [InlineData(1, 0, "1 month")]
    [InlineData(3, 0, "3 months")]
    public void ATimeStepIsSaidInWords(int months, long ticks, string expected)
        => Assert.Equal(expected, new MLNetRnn.TimeStep(months, ticks).ToString());

    [Fact]
    public void AModelWithOneValueOfANewSeriesSaysOneValue()
    {
        var rows = PanelTestData.Retail(3, 60);
        var model = _ml.Forecasting.ForecastByRnn(PanelTestData.FastPanel()).Fit(PanelTestData.View(_ml, rows));
        var engine = model.CreateForecastingEngine();
        engine.Observe("P99999", 5f);

        var ex = Assert.Throws<InvalidOperationException>(() => engine.Predict("P99999"));

        Assert.Contains("Series 'P99999' has 1 value;", ex.Message);
    }

    [Fact]
    public void EarlyStoppingAfterOneEpochSaysOneEpoch()
    {
        var messages = new List<string>();
        _ml.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        var options = RegressionTestData.Fast();
        options.EarlyStoppingPatience = 1;
        options.Epochs = 200;

        _ml.Regression.Trainers.Rnn(options).Fit(RegressionTestData.View(_ml, RegressionTestData.Rows(RegressionTestData.SeasonalTrend(100, seed: 7))));

        Assert.Contains(messages, m => m.Contains("(stopped early: no improvement in 1 epoch)", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => System.Text.RegularExpressions.Regex.IsMatch(m, @"\b1 epochs"));
    }
}

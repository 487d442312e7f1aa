using Microsoft.ML;
using Microsoft.ML.Data;
using static MLNetRnn.Tests.Forecasting.ForecastingTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>Every bad input is refused before training with an exception that names the column or option.</summary>
public sealed class ForecastingBadInputTests
{
    private readonly MLContext _ml = new(seed: 0);

    private sealed class VectorRow
    {
        [VectorType(2)] public float[] Value { get; set; } = [0, 0];
    }

    private sealed class DoubleRow
    {
        public double Value { get; set; }
    }

    private static void Names<T>(Action act, string name) where T : Exception
    {
        var ex = Assert.ThrowsAny<T>(act);
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingColumnIsNamed()
    {
        var o = Fast(); o.InputColumnName = "Passengers";
        Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, Seasonal(80, 1))), "'Passengers'");
    }

    [Fact]
    public void MissingCovariateIsNamed()
    {
        var o = Fast(); o.CovariateColumnNames = ["Holiday"];
        Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, Seasonal(80, 1))), "'Holiday'");
    }

    [Fact]
    public void WrongColumnTypeIsNamed()
    {
        var vectors = _ml.Data.LoadFromEnumerable(Enumerable.Range(0, 80).Select(_ => new VectorRow()));
        Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn(Fast()).Fit(vectors), "'Value': expected Single");
        var doubles = _ml.Data.LoadFromEnumerable(Enumerable.Range(0, 80).Select(i => new DoubleRow { Value = i }));
        Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn(Fast()).Fit(doubles), "'Value': expected Single");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteValueIsNamedWithItsRow(float bad)
    {
        var series = Seasonal(80, 1);
        series[17] = bad;
        Names<InvalidOperationException>(() => _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, series)), "row 17");
    }

    [Fact]
    public void SeriesShorterThanWindowPlusHorizonIsRefused()
        => Names<InvalidOperationException>(() => _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, Seasonal(29, 1))), "needs at least 30");

    [Fact]
    public void EmptyDataViewIsRefused()
        => Names<InvalidOperationException>(() => _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, [])), "empty");

    [Theory]
    [InlineData(0, 6, 1, 0.9f, "WindowSize")]
    [InlineData(24, 0, 1, 0.9f, "Horizon")]
    [InlineData(24, 6, -1, 0.9f, "SeasonalPeriod")]
    [InlineData(24, 6, 1, 1f, "ConfidenceLevel")]
    [InlineData(24, 6, 1, 0f, "ConfidenceLevel")]
    public void OutOfRangeArgumentsAreNamed(int window, int horizon, int season, float level, string name)
        => Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn("F", "Value", window, horizon, season, confidenceLevel: level), name);

    [Fact]
    public void ContradictoryOptionsAreNamed()
    {
        var o = Fast(); o.Strategy = ForecastingStrategy.Recursive; o.CovariateColumnNames = ["Promo"];
        Names<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o), "covariates");
        o = Fast(); o.TruncationLength = 30;
        Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn(o), "TruncationLength");
        o = Fast(); o.GradientClippingThreshold = 0f;
        Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn(o), "GradientClippingThreshold");
        o = Fast(); o.HiddenSizes = [16, 0];
        Names<ArgumentOutOfRangeException>(() => _ml.Forecasting.ForecastByRnn(o), "HiddenSizes");
        o = Fast(); o.VanishingRegularizerWeight = 0.5f;   // GRU: Ω is defined for Elman cells
        Names<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o), "VanishingRegularizerWeight");
        o = Fast(); o.ConfidenceUpperBoundColumn = "Forecast";
        Names<ArgumentException>(() => _ml.Forecasting.ForecastByRnn(o), "distinct");
    }

    [Fact]
    public void TransformChecksTheSchemaUpFront()
    {
        var model = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, Seasonal(80, 1)));
        var vectors = _ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3).Select(_ => new VectorRow()));
        Names<ArgumentOutOfRangeException>(() => model.Transform(vectors), "'Value'");
    }

    [Fact]
    public void EngineRefusesBadObservations()
    {
        var engine = _ml.Forecasting.ForecastByRnn(Fast()).Fit(View(_ml, Seasonal(80, 1))).CreateForecastingEngine();
        Names<ArgumentException>(() => engine.Observe(float.NaN), "finite");
        Names<ArgumentException>(() => engine.Observe(1f, [2f]), "covariate");
        Names<ArgumentOutOfRangeException>(() => engine.Predict(horizon: 7, confidenceLevel: 0.9f), "horizon");
        Names<ArgumentOutOfRangeException>(() => engine.Predict(horizon: 2, confidenceLevel: 1.5f), "confidenceLevel");
    }
}

using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Persistence;
using MLNetRnn.Samples;
using MLNetRnn.Tests.Persistence;
using static MLNetRnn.Tests.Forecasting.PanelTestData;

namespace MLNetRnn.Tests.Forecasting;

/// <summary>Many series, one model: grouping by series id, one ensemble with each series' own base and scaling,
/// known-future covariates, quantile heads, the engine and backtest per series, cold starts, persistence.</summary>
public sealed class GlobalForecastingTests : IDisposable
{
    private readonly MLContext _ml = new(seed: 0);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void PanelTrainsOneEnsembleAndForecastsEverySeriesInItsOwnUnits()
    {
        var rows = Retail(8, 120);
        var model = _ml.Forecasting.ForecastByRnn(FastPanel()).Fit(View(_ml, rows));
        var ids = rows.Select(r => r.Product).Distinct().ToArray();
        Assert.Equal(ids, model.SeriesIds);
        Assert.Equal(8, model.TrainingSummary.Series.Count);
        Assert.Single(model.TrainingSummary.Members);
        Assert.Equal(rows.Length - 8 * (14 + 7 - 1), model.TrainingSummary.TotalWindows);
        var engine = model.CreateForecastingEngine();
        foreach (string id in ids)
        {
            // Sizes differ by two orders of magnitude across the panel; each forecast is in its series' own units.
            double recent = rows.Where(r => r.Product == id).TakeLast(14).Average(r => r.Sales);
            double forecast = engine.Predict(id).Forecast.Average();
            Assert.InRange(forecast / recent, 0.5, 2.0);
            Assert.Equal(120, engine.GetObservationCount(id));
        }
        var ex = Assert.Throws<InvalidOperationException>(() => engine.Predict());
        Assert.Contains("name one", ex.Message);
    }

    [Fact]
    public void InterleavedRowsGiveTheSameModelAsGroupedRows()
    {
        var rows = Retail(5, 90);
        var grouped = _ml.Forecasting.ForecastByRnn(FastPanel()).Fit(View(_ml, rows)).CreateForecastingEngine().PredictAll();
        // Day by day, products interleaved; series are numbered in order of first appearance, as in the grouped rows.
        var interleaved = rows.OrderBy(r => r.Date).ThenBy(r => r.Product).ToArray();
        var model = _ml.Forecasting.ForecastByRnn(FastPanel()).Fit(View(_ml, interleaved));
        var again = model.CreateForecastingEngine().PredictAll();
        foreach (var (id, f) in grouped)
            Assert.True(SameBits(f.Forecast, again[id].Forecast) && SameBits(f.UpperBound, again[id].UpperBound), $"series {id} differs");
    }

    [Fact]
    public void APanelOfOneSeriesIsTheSingleSeriesModel()
    {
        var rows = Retail(1, 150);
        var panel = _ml.Forecasting.ForecastByRnn(FastPanel()).Fit(View(_ml, rows)).CreateForecastingEngine().Predict("P00000");
        var o = FastPanel();
        o.SeriesIdColumnName = null;
        var single = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows)).CreateForecastingEngine().Predict();
        Assert.True(SameBits(single.Forecast, panel.Forecast) && SameBits(single.LowerBound, panel.LowerBound));
    }

    [Fact]
    public void KnownFuturePromotionsImproveTheForecast()
    {
        // Promotions lift sales by 60–180%; planned in advance, they are known for the forecast's days.
        var rows = Retail(12, 200, seed: 3);
        var with = FastPanel();
        with.KnownFutureColumnNames = ["Promo"];
        with.MaximumSteps = 800;
        var without = FastPanel();
        without.MaximumSteps = 800;
        double a = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(with), View(_ml, rows), origins: 2).Mase;
        double b = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(without), View(_ml, rows), origins: 2).Mase;
        Assert.True(a < 0.75 * b, $"MASE with the promotions known {a:F3}, without them {b:F3}");
    }

    [Fact]
    public void TransformReadsKnownFutureCovariatesFromTheRowsAhead()
    {
        var rows = Retail(3, 200);
        var o = FastPanel();
        o.KnownFutureColumnNames = ["Promo"];
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows.Where(r => (r.Date - rows[0].Date).Days < 150)));
        var transformed = model.Transform(View(_ml, rows));
        var forecasts = transformed.GetColumn<float[]>("Forecast").ToArray();
        var product = transformed.GetColumn<string>("Product").ToArray();
        var engine = model.CreateForecastingEngine();
        string id = "P00001";
        var own = rows.Where(r => r.Product == id).ToArray();
        for (int t = 150; t < 160; t++) engine.Observe(id, own[t].Sales, [own[t].Promo]);
        // Transform's row 159 of the series saw rows 0..159 and reads the promotions of its next 7 rows.
        int row = Enumerable.Range(0, product.Length).Where(i => product[i] == id).ElementAt(159);
        var expected = engine.Predict(id, futureCovariates: Promotions(rows, id, 160, 7)).Forecast;
        Assert.True(SameBits(expected, forecasts[row]), "Transform's forecast differs from the engine's with the same promotions");
        // The last rows have no 7 rows ahead: their forecast is NaN, not made up.
        int last = Enumerable.Range(0, product.Length).Last(i => product[i] == id);
        Assert.All(forecasts[last], v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void PredictAllEqualsPredictingEachSeries()
    {
        var rows = Retail(6, 100);
        var o = FastPanel();
        o.KnownFutureColumnNames = ["Promo"];
        o.Quantiles = [0.1f, 0.9f];
        var engine = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows)).CreateForecastingEngine();
        var ids = engine.SeriesIds;
        var futures = ids.ToDictionary(id => id, id => (IReadOnlyDictionary<string, float[]>)new Dictionary<string, float[]> { ["Promo"] = Enumerable.Range(0, 7).Select(k => k % 3 == 0 ? 1f : 0f).ToArray() });
        var all = engine.PredictAll(futureCovariates: futures);
        Assert.Equal(ids.Count, all.Count);
        foreach (string id in ids)
        {
            var one = engine.Predict(id, futureCovariates: futures[id].ToDictionary(p => p.Key, p => p.Value));
            Assert.True(SameBits(one.Forecast, all[id].Forecast) && SameBits(one.LowerBound, all[id].LowerBound) && SameBits(one.Quantiles, all[id].Quantiles), $"series {id}");
        }
    }

    [Fact]
    public void EngineStartsAnUnseenSeriesColdAndCheckpointsIt()
    {
        var rows = Retail(7, 100);
        var model = _ml.Forecasting.ForecastByRnn(FastPanel()).Fit(View(_ml, rows.Where(r => r.Product != "P00006")));
        var engine = model.CreateForecastingEngine();
        Assert.Contains("unknown", Assert.Throws<InvalidOperationException>(() => engine.Predict("P00006")).Message);
        var fresh = rows.Where(r => r.Product == "P00006").ToArray();
        foreach (var r in fresh.Take(10)) engine.Observe("P00006", r.Sales);
        Assert.Contains("at least 14", Assert.Throws<InvalidOperationException>(() => engine.Predict("P00006")).Message);
        foreach (var r in fresh.Skip(10)) engine.Observe("P00006", r.Sales);
        var cold = engine.Predict("P00006");
        Assert.InRange(cold.Forecast.Average() / fresh.TakeLast(14).Average(r => r.Sales), 0.5, 2.0);
        Assert.Contains("P00006", engine.SeriesIds);

        string path = _dir.File("checkpoint.zip");
        engine.CheckPoint(_ml, path);
        var restarted = _ml.Model.Load(path, out _).CreateForecastingEngine();
        Assert.Equal(100, restarted.GetObservationCount("P00006"));
        Assert.True(SameBits(cold.Forecast, restarted.Predict("P00006").Forecast));
        // The original model did not learn of the new series.
        Assert.DoesNotContain("P00006", model.SeriesIds);
    }

    [Fact]
    public void ACheckPointKeepsTheSeriesObservedButNotYetStarted()
    {
        // A new product observed a day at a time by a service that checkpoints every day: before it has a window's worth
        // of history it cannot start, and a restarted engine must still have what was observed of it, dates and
        // promotions included, or the product would never start.
        var rows = Retail(7, 100);
        var o = FastPanel();
        o.DateColumnName = "Date";
        o.KnownFutureColumnNames = ["Promo"];
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows.Where(r => r.Product != "P00006")));
        var fresh = rows.Where(r => r.Product == "P00006").ToArray();
        var promo = new Dictionary<string, float[]> { ["Promo"] = new float[7] };

        var engine = model.CreateForecastingEngine();
        ITransformer current = model;
        foreach (var (r, day) in fresh.Take(13).Select((r, i) => (r, i)))   // a window is 14: not started yet
        {
            var restarted = current.CreateForecastingEngine();
            Assert.Equal(day, restarted.GetObservationCount("P00006"));
            restarted.Observe("P00006", r.Sales, [r.Promo], r.Date);
            engine.Observe("P00006", r.Sales, [r.Promo], r.Date);
            string path = _dir.File($"day{day}.zip");
            restarted.CheckPoint(_ml, path);
            current = _ml.Model.Load(path, out _);
        }
        var last = current.CreateForecastingEngine();
        foreach (var r in fresh.Skip(13).Take(7))
        {
            engine.Observe("P00006", r.Sales, [r.Promo], r.Date);
            last.Observe("P00006", r.Sales, [r.Promo], r.Date);
        }
        Assert.True(SameBits(engine.Predict("P00006", futureCovariates: promo).Forecast, last.Predict("P00006", futureCovariates: promo).Forecast));
        // The saved series kept its last date: the day after the next is a gap of one.
        var gap = current.CreateForecastingEngine();
        Assert.Contains("1 time step of", Assert.Throws<ArgumentException>(() => gap.Observe("P00006", 1f, [0f], fresh[14].Date)).Message);
    }

    [Fact]
    public void SeriesShorterThanTheWindowAreKeptPendingAndStartOnceAWindowIsObserved()
    {
        // A product launched 10 days ago (a window is 14) does not fail the panel's fit: it is left out of training, kept
        // with what the data had of it, and an engine starts it as soon as it has a window of it.
        var rows = Retail(4, 100);
        var launch = rows.Where(r => r.Product == "P00002").ToArray();
        var train = rows.Where(r => r.Product != "P00002").Concat(launch.Take(10)).ToArray();
        var o = FastPanel();
        o.DateColumnName = "Date";
        o.KnownFutureColumnNames = ["Promo"];
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, train));
        Assert.Equal(["P00000", "P00001", "P00003"], model.SeriesIds);
        Assert.Equal(["P00002"], model.PendingSeriesIds);
        Assert.Contains(model.TrainingSummary.Notes, n => n.Contains("'P00002'") && n.Contains("shorter than the window"));

        // Not trained on: the model is the model of the other three.
        var without = new MLContext(seed: 0).Forecasting.ForecastByRnn(o).Fit(View(_ml, rows.Where(r => r.Product != "P00002")));
        var promo = new Dictionary<string, float[]> { ["Promo"] = new float[7] };
        Assert.True(SameBits(without.CreateForecastingEngine().Predict("P00000", futureCovariates: promo).Forecast,
            model.CreateForecastingEngine().Predict("P00000", futureCovariates: promo).Forecast));

        // Through a save and load, an engine has its 10 days, refuses to forecast it yet, and starts it after 4 more,
        // as an engine of the model of the other three does from all 14 days.
        string path = _dir.File("pending.zip");
        _ml.Model.SaveAtomically(model, null, path);
        var engine = _ml.Model.Load(path, out _).CreateForecastingEngine();
        Assert.Equal(10, engine.GetObservationCount("P00002"));
        var early = Assert.Throws<InvalidOperationException>(() => engine.Predict("P00002", futureCovariates: promo));
        Assert.Contains("10 values", early.Message);
        Assert.Contains("Observe 4 more", early.Message);
        var cold = without.CreateForecastingEngine();
        foreach (var r in launch.Take(10)) cold.Observe("P00002", r.Sales, [r.Promo], r.Date);
        foreach (var r in launch.Skip(10).Take(4))
        {
            engine.Observe("P00002", r.Sales, [r.Promo], r.Date);
            cold.Observe("P00002", r.Sales, [r.Promo], r.Date);
        }
        Assert.True(SameBits(cold.Predict("P00002", futureCovariates: promo).Forecast, engine.Predict("P00002", futureCovariates: promo).Forecast));
        Assert.Contains("P00002", engine.PredictAll(futureCovariates: new[] { "P00000", "P00001", "P00002", "P00003" }
            .ToDictionary(id => id, _ => (IReadOnlyDictionary<string, float[]>)promo)).Keys);
    }

    [Fact]
    public void ASeriesKeptPendingKeepsItsStaticFeatures()
    {
        // Unlike a series first seen by an engine, one from the training data has its static values: they are kept for
        // its start (a category seen on the trained series is its index there).
        var rows = Retail(4, 60);
        var train = rows.Where(r => r.Product != "P00002" || (r.Date - rows[0].Date).Days < 10).ToArray();
        var o = FastPanel();
        o.StaticFeatureColumnNames = ["Category"];
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, train));
        string category = rows.First(r => r.Product == "P00002").Category;
        Assert.Contains(train, r => r.Product != "P00002" && r.Category == category);
        var pending = Assert.Single(model.Series.Pending);
        Assert.Equal(model.Columns.EncodeStatic([category]), pending.Static);
        Assert.NotEqual(model.Columns.EncodeStatic([]), pending.Static);

        // Started by an engine, it forecasts as the transform does from its rows, static column and all.
        var launch = rows.Where(r => r.Product == "P00002").Take(20).ToArray();
        var engine = model.CreateForecastingEngine();
        foreach (var r in launch.Skip(10)) engine.Observe("P00002", r.Sales);
        var last = model.Transform(View(_ml, launch)).GetColumn<float[]>("Forecast").Last();
        Assert.True(SameBits(last, engine.Predict("P00002").Forecast));
    }

    [Fact]
    public void ASeriesStartedColdHasNoCategoryOfItsOwn()
    {
        var rows = Retail(7, 100);
        foreach (var r in rows.Where(r => r.Product == "P00006")) r.Category = "Unseen";   // a category the model never saw
        var o = FastPanel();
        o.StaticFeatureColumnNames = ["Category"];
        o.CorrectionDamping = false;   // the networks' correction whole, so that what they read shows in the forecast
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows.Where(r => r.Product != "P00006")));
        Assert.Single(model.Model.Settings.StaticCategories);
        var fresh = rows.Where(r => r.Product == "P00006").ToArray();
        var engine = model.CreateForecastingEngine();
        foreach (var r in fresh) engine.Observe("P00006", r.Sales);
        var cold = engine.Predict("P00006");
        // The transform fits the same series from its rows, its static column included: an unseen category is none
        // there (index −1), and the engine, which is given no static values, must read the same none, not category 0.
        var last = model.Transform(View(_ml, fresh)).GetColumn<float[]>("Forecast").Last();
        Assert.True(SameBits(last, cold.Forecast), $"engine {cold.Forecast[0]:R}, transform {last[0]:R}");
    }

    [Fact]
    public void PanelSaveLoadRoundTripGivesIdenticalForecasts()
    {
        var rows = Retail(5, 120);
        var o = FastPanel();
        o.DateColumnName = "Date";
        o.KnownFutureColumnNames = ["Promo"];
        o.StaticFeatureColumnNames = ["Category"];
        o.SeriesScaleFeature = true;
        o.Quantiles = [0.1f, 0.9f];
        o.QuantilesColumnName = "Quantiles";
        var trainRows = rows.Where(r => (r.Date - rows[0].Date).Days < 106).ToArray();
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, trainRows));
        string path = _dir.File("panel.zip");
        _ml.Model.SaveAtomically(model, View(_ml, rows).Schema, path);
        var loaded = (RnnForecastingTransformer)_ml.Model.Load(path, out _);
        Assert.Equal(model.SeriesIds, loaded.SeriesIds);
        Assert.Equal(CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfMonth | CalendarFeatures.Month, loaded.CalendarFeatures);
        var futures = model.SeriesIds.ToDictionary(id => id, id => (IReadOnlyDictionary<string, float[]>)Promotions(rows, id, 106, 7));
        var a = model.CreateForecastingEngine().PredictAll(futureCovariates: futures);
        var b = loaded.CreateForecastingEngine().PredictAll(futureCovariates: futures);
        foreach (var (id, f) in a)
            Assert.True(SameBits(f.Forecast, b[id].Forecast) && SameBits(f.Quantiles, b[id].Quantiles) && SameBits(f.UpperBound, b[id].UpperBound), $"series {id}");
        foreach (string column in new[] { "Forecast", "Quantiles" })
            Assert.Equal(Probe.Bits(model.Transform(View(_ml, rows)), column), Probe.Bits(loaded.Transform(View(_ml, rows)), column));
    }

    [Fact]
    public void TheNetworksReadTheSeriesIdsByIndexThroughSaveLoadAndColdStarts()
    {
        var rows = Retail(4, 100);
        var train = rows.Where(r => r.Product != "P00003").ToArray();
        var model = _ml.Forecasting.ForecastByRnn(FastPanel()).Fit(View(_ml, train));
        // A small panel gets the ids by default (SeriesIdFeature null): each series' position, read as a one-hot input by index.
        var s = model.Model.Settings;
        Assert.Equal(3, s.SeriesCategories);
        Assert.Equal([3], s.NetworkSpec.InputCategories);
        Assert.Equal([0, 1, 2], model.Model.Series.Select(f => f.Category));
        Assert.Empty(model.StaticFeatureColumnNames);
        var without = FastPanel();
        without.SeriesIdFeature = false;
        var plainModel = _ml.Forecasting.ForecastByRnn(without).Fit(View(_ml, train));
        Assert.Equal(0, plainModel.Model.Settings.SeriesCategories);
        var engine = model.CreateForecastingEngine();
        Assert.False(SameBits(plainModel.CreateForecastingEngine().Predict("P00001").Forecast, engine.Predict("P00001").Forecast), "the ids change nothing");

        string path = _dir.File("id-feature.zip");
        _ml.Model.SaveAtomically(model, View(_ml, rows).Schema, path);
        var reloaded = (RnnForecastingTransformer)_ml.Model.Load(path, out _);
        Assert.Equal([0, 1, 2], reloaded.Model.Series.Select(f => f.Category));
        var loaded = reloaded.CreateForecastingEngine();
        foreach (string id in model.SeriesIds)
            Assert.True(SameBits(engine.Predict(id).Forecast, loaded.Predict(id).Forecast), $"series {id}");
        // A series first seen after training has no index of its own: it is forecast with the ids' one-hot input at zero.
        foreach (var r in rows.Where(r => r.Product == "P00003")) engine.Observe("P00003", r.Sales);
        Assert.All(engine.Predict("P00003").Forecast, v => Assert.True(float.IsFinite(v) && v > 0));
    }

    [Fact]
    public void TheSeriesIdCanStillBeAStaticColumnAndIsThenNotReadTwice()
    {
        var o = FastPanel();
        o.StaticFeatureColumnNames = [o.SeriesIdColumnName!];
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, Retail(3, 100)));
        Assert.Equal(["Product"], model.StaticFeatureColumnNames);
        Assert.Equal(1, model.Model.Settings.StaticFeatureCount);       // a category read by index: one input
        Assert.Equal([3], model.Model.Settings.StaticCategories);
        Assert.Equal(0, model.Model.Settings.SeriesCategories);
    }

    [Fact]
    public void TheNetworksReadTheIdsByDefaultOnlyInPanelsUpToTheDefaultsLimit()
    {
        var said = new List<string>();
        _ml.Log += (_, e) => { if (e.RawMessage.StartsWith("Training ", StringComparison.Ordinal)) lock (said) said.Add(e.RawMessage); };
        int limit = RnnForecastingOptions.Defaults.SeriesIdFeatureMaximumSeries;
        int Categories(int products, bool? idFeature)
        {
            var o = FastPanel();
            o.EnsembleSize = 0;   // the bases alone: what is checked is the networks' inputs, not their training
            o.SeriesIdFeature = idFeature;
            return _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, Retail(products, 30))).Model.Settings.SeriesCategories;
        }
        Assert.Equal(limit, Categories(limit, null));
        Assert.Contains($"{limit} series ('Product') of 'Sales', {30 * limit} rows, the ids as an input", said.Single());
        Assert.Equal(0, Categories(limit + 1, null));
        Assert.DoesNotContain("the ids", said[1]);
        Assert.Equal(limit + 1, Categories(limit + 1, true));
        Assert.Equal(0, Categories(5, false));
        Assert.Equal(0, Categories(1, true));   // a panel of one is the single-series model
    }

    [Fact]
    public void QuantileHeadsGiveOrderedQuantilesAndBoundsForAnyLevel()
    {
        var rows = Retail(6, 150);
        var o = FastPanel();
        o.Quantiles = [0.1f, 0.9f];
        o.IntervalMethod = ForecastIntervalMethod.Quantiles;
        var engine = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows)).CreateForecastingEngine();
        var f = engine.Predict("P00002", confidenceLevel: 0.8f);
        Assert.Equal([0.1f, 0.5f, 0.9f], f.QuantileLevels);
        for (int k = 0; k < 7; k++)
        {
            float q10 = f.Quantiles[k * 3], q50 = f.Quantiles[k * 3 + 1], q90 = f.Quantiles[k * 3 + 2];
            Assert.True(q10 <= q50 && q50 <= q90, $"step {k}: quantiles {q10}, {q50}, {q90} are not ordered");
            Assert.True(q10 < q90, $"step {k}: the quantile heads give no spread");
            Assert.Equal(q50, f.Forecast[k]);                           // the median head gives the forecast
            Assert.Equal(q10, f.LowerBound[k], q10 * 1e-4f);            // 80% bounds: the 10% and 90% quantiles
            Assert.Equal(q90, f.UpperBound[k], q90 * 1e-4f);
        }
        var narrow = engine.Predict("P00002", confidenceLevel: 0.5f);
        var wide = engine.Predict("P00002", confidenceLevel: 0.98f);
        for (int k = 0; k < 7; k++)
        {
            Assert.InRange(narrow.LowerBound[k], f.LowerBound[k], f.Forecast[k]);   // interpolated between the heads
            Assert.True(wide.LowerBound[k] < f.LowerBound[k] && wide.UpperBound[k] > f.UpperBound[k], $"step {k}: 98% bounds do not widen beyond the 10–90% heads");
        }
    }

    [Fact]
    public void APanelFeedsItsNetworksEachSeriesScaleByDefaultAndASingleSeriesIsUnchanged()
    {
        var rows = Retail(3, 80);
        float[] Forecast(RnnForecastingOptions o, IEnumerable<RetailPanel.Sale> data, string? id)
        {
            var engine = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, data)).CreateForecastingEngine();
            return (id is null ? engine.Predict() : engine.Predict(id)).Forecast;
        }
        RnnForecastingOptions With(bool? scale, bool panel)
        {
            var o = FastPanel();
            if (!panel) o.SeriesIdColumnName = null;
            if (scale is bool b) o.SeriesScaleFeature = b;
            return o;
        }
        var byDefault = Forecast(With(null, panel: true), rows, "P00001");
        Assert.True(SameBits(byDefault, Forecast(With(true, panel: true), rows, "P00001")), "the default is not the scale feature on");
        Assert.False(SameBits(byDefault, Forecast(With(false, panel: true), rows, "P00001")), "the scale feature changes nothing");
        var one = rows.Where(r => r.Product == "P00001").ToArray();
        Assert.True(SameBits(Forecast(With(null, panel: false), one, null), Forecast(With(false, panel: false), one, null)), "a single series' forecast changed");
    }

    [Fact]
    public void ABaseAloneModelAskedForQuantileBoundsGivesItsConformalBounds()
    {
        // 30 days per product: too few windows for the networks, so the model is the bases alone and has no heads.
        var rows = Retail(2, 30);
        var o = FastPanel();
        o.Quantiles = [0.1f, 0.9f];
        var conformal = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows));
        Assert.Contains(conformal.TrainingSummary.Notes, n => n.Contains("base alone", StringComparison.Ordinal));
        o.IntervalMethod = ForecastIntervalMethod.Quantiles;
        var quantile = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, rows));
        var expected = conformal.CreateForecastingEngine().Predict("P00001", confidenceLevel: 0.8f);
        var f = quantile.CreateForecastingEngine().Predict("P00001", confidenceLevel: 0.8f);
        for (int k = 0; k < 7; k++)
        {
            Assert.True(f.UpperBound[k] > f.LowerBound[k], $"step {k}: zero-width bounds [{f.LowerBound[k]}, {f.UpperBound[k]}]");
            Assert.Equal(expected.LowerBound[k], f.LowerBound[k]);
            Assert.Equal(expected.UpperBound[k], f.UpperBound[k]);
        }
    }

    [Fact]
    public void BacktestReportsEachSeriesAndPoolsEveryStep()
    {
        var rows = Retail(4, 100);
        var result = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(FastPanel()), View(_ml, rows), origins: 2);
        Assert.Equal(4, result.Series.Count);
        Assert.Equal(8, result.Origins.Count);
        foreach (var s in result.Series)
        {
            Assert.Equal([86, 93], s.Origins.Select(x => x.Origin));
            Assert.All(s.Origins, x => Assert.Equal(s.SeriesId, x.SeriesId));
            Assert.Equal(s.Origins.Average(x => x.Mase), s.Mase, 12);
        }
        Assert.Equal(result.Series.Average(s => s.Mase), result.Mase, 12);
        // ML.NET's metrics per step ahead pool every series' origins.
        Assert.Equal(result.Origins.Average(x => Math.Abs(x.Actual[0] - x.Forecast[0])), result.ByHorizon[0].Metrics.MeanAbsoluteError, 3);
    }

    [Fact]
    public void BacktestLeavesOutTheSeriesTooShortForItsFirstOriginAndSaysWhich()
    {
        // P00002 launched 20 days before the end: two origins of 7 leave it 6 rows, fewer than a window (14).
        var rows = Retail(4, 100);
        var launch = rows.Where(r => r.Product == "P00002").TakeLast(20);
        var panel = rows.Where(r => r.Product != "P00002").Concat(launch).ToArray();
        var result = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(FastPanel()), View(_ml, panel), origins: 2);
        Assert.Equal(["P00002"], result.SeriesLeftOut);
        Assert.Equal(["P00000", "P00001", "P00003"], result.Series.Select(s => s.SeriesId));
        Assert.DoesNotContain(result.Origins, o => o.SeriesId == "P00002");
        // The others are scored as in a backtest of the panel without it.
        var without = _ml.Forecasting.Backtest(_ml.Forecasting.ForecastByRnn(FastPanel()), View(_ml, rows.Where(r => r.Product != "P00002")), origins: 2);
        Assert.Equal(without.Mase, result.Mase, 12);
        Assert.Empty(without.SeriesLeftOut);
    }

    private sealed class SaleExample
    {
        public string Product { get; set; } = "";

        public float Sales { get; set; }
    }

    private sealed class SaleForecast
    {
        public float[] Forecast { get; set; } = [];
    }

    [Fact]
    public void TypedEngineForecastsTheSeriesOfEachExample()
    {
        var rows = Retail(3, 100);
        var model = _ml.Forecasting.ForecastByRnn(FastPanel()).Fit(View(_ml, rows.Where(r => (r.Date - rows[0].Date).Days < 90)));
        using var typed = model.CreateForecastingEngine<SaleExample, SaleForecast>(_ml);
        var untyped = model.CreateForecastingEngine();
        foreach (var r in rows.Where(r => (r.Date - rows[0].Date).Days >= 90 && r.Product == "P00001"))
        {
            var f = typed.Predict(new SaleExample { Product = r.Product, Sales = r.Sales });
            untyped.Observe(r.Product, r.Sales);
            Assert.True(SameBits(untyped.Predict(r.Product).Forecast, f.Forecast));
        }
        Assert.Equal(100, untyped.GetObservationCount("P00001"));
        Assert.Equal(90, untyped.GetObservationCount("P00000"));
    }

    private sealed class CodedSale
    {
        public int Store { get; set; }

        public string StoreText { get; set; } = "";

        public long Region { get; set; }

        public string RegionText { get; set; } = "";

        public float Sales { get; set; }
    }

    private sealed class CodedExample
    {
        public int Store { get; set; }

        public float Sales { get; set; }
    }

    [Fact]
    public void IntegerIdsAndStaticCodesAreCategoriesNamedByTheirDigits()
    {
        // Store numbers and region codes are integers in most tables: they name series and groups, like text, and a
        // model fitted on them must be the model of the same digits as text.
        var rows = Retail(4, 90);
        var products = rows.Select(r => r.Product).Distinct().ToList();
        var categories = rows.Select(r => r.Category).Distinct().ToList();
        var coded = rows.Select(r => new CodedSale
        {
            Store = 10 + products.IndexOf(r.Product), Region = 7 * categories.IndexOf(r.Category), Sales = r.Sales,
        }).ToArray();
        foreach (var r in coded) (r.StoreText, r.RegionText) = (r.Store.ToString(CultureInfo.InvariantCulture), r.Region.ToString(CultureInfo.InvariantCulture));
        RnnForecastingTransformer Fit(string id, string region)
        {
            var o = FastPanel();
            o.SeriesIdColumnName = id;
            o.InputColumnName = "Sales";
            o.StaticFeatureColumnNames = [region];
            return new MLContext(seed: 1).Forecasting.ForecastByRnn(o).Fit(_ml.Data.LoadFromEnumerable(coded));
        }
        var byNumber = Fit("Store", "Region");
        var byText = Fit("StoreText", "RegionText");
        Assert.Equal(["10", "11", "12", "13"], byNumber.SeriesIds);
        Assert.Single(byNumber.Model.Settings.StaticCategories);   // the region read as a category, not standardised
        var number = byNumber.CreateForecastingEngine().PredictAll();
        var text = byText.CreateForecastingEngine().PredictAll();
        foreach (string id in byText.SeriesIds) Assert.True(SameBits(text[id].Forecast, number[id].Forecast), id);

        // The typed engine reads an integer member as the id too.
        using var typed = byNumber.CreateForecastingEngine<CodedExample, SaleForecast>(_ml);
        var untyped = byNumber.CreateForecastingEngine();
        var f = typed.Predict(new CodedExample { Store = 12, Sales = 50f });
        untyped.Observe("12", 50f);
        Assert.True(SameBits(untyped.Predict("12").Forecast, f.Forecast));
    }

    [Fact]
    public void CalendarFeaturesFollowTheTimeStep()
    {
        var daily = new[] { new DateTime(2024, 1, 1), new DateTime(2024, 1, 2), new DateTime(2024, 1, 3) };
        var monthEnds = new[] { new DateTime(2024, 1, 31), new DateTime(2024, 2, 29), new DateTime(2024, 3, 31), new DateTime(2024, 4, 30) };
        var hourly = Enumerable.Range(0, 5).Select(h => new DateTime(2024, 1, 1).AddHours(h)).ToArray();
        Assert.Equal(new TimeStep(0, TimeSpan.TicksPerDay), TimeStep.Infer([daily]));
        Assert.Equal(new TimeStep(1, 0), TimeStep.Infer([monthEnds]));
        Assert.Equal(new DateTime(2024, 5, 31), new TimeStep(1, 0).Add(monthEnds[^1], 1));
        Assert.Equal(CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfMonth | CalendarFeatures.Month, Calendar.For(TimeStep.Infer([daily])));
        Assert.Equal(CalendarFeatures.Hour | CalendarFeatures.DayOfWeek, Calendar.For(TimeStep.Infer([hourly])));
        Assert.Equal(CalendarFeatures.Month, Calendar.For(TimeStep.Infer([monthEnds])));
        var f = new float[4];
        Calendar.Write(CalendarFeatures.DayOfWeek | CalendarFeatures.Month, new DateTime(2024, 4, 3), f);   // a Wednesday in April
        Assert.Equal((float)Math.Sin(2 * Math.PI * 3 / 7), f[0], 6);
        Assert.Equal((float)Math.Cos(2 * Math.PI * 3 / 12), f[3], 6);

        // A daily panel with a date column: the calendar's six features are known for the horizon (a decoder).
        var o = FastPanel();
        o.DateColumnName = "Date";
        var model = _ml.Forecasting.ForecastByRnn(o).Fit(View(_ml, Retail(3, 80)));
        Assert.Equal(CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfMonth | CalendarFeatures.Month, model.CalendarFeatures);
        Assert.Equal(6, model.Model.Settings.CovariateCount);
        Assert.True(model.Model.Settings.Decoder);
    }
}

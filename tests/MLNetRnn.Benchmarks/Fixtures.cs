using System.Text.Json;
using Microsoft.ML;
using MLNetRnn.Persistence;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// The fixtures command: writes the model zips that tests keep loading, one per persisted format version, with
/// the forecasts they must keep giving. Run it only when a format version is added; never overwrite an
/// existing version's fixture (that would hide a break).
/// </summary>
internal static class Fixtures
{
    private sealed class Row
    {
        public float Value { get; set; }
    }

    public static int Run(string[] args)
    {
        string dir = args.Length > 0 ? args[0] : Path.Combine(RepositoryRoot(), "tests", "MLNetRnn.Tests", "Fixtures", "Models");
        Directory.CreateDirectory(dir);
        string zip = Path.Combine(dir, $"forecaster-v{RnnForecastingTransformer.Format.CurrentVersion}.zip");
        if (File.Exists(zip))
        {
            Console.Error.WriteLine($"{zip} exists; fixtures of a released format are never rewritten.");
            return 1;
        }
        if (RnnForecastingTransformer.Format.CurrentVersion >= 4) return Panel(zip);
        var ml = new MLContext(seed: 0);
        var series = Enumerable.Range(0, 72).Select(t => new Row { Value = (float)(50 + 0.3 * t + 8 * Math.Sin(2 * Math.PI * t / 12)) }).ToArray();
        var data = ml.Data.LoadFromEnumerable(series);
        var model = ml.Forecasting.ForecastByRnn(new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = "Value", WindowSize = 24, Horizon = 4, SeasonalPeriod = 12,
            ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper", EnsembleSize = 1, Epochs = 20, HiddenSizes = [8], Seed = 1,
        }).Fit(data);
        ml.Model.SaveAtomically(model, data.Schema, zip);
        var f = model.CreateForecastingEngine().Predict();
        File.WriteAllText(Path.ChangeExtension(zip, ".json"), JsonSerializer.Serialize(new { Forecast = f.Forecast, Lower = f.LowerBound, Upper = f.UpperBound }));
        Console.WriteLine($"wrote {zip}");
        return 0;
    }

    /// <summary>Version 4 stores a panel: a model of three series with a date column (calendar features), promotions known in
    /// advance, a static category, the series' scale, and quantile heads. The expectation holds, per series, the
    /// promotions given for the forecast and what the engine forecast with them. From version 7 the zip is an engine's
    /// checkpoint holding a series not yet started, and a second file what a restarted engine forecasts for it.</summary>
    private static int Panel(string zip)
    {
        var ml = new MLContext(seed: 0);
        // From version 5 on, series long enough (2H held-out windows) for per-series correction weights.
        bool weights = RnnForecastingTransformer.Format.CurrentVersion >= 5;
        int products = weights ? 4 : 3, days = weights ? 170 : 90, trainDays = days - 10;
        var rows = Samples.RetailPanel.Generate(products, days, seed: 5);
        var train = rows.Where(r => (r.Date - rows[0].Date).Days < trainDays).ToArray();
        var data = ml.Data.LoadFromEnumerable(train);
        var options = new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = "Sales", SeriesIdColumnName = "Product", DateColumnName = "Date",
            KnownFutureColumnNames = ["Promo"], StaticFeatureColumnNames = ["Category"], SeriesScaleFeature = true,
            Quantiles = [0.1f, 0.9f], QuantilesColumnName = "Quantiles", WindowSize = 14, Horizon = 7, SeasonalPeriod = 7,
            ConfidenceLowerBoundColumn = "Lower", ConfidenceUpperBoundColumn = "Upper", EnsembleSize = 2, Epochs = 10, MaximumSteps = 100, HiddenSizes = [8], Seed = 1,
        };
        // From version 8 on, candidate seasonal periods: each series keeps the one it chose.
        if (RnnForecastingTransformer.Format.CurrentVersion >= 8) options.SeasonalPeriods = [7, 14];
        // From version 9 on, dilated layers with residual connections (version 9 is written only for such networks).
        if (RnnForecastingTransformer.Format.CurrentVersion >= 9) (options.HiddenSizes, options.Dilations, options.ResidualConnections) = ([8, 8], [1, 7], true);
        // From version 11 on, the decoder-steps flag (version 11 is written only for a model that asks for them; with
        // promotions known in advance the networks step through the horizon anyway, so the flag is what is new).
        if (RnnForecastingTransformer.Format.CurrentVersion >= 11) options.DecoderSteps = true;
        var model = ml.Forecasting.ForecastByRnn(options).Fit(data);
        var engine = model.CreateForecastingEngine();
        // From version 7 on, a checkpoint also keeps the series an engine observed but could not start yet: the zip is
        // the checkpoint of an engine that saw the first 5 days of a product the model never saw (a cold start needs 14).
        bool pending = RnnForecastingTransformer.Format.CurrentVersion >= 7;
        var newcomer = Samples.RetailPanel.Generate(products + 1, days, seed: 5).Where(r => r.Product == $"P{products:D5}").Take(16).ToArray();
        if (pending)
        {
            foreach (var r in newcomer.Take(5)) engine.Observe(r.Product, r.Sales, [r.Promo], r.Date);
            engine.CheckPoint(ml, zip, data.Schema);
        }
        else ml.Model.SaveAtomically(model, data.Schema, zip);
        var expected = new Dictionary<string, object>();
        foreach (string id in model.SeriesIds)
        {
            var promo = rows.Where(r => r.Product == id).Skip(trainDays).Take(7).Select(r => r.Promo).ToArray();
            var f = engine.Predict(id, futureCovariates: new Dictionary<string, float[]> { ["Promo"] = promo });
            expected[id] = new { Promo = promo, Forecast = f.Forecast, Lower = f.LowerBound, Upper = f.UpperBound, f.Quantiles };
        }
        File.WriteAllText(Path.ChangeExtension(zip, ".json"), JsonSerializer.Serialize(expected));
        if (pending)
        {
            // The newcomer's next 11 days observed by an engine restarted from the checkpoint, then its forecast.
            var restarted = ml.Model.Load(zip, out _).CreateForecastingEngine();
            var rest = newcomer[5..];
            foreach (var r in rest) restarted.Observe(r.Product, r.Sales, [r.Promo], r.Date);
            var promo = new float[7];
            var f = restarted.Predict(newcomer[0].Product, futureCovariates: new Dictionary<string, float[]> { ["Promo"] = promo });
            File.WriteAllText(Path.ChangeExtension(zip, ".pending.json"), JsonSerializer.Serialize(new
            {
                Id = newcomer[0].Product, Observed = 5, Rest = rest.Select(r => new { r.Sales, r.Promo, r.Date }).ToArray(), Promo = promo, Forecast = f.Forecast,
            }));
        }
        Console.WriteLine($"wrote {zip}");
        return 0;
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLNetRnn.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Run from inside the repository.");
    }
}

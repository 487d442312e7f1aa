using System.Diagnostics;
using System.Globalization;
using MLNetRnn.Core.Forecasting;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Benchmarks;

/// <summary>
/// <c>collection --model global --fine-tune STEPS [--fine-tune-lr LR]</c>: a study of per-series specialists made
/// from the global networks (docs/design/collections.md, "What comes next"). After the global fit, every member is
/// trained further on one series' own training windows alone, from the global weights, for at most STEPS steps,
/// early-stopped on the block of that series it held out and kept at the global weights when those score best there;
/// the series is then forecast by those members (with the λ the global model gave it). What it measures is what such
/// a specialist gains over the shared networks, and what it costs, before the library carries per-series networks.
/// </summary>
internal static class FineTuneStudy
{
    public static Dictionary<string, RnnForecast> Run(RnnForecastingTransformer fitted, float[][] values, int steps, Accuracy.Flags flags)
    {
        var model = fitted.Model;
        var s = model.Settings;
        int S = values.Length, K = model.Members.Length;
        float learningRate = float.Parse(flags.Get("fine-tune-lr", "0.001"), CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        var (tracks, start) = StudyWindows.Of(model, values);
        var global = model.Members;
        var forecasts = new Dictionary<string, RnnForecast>(StringComparer.Ordinal);
        int tuned = 0;
        try
        {
            for (int i = 0; i < S; i++)
            {
                var folds = SeriesFolds.Of(s, tracks[i].Windows, model.Series[i].Constant);
                var members = new RecurrentNetwork[K];
                int series = i;
                Parallel.For(0, K, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, s.MaximumDegreeOfParallelism) }, k =>
                {
                    var train = Enumerable.Range(0, tracks[series].Windows).Where(w => folds.Trains(k, w)).Select(w => start[series] + w).ToArray();
                    var held = Enumerable.Range(0, tracks[series].Windows).Where(w => folds.Holds(k, w)).Select(w => start[series] + w).ToArray();
                    members[k] = global[k].Clone();
                    if (train.Length < s.Training.BatchSize || held.Length == 0) return;
                    var training = s.MemberTraining with
                    {
                        // One series' decay: the specialist is a single-series fit that starts where the global one ended.
                        Optimizer = s.MemberTraining.Optimizer with { LearningRate = learningRate },
                        Epochs = 1000, MaximumSteps = steps, EarlyStoppingPatience = Math.Max(1, steps / 4), ValidationFraction = 0,
                        SamplesPerEpoch = Math.Min(train.Length, 8 * s.Training.BatchSize), KeepInitialWeightsIfBest = true,
                        Seed = ForecastTrainer.MemberSeed(s.Training.Seed + series, k),
                    };
                    new RecurrentTrainer(members[k], training).FitWindows(new PanelWindowSource(model, tracks, start, train), new PanelWindowSource(model, tracks, start, held), null, default);
                });
                model.Members = members;
                string id = fitted.TrainingSummary.Series[i].SeriesId;
                // A series the model cannot forecast (pending, too short) is left to the command's fallback, as PredictAll leaves it.
                try { forecasts[id] = fitted.CreateForecastingEngine().Predict(id); }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }
                model.Members = global;
                tuned++;
            }
        }
        finally
        {
            model.Members = global;
        }
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "  fine-tuned every member on each of {0} series alone, at most {1} steps at learning rate {2}: {3:F0} s",
            tuned, steps, learningRate, clock.Elapsed.TotalSeconds));
        return forecasts;
    }
}

using System.CommandLine;
using System.Globalization;

namespace MLNetRnn.Cli.Study;

/// <summary><c>mlnetrnn study adding</c> runs the study; <c>mlnetrnn study adding-report</c> turns its results into the
/// table and pictures of docs/diagnostics.md. Not part of CI: the full study runs for hours.</summary>
internal static class StudyCommand
{
    public static Command Create()
    {
        var lengths = new Option<string>("--lengths") { Description = "Sequence lengths T, comma-separated.", DefaultValueFactory = _ => "50,100,150,200" };
        var models = new Option<string>("--models") { Description = $"Models, comma-separated: {string.Join(", ", AddingStudy.AllModels)}.", DefaultValueFactory = _ => string.Join(",", AddingStudy.AllModels) };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per model and length.", DefaultValueFactory = _ => 3 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Optimiser steps at most per run.", DefaultValueFactory = _ => 6000 };
        var every = new Option<int>("--evaluate-every") { Description = "Steps between test-set evaluations.", DefaultValueFactory = _ => 100 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units.", DefaultValueFactory = _ => 100 };
        var omega = new Option<float>("--omega-weight") { Description = "α·T of Pascanu's Ω (α = this / T).", DefaultValueFactory = _ => 2f };
        var parallel = new Option<int>("--parallel") { Description = "Runs at once.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--output", "-o") { Description = "Folder for results.csv and the runs' curves and diagnostics.", DefaultValueFactory = _ => "study-adding" };
        var adding = new Command("adding", "The adding problem at several lengths for tanh (none / clip / clip + Ω), IRNN and LSTM; appends to results.csv, skipping runs already there.")
        {
            lengths, models, seeds, maxSteps, every, hidden, omega, parallel, output,
        };
        adding.SetAction((r, ct) =>
        {
            var o = new AddingStudyOptions
            {
                Lengths = r.GetValue(lengths)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
                Models = r.GetValue(models)!.Split(','),
                Seeds = r.GetValue(seeds), MaxSteps = r.GetValue(maxSteps), EvaluateEvery = r.GetValue(every), Hidden = r.GetValue(hidden),
                OmegaWeight = r.GetValue(omega), Parallel = r.GetValue(parallel), Output = r.GetValue(output)!,
            };
            foreach (var m in o.Models) AddingStudy.Spec(m, 1);
            return Task.FromResult(AddingStudy.Run(o, Console.Out, ct));
        });

        var input = new Option<string>("--input", "-i") { Description = "The study's folder (with results.csv).", DefaultValueFactory = _ => "study-adding" };
        var docs = new Option<string>("--output", "-o") { Description = "Folder for the pictures and table.md.", DefaultValueFactory = _ => "docs/diagnostics" };
        var report = new Command("adding-report", "Success rate per model and length (table.md) and the study's pictures from a study folder.") { input, docs };
        report.SetAction(r => AddingReport.Write(r.GetValue(input)!, r.GetValue(docs)!, Console.Out));

        var explodingOutput = new Option<string>("--output", "-o") { Description = "Folder for exploding.md and the pictures.", DefaultValueFactory = _ => "docs/diagnostics" };
        var explodingSeeds = new Option<int>("--seeds") { Description = "Seeds per clipping mode.", DefaultValueFactory = _ => 5 };
        var exploding = new Command("exploding", "An exploding tanh RNN trained without clipping, at τ = 1, with AutoClip and at the suggested τ.") { explodingOutput, explodingSeeds };
        exploding.SetAction(r => ExplodingStudy.Run(r.GetValue(explodingOutput)!, r.GetValue(explodingSeeds), Console.Out));

        return new Command("study", "Experiments behind docs/diagnostics.md (not run by the tests; `adding` runs for hours).") { adding, report, exploding };
    }
}

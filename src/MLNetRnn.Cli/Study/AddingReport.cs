using System.Globalization;
using System.Text;
using MLNetRnn.Cli.Shared;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Plots;
using ScottPlot;

namespace MLNetRnn.Cli.Study;

/// <summary>Turns a study folder (results.csv, runs/) into docs/diagnostics.md's table (table.md) and pictures.</summary>
internal static class AddingReport
{
    private sealed record Row(string Model, int T, int Seed, bool Solved, int Steps, double TestMse, double BestTestMse, double Seconds,
        double ClipRate, double EarlyReach, double LateReach, double MaxNorm);

    public static int Write(string input, string output, TextWriter log)
    {
        string results = Path.Combine(input, AddingStudy.ResultsFile);
        if (!File.Exists(results)) throw new CliException($"'{results}' was not found: run `mlnetrnn study adding -o {input}` first.");
        var rows = File.ReadLines(results).Skip(1).Where(l => l.Length > 0).Select(Parse).ToArray();
        Directory.CreateDirectory(output);
        var models = AddingStudy.AllModels.Where(m => rows.Any(r => r.Model == m)).ToArray();
        var lengths = rows.Select(r => r.T).Distinct().Order().ToArray();

        var md = new StringBuilder();
        md.AppendLine("| model | " + string.Join(" | ", lengths.Select(T => $"T = {T}")) + " |");
        md.AppendLine("| --- | " + string.Join(" | ", lengths.Select(_ => "---:")) + " |");
        foreach (var m in models)
        {
            var cells = lengths.Select(T =>
            {
                var runs = rows.Where(r => r.Model == m && r.T == T).ToArray();
                if (runs.Length == 0) return "–";
                var solved = runs.Where(r => r.Solved).ToArray();
                string steps = solved.Length > 0 ? $" ({Median(solved.Select(r => (double)r.Steps)):N0} steps)" : "";
                return string.Create(CultureInfo.InvariantCulture, $"{solved.Length}/{runs.Length}{steps}, best MSE {Median(runs.Select(r => r.BestTestMse)):F3}");
            });
            md.AppendLine($"| {m} | " + string.Join(" | ", cells) + " |");
        }
        File.WriteAllText(Path.Combine(output, "table.md"), md.ToString());
        log.Write(md.ToString());

        var reach = new StringBuilder();
        reach.AppendLine("| model | " + string.Join(" | ", lengths.Select(T => $"T = {T}")) + " |");
        reach.AppendLine("| --- | " + string.Join(" | ", lengths.Select(_ => "---:")) + " |");
        foreach (var m in models)
            reach.AppendLine($"| {m} | " + string.Join(" | ", lengths.Select(T =>
            {
                var runs = rows.Where(r => r.Model == m && r.T == T).ToArray();
                return runs.Length == 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{Median(runs.Select(r => r.EarlyReach)):G2} → {Median(runs.Select(r => r.LateReach)):G2}");
            })) + " |");
        File.WriteAllText(Path.Combine(output, "reach.md"), reach.ToString());
        log.Write(reach.ToString());

        SuccessPlot(rows, models, lengths, Path.Combine(output, "adding-success.png"));
        foreach (int T in lengths)
        {
            int seed = rows.Where(r => r.T == T).Min(r => r.Seed);
            CurvesPlot(input, models, T, seed, Path.Combine(output, $"adding-test-mse-T{T}.png"));
        }

        // The diagnostics pictures of the runs the notes discuss: the longest length, the first seed that ran.
        int longest = lengths[^1];
        foreach (var m in AddingStudy.AllModels)
        {
            string? file = rows.Where(r => r.Model == m && r.T == longest).OrderBy(r => r.Seed)
                .Select(r => Path.Combine(input, "runs", $"{m}-T{longest}-s{r.Seed}.diagnostics")).FirstOrDefault(File.Exists);
            if (file is null) continue;
            var d = TrainingDiagnostics.FromBytes(File.ReadAllBytes(file));
            string title = $"{m}, T = {longest}";
            TrainingPlots.BackwardSignal(d, Path.Combine(output, $"adding-backward-{m}-T{longest}.png"), title);
            TrainingPlots.GradientNorm([d], Path.Combine(output, $"adding-gradient-norm-{m}-T{longest}.png"), title);
            TrainingPlots.Spectrum(d, Path.Combine(output, $"adding-spectrum-{m}-T{longest}.png"), title);
        }
        log.WriteLine($"Wrote table.md, reach.md and the pictures to {output}.");
        return 0;
    }

    private static void SuccessPlot(Row[] rows, string[] models, int[] lengths, string path)
    {
        var plot = TrainingPlots.NewPlot("Adding problem: share of seeds solved (test MSE < 0.01)", "sequence length T",
            "share of seeds solved (lines offset by 1% to stay visible)");
        for (int k = 0; k < models.Length; k++)
        {
            var m = models[k];
            var points = lengths.Select(T => (T, Runs: rows.Where(r => r.Model == m && r.T == T).ToArray())).Where(p => p.Runs.Length > 0).ToArray();
            var line = plot.Add.ScatterLine(points.Select(p => (double)p.T).ToArray(), points.Select(p => p.Runs.Count(r => r.Solved) / (double)p.Runs.Length + (k - 2) * 0.01).ToArray());
            TrainingPlots.Style(line, TrainingPlots.Palette(k), m, LinePattern.Solid);
            line.MarkerSize = 9;
        }
        plot.Axes.SetLimitsY(-0.05, 1.05);
        var shares = new ScottPlot.TickGenerators.NumericManual();
        foreach (double y in new[] { 0, 0.25, 0.5, 0.75, 1 }) shares.AddMajor(y, y.ToString("P0", CultureInfo.InvariantCulture));
        plot.Axes.Left.TickGenerator = shares;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int T in lengths) ticks.AddMajor(T, T.ToString(CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        TrainingPlots.Save(plot, path);
    }

    private static void CurvesPlot(string input, string[] models, int T, int seed, string path)
    {
        var plot = TrainingPlots.NewPlot($"Adding problem, T = {T}: test MSE during training (seed {seed})", "optimiser step", "test MSE (log scale)");
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (int k = 0; k < models.Length; k++)
        {
            string file = Path.Combine(input, "runs", $"{models[k]}-T{T}-s{seed}.curve.csv");
            if (!File.Exists(file)) continue;
            var points = File.ReadLines(file).Skip(1).Select(l => l.Split(',')).Select(f => (Step: double.Parse(f[0], CultureInfo.InvariantCulture), Mse: double.Parse(f[1], CultureInfo.InvariantCulture)))
                .Where(p => p.Mse > 0 && double.IsFinite(p.Mse)).ToArray();
            if (points.Length == 0) continue;
            double[] y = points.Select(p => Math.Log10(p.Mse)).ToArray();
            lo = Math.Min(lo, y.Min());
            hi = Math.Max(hi, y.Max());
            var line = plot.Add.ScatterLine(points.Select(p => p.Step).ToArray(), y);
            TrainingPlots.Style(line, TrainingPlots.Palette(k), models[k], LinePattern.Solid);
        }
        var solved = plot.Add.HorizontalLine(Math.Log10(AddingStudy.SolvedMse), 2, Colors.Black, LinePattern.Dashed);
        solved.LegendText = "solved (MSE 0.01)";
        var baseline = plot.Add.HorizontalLine(Math.Log10(1.0 / 6), 1.5f, Colors.Gray, LinePattern.Dotted);
        baseline.LegendText = "always 1 (MSE ≈ 0.167)";
        TrainingPlots.LogAxis(plot, Math.Min(lo, -2.1), Math.Max(hi, -0.7));
        TrainingPlots.Save(plot, path);
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static Row Parse(string line)
    {
        var f = line.Split(',');
        double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
        int I(int i) => int.Parse(f[i], CultureInfo.InvariantCulture);
        return new Row(f[0], I(1), I(2), f[3] == "1", I(4), D(5), D(6), D(7), D(8), D(10), D(11), D(12));
    }
}

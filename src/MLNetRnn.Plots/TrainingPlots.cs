using System.Globalization;
using MLNetRnn.Core.Diagnostics;
using MLNetRnn.Core.Training;
using ScottPlot;

namespace MLNetRnn.Plots;

/// <summary>
/// Pictures of training runs from their <see cref="TrainingDiagnostics"/>, as PNG files: the loss curves, the
/// gradient-norm curve with the clipping threshold, the backward signal across the window early and late in training,
/// and the W_hh singular values over training. The loss and gradient-norm pictures take one run or several (an
/// ensemble's members, drawn in distinct colours); the backward signal and the spectrum take one, and say in the title
/// which member it is when asked to. <see cref="WriteAll"/> writes all four into a folder.
/// </summary>
public static class TrainingPlots
{
    /// <summary>File names <see cref="WriteAll"/> writes.</summary>
    public static class Files
    {
        /// <summary>Loss curves.</summary>
        public const string Loss = "loss.png";

        /// <summary>Gradient norm per step.</summary>
        public const string GradientNorm = "gradient-norm.png";

        /// <summary>Backward signal across the window.</summary>
        public const string BackwardSignal = "backward-signal.png";

        /// <summary>W_hh singular values over training.</summary>
        public const string Spectrum = "spectrum.png";
    }

    /// <summary>Writes the four pictures of <see cref="Files"/> into <paramref name="directory"/> (created if missing)
    /// and returns their paths. The backward signal and the spectrum are of the first run, "member 1 of N" in their titles
    /// when there are several. A picture whose data the runs lack (no backward signal or spectrum in a model saved before
    /// diagnostics existed) is skipped.</summary>
    /// <param name="runs">One run, or an ensemble's members.</param>
    /// <param name="directory">Output folder.</param>
    /// <param name="title">Prefix of every title, e.g. the model's name; empty for none.</param>
    public static IReadOnlyList<string> WriteAll(IReadOnlyList<TrainingDiagnostics> runs, string directory, string title = "")
    {
        var pictures = All(runs, title);
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var (file, plot) in pictures)
        {
            string path = Path.Combine(directory, file);
            Save(plot, path);
            written.Add(path);
        }
        return written;
    }

    /// <summary>The pictures <see cref="WriteAll"/> writes, by file name.</summary>
    internal static IReadOnlyList<(string File, Plot Plot)> All(IReadOnlyList<TrainingDiagnostics> runs, string title = "")
    {
        Check(runs);
        var all = new List<(string, Plot)> { (Files.Loss, LossPlot(runs, title)), (Files.GradientNorm, GradientNormPlot(runs, title)) };
        string? member = runs.Count > 1 ? MemberName(0, runs.Count) : null;
        if (runs[0].HasBackwardSignal) all.Add((Files.BackwardSignal, BackwardSignalPlot(runs[0], title, member)));
        if (runs[0].SpectrumHistory.Count + (runs[0].FinalSpectrum is null ? 0 : 1) > 0) all.Add((Files.Spectrum, SpectrumPlot(runs[0], title, member)));
        return all;
    }

    /// <summary>Training loss per epoch (solid) and validation loss (dashed) for every run, on a log scale when the
    /// losses span more than two decades. A circle marks the epoch whose weights each run kept; a run that kept its
    /// initial weights because no epoch beat them (best epoch −1) is named in the legend.</summary>
    public static void Loss(IReadOnlyList<TrainingDiagnostics> runs, string path, string title = "") => Save(LossPlot(runs, title), path);

    internal static Plot LossPlot(IReadOnlyList<TrainingDiagnostics> runs, string title = "")
    {
        Check(runs);
        var plot = NewPlot(Title(title, "Loss per epoch"), "epoch (from 0)", "loss (network units)");
        IntegerTicks(plot);
        var all = runs.SelectMany(r => r.Epochs.SelectMany(e => new[] { e.TrainingLoss, e.ValidationLoss })).Where(v => double.IsFinite(v) && v > 0).ToArray();
        bool log = all.Length > 0 && all.Max() / all.Min() > 100;
        bool circled = false;
        for (int k = 0; k < runs.Count; k++)
        {
            var color = Palette(k);
            string who = runs.Count > 1 ? $"member {k + 1}: " : "";
            var epochs = runs[k].Epochs;
            double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
            var train = plot.Add.ScatterLine(x, Y(epochs.Select(e => e.TrainingLoss), log));
            Style(train, color, $"{who}training", LinePattern.Solid);
            if (epochs.Any(e => double.IsFinite(e.ValidationLoss)))
            {
                var validation = plot.Add.ScatterLine(x, Y(epochs.Select(e => e.ValidationLoss), log));
                Style(validation, color, $"{who}validation", LinePattern.Dashed);
                if (runs[k].BestEpoch >= 0)
                {
                    plot.Add.Marker(runs[k].BestEpoch, Y([epochs[runs[k].BestEpoch].ValidationLoss], log)[0], MarkerShape.OpenCircle, 12, color);
                    circled = true;
                }
            }
        }
        // In the colour of no member: the circles are each in their member's.
        if (circled)
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = "best epoch (weights kept)", MarkerShape = MarkerShape.OpenCircle, MarkerSize = 12, MarkerLineColor = Colors.Gray, MarkerLineWidth = 1.5f,
            });
        // Best epoch −1: the validation loss of no epoch fell below that of the initial weights, and early stopping kept
        // those. There is no point to circle, so the axis label says it (the legend is too narrow for the sentence).
        var initial = Enumerable.Range(0, runs.Count).Where(k => runs[k].BestEpoch < 0 && runs[k].RestoredBestWeights).Select(k => k + 1).ToArray();
        if (initial.Length > 0)
        {
            string who = runs.Count == 1 ? "the run" : initial.Length == 1 ? $"member {initial[0]}" : $"members {string.Join(", ", initial[..^1])} and {initial[^1]}";
            plot.XLabel($"epoch (from 0); {who} kept the initial weights: no epoch beat them (best epoch −1)", size: 15);
        }
        if (log) LogAxis(plot, Math.Log10(all.Min()), Math.Log10(all.Max()));
        return plot;
    }

    /// <summary>‖g‖ per step before clipping (log scale), the clipping threshold (fixed τ as a line, AutoClip's
    /// moving percentile as a curve), the clipped steps marked, skipped non-finite steps as red marks at the top. With
    /// several runs, every run's ‖g‖ is drawn and the marks and the AutoClip curve are the first run's (the legend says
    /// so).</summary>
    public static void GradientNorm(IReadOnlyList<TrainingDiagnostics> runs, string path, string title = "") => Save(GradientNormPlot(runs, title), path);

    internal static Plot GradientNormPlot(IReadOnlyList<TrainingDiagnostics> runs, string title = "")
    {
        Check(runs);
        var clipping = runs[0].Clipping;
        string mode = clipping.Mode switch
        {
            GradientClippingMode.None => "no clipping",
            GradientClippingMode.AutoClip => string.Format(CultureInfo.InvariantCulture, "AutoClip, p = {0}", clipping.AutoClipPercentile),
            _ => string.Format(CultureInfo.InvariantCulture, "{0} clipping at τ = {1:G3}", clipping.Mode, clipping.Threshold),
        };
        var plot = NewPlot(Title(title, $"Gradient norm per step ({mode})"), "optimiser step", "‖g‖ before clipping (log scale)");
        IntegerTicks(plot);
        string first1 = runs.Count > 1 ? "member 1: " : "";
        double top = double.NegativeInfinity, bottom = double.PositiveInfinity;
        for (int k = 0; k < runs.Count; k++)
        {
            var r = runs[k];
            var finite = Enumerable.Range(0, r.StepCount).Where(s => float.IsFinite(r.GradientNormBefore[s]) && r.GradientNormBefore[s] > 0).ToArray();
            if (finite.Length == 0) continue;
            double[] x = finite.Select(s => (double)s).ToArray();
            double[] y = finite.Select(s => Math.Log10(r.GradientNormBefore[s])).ToArray();
            top = Math.Max(top, y.Max());
            bottom = Math.Min(bottom, y.Min());
            var line = plot.Add.ScatterLine(x, y);
            Style(line, Palette(k).WithAlpha(0.8), runs.Count > 1 ? $"member {k + 1}: ‖g‖" : "‖g‖ before clipping", LinePattern.Solid, width: 1);
            var clipped = finite.Where(r.IsClipped).ToArray();
            if (clipped.Length > 0 && k == 0)
            {
                var marks = plot.Add.Markers(clipped.Select(s => (double)s).ToArray(), clipped.Select(s => Math.Log10(r.GradientNormBefore[s])).ToArray(),
                    MarkerShape.FilledCircle, 4, Colors.OrangeRed);
                marks.LegendText = string.Format(CultureInfo.InvariantCulture, "{0}clipped ({1} of {2} steps, {3:P0})", first1, clipped.Length, r.StepCount, r.ClipRate);
            }
        }
        var first = runs[0];
        if (clipping.Mode == GradientClippingMode.AutoClip)
        {
            var s = Enumerable.Range(0, first.StepCount).Where(i => float.IsFinite(first.ClippingThreshold[i]) && first.ClippingThreshold[i] > 0).ToArray();
            if (s.Length > 0)
            {
                var threshold = plot.Add.ScatterLine(s.Select(i => (double)i).ToArray(), s.Select(i => Math.Log10(first.ClippingThreshold[i])).ToArray());
                Style(threshold, Colors.Black, $"{first1}threshold (AutoClip percentile)", LinePattern.Dashed, width: 2);
            }
        }
        else if (clipping.Mode != GradientClippingMode.None && clipping.Threshold > 0)
        {
            var tau = plot.Add.HorizontalLine(Math.Log10(clipping.Threshold), 2, Colors.Black, LinePattern.Dashed);
            top = Math.Max(top, Math.Log10(clipping.Threshold));
            bottom = Math.Min(bottom, Math.Log10(clipping.Threshold));
            tau.LegendText = string.Format(CultureInfo.InvariantCulture, "threshold τ = {0:G3}", clipping.Threshold);
        }
        var skipped = Enumerable.Range(0, first.StepCount).Where(first.IsSkipped).ToArray();
        if (skipped.Length > 0 && double.IsFinite(top))
        {
            var marks = plot.Add.Markers(skipped.Select(s => (double)s).ToArray(), skipped.Select(_ => top + 0.3).ToArray(), MarkerShape.FilledTriangleDown, 7, Colors.Red);
            marks.LegendText = $"{first1}skipped: non-finite ({skipped.Length})";
            top += 0.3;
        }
        LogAxis(plot, bottom, top);
        return plot;
    }

    /// <summary>Mean ‖∂L/∂h_t‖ of the top layer across the window (x: steps back from the newest), in the first and the
    /// last epoch and a few between, on a log scale; the title gives the gradient reach early and late.</summary>
    /// <param name="run">The run.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="title">Prefix of the title, e.g. the model's name; empty for none.</param>
    /// <param name="member">Which run of several this is, for the title (e.g. "member 1 of 5"); null for none.</param>
    public static void BackwardSignal(TrainingDiagnostics run, string path, string title = "", string? member = null) => Save(BackwardSignalPlot(run, title, member), path);

    internal static Plot BackwardSignalPlot(TrainingDiagnostics run, string title = "", string? member = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!run.HasBackwardSignal) throw new ArgumentException("The run has no backward signal (a model saved before diagnostics existed).", nameof(run));
        int E = run.Epochs.Count, T = run.WindowSteps;
        var plot = NewPlot(Title(title, string.Format(CultureInfo.InvariantCulture,
            "Backward signal{0}: reach {1} early, {2} late", Of(member), Reach(run.EarlyGradientReach), Reach(run.LateGradientReach))),
            "steps back from the newest step of the window", "mean ‖∂L/∂h_t‖ of the top layer (log scale)");
        IntegerTicks(plot);
        var epochs = new SortedSet<int> { 0, E / 4, E / 2, 3 * E / 4, E - 1 }.Where(e => e >= 0 && e < E).ToArray();
        var colormap = new ScottPlot.Colormaps.Viridis();
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (int k = 0; k < epochs.Length; k++)
        {
            int e = epochs[k];
            var signal = run.BackwardSignal(e).ToArray();
            var back = Enumerable.Range(0, T).Where(t => signal[t] > 0 && float.IsFinite(signal[t])).ToArray();
            if (back.Length == 0) continue;
            double[] y = back.Select(t => Math.Log10(signal[t])).ToArray();
            lo = Math.Min(lo, y.Min());
            hi = Math.Max(hi, y.Max());
            var line = plot.Add.ScatterLine(back.Select(t => (double)(T - 1 - t)).ToArray(), y);
            string when = e == 0 ? "first epoch (early)" : e == E - 1 ? $"epoch {e} (late, last)" : $"epoch {e}";
            Style(line, colormap.GetColor(epochs.Length == 1 ? 0 : k / (double)(epochs.Length - 1) * 0.9), when,
                e == 0 || e == E - 1 ? LinePattern.Solid : LinePattern.Dotted, width: e == 0 || e == E - 1 ? 2.5f : 1.5f);
        }
        LogAxis(plot, lo, hi);
        plot.Axes.SetLimitsX(-0.5, T - 0.5);
        return plot;
    }

    /// <summary>Largest singular value σ₁ of every W_hh gate block over training (epoch −1 = before training; the last
    /// point = the weights kept), with the 1/γ line of each block: σ₁ below it for every block means vanishing
    /// gradients, exploding needs σ₁ above it (Pascanu et al. 2013). Dotted: the smallest singular value.</summary>
    /// <param name="run">The run.</param>
    /// <param name="path">PNG file to write.</param>
    /// <param name="title">Prefix of the title, e.g. the model's name; empty for none.</param>
    /// <param name="member">Which run of several this is, for the title (e.g. "member 1 of 5"); null for none.</param>
    public static void Spectrum(TrainingDiagnostics run, string path, string title = "", string? member = null) => Save(SpectrumPlot(run, title, member), path);

    internal static Plot SpectrumPlot(TrainingDiagnostics run, string title = "", string? member = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var snapshots = run.SpectrumHistory.Concat(run.FinalSpectrum is null ? [] : [run.FinalSpectrum with { Epoch = Math.Max(run.Epochs.Count - 1, 0) }])
            .GroupBy(s => s.Epoch).Select(g => g.Last()).OrderBy(s => s.Epoch).ToArray();
        if (snapshots.Length == 0) throw new ArgumentException("The run has no W_hh spectrum.", nameof(run));
        // The last point is the weights the run kept: those of its best epoch, or the initial ones when no epoch beat them.
        string kept = run.RestoredBestWeights ? (run.BestEpoch >= 0 ? $"those of epoch {run.BestEpoch}" : "the initial ones, as no epoch beat them") : "those of the last epoch";
        var plot = NewPlot(Title(title, $"W_hh singular values over training{Of(member)}, per layer and gate block"),
            $"epoch (−1: the initial weights, before training; the last point: the weights kept, {kept})", "singular value");
        IntegerTicks(plot);
        var blocks = snapshots[0].Gates.Select(g => (g.Layer, g.Gate)).ToArray();
        double[] x = snapshots.Select(s => (double)s.Epoch).ToArray();
        for (int b = 0; b < blocks.Length; b++)
        {
            var (layer, gate) = blocks[b];
            var color = Palette(b);
            string name = run.Network.HiddenSizes.Count > 1 ? $"layer {layer} {gate}" : $"gate {gate}";
            var largest = plot.Add.ScatterLine(x, snapshots.Select(s => s.Gates[b].LargestSingularValue).ToArray());
            Style(largest, color, $"{name}: σ₁", LinePattern.Solid);
            largest.MarkerSize = 4;
            var smallest = plot.Add.ScatterLine(x, snapshots.Select(s => s.Gates[b].SingularValues[^1]).ToArray());
            Style(smallest, color, $"{name}: σ_min", LinePattern.Dotted, width: 1.5f);
        }
        foreach (var bound in blocks.Select(b => run.SpectrumBound(b.Gate)).Distinct())
        {
            var line = plot.Add.HorizontalLine(bound, 2, Colors.Black.WithAlpha(0.7), LinePattern.Dashed);
            string gates = string.Join(",", blocks.Where(b => run.SpectrumBound(b.Gate) == bound).Select(b => b.Gate).Distinct());
            line.LegendText = string.Format(CultureInfo.InvariantCulture, "1/γ = {0:G3} ({1})", bound, gates);
        }
        return plot;
    }

    // ---------------------------------------------------------------- shared look

    internal const int Width = 1100, Height = 620;

    /// <summary>Where a picture's legend goes: beside the data (right) or under it; never over it.</summary>
    internal enum LegendPlace { Right, Below }

    internal static Plot NewPlot(string title, string x, string y, LegendPlace legend = LegendPlace.Right)
    {
        var plot = new Plot();
        plot.Title(title, size: 17);
        plot.XLabel(x, size: 15);
        plot.YLabel(y, size: 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        // Outside the data area, so no curve hides behind it: a series' values can be anywhere, so a corner is not safe.
        // A forecast's legend goes under the plot, where it costs height instead of the width the dates need.
        plot.ShowLegend(legend == LegendPlace.Right ? Edge.Right : Edge.Bottom);
        plot.Legend.FontSize = 13;
        return plot;
    }

    internal static void Save(Plot plot, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>"member k of n" (k from 0).</summary>
    internal static string MemberName(int k, int count) => string.Create(CultureInfo.InvariantCulture, $"member {k + 1} of {count}");

    private static string Of(string? member) => string.IsNullOrEmpty(member) ? "" : $" of {member}";

    /// <summary>Whole numbers on the x axis: epochs, steps and optimiser steps have no halves.</summary>
    private static void IntegerTicks(Plot plot) => plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

    internal static Color Palette(int k) => new ScottPlot.Palettes.Category10().GetColor(k);

    internal static void Style(ScottPlot.Plottables.Scatter s, Color color, string label, LinePattern pattern, float width = 2)
    {
        s.Color = color;
        s.LineWidth = width;
        s.LinePattern = pattern;
        s.MarkerSize = 0;
        s.LegendText = label;
    }

    /// <summary>Labelled ticks at the powers of ten (and at 2 and 5 times them when the data spans less than three
    /// decades), minor ticks at the other integer multiples, for data already in log10 units spanning [lo, hi].</summary>
    internal static void LogAxis(Plot plot, double lo, double hi)
    {
        if (!(double.IsFinite(lo) && double.IsFinite(hi))) return;
        if (hi - lo < 1) { lo -= 0.5; hi += 0.5; }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        bool dense = hi - lo < 3;
        int stride = Math.Max(1, (int)Math.Ceiling((hi - lo) / 10));
        for (int e = (int)Math.Floor(lo); e <= (int)Math.Ceiling(hi); e++)
            for (int m = 1; m <= 9; m++)
            {
                double y = e + Math.Log10(m);
                if (y < lo - 0.05 || y > hi + 0.05) continue;
                bool major = m == 1 && e % stride == 0 || dense && m is 2 or 5;
                if (major) ticks.AddMajor(y, Label(m * Math.Pow(10, e)));
                else ticks.AddMinor(y);
            }
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.SetLimitsY(lo - 0.1, hi + 0.1);
    }

    private static string Label(double v) => v >= 1e-3 && v < 1e5 ? v.ToString("0.####", CultureInfo.InvariantCulture) : v.ToString("0e0", CultureInfo.InvariantCulture);

    private static double[] Y(IEnumerable<double> values, bool log) => values.Select(v => log ? (v > 0 ? Math.Log10(v) : double.NaN) : v).ToArray();

    private static string Title(string prefix, string what) => string.IsNullOrEmpty(prefix) ? what : $"{prefix}: {what}";

    private static string Reach(double r) => double.IsFinite(r) ? r.ToString("G2", CultureInfo.InvariantCulture) : "n/a";

    private static void Check(IReadOnlyList<TrainingDiagnostics> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0) throw new ArgumentException("At least one run is needed.", nameof(runs));
    }
}

using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Core.Training;
using Spectre.Console;

namespace MLNetRnn.Cli;

/// <summary>
/// What the user sees while a forecaster fits. In a terminal: live bars, one per phase (member k of K, refit k of K),
/// each with its epoch, training and validation loss, mean ‖g‖, how close early stopping is, elapsed and remaining
/// time. Redirected to a file or a CI log, where bars cannot redraw: one line per tenth of the epochs and one at the
/// end of each phase.
/// </summary>
internal static class TrainingDisplay
{
    public static RnnForecastingTransformer Fit(IAnsiConsole console, RnnForecastingEstimator estimator, IDataView data)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            var log = new LogReporter(console);
            estimator.Progress = log;
            try
            {
                return estimator.Fit(data);
            }
            finally
            {
                estimator.Progress = null;
                log.Complete();
            }
        }

        RnnForecastingTransformer fitted = null!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var bars = new BarReporter(ctx);
                estimator.Progress = bars;
                try
                {
                    fitted = estimator.Fit(data);
                }
                finally
                {
                    estimator.Progress = null;
                }
                bars.Complete();
            });
        return fitted;
    }

    private static string Phase(TrainingProgress p) => string.IsNullOrEmpty(p.Phase) ? "training" : p.Phase;

    private static string Describe(TrainingProgress p)
    {
        var e = p.Summary;
        string validation = double.IsFinite(e.ValidationLoss) ? string.Create(CultureInfo.InvariantCulture, $" val {e.ValidationLoss:G3}") : "";
        string patience = p.Patience > 0 ? $" · patience {p.EpochsWithoutImprovement}/{p.Patience}" : "";
        return string.Create(CultureInfo.InvariantCulture, $"{Phase(p),-14} epoch {p.Epoch + 1,4}/{p.Epochs} · loss {e.TrainingLoss:G3}{validation} · ‖g‖ {e.MeanGradientNorm:G3}{patience}");
    }

    /// <summary>Receives the trainer's per-epoch reports (on the training threads: members may train in parallel) and
    /// moves the bars; a phase's bar fills when its run says it has stopped.</summary>
    private sealed class BarReporter(ProgressContext ctx) : IProgress<TrainingProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = [];

        public void Report(TrainingProgress p)
        {
            lock (_tasks)
            {
                if (!_tasks.TryGetValue(Phase(p), out var task))
                {
                    task = ctx.AddTask(Phase(p), maxValue: p.Epochs);
                    _tasks[Phase(p)] = task;
                }
                task.MaxValue = p.Epochs;
                task.Value = p.StoppedBy is null ? p.Epoch + 1 : p.Epochs;
                task.Description = Markup.Escape(Describe(p));
            }
        }

        public void Complete()
        {
            lock (_tasks)
                foreach (var t in _tasks.Values) t.Value = t.MaxValue;
        }
    }

    /// <summary>Plain lines for consoles that cannot redraw: every tenth of the epochs, and the epoch a run stops at.</summary>
    private sealed class LogReporter(IAnsiConsole console) : IProgress<TrainingProgress>
    {
        private readonly object _gate = new();

        public void Report(TrainingProgress p)
        {
            if (p.StoppedBy is null && (p.Epoch + 1) % Math.Max(1, p.Epochs / 10) != 0) return;
            string end = p.StoppedBy switch
            {
                null => "",
                TrainingStop.EarlyStopping => " · stopped early",
                TrainingStop.Epochs => " · done",
                var reason => $" · stopped: {reason}",
            };
            lock (_gate) console.WriteLine(Describe(p) + end);
        }

        public void Complete()
        {
        }
    }
}

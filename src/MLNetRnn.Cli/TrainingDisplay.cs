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

    /// <summary>Receives the trainer's per-epoch reports (on the training thread) and moves the bars.</summary>
    private sealed class BarReporter(ProgressContext ctx) : IProgress<TrainingProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = [];
        private ProgressTask? _current;

        public void Report(TrainingProgress p)
        {
            if (!_tasks.TryGetValue(Phase(p), out var task))
            {
                if (_current is not null) _current.Value = _current.MaxValue;   // early stopping ended the last phase
                task = ctx.AddTask(Phase(p), maxValue: p.Epochs);
                _tasks[Phase(p)] = task;
                _current = task;
            }
            task.MaxValue = p.Epochs;
            task.Value = p.Epoch + 1;
            task.Description = Markup.Escape(Describe(p));
        }

        public void Complete()
        {
            foreach (var t in _tasks.Values) t.Value = t.MaxValue;
        }
    }

    /// <summary>Plain lines for consoles that cannot redraw.</summary>
    private sealed class LogReporter(IAnsiConsole console) : IProgress<TrainingProgress>
    {
        private TrainingProgress? _last;

        public void Report(TrainingProgress p)
        {
            if (_last is not null && Phase(_last) != Phase(p) && (_last.Epoch + 1) % Every(_last) != 0) Write(_last, "stopped");
            _last = p;
            if ((p.Epoch + 1) % Every(p) == 0) Write(p, p.Epoch + 1 == p.Epochs ? "done" : "");
        }

        public void Complete()
        {
            if (_last is not null && (_last.Epoch + 1) % Every(_last) != 0) Write(_last, "stopped");
        }

        private static int Every(TrainingProgress p) => Math.Max(1, p.Epochs / 10);

        private void Write(TrainingProgress p, string note)
            => console.WriteLine(Describe(p) + (note.Length > 0 ? $" · {note}" : ""));
    }
}

using System.Globalization;
using Microsoft.ML;
using MLNetRnn.Core.Training;
using Spectre.Console;

namespace MLNetRnn.Cli;

/// <summary>A live progress display while a forecaster fits: one bar per phase (member k of K, refit k of K), each with
/// its epoch, training and validation loss, mean ‖g‖, how close early stopping is, and the time left.</summary>
internal static class TrainingDisplay
{
    public static RnnForecastingTransformer Fit(IAnsiConsole console, RnnForecastingEstimator estimator, IDataView data)
    {
        RnnForecastingTransformer fitted = null!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var progress = new Reporter(ctx);
                estimator.Progress = progress;
                try
                {
                    fitted = estimator.Fit(data);
                }
                finally
                {
                    estimator.Progress = null;
                }
                progress.Complete();
            });
        return fitted;
    }

    /// <summary>Receives the trainer's per-epoch reports (on the training thread) and moves the bars.</summary>
    private sealed class Reporter(ProgressContext ctx) : IProgress<TrainingProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = [];
        private ProgressTask? _current;

        public void Report(TrainingProgress p)
        {
            string phase = string.IsNullOrEmpty(p.Phase) ? "training" : p.Phase;
            if (!_tasks.TryGetValue(phase, out var task))
            {
                if (_current is not null) _current.Value = _current.MaxValue;   // early stopping ended the last phase
                task = ctx.AddTask(phase, maxValue: p.Epochs);
                _tasks[phase] = task;
                _current = task;
            }
            task.MaxValue = p.Epochs;
            task.Value = p.Epoch + 1;
            var e = p.Summary;
            string validation = double.IsFinite(e.ValidationLoss) ? string.Create(CultureInfo.InvariantCulture, $" val {e.ValidationLoss:G3}") : "";
            string patience = p.Patience > 0 ? $" · patience {p.EpochsWithoutImprovement}/{p.Patience}" : "";
            task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{phase,-14} epoch {p.Epoch + 1,4}/{p.Epochs} · loss {e.TrainingLoss:G3}{validation} · ‖g‖ {e.MeanGradientNorm:G3}{patience}"));
        }

        public void Complete()
        {
            foreach (var t in _tasks.Values) t.Value = t.MaxValue;
        }
    }
}

using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;
using MLNetRnn.Core.Training;

namespace MLNetRnn.Core.Tests.Losses;

/// <summary>The pinball (quantile) loss: its gradient, which level each output gets, and that minimising it finds
/// the quantiles.</summary>
public sealed class PinballLossTests
{
    private static readonly float[] Levels = [0.1f, 0.5f, 0.9f];

    [Fact]
    public void PinballGradientMatchesCentralDifferences()
    {
        var rng = new Random(7);
        const int n = 60;   // 20 values × 3 levels
        var y = new float[n];
        var t = new float[n];
        for (int k = 0; k < n; k++)
        {
            y[k] = (float)(rng.NextDouble() * 4 - 2);
            // Keep every point at least 0.05 away from the kink at y = t, so ±ε never straddles it.
            float gap = (float)(0.05 + rng.NextDouble()) * (rng.Next(2) == 0 ? -1 : 1);
            t[k] = y[k] + gap;
        }
        var dy = new float[n];
        Loss.Compute(LossKind.Pinball, 1f, Levels, y, t, dy);
        const float eps = 1e-2f;
        double worst = 0;
        int worstAt = -1;
        for (int k = 0; k < n; k++)
        {
            float saved = y[k];
            y[k] = saved + eps;
            double up = Loss.Compute(LossKind.Pinball, 1f, Levels, y, t, []);
            y[k] = saved - eps;
            double down = Loss.Compute(LossKind.Pinball, 1f, Levels, y, t, []);
            y[k] = saved;
            double numeric = (up - down) / (2 * eps), error = Math.Abs(numeric - dy[k]);
            if (error > worst) (worst, worstAt) = (error, k);
        }
        Assert.True(worst < 1e-5, $"worst |analytic − numeric| = {worst:E2} at output {worstAt} (level {Levels[worstAt % 3]}): analytic {dy[worstAt]}.");
    }

    [Fact]
    public void EachOutputGetsTheLevelOfItsPositionModuloQ()
    {
        // One value under-forecast by 1 at each of the three outputs: the loss of output o is τ[o mod 3]·1.
        float[] y = [0, 0, 0, 0, 0, 0], t = [1, 1, 1, 1, 1, 1];
        var dy = new float[6];
        double loss = Loss.Compute(LossKind.Pinball, 1f, Levels, y, t, dy);
        Assert.Equal((0.1 + 0.5 + 0.9) * 2 / 6, loss, 6);
        float[] expected = [-0.1f / 6, -0.5f / 6, -0.9f / 6, -0.1f / 6, -0.5f / 6, -0.9f / 6];
        for (int k = 0; k < 6; k++) Assert.Equal(expected[k], dy[k], 1e-7f);
        // Over-forecast by 1: (1 − τ) each.
        double over = Loss.Compute(LossKind.Pinball, 1f, Levels, t, y, dy);
        Assert.Equal((0.9 + 0.5 + 0.1) * 2 / 6, over, 6);
    }

    [Fact]
    public void MinimisingPinballFindsTheQuantilesOfTheTargets()
    {
        // A network with no useful input learns a constant per output: the pinball minimiser is the τ-quantile of
        // the targets, here N(0, 1) draws, so the three outputs should land near −1.28, 0 and 1.28.
        var rng = new Random(3);
        const int N = 4000;
        var x = new float[N];
        var target = new float[N * 3];
        for (int i = 0; i < N; i++)
        {
            float v = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
            target[i * 3] = target[i * 3 + 1] = target[i * 3 + 2] = v;
        }
        var spec = new RecurrentNetworkSpec { Cell = MLNetRnn.Core.Cells.RecurrentCellKind.Gru, InputSize = 1, HiddenSizes = [4], OutputSize = 3 };
        var net = new RecurrentNetwork(spec, seed: 1);
        new RecurrentTrainer(net, new TrainingOptions
        {
            Loss = LossKind.Pinball, Quantiles = Levels, Epochs = 40, BatchSize = 200, Seed = 1,
            Optimizer = new MLNetRnn.Core.Optimizers.OptimizerOptions { LearningRate = 0.02f },
        }).Fit(new MLNetRnn.Core.Data.SequenceDataset(x, target, N, 1, 1, 3));
        var output = net.Predict(x.AsSpan(0, 1).ToArray(), 1, 1);
        Assert.InRange(output[0], -1.45f, -1.1f);
        Assert.InRange(output[1], -0.15f, 0.15f);
        Assert.InRange(output[2], 1.1f, 1.45f);
    }

    [Fact]
    public void PinballNeedsLevelsThatFitTheOutputs()
    {
        var spec = new RecurrentNetworkSpec { InputSize = 1, HiddenSizes = [2], OutputSize = 4 };
        Assert.Contains("Quantiles", Assert.ThrowsAny<ArgumentException>(() => new TrainingOptions { Loss = LossKind.Pinball }.Validate(spec)).Message);
        Assert.Contains("multiple of 3", Assert.Throws<ArgumentException>(() => new TrainingOptions { Loss = LossKind.Pinball, Quantiles = Levels }.Validate(spec)).Message);
        Assert.Contains("strictly increasing", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new TrainingOptions { Loss = LossKind.Pinball, Quantiles = [0.5f, 0.1f] }.Validate(spec)).Message);
    }
}

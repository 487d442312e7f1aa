namespace MLNetRnn.Core.Data;

/// <summary>The synthetic long-range tasks of Hochreiter &amp; Schmidhuber (1997) and Pascanu et al. (2013),
/// for checking that a configuration can learn dependencies across T steps.</summary>
public static class SyntheticTasks
{
    /// <summary>
    /// The adding problem: each step has two features, a value drawn from U(0, 1) and a marker that is 1
    /// at exactly two steps (one in the first half, one in the second) and 0 elsewhere; the target is the
    /// sum of the two marked values. Always answering 1 scores an MSE of about 0.167 (the variance of the
    /// sum of two uniforms); a solved task scores below 0.01.
    /// </summary>
    /// <param name="count">N sequences.</param>
    /// <param name="steps">T, at least 2.</param>
    /// <param name="seed">Seed of the draw.</param>
    /// <returns>Inputs (N, T, 2) and targets (N, 1, 1) for <see cref="Losses.LossPlacement.LastStep"/>.</returns>
    public static SequenceDataset AddingProblem(int count, int steps, int seed)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "The adding problem needs at least 2 steps.");
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be at least 1.");
        var rng = new Random(seed);
        var x = new float[count * steps * 2];
        var y = new float[count];
        int half = steps / 2;
        for (int n = 0; n < count; n++)
        {
            for (int t = 0; t < steps; t++) x[(n * steps + t) * 2] = rng.NextSingle();
            int a = rng.Next(half), b = half + rng.Next(steps - half);
            x[(n * steps + a) * 2 + 1] = 1f;
            x[(n * steps + b) * 2 + 1] = 1f;
            y[n] = x[(n * steps + a) * 2] + x[(n * steps + b) * 2];
        }
        return new SequenceDataset(x, y, count, steps, 2, 1);
    }
}

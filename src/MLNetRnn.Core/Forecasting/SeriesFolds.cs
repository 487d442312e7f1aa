namespace MLNetRnn.Core.Forecasting;

// N = windows of one series (N_s), K = ensemble members, Vb = windows per held-out block, H = horizon.
// Windows are numbered within their series; a panel numbers them series by series (global ids, PanelWindowSource).

/// <summary>How one series' windows are split between the members: the block each member holds out, the gap
/// around it.</summary>
internal sealed class SeriesFolds
{
    public required int Windows;        // N_s
    public required int Block;          // Vb: windows per held-out block (0: the series is not validated)
    public required int Gap;            // windows dropped on each side of a block
    public required int[] BlockStart;   // (K)
    public required bool Excluded;      // constant: not trained on, not validated
    public int HeldOut;                 // windows held out by at least one member

    public static SeriesFolds Of(ForecasterSettings s, int windows, bool constant)
    {
        int K = s.EnsembleSize, N = windows, Vb = N == 0 || constant ? 0 : s.ValidationWindows(N);
        var blockStart = BlockStarts(N, K, Vb);
        var f = new SeriesFolds { Windows = N, Block = Vb, Gap = s.FoldGap, BlockStart = blockStart, Excluded = constant };
        for (int w = 0; w < N; w++)
            if (f.Validators(w) > 0) f.HeldOut++;
        return f;
    }

    /// <summary>Whether member k trains on window w.</summary>
    public bool Trains(int k, int w) => !Excluded && (Block == 0 || w < BlockStart[k] - Gap || w >= BlockStart[k] + Block + Gap);

    /// <summary>Whether member k holds window w out.</summary>
    public bool Holds(int k, int w) => Block > 0 && w >= BlockStart[k] && w < BlockStart[k] + Block;

    /// <summary>How many members hold window w out.</summary>
    public int Validators(int w)
    {
        int count = 0;
        for (int k = 0; k < BlockStart.Length; k++)
            if (Holds(k, w)) count++;
        return count;
    }

    /// <summary>Where member k's block of <paramref name="block"/> windows starts among N: k = 0 the last block, the others
    /// spread evenly back to the first.</summary>
    private static int[] BlockStarts(int windows, int members, int block)
    {
        int N = windows, K = members, Vb = block;
        var blockStart = new int[K];
        for (int k = 0; k < K; k++) blockStart[k] = K == 1 ? N - Vb : N - Vb - (int)Math.Round(k * (N - Vb) / (double)(K - 1));
        return blockStart;
    }

    /// <summary>
    /// The folds of the cross-validated ensemble over the N windows of one series: member k validates on the block of
    /// <paramref name="block"/> windows starting at BlockStart[k] and trains on every window outside the block and
    /// <paramref name="gap"/> windows on each side of it. With gap = H − 1 no training target is a validation target.
    /// </summary>
    internal static (int[] BlockStart, int[][] TrainIndex) CrossValidationFolds(int windows, int members, int block, int gap)
    {
        var blockStart = BlockStarts(windows, members, block);
        var trainIndex = new int[members][];
        for (int k = 0; k < members; k++)
        {
            int from = blockStart[k] - gap, to = blockStart[k] + block + gap;
            trainIndex[k] = Enumerable.Range(0, windows).Where(i => i < from || i >= to).ToArray();
        }
        return (blockStart, trainIndex);
    }

    /// <summary>
    /// Member k's early-stopping windows. Within each series' block at most <see cref="ForecasterSettings.MaximumEarlyStoppingWindows"/>,
    /// evenly spaced: consecutive windows overlap in all but one value, so a long block says little more than its
    /// sample, and validating every window after every epoch would cost more than the training on a long series. On a
    /// panel, each series' share reweighted as training draws the series (<see cref="SeriesWeighting"/>), then at most
    /// <see cref="ForecasterSettings.MaximumPanelEarlyStoppingWindows"/> of those, taken evenly across the series.
    /// </summary>
    internal static int[] EarlyStoppingWindows(SeriesFolds[] folds, int[] start, int k, double exponent = 1)
    {
        var rows = new List<int>();
        for (int i = 0; i < folds.Length; i++)
        {
            int Vb = folds[i].Block;
            if (Vb == 0) continue;
            int stride = Math.Max(1, (Vb + ForecasterSettings.MaximumEarlyStoppingWindows - 1) / ForecasterSettings.MaximumEarlyStoppingWindows);
            for (int w = folds[i].BlockStart[k]; w < folds[i].BlockStart[k] + Vb; w++)
                if ((w - folds[i].BlockStart[k]) % stride == 0) rows.Add(start[i] + w);
        }
        if (folds.Length > 1 && exponent != 1) rows = Reweighted(rows, start, exponent);
        if (folds.Length == 1 || rows.Count <= ForecasterSettings.MaximumPanelEarlyStoppingWindows) return rows.ToArray();
        int every = (rows.Count + ForecasterSettings.MaximumPanelEarlyStoppingWindows - 1) / ForecasterSettings.MaximumPanelEarlyStoppingWindows;
        return rows.Where((_, j) => j % every == 0).ToArray();
    }

    /// <summary>The same number of rows, each series' share now ∝ (its rows)^α: a series short of its share repeats
    /// its windows in turn, a long one gives evenly spaced ones. So early stopping weighs the series as training does.</summary>
    private static List<int> Reweighted(List<int> rows, int[] start, double exponent)
    {
        var runs = rows.GroupBy(g => PanelWindowSource.Locate(start, g).Series).Select(g => g.ToArray()).ToArray();
        double total = runs.Sum(r => Math.Pow(r.Length, exponent));
        var result = new List<int>(rows.Count);
        foreach (var run in runs)
        {
            int share = Math.Max(1, (int)Math.Round(Math.Pow(run.Length, exponent) / total * rows.Count));
            for (int j = 0; j < share; j++) result.Add(run[(int)((long)j * run.Length / share)]);
        }
        return result;
    }

}

namespace MLNetRnn.Testing;

/// <summary>Tensor comparisons that say which tensor, which index, expected and actual.</summary>
internal static class Close
{
    /// <summary>Asserts |expected − actual| ≤ relative·max|expected| + absolute for every element.</summary>
    public static void AssertTensor(string what, float[] expected, float[] actual, double relative, double absolute = 1e-6)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} elements, got {actual.Length}.");
        double scale = expected.Length == 0 ? 0 : expected.Max(x => Math.Abs((double)x));
        double tol = relative * scale + absolute;
        int worst = -1;
        double worstErr = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs((double)expected[i] - actual[i]);
            if (err > worstErr) { worstErr = err; worst = i; }
        }
        Assert.True(worstErr <= tol,
            $"{what}: worst error {worstErr:E3} at index {worst} (expected {expected[Math.Max(worst, 0)]:R}, actual {actual[Math.Max(worst, 0)]:R}) exceeds tolerance {tol:E3}.");
    }
}

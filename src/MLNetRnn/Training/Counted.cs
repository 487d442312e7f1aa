using System.Globalization;

namespace MLNetRnn.Training;

/// <summary>A number and its noun in agreement ("1 row", "2 rows", "1 series"), for the messages of both modes, so no
/// message says "1 rows" or hedges with "row(s)".</summary>
internal static class Counted
{
    /// <summary><paramref name="n"/> and <paramref name="singular"/>, or <paramref name="plural"/> (default: the singular
    /// and an s) when n is not 1. Invariant digits, as every message formats its numbers.</summary>
    public static string Of(long n, string singular, string? plural = null)
        => string.Create(CultureInfo.InvariantCulture, $"{n} {(n == 1 ? singular : plural ?? singular + "s")}");
}

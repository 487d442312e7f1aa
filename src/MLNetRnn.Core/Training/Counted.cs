using System.Globalization;

namespace MLNetRnn.Core.Training;

/// <summary>A number and its noun in agreement ("1 value", "2 values"), for messages, so none says "1 values". The
/// ML.NET layer has its own copy: it uses only Core's public API.</summary>
internal static class Counted
{
    /// <summary><paramref name="n"/> and <paramref name="singular"/>, or <paramref name="plural"/> (default: the singular
    /// and an s) when n is not 1, with invariant digits.</summary>
    public static string Of(long n, string singular, string? plural = null)
        => string.Create(CultureInfo.InvariantCulture, $"{n} {(n == 1 ? singular : plural ?? singular + "s")}");
}

using System.ComponentModel;
namespace MLNetRnn.Core.Serialization;

/// <summary>
/// Small helpers for the binary payloads of saved models. Enums are written by name, not by value, so that
/// reordering or inserting a member can never silently change what an old model means; an unknown name is
/// an <see cref="InvalidDataException"/> that says which type it was read for.
/// </summary>
/// <remarks>Public for the ML.NET layer (MLNetRnn), not part of the stable API: it may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Persisted
{
    /// <summary>Writes <paramref name="value"/> by name.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void WriteEnum<T>(BinaryWriter w, T value) where T : struct, Enum => w.Write(value.ToString());

    /// <summary>Reads what <see cref="WriteEnum"/> wrote; an unknown name is an <see cref="InvalidDataException"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static T ReadEnum<T>(BinaryReader r) where T : struct, Enum
    {
        string name = r.ReadString();
        if (Enum.TryParse<T>(name, ignoreCase: false, out var value) && Enum.IsDefined(value) && !int.TryParse(name, out _)) return value;
        throw new InvalidDataException($"'{Truncate(name)}' is not a {typeof(T).Name} this version knows ({string.Join(", ", Enum.GetNames<T>())}).");
    }

    internal static void WriteArray(BinaryWriter w, ReadOnlySpan<float> values)
    {
        w.Write(values.Length);
        foreach (float v in values) w.Write(v);
    }

    /// <summary>Reads what <see cref="WriteArray"/> wrote, refusing a length beyond <paramref name="maxLength"/>
    /// before allocating (a corrupt length must not become an out-of-memory error).</summary>
    internal static float[] ReadArray(BinaryReader r, int maxLength = 1 << 26)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > maxLength) throw new InvalidDataException($"Array length {n} is out of range (0 to {maxLength}).");
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.ReadSingle();
        return a;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

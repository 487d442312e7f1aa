namespace MLNetRnn.Regression;

/// <summary>Enums in window mode's saved models are written by name, so that reordering or inserting a member
/// never changes what an old model means.</summary>
internal static class PersistedEnum
{
    /// <summary>Reads a name written by <c>BinaryWriter.Write(value.ToString())</c>.</summary>
    /// <exception cref="InvalidDataException">The name is not a member of <typeparamref name="T"/> (names what and the
    /// members this build knows).</exception>
    public static T Read<T>(BinaryReader r, string what) where T : struct, Enum
    {
        string name = r.ReadString();
        // TryParse also accepts digits and comma lists; only an exact member name is a valid record.
        if (!Enum.TryParse<T>(name, ignoreCase: false, out var value) || !Enum.IsDefined(value) || value.ToString() != name)
            throw new InvalidDataException($"Unknown {what} '{name}'; this build knows {string.Join(", ", Enum.GetNames<T>())}.");
        return value;
    }
}

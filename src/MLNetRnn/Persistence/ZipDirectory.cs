using System.Buffers.Binary;
using System.Text;

namespace MLNetRnn.Persistence;

/// <summary>
/// A zip file names each entry twice: in the entry's own local header, before its data, and in the central directory
/// at the end, which readers (<see cref="System.IO.Compression.ZipArchive"/> among them) list entries from. A file cut
/// short by an interrupted save loses entries from both; a damaged byte in the directory renames an entry in one.
/// Comparing the two tells damage from an interrupted save when an expected entry is missing.
/// </summary>
internal static class ZipDirectory
{
    private const uint LocalHeaderSignature = 0x04034b50;   // "PK\x03\x04"
    private const int LocalHeaderSize = 30;                  // fixed part; the name follows, its length at offset 26

    /// <summary>The first of <paramref name="directoryNames"/> (ASCII names, as ML.NET writes them) that no local
    /// header in <paramref name="stream"/> carries, or null when every one is found. Reads the whole stream.</summary>
    public static string? NameMissingFromEntries(Stream stream, IReadOnlyList<string> directoryNames)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.GetBuffer().AsSpan(0, (int)copy.Length);
        // Local headers found by their signature; one that happens to occur inside compressed data only adds a name,
        // which can hide damage but never invent it.
        var local = new HashSet<string>(StringComparer.Ordinal);
        for (int i = bytes.IndexOf("PK\x03\x04"u8); i >= 0 && i + LocalHeaderSize <= bytes.Length;)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i + 26)..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[i..]) == LocalHeaderSignature && i + LocalHeaderSize + nameLength <= bytes.Length)
                local.Add(Encoding.UTF8.GetString(bytes.Slice(i + LocalHeaderSize, nameLength)));
            int next = bytes[(i + 1)..].IndexOf("PK\x03\x04"u8);
            i = next < 0 ? -1 : i + 1 + next;
        }
        // Names outside ASCII may be encoded differently in the two places (code page 437 or UTF-8): not compared.
        return directoryNames.FirstOrDefault(n => n.All(char.IsAscii) && !local.Contains(n));
    }
}

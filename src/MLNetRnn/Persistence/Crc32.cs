namespace MLNetRnn.Persistence;

/// <summary>
/// CRC-32 (IEEE 802.3, the zip polynomial). <see cref="System.IO.Compression.ZipArchive"/> records each
/// entry's CRC-32 but, as of .NET 10, does not compare it when the entry is read, so a flipped byte
/// inside compressed data inflates to silently different content. <see cref="ModelFile"/> checks it.
/// </summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>Continues <paramref name="crc"/> (0 for an empty prefix) over <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (byte b in data)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < table.Length; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}

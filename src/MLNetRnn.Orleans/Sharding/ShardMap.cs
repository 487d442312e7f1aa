using System.Text;

namespace MLNetRnn.Orleans.Sharding;

/// <summary>Series id to shard: FNV-1a (64 bits) of the id's UTF-8 bytes, modulo the shard count. Stable across
/// processes, machines and .NET versions (string.GetHashCode is randomised per process), so a silo, a trainer and a
/// client agree on a series' shard without asking anyone.</summary>
public static class ShardMap
{
    /// <summary>The shard, 0 to <paramref name="shardCount"/> − 1, of <paramref name="seriesId"/>.</summary>
    public static int ShardOf(string seriesId, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        return shardCount == 1 ? 0 : (int)(Hash(seriesId) % (ulong)shardCount);
    }

    /// <summary>FNV-1a (64 bits) of the UTF-8 bytes of <paramref name="seriesId"/>.</summary>
    internal static ulong Hash(string seriesId)
    {
        ArgumentNullException.ThrowIfNull(seriesId);
        ulong hash = 14695981039346656037UL;
        int n = Encoding.UTF8.GetByteCount(seriesId);
        Span<byte> bytes = n <= 256 ? stackalloc byte[n] : new byte[n];
        Encoding.UTF8.GetBytes(seriesId, bytes);
        foreach (byte b in bytes) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }
}

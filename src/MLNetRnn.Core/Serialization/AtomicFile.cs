using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MLNetRnn.Core.Serialization;

/// <summary>Writes a file through a temporary sibling and a rename, so readers never see a partial file and a
/// failed write leaves the previous file as it was.</summary>
public static partial class AtomicFile
{
    /// <summary>How long a temporary file whose writer's process id is taken by a live process is left alone: long
    /// enough that a writer that has created its file but not yet locked it is never disturbed (microseconds), short
    /// enough that a leftover whose process id was reused does not stay for good.</summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(10);

    /// <remarks>
    /// <para>The rename is atomic on one file system (POSIX rename, Windows MoveFileEx with replace), which is why the
    /// temporary file lives beside the destination. It is removed when writing fails; only a process killed
    /// mid-write can leave one behind, so each write first removes such leftovers for the same destination (see
    /// <see cref="TemporaryName"/> and <see cref="RemoveStaleTemporaryFiles"/>). The stream is readable and seekable,
    /// as zip writers need.</para>
    /// </remarks>
    /// <exception cref="DirectoryNotFoundException">The destination's directory does not exist.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Cannot write '{path}': directory '{dir}' does not exist.");
        RemoveStaleTemporaryFiles(full);
        string temp = Path.Combine(dir, TemporaryName(Path.GetFileName(full), Environment.ProcessId, Guid.NewGuid()));
        try
        {
            // FileShare.None locks the file for as long as it is written (on Unix an advisory flock): that lock is
            // how a later write tells a live writer's temporary file from a dead one's.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            // Flushed to disk first: the rename may reach the disk before the data, and a power cut must not
            // leave a renamed but empty file.
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            try { if (File.Exists(temp)) File.Delete(temp); }
            catch (IOException) { /* the original failure matters more than a leftover temporary file */ }
        }
    }

    /// <summary>
    /// <c>.{file name}.mlnetrnn-{writer's process id}-{32 hex digits}.tmp</c>: hidden, next to the destination,
    /// recognisably ours (so a cleanup never touches a file of the user's), and naming the process that wrote it.
    /// </summary>
    internal static string TemporaryName(string fileName, int processId, Guid id)
        => string.Create(CultureInfo.InvariantCulture, $".{fileName}.mlnetrnn-{processId}-{id:N}.tmp");

    /// <summary>
    /// Deletes the temporary files that earlier writes to <paramref name="fullPath"/> left behind when their process
    /// was killed. A file is deleted only when its name is exactly one of ours for this destination, nothing holds it
    /// open (a live writer keeps it locked), and the process that wrote it is gone, or the file is older than
    /// <see cref="StaleAfter"/> (its process id now belongs to another process). Best effort: a file that cannot be
    /// checked or deleted is left, and the write goes on.
    /// </summary>
    internal static void RemoveStaleTemporaryFiles(string fullPath)
    {
        string dir = Path.GetDirectoryName(fullPath) ?? ".";
        string prefix = "." + Path.GetFileName(fullPath) + ".mlnetrnn-";
        IEnumerable<string> candidates;
        try
        {
            // Filtered by exact prefix below: a search pattern would treat '*' and '?' in the file name as wildcards.
            candidates = Directory.EnumerateFiles(dir, "*.tmp").ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string candidate in candidates)
        {
            string name = Path.GetFileName(candidate);
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var match = TemporarySuffix().Match(name, prefix.Length);
            if (!match.Success || match.Index != prefix.Length) continue;
            if (!int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int processId)) continue;
            try
            {
                if (IsRunning(processId) && DateTime.UtcNow - File.GetLastWriteTimeUtc(candidate) < StaleAfter) continue;
                // A live writer holds its file with FileShare.None; opening it the same way fails while it does.
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(candidate);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // In use, or not ours to delete: leave it.
            }
        }
    }

    private static bool IsRunning(int processId)
    {
        if (processId == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;   // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"\G([0-9]{1,10})-[0-9a-f]{32}\.tmp\z", RegexOptions.CultureInvariant)]
    private static partial Regex TemporarySuffix();
}

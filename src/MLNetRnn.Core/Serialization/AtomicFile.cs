namespace MLNetRnn.Core.Serialization;

/// <summary>Writes a file through a temporary sibling and a rename, so readers never see a partial file and a
/// failed write leaves the previous file as it was.</summary>
internal static class AtomicFile
{
    /// <remarks>The rename is atomic on one file system (POSIX rename, Windows MoveFileEx with replace), which is
    /// why the temporary file lives beside the destination, named <c>.{name}.{random}.tmp</c>. It is removed when
    /// writing fails; only a process killed mid-write can leave one behind. The stream is readable and seekable,
    /// as zip writers need.</remarks>
    /// <exception cref="DirectoryNotFoundException">The destination's directory does not exist.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Cannot write '{path}': directory '{dir}' does not exist.");
        string temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
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
}

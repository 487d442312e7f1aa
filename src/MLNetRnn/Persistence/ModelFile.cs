using System.Buffers.Binary;
using System.IO.Compression;
using System.Reflection;
using Microsoft.ML;
using MLNetRnn.Core.Serialization;

namespace MLNetRnn.Persistence;

/// <summary>
/// Saves and loads ML.NET model files safely. Use these instead of <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/>
/// and <see cref="ModelOperationsCatalog.Load(string, out DataViewSchema)"/> for models that contain MLNetRnn transformers (or any others).
/// </summary>
/// <remarks>
/// <para>
/// ML.NET's own <c>Save(model, schema, path)</c> opens the destination with <see cref="File.Create(string)"/>:
/// the earlier file is truncated before the first byte of the new model is written, so a save that throws
/// (a transformer's Save failing, the disk filling up, the process dying) leaves neither the old model nor
/// a new one. <see cref="SaveAtomically"/> writes to a temporary file in the destination's directory and
/// renames it over the destination only once the model is completely written.
/// </para>
/// <para>
/// ML.NET's own <c>Load</c> reports a missing file, a truncated or corrupted zip, and a model from a newer
/// library in many different ways, mostly as exceptions from deep inside its decoder that do not name the file.
/// <see cref="LoadValidated"/> checks the file first and translates these failures: see its exceptions.
/// </para>
/// </remarks>
public static class ModelFile
{
    private const string OursKey = "MLNetRnn.Persistence";
    private const string ModelStreamName = "Model.key";

    /// <summary>
    /// Saves <paramref name="model"/> and its input schema to <paramref name="filePath"/> so that the file
    /// is either the complete new model or, if saving fails, exactly what it was before.
    /// </summary>
    /// <param name="catalog">The model operations catalog, <c>mlContext.Model</c>.</param>
    /// <param name="model">The transformer to save; <see langword="null"/> saves an empty transformer chain, as in ML.NET.</param>
    /// <param name="inputSchema">The schema of the data the model consumes; may be <see langword="null"/>.</param>
    /// <param name="filePath">The destination file. Its directory must exist.</param>
    /// <exception cref="DirectoryNotFoundException">The destination directory does not exist.</exception>
    /// <remarks>
    /// The rename is atomic on the same file system (POSIX <c>rename</c>, Windows <c>MoveFileEx</c> with
    /// replace), which is why the temporary file lives next to the destination, named
    /// <c>.{file name}.mlnetrnn-{process id}-{random}.tmp</c>. It is removed when saving fails; only a process killed
    /// mid-save can leave one behind, and the next save to the same path removes such leftovers: files with exactly
    /// that name pattern for this destination, that no live save holds open, whose process is gone. Nothing else in
    /// the directory is touched.
    /// </remarks>
    public static void SaveAtomically(this ModelOperationsCatalog catalog, ITransformer? model, DataViewSchema? inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        AtomicFile.Write(filePath, stream => catalog.Save(model, inputSchema, stream));
    }

    /// <summary>
    /// Loads a model saved with <see cref="SaveAtomically"/> or <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/>,
    /// checking the file first and reporting failures with exceptions that name the file and what was wrong.
    /// </summary>
    /// <param name="catalog">The model operations catalog, <c>mlContext.Model</c>.</param>
    /// <param name="filePath">The model file.</param>
    /// <param name="inputSchema">The input schema saved with the model, or <see langword="null"/> if it was saved without one.</param>
    /// <returns>The loaded transformer: the saved type itself (an MLNetRnn transformer loads as its own type),
    /// or a <see cref="Microsoft.ML.Data.TransformerChain{TLastTransformer}"/> for a pipeline.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable ML.NET model: not a zip archive,
    /// truncated, corrupted, or missing the model entries ML.NET writes.</exception>
    /// <exception cref="UnsupportedModelVersionException">The model contains an MLNetRnn component written in a
    /// format version this build cannot read (typically: saved by a newer MLNetRnn).</exception>
    /// <exception cref="InvalidOperationException">The model names a component or assembly that cannot be
    /// found in this process.</exception>
    public static ITransformer LoadValidated(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema? inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);

        string fullPath = Path.GetFullPath(filePath);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException(Directory.Exists(fullPath)
                ? $"Cannot load a model from '{fullPath}': it is a directory, not a model file."
                : $"Cannot load a model from '{fullPath}': the file does not exist.", fullPath);
        }

        using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        CheckArchive(stream, fullPath);
        stream.Position = 0;

        try
        {
            return catalog.Load(stream, out inputSchema);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw Translate(ex, fullPath);
        }
    }

    /// <summary>
    /// Reads the whole archive before ML.NET does, so that a truncated or corrupted file fails here with one
    /// clear exception rather than wherever ML.NET first touches the damaged part, or not at all.
    /// </summary>
    private static void CheckArchive(Stream stream, string fullPath)
    {
        bool hasModelStream = false;
        var entryNames = new List<string>();
        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            foreach (var entry in archive.Entries)
            {
                entryNames.Add(entry.FullName);
                // ML.NET's components write Model.key; Model.bin is its older single-stream form. Both
                // start with ML.NET's model header and end with its tail.
                bool isModelStream = entry.Name is ModelStreamName or "Model.bin";
                hasModelStream |= isModelStream;
                CheckEntry(entry, isModelStream, fullPath);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException or NotSupportedException)
        {
            if (ex.Data.Contains(OursKey))
                throw;
            throw new InvalidDataException(
                $"Cannot load model file '{fullPath}': it is not a readable zip archive ({ex.Message}). " +
                "An ML.NET model file is a zip written by Model.Save; this one is truncated, corrupted, or not a model file.", ex);
        }

        // A damaged byte in the zip's directory can rename an entry; the names in the entries' own headers are as
        // written. Checked before concluding anything from the entries' names.
        stream.Position = 0;
        if (ZipDirectory.NameMissingFromEntries(stream, entryNames) is { } renamed)
        {
            throw MarkOurs(new InvalidDataException(
                $"Cannot load model file '{fullPath}': it is corrupted: the zip archive's directory lists an entry '{renamed}' that no " +
                "entry in the file has, so a byte of the directory was damaged after the file was written (an interrupted save " +
                "leaves a shorter file whose entries agree with its directory)."));
        }

        if (!hasModelStream)
        {
            throw MarkOurs(new InvalidDataException(
                $"Cannot load model file '{fullPath}': it is a zip archive but holds no ML.NET model " +
                $"(no '{ModelStreamName}' entry, which Model.Save always writes): a save that failed part-way, or a zip that is not a model file."));
        }
    }

    private static void CheckEntry(ZipArchiveEntry entry, bool isModelStream, string fullPath)
    {
        // Model streams are kept to check ML.NET's header and tail; ML.NET itself reads them into memory too.
        using var copy = isModelStream ? new MemoryStream() : null;
        uint crc = 0;
        using (var entryStream = entry.Open())
        {
            var buffer = new byte[81920];
            int read;
            while ((read = entryStream.Read(buffer, 0, buffer.Length)) > 0)
            {
                crc = Crc32.Append(crc, buffer.AsSpan(0, read));
                copy?.Write(buffer, 0, read);
            }
        }

        if (crc != entry.Crc32)
        {
            throw MarkOurs(new InvalidDataException(
                $"Cannot load model file '{fullPath}': the zip entry '{entry.FullName}' is corrupted " +
                $"(its CRC-32 is {crc:x8}, the archive records {entry.Crc32:x8})."));
        }

        if (copy != null && !IsCompleteModelStream(copy.GetBuffer().AsSpan(0, (int)copy.Length), out string problem, out bool unfinished))
        {
            // ModelOperationsCatalog.Save writes the archive even when a transformer's Save throws, leaving an entry
            // whose header was never completed: that is the usual way to get one. A completed header over damaged
            // bytes is another matter (its CRC matched, so the damage came with the CRC: a tool rewrote the file).
            throw MarkOurs(new InvalidDataException(unfinished
                ? $"Cannot load model file '{fullPath}': the zip entry '{entry.FullName}' is an unfinished ML.NET model stream " +
                  $"({problem}): what a save that failed part-way leaves behind."
                : $"Cannot load model file '{fullPath}': the zip entry '{entry.FullName}' is corrupted: its ML.NET model stream was " +
                  $"finished, but its bytes no longer agree with its header ({problem})."));
        }
    }

    /// <summary>Checks ML.NET's fixed-size header and the tail signature that ends every model stream.
    /// <paramref name="unfinished"/> tells a stream whose header was never completed, or that ends before the length
    /// its header records (a save that stopped), from a completed one that was damaged.</summary>
    private static bool IsCompleteModelStream(ReadOnlySpan<byte> bytes, out string problem, out bool unfinished)
    {
        unfinished = true;
        if (bytes.Length < ModelHeader.Size)
        {
            problem = $"{bytes.Length} bytes, shorter than the {ModelHeader.Size}-byte header";
            return false;
        }

        ModelHeader.MarshalFromBytes(out var header, bytes[..ModelHeader.Size].ToArray());
        // ML.NET writes the header blank, the stream, then the header's fields and the tail: a blank length is a
        // stream whose save never got to the end, a longer one than the bytes a stream cut short.
        if (header.FpLim == 0)
        {
            problem = "its header was never completed";
            return false;
        }
        if (header.FpLim > bytes.Length)
        {
            problem = $"it ends after {bytes.Length} of the {header.FpLim} bytes its header records";
            return false;
        }
        unfinished = false;
        if (!ModelHeader.TryValidate(ref header, bytes.Length, out var ex))
        {
            problem = ex.Message;
            return false;
        }
        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[(int)(header.FpLim - sizeof(ulong))..]) != ModelHeader.TailSignatureValue)
        {
            problem = "the tail signature is missing";
            return false;
        }

        problem = "";
        return true;
    }

    private static Exception Translate(Exception ex, string fullPath)
    {
        var chain = Chain(ex).ToList();

        if (chain.OfType<UnsupportedModelVersionException>().FirstOrDefault() is { } version)
            return version.WithFile(fullPath);

        if (chain.FirstOrDefault(e => e.Data.Contains(OursKey)) is { } ours)
            return new InvalidDataException($"Cannot load model file '{fullPath}': {ours.Message}", ex);

        // ML.NET calls Assembly.Load on the loader assembly recorded in the model; a model saved by a
        // newer MLNetRnn, or one using a package this application does not reference, fails here.
        if (chain.FirstOrDefault(e => e is FileNotFoundException or FileLoadException) is { } missing)
        {
            string assembly = (missing as FileNotFoundException)?.FileName ?? (missing as FileLoadException)?.FileName ?? "?";
            return new InvalidOperationException(
                $"Cannot load model file '{fullPath}': it needs the assembly '{assembly}', which cannot be loaded in this process " +
                $"({missing.Message.Trim()}). Reference the package that saved the model.", ex);
        }

        var innermost = chain.Count > 0 ? chain[^1] : ex;
        return new InvalidDataException(
            $"Cannot load model file '{fullPath}': ML.NET could not decode the model ({innermost.Message}). " +
            "The file is corrupted, or was saved with a component that is not available in this process.", ex);
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e != null; e = e.InnerException)
        {
            if (e is not TargetInvocationException)
                yield return e;
        }
    }

    /// <summary>Tags an exception raised by our own payload checks, so <see cref="LoadValidated"/> can
    /// find it beneath ML.NET's wrappers and report its message rather than theirs.</summary>
    internal static T MarkOurs<T>(T ex)
        where T : Exception
    {
        ex.Data[OursKey] = true;
        return ex;
    }
}

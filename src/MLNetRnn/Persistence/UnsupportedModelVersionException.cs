namespace MLNetRnn.Persistence;

/// <summary>
/// Thrown when a saved model contains an MLNetRnn component whose format version this build of
/// MLNetRnn cannot read: written by a newer MLNetRnn, or older than this build still supports.
/// </summary>
public sealed class UnsupportedModelVersionException : InvalidOperationException
{
    private UnsupportedModelVersionException(string message, string component, int foundVersion,
        int oldestSupportedVersion, int newestSupportedVersion, string? filePath, Exception? innerException)
        : base(message, innerException)
    {
        Component = component;
        FoundVersion = foundVersion;
        OldestSupportedVersion = oldestSupportedVersion;
        NewestSupportedVersion = newestSupportedVersion;
        FilePath = filePath;
    }

    /// <summary>The loader signature of the component that could not be read.</summary>
    public string Component { get; }

    /// <summary>The format version the component was written in.</summary>
    public int FoundVersion { get; }

    /// <summary>The oldest format version of this component that this build reads.</summary>
    public int OldestSupportedVersion { get; }

    /// <summary>The newest format version of this component that this build reads (the one it writes).</summary>
    public int NewestSupportedVersion { get; }

    /// <summary>The model file, when the model was loaded from a file through <see cref="ModelFile"/>.</summary>
    public string? FilePath { get; }

    private static string LibraryVersion => typeof(UnsupportedModelVersionException).Assembly.GetName().Version?.ToString() ?? "?";

    internal static UnsupportedModelVersionException TooNew(string component, int foundVersion, int readableByVersion, int oldest, int newest)
        => new(
            $"The model component '{component}' was written by a newer MLNetRnn in format version {foundVersion}, " +
            $"which needs a reader of format version {readableByVersion} or later; this MLNetRnn ({LibraryVersion}) reads " +
            $"format versions {oldest} to {newest}. Load the model with the MLNetRnn version that saved it, or a later one.",
            component, foundVersion, oldest, newest, filePath: null, innerException: null);

    internal static UnsupportedModelVersionException TooOld(string component, int foundVersion, int oldest, int newest)
        => new(
            $"The model component '{component}' was written in format version {foundVersion}, which this MLNetRnn " +
            $"({LibraryVersion}) no longer reads; it reads format versions {oldest} to {newest}. " +
            "Load the model with an older MLNetRnn and save it again, or retrain it.",
            component, foundVersion, oldest, newest, filePath: null, innerException: null);

    /// <summary>The same failure, naming the file it was read from.</summary>
    internal UnsupportedModelVersionException WithFile(string filePath)
        => new($"Cannot load model file '{filePath}': {Message}", Component, FoundVersion,
            OldestSupportedVersion, NewestSupportedVersion, filePath, this);
}

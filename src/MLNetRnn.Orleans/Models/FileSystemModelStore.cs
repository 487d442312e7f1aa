namespace MLNetRnn.Orleans.Models;

/// <summary>
/// A model store in a folder: version <c>v</c> of model <c>name</c> is <c>{root}/{name}/{v}.zip</c>. On a shared or
/// mounted folder every silo of a cluster reads the same models. Names and versions are letters, digits, '.', '-'
/// and '_' (a name may also have '/' between such parts), so none escapes the root.
/// </summary>
public sealed class FileSystemModelStore : IModelStore
{
    private readonly string _root;

    /// <summary>A store rooted at <paramref name="root"/> (created when missing).</summary>
    public FileSystemModelStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    /// <summary>The store's folder.</summary>
    public string Root => _root;

    /// <inheritdoc/>
    public Task<bool> ExistsAsync(string name, string version, CancellationToken cancellationToken = default)
        => Task.FromResult(File.Exists(PathOf(name, version)));

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListVersionsAsync(string name, CancellationToken cancellationToken = default)
    {
        string folder = Path.Combine(_root, CheckName(name));
        IReadOnlyList<string> versions = Directory.Exists(folder)
            ? new DirectoryInfo(folder).GetFiles("*.zip").OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => Path.GetFileNameWithoutExtension(f.Name)).ToArray()
            : [];
        return Task.FromResult(versions);
    }

    /// <inheritdoc/>
    public async Task<byte[]> ReadAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        string path = PathOf(name, version);
        if (!File.Exists(path))
        {
            var there = await ListVersionsAsync(name, cancellationToken).ConfigureAwait(false);
            throw new ModelNotFoundException(there.Count == 0
                ? $"The model store ({_root}) holds no model '{name}'."
                : $"The model store ({_root}) holds no version '{version}' of model '{name}'; it holds {string.Join(", ", there.Select(v => $"'{v}'"))}.");
        }
        return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task SaveAsync(string name, string version, ReadOnlyMemory<byte> model, CancellationToken cancellationToken = default)
    {
        string path = PathOf(name, version);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written beside it, then renamed over it: a reader never sees half a file.
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temporary, model.ToArray(), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    private string PathOf(string name, string version)
    {
        CheckName(name);
        if (!IsPart(version)) throw new ArgumentException($"Model version '{version}' must be letters, digits, '.', '-' or '_' (and not '.' or '..').", nameof(version));
        return Path.Combine(_root, name, version + ".zip");
    }

    private static string CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || !name.Split('/').All(IsPart))
            throw new ArgumentException($"Model name '{name}' must be parts of letters, digits, '.', '-' or '_' between '/' (none '.' or '..').", nameof(name));
        return name;
    }

    private static bool IsPart(string part)
        => part.Length > 0 && part != "." && part != ".." && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}

namespace MLNetRnn.Orleans.Models;

/// <summary>
/// Where fitted models live, by name and version, as ML.NET model zips (<c>mlContext.Model.Save</c>, or an engine's
/// checkpoint). Every silo reads from it; the deployment grains check a version exists before any series moves to it.
/// Implementations: <see cref="FileSystemModelStore"/> (a folder, local or mounted); a blob store is the same four calls.
/// </summary>
public interface IModelStore
{
    /// <summary>Whether <paramref name="name"/> has version <paramref name="version"/>.</summary>
    Task<bool> ExistsAsync(string name, string version, CancellationToken cancellationToken = default);

    /// <summary>The versions of <paramref name="name"/>, oldest first (by when they were saved); empty when there are none.</summary>
    Task<IReadOnlyList<string>> ListVersionsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The model zip's bytes.</summary>
    /// <exception cref="ModelNotFoundException">No such model or version (the message names both, and the versions there are).</exception>
    Task<byte[]> ReadAsync(string name, string version, CancellationToken cancellationToken = default);

    /// <summary>Saves a model zip as version <paramref name="version"/> of <paramref name="name"/>, atomically: a reader
    /// sees the whole file or none. Saving an existing version replaces it.</summary>
    Task SaveAsync(string name, string version, ReadOnlyMemory<byte> model, CancellationToken cancellationToken = default);
}

/// <summary>A model or version that the store does not hold.</summary>
[GenerateSerializer]
public sealed class ModelNotFoundException : Exception
{
    /// <summary>Names the model and version asked for and what the store holds.</summary>
    public ModelNotFoundException(string message) : base(message) { }
}

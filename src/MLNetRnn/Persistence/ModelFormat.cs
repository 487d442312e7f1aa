using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;

namespace MLNetRnn.Persistence;

/// <summary>
/// The persisted format of one MLNetRnn model component (a transformer, a mapper, ...): its ML.NET
/// <see cref="VersionInfo"/> and the versioned, self-checking payload it writes into the component's
/// main stream.
/// </summary>
/// <remarks>
/// <para>
/// Each persistable type owns one static instance. Its <see cref="Save"/> is called from the type's
/// <c>ICanSaveModel.Save</c> and its <see cref="Load{T}"/> from the static <c>Create(IHostEnvironment,
/// ModelLoadContext)</c> that the type's <c>LoadableClass</c> attribute points ML.NET at.
/// </para>
/// <para>
/// Versions are small integers. <see cref="CurrentVersion"/> is the version this build writes;
/// <see cref="ReadableByVersion"/> the oldest reader that can still read what it writes (equal to
/// <see cref="CurrentVersion"/> unless the change only appended data an older reader may skip);
/// <see cref="OldestReadableVersion"/> the oldest payload this build still reads. They are written both
/// into ML.NET's header (as <c>0x0001_0000 | version</c>) and into our payload header, and checked
/// here first so that a model from a newer MLNetRnn fails with <see cref="UnsupportedModelVersionException"/>
/// instead of ML.NET's generic decode error.
/// </para>
/// <para>
/// Payload layout, all little-endian, following ML.NET's model header in the component's
/// <c>Model.key</c> stream:
/// <code>
/// byte[8]  magic                 "MLNETRNN"
/// int32    format version        version of the writer (CurrentVersion)
/// int32    readable-by version   oldest reader version able to read it (ReadableByVersion)
/// string   component             loader signature, BinaryWriter length-prefixed UTF-8
/// int64    body length           bytes
/// byte[32] body SHA-256
/// byte[]   body                  written by the component's own callback
/// </code>
/// The body is produced in memory first, so a failing body writer has written nothing to the model
/// stream, and the length and hash let the loader tell truncation or corruption apart from a
/// component's own decoding bug.
/// </para>
/// </remarks>
internal sealed class ModelFormat
{
    /// <summary>The first eight bytes of every MLNetRnn payload.</summary>
    internal static ReadOnlySpan<byte> Magic => "MLNETRNN"u8;

    private const uint MLNetVersionBase = 0x0001_0000;
    private const int HashLength = 32;

    // A payload bigger than this is not something this library wrote; refuse it before allocating.
    private const long MaxBodyLength = 0x7FFF_FFC7; // Array.MaxLength

    private readonly string _modelSignature;

    /// <summary>Creates the format description of one persistable component.</summary>
    /// <param name="modelSignature">ML.NET's eight-character model signature, unique to the component.</param>
    /// <param name="loaderSignature">The name the component is registered under with <c>LoadableClass</c>
    /// (at most 24 characters, globally unique among loaded ML.NET components; ML.NET matches it case-insensitively).</param>
    /// <param name="currentVersion">The version this build writes.</param>
    /// <param name="readableByVersion">The oldest reader version that can read what this build writes.</param>
    /// <param name="oldestReadableVersion">The oldest written version this build can still read.</param>
    /// <param name="loaderAssemblyName">Simple name of the assembly that declares the component's loader; null = MLNetRnn.
    /// Only a component outside the library (the tests' persistence probe) names another.</param>
    public ModelFormat(string modelSignature, string loaderSignature, int currentVersion, int readableByVersion, int oldestReadableVersion,
        string? loaderAssemblyName = null)
    {
        if (modelSignature is null || modelSignature.Length != 8 || modelSignature.Any(c => c > 0x7F))
            throw new ArgumentException("The model signature must be eight ASCII characters.", nameof(modelSignature));
        if (string.IsNullOrEmpty(loaderSignature) || loaderSignature.Length > 24 || loaderSignature.Any(c => c > 0x7F))
            throw new ArgumentException("The loader signature must be 1 to 24 ASCII characters.", nameof(loaderSignature));
        if (currentVersion < 1 || currentVersion > 0xFFFF)
            throw new ArgumentOutOfRangeException(nameof(currentVersion));
        if (readableByVersion < 1 || readableByVersion > currentVersion)
            throw new ArgumentOutOfRangeException(nameof(readableByVersion));
        if (oldestReadableVersion < 1 || oldestReadableVersion > currentVersion)
            throw new ArgumentOutOfRangeException(nameof(oldestReadableVersion));

        _modelSignature = modelSignature;
        LoaderSignature = loaderSignature;
        LoaderAssemblyName = loaderAssemblyName ?? LibraryAssemblyName;
        CurrentVersion = currentVersion;
        ReadableByVersion = readableByVersion;
        OldestReadableVersion = oldestReadableVersion;
    }

    /// <summary>The name the component is registered and saved under.</summary>
    public string LoaderSignature { get; }

    /// <summary>The payload version this build writes.</summary>
    public int CurrentVersion { get; }

    /// <summary>The oldest reader version that can read what this build writes.</summary>
    public int ReadableByVersion { get; }

    /// <summary>The oldest payload version this build reads.</summary>
    public int OldestReadableVersion { get; }

    /// <summary>
    /// The same component as written by another build of the library. Only tests need this, to
    /// produce models "from the future" or "from the past" without keeping binary fixtures.
    /// </summary>
    internal ModelFormat AsWrittenBy(int version, int readableByVersion)
        => new(_modelSignature, LoaderSignature, version, readableByVersion, Math.Min(OldestReadableVersion, version), LoaderAssemblyName);

    /// <summary>
    /// The assembly name recorded in every model this component writes: MLNetRnn's, unless the constructor was
    /// given another (the tests' probe lives in its own assembly). ML.NET calls <c>Assembly.Load</c> on it before it
    /// looks the loader signature up, which is what makes <c>Model.Load</c> work in a fresh process without
    /// <c>ComponentCatalog.RegisterAssembly</c>.
    /// </summary>
    /// <remarks>
    /// The simple name, not <c>Assembly.FullName</c> as ML.NET's own components record: with the full name,
    /// an application fails with <see cref="FileNotFoundException"/> on any model saved by a build with a
    /// higher assembly version, whether or not its format changed, while other hosts (our xunit test host)
    /// load the same model: the outcome depends on the host's assembly binding. With the simple name the
    /// deployed MLNetRnn is used, and the format versions below alone decide whether it can read the model.
    /// </remarks>
    internal string LoaderAssemblyName { get; }

    private static readonly string LibraryAssemblyName = typeof(ModelFormat).Assembly.GetName().Name!;

    /// <summary>ML.NET's view of this format, naming our assembly so that ML.NET can find the loader.</summary>
    public VersionInfo GetVersionInfo() => new(
        modelSignature: _modelSignature,
        verWrittenCur: MLNetVersionBase | (uint)CurrentVersion,
        verReadableCur: MLNetVersionBase | (uint)ReadableByVersion,
        verWeCanReadBack: MLNetVersionBase | (uint)OldestReadableVersion,
        loaderAssemblyName: LoaderAssemblyName,
        loaderSignature: LoaderSignature);

    /// <summary>
    /// Writes ML.NET's version information and the payload header, then the body produced by
    /// <paramref name="writeBody"/>, to the component's main stream.
    /// </summary>
    public void Save(ModelSaveContext ctx, Action<BinaryWriter> writeBody)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(writeBody);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());

        byte[] body;
        using (var buffer = new MemoryStream())
        {
            using (var bodyWriter = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
                writeBody(bodyWriter);
            body = buffer.ToArray();
        }

        var writer = ctx.Writer;
        writer.Write(Magic);
        writer.Write(CurrentVersion);
        writer.Write(ReadableByVersion);
        writer.Write(LoaderSignature);
        writer.Write((long)body.Length);
        writer.Write(SHA256.HashData(body));
        writer.Write(body);
    }

    /// <summary>
    /// Checks ML.NET's header and the payload header, verifies the body, and hands it to
    /// <paramref name="readBody"/> together with the version it was written in.
    /// </summary>
    /// <exception cref="UnsupportedModelVersionException">The payload was written by a newer
    /// MLNetRnn that this build cannot read, or is older than this build still reads.</exception>
    /// <exception cref="InvalidDataException">The payload is truncated, corrupted, or not ours.</exception>
    public T Load<T>(ModelLoadContext ctx, Func<BinaryReader, int, T> readBody)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(readBody);

        // Versions are recorded twice: in ML.NET's header (which ML.NET's own check reads, and reports a newer model
        // with a generic decode error) and at the start of our payload. A genuine model from another version has the
        // same numbers in both; a damaged header does not. So the header is checked for consistency, then against
        // the payload, and only then are the versions compared with what this build reads.
        var header = ctx.Header;
        if (header.ModelSignature != GetVersionInfo().ModelSignature)
            throw Corrupt("ML.NET's model header names another model signature");
        if (header.ModelVerWritten >> 16 != MLNetVersionBase >> 16 || header.ModelVerReadable >> 16 != MLNetVersionBase >> 16)
            throw Corrupt($"ML.NET's model header holds versions 0x{header.ModelVerWritten:x8} and 0x{header.ModelVerReadable:x8}, which MLNetRnn never writes");
        int headerVersion = (int)(header.ModelVerWritten & 0xFFFF), headerReadableBy = (int)(header.ModelVerReadable & 0xFFFF);
        if (headerReadableBy < 1 || headerReadableBy > headerVersion)
            throw Corrupt($"ML.NET's model header has inconsistent versions: written {headerVersion}, readable by {headerReadableBy}");
        ctx.CheckAtModel();

        var reader = ctx.Reader;
        try
        {
            Span<byte> magic = stackalloc byte[8];
            reader.BaseStream.ReadExactly(magic);
            if (!magic.SequenceEqual(Magic))
                throw Corrupt("the payload does not start with the MLNetRnn magic bytes");

            // Magic, version and readable-by version open every payload of every version: this layout never changes.
            int version = reader.ReadInt32();
            int readableBy = reader.ReadInt32();
            if (readableBy < 1 || readableBy > version)
                throw Corrupt($"the payload header has inconsistent versions {version} and {readableBy}");
            if (version != headerVersion || readableBy != headerReadableBy)
                throw Corrupt($"ML.NET's model header records format version {headerVersion} (readable by {headerReadableBy}), " +
                    $"the payload {version} (readable by {readableBy})");
            CheckVersions(version, readableBy);
            string component = reader.ReadString();
            if (component != LoaderSignature)
                throw Corrupt($"the payload belongs to component '{component}'");

            long length = reader.ReadInt64();
            if (length < 0 || length > MaxBodyLength)
                throw Corrupt($"the payload body length {length} is out of range");
            byte[] hash = reader.ReadBytes(HashLength);
            byte[] body = reader.ReadBytes((int)length);
            if (hash.Length != HashLength || body.Length != length)
                throw Corrupt("the payload is truncated");
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(hash))
                throw Corrupt("the payload checksum does not match its contents");

            using var bodyStream = new MemoryStream(body, writable: false);
            using var bodyReader = new BinaryReader(bodyStream, Encoding.UTF8);
            var result = readBody(bodyReader, version);
            // A newer writer may append data that older readers skip; from our own version or an
            // older one, everything must have been consumed, or reader and writer disagree.
            if (version <= CurrentVersion && bodyStream.Position != bodyStream.Length)
                throw Corrupt($"{bodyStream.Length - bodyStream.Position} bytes of the payload body were not read");
            return result;
        }
        catch (EndOfStreamException ex)
        {
            throw Corrupt("the payload ends early", ex);
        }
    }

    private void CheckVersions(int writtenVersion, int readableByVersion)
    {
        if (readableByVersion > CurrentVersion)
            throw UnsupportedModelVersionException.TooNew(LoaderSignature, writtenVersion, readableByVersion, OldestReadableVersion, CurrentVersion);
        if (writtenVersion < OldestReadableVersion)
            throw UnsupportedModelVersionException.TooOld(LoaderSignature, writtenVersion, OldestReadableVersion, CurrentVersion);
    }

    private InvalidDataException Corrupt(string what, Exception? inner = null)
        => ModelFile.MarkOurs(new InvalidDataException($"The saved MLNetRnn component '{LoaderSignature}' is corrupted: {what}.", inner));
}

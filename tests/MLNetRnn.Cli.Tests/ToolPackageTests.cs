using MLNetRnn.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace MLNetRnn.Cli.Tests;

/// <summary>
/// The tool as a user gets it: <c>dotnet pack src/MLNetRnn.Cli</c> into a local folder, <c>dotnet tool install
/// --tool-path … --add-source &lt;folder&gt;</c>, and the installed <c>mlnetrnn</c> run on a CSV file in a fresh folder
/// (fit with plots, backtest, forecast). The packages are checked too: one small package that names a package per
/// platform, each of those small (no other platform's native libraries, no unused ones), readme, license, repository;
/// and MLNetRnn.Plots, which the tool carries, packs as a library.
/// </summary>
/// <remarks>
/// Packed under a pre-release version of this run alone (0.2.0-tool-&lt;guid&gt;), so no package of the same version
/// from another build can stand in for the one just packed, and installed with a packages folder of its own. Packing
/// builds the tool once per platform, so this takes a minute or more: Category=Slow. It prints the size of every
/// package (the figures in src/MLNetRnn.Cli/README.md).
/// </remarks>
[Trait("Category", "Slow")]
public sealed class ToolPackageTests(ITestOutputHelper log) : IDisposable
{
    /// <summary>The most a platform's package may weigh. Packed for every platform at once, the tool was 85 MB.</summary>
    private const long MaximumPlatformPackageBytes = 16L << 20;

    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);

    private readonly string _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mlnetrnn-tool-" + Guid.NewGuid().ToString("N"))).FullName;

    private readonly string _version = $"{typeof(CliApp).Assembly.GetName().Version!.ToString(3)}-tool-{Guid.NewGuid():N}";

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public void PackedToolInstallsFromALocalFolderAndFitsBacktestsAndForecastsACsvInAFreshFolder()
    {
        string feed = Directory.CreateDirectory(Path.Combine(_root, "feed")).FullName;
        string tools = Path.Combine(_root, "tools");
        string work = Directory.CreateDirectory(Path.Combine(_root, "fresh")).FullName;
        string repository = Metadata("MLNetRnn.RepositoryRoot");

        // 1. Pack as a user would. The pack builds the tool once per platform; the libraries it references were built by
        // this test run and are not built again (other test assemblies may be packing them at the same time).
        Run(Dotnet(), repository, null, "pack", Path.Combine(repository, "src", "MLNetRnn.Cli", "MLNetRnn.Cli.csproj"), "-c", Metadata("MLNetRnn.Configuration"),
            "-o", feed, "-nodeReuse:false", "-p:BuildProjectReferences=false", $"-p:PackageVersion={_version}");
        string platform = CheckPackages(feed);
        // The plots' package, which the tool carries, packs as a library of its own.
        Run(Dotnet(), repository, null, "pack", Path.Combine(repository, "src", "MLNetRnn.Plots", "MLNetRnn.Plots.csproj"), "-c", Metadata("MLNetRnn.Configuration"),
            "--no-build", "-o", feed, "-nodeReuse:false", $"-p:PackageVersion={_version}");
        using (var plots = ZipFile.OpenRead(Path.Combine(feed, $"MLNetRnn.Plots.{_version}.nupkg")))
        {
            CheckNuspec(plots, "MLNetRnn.Plots", packageType: null);
            Assert.Contains(plots.Entries, e => e.FullName == "lib/net10.0/MLNetRnn.Plots.dll");
        }

        // 2. Install from the folder; the tool's packages land in a packages folder of this test, not the machine's.
        Run(Dotnet(), _root, new() { ["NUGET_PACKAGES"] = Path.Combine(_root, "packages") },
            "tool", "install", "--tool-path", tools, "--add-source", feed, "MLNetRnn.Cli", "--version", _version);
        string mlnetrnn = Path.Combine(tools, OperatingSystem.IsWindows() ? "mlnetrnn.exe" : "mlnetrnn");
        Assert.True(File.Exists(mlnetrnn), $"dotnet tool install wrote no {mlnetrnn}");
        Assert.True(Directory.EnumerateFiles(Path.Combine(tools, ".store"), "*", SearchOption.AllDirectories)
            .Any(f => f.Contains(platform, StringComparison.OrdinalIgnoreCase) && Path.GetFileName(f).StartsWith("libSkiaSharp", StringComparison.Ordinal)),
            $"The installed tool has no SkiaSharp library of {platform}.");

        // 3. A CSV in a fresh folder, and the three commands a newcomer runs first.
        DateTime[] dates = WriteMonthlyCsv(Path.Combine(work, "sales.csv"), months: 96);
        string[] model = ["--value", "sales", "--window", "12", "--horizon", "6", "--season", "12", "--epochs", "3", "--ensemble", "1", "--hidden", "4"];
        string fit = Run(mlnetrnn, work, ToolEnvironment(), ["fit", "sales.csv", .. model, "--model", "sales.zip", "--plots", "plots"]);
        Assert.True(File.Exists(Path.Combine(work, "sales.zip")), $"fit saved no model. It printed:\n{fit}");
        using (var zip = ZipFile.OpenRead(Path.Combine(work, "sales.zip"))) Assert.NotEmpty(zip.Entries);
        // The plots need SkiaSharp's native library of this platform, from the platform's package.
        byte[] png = File.ReadAllBytes(Path.Combine(work, "plots", "forecast.png"));
        Assert.True(png.Length > 10_000 && png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }),
            "fit --plots wrote no forecast picture.");

        string backtest = Run(mlnetrnn, work, ToolEnvironment(), ["backtest", "sales.csv", .. model, "--origins", "2", "--no-refit"]);
        Assert.Matches(@"MASE \d+\.\d+", backtest);

        Run(mlnetrnn, work, ToolEnvironment(), "forecast", "--model", "sales.zip", "--data", "sales.csv", "--output", "forecast.csv");
        var rows = File.ReadAllLines(Path.Combine(work, "forecast.csv")).Where(l => l.Length > 0).Select(l => l.Split(',')).ToArray();
        int Column(string name) => Array.IndexOf(rows[0], name) is >= 0 and var i ? i : throw new Xunit.Sdk.XunitException($"forecast.csv has no '{name}' column: {string.Join(",", rows[0])}");
        Assert.Equal(6, rows.Length - 1);
        for (int h = 1; h <= 6; h++)
        {
            Assert.Equal(dates[^1].AddMonths(h).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), rows[h][Column("date")]);
            double Value(string name) => double.Parse(rows[h][Column(name)], CultureInfo.InvariantCulture);
            Assert.True(double.IsFinite(Value("forecast")) && Value("lower") <= Value("forecast") && Value("forecast") <= Value("upper"),
                $"step {h}: forecast {Value("forecast")}, interval [{Value("lower")}, {Value("upper")}]");
        }
    }

    /// <summary>Checks the packages in <paramref name="feed"/> and returns the platform this machine installs.</summary>
    private string CheckPackages(string feed)
    {
        string pointer = Path.Combine(feed, $"MLNetRnn.Cli.{_version}.nupkg");
        Assert.True(File.Exists(pointer), $"dotnet pack wrote no {pointer}; the folder holds: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
        string[] platforms;
        using (var package = ZipFile.OpenRead(pointer))
        {
            CheckNuspec(package, "MLNetRnn.Cli", "DotnetTool");
            var settings = package.Entries.SingleOrDefault(e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal))
                ?? throw new Xunit.Sdk.XunitException("The tool package has no DotnetToolSettings.xml.");
            using var stream = settings.Open();
            var ridPackages = XDocument.Load(stream).Descendants("RuntimeIdentifierPackage").ToArray();
            Assert.True(ridPackages.Length > 0, "The tool package names no package per platform: it would carry every platform's native libraries.");
            Assert.All(ridPackages, p => Assert.Equal($"MLNetRnn.Cli.{p.Attribute("RuntimeIdentifier")!.Value}", p.Attribute("Id")!.Value));
            platforms = ridPackages.Select(p => p.Attribute("RuntimeIdentifier")!.Value).ToArray();
            Assert.DoesNotContain(package.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal));
        }
        Assert.Superset(new HashSet<string> { "linux-x64", "linux-arm64", "osx-arm64", "win-x64" }, platforms.ToHashSet());

        log.WriteLine($"{"package",-32} {"packed MB",9} {"unpacked MB",11}  largest files");
        log.WriteLine($"{"MLNetRnn.Cli",-32} {new FileInfo(pointer).Length / 1e6,9:F3}");
        foreach (string rid in platforms)
        {
            string id = $"MLNetRnn.Cli.{rid}";
            string path = Path.Combine(feed, $"{id}.{_version}.nupkg");
            Assert.True(File.Exists(path), $"The tool package names {id}, but dotnet pack did not write it.");
            long size = new FileInfo(path).Length;
            using var package = ZipFile.OpenRead(path);
            CheckNuspec(package, id, "DotnetToolRidPackage");
            string[] files = package.Entries.Select(e => e.FullName).Where(n => n.StartsWith("tools/", StringComparison.Ordinal)).ToArray();
            Assert.Contains(files, f => Path.GetFileName(f).StartsWith("libSkiaSharp", StringComparison.Ordinal));
            // Nothing of another platform, nothing no command uses, no API docs.
            Assert.DoesNotContain(files, f => f.Contains("/runtimes/", StringComparison.Ordinal));
            Assert.DoesNotContain(files, f => f.Contains("LdaNative", StringComparison.Ordinal));
            Assert.DoesNotContain(files, f => f.EndsWith(".xml", StringComparison.Ordinal) && !f.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));
            Assert.True(size <= MaximumPlatformPackageBytes, $"{id} weighs {size / 1e6:F1} MB, more than {MaximumPlatformPackageBytes / 1e6:F1} MB.");
            var largest = package.Entries.OrderByDescending(e => e.CompressedLength).Take(4).Select(e => $"{e.Name} {e.CompressedLength / 1e6:F1}");
            log.WriteLine($"{id,-32} {size / 1e6,9:F2} {package.Entries.Sum(e => e.Length) / 1e6,11:F2}  {string.Join(", ", largest)}");
        }

        // .NET 8 and later name the machine's platform by its portable identifier (linux-x64, osx-arm64, …).
        string here = RuntimeInformation.RuntimeIdentifier;
        Assert.Contains(here, platforms);
        return here;
    }

    private void CheckNuspec(ZipArchive package, string id, string? packageType)
    {
        var entry = package.GetEntry($"{id}.nuspec") ?? throw new Xunit.Sdk.XunitException($"{id} has no nuspec.");
        XElement metadata;
        using (var stream = entry.Open()) metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Field(string name) => metadata.Element(metadata.Name.Namespace + name)?.Value;
        Assert.Equal(_version, Field("version"));
        Assert.Equal("README.md", Field("readme"));
        Assert.Equal("MIT", Field("license"));
        Assert.Contains(package.Entries, e => e.FullName == "README.md");
        Assert.Contains(package.Entries, e => e.FullName == "LICENSE");
        if (packageType is not null)
            Assert.Equal(packageType, metadata.Descendants(metadata.Name.Namespace + "packageType").Single().Attribute("name")!.Value);
        var repository = metadata.Element(metadata.Name.Namespace + "repository") ?? throw new Xunit.Sdk.XunitException($"{id}: the nuspec has no <repository>.");
        Assert.Equal("git", repository.Attribute("type")?.Value);
    }

    /// <summary>A monthly series with a trend and a yearly season; returns its dates.</summary>
    private static DateTime[] WriteMonthlyCsv(string path, int months)
    {
        var random = new Random(7);
        var dates = Enumerable.Range(0, months).Select(m => new DateTime(2015, 1, 1).AddMonths(m)).ToArray();
        File.WriteAllLines(path, ["date,sales", .. dates.Select((d, t) => string.Create(CultureInfo.InvariantCulture,
            $"{d:yyyy-MM-dd},{200 + 1.5 * t + 25 * Math.Sin(2 * Math.PI * t / 12) + 4 * (random.NextDouble() - 0.5):F2}"))]);
        return dates;
    }

    /// <summary>The installed tool finds the .NET that packed it, as it would on a user's PATH.</summary>
    private static Dictionary<string, string> ToolEnvironment() => new() { ["DOTNET_ROOT"] = Path.GetDirectoryName(Dotnet())! };

    private static string Metadata(string key)
    {
        string? value = typeof(ToolPackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value;
        Assert.False(string.IsNullOrEmpty(value), $"The test assembly does not record {key} (see MLNetRnn.Cli.Tests.csproj).");
        return value;
    }

    private static string Dotnet()
    {
        string executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } fromCli && File.Exists(fromCli)) return fromCli;
        if (Environment.ProcessPath is { } current && Path.GetFileName(current) == executable) return current;
        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        string candidate = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", executable));
        return File.Exists(candidate) ? candidate : executable;
    }

    private string Run(string program, string workingDirectory, Dictionary<string, string>? environment, params string[] arguments)
    {
        var start = ChildDotnet.Start(program, workingDirectory, arguments);
        foreach (var (key, value) in environment ?? []) start.Environment[key] = value;

        string command = $"{Path.GetFileName(program)} {string.Join(" ", arguments)}";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"'{command}' (in {workingDirectory}) did not finish within {StepTimeout.TotalMinutes} minutes.\n{Tail(stdout.Result)}\n{Tail(stderr.Result)}");
        }
        log.WriteLine($"{command}: exit {process.ExitCode} after {clock.Elapsed.TotalSeconds:F0} s");
        if (process.ExitCode != 0)
            Assert.Fail($"'{command}' (in {workingDirectory}) exited with {process.ExitCode}.\nstdout:\n{Tail(stdout.Result)}\nstderr:\n{Tail(stderr.Result)}");
        return stdout.Result;
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "…" + text[^6000..];
}

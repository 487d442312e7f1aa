using MLNetRnn.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Xml.Linq;
using Microsoft.ML;
using MLNetRnn.Persistence;
using MLNetRnn.Tests.Forecasting;
using MLNetRnn.Tests.Persistence;

namespace MLNetRnn.Tests.Packaging;

/// <summary>
/// The packages as a user gets them: MLNetRnn.Core and MLNetRnn are packed into a local folder feed, a fresh console
/// app outside the repository installs MLNetRnn from it (everything else from the machine's default source), loads a
/// model this test saved and fits one of its own, and this test checks what it computed. The nuspecs are checked too:
/// license, readme, tags, version, repository, and dependency ranges.
/// </summary>
/// <remarks>
/// It shells out to <c>dotnet pack</c> (of what the test run has just built: <c>--no-build</c>), <c>dotnet new
/// console</c>, <c>dotnet add package</c> and <c>dotnet run</c>, so it takes about a minute. The app restores into
/// its own packages folder, with the machine's global packages folder as a read-only fallback. NuGet looks in a
/// fallback folder before any source, so a package of the library's own version there (from another build on this
/// machine) would stand in for the one just packed: the packages are packed under a pre-release version of this run
/// alone (0.2.0-smoke-&lt;guid&gt;), which no other build can have left anywhere.
/// </remarks>
[Trait("Category", "Slow")]
public sealed class PackageSmokeTests : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(8);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "mlnetrnn-package-smoke-" + Guid.NewGuid().ToString("N"));

    public PackageSmokeTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static string Version => typeof(RnnForecastingEstimator).Assembly.GetName().Version!.ToString(3);

    private readonly string _packageVersion = $"{Version}-smoke-{Guid.NewGuid():N}";

    [Fact]
    public void PackedPackagesInstallIntoAFreshAppThatLoadsAndFitsModels()
    {
        string feed = Directory.CreateDirectory(Path.Combine(_root, "feed")).FullName;
        string app = Path.Combine(_root, "app");
        string repository = Metadata("MLNetRnn.RepositoryRoot");
        string configuration = Metadata("MLNetRnn.Configuration");

        // 1. Pack both packages from what this test run built.
        foreach (string project in new[] { "src/MLNetRnn.Core/MLNetRnn.Core.csproj", "src/MLNetRnn/MLNetRnn.csproj" })
            Dotnet(repository, "pack", Path.Combine(repository, project), "-c", configuration, "--no-build", "-o", feed, "-nodeReuse:false",
                $"-p:PackageVersion={_packageVersion}");
        CheckNuspecs(feed);

        // 2. A model saved here, and what this process forecasts with it.
        var ml = new MLContext(seed: 0);
        float[] series = ForecastingTestData.Seasonal(72, seed: 5);
        var options = ForecastingTestData.Fast(window: 12, horizon: 3);
        options.Epochs = 5;
        options.HiddenSizes = [4];
        var model = ml.Forecasting.ForecastByRnn(options).Fit(ForecastingTestData.View(ml, series));
        string saved = Path.Combine(_root, "saved-by-test.zip");
        ml.Model.SaveAtomically(model, ForecastingTestData.View(ml, series).Schema, saved);
        string expectedForecast = Bits(model.CreateForecastingEngine().Predict().Forecast);
        using var typed = model.CreateForecastingEngine<Observation, ForecastOnly>(ml);
        string expectedTyped = Bits(typed.Predict(new Observation { Value = 123.5f }).Forecast);

        // 3. A fresh console app that installs MLNetRnn from the folder feed.
        Dotnet(_root, "new", "console", "-o", app, "--framework", "net10.0");
        File.WriteAllText(Path.Combine(app, "nuget.config"), NugetConfig(feed, Path.Combine(_root, "packages"), GlobalPackagesFolder()));
        Dotnet(app, "add", "package", "MLNetRnn", "--version", _packageVersion, "--no-restore");
        File.WriteAllText(Path.Combine(app, "Program.cs"), AppProgram);
        string fittedByApp = Path.Combine(_root, "fitted-by-app.zip");
        string output = Dotnet(app, "run", "-c", "Release", "--", saved, fittedByApp);

        // 4. What the app computed, line by line.
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string Line(string key) => lines.SingleOrDefault(l => l.StartsWith(key + ": ", StringComparison.Ordinal))?[(key.Length + 2)..]
            ?? throw new Xunit.Sdk.XunitException($"The app printed no '{key}:' line. Its output:\n{output}");
        Assert.Equal("MLNetRnn.RnnForecastingTransformer", Line("type"));
        Assert.Equal(Version, Line("library version"));
        // The assemblies the app ran are the ones just packed, not a build output or an older package of this version.
        Assert.Equal(PackedAssembly(feed, "MLNetRnn"), File.ReadAllBytes(Line("library path")));
        Assert.Equal(PackedAssembly(feed, "MLNetRnn.Core"), File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(Line("library path"))!, "MLNetRnn.Core.dll")));
        Assert.Equal(expectedForecast, Line("forecast"));
        Assert.Equal(expectedTyped, Line("typed forecast"));
        Assert.True(int.Parse(Line("log lines"), CultureInfo.InvariantCulture) > 0, "The app's fit wrote nothing to mlContext.Log.");

        // 5. The model the app fitted and saved loads here and forecasts what the app printed.
        var loaded = Assert.IsType<RnnForecastingTransformer>(ml.Model.LoadValidated(fittedByApp, out _));
        Assert.Equal(Line("fitted forecast"), Bits(loaded.CreateForecastingEngine().Predict().Forecast));
    }

    private void CheckNuspecs(string feed)
    {
        var core = Nuspec(feed, "MLNetRnn.Core");
        var library = Nuspec(feed, "MLNetRnn");

        foreach (var (id, nuspec, entries) in new[] { core, library }.Select(p => (p.Id, p.Metadata, p.Entries)))
        {
            Assert.Equal(_packageVersion, Field(nuspec, "version"));
            Assert.Equal("MIT", Field(nuspec, "license"));
            Assert.Equal("expression", nuspec.Element(nuspec.Name.Namespace + "license")!.Attribute("type")!.Value);
            Assert.Equal("README.md", Field(nuspec, "readme"));
            Assert.False(string.IsNullOrWhiteSpace(Field(nuspec, "authors")), $"{id}: no authors");
            Assert.False(string.IsNullOrWhiteSpace(Field(nuspec, "description")), $"{id}: no description");
            Assert.Contains("LSTM", Field(nuspec, "tags"), StringComparison.Ordinal);
            // The repository's kind, and (packed from a git clone) the commit packed; a URL only where the clone's origin
            // is a public address (src/Directory.Build.props).
            var repository = nuspec.Element(nuspec.Name.Namespace + "repository") ?? throw new Xunit.Sdk.XunitException($"{id}: the nuspec has no <repository>.");
            Assert.Equal("git", repository.Attribute("type")?.Value);
            if (repository.Attribute("commit") is { } commit) Assert.Matches("^[0-9a-f]{40}$", commit.Value);
            Assert.Contains("LICENSE", entries);
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries);   // XML docs for IntelliSense
        }

        // MLNetRnn.Core: numbers only, no ML.NET.
        Assert.Equal(["MathNet.Numerics", "System.Numerics.Tensors"], Dependencies(core.Metadata).Keys.Order(StringComparer.Ordinal));
        // MLNetRnn compiles against ML.NET's internals, so ML.NET is pinned; it uses only MLNetRnn.Core's public API
        // (ArchitectureTests.PackageUsesOnlyPublicMembersOfCore), so it takes this Core or any later one.
        var dependencies = Dependencies(library.Metadata);
        Assert.Equal(["MLNetRnn.Core", "Microsoft.ML"], dependencies.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(_packageVersion, dependencies["MLNetRnn.Core"]);
        Assert.Equal("[5.0.1, 5.1.0)", dependencies["Microsoft.ML"]);
        Assert.DoesNotContain(library.Entries, e => e.Contains("Publicizer", StringComparison.OrdinalIgnoreCase) || e.Contains("Probe", StringComparison.Ordinal));
    }

    private (string Id, XElement Metadata, string[] Entries) Nuspec(string feed, string id)
    {
        string path = Path.Combine(feed, $"{id}.{_packageVersion}.nupkg");
        Assert.True(File.Exists(path), $"dotnet pack did not produce {path}; the feed holds: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
        using var package = ZipFile.OpenRead(path);
        var nuspec = package.GetEntry($"{id}.nuspec") ?? throw new Xunit.Sdk.XunitException($"{path} has no {id}.nuspec");
        using var stream = nuspec.Open();
        var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        return (id, metadata, package.Entries.Select(e => e.FullName).ToArray());
    }

    private byte[] PackedAssembly(string feed, string id)
    {
        using var package = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{_packageVersion}.nupkg"));
        using var stream = package.GetEntry($"lib/net10.0/{id}.dll")!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Field(XElement metadata, string name)
        => metadata.Element(metadata.Name.Namespace + name)?.Value ?? throw new Xunit.Sdk.XunitException($"The nuspec has no <{name}>:\n{metadata}");

    private static Dictionary<string, string> Dependencies(XElement metadata)
        => metadata.Descendants(metadata.Name.Namespace + "dependency")
            .ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);

    private static string Bits(float[] values)
        => string.Join(" ", values.Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8", CultureInfo.InvariantCulture)));

    private static string Metadata(string key)
    {
        string? value = typeof(PackageSmokeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value;
        Assert.False(string.IsNullOrEmpty(value), $"The test assembly does not record {key} (see EmbedModelLoaderPath in MLNetRnn.Tests.csproj).");
        return value;
    }

    /// <summary>The folder feed, a packages folder of the app's own, and the machine's global packages folder as a
    /// fallback. No source is cleared, so the machine's default source still serves Microsoft.ML and the rest; no
    /// registry is named here.</summary>
    private static string NugetConfig(string feed, string packages, string fallback) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <config>
            <add key="globalPackagesFolder" value="{packages}" />
          </config>
          <packageSources>
            <add key="mlnetrnn-local-feed" value="{feed}" />
          </packageSources>
          <fallbackPackageFolders>
            <add key="machine" value="{fallback}" />
          </fallbackPackageFolders>
        </configuration>
        """;

    private string GlobalPackagesFolder()
    {
        // "global-packages: /home/user/.nuget/packages/"
        string listed = Dotnet(_root, "nuget", "locals", "global-packages", "--list").Trim();
        int colon = listed.IndexOf(": ", StringComparison.Ordinal);
        Assert.True(colon > 0, $"Unexpected output of 'dotnet nuget locals global-packages --list': {listed}");
        return listed[(colon + 2)..].Trim();
    }

    /// <summary>Runs the dotnet CLI, fails the test with the command and its output unless it exits with 0, and
    /// returns its standard output. MSBuild's and NuGet's settings of the test host are not passed on, build nodes
    /// and the compiler server are not left running.</summary>
    private static string Dotnet(string workingDirectory, params string[] arguments)
    {
        var start = ChildDotnet.Start(ModelLoaderProcess.DotnetHost(), workingDirectory, arguments);

        string command = "dotnet " + string.Join(" ", arguments);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"'{command}' (in {workingDirectory}) did not finish within {StepTimeout.TotalMinutes} minutes.\n{Tail(stdout.Result)}\n{Tail(stderr.Result)}");
        }
        if (process.ExitCode != 0)
            Assert.Fail($"'{command}' (in {workingDirectory}) exited with {process.ExitCode}.\nstdout:\n{Tail(stdout.Result)}\nstderr:\n{Tail(stderr.Result)}");
        return stdout.Result;
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : "…" + text[^6000..];

    /// <summary>The app: loads the test's model with plain <c>mlContext.Model.Load</c> (no registration call), forecasts
    /// with both engines, fits a small forecaster of its own and saves it.</summary>
    private const string AppProgram = """
        using System.Globalization;
        using Microsoft.ML;
        using MLNetRnn;
        using MLNetRnn.Persistence;

        var ml = new MLContext(seed: 0);
        int logLines = 0;
        ml.Log += (_, e) => { if (e.Source.StartsWith(nameof(RnnForecastingEstimator), StringComparison.Ordinal)) logLines++; };

        var model = ml.Model.Load(args[0], out _);
        Console.WriteLine($"type: {model.GetType().FullName}");
        Console.WriteLine($"library version: {typeof(RnnForecastingEstimator).Assembly.GetName().Version!.ToString(3)}");
        Console.WriteLine($"library path: {typeof(RnnForecastingEstimator).Assembly.Location}");
        Console.WriteLine($"forecast: {Bits(model.CreateForecastingEngine().Predict().Forecast)}");
        using (var typed = model.CreateForecastingEngine<Observation, NextValues>(ml))
            Console.WriteLine($"typed forecast: {Bits(typed.Predict(new Observation { Value = 123.5f }).Forecast)}");

        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(t => new Observation { Value = 100 + t % 12 + 0.5f * t }));
        var fitted = ml.Forecasting.ForecastByRnn(new RnnForecastingOptions
        {
            OutputColumnName = "Forecast", InputColumnName = "Value", WindowSize = 12, Horizon = 3, SeasonalPeriod = 12,
            EnsembleSize = 1, Epochs = 3, HiddenSizes = [4],
        }).Fit(data);
        ml.Model.SaveAtomically(fitted, data.Schema, args[1]);
        Console.WriteLine($"fitted forecast: {Bits(fitted.CreateForecastingEngine().Predict().Forecast)}");
        Console.WriteLine($"log lines: {logLines}");

        static string Bits(float[] values) => string.Join(" ", values.Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8", CultureInfo.InvariantCulture)));

        public sealed class Observation { public float Value { get; set; } }

        public sealed class NextValues { public float[] Forecast { get; set; } = []; }
        """;
}

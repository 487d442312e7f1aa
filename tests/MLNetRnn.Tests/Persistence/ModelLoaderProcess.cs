using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace MLNetRnn.Tests.Persistence;

/// <summary>Runs tests/MLNetRnn.ModelLoader as a child process: a fresh process that references MLNetRnn and
/// calls nothing of it before <c>mlContext.Model.Load</c>.</summary>
internal static class ModelLoaderProcess
{
    /// <summary>Runs the loader, asserts it succeeded, and returns its output lines.</summary>
    public static List<string> Run(params string[] arguments)
    {
        var (exitCode, stdout, stderr) = Start(arguments);
        Assert.True(exitCode == 0, $"MLNetRnn.ModelLoader exited with {exitCode}:\n{stderr}\n{stdout}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }

    public static (int ExitCode, string Stdout, string Stderr) Start(params string[] arguments)
    {
        string loader = LoaderPath();
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(loader);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{loader} did not finish within two minutes.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts the loader saving to <paramref name="modelPath"/> with a save that never ends, waits until it is
    /// inside the save, and kills it: what a crash or <c>kill -9</c> mid-save leaves behind.</summary>
    public static void KillWhileSaving(string modelPath)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(LoaderPath());
        start.ArgumentList.Add("--hang-while-saving");
        start.ArgumentList.Add(modelPath);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var line = process.StandardOutput.ReadLineAsync();
        bool saving = line.Wait(TimeSpan.FromMinutes(2)) && line.Result == "saving";
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        Assert.True(saving, $"MLNetRnn.ModelLoader did not start saving (first line: '{(line.IsCompleted ? line.Result : "none within two minutes")}'):\n{stderr.Result}");
    }

    /// <summary>The loader's path, recorded at build time by the test project (EmbedModelLoaderPath).</summary>
    private static string LoaderPath()
    {
        string? path = typeof(ModelLoaderProcess).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "MLNetRnn.ModelLoaderPath")?.Value;
        Assert.False(string.IsNullOrEmpty(path), "The test assembly does not record where MLNetRnn.ModelLoader was built.");
        Assert.True(File.Exists(path), $"MLNetRnn.ModelLoader was not built at '{path}'.");
        return path;
    }

    /// <summary>The dotnet host running these tests, so the child uses the same runtime.</summary>
    internal static string DotnetHost()
    {
        string executable = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        string? fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli))
            return fromCli;
        if (Environment.ProcessPath is { } current && Path.GetFileName(current) == executable)
            return current;
        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, executable);
        return File.Exists(candidate) ? candidate : executable;
    }
}

using System.Diagnostics;

namespace MLNetRnn.Tests.Shared;

/// <summary>
/// How the package tests start a child <c>dotnet</c> (pack, restore, tool install, the packed tool itself): the test
/// host's MSBuild, NuGet and VSTest settings are not passed on, and no build server or compiler server is left running
/// after it. Linked into each test project that starts one.
/// </summary>
internal static class ChildDotnet
{
    /// <summary>A start of <paramref name="program"/> with <paramref name="arguments"/> in
    /// <paramref name="workingDirectory"/>, output redirected, in a clean environment.</summary>
    public static ProcessStartInfo Start(string program, string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (string key in start.Environment.Keys.ToArray())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("_MSBUILD", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("NUGET_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        return start;
    }
}

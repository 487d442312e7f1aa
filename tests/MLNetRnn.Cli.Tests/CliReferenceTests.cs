using System.Reflection;

namespace MLNetRnn.Cli.Tests;

/// <summary>docs/cli.md lists every command's options exactly as <c>--help</c> prints them, so the reference cannot drift
/// from the tool: a new, renamed or re-described option, or a changed default, fails here until the page shows it.</summary>
public sealed class CliReferenceTests
{
    private static readonly string Reference = Path.Combine(typeof(CliReferenceTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MLNetRnn.RepositoryRoot").Value!, "docs", "cli.md");

    [Fact]
    public void TheReferenceShowsTheOptionsOfEveryCommandAsHelpPrintsThem()
    {
        string page = Normalise(File.ReadAllText(Reference));
        var commands = Commands([]).ToList();
        Assert.Contains(["fit"], commands);
        Assert.Contains(["study", "exploding"], commands);
        var missing = new List<string>();
        foreach (var command in commands)
        {
            string block = Options(Help(command));
            if (!page.Contains(block, StringComparison.Ordinal)) missing.Add($"'{string.Join(' ', command)}':\n{block}");
        }
        Assert.True(missing.Count == 0, $"docs/cli.md does not show these option lists as --help prints them:\n\n{string.Join("\n\n", missing)}");
    }

    /// <summary>Every command that takes options, found through the help screens: those under "Commands:", recursively
    /// (a command with subcommands, like study, has no options of its own to list).</summary>
    private static IEnumerable<string[]> Commands(string[] path)
    {
        var lines = Help(path).Split('\n');
        var children = lines.SkipWhile(l => l != "Commands:").Skip(1).TakeWhile(l => l.Length > 0)
            .Select(l => l.Trim().Split(' ')[0]).ToArray();
        if (path.Length > 0 && children.Length == 0) yield return path;
        foreach (string child in children)
            foreach (var command in Commands([.. path, child])) yield return command;
    }

    private static string Help(string[] command)
    {
        var (code, output) = CliTests.Run([.. command, "--help"]);
        Assert.True(code == 0, output);
        return Normalise(output);
    }

    /// <summary>The "Options:" block of a help screen, to its end.</summary>
    private static string Options(string help)
    {
        int start = help.IndexOf("Options:\n", StringComparison.Ordinal);
        Assert.True(start >= 0, help);
        return help[start..].Trim('\n');
    }

    /// <summary>Line ends as \n and no trailing spaces, as the page keeps them.</summary>
    private static string Normalise(string text) => string.Join('\n', text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd()));
}

using System.Reflection;
using System.Text.RegularExpressions;

namespace MLNetRnn.Tests.Docs;

/// <summary>
/// README.md and the docs stand alone in a clone: every relative link (and image) in them names a file or folder of the
/// repository, and none reaches outside it, to the project's shared folder beside the clone or to an absolute path. A path
/// in backticks that climbs out of the document's folder (<c>`../shared/docs/background.md`</c>) is held to the same rule,
/// since a reader follows it as a link.
/// </summary>
public sealed partial class DocsLinkTests
{
    private static readonly string Root = Path.GetFullPath(typeof(DocsLinkTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MLNetRnn.RepositoryRoot").Value!);

    [Fact]
    public void EveryRelativeLinkOfTheReadmeAndTheDocsNamesAFileOfTheRepository()
    {
        var documents = Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories).Prepend(Path.Combine(Root, "README.md")).ToArray();
        Assert.True(documents.Length > 10, $"only {documents.Length} documents found under {Root}");
        var problems = documents.SelectMany(d => Problems(Root, d)).ToList();
        Assert.True(problems.Count == 0, "Links that do not resolve inside the repository:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void BrokenOutsideAndAbsoluteLinksAreFoundAndGoodOnesPass()
    {
        // A clone beside the project's shared folder, whose files exist but are not the clone's.
        string place = Path.Combine(Path.GetTempPath(), "mlnetrnn-docs-" + Guid.NewGuid().ToString("N"));
        string root = Path.Combine(place, "clone");
        try
        {
            Directory.CreateDirectory(Path.Combine(place, "shared", "docs"));
            File.WriteAllText(Path.Combine(place, "shared", "docs", "background.md"), "");
            Directory.CreateDirectory(Path.Combine(root, "docs", "pictures"));
            File.WriteAllText(Path.Combine(root, "docs", "pictures", "a.png"), "");
            File.WriteAllText(Path.Combine(root, "README.md"), "");
            string doc = Path.Combine(root, "docs", "page.md");
            File.WriteAllText(doc, string.Join("\n",
                "Good: [readme](../README.md#quick-start), ![a](pictures/a.png \"title\"), [folder](pictures/), [web](https://example.org/x.md),",
                "[anchor](#here), [mail](mailto:someone@example.org), [spaced](<pictures/a.png>).",
                "Broken: [missing](missing.md), ![gone](pictures/b.png).",
                "Outside: [shared](../../shared/docs/background.md), [absolute](/etc/hosts), `../shared/docs/background.md`.",
                "[ref]: ../nowhere.md",
                "Code is not a link: `[x](nowhere.md)`, and in a block:",
                "```",
                "[y](nowhere-either.md)",
                "```"));

            var found = Problems(root, doc).ToList();

            Assert.Equal(6, found.Count);
            foreach (var (bad, why) in new[]
            {
                ("missing.md", "names nothing"), ("pictures/b.png", "names nothing"), ("../nowhere.md", "names nothing"),
                ("`../shared/docs/background.md`", "names nothing"), ("../../shared/docs/background.md", "outside the repository"),
                ("/etc/hosts", "absolute path"),
            })
                Assert.Contains(found, p => p.Contains($"'{bad}' ", StringComparison.Ordinal) && p.Contains(why, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(place, recursive: true);
        }
    }

    /// <summary>What is wrong with the links of <paramref name="document"/>, one line each, naming the file, the line and the
    /// target.</summary>
    private static IEnumerable<string> Problems(string root, string document)
    {
        string folder = Path.GetDirectoryName(document)!;
        string name = Path.GetRelativePath(root, document).Replace('\\', '/');
        bool fenced = false;
        string[] lines = File.ReadAllLines(document);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; continue; }
            if (fenced) continue;
            // A path in backticks that climbs out of the document's folder is read as a link; other code is not.
            foreach (Match code in CodeSpan().Matches(line))
                if (code.Groups[1].Value.StartsWith("../", StringComparison.Ordinal) && Why(root, folder, code.Groups[1].Value) is { } codeWhy)
                    yield return $"{name}:{i + 1}: '`{code.Groups[1].Value}`' {codeWhy}";
            string text = CodeSpan().Replace(line, "");
            var targets = InlineLink().Matches(text).Select(m => m.Groups[1].Value)
                .Concat(ReferenceDefinition().Matches(text).Select(m => m.Groups[1].Value));
            foreach (string raw in targets)
            {
                string target = raw.Trim().TrimStart('<').TrimEnd('>');
                if (Scheme().IsMatch(target) || target.StartsWith('#')) continue;
                if (Why(root, folder, target) is { } why) yield return $"{name}:{i + 1}: '{target}' {why}";
            }
        }
    }

    /// <summary>Why <paramref name="target"/>, read from <paramref name="folder"/>, is not a file or folder of the
    /// repository; null when it is.</summary>
    private static string? Why(string root, string folder, string target)
    {
        string path = Uri.UnescapeDataString(target.Split('#')[0].Split('?')[0]);
        if (path.Length == 0) return null;
        if (path.StartsWith('/') || Path.IsPathRooted(path)) return "is an absolute path";
        string full = Path.GetFullPath(Path.Combine(folder, path));
        string inside = Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(inside, StringComparison.Ordinal)) return "points outside the repository";
        return File.Exists(full) || Directory.Exists(full) ? null : "names nothing in the repository";
    }

    /// <summary>[text](target "title") and ![alt](target): the target, up to a space or the closing parenthesis.</summary>
    [GeneratedRegex(@"\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLink();

    /// <summary>A reference definition, "[label]: target", at the start of a line.</summary>
    [GeneratedRegex(@"^\s{0,3}\[[^\]]+\]:\s*(\S+)")]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex CodeSpan();

    /// <summary>A URL scheme (https:, mailto:, …): not a file of the repository.</summary>
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex Scheme();
}

using MLNetRnn.Tests.Shared;
using System.Reflection;
using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace MLNetRnn.Tests;

/// <summary>
/// The arrows between the folders of the ML.NET package point one way: Forecasting and Regression may use Onnx,
/// Persistence and Training; Onnx builds graphs from core types and its own interfaces and uses nothing of
/// Forecasting or Regression; and no two folders use each other. Most public types sit in the namespace
/// <c>MLNetRnn</c> whatever their folder (ML.NET's habit: one namespace for the user), so the unit here is the folder,
/// read from the sources (the top-level type declarations of each file), and the uses are read from the built
/// assembly's IL, which sees through <c>using</c> aliases and <c>var</c> alike. Constants and <c>nameof</c> compile to
/// their values and leave no trace in IL: a use through them alone is not seen.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly string[] Upper = ["Forecasting", "Regression"];

    [Fact]
    public void OnnxUsesNoTypeOfForecastingOrRegression()
    {
        var offenders = Uses().Where(u => u.From.Folder == "Onnx" && Upper.Contains(u.To.Folder)).Select(Describe).Distinct().ToArray();
        Assert.True(offenders.Length == 0, "Onnx/ must not use Forecasting/ or Regression/:" + Environment.NewLine + string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public void NoTwoFoldersUseEachOther()
    {
        var uses = Uses().Where(u => u.From.Folder != u.To.Folder).ToArray();
        var cycles = new List<string>();
        foreach (var pair in uses.Select(u => (u.From.Folder, u.To.Folder)).Distinct().Where(p => string.CompareOrdinal(p.Item1, p.Item2) < 0))
        {
            var back = uses.FirstOrDefault(u => u.From.Folder == pair.Item2 && u.To.Folder == pair.Item1);
            if (back.From.Type is null) continue;
            var forth = uses.First(u => u.From.Folder == pair.Item1 && u.To.Folder == pair.Item2);
            cycles.Add($"{pair.Item1} ↔ {pair.Item2}: {Describe(forth)}; {Describe(back)}");
        }
        Assert.True(cycles.Count == 0, "Folders that use each other:" + Environment.NewLine + string.Join(Environment.NewLine, cycles));
    }

    [Fact]
    public void EveryTypeIsDeclaredInOneFolder()
    {
        var split = Folders().Where(f => f.Value.Count > 1).Select(f => $"{f.Key}: {string.Join(", ", f.Value)}").ToArray();
        Assert.True(split.Length == 0, "Types declared (partly) in several folders:" + Environment.NewLine + string.Join(Environment.NewLine, split));
    }

    private readonly record struct Place(string Type, string Folder);

    private readonly record struct Use(Place From, Place To);

    private static string Describe(Use u) => $"{u.From.Folder}/{u.From.Type} uses {u.To.Folder}/{u.To.Type}";

    /// <summary>Every use of one of the package's types by another, between top-level types, with their folders.</summary>
    private static IEnumerable<Use> Uses()
    {
        var folders = Folders();
        using var module = ModuleDefinition.ReadModule(typeof(RnnForecastingEstimator).Assembly.Location);
        foreach (var type in module.Types)
        {
            if (!folders.TryGetValue(Name(type), out var from)) continue;   // compiler-generated: <Module>, attributes, …
            foreach (var used in AllNested(type).SelectMany(TypeUses.Of).SelectMany(Unwrap))
            {
                if (used is not TypeDefinition definition || definition.Module != module) continue;
                var top = definition;
                while (top.DeclaringType is not null) top = top.DeclaringType;
                if (top == type || !folders.TryGetValue(Name(top), out var to)) continue;
                yield return new Use(new Place(Name(type), from.First()), new Place(Name(top), to.First()));
            }
        }
    }

    private static string Name(TypeDefinition type) => type.Name.Split('`')[0];

    private static IEnumerable<TypeDefinition> AllNested(TypeDefinition type) => type.NestedTypes.SelectMany(AllNested).Prepend(type);

    /// <summary>The top-level folder(s) of each top-level type, from src/MLNetRnn: top-level declarations start a line (the
    /// files use file-scoped namespaces), nested ones are indented.</summary>
    private static Dictionary<string, SortedSet<string>> Folders()
    {
        string root = Path.Combine(typeof(ArchitectureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "MLNetRnn.RepositoryRoot").Value!, "src", "MLNetRnn");
        var folders = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(root, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal)) continue;
            // A subfolder belongs to its top-level folder (Onnx/Cells is part of the Onnx leaf: the per-cell mappings
            // use the graph's primitives, and the network's graph uses the mappings).
            string folder = Path.GetDirectoryName(relative) is { Length: > 0 } d ? d.Replace('\\', '/').Split('/')[0] : ".";
            foreach (string line in File.ReadLines(file))
                if (TopLevelDeclaration().Match(line) is { Success: true } m)
                {
                    if (!folders.TryGetValue(m.Groups[1].Value, out var set)) folders[m.Groups[1].Value] = set = new SortedSet<string>(StringComparer.Ordinal);
                    set.Add(folder);
                }
        }
        Assert.True(folders.Count > 20, $"Found only {folders.Count} types under {root}.");
        return folders;
    }

    [GeneratedRegex(@"^(?:(?:public|internal|private|protected|static|sealed|abstract|partial|readonly|file|unsafe|ref)\s+)*(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?|delegate\s+\S+)\s+([A-Za-z_]\w*)")]
    private static partial Regex TopLevelDeclaration();

    /// <summary>A type and what it is built from: element types, generic arguments.</summary>
    private static IEnumerable<TypeReference> Unwrap(TypeReference type)
    {
        if (type is GenericInstanceType generic)
            return Unwrap(generic.ElementType).Concat(generic.GenericArguments.SelectMany(Unwrap));
        if (type is TypeSpecification specification)
            return Unwrap(specification.ElementType);
        return [type];
    }

    /// <summary>
    /// The package uses MLNetRnn.Core only through its public surface, so it can depend on any later Core (no
    /// InternalsVisibleTo, no exact version pin). Every type, method and field reference into MLNetRnn.Core in the
    /// package's IL must resolve to something public (or protected, for a type the package derives from), down to the
    /// generic arguments and the declaring types of nested types.
    /// </summary>
    [Fact]
    public void PackageUsesOnlyPublicMembersOfCore()
    {
        using var module = ModuleDefinition.ReadModule(typeof(RnnForecastingEstimator).Assembly.Location);
        var offenders = new List<string>();
        void Check(TypeDefinition user, MemberReference member)
        {
            string? problem = member switch
            {
                TypeReference t => Unwrap(t).Where(FromCore).Select(u => u.Resolve()).FirstOrDefault(d => d is null || !Visible(d))?.FullName,
                MethodReference m when FromCore(m.DeclaringType) => m.Resolve() is { } d && (d.IsPublic || d.IsFamily || d.IsFamilyOrAssembly) && Visible(d.DeclaringType) ? null : m.FullName,
                FieldReference f when FromCore(f.DeclaringType) => f.Resolve() is { } d && (d.IsPublic || d.IsFamily || d.IsFamilyOrAssembly) && Visible(d.DeclaringType) ? null : f.FullName,
                _ => null,
            };
            if (problem is not null) offenders.Add($"{user.FullName} uses {problem}");
            if (member is MethodReference or FieldReference) Check(user, member.DeclaringType);
            if (member is GenericInstanceMethod gm) foreach (var a in gm.GenericArguments) Check(user, a);
        }
        foreach (var type in module.GetTypes())
        {
            foreach (var used in TypeUses.Of(type)) Check(type, used);
            foreach (var method in type.Methods.Where(m => m.HasBody))
                foreach (var instruction in method.Body.Instructions)
                    if (instruction.Operand is MemberReference member) Check(type, member);
        }
        Assert.True(offenders.Count == 0, "MLNetRnn uses non-public parts of MLNetRnn.Core:" + Environment.NewLine + string.Join(Environment.NewLine, offenders.Distinct()));

        static bool FromCore(TypeReference t) => t.Scope?.Name is "MLNetRnn.Core" or "MLNetRnn.Core.dll";
        static bool Visible(TypeDefinition t) => t.IsNested ? (t.IsNestedPublic || t.IsNestedFamily || t.IsNestedFamilyOrAssembly) && Visible(t.DeclaringType) : t.IsPublic;
    }
}

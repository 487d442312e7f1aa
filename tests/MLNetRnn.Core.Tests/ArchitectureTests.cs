using Mono.Cecil;
using Mono.Cecil.Cil;
using MLNetRnn.Tests.Shared;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Tests;

/// <summary>
/// The arrows between the layers point one way. The compiler keeps ML.NET out of MLNetRnn.Core (it is not a
/// reference); these tests pin that for the built assembly, and the direction inside it: the engine (cells,
/// layers, training, …) knows nothing of the forecasting logic or the diagnostics built on top of it, and inside
/// the engine each folder uses only the folders before it in <see cref="Engine"/>.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly string[] Upper = ["MLNetRnn.Core.Forecasting", "MLNetRnn.Core.Diagnostics"];

    /// <summary>The engine's folders (namespaces MLNetRnn.Core.X), bottom first: a type may use types of its own
    /// folder and of folders to its left, never to its right. Data sits low because training reads its datasets.</summary>
    public static readonly string[] Engine =
        ["Kernels", "Memory", "Initialization", "Losses", "Data", "Optimizers", "Cells", "Layers", "Network", "Training"];

    [Fact]
    public void CoreAssemblyReferencesNoMicrosoftMl()
    {
        var references = typeof(RecurrentNetwork).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToArray();
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.ML", StringComparison.Ordinal) || name == "MLNetRnn");
    }

    [Fact]
    public void EngineDoesNotReferenceForecastingOrDiagnostics()
    {
        using var module = ModuleDefinition.ReadModule(typeof(RecurrentNetwork).Assembly.Location);
        var offenders = new List<string>();
        foreach (var type in module.GetTypes())
        {
            string ns = NamespaceOf(type);
            if (!ns.StartsWith("MLNetRnn.Core.", StringComparison.Ordinal) || Upper.Any(u => ns.StartsWith(u, StringComparison.Ordinal))) continue;
            foreach (var used in TypeUses.Of(type))
                if (Upper.Any(u => NamespaceOf(used).StartsWith(u, StringComparison.Ordinal)))
                    offenders.Add($"{type.FullName} uses {used.FullName}");
        }
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders.Distinct()));
    }

    public static TheoryData<string> EngineFolders() => [.. Engine];

    /// <summary>For each engine folder: none of its types (nested types, signatures, method bodies, generic arguments,
    /// attributes included) uses a type of a folder to its right.</summary>
    [Theory]
    [MemberData(nameof(EngineFolders))]
    public void EngineFolderUsesOnlyFoldersBeforeIt(string folder)
    {
        var offenders = UpwardUses(folder);
        Assert.True(offenders.Count == 0, "Arrows point right:" + Environment.NewLine + string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public void EveryEngineFolderHasTypes()
    {
        // A folder renamed or emptied would make the order above vacuous for it.
        using var module = ModuleDefinition.ReadModule(typeof(RecurrentNetwork).Assembly.Location);
        var folders = module.GetTypes().Select(t => FolderOf(NamespaceOf(t))).ToHashSet();
        Assert.All(Engine, f => Assert.Contains(f, folders));
    }

    [Fact]
    public void UsedTypesSeesStaticCallsNestedTypesAndGenericArguments()
    {
        // The helper itself: a type that reaches another only through a static call in a lambda, a nested type's
        // field, a local, or a generic argument is still seen to use it.
        using var module = ModuleDefinition.ReadModule(typeof(ArchitectureTests).Assembly.Location);
        var probe = module.GetType(typeof(Probe).FullName!.Replace('+', '/'));
        var seen = module.GetTypes().Where(t => t == probe || IsNestedIn(t, probe)).SelectMany(TypeUses.Of).Select(t => t.FullName).ToHashSet();
        Assert.Contains(typeof(StaticTarget).FullName!.Replace('+', '/'), seen);
        Assert.Contains(typeof(FieldTarget).FullName!.Replace('+', '/'), seen);
        Assert.Contains(typeof(GenericTarget).FullName!.Replace('+', '/'), seen);
        Assert.Contains(typeof(LocalTarget).FullName!.Replace('+', '/'), seen);
    }

    /// <summary>
    /// Baselines sits below the forecaster: it may use the engine, Serialization and itself, nothing of
    /// <c>MLNetRnn.Core.Forecasting</c> (the forecaster reads the base; the base never reads the forecaster). Generic
    /// arguments, array elements, locals and nested types count.
    /// </summary>
    [Fact]
    public void BaselinesUseNothingOfForecasting()
    {
        const string baselines = "MLNetRnn.Core.Forecasting.Baselines", forecasting = "MLNetRnn.Core.Forecasting";
        using var module = ModuleDefinition.ReadModule(typeof(RecurrentNetwork).Assembly.Location);
        var offenders = new List<string>();
        foreach (var type in module.GetTypes().Where(t => NamespaceOf(t) == baselines))
            foreach (var used in TypeUses.Of(type))
                if (NamespaceOf(used) == forecasting) offenders.Add($"{type.FullName} uses {used.FullName}");
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders.Distinct()));
    }

    private static List<string> UpwardUses(string folder)
    {
        using var module = ModuleDefinition.ReadModule(typeof(RecurrentNetwork).Assembly.Location);
        int rank = Array.IndexOf(Engine, folder);
        var offenders = new List<string>();
        foreach (var type in module.GetTypes().Where(t => FolderOf(NamespaceOf(t)) == folder))
            foreach (var used in TypeUses.Of(type))
            {
                int usedRank = Array.IndexOf(Engine, FolderOf(NamespaceOf(used)));
                if (usedRank > rank) offenders.Add($"{folder} → {Engine[usedRank]}: {type.FullName} uses {used.FullName}");
            }
        return offenders.Distinct().ToList();
    }

    /// <summary>X of namespace MLNetRnn.Core.X[.…]; empty outside the Core's folders.</summary>
    private static string FolderOf(string ns)
    {
        const string core = "MLNetRnn.Core.";
        if (!ns.StartsWith(core, StringComparison.Ordinal)) return "";
        string rest = ns[core.Length..];
        int dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    /// <summary>The namespace of a type, of its outermost declaring type for a nested one (Cecil gives nested
    /// types an empty namespace), of its element type for arrays, pointers and generic instances.</summary>
    private static string NamespaceOf(TypeReference t)
    {
        while (t is TypeSpecification spec) t = spec.ElementType;
        while (t.DeclaringType is not null) t = t.DeclaringType;
        return t.Namespace ?? "";
    }

    private static bool IsNestedIn(TypeDefinition t, TypeDefinition outer)
    {
        for (var d = t.DeclaringType; d is not null; d = d.DeclaringType)
            if (d == outer) return true;
        return false;
    }

    // The probe of UsedTypesSeesStaticCallsNestedTypesAndGenericArguments: each target is reached one hidden way.
    private static class StaticTarget { public static int Value() => 1; }
    private sealed class FieldTarget { }
    private sealed class GenericTarget { }
    private struct LocalTarget { public int X; }

    private static class Probe
    {
        public static Func<int> Lambda => () => StaticTarget.Value();
        public static int Local() { LocalTarget l = default; l.X = 2; return l.X; }
        public static int Generic() => new List<GenericTarget>().Count;

        private sealed class Nested { public FieldTarget Field = new(); }
    }
}

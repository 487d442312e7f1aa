using MLNetRnn.Tests.Shared;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace MLNetRnn.Cli.Tests;

/// <summary>
/// The tool's folders depend one way: the app (namespace MLNetRnn.Cli) composes the commands and registers the study's;
/// the study (MLNetRnn.Cli.Study) knows nothing of the app, so it can move or be dropped without touching it; what both
/// need lives in MLNetRnn.Cli.Shared, which knows neither. Read from the built assembly, so a type named through a
/// lambda, a local or a generic argument counts as much as one in a signature.
/// </summary>
public sealed class ArchitectureTests
{
    private const string App = "MLNetRnn.Cli";
    private const string Study = "MLNetRnn.Cli.Study";
    private const string Shared = "MLNetRnn.Cli.Shared";

    [Fact]
    public void TheToolSeesOnlyTheLibrarysPublicApi()
    {
        // The tool ships as its own package on MLNetRnn's: it must build against what any user of the library sees,
        // so a newer library cannot break it through a changed internal.
        var grants = typeof(MLNetRnn.RnnForecastingEstimator).Assembly
            .GetCustomAttributes(typeof(System.Runtime.CompilerServices.InternalsVisibleToAttribute), false)
            .Cast<System.Runtime.CompilerServices.InternalsVisibleToAttribute>().Select(a => a.AssemblyName);
        Assert.DoesNotContain(App, grants);
    }

    [Fact]
    public void StudyDoesNotUseTheApp() => AssertNoArrow(from: [Study], to: [App]);

    [Fact]
    public void SharedUsesNeitherTheAppNorTheStudy() => AssertNoArrow(from: [Shared], to: [App, Study]);

    [Fact]
    public void TheAppRegistersTheStudyCommand()
    {
        // The arrow that is allowed does exist: otherwise the tests above would pass on an assembly without a study.
        var uses = Uses(from: [App], to: [Study]);
        Assert.Contains(uses, u => u.EndsWith("uses MLNetRnn.Cli.Study.StudyCommand", StringComparison.Ordinal));
    }

    private static void AssertNoArrow(string[] from, string[] to)
    {
        var offenders = Uses(from, to);
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }

    /// <summary>"A uses B" for each type A of a namespace in <paramref name="from"/> (compiler-generated types count as
    /// the type they are nested in) that uses a type B of a namespace in <paramref name="to"/>.</summary>
    private static List<string> Uses(string[] from, string[] to)
    {
        using var module = ModuleDefinition.ReadModule(typeof(CliApp).Assembly.Location);
        var uses = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes().Where(t => from.Contains(Owner(t).Namespace)))
            foreach (var used in TypeUses.Of(type))
                if (to.Contains(Owner(used).Namespace))
                    uses.Add($"{Owner(type).FullName} uses {Owner(used).FullName}");
        return [.. uses];
    }

    /// <summary>The outermost type: nested types (closures, state machines) have no namespace of their own.</summary>
    private static TypeReference Owner(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }
}

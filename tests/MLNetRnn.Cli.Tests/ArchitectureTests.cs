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
            foreach (var used in UsedTypes(type).SelectMany(Expand))
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

    /// <summary>The type and what it is built from: element types of arrays and by-refs, generic arguments.</summary>
    private static IEnumerable<TypeReference> Expand(TypeReference type)
    {
        yield return type;
        if (type is TypeSpecification spec)
            foreach (var inner in Expand(spec.ElementType)) yield return inner;
        if (type is GenericInstanceType generic)
            foreach (var inner in generic.GenericArguments.SelectMany(Expand)) yield return inner;
    }

    private static IEnumerable<TypeReference> UsedTypes(TypeDefinition type) =>
        new[] { type.BaseType }.Concat(type.Interfaces.Select(i => i.InterfaceType))
            .Concat(type.Fields.Select(f => f.FieldType))
            .Concat(type.Properties.Select(p => p.PropertyType))
            .Concat(type.Methods.SelectMany(m => m.Parameters.Select(p => p.ParameterType).Append(m.ReturnType)))
            .Concat(type.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Variables.Select(v => v.VariableType)))
            .Concat(type.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Instructions.SelectMany(Operands)))
            .Where(t => t is not null)!;

    private static IEnumerable<TypeReference> Operands(Instruction instruction) => instruction.Operand switch
    {
        GenericInstanceMethod gm => gm.GenericArguments.Append(gm.DeclaringType).Append(gm.ReturnType).Concat(gm.Parameters.Select(p => p.ParameterType)),
        MethodReference mr => mr.Parameters.Select(p => p.ParameterType).Append(mr.DeclaringType).Append(mr.ReturnType),
        FieldReference fr => [fr.DeclaringType, fr.FieldType],
        TypeReference tr => [tr],
        _ => [],
    };
}

using Mono.Cecil;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Tests;

/// <summary>
/// The arrows between the layers point one way. The compiler keeps ML.NET out of MLNetRnn.Core (it is not a
/// reference); these tests pin that for the built assembly, and the direction inside it: the engine (cells,
/// layers, training, …) knows nothing of the forecasting logic or the diagnostics built on top of it.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly string[] Upper = ["MLNetRnn.Core.Forecasting", "MLNetRnn.Core.Diagnostics"];

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
        foreach (var type in module.GetTypes().Where(t => t.Namespace.StartsWith("MLNetRnn.Core.", StringComparison.Ordinal) && !Upper.Any(u => t.Namespace.StartsWith(u, StringComparison.Ordinal))))
        {
            foreach (var used in UsedTypes(type))
                if (Upper.Any(u => (used.Namespace ?? "").StartsWith(u, StringComparison.Ordinal)))
                    offenders.Add($"{type.FullName} uses {used.FullName}");
        }
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders.Distinct()));
    }

    private static IEnumerable<TypeReference> UsedTypes(TypeDefinition type) =>
        new[] { type.BaseType }.Concat(type.Interfaces.Select(i => i.InterfaceType))
            .Concat(type.Fields.Select(f => f.FieldType))
            .Concat(type.Properties.Select(p => p.PropertyType))
            .Concat(type.Methods.SelectMany(m => m.Parameters.Select(p => p.ParameterType).Append(m.ReturnType)))
            .Concat(type.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Instructions.Select(i => i.Operand switch
            {
                MethodReference mr => mr.DeclaringType,
                FieldReference fr => fr.DeclaringType,
                TypeReference tr => tr,
                _ => null,
            })))
            .Where(t => t is not null)!;

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
        {
            var locals = type.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Variables.Select(v => v.VariableType));
            var generics = type.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Instructions.Select(i => i.Operand))
                .OfType<GenericInstanceMethod>().SelectMany(m => m.GenericArguments);
            foreach (var used in UsedTypes(type).Concat(locals).Concat(generics).SelectMany(Expand))
                if (NamespaceOf(used) == forecasting) offenders.Add($"{type.FullName} uses {used.FullName}");
        }
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders.Distinct()));

        static IEnumerable<TypeReference> Expand(TypeReference t) => t switch
        {
            GenericInstanceType g => Expand(g.ElementType).Concat(g.GenericArguments.SelectMany(Expand)),
            TypeSpecification s => Expand(s.ElementType),
            _ => [t],
        };
        static string NamespaceOf(TypeReference t)
        {
            while (t.DeclaringType is not null) t = t.DeclaringType;
            return t.Namespace;
        }
    }
}

using Mono.Cecil;

namespace MLNetRnn.Tests;

/// <summary>The numeric core and the diagnostics know nothing of ML.NET: the arrow points one way.</summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void CoreTypesDoNotReferenceMicrosoftMl()
    {
        var assembly = typeof(MLNetRnn.Core.Network.RecurrentNetwork).Assembly;
        using var module = ModuleDefinition.ReadModule(assembly.Location);
        var offenders = new List<string>();
        foreach (var type in module.GetTypes().Where(t => t.Namespace.StartsWith("MLNetRnn.Core", StringComparison.Ordinal) || t.Namespace.StartsWith("MLNetRnn.Diagnostics", StringComparison.Ordinal)
            || t.Namespace.StartsWith("MLNetRnn.Forecasting", StringComparison.Ordinal)))
        {
            IEnumerable<TypeReference> used = new[] { type.BaseType }.Concat(type.Interfaces.Select(i => i.InterfaceType))
                .Concat(type.Fields.Select(f => f.FieldType))
                .Concat(type.Methods.SelectMany(m => m.Parameters.Select(p => p.ParameterType).Append(m.ReturnType)))
                .Concat(type.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Instructions.Select(i => i.Operand switch
                {
                    MethodReference mr => mr.DeclaringType,
                    FieldReference fr => fr.DeclaringType,
                    TypeReference tr => tr,
                    _ => null,
                })))
                .Where(t => t is not null)!;
            foreach (var t in used)
                if ((t.Scope?.Name ?? "").StartsWith("Microsoft.ML", StringComparison.Ordinal) || (t.Namespace ?? "").StartsWith("Microsoft.ML", StringComparison.Ordinal) || (t.Namespace ?? "").StartsWith("MLNetRnn.MLNet", StringComparison.Ordinal) || t.Namespace == "MLNetRnn")
                    offenders.Add($"{type.FullName} uses {t.FullName}");
        }
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders.Distinct()));
    }
}

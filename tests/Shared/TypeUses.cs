using Mono.Cecil;

namespace MLNetRnn.Tests.Shared;

/// <summary>
/// What a type uses, read from the built IL with Mono.Cecil: the one helper behind the architecture tests of every
/// test project (linked into each), so that a use one project's test would see is seen by all of them.
/// </summary>
internal static class TypeUses
{
    /// <summary>Every type a type definition mentions: base type, interfaces, attributes, fields, properties, events,
    /// method signatures, generic constraints, locals, and each operand of each instruction (a called method's
    /// declaring type, return and parameter types, a field's type, type tokens), with generic arguments, array
    /// elements and declaring types unfolded. A nested type is checked as a type of its own (GetTypes lists it).</summary>
    public static IEnumerable<TypeReference> Of(TypeDefinition type)
    {
        var direct = new List<TypeReference?> { type.BaseType };
        direct.AddRange(type.Interfaces.Select(i => i.InterfaceType));
        direct.AddRange(type.CustomAttributes.Select(a => a.AttributeType));
        direct.AddRange(type.GenericParameters.SelectMany(g => g.Constraints.Select(c => c.ConstraintType)));
        direct.AddRange(type.Fields.Select(f => f.FieldType));
        direct.AddRange(type.Fields.SelectMany(f => f.CustomAttributes.Select(a => a.AttributeType)));
        direct.AddRange(type.Properties.Select(p => p.PropertyType));
        direct.AddRange(type.Events.Select(e => e.EventType));
        foreach (var m in type.Methods)
        {
            direct.AddRange(MethodSignature(m));
            direct.AddRange(m.CustomAttributes.Select(a => a.AttributeType));
            direct.AddRange(m.GenericParameters.SelectMany(g => g.Constraints.Select(c => c.ConstraintType)));
            if (!m.HasBody) continue;
            direct.AddRange(m.Body.Variables.Select(v => v.VariableType));
            direct.AddRange(m.Body.ExceptionHandlers.Select(h => h.CatchType));
            foreach (var i in m.Body.Instructions)
                switch (i.Operand)
                {
                    case MethodReference mr:
                        direct.AddRange(MethodSignature(mr));
                        if (mr is GenericInstanceMethod gim) direct.AddRange(gim.GenericArguments);
                        break;
                    case FieldReference fr:
                        direct.Add(fr.DeclaringType);
                        direct.Add(fr.FieldType);
                        break;
                    case TypeReference tr:
                        direct.Add(tr);
                        break;
                    case CallSite cs:
                        direct.Add(cs.ReturnType);
                        direct.AddRange(cs.Parameters.Select(p => p.ParameterType));
                        break;
                }
        }
        return direct.Where(t => t is not null).SelectMany(t => Unfold(t!)).Where(t => t is not GenericParameter);
    }

    private static IEnumerable<TypeReference?> MethodSignature(MethodReference m)
        => m.Parameters.Select(p => p.ParameterType).Append(m.ReturnType).Append(m.DeclaringType);

    /// <summary>A type and every type inside it: element types, generic arguments, declaring types, function pointer
    /// signatures.</summary>
    private static IEnumerable<TypeReference> Unfold(TypeReference t)
    {
        yield return t;
        switch (t)
        {
            case GenericInstanceType git:
                foreach (var u in git.GenericArguments.SelectMany(Unfold)) yield return u;
                break;
            case FunctionPointerType fpt:
                foreach (var u in fpt.Parameters.Select(p => p.ParameterType).Append(fpt.ReturnType).SelectMany(Unfold)) yield return u;
                break;
            case RequiredModifierType rmt:
                foreach (var u in Unfold(rmt.ModifierType)) yield return u;
                break;
            case OptionalModifierType omt:
                foreach (var u in Unfold(omt.ModifierType)) yield return u;
                break;
        }
        if (t is TypeSpecification spec)
            foreach (var u in Unfold(spec.ElementType)) yield return u;
        if (t.DeclaringType is not null)
            foreach (var u in Unfold(t.DeclaringType)) yield return u;
    }
}

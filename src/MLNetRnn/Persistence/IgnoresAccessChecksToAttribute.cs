// ML.NET keeps its model persistence contract internal (see docs/design/save-load.md). We compile
// against publicized copies of these two assemblies (build/Publicize.targets); at run time these
// attributes tell the CLR not to enforce visibility when this assembly touches their non-public
// types and members. Without them the first such access throws MethodAccessException,
// FieldAccessException or TypeAccessException.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices;

/// <summary>
/// Tells the runtime that the assembly carrying this attribute may access non-public types and
/// members of the named assembly. The CLR recognises the attribute by its full name; the BCL does
/// not ship it, so every assembly that uses it defines its own copy.
/// </summary>
/// <remarks>
/// Internal so that it never clashes with a copy defined by a consumer or another library.
/// The C# compiler ignores it: compile-time access comes from the publicized references.
/// </remarks>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    /// <summary>Initializes the attribute for the assembly with the given simple name.</summary>
    /// <param name="assemblyName">The simple name of the assembly whose access checks are ignored.</param>
    public IgnoresAccessChecksToAttribute(string assemblyName)
    {
        AssemblyName = assemblyName;
    }

    /// <summary>The simple name of the assembly whose access checks are ignored.</summary>
    public string AssemblyName { get; }
}

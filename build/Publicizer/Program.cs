// Writes copies of .NET assemblies in which every type and member is public ('private protected'
// members become 'protected'; see PublicizedAccess), for use as compile-time references only. The
// runtime keeps loading the real assemblies; the IgnoresAccessChecksTo attributes in the consuming
// assembly tell it not to enforce visibility against them. See docs/design/save-load.md.
//
// Usage: Publicizer <input.dll> <output.dll> [<input.dll> <output.dll> ...]
// Set PUBLICIZER_VERBOSE=1 to list the top-level types it leaves alone.
//
// All pairs are processed together so that an internal type which exists under the same full name
// in more than one input (assemblies often compile shared internal helpers into each of them) stays
// internal: publishing every copy would make each use of that name ambiguous to the compiler.
// Microsoft.ML.Core and Microsoft.ML.Data 5.0.1 share none today.

using Mono.Cecil;

namespace MLNetRnn.Build.Publicizer;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0 || args.Length % 2 != 0)
        {
            Console.Error.WriteLine("usage: Publicizer <input.dll> <output.dll> [<input.dll> <output.dll> ...]");
            return 2;
        }

        try
        {
            var pairs = new List<(string Input, string Output)>();
            for (int i = 0; i < args.Length; i += 2)
                pairs.Add((Path.GetFullPath(args[i]), Path.GetFullPath(args[i + 1])));

            var resolver = new DefaultAssemblyResolver();
            foreach (var dir in pairs.Select(p => Path.GetDirectoryName(p.Input)!).Distinct())
                resolver.AddSearchDirectory(dir);

            // InMemory lets the output overwrite a file next to the input without a sharing violation.
            var readerParameters = new ReaderParameters { AssemblyResolver = resolver, InMemory = true, ReadSymbols = false };
            var assemblies = pairs.Select(p => AssemblyDefinition.ReadAssembly(p.Input, readerParameters)).ToList();

            var duplicated = assemblies
                .SelectMany(a => a.Modules.SelectMany(m => m.Types))
                .Where(t => !t.IsPublic)
                .GroupBy(t => t.FullName)
                .Where(g => g.Count() > 1)
                .Select(g => g.Key)
                .ToHashSet(StringComparer.Ordinal);

            for (int i = 0; i < pairs.Count; i++)
            {
                var counts = new Counts();
                foreach (var module in assemblies[i].Modules)
                {
                    foreach (var type in module.Types)
                        PublicizeType(type, duplicated, counts);
                }

                WriteAtomically(assemblies[i], pairs[i].Output);
                Console.WriteLine(
                    $"Publicizer: {Path.GetFileName(pairs[i].Input)} -> {pairs[i].Output} " +
                    $"({counts.Types} types, {counts.Methods} methods, {counts.Fields} fields made public; {counts.Kept} top-level types kept as they were)");
            }

            foreach (var assembly in assemblies)
                assembly.Dispose();
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"Publicizer: error: {ex.Message}");
            return 1;
        }
    }

    private sealed class Counts
    {
        public int Types;
        public int Methods;
        public int Fields;
        public int Kept;
    }

    private static void PublicizeType(TypeDefinition type, HashSet<string> duplicated, Counts counts)
    {
        // Leave alone what a C# caller could never name anyway, the polyfills that netstandard
        // assemblies embed under System.* or Microsoft.CodeAnalysis.* names (exposing those would
        // collide with the framework's own definitions), and types duplicated across the inputs.
        if (IsUnspeakable(type.Name) || (!type.IsNested && (IsPolyfillNamespace(type.Namespace) || duplicated.Contains(type.FullName))))
        {
            if (!type.IsNested)
            {
                counts.Kept++;
                if (Environment.GetEnvironmentVariable("PUBLICIZER_VERBOSE") == "1")
                    Console.WriteLine("  kept internal: " + type.FullName);
            }
            return;
        }

        var visibility = type.IsNested ? TypeAttributes.NestedPublic : TypeAttributes.Public;
        if ((type.Attributes & TypeAttributes.VisibilityMask) != visibility)
        {
            type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | visibility;
            counts.Types++;
        }

        foreach (var method in type.Methods)
        {
            if (IsUnspeakable(method.Name))
                continue;
            // A private method that overrides something is an explicit interface
            // implementation; published under its dotted name it would only confuse overload resolution.
            if (method.IsPrivate && method.HasOverrides)
                continue;
            var access = method.Attributes & MethodAttributes.MemberAccessMask;
            var wanted = PublicizedAccess(access);
            if (access != wanted)
            {
                method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | wanted;
                counts.Methods++;
            }
        }

        // A field-like event is backed by a private field of the same name; publishing the
        // field would make every mention of the event ambiguous.
        var eventNames = type.HasEvents ? type.Events.Select(e => e.Name).ToHashSet(StringComparer.Ordinal) : null;
        foreach (var field in type.Fields)
        {
            if (IsUnspeakable(field.Name) || (eventNames != null && eventNames.Contains(field.Name)))
                continue;
            var access = field.Attributes & FieldAttributes.FieldAccessMask;
            var wanted = (FieldAttributes)PublicizedAccess((MethodAttributes)access);
            if (access != wanted)
            {
                field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | wanted;
                counts.Fields++;
            }
        }

        foreach (var nested in type.NestedTypes)
            PublicizeType(nested, duplicated, counts);
    }

    // 'private protected' becomes 'protected', everything else non-public becomes 'public'.
    // ML.NET's extensible base classes (RowToRowTransformerBase and its MapperBase, ...) declare
    // their abstract hooks 'private protected'; as 'protected' a derived class in our assembly
    // overrides them with 'protected override', so a public sealed transformer of ours does not
    // expose SaveModel or MakeRowMapper as public methods. The field and method access encodings
    // are the same three bits, which is why fields share this mapping.
    private static MethodAttributes PublicizedAccess(MethodAttributes access) => access switch
    {
        MethodAttributes.Public => MethodAttributes.Public,
        MethodAttributes.Family => MethodAttributes.Family,
        MethodAttributes.FamANDAssem => MethodAttributes.Family,
        _ => MethodAttributes.Public,
    };

    private static bool IsUnspeakable(string name) => name.Length > 0 && name[0] == '<';

    private static bool IsPolyfillNamespace(string ns)
        => ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal)
        || ns == "Microsoft.CodeAnalysis" || ns.StartsWith("Microsoft.CodeAnalysis.", StringComparison.Ordinal);

    // The build skips this tool when its outputs are newer than its inputs, so a half-written
    // file left by an interrupted run must never carry the final name.
    private static void WriteAtomically(AssemblyDefinition assembly, string output)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        string temp = output + "." + Environment.ProcessId + ".tmp";
        try
        {
            assembly.Write(temp, new WriterParameters { DeterministicMvid = true });
            File.Move(temp, output, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}

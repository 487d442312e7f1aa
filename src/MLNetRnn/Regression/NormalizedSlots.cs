using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRnn.Regression;

/// <summary>
/// Which slots of a feature column hold values a normaliser rescaled upstream, although the column itself does not say
/// so. ML.NET's normalisers mark their output with the <c>IsNormalized</c> annotation, but <c>Concatenate</c> passes the
/// annotation on only when every one of its sources carries it: lags <c>Lag12 … Lag1</c> of which only <c>Lag1</c> was
/// normalised give a <c>Features</c> column without it. The values are rescaled all the same, and a local scaling that
/// takes them for label units trains on them silently (several times worse on the holdout).
/// </summary>
/// <remarks>
/// The slots are traced back through the data view's transforms, as ML.NET's own converters walk them
/// (<see cref="IDataTransform.Source"/>): a transform appends its columns to its source's, so a column keeps its index
/// upstream until the transform that added it. That transform read the slots from the columns its slot names name
/// (<c>Concatenate</c> names a scalar source's slot after the column, a vector source's as <c>column.slot</c>), as they
/// were visible in its source. A slot traced to a column with the annotation is normalised; one that cannot be traced
/// (no slot name, a source that is not a transform, a column reordered on the way) counts as not normalised, so the check
/// never refuses what it cannot show.
/// </remarks>
internal static class NormalizedSlots
{
    private const int MaximumDepth = 64;   // transforms walked through per slot; a real pipeline has far fewer

    /// <summary>For each of <paramref name="slots"/> of <paramref name="column"/> (a column of <paramref name="view"/>'s
    /// schema) traced to a normalised column upstream: the slot, its name, and the normalised column's name.</summary>
    public static IReadOnlyList<(int Slot, string SlotName, string Source)> Find(IDataView view, DataViewSchema.Column column, IEnumerable<int> slots)
    {
        var names = SlotNames(column);
        var found = new List<(int, string, string)>();
        foreach (int slot in slots)
            if (Trace(view, column, slot, 0) is { } source)
                found.Add((slot, names is not null && slot < names.Length ? names[slot] : "", source));
        return found;
    }

    /// <summary>The normalised column slot <paramref name="slot"/> of <paramref name="column"/> came from, or null.</summary>
    private static string? Trace(IDataView view, DataViewSchema.Column column, int slot, int depth)
    {
        if (column.IsNormalized()) return column.Name;
        if (depth == MaximumDepth) return null;
        var producer = Producer(view, column);
        if (producer is null || SlotNames(column) is not { } names || slot >= names.Length || names[slot].Length == 0) return null;
        var source = SourceOf(producer.Source.Schema, names[slot]);
        return source is { } s ? Trace(producer.Source, s.Column, s.Slot, depth + 1) : null;
    }

    /// <summary>The transform that added <paramref name="column"/>: upstream while the source still has it at its index.</summary>
    private static IDataTransform? Producer(IDataView view, DataViewSchema.Column column)
    {
        var v = view;
        while (v is IDataTransform t)
        {
            var upstream = t.Source.Schema;
            if (column.Index >= upstream.Count) return t;
            var same = upstream[column.Index];
            if (same.Name != column.Name || !same.Type.Equals(column.Type)) return null;   // reordered: cannot trace
            v = t.Source;
        }
        return null;
    }

    /// <summary>The visible column of <paramref name="schema"/>, and its slot, that a slot named <paramref name="slotName"/>
    /// was read from: a scalar column of that name, or a vector column with slot names whose name and a dot begin it
    /// (the longest such name, since names may contain dots).</summary>
    private static (DataViewSchema.Column Column, int Slot)? SourceOf(DataViewSchema schema, string slotName)
    {
        if (schema.GetColumnOrNull(slotName) is { Type: not VectorDataViewType } scalar) return (scalar, 0);
        for (int dot = slotName.LastIndexOf('.'); dot > 0; dot = slotName.LastIndexOf('.', dot - 1))
        {
            if (schema.GetColumnOrNull(slotName[..dot]) is not { Type: VectorDataViewType } vector || SlotNames(vector) is not { } names) continue;
            int slot = Array.IndexOf(names, slotName[(dot + 1)..]);
            if (slot >= 0) return (vector, slot);
        }
        return null;
    }

    private static string[]? SlotNames(DataViewSchema.Column column)
    {
        if (column.Type is not VectorDataViewType { IsKnownSize: true } || !column.HasSlotNames()) return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }
}

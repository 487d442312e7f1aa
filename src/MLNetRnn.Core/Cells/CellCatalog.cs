namespace MLNetRnn.Core.Cells;

/// <summary>
/// Every cell the engine has, by <see cref="RecurrentCellKind"/>. Layers, workspaces, the spec and the
/// exporters look their cell up here instead of switching over the kind, so a new cell is one folder
/// under Cells/ (its kernels and its <see cref="IRecurrentCell"/>), one enum value and one line below.
/// </summary>
internal static class CellCatalog
{
    // Indexed by the enum's value.
    private static readonly IRecurrentCell[] ByKind = [ElmanCell.Instance, LstmCell.Instance, GruCell.Instance];

    static CellCatalog()
    {
        for (int k = 0; k < ByKind.Length; k++)
            if ((int)ByKind[k].Kind != k) throw new InvalidOperationException($"CellCatalog lists {ByKind[k].Kind} at {k}.");
    }

    /// <summary>Every kind, in the enum's order.</summary>
    public static IReadOnlyList<RecurrentCellKind> Kinds { get; } = ByKind.Select(c => c.Kind).ToArray();

    /// <summary>Whether <paramref name="kind"/> has a cell.</summary>
    public static bool Contains(RecurrentCellKind kind) => (uint)kind < (uint)ByKind.Length;

    /// <summary>The cell of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No cell has that kind.</exception>
    public static IRecurrentCell Of(RecurrentCellKind kind)
        => Contains(kind) ? ByKind[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown cell kind.");

    /// <summary>The one kind with <paramref name="gates"/> gate blocks (how a PyTorch state dict names its cell); null
    /// when none or several have that many.</summary>
    public static RecurrentCellKind? WithGates(int gates)
    {
        var kinds = Kinds.Where(k => ByKind[(int)k].Gates == gates).ToArray();
        return kinds.Length == 1 ? kinds[0] : null;
    }

    /// <summary>The kinds as a sentence for messages: "Elman, Lstm or Gru".</summary>
    public static string Names { get; } = string.Join(", ", ByKind[..^1].Select(c => c.Kind)) + " or " + ByKind[^1].Kind;
}

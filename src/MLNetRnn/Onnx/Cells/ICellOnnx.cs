using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Onnx.Cells;

/// <summary>How one kind of cell is written as ONNX's standard recurrent operator: which operator, its gate order and
/// its attributes. One implementation per cell, listed in <see cref="CellOnnxCatalog"/>.</summary>
internal interface ICellOnnx
{
    /// <summary>The cell this mapping writes.</summary>
    RecurrentCellKind Kind { get; }

    /// <summary>The ONNX operator: RNN, LSTM or GRU.</summary>
    string Operator { get; }

    /// <summary>For each ONNX gate block k, the PyTorch block it takes.</summary>
    int[] GateOrder { get; }

    /// <summary>The operator's attributes for a layer of <paramref name="H"/> units of <paramref name="spec"/>.</summary>
    OnnxAttribute[] Attributes(RecurrentNetworkSpec spec, int H);
}

/// <summary>The ONNX mapping of every cell, by <see cref="RecurrentCellKind"/>: the exporter's counterpart of
/// <see cref="CellCatalog"/>.</summary>
internal static class CellOnnxCatalog
{
    private static readonly ICellOnnx[] ByKind = [new ElmanOnnx(), new LstmOnnx(), new GruOnnx()];

    /// <summary>The mapping of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No mapping has that kind.</exception>
    public static ICellOnnx Of(RecurrentCellKind kind)
    {
        foreach (var cell in ByKind)
            if (cell.Kind == kind) return cell;
        throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown cell kind, or a cell with no ONNX mapping.");
    }

    /// <summary>Every kind that has a mapping.</summary>
    public static IEnumerable<RecurrentCellKind> Kinds => ByKind.Select(c => c.Kind);
}

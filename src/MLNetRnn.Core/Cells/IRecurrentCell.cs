using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Cells;

// B = rows of the step, H = hidden, G = gate blocks, GH = G·H.
//
// What a layer needs of its cell. The layer owns the buffers and the batched input projection
// (Gates (T·B, GH) = X·W_ihᵀ + bias, one GEMM for all steps); the cell owns one step: the recurrent
// product, the gate nonlinearities and the state update, and their backward. The layer calls the
// cell once per step and part of the batch (one interface call per step, never per element), with
// the step's views in a CellStep.

/// <summary>One kind of recurrent cell, as a layer uses it. Implementations are stateless singletons
/// listed in <see cref="CellCatalog"/>.</summary>
internal interface IRecurrentCell
{
    /// <summary>The kind this cell implements.</summary>
    RecurrentCellKind Kind { get; }

    /// <summary>Gate blocks G, each H wide, in PyTorch's order (see <see cref="GateNames"/>).</summary>
    int Gates { get; }

    /// <summary>One short name per gate block, in order: "i","f","g","o" for the LSTM.</summary>
    IReadOnlyList<string> GateNames { get; }

    /// <summary>Whether the cell carries a cell state c beside h (the LSTM): the layer then keeps
    /// c (T+1, B, H), tanh(c) (T, B, H) and dL/dc (B, H), and inference keeps c.</summary>
    bool HasCellState { get; }

    /// <summary>Whether the recurrent product hh = h_prev·W_hhᵀ + b_hh is kept apart from the input
    /// projection (the GRU's reset gate multiplies it): the layer then keeps hh and dL/dhh (T, B, GH) and
    /// the path dL/dh_prev that skips W_hh (B, H), b_hh is not folded into the input bias, and dW_hh,
    /// db_hh are taken from dL/dhh rather than from dL/dGates.</summary>
    bool SeparateRecurrentProduct { get; }

    /// <summary>Gate block whose input bias gets InitializationSpec.ForgetGateBias (the LSTM's f); −1 for none.</summary>
    int ForgetGate { get; }

    /// <summary>Whether Pascanu's regulariser Ω is defined for this cell (an Elman cell; see
    /// PascanuRegularizer).</summary>
    bool SupportsVanishingRegularizer { get; }

    /// <summary>Whether the cell draws a random value per element and step while training (the randomised
    /// leaky ReLU's slope): the layer then keeps them, (T, B, H), and calls <see cref="DrawSlopes"/>.</summary>
    bool NeedsSlopes(in Activation act);

    /// <summary>Draws the slopes of a whole window, (T, B, H), before its steps run.</summary>
    void DrawSlopes(Span<float> slopes, in Activation act, Random rng);

    /// <summary>One step over the rows of <paramref name="s"/>: adds the recurrent product and writes h (and c).</summary>
    void Forward(in CellStep s);

    /// <summary>Backward of <see cref="Forward"/> for the same step: from s.Dh writes s.DGates (and s.DHH) and
    /// s.DhPrev (=); updates s.Dc in place to dL/dc_prev; accumulates layer-norm dγ, dβ.</summary>
    void Backward(in CellStep s);
}

/// <summary>
/// The views of one step of one layer for rows [b0, b1) of the batch: Forward reads what the layer gives it
/// and fills the caches, Backward reads the same caches under the same names. A view a cell does not use is
/// empty. Shapes with B = the step's rows. Passed by reference (in), so no view is copied per call.
/// </summary>
internal ref struct CellStep
{
    public int B;
    public int H;
    public bool Training;
    public Activation Activation;
    public LayerNormStep Ln;              // empty when layer normalisation is off

    // Forward
    public Span<float> Gates;             // (B,GH) in: bias + x·W_ihᵀ; out: pre-activations (Elman) or activated gates
    public ReadOnlySpan<float> HPrev;     // (B,H)
    public Span<float> HOut;              // (B,H) written: h_t
    public ReadOnlySpan<float> CPrev;     // (B,H) cell state in (HasCellState)
    public Span<float> C;                 // (B,H) cell state out (HasCellState)
    public Span<float> TanhC;             // (B,H) tanh(c), kept for Backward (HasCellState)
    public Span<float> HH;                // (B,GH) h_prev·W_hhᵀ + b_hh, kept (SeparateRecurrentProduct)
    public ReadOnlySpan<float> BiasHH;    // (GH) b_hh (SeparateRecurrentProduct)
    public Span<float> Slopes;            // (B,H) per-element slopes (NeedsSlopes)
    public PackedMatrix WeightHHT;        // W_hhᵀ (H, GH) packed: forward recurrent product

    // Backward
    public ReadOnlySpan<float> Dh;        // (B,H) total dL/dh_t
    public Span<float> Dc;                // (B,H) in: dL/dc_t from t+1; out: dL/dc_{t−1} (HasCellState)
    public Span<float> DGates;            // (B,GH) written: dL/d pre-activations (GRU: dL/d ih)
    public Span<float> DHH;               // (B,GH) written: dL/d hh (SeparateRecurrentProduct)
    public Span<float> DhDirect;          // (B,H) scratch: dL/dh_prev not through W_hh (SeparateRecurrentProduct)
    public Span<float> DhPrev;            // (B,H) written: dL/dh_{t−1}
    public PackedMatrix WeightHH;         // W_hh (GH, H) packed: backward recurrent product
}

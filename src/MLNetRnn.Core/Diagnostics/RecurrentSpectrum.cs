using MathNet.Numerics.LinearAlgebra;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Diagnostics;

/// <summary>The spectrum of one gate block of a recurrent weight matrix W_hh.</summary>
/// <param name="Layer">Layer index.</param>
/// <param name="Gate">Gate block: "h" for Elman, "i"/"f"/"g"/"o" for LSTM, "r"/"z"/"n" for GRU.</param>
/// <param name="SingularValues">Singular values, largest first.</param>
/// <param name="EigenvalueMagnitudes">|λ| of the eigenvalues, largest first.</param>
public sealed record GateSpectrum(int Layer, string Gate, double[] SingularValues, double[] EigenvalueMagnitudes)
{
    /// <summary>Largest singular value σ₁ = ‖W‖₂. Pascanu et al.: with σ' ≤ γ, σ₁ &lt; 1/γ is sufficient for
    /// vanishing gradients and σ₁ &gt; 1/γ necessary for exploding ones (γ = 1 for tanh, 1/4 for sigmoid).</summary>
    public double LargestSingularValue => SingularValues[0];

    /// <summary>Spectral radius ρ = max |λ|: the growth rate of ‖Wᵏ‖ for large k.</summary>
    public double SpectralRadius => EigenvalueMagnitudes[0];
}

/// <summary>Singular values and eigenvalues of each gate block of each layer's W_hh — what the papers tell us to
/// watch to see whether a recurrent net is in the vanishing or the exploding regime. Allocates.</summary>
public static class RecurrentSpectrum
{
    /// <summary>The spectrum of every gate block of every layer of <paramref name="network"/>.</summary>
    public static IReadOnlyList<GateSpectrum> Compute(RecurrentNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var spec = network.Spec;
        string gates = string.Concat(Core.Cells.CellCatalog.Of(spec.Cell).GateNames);
        var result = new List<GateSpectrum>();
        for (int l = 0; l < spec.Layers; l++)
        {
            int H = spec.HiddenSizes[l];
            var w = network.Parameters.Value(network.Parameters[$"weight_hh_l{l}"]);
            for (int g = 0; g < gates.Length; g++)
            {
                var block = w.Slice(g * H * H, H * H);
                var m = Matrix<double>.Build.Dense(H, H);
                for (int i = 0; i < H; i++) for (int j = 0; j < H; j++) m[i, j] = block[i * H + j];
                result.Add(new GateSpectrum(l, gates[g].ToString(), Decompose(m, x => x.Svd(computeVectors: false).S.ToArray()),
                    Decompose(m, x => x.Evd().EigenValues.Select(c => c.Magnitude).ToArray())));
            }
        }
        return result;
    }

    /// <summary>
    /// A decomposition's magnitudes, largest first; NaN for each when the matrix is not finite or the iteration does
    /// not converge (MathNet's nonsymmetric eigensolver gives up on some matrices). A diagnostic that cannot be
    /// computed must never stop the training it watches.
    /// </summary>
    private static double[] Decompose(Matrix<double> m, Func<Matrix<double>, double[]> values)
    {
        if (m.Enumerate().Any(v => !double.IsFinite(v))) return Enumerable.Repeat(double.NaN, m.RowCount).ToArray();
        try
        {
            return values(m).OrderByDescending(x => x).ToArray();
        }
        catch (MathNet.Numerics.NonConvergenceException)
        {
            return Enumerable.Repeat(double.NaN, m.RowCount).ToArray();
        }
    }

    /// <summary>
    /// γ, the bound on the derivative of the nonlinearity that follows a gate block's recurrent product: 1 for tanh
    /// and the ReLU family, 1/4 for sigmoid, max(1, α) for ELU. LSTM i, f, o and GRU r, z are sigmoid gates (1/4);
    /// LSTM g and GRU n are tanh (1). Pascanu et al.: σ₁(W_hh) &lt; 1/γ is sufficient for vanishing gradients and
    /// σ₁ &gt; 1/γ necessary for exploding ones. The theorem is for the Elman recurrence; in a gated cell the
    /// Jacobian also passes through the gates (and the LSTM's additive cell path), so there 1/γ is a reference
    /// line per block, not a verdict.
    /// </summary>
    /// <param name="cell">Cell kind.</param>
    /// <param name="activation">Elman nonlinearity (ignored for gated cells).</param>
    /// <param name="gate">Gate block name, as in <see cref="GateSpectrum.Gate"/>.</param>
    /// <param name="eluAlpha">α of ELU (ignored otherwise).</param>
    public static double DerivativeBound(Core.Cells.RecurrentCellKind cell, Core.Cells.ElmanActivation activation, string gate, float eluAlpha = 1f)
        => cell switch
        {
            Core.Cells.RecurrentCellKind.Elman => activation switch
            {
                Core.Cells.ElmanActivation.Sigmoid => 0.25,
                Core.Cells.ElmanActivation.Elu => Math.Max(1.0, eluAlpha),
                _ => 1.0,
            },
            _ => gate is "g" or "n" ? 1.0 : 0.25,
        };
}

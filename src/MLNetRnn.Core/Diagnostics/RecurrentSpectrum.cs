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
        string gates = spec.Cell switch { Core.Cells.RecurrentCellKind.Lstm => "ifgo", Core.Cells.RecurrentCellKind.Gru => "rzn", _ => "h" };
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
                var singular = m.Svd(computeVectors: false).S.ToArray().OrderByDescending(x => x).ToArray();
                var eigen = m.Evd().EigenValues.Select(c => c.Magnitude).OrderByDescending(x => x).ToArray();
                result.Add(new GateSpectrum(l, gates[g].ToString(), singular, eigen));
            }
        }
        return result;
    }
}

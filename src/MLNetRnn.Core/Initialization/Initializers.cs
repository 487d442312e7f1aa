using MathNet.Numerics.LinearAlgebra;

namespace MLNetRnn.Core.Initialization;

/// <summary>How a weight matrix is filled. Fan-in and fan-out are those of one gate block
/// (H × fan_in), since each gate is its own linear map.</summary>
public enum InitializerKind
{
    /// <summary>U(−a, a), a = √(6 / (fan_in + fan_out)) (Glorot &amp; Bengio 2010).</summary>
    GlorotUniform,

    /// <summary>N(0, 2 / (fan_in + fan_out)).</summary>
    GlorotNormal,

    /// <summary>U(−a, a), a = √(6 / fan_in) (He et al. 2015), for ReLU-family activations.</summary>
    HeUniform,

    /// <summary>N(0, 2 / fan_in).</summary>
    HeNormal,

    /// <summary>A random orthogonal matrix (QR of a Gaussian matrix, signs fixed so the draw is uniform):
    /// all singular values 1, so products of recurrent Jacobians neither grow nor shrink at the start.</summary>
    Orthogonal,

    /// <summary>The identity (IRNN, Le et al. 2015): with ReLU the state is copied until learning changes it.
    /// Non-square blocks get ones on the main diagonal.</summary>
    Identity,

    /// <summary>All zeros.</summary>
    Zeros,

    /// <summary>U(−1/√H, 1/√H), PyTorch's default for nn.RNN/LSTM/GRU weights and biases (for the head, H is its
    /// fan-in, the top layer's hidden size: nn.Linear's default).</summary>
    PyTorchUniform,

    /// <summary>N(0, σ²) with σ = <see cref="InitializationSpec.NormalStandardDeviation"/> (PyTorch's
    /// <c>nn.init.normal_(w, std=σ)</c>). IRNN (Le et al. 2015) draws its non-recurrent weights from N(0, 0.001²).</summary>
    Normal,
}

/// <summary>Initialisation of every parameter of a network. The defaults follow Keras: Glorot uniform
/// input weights, orthogonal recurrent weights, zero biases, and an LSTM forget-gate bias of 1 so the cell
/// does not forget everything at the start (Jozefowicz et al. 2015).</summary>
public sealed record InitializationSpec
{
    /// <summary>Keras-like defaults for every cell.</summary>
    public static InitializationSpec Default { get; } = new();

    /// <summary>Input weights W_ih. Default: <see cref="InitializerKind.GlorotUniform"/>.</summary>
    public InitializerKind InputWeights { get; init; } = InitializerKind.GlorotUniform;

    /// <summary>Recurrent weights W_hh. Default: <see cref="InitializerKind.Orthogonal"/>.</summary>
    public InitializerKind RecurrentWeights { get; init; } = InitializerKind.Orthogonal;

    /// <summary>Multiplies W_hh after it is drawn (Keras' orthogonal gain): above 1 makes gradients
    /// explode, below 1 makes them vanish. Default: 1.</summary>
    public float RecurrentGain { get; init; } = 1f;

    /// <summary>Head weights. Default: <see cref="InitializerKind.GlorotUniform"/>.</summary>
    public InitializerKind HeadWeights { get; init; } = InitializerKind.GlorotUniform;

    /// <summary>Added to b_ih's LSTM forget-gate block after the biases are drawn; with zero biases (the default)
    /// it is that block's value, and b_hh's forget block stays 0, so the sum is this value. Set 0 to reproduce
    /// PyTorch's initialisation. Default: 1.</summary>
    public float ForgetGateBias { get; init; } = 1f;

    /// <summary>σ of <see cref="InitializerKind.Normal"/>, for every role that uses it; positive and finite.
    /// Default: 0.001 (IRNN, Le et al. 2015).</summary>
    public float NormalStandardDeviation { get; init; } = 0.001f;

    /// <summary>Recurrent biases b_ih and b_hh (and the head's bias): <see cref="InitializerKind.Zeros"/> (Keras),
    /// <see cref="InitializerKind.PyTorchUniform"/> (PyTorch's U(−1/√H, 1/√H), the head's with its fan-in) or
    /// <see cref="InitializerKind.Normal"/>. Default: <see cref="InitializerKind.Zeros"/>.</summary>
    public InitializerKind Biases { get; init; } = InitializerKind.Zeros;

    /// <summary>Added to the head's bias after it is drawn: start the output at the target's mean (1 for the
    /// adding problem), so the first steps do not spend themselves learning an offset. Default: 0.</summary>
    public float HeadBias { get; init; }

    /// <summary>Throws if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An initialiser kind is unknown or the gain is not finite and positive.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(InputWeights)) throw new ArgumentOutOfRangeException(nameof(InputWeights), InputWeights, "Unknown initialiser.");
        if (!Enum.IsDefined(RecurrentWeights)) throw new ArgumentOutOfRangeException(nameof(RecurrentWeights), RecurrentWeights, "Unknown initialiser.");
        if (!Enum.IsDefined(HeadWeights)) throw new ArgumentOutOfRangeException(nameof(HeadWeights), HeadWeights, "Unknown initialiser.");
        if (!(RecurrentGain > 0f && float.IsFinite(RecurrentGain)))
            throw new ArgumentOutOfRangeException(nameof(RecurrentGain), RecurrentGain, "RecurrentGain must be positive and finite.");
        if (!float.IsFinite(ForgetGateBias))
            throw new ArgumentOutOfRangeException(nameof(ForgetGateBias), ForgetGateBias, "ForgetGateBias must be finite.");
        if (!(NormalStandardDeviation > 0f && float.IsFinite(NormalStandardDeviation)))
            throw new ArgumentOutOfRangeException(nameof(NormalStandardDeviation), NormalStandardDeviation, "NormalStandardDeviation must be positive and finite.");
        if (Biases is not (InitializerKind.Zeros or InitializerKind.PyTorchUniform or InitializerKind.Normal))
            throw new ArgumentOutOfRangeException(nameof(Biases), Biases, "Biases must be Zeros, PyTorchUniform or Normal.");
        if (!float.IsFinite(HeadBias))
            throw new ArgumentOutOfRangeException(nameof(HeadBias), HeadBias, "HeadBias must be finite.");
    }
}

/// <summary>Fills weight blocks. Allocates only for the orthogonal draw (at set-up, never in training).</summary>
internal static class Initializer
{
    /// <summary>Fills <paramref name="w"/> (rows, cols) row-major; <paramref name="hidden"/> is H for
    /// <see cref="InitializerKind.PyTorchUniform"/>, <paramref name="std"/> σ for <see cref="InitializerKind.Normal"/>.</summary>
    public static void Fill(Span<float> w, int rows, int cols, InitializerKind kind, Random rng, int hidden, float std = 0.001f)
    {
        int fanIn = cols, fanOut = rows;
        switch (kind)
        {
            case InitializerKind.GlorotUniform: Uniform(w, MathF.Sqrt(6f / (fanIn + fanOut)), rng); break;
            case InitializerKind.GlorotNormal: Normal(w, MathF.Sqrt(2f / (fanIn + fanOut)), rng); break;
            case InitializerKind.HeUniform: Uniform(w, MathF.Sqrt(6f / fanIn), rng); break;
            case InitializerKind.HeNormal: Normal(w, MathF.Sqrt(2f / fanIn), rng); break;
            case InitializerKind.Orthogonal: Orthogonal(w, rows, cols, rng); break;
            case InitializerKind.Identity:
                w.Clear();
                for (int k = 0; k < Math.Min(rows, cols); k++) w[k * cols + k] = 1f;
                break;
            case InitializerKind.Zeros: w.Clear(); break;
            case InitializerKind.PyTorchUniform: Uniform(w, 1f / MathF.Sqrt(hidden), rng); break;
            case InitializerKind.Normal: Normal(w, std, rng); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown initialiser.");
        }
    }

    public static void Uniform(Span<float> w, float bound, Random rng)
    {
        for (int k = 0; k < w.Length; k++) w[k] = (float)((2.0 * rng.NextDouble() - 1.0) * bound);
    }

    public static void Normal(Span<float> w, float std, Random rng)
    {
        for (int k = 0; k < w.Length; k++) w[k] = (float)(std * StandardNormal(rng));
    }

    /// <summary>Box–Muller; one draw per call keeps the stream simple to reason about.</summary>
    public static double StandardNormal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Rows orthonormal if rows ≤ cols, columns orthonormal otherwise: Q of the QR of a
    /// Gaussian matrix, with Q's columns multiplied by sign(diag R) so the draw is Haar-uniform
    /// (Mezzadri 2007).</summary>
    private static void Orthogonal(Span<float> w, int rows, int cols, Random rng)
    {
        int n = Math.Max(rows, cols), m = Math.Min(rows, cols);
        var a = Matrix<double>.Build.Dense(n, m, (_, _) => StandardNormal(rng));
        var qr = a.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
        var q = qr.Q; // (n, m), orthonormal columns
        var r = qr.R;
        for (int j = 0; j < m; j++)
        {
            double s = Math.Sign(r[j, j]);
            if (s == 0) s = 1;
            for (int i = 0; i < n; i++) q[i, j] *= s;
        }
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                w[i * cols + j] = (float)(rows >= cols ? q[i, j] : q[j, i]);
    }
}

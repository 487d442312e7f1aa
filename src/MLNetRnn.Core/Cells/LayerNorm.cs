using System.Diagnostics;

namespace MLNetRnn.Core.Cells;

// B = batch, H = hidden, G = gate blocks. Layer normalisation (Ba, Kiros & Hinton 2016) of a cell's
// pre-activations: each gate block of H values (the argument of one σ or tanh) is normalised over its
// H units, then scaled and shifted:
//   y = γ ⊙ (a − μ) / √(σ² + ε) + β,   μ, σ² = mean and (biased) variance of the block.
// It is the recurrent counterpart of batch normalisation: statistics come from one example at one
// step, so training and inference compute the same thing and nothing depends on the batch.

/// <summary>Layer-norm views for one step of one layer. Empty when layer normalisation is off.</summary>
internal readonly ref struct LayerNormStep
{
    public const float Epsilon = 1e-5f;

    public readonly ReadOnlySpan<float> Gain;   // (G·H) γ
    public readonly ReadOnlySpan<float> Bias;   // (G·H) β
    public readonly Span<float> DGain;          // (G·H) accumulated (+=)
    public readonly Span<float> DBias;          // (G·H) accumulated (+=)
    public readonly Span<float> Xhat;           // (B, G·H) normalised pre-activations, kept for Backward
    public readonly Span<float> Rstd;           // (B, G) 1/√(σ²+ε) per block, kept for Backward

    public LayerNormStep(ReadOnlySpan<float> gain, ReadOnlySpan<float> bias, Span<float> dGain, Span<float> dBias,
        Span<float> xhat, Span<float> rstd)
    {
        Gain = gain; Bias = bias; DGain = dGain; DBias = dBias; Xhat = xhat; Rstd = rstd;
    }

    public bool Enabled => !Gain.IsEmpty;

    /// <summary>Normalises block <paramref name="block"/> of batch row <paramref name="row"/> in place:
    /// <paramref name="a"/> (H) holds the pre-activations on entry and γ⊙x̂+β on exit.</summary>
    public void Forward(Span<float> a, int row, int block, int H, int G)
    {
        Debug.Assert(a.Length == H);
        double mean = 0;
        for (int j = 0; j < H; j++) mean += a[j];
        mean /= H;
        double variance = 0;
        for (int j = 0; j < H; j++) { double d = a[j] - mean; variance += d * d; }
        variance /= H;
        float rstd = (float)(1.0 / Math.Sqrt(variance + Epsilon));
        Rstd[row * G + block] = rstd;
        Span<float> xhat = Xhat.Slice(row * G * H + block * H, H);
        ReadOnlySpan<float> gain = Gain.Slice(block * H, H), bias = Bias.Slice(block * H, H);
        float m = (float)mean;
        for (int j = 0; j < H; j++)
        {
            float x = (a[j] - m) * rstd;
            xhat[j] = x;
            a[j] = gain[j] * x + bias[j];
        }
    }

    /// <summary>Backward of <see cref="Forward"/>: <paramref name="d"/> (H) holds dy on entry and da on
    /// exit; dγ and dβ are accumulated.
    ///   da = rstd · (dx̂ − mean(dx̂) − x̂ ⊙ mean(dx̂ ⊙ x̂)),  dx̂ = dy ⊙ γ</summary>
    public void Backward(Span<float> d, int row, int block, int H, int G)
    {
        float rstd = Rstd[row * G + block];
        ReadOnlySpan<float> xhat = Xhat.Slice(row * G * H + block * H, H);
        ReadOnlySpan<float> gain = Gain.Slice(block * H, H);
        Span<float> dGain = DGain.Slice(block * H, H), dBias = DBias.Slice(block * H, H);
        double meanD = 0, meanDx = 0;
        for (int j = 0; j < H; j++)
        {
            float dy = d[j];
            dGain[j] += dy * xhat[j];
            dBias[j] += dy;
            float dx = dy * gain[j];
            meanD += dx;
            meanDx += dx * xhat[j];
        }
        float mD = (float)(meanD / H), mDx = (float)(meanDx / H);
        for (int j = 0; j < H; j++) d[j] = rstd * (d[j] * gain[j] - mD - xhat[j] * mDx);
    }
}

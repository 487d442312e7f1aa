using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Kernels;
using MLNetRnn.Core.Memory;

namespace MLNetRnn.Core.Layers;

// B = batch, H = hidden, T = steps.
//
// Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural networks", §3.3:
// a soft constraint that asks each step's Jacobian to preserve the norm of the error flowing back
// through it,
//
//   Ω = Σ_t ( ‖ v_t · ∂h_t/∂h_{t−1} ‖ / ‖ v_t ‖ − 1 )²,      v_t = ∂L/∂h_t,
//
// added to the loss as L + α·Ω. For an Elman cell h_t = σ(a_t), a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh:
//
//   u_t = σ'(a_t) ⊙ v_t            (= dL/da_t, the backward pass computes it anyway)
//   w_t = u_t · W_hh               (= J_tᵀ v_t, the recurrent part of dL/dh_{t−1}, also computed anyway)
//
// What we differentiate, and what we hold constant:
//   * v_t is a constant, as in the paper.
//   * h_{t−1} and x_t are constants too: this is the paper's "immediate" derivative ∂⁺Ω/∂θ, so Ω sends
//     no gradient into earlier steps or lower layers. (The paper's form x_t = W σ(x_{t−1}) + … makes
//     its Jacobian depend on W alone; in our form a_t depends on every parameter of the layer, and we
//     keep those terms: W_hh explicitly in w_t, and W_ih, W_hh, biases through σ'(a_t).)
//   * Batches: the term is computed per sequence and averaged over the batch, like the loss, and is
//     summed over the steps of the backward window (all steps for full BPTT, the last k with
//     truncation). Rows with ‖v‖ = 0 (no error reached them) contribute nothing.
//
// Gradient, per batch row, with r = ‖w‖/‖v‖ and c = α / B:
//   dΩ/dw  = c · 2(r − 1) / ‖v‖ · w/‖w‖                                    → kept in OmegaGW (T,B,H)
//   dW_hh += uᵀ · dΩ/dw                       (w = u·W_hh)                  → one GEMM per window
//   du     = dΩ/dw · W_hhᵀ
//   da     = du ⊙ v ⊙ σ''(a)                 (u = σ'(a) ⊙ v)               → kept in OmegaDPre (T,B,H)
// and da flows into W_ih, W_hh and both biases through the same GEMMs as the loss gradient, after the
// input gradient dX has been taken (x is held constant). σ'' is zero for the ReLU family, so for those
// only the explicit W_hh term remains. Only Elman cells without layer normalisation are supported: for
// gated cells and layer norm the Jacobian has further parameter paths that this derivation does not
// cover, and the options refuse that combination rather than compute something else.

/// <summary>Pascanu's vanishing-gradient regulariser Ω for Elman layers, evaluated during Backward.</summary>
internal static class PascanuRegularizer
{
    private const double TinyNorm = 1e-12;

    /// <summary>Ω at step t (summed over the batch, divided by B, before the weight α) and its per-step
    /// buffers, for the objective L + α·Ω. Called by the layer's Backward after dGates_t and dhNext.</summary>
    public static double Step(float weight, RecurrentLayer layer, LayerWorkspace ws, int t, int B,
        ReadOnlySpan<float> v,        // (B,H) dL/dh_t
        ReadOnlySpan<float> u,        // (B,H) dL/da_t = σ'(a_t) ⊙ v
        ReadOnlySpan<float> w)        // (B,H) u · W_hh
    {
        int H = layer.H;
        Span<float> gw = ws.OmegaGW.AsSpan(t * B * H, B * H);
        Span<float> dPre = ws.OmegaDPre.AsSpan(t * B * H, B * H);
        double omega = 0, c = (double)weight / B;
        for (int b = 0; b < B; b++)
        {
            ReadOnlySpan<float> vb = v.Slice(b * H, H), wb = w.Slice(b * H, H);
            Span<float> gb = gw.Slice(b * H, H);
            double nv = RecurrentLayer.Norm(vb), nw = RecurrentLayer.Norm(wb);
            if (nv < TinyNorm || nw < TinyNorm)
            {
                // Undefined ratio or direction: this row adds neither value nor gradient.
                if (nv >= TinyNorm) omega += 1.0; // r = 0 → (0 − 1)²
                gb.Clear();
                continue;
            }
            double r = nw / nv;
            omega += (r - 1) * (r - 1);
            float scale = (float)(c * 2 * (r - 1) / (nv * nw));
            for (int j = 0; j < H; j++) gb[j] = scale * wb[j];
        }

        if (layer.Activation.IsPiecewiseLinear)
        {
            dPre.Clear();
        }
        else
        {
            // du = dΩ/dw · W_hhᵀ, then da = du ⊙ v ⊙ σ''(a) with σ'' from the output h_t.
            Span<float> du = ws.OmegaDu.AsSpan(0, B * H);
            Gemm.NN(B, H, H, gw, ws.WeightHHT, du, accumulate: false);
            ReadOnlySpan<float> h = ws.Hs.AsSpan((t + 1) * B * H, B * H);
            var act = layer.Activation;
            for (int k = 0; k < dPre.Length; k++) dPre[k] = du[k] * v[k] * ElmanCell.SecondDerivative(h[k], act);
        }
        return omega / B;
    }

    /// <summary>After the window's input gradient is taken: adds the explicit W_hh term and folds Ω's
    /// pre-activation gradient into dGates so the parameter GEMMs that follow include it.</summary>
    public static void FinishWindow(RecurrentLayer layer, LayerWorkspace ws, ParameterBuffer p, int rowStart, int rows)
    {
        int H = layer.H;
        Span<float> dGates = ws.DGates.AsSpan(rowStart * H, rows * H);
        // w = u · W_hh  ⇒  dW_hh[i,j] += Σ u[i] · dΩ/dw[j]
        Gemm.TN(H, H, rows, dGates, ws.OmegaGW.AsSpan(rowStart * H, rows * H), p.Gradient(layer.WeightHH), accumulate: true);
        ReadOnlySpan<float> dPre = ws.OmegaDPre.AsSpan(rowStart * H, rows * H);
        System.Numerics.Tensors.TensorPrimitives.Add(dGates, dPre, dGates);
    }
}

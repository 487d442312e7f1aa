using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Initialization;
using MLNetRnn.Core.Layers;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Memory;

namespace MLNetRnn.Core.Network;

// B = batch, T = steps, I = input features, H = hidden, O = outputs, L = layers, P = output steps.
//
// Residual connections (spec.ResidualConnections): the output of layer l ≥ 1 is y^l = h^l + y^{l−1} (y^0 = h^0), the
// input of layer l + 1 and, at the top, of the head. Backward mirrors it: dy^{l−1} = dX^l + dy^l, the layer's input
// gradient plus the gradient that skipped it. The layers themselves never see the connection.

/// <summary>
/// A stack of recurrent layers (Elman, LSTM or GRU) with a linear head: the model the trainers fit.
/// Parameters are named and laid out as PyTorch's nn.RNN/nn.LSTM/nn.GRU plus nn.Linear, so weights move
/// both ways (see the safetensors import and export).
/// </summary>
/// <remarks>
/// The passes run on a <see cref="Workspace"/> allocated once for the largest window and batch; they
/// allocate nothing. Inputs are time-major in the workspace: (T, B, I).
/// </remarks>
public sealed class RecurrentNetwork
{
    internal readonly RecurrentLayer[] Layers;
    internal readonly IRecurrentCell Cell;
    internal readonly LinearHead Head;
    private readonly bool _dilated;   // some layer has D > 1 (asked per step: no enumeration of the spec's list there)

    /// <summary>Creates a network and initialises its parameters from <paramref name="seed"/>.</summary>
    /// <param name="spec">Architecture; validated.</param>
    /// <param name="seed">Seed of the initialisation: the same seed gives the same parameters.</param>
    /// <exception cref="ArgumentException">The spec is invalid (the message names the property).</exception>
    public RecurrentNetwork(RecurrentNetworkSpec spec, int seed = 0)
        : this(spec, initialize: true, seed)
    {
    }

    private RecurrentNetwork(RecurrentNetworkSpec spec, bool initialize, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Spec = spec;
        Parameters = new ParameterBuffer(Layout(spec));
        Cell = CellCatalog.Of(spec.Cell);
        Layers = new RecurrentLayer[spec.Layers];
        var activation = spec.ResolveActivation();
        for (int l = 0; l < spec.Layers; l++)
            Layers[l] = new RecurrentLayer(Cell, activation, spec.LayerNormalization, l, spec.LayerInputSize(l), spec.LayerDenseInputSize(l),
                spec.HiddenSizes[l], l == 0 ? spec.InputCategories : [], Parameters, spec.Dilation(l));
        Head = new LinearHead(Parameters, spec.HiddenSizes[^1], spec.OutputSize);
        _dilated = spec.IsDilated;
        if (initialize) Initialize(seed);
    }

    /// <summary>The architecture.</summary>
    public RecurrentNetworkSpec Spec { get; }

    /// <summary>Parameters and gradients, flat, with PyTorch-named views.</summary>
    public ParameterBuffer Parameters { get; }

    /// <summary>The parameter layout of <paramref name="spec"/>: per layer weight_ih, weight_hh, bias_ih,
    /// bias_hh (and ln_weight, ln_bias with layer normalisation), then head.weight, head.bias.</summary>
    internal static IEnumerable<(string, int, int, bool)> Layout(RecurrentNetworkSpec spec)
    {
        int G = spec.GateCount;
        for (int l = 0; l < spec.Layers; l++)
            foreach (var tensor in RecurrentLayer.Layout(l, spec.LayerInputSize(l), spec.HiddenSizes[l], G, spec.LayerNormalization))
                yield return tensor;
        yield return (LinearHead.WeightName, spec.OutputSize, spec.HiddenSizes[^1], false);
        yield return (LinearHead.BiasName, spec.OutputSize, 1, true);
    }

    /// <summary>Re-initialises every parameter per <see cref="RecurrentNetworkSpec.Initialization"/>.</summary>
    public void Initialize(int seed)
    {
        var init = Spec.Initialization;
        var rng = new Random(seed);
        var p = Parameters;
        foreach (var layer in Layers)
        {
            int H = layer.H, G = layer.G;
            // Each gate block is its own linear map, so each is drawn as its own (H × fan_in) matrix.
            for (int g = 0; g < G; g++)
            {
                Initializer.Fill(p.Value(layer.WeightIH).Slice(g * H * layer.I, H * layer.I), H, layer.I, init.InputWeights, rng, H, init.NormalStandardDeviation);
                Span<float> whh = p.Value(layer.WeightHH).Slice(g * H * H, H * H);
                Initializer.Fill(whh, H, H, init.RecurrentWeights, rng, H, init.NormalStandardDeviation);
                if (init.RecurrentGain != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(whh, init.RecurrentGain, whh);
            }
            // Zeros draws nothing, so the default keeps the random stream (and every seed's weights) as it was.
            Initializer.Fill(p.Value(layer.BiasIH), G * H, 1, init.Biases, rng, H, init.NormalStandardDeviation);
            Initializer.Fill(p.Value(layer.BiasHH), G * H, 1, init.Biases, rng, H, init.NormalStandardDeviation);
            int f = Cell.ForgetGate;
            if (f >= 0)
                System.Numerics.Tensors.TensorPrimitives.Add(p.Value(layer.BiasIH).Slice(f * H, H), init.ForgetGateBias, p.Value(layer.BiasIH).Slice(f * H, H));
            if (Spec.LayerNormalization)
            {
                p.Value(layer.LnGain).Fill(1f);
                p.Value(layer.LnBias).Clear();
                // With layer norm the forget gate's bias is applied after normalisation.
                if (f >= 0) p.Value(layer.LnBias).Slice(f * H, H).Fill(init.ForgetGateBias);
            }
        }
        Initializer.Fill(p.Value(Head.Weight), Head.O, Head.H, init.HeadWeights, rng, Head.H, init.NormalStandardDeviation);
        Initializer.Fill(p.Value(Head.Bias), Head.O, 1, init.Biases, rng, Head.H, init.NormalStandardDeviation);
        System.Numerics.Tensors.TensorPrimitives.Add(p.Value(Head.Bias), init.HeadBias, p.Value(Head.Bias));
        p.ZeroGradients();
    }

    /// <summary>Allocates a workspace for windows of at most <paramref name="maxSteps"/> steps and
    /// batches of at most <paramref name="maxBatch"/> rows.</summary>
    public Workspace CreateWorkspace(int maxSteps, int maxBatch, int? maxOutputSteps = null, bool regularizer = false)
        => new(Spec, maxSteps, maxBatch, maxOutputSteps, regularizer);

    /// <summary>
    /// Runs <paramref name="T"/> steps of <see cref="Workspace.Input"/> (T, B, I) from the initial state in
    /// the workspace, and applies the head to the last <paramref name="P"/> steps, writing
    /// <see cref="Workspace.Output"/> (P, B, O). No allocation.
    /// </summary>
    /// <param name="ws">Workspace of this network's spec.</param>
    /// <param name="T">Steps, in [1, ws.MaxSteps].</param>
    /// <param name="B">Batch rows, in [1, ws.MaxBatch].</param>
    /// <param name="P">Output steps, in [1, T].</param>
    /// <param name="training">Draw random slopes (randomised leaky ReLU); otherwise use their mean.</param>
    /// <param name="rng">Source of the random slopes; required only when training with randomised leaky ReLU.</param>
    public void Forward(Workspace ws, int T, int B, int P, bool training = false, Random? rng = null)
    {
        CheckWorkspace(ws, T, B, P);
        if (training && rng is null && Cell.NeedsSlopes(Spec.ResolveActivation()))
            throw new ArgumentNullException(nameof(rng), "Training with randomised leaky ReLU needs a random source.");
        for (int l = 0; l < Layers.Length; l++)
        {
            Layers[l].Forward(Parameters, ws.Layers[l], LayerInput(ws, l, T, B), T, B, training, rng!, ws.Threads);
            // y^l = h^l + y^{l−1}
            if (Spec.ResidualAt(l))
                System.Numerics.Tensors.TensorPrimitives.Add(ws.Layers[l].Hs.AsSpan(B * ws.Layers[l].H, T * B * ws.Layers[l].H), LayerInput(ws, l, T, B),
                    ws.Layers[l].Residual.AsSpan(0, T * B * ws.Layers[l].H));
        }
        int Htop = ws.Layers[^1].H;
        Head.Forward(Parameters, ws.HeadWeightT, LayerOutput(ws, Layers.Length - 1, T, B).Slice((T - P) * B * Htop, P * B * Htop),
            ws.Output.AsSpan(0, P * B * Spec.OutputSize), P * B);
    }

    /// <summary>Mean loss of the last Forward against <see cref="Workspace.Targets"/> (P, B, O); writes
    /// <see cref="Workspace.OutputGradient"/> for <see cref="Backward"/>.</summary>
    public double Loss(Workspace ws, int B, int P, LossKind kind, float huberDelta = 1f) => Loss(ws, B, P, kind, huberDelta, ReadOnlySpan<float>.Empty);

    /// <summary>As <see cref="Loss(Workspace, int, int, LossKind, float)"/>, with the quantile levels (Q) of
    /// <see cref="LossKind.Pinball"/>: output o has level <paramref name="quantiles"/>[o mod Q] (O a multiple of Q).</summary>
    public double Loss(Workspace ws, int B, int P, LossKind kind, float huberDelta, ReadOnlySpan<float> quantiles)
    {
        int n = P * B * Spec.OutputSize;
        return Losses.Loss.Compute(kind, huberDelta, quantiles, ws.Output.AsSpan(0, n), ws.Targets.AsSpan(0, n), ws.OutputGradient.AsSpan(0, n));
    }

    /// <summary>
    /// Backpropagates <see cref="Workspace.OutputGradient"/> through the last Forward and accumulates (+=)
    /// into <see cref="ParameterBuffer.Gradients"/>. No allocation.
    /// </summary>
    /// <param name="ws">The workspace of the last Forward.</param>
    /// <param name="T">Steps of the last Forward.</param>
    /// <param name="B">Batch rows of the last Forward.</param>
    /// <param name="P">Output steps of the last Forward.</param>
    /// <param name="truncation">Backpropagate through the last k steps only (truncated BPTT), k in
    /// [1, T]; null = all T steps (exact BPTT). Loss terms before the last k steps are then not taught,
    /// by any parameter (the head included): the gradient is that of the loss of the last k steps with the
    /// state entering them held constant.</param>
    /// <param name="regularizerWeight">α of Pascanu's Ω (Elman cells without layer norm); 0 = off.</param>
    /// <param name="inputGradient">Also write dL/d input into <see cref="Workspace.InputGradient"/> (not with
    /// <see cref="RecurrentNetworkSpec.InputCategories"/>: an index has no gradient).</param>
    /// <returns>Ω over the backward window (0 when α = 0), before weighting by α.</returns>
    public double Backward(Workspace ws, int T, int B, int P, int? truncation = null, float regularizerWeight = 0f, bool inputGradient = false)
    {
        CheckWorkspace(ws, T, B, P);
        int k = truncation ?? T;
        if (k < 1 || k > T) throw new ArgumentOutOfRangeException(nameof(truncation), k, $"truncation must be between 1 and T ({T}).");
        if (regularizerWeight > 0f)
        {
            if (_dilated)
                throw new InvalidOperationException("Pascanu's regulariser is defined here for undilated layers; this network has Dilations.");
            if (!Cell.SupportsVanishingRegularizer || Spec.LayerNormalization)
                throw new InvalidOperationException("Pascanu's regulariser is defined here for Elman cells without layer normalisation.");
            if (!ws.HasRegularizerBuffers)
                throw new InvalidOperationException("The workspace has no regulariser buffers: create it with regularizer: true.");
        }
        if (inputGradient && Spec.InputCategories.Count > 0)
            throw new InvalidOperationException("This network's last inputs are category indices (InputCategories), which have no input gradient.");
        int tStart = T - k;
        var top = ws.Layers[^1];
        int Htop = top.H, O = Spec.OutputSize;
        // Loss terms are taught from the last P steps, and with truncation only those inside the last k
        // steps: every parameter, the head included, then follows one objective.
        int first = Math.Max(T - P, tStart), taught = T - first;
        top.DOut.AsSpan(0, first * B * Htop).Clear();
        Head.Backward(Parameters, LayerOutput(ws, Layers.Length - 1, T, B).Slice(first * B * Htop, taught * B * Htop),
            ws.OutputGradient.AsSpan((P - taught) * B * O, taught * B * O), top.DOut.AsSpan(first * B * Htop, taught * B * Htop), taught * B);

        double omega = 0;
        for (int l = Layers.Length - 1; l >= 0; l--)
        {
            Span<float> dX = l > 0 ? ws.Layers[l - 1].DOut.AsSpan(0, T * B * ws.Layers[l - 1].H)
                : inputGradient ? ws.InputGradient.AsSpan(0, T * B * Spec.InputSize) : Span<float>.Empty;
            omega += Layers[l].Backward(Parameters, ws.Layers[l], LayerInput(ws, l, T, B), dX, T, B, tStart,
                l == Layers.Length - 1 ? ws.HiddenGradientNorms : null, regularizerWeight, ws.Threads);
            // y^l = h^l + y^{l−1}  ⇒  dy^{l−1} += dy^l (steps before tStart carry no gradient)
            if (Spec.ResidualAt(l))
            {
                int H = ws.Layers[l].H;
                Span<float> below = dX.Slice(tStart * B * H, (T - tStart) * B * H);
                System.Numerics.Tensors.TensorPrimitives.Add(below, ws.Layers[l].DOut.AsSpan(tStart * B * H, (T - tStart) * B * H), below);
            }
        }
        return omega;
    }

    /// <summary>Makes the state after step <paramref name="step"/> of the last Forward the initial state
    /// of the next one (detached: no gradient crosses). For stateful streaming and step-by-step inference.</summary>
    /// <exception cref="InvalidOperationException">A layer is dilated: its next window would need its last D states,
    /// not one.</exception>
    public void CarryState(Workspace ws, int step, int B)
    {
        if (_dilated)
            throw new InvalidOperationException(
                "A dilated layer (Dilations) reads the state of D steps back, so carrying one state per layer into the next window would change the model; " +
                "stateful streaming and carried state are not supported with Dilations above 1.");
        foreach (var lw in ws.Layers)
        {
            int n = B * lw.H;
            if (step != 0) lw.Hs.AsSpan(step * n, n).CopyTo(lw.Hs.AsSpan(0, n));
            if (lw.Cs.Length > 0 && step != 0) lw.Cs.AsSpan(step * n, n).CopyTo(lw.Cs.AsSpan(0, n));
        }
    }

    /// <summary>Allocates a forward-only workspace for <see cref="Predict(InferenceWorkspace, ReadOnlySpan{float}, int, int, Span{float})"/>:
    /// windows of at most <paramref name="maxSteps"/> steps, any number of sequences per call.</summary>
    /// <param name="maxSteps">Largest window T, at least 1.</param>
    /// <param name="blockRows">Sequences processed together per thread. Default: 32.</param>
    /// <param name="threads">Threads a call may use. Default: the machine's logical cores.</param>
    public InferenceWorkspace CreateInferenceWorkspace(int maxSteps, int blockRows = 32, int? threads = null)
        => new(Spec, maxSteps, blockRows, threads);

    /// <summary>As <see cref="CreateInferenceWorkspace(int, int, int?)"/>, for outputs at up to
    /// <paramref name="maxOutputSteps"/> last steps (a decoder's).</summary>
    public InferenceWorkspace CreateInferenceWorkspace(int maxSteps, int blockRows, int? threads, int maxOutputSteps)
        => new(Spec, maxSteps, blockRows, threads, maxOutputSteps);

    /// <summary>
    /// Output of the head at the last step of each of <paramref name="count"/> sequences, from a zero
    /// initial state, through a forward-only path: writes <paramref name="outputs"/>; no allocation. The
    /// weights are packed into <paramref name="ws"/> on the first call and again only after the parameters
    /// change. The values are those of <see cref="Forward"/> with P = 1, bit for bit, for any thread count.
    /// </summary>
    /// <param name="ws">From <see cref="CreateInferenceWorkspace(int, int, int?)"/> for this network's spec; one caller at a time.</param>
    /// <param name="inputs">(N, T, I) batch-first, N = <paramref name="count"/>.</param>
    /// <param name="count">Number of sequences N, at least 1 (any number: they are taken in blocks).</param>
    /// <param name="steps">Steps per sequence T, in [1, ws.MaxSteps].</param>
    /// <param name="outputs">(N, O) written.</param>
    /// <exception cref="ArgumentException">The workspace is for another spec, or a size does not fit (the message says which).</exception>
    public void Predict(InferenceWorkspace ws, ReadOnlySpan<float> inputs, int count, int steps, Span<float> outputs)
        => Predict(ws, inputs, count, steps, outputs, outputSteps: 1);

    /// <summary>
    /// As <see cref="Predict(InferenceWorkspace, ReadOnlySpan{float}, int, int, Span{float})"/>, with the head applied
    /// to each of the last <paramref name="outputSteps"/> steps (a decoder's outputs): writes <paramref name="outputs"/>
    /// (N, P, O), P = <paramref name="outputSteps"/>, the values of <see cref="Forward"/> with that P, bit for bit.
    /// No allocation.
    /// </summary>
    /// <param name="ws">From <see cref="CreateInferenceWorkspace(int, int, int?)"/> with maxOutputSteps ≥ P.</param>
    /// <param name="inputs">(N, T, I) batch-first.</param>
    /// <param name="count">N, at least 1.</param>
    /// <param name="steps">T, in [1, ws.MaxSteps].</param>
    /// <param name="outputs">(N, P, O) written.</param>
    /// <param name="outputSteps">P, in [1, min(T, ws.MaxOutputSteps)].</param>
    public unsafe void Predict(InferenceWorkspace ws, ReadOnlySpan<float> inputs, int count, int steps, Span<float> outputs, int outputSteps)
    {
        ArgumentNullException.ThrowIfNull(ws);
        if (outputSteps < 1 || outputSteps > steps || outputSteps > ws.MaxOutputSteps)
            throw new ArgumentOutOfRangeException(nameof(outputSteps), outputSteps, $"outputSteps must be between 1 and min(steps ({steps}), the workspace's MaxOutputSteps ({ws.MaxOutputSteps})).");
        if (!ReferenceEquals(ws.Spec, Spec) && !ws.Spec.Equals(Spec))
            throw new ArgumentException("The inference workspace was created for a different network spec.", nameof(ws));
        int I = Spec.InputSize, O = Spec.OutputSize;
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be at least 1.");
        if (steps < 1 || steps > ws.MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be between 1 and the workspace's MaxSteps ({ws.MaxSteps}).");
        if (inputs.Length != (long)count * steps * I)
            throw new ArgumentException($"inputs must hold count·steps·InputSize = {count}·{steps}·{I} = {(long)count * steps * I} values; got {inputs.Length}.", nameof(inputs));
        if (outputs.Length < (long)count * outputSteps * O)
            throw new ArgumentException($"outputs must hold count·outputSteps·OutputSize = {count}·{outputSteps}·{O} = {(long)count * outputSteps * O} values; got {outputs.Length}.", nameof(outputs));
        for (int l = 0; l < Layers.Length; l++) Layers[l].Prepare(Parameters, ws.Weights[l], forBackward: false);
        int parts = Math.Min(ws.Threads, (count + MinSequencesPerPart - 1) / MinSequencesPerPart);
        fixed (float* x = inputs, y = outputs)
        {
            ws.Job.Set(this, ws, x, y, count, steps, outputSteps);
            Kernels.WorkerPool.Shared.Run(ws.Job, Math.Max(1, parts));
            ws.Job.Clear();
        }
    }

    private const int MinSequencesPerPart = 4;

    /// <summary>
    /// Output of the head at the last step for each of <paramref name="count"/> sequences, from a zero
    /// initial state. Allocates the result and a forward-only workspace; for repeated calls keep an
    /// <see cref="InferenceWorkspace"/> and use the overload that takes one.
    /// </summary>
    /// <param name="inputs">(N, T, I) batch-first, N = <paramref name="count"/>.</param>
    /// <param name="count">Number of sequences N.</param>
    /// <param name="steps">Steps per sequence T.</param>
    /// <returns>(N, O).</returns>
    public float[] Predict(ReadOnlySpan<float> inputs, int count, int steps)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be at least 1.");
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be at least 1.");
        var result = new float[count * Spec.OutputSize];
        Predict(CreateInferenceWorkspace(steps), inputs, count, steps, result);
        return result;
    }

    /// <summary>Sequences [r0, r1) of a Predict call per part, in blocks of Bc rows.</summary>
    internal sealed unsafe class InferenceJob : Kernels.ParallelJob
    {
        private RecurrentNetwork? _net;
        private InferenceWorkspace? _ws;
        private float* _x, _y;
        private int _count, _T, _P;

        public void Set(RecurrentNetwork net, InferenceWorkspace ws, float* x, float* y, int count, int T, int P)
        {
            _net = net; _ws = ws; _x = x; _y = y; _count = count; _T = T; _P = P;
        }

        public void Clear() { _net = null; _ws = null; _x = _y = null; }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public override void Run(int part, int parts)
        {
            var net = _net!;
            var ws = _ws!;
            var blk = ws.Blocks[part];
            var spec = net.Spec;
            int T = _T, I = spec.InputSize, O = spec.OutputSize, L = net.Layers.Length, Htop = spec.HiddenSizes[^1];
            var (r0, r1) = Kernels.Gemm.Split(_count, part, parts);
            for (int b0 = r0; b0 < r1; b0 += ws.BlockRows)
            {
                int bc = Math.Min(ws.BlockRows, r1 - b0);
                // (bc, T, I) batch-first → (T, bc, I) time-major
                Span<float> xb = blk.X.AsSpan(0, T * bc * I);
                for (int b = 0; b < bc; b++)
                    for (int t = 0; t < T; t++)
                        new ReadOnlySpan<float>(_x + ((long)(b0 + b) * T + t) * I, I).CopyTo(xb.Slice((t * bc + b) * I, I));
                ReadOnlySpan<float> layerInput = xb;
                for (int l = 0; l < L; l++)
                {
                    int H = spec.HiddenSizes[l];
                    Span<float> hs = blk.Hs[l].AsSpan(0, (T + 1) * bc * H);
                    net.Layers[l].Infer(net.Parameters, ws.Weights[l], blk, layerInput, hs, T, bc);
                    if (spec.ResidualAt(l))
                    {
                        // y^l = h^l + y^{l−1}
                        Span<float> y = blk.Residual[l].AsSpan(0, T * bc * H);
                        System.Numerics.Tensors.TensorPrimitives.Add(hs.Slice(bc * H, T * bc * H), layerInput, y);
                        layerInput = y;
                    }
                    else layerInput = hs.Slice(bc * H, T * bc * H);
                }
                // layerInput is now the top layer's output y^{L−1}, (T, bc, H_top): what the head reads.
                int P = _P;
                if (P == 1)
                {
                    Span<float> y = blk.Output.AsSpan(0, bc * O);
                    net.Head.Forward(net.Parameters, blk.HeadWeightT, layerInput.Slice((T - 1) * bc * Htop, bc * Htop), y, bc);
                    y.CopyTo(new Span<float>(_y + (long)b0 * O, bc * O));
                }
                else
                {
                    // The head on the last P steps at once, (P, bc, O) time-major, then (bc, P, O) batch-first.
                    Span<float> y = blk.Output.AsSpan(0, P * bc * O);
                    net.Head.Forward(net.Parameters, blk.HeadWeightT, layerInput.Slice((T - P) * bc * Htop, P * bc * Htop), y, P * bc);
                    for (int p = 0; p < P; p++)
                        for (int b = 0; b < bc; b++)
                            y.Slice((p * bc + b) * O, O).CopyTo(new Span<float>(_y + ((long)(b0 + b) * P + p) * O, O));
                }
            }
        }
    }

    /// <summary>A deep copy with the same spec and parameter values (gradients zero).</summary>
    public RecurrentNetwork Clone()
    {
        var copy = new RecurrentNetwork(Spec, initialize: false, 0);
        Parameters.Values.CopyTo(copy.Parameters.Values, 0);
        return copy;
    }

    /// <summary>Creates a network of <paramref name="spec"/> with parameters copied from
    /// <paramref name="values"/> (layout of <see cref="ParameterBuffer"/>).</summary>
    /// <exception cref="ArgumentException">The number of values does not match the spec.</exception>
    public static RecurrentNetwork FromParameters(RecurrentNetworkSpec spec, ReadOnlySpan<float> values)
    {
        var net = new RecurrentNetwork(spec, initialize: false, 0);
        if (values.Length != net.Parameters.Count)
            throw new ArgumentException($"Expected {net.Parameters.Count} parameter values for this spec; got {values.Length}.", nameof(values));
        values.CopyTo(net.Parameters.Values);
        return net;
    }

    private ReadOnlySpan<float> LayerInput(Workspace ws, int l, int T, int B)
        => l == 0 ? ws.Input.AsSpan(0, T * B * Spec.InputSize) : LayerOutput(ws, l - 1, T, B);

    /// <summary>(T, B, H_l) what layer <paramref name="l"/> hands up: h_1..h_T, or with a residual connection y^l.</summary>
    private Span<float> LayerOutput(Workspace ws, int l, int T, int B)
    {
        var lw = ws.Layers[l];
        return Spec.ResidualAt(l) ? lw.Residual.AsSpan(0, T * B * lw.H) : lw.Hs.AsSpan(B * lw.H, T * B * lw.H);
    }

    private void CheckWorkspace(Workspace ws, int T, int B, int P)
    {
        ArgumentNullException.ThrowIfNull(ws);
        if (!ReferenceEquals(ws.Spec, Spec) && !ws.Spec.Equals(Spec))
            throw new ArgumentException("The workspace was created for a different network spec.", nameof(ws));
        ws.CheckFits(T, B, P);
    }
}

/// <summary>Layout conversions between user arrays and workspace buffers. No allocation.</summary>
internal static class Batching
{
    /// <summary>dst (T, B, F) ← src (B, T, F).</summary>
    public static void ToTimeMajor(ReadOnlySpan<float> src, Span<float> dst, int B, int T, int F)
    {
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                src.Slice((b * T + t) * F, F).CopyTo(dst.Slice((t * B + b) * F, F));
    }

    /// <summary>dst (B, T, F) ← src (T, B, F).</summary>
    public static void ToBatchMajor(ReadOnlySpan<float> src, Span<float> dst, int B, int T, int F)
    {
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
                src.Slice((t * B + b) * F, F).CopyTo(dst.Slice((b * T + t) * F, F));
    }
}

using System.Runtime.CompilerServices;
using MLNetRnn.Core.Kernels;

namespace MLNetRnn.Core.Optimizers;

/// <summary>The update rule applied after the gradient is complete and clipped.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent, optionally with (Nesterov) momentum, as torch.optim.SGD.</summary>
    Sgd,

    /// <summary>Adam (Kingma &amp; Ba 2015) with L2 weight decay added to the gradient, as torch.optim.Adam.</summary>
    Adam,

    /// <summary>Adam with decoupled weight decay (Loshchilov &amp; Hutter 2019), as torch.optim.AdamW.</summary>
    AdamW,

    /// <summary>RMSprop (Tieleman &amp; Hinton 2012), optionally with momentum, as torch.optim.RMSprop.</summary>
    RmsProp,
}

/// <summary>Optimiser settings. Defaults are PyTorch's, with Adam at learning rate 1e-3.</summary>
public sealed record OptimizerOptions
{
    /// <summary>The update rule. Default: <see cref="OptimizerKind.Adam"/>.</summary>
    public OptimizerKind Kind { get; init; } = OptimizerKind.Adam;

    /// <summary>Base learning rate, positive; a schedule scales it per epoch. Default: 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Momentum μ in [0, 1) for SGD and RMSprop. Default: 0.</summary>
    public float Momentum { get; init; }

    /// <summary>Nesterov momentum for SGD (needs Momentum &gt; 0). Default: false.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam's β₁ in [0, 1). Default: 0.9.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's β₂ in [0, 1). Default: 0.999.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>RMSprop's smoothing constant α in [0, 1). Default: 0.99.</summary>
    public float RmsDecay { get; init; } = 0.99f;

    /// <summary>ε added to the denominator (Adam, AdamW, RMSprop), positive. Default: 1e-8.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>Weight decay ≥ 0: L2 added to the gradient (SGD, Adam, RMSprop) or decoupled (AdamW).
    /// Default: 0 (AdamW users typically set 1e-2).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Throws, naming the option, if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown optimiser.");
        if (!(LearningRate > 0f && float.IsFinite(LearningRate))) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be positive and finite.");
        if (!(Momentum >= 0f && Momentum < 1f)) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "Momentum must be in [0, 1).");
        if (Nesterov && Momentum == 0f) throw new ArgumentOutOfRangeException(nameof(Nesterov), Nesterov, "Nesterov momentum needs Momentum > 0.");
        if (!(Beta1 >= 0f && Beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "Beta1 must be in [0, 1).");
        if (!(Beta2 >= 0f && Beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "Beta2 must be in [0, 1).");
        if (!(RmsDecay >= 0f && RmsDecay < 1f)) throw new ArgumentOutOfRangeException(nameof(RmsDecay), RmsDecay, "RmsDecay must be in [0, 1).");
        if (!(Epsilon > 0f && float.IsFinite(Epsilon))) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be positive and finite.");
        if (!(WeightDecay >= 0f && float.IsFinite(WeightDecay))) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be non-negative and finite.");
    }
}

/// <summary>An optimiser with its state (moments) allocated once for a parameter count.</summary>
public abstract class Optimizer
{
    /// <summary>Updates <paramref name="parameters"/> in place from <paramref name="gradients"/> at
    /// learning rate <paramref name="learningRate"/>. No allocation.</summary>
    public abstract void Step(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate);

    /// <summary>Creates the optimiser described by <paramref name="options"/> for
    /// <paramref name="parameterCount"/> parameters. Allocates its state.</summary>
    public static Optimizer Create(OptimizerOptions options, int parameterCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Kind switch
        {
            OptimizerKind.Sgd => new Sgd(options, parameterCount),
            OptimizerKind.Adam => new Adam(options, parameterCount, decoupled: false),
            OptimizerKind.AdamW => new Adam(options, parameterCount, decoupled: true),
            OptimizerKind.RmsProp => new RmsProp(options, parameterCount),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "Unknown optimiser."),
        };
    }
}

/// <summary>torch.optim.SGD: g += λp; b = μb + g (b = g on the first step); g = g + μb (Nesterov) or b; p −= lr·g.</summary>
internal sealed class Sgd : Optimizer
{
    private readonly float _momentum, _decay;
    private readonly bool _nesterov;
    private readonly float[] _buffer;   // (N) momentum buffer
    private bool _started;

    public Sgd(OptimizerOptions o, int n)
    {
        _momentum = o.Momentum; _nesterov = o.Nesterov; _decay = o.WeightDecay;
        _buffer = o.Momentum > 0f ? new float[n] : [];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Step(Span<float> p, ReadOnlySpan<float> grad, float lr)
    {
        for (int k = 0; k < p.Length; k++)
        {
            float g = grad[k] + _decay * p[k];
            if (_momentum > 0f)
            {
                float b = _started ? _momentum * _buffer[k] + g : g;
                _buffer[k] = b;
                g = _nesterov ? g + _momentum * b : b;
            }
            p[k] -= lr * g;
        }
        _started = true;
    }
}

/// <summary>torch.optim.Adam / AdamW: m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g²,
/// p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε); AdamW first shrinks p by (1 − lr·λ).</summary>
internal sealed class Adam : Optimizer
{
    private readonly float _beta1, _beta2, _eps, _decay;
    private readonly bool _decoupled;
    private readonly float[] _m, _v;   // (N) first and second moments
    private int _t;

    public Adam(OptimizerOptions o, int n, bool decoupled)
    {
        _beta1 = o.Beta1; _beta2 = o.Beta2; _eps = o.Epsilon; _decay = o.WeightDecay; _decoupled = decoupled;
        _m = new float[n]; _v = new float[n];
    }

    public override void Step(Span<float> p, ReadOnlySpan<float> grad, float lr)
    {
        _t++;
        double bc1 = 1 - Math.Pow(_beta1, _t), bc2 = 1 - Math.Pow(_beta2, _t);
        float stepSize = (float)(lr / bc1), rsqrtBc2 = (float)(1 / Math.Sqrt(bc2));
        float shrink = _decoupled ? 1f - lr * _decay : 1f;
        float l2 = _decoupled ? 0f : _decay;
        // Element-wise over every parameter, in registers (Kernels/OptimizerKernels.cs), bit-identical to the scalar loop.
        OptimizerKernels.Adam(p, grad, _m.AsSpan(0, p.Length), _v.AsSpan(0, p.Length), new AdamStep(_beta1, _beta2, l2, shrink, stepSize, rsqrtBc2, _eps));
    }
}

/// <summary>torch.optim.RMSprop: v = αv + (1−α)g²; with momentum b = μb + g/(√v+ε), p −= lr·b; else p −= lr·g/(√v+ε).</summary>
internal sealed class RmsProp : Optimizer
{
    private readonly float _alpha, _eps, _momentum, _decay;
    private readonly float[] _v;        // (N) mean square
    private readonly float[] _buffer;   // (N) momentum buffer

    public RmsProp(OptimizerOptions o, int n)
    {
        _alpha = o.RmsDecay; _eps = o.Epsilon; _momentum = o.Momentum; _decay = o.WeightDecay;
        _v = new float[n];
        _buffer = o.Momentum > 0f ? new float[n] : [];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Step(Span<float> p, ReadOnlySpan<float> grad, float lr)
    {
        for (int k = 0; k < p.Length; k++)
        {
            float g = grad[k] + _decay * p[k];
            float v = _v[k] = _alpha * _v[k] + (1f - _alpha) * g * g;
            float step = g / (MathF.Sqrt(v) + _eps);
            if (_momentum > 0f) step = _buffer[k] = _momentum * _buffer[k] + step;
            p[k] -= lr * step;
        }
    }
}

using System.Text.Json;
using MLNetRnn.Core.Optimizers;
using MLNetRnn.Core.Tests.Network;

namespace MLNetRnn.Core.Tests.Optimizers;

public sealed class OptimizerTests
{
    public static TheoryData<string> Cases()
    {
        var d = new TheoryData<string>();
        foreach (var c in Golden.RootElement.GetProperty("cases").EnumerateArray()) d.Add(c.GetProperty("name").GetString()!);
        return d;
    }

    private static readonly JsonDocument Golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(TorchFixture.Directory, "optimizers.json")));

    /// <summary>Five steps with changing gradients and learning rates follow torch.optim's trajectory to float precision.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void OptimizerFollowsTorchTrajectory(string name)
    {
        var root = Golden.RootElement;
        var c = root.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var o = c.GetProperty("options");
        float Get(string key, float fallback) => o.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
        var options = new OptimizerOptions
        {
            Kind = Enum.Parse<OptimizerKind>(o.GetProperty("kind").GetString()!),
            Momentum = Get("momentum", 0f), Nesterov = o.TryGetProperty("nesterov", out var n) && n.GetBoolean(),
            Beta1 = Get("beta1", 0.9f), Beta2 = Get("beta2", 0.999f), Epsilon = Get("eps", 1e-8f),
            WeightDecay = Get("weight_decay", 0f), RmsDecay = Get("alpha", 0.99f),
        };
        float[] p = root.GetProperty("start").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        var grads = root.GetProperty("grads").EnumerateArray().Select(g => g.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        var lrs = root.GetProperty("learning_rates").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        var optimizer = Optimizer.Create(options, p.Length);
        int step = 0;
        foreach (var expected in c.GetProperty("trajectory").EnumerateArray())
        {
            optimizer.Step(p, grads[step], lrs[step]);
            Close.AssertTensor($"{name} step {step}", expected.EnumerateArray().Select(x => x.GetSingle()).ToArray(), p, 1e-5);
            step++;
        }
    }

    [Fact]
    public void ScheduleShapesMatchTheirDefinitions()
    {
        var step = new LearningRateSchedule { Kind = LearningRateScheduleKind.Step, StepSize = 3, Gamma = 0.5f };
        Assert.Equal([1f, 1f, 1f, 0.5f, 0.5f, 0.5f, 0.25f], Enumerable.Range(0, 7).Select(e => step.At(1f, e, 10)));
        var cosine = new LearningRateSchedule { Kind = LearningRateScheduleKind.Cosine, MinimumLearningRate = 0.1f };
        Assert.Equal(1f, cosine.At(1f, 0, 10), 6);
        Assert.Equal(0.55f, cosine.At(1f, 5, 10), 6);
        Assert.Equal(0.1f, cosine.At(1f, 10, 10), 6);
        Assert.Equal(0.3f, LearningRateSchedule.Constant.At(0.3f, 99, 10));
    }
}

using System.Text.Json;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Losses;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Tests.Network;

/// <summary>
/// Same weights and inputs as PyTorch 1.13 give the same prediction, loss and gradients (parameters,
/// input, initial state). The fixtures were computed by PyTorch in float64 from float32 inputs
/// (Fixtures/Torch/make_golden.py); we compute in float32, so the tolerance is float precision
/// accumulated over a few steps: relative 2e-5 of the tensor's largest magnitude, plus 1e-6.
/// </summary>
public sealed class TorchGoldenTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(TorchFixture.Directory, "*.json").Order())
            if (Path.GetFileName(f) != "optimizers.json") data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndGradientsMatchTorchGoldenFile(string name)
    {
        var fx = TorchFixture.Load(name);
        var net = fx.CreateNetwork();
        var ws = net.CreateWorkspace(fx.T, fx.B);
        fx.FillWorkspace(ws);

        net.Forward(ws, fx.T, fx.B, fx.P);
        double loss = net.Loss(ws, fx.B, fx.P, LossKind.MeanSquaredError);
        net.Backward(ws, fx.T, fx.B, fx.P, inputGradient: true);

        var prediction = new float[fx.P * fx.B * fx.O];
        MLNetRnn.Core.Network.Batching.ToBatchMajor(ws.Output.AsSpan(0, prediction.Length), prediction, fx.B, fx.P, fx.O);
        Close.AssertTensor("prediction", fx.Tensor("prediction").Data, prediction, 2e-5);
        Assert.InRange(Math.Abs(loss - fx.LossValue), 0, 2e-5 * Math.Abs(fx.LossValue) + 1e-7);

        foreach (var t in net.Parameters.Tensors)
            Close.AssertTensor($"grad {t.Name}", fx.Grad(t.Name), net.Parameters.Gradient(t).ToArray(), 2e-5);

        var gradX = new float[fx.B * fx.T * fx.I];
        MLNetRnn.Core.Network.Batching.ToBatchMajor(ws.InputGradient.AsSpan(0, gradX.Length), gradX, fx.B, fx.T, fx.I);
        Close.AssertTensor("grad_x", fx.Tensor("grad_x").Data, gradX, 2e-5);

        for (int l = 0; l < fx.L; l++)
        {
            int n = fx.B * fx.H;
            Close.AssertTensor($"grad_h0[{l}]", fx.Tensor("grad_h0").Data.AsSpan(l * n, n).ToArray(), ws.InitialHiddenGradient(l, fx.B).ToArray(), 2e-5);
            Close.AssertTensor($"h_n[{l}]", fx.Tensor("h_n").Data.AsSpan(l * n, n).ToArray(), ws.Hidden(l, fx.T, fx.B).ToArray(), 2e-5);
            if (CellCatalog.Of(fx.Cell).HasCellState)
            {
                Close.AssertTensor($"grad_c0[{l}]", fx.Tensor("grad_c0").Data.AsSpan(l * n, n).ToArray(), ws.InitialCellGradient(l, fx.B).ToArray(), 2e-5);
                Close.AssertTensor($"c_n[{l}]", fx.Tensor("c_n").Data.AsSpan(l * n, n).ToArray(), ws.Cell(l, fx.T, fx.B).ToArray(), 2e-5);
            }
        }
    }
}

/// <summary>A PyTorch golden file (schema in Fixtures/Torch/README.md).</summary>
internal sealed class TorchFixture
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Torch");

    public required JsonElement Root { get; init; }
    public required RecurrentCellKind Cell { get; init; }
    public required ElmanActivation Activation { get; init; }
    public int I, H, L, O, T, B, P;
    public double LossValue;

    public static TorchFixture Load(string name)
    {
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, name + ".json"))).RootElement;
        string cell = root.GetProperty("cell").GetString()!;
        var fx = new TorchFixture
        {
            Root = root,
            Cell = cell switch { "lstm" => RecurrentCellKind.Lstm, "gru" => RecurrentCellKind.Gru, _ => RecurrentCellKind.Elman },
            Activation = cell == "rnn_relu" ? ElmanActivation.Relu : ElmanActivation.Tanh,
            I = root.GetProperty("input_size").GetInt32(),
            H = root.GetProperty("hidden_size").GetInt32(),
            L = root.GetProperty("num_layers").GetInt32(),
            O = root.GetProperty("output_size").GetInt32(),
            T = root.GetProperty("seq_len").GetInt32(),
            B = root.GetProperty("batch").GetInt32(),
            LossValue = root.GetProperty("loss_value").GetDouble(),
        };
        fx.P = root.GetProperty("placement").GetString() == "all" ? fx.T : 1;
        return fx;
    }

    public RecurrentNetworkSpec Spec => new()
    {
        Cell = Cell, Activation = Activation, InputSize = I, OutputSize = O, HiddenSizes = Enumerable.Repeat(H, L).ToArray(),
    };

    public RecurrentNetwork CreateNetwork()
    {
        var net = new RecurrentNetwork(Spec, seed: 1);
        foreach (var t in net.Parameters.Tensors)
        {
            var src = Param(t.Name);
            Assert.Equal(t.Length, src.Length);
            src.CopyTo(net.Parameters.Value(t));
        }
        return net;
    }

    public void FillWorkspace(MLNetRnn.Core.Network.Workspace ws)
    {
        MLNetRnn.Core.Network.Batching.ToTimeMajor(Tensor("x").Data, ws.Input, B, T, I);
        var target = Tensor("target").Data;
        MLNetRnn.Core.Network.Batching.ToTimeMajor(target, ws.Targets, B, P, O);
        int n = B * H;
        for (int l = 0; l < L; l++)
        {
            Tensor("h0").Data.AsSpan(l * n, n).CopyTo(ws.InitialHidden(l, B));
            if (CellCatalog.Of(Cell).HasCellState) Tensor("c0").Data.AsSpan(l * n, n).CopyTo(ws.InitialCell(l, B));
        }
    }

    public (int[] Shape, float[] Data) Tensor(string name) => Read(Root.GetProperty(name));

    public float[] Param(string name) => Read(Root.GetProperty("params").GetProperty(name)).Data;

    public float[] Grad(string name) => Read(Root.GetProperty("grads").GetProperty(name)).Data;

    private static (int[] Shape, float[] Data) Read(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
        return (shape, data);
    }
}

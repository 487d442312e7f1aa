using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNetRnn.Core.Cells;
using MLNetRnn.Core.Network;

namespace MLNetRnn.Core.Serialization;

/// <summary>A tensor read from a safetensors file, converted to float32.</summary>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Data">Row-major values.</param>
public sealed record SafeTensor(int[] Shape, float[] Data);

/// <summary>
/// Reads and writes networks in the safetensors format (Hugging Face): an 8-byte little-endian header
/// length N, N bytes of JSON mapping each tensor name to its dtype, shape and byte range, then the raw
/// little-endian tensor bytes.
/// </summary>
/// <remarks>
/// Names are PyTorch's: a state_dict of <c>nn.RNN</c>/<c>nn.LSTM</c>/<c>nn.GRU</c> (<c>weight_ih_l0</c>,
/// <c>weight_hh_l0</c>, <c>bias_ih_l0</c>, <c>bias_hh_l0</c>, …, gate blocks i|f|g|o and r|z|n), optionally
/// under a prefix such as <c>rnn.</c>, plus an <c>nn.Linear</c> head (<c>&lt;name&gt;.weight</c> (O, H),
/// <c>&lt;name&gt;.bias</c> (O)). A PyTorch module <c>Net</c> with members <c>rnn</c> and <c>head</c> saved with
/// <c>safetensors.torch.save_file(net.state_dict(), path)</c> loads as it is, and what we write loads into it
/// with <c>net.load_state_dict(load_file(path))</c>. Layer-norm parameters, which PyTorch's modules do not have,
/// are written as <c>&lt;prefix&gt;ln_weight_l0</c>, <c>&lt;prefix&gt;ln_bias_l0</c>. The architecture is kept in
/// the header's metadata under <c>mlnetrnn.spec</c>.
/// </remarks>
public static class SafeTensors
{
    /// <summary>Metadata key holding the network spec as JSON.</summary>
    public const string SpecMetadataKey = "mlnetrnn.spec";

    private const string HeadPrefix = "head.";

    /// <summary>
    /// Writes every parameter of <paramref name="network"/> as float32, recurrent tensors under
    /// <paramref name="prefix"/> and the head as <c>head.weight</c>/<c>head.bias</c>. Written to a temporary
    /// file first and moved into place, so a failed write leaves an existing file untouched.
    /// </summary>
    public static void Save(RecurrentNetwork network, string path, string prefix = "rnn.")
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        prefix ??= "";
        var p = network.Parameters;
        var header = new JsonObject();
        var metadata = new JsonObject { ["format"] = "pt", [SpecMetadataKey] = SpecToJson(network.Spec) };
        header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var t in p.Tensors)
        {
            header[ExternalName(t.Name, prefix)] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(t.Shape().Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + 4L * t.Length),
            };
            offset += 4L * t.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;   // the reference writer pads the header to 8 bytes with spaces
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            var bytes = new byte[4 * p.Count];
            for (int i = 0; i < p.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), p.Values[i]);
            stream.Write(bytes);
        });
    }

    /// <summary>
    /// Creates a network from a safetensors file. The spec comes from <paramref name="spec"/> if given, else
    /// from the file's metadata if we wrote it, else it is inferred from the tensor shapes (cell kind from the
    /// gate blocks of weight_hh_l0; an Elman file from PyTorch is taken as tanh, so pass a spec for ReLU).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file, or its tensors do not
    /// form a recurrent network with a linear head (the message names the file and the tensor).</exception>
    public static RecurrentNetwork Load(string path, RecurrentNetworkSpec? spec = null)
    {
        var (tensors, metadata) = Read(path);
        var (prefix, headPrefix) = FindPrefixes(tensors, path);
        if (spec is null && metadata.TryGetValue(SpecMetadataKey, out var specJson)) spec = SpecFromJson(specJson, path);
        spec ??= InferSpec(tensors, prefix, headPrefix, path);
        var net = new RecurrentNetwork(spec, seed: 0);
        Copy(net, tensors, prefix, headPrefix, path);
        return net;
    }

    /// <summary>Copies the parameters in the file into <paramref name="network"/>, matching PyTorch names
    /// (under any prefix) and checking every shape.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong shape.</exception>
    public static void LoadInto(RecurrentNetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        var (tensors, _) = Read(path);
        var (prefix, headPrefix) = FindPrefixes(tensors, path);
        Copy(network, tensors, prefix, headPrefix, path);
    }

    /// <summary>Every tensor of a safetensors file as float32 (F32, F64, F16 and BF16 are read), and the metadata.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The header or a byte range is invalid.</exception>
    public static (IReadOnlyDictionary<string, SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw Invalid(path, "it is shorter than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw Invalid(path, $"its header claims {headerLength} bytes but the file has {bytes.Length - 8} after the length");
        int dataStart = 8 + (int)headerLength;
        JsonElement root;
        try { root = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)).RootElement; }
        catch (JsonException e) { throw Invalid(path, "its header is not valid JSON: " + e.Message); }
        if (root.ValueKind != JsonValueKind.Object) throw Invalid(path, "its header is not a JSON object");

        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prop in root.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            try
            {
                string dtype = prop.Value.GetProperty("dtype").GetString() ?? "";
                int[] shape = prop.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                long[] range = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                long count = shape.Aggregate(1L, (a, d) => a * d);
                int width = dtype switch { "F32" => 4, "F64" => 8, "F16" or "BF16" => 2, _ => throw Invalid(path, $"tensor '{prop.Name}' has dtype {dtype}; expected F32, F64, F16 or BF16") };
                if (range.Length != 2 || range[0] < 0 || range[1] - range[0] != count * width || dataStart + range[1] > bytes.Length)
                    throw Invalid(path, $"tensor '{prop.Name}' has byte range [{string.Join(", ", range)}], which does not fit its shape [{string.Join(", ", shape)}] of {dtype} or the file");
                var data = new float[count];
                var src = bytes.AsSpan(dataStart + (int)range[0], (int)(count * width));
                for (int i = 0; i < count; i++)
                    data[i] = dtype switch
                    {
                        "F32" => BinaryPrimitives.ReadSingleLittleEndian(src.Slice(4 * i)),
                        "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(src.Slice(8 * i)),
                        "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(src.Slice(2 * i)),
                        _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(2 * i)) << 16),
                    };
                tensors[prop.Name] = new SafeTensor(shape, data);
            }
            catch (KeyNotFoundException) { throw Invalid(path, $"tensor '{prop.Name}' lacks dtype, shape or data_offsets"); }
            catch (InvalidOperationException) { throw Invalid(path, $"tensor '{prop.Name}' has a malformed entry"); }
        }
        return (tensors, metadata);
    }

    private static string ExternalName(string name, string prefix) => name.StartsWith(HeadPrefix, StringComparison.Ordinal) ? name : prefix + name;

    private static InvalidDataException Invalid(string path, string what) => new($"Safetensors file '{path}' is invalid: {what}.");

    private static (string Prefix, string HeadPrefix) FindPrefixes(IReadOnlyDictionary<string, SafeTensor> tensors, string path)
    {
        var rnn = tensors.Keys.Where(k => k.EndsWith("weight_ih_l0", StringComparison.Ordinal)).ToArray();
        if (rnn.Length != 1)
            throw Invalid(path, rnn.Length == 0 ? "no tensor named [prefix]weight_ih_l0 (a PyTorch nn.RNN/LSTM/GRU state_dict)" : $"several recurrent modules ({string.Join(", ", rnn)})");
        string prefix = rnn[0][..^"weight_ih_l0".Length];
        // The head: the one weight/bias pair outside the recurrent prefix.
        var heads = tensors.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal) && !(prefix.Length > 0 && k.StartsWith(prefix, StringComparison.Ordinal))
                && tensors.ContainsKey(k[..^"weight".Length] + "bias") && tensors[k].Shape.Length == 2)
            .Select(k => k[..^"weight".Length]).ToArray();
        if (heads.Length != 1)
            throw Invalid(path, heads.Length == 0 ? "no linear head (a '<name>.weight' (O, H) and '<name>.bias' (O) pair beside the recurrent tensors)" : $"several candidate heads ({string.Join(", ", heads)})");
        return (prefix, heads[0]);
    }

    private static RecurrentNetworkSpec InferSpec(IReadOnlyDictionary<string, SafeTensor> t, string prefix, string head, string path)
    {
        var hidden = new List<int>();
        int G = 0, inputSize = 0;
        for (int l = 0; t.ContainsKey($"{prefix}weight_hh_l{l}"); l++)
        {
            var whh = t[$"{prefix}weight_hh_l{l}"];
            if (whh.Shape.Length != 2 || whh.Shape[1] == 0 || whh.Shape[0] % whh.Shape[1] != 0)
                throw Invalid(path, $"'{prefix}weight_hh_l{l}' has shape [{string.Join(", ", whh.Shape)}]; expected (G·H, H)");
            int g = whh.Shape[0] / whh.Shape[1];
            if (l == 0) { G = g; inputSize = t[$"{prefix}weight_ih_l0"].Shape[1]; }
            else if (g != G) throw Invalid(path, $"layer {l} has {g} gate blocks but layer 0 has {G}");
            hidden.Add(whh.Shape[1]);
        }
        var cell = CellCatalog.WithGates(G)
            ?? throw Invalid(path, $"weight_hh_l0 has {G} gate blocks; expected 1 (RNN), 3 (GRU) or 4 (LSTM)");
        return new RecurrentNetworkSpec
        {
            Cell = cell, InputSize = inputSize, HiddenSizes = hidden.ToArray(), OutputSize = t[head + "weight"].Shape[0],
            LayerNormalization = t.ContainsKey($"{prefix}ln_weight_l0"),
        };
    }

    private static void Copy(RecurrentNetwork net, IReadOnlyDictionary<string, SafeTensor> tensors, string prefix, string head, string path)
    {
        var p = net.Parameters;
        foreach (var t in p.Tensors)
        {
            string name = t.Name.StartsWith(HeadPrefix, StringComparison.Ordinal) ? head + t.Name[HeadPrefix.Length..] : prefix + t.Name;
            if (!tensors.TryGetValue(name, out var src))
                throw Invalid(path, $"it has no tensor '{name}', which the network ({net.Spec.Cell}, hidden [{string.Join(", ", net.Spec.HiddenSizes)}]) needs");
            if (!src.Shape.SequenceEqual(t.Shape()))
                throw Invalid(path, $"tensor '{name}' has shape [{string.Join(", ", src.Shape)}]; the network expects [{string.Join(", ", t.Shape())}]");
            src.Data.CopyTo(p.Value(t));
        }
        p.ZeroGradients();
    }

    internal static string SpecToJson(RecurrentNetworkSpec s)
    {
        var o = new JsonObject
        {
            ["cell"] = s.Cell.ToString(),
            ["input_size"] = s.InputSize,
            ["input_categories"] = new JsonArray(s.InputCategories.Select(c => (JsonNode)c).ToArray()),
            ["hidden_sizes"] = new JsonArray(s.HiddenSizes.Select(h => (JsonNode)h).ToArray()),
            ["output_size"] = s.OutputSize,
            ["activation"] = s.Activation.ToString(),
            ["leaky_slope"] = s.LeakySlope,
            ["rrelu_lower"] = s.RandomizedLeakyLower,
            ["rrelu_upper"] = s.RandomizedLeakyUpper,
            ["elu_alpha"] = s.EluAlpha,
            ["layer_norm"] = s.LayerNormalization,
        };
        // Written only when set: the file of a network without them stays byte for byte what it was before they existed.
        if (s.Dilations.Count > 0) o["dilations"] = new JsonArray(s.Dilations.Select(d => (JsonNode)d).ToArray());
        if (s.ResidualConnections) o["residual"] = true;
        return o.ToJsonString();
    }

    internal static RecurrentNetworkSpec SpecFromJson(string json, string source)
    {
        try
        {
            var o = JsonNode.Parse(json)!.AsObject();
            return new RecurrentNetworkSpec
            {
                Cell = Enum.Parse<RecurrentCellKind>(o["cell"]!.GetValue<string>()),
                InputSize = o["input_size"]!.GetValue<int>(),
                InputCategories = o["input_categories"]?.AsArray().Select(x => x!.GetValue<int>()).ToArray() ?? [],   // absent before index inputs
                HiddenSizes = o["hidden_sizes"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray(),
                OutputSize = o["output_size"]!.GetValue<int>(),
                Activation = Enum.Parse<ElmanActivation>(o["activation"]!.GetValue<string>()),
                LeakySlope = o["leaky_slope"]!.GetValue<float>(),
                RandomizedLeakyLower = o["rrelu_lower"]!.GetValue<float>(),
                RandomizedLeakyUpper = o["rrelu_upper"]!.GetValue<float>(),
                EluAlpha = o["elu_alpha"]!.GetValue<float>(),
                LayerNormalization = o["layer_norm"]!.GetValue<bool>(),
                Dilations = o["dilations"]?.AsArray().Select(x => x!.GetValue<int>()).ToArray() ?? [],   // absent: none
                ResidualConnections = o["residual"]?.GetValue<bool>() ?? false,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException(string.Format(CultureInfo.InvariantCulture, "'{0}' has a malformed {1} entry: {2}", source, SpecMetadataKey, e.Message), e);
        }
    }
}

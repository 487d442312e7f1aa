#!/usr/bin/env python3
"""Golden fixtures for MLNetRnn, produced with PyTorch.

How to run (from the repository root; needs only PyTorch, no other packages):

    /usr/bin/python3 tests/MLNetRnn.Core.Tests/Fixtures/Torch/make_golden.py

The files are written next to this script and the run is deterministic: running
it twice gives byte-identical files.

PyTorch version used: 1.13.1 (Debian package python3-torch 1.13.1+dfsg-4,
whose torch.__version__ reports "1.13.0a0"), Python 3.11, CPU only.

Method
------
For every case a small `Net` (an nn.RNN / nn.LSTM / nn.GRU with batch_first=True
followed by an nn.Linear(H, O) head) is created in float32 with PyTorch's
default initialisation after `torch.manual_seed(<case seed>)`.  Some cases then
scale all recurrent weights and biases by 1.5 (in float32) so the
nonlinearities are exercised away from their linear regime.  x, h0 (and c0 for
LSTM) and the target are float32 `torch.randn` tensors (h0/c0 are zeros except
in the *_state cases).  All of these float32 values are stored as they are.
The modules and tensors are then converted to float64 (`.double()`, exact) and
the prediction, the MSE loss (torch.nn.functional.mse_loss, mean reduction) and
all gradients (every parameter, x, h0, c0) are computed in float64: this is the
"exact" reference for the float32 inputs.

Files
-----
<case>.json, one per case in CASES below, with this schema (all arrays flat,
row-major / C order, shapes given separately; each tensor is
{"shape": [...], "data": [...]}):

    case, torch_version, cell ("rnn_tanh" | "rnn_relu" | "lstm" | "gru"),
    input_size I, hidden_size H, num_layers L, output_size O, seq_len T, batch B,
    loss ("mse"), placement ("last" | "all"),
    x [B,T,I], h0 [L,B,H], c0 [L,B,H] (LSTM only), target,
    params {state_dict names of the RNN module (weight_ih_l0, weight_hh_l0,
            bias_ih_l0, bias_hh_l0, weight_ih_l1, ...) + head.weight [O,H],
            head.bias [O]},
    prediction, loss_value,
    grads {same names as params}, grad_x [B,T,I], grad_h0 [L,B,H],
    grad_c0 [L,B,H] (LSTM only), h_n [L,B,H], c_n [L,B,H] (LSTM only).

  placement "last": prediction = head(out[:, -1]), shape [B,O] (= target shape);
  placement "all":  prediction = head(out), the same head applied at every time
                    step, shape [B,T,O] (= target shape); the loss averages over
                    all B*T*O elements.

  Inputs (x, h0, c0, target, params) are float32 values written with Python's
  repr of the float (round-trips exactly to the float32); results (prediction,
  loss_value, grads, grad_*, h_n, c_n) are float64 values at full precision.

<case>.safetensors for the cases in SAFETENSORS_CASES: the float32 state_dict of
the wrapper `Net` (names rnn.weight_ih_l0, ..., head.weight, head.bias) with the
same values as the JSON's params, written by hand in the safetensors format:
u64 little-endian header length N, N bytes of compact UTF-8 JSON header
({"__metadata__": {"format": "pt"}, then the tensors sorted by name, each with
dtype "F32", shape, data_offsets}) padded with spaces to a multiple of 8, then
the raw little-endian float32 data packed contiguously in header order.

The script also self-checks: it re-implements the cell equations by hand and
compares with the nn modules, re-reads every JSON (exact float32 round-trip of
the inputs) and every .safetensors file (compared with the state_dict).
"""

import copy
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# Debian's python3-torch 1.13.1+dfsg reports "1.13.0a0" as torch.__version__.
TORCH_VERSION = "1.13.1" if torch.__version__.startswith("1.13.0a0") else torch.__version__

# name, cell, I, H, L, O, T, B, placement, random initial state, weight scale, seed
CASES = [
    ("rnn_tanh_l1_last", "rnn_tanh", 3, 4, 1, 2, 5, 3, "last", False, 1.0, 101),
    ("rnn_tanh_l2_all", "rnn_tanh", 3, 4, 2, 2, 5, 3, "all", False, 1.5, 102),
    ("rnn_relu_l1_last", "rnn_relu", 3, 4, 1, 2, 5, 3, "last", False, 1.0, 103),
    ("rnn_relu_l2_last", "rnn_relu", 3, 4, 2, 2, 5, 3, "last", False, 1.0, 105),
    ("lstm_l1_last", "lstm", 3, 4, 1, 2, 5, 3, "last", False, 1.0, 201),
    ("lstm_l2_all", "lstm", 3, 4, 2, 2, 5, 3, "all", False, 1.5, 202),
    ("lstm_l1_state", "lstm", 3, 4, 1, 2, 5, 3, "last", True, 1.5, 203),
    ("lstm_l3_last", "lstm", 3, 4, 3, 2, 5, 3, "last", False, 1.5, 204),
    ("lstm_l1_univariate", "lstm", 1, 4, 1, 1, 6, 2, "last", False, 1.0, 205),
    ("gru_l1_last", "gru", 3, 4, 1, 2, 5, 3, "last", False, 1.0, 301),
    ("gru_l2_all", "gru", 3, 4, 2, 2, 5, 3, "all", False, 1.5, 302),
    ("gru_l1_state", "gru", 3, 4, 1, 2, 5, 3, "last", True, 1.0, 303),
]

SAFETENSORS_CASES = {"lstm_l2_all", "gru_l1_last"}


class Net(nn.Module):
    """Recurrent module + linear head; its state_dict names are rnn.* and head.*."""

    def __init__(self, cell, input_size, hidden_size, num_layers, output_size):
        super().__init__()
        if cell in ("rnn_tanh", "rnn_relu"):
            self.rnn = nn.RNN(input_size, hidden_size, num_layers,
                              nonlinearity=cell[4:], batch_first=True)
        elif cell == "lstm":
            self.rnn = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
        else:
            raise ValueError(cell)
        self.head = nn.Linear(hidden_size, output_size)


# ----------------------------------------------------------------------------
# Hand-written reference of the cell equations (float64), used as a self-check
# that the formulas documented for the C# side are the ones PyTorch uses.
# ----------------------------------------------------------------------------

def manual_forward(cell, p, x, h0, c0, num_layers):
    """Returns (top-layer outputs [B,T,H], h_n, c_n or None, min |relu preact|)."""
    B, T, _ = x.shape
    layer_in = x
    hs, cs = [], []
    min_relu_pre = math.inf
    for l in range(num_layers):
        w_ih, w_hh = p[f"weight_ih_l{l}"], p[f"weight_hh_l{l}"]
        b_ih, b_hh = p[f"bias_ih_l{l}"], p[f"bias_hh_l{l}"]
        h = h0[l]
        c = c0[l] if c0 is not None else None
        outs = []
        for t in range(T):
            xt = layer_in[:, t]
            gi = xt @ w_ih.T + b_ih
            gh = h @ w_hh.T + b_hh
            if cell == "rnn_tanh":
                h = torch.tanh(gi + gh)
            elif cell == "rnn_relu":
                pre = gi + gh
                min_relu_pre = min(min_relu_pre, pre.abs().min().item())
                h = torch.relu(pre)
            elif cell == "lstm":
                # gate order i | f | g | o
                i, f, g, o = (gi + gh).chunk(4, dim=1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
            elif cell == "gru":
                # gate order r | z | n; note b_hn sits inside the r-product
                i_r, i_z, i_n = gi.chunk(3, dim=1)
                h_r, h_z, h_n = gh.chunk(3, dim=1)
                r = torch.sigmoid(i_r + h_r)
                z = torch.sigmoid(i_z + h_z)
                n = torch.tanh(i_n + r * h_n)
                h = (1 - z) * n + z * h
            outs.append(h)
        hs.append(h)
        if c is not None:
            cs.append(c)
        layer_in = torch.stack(outs, dim=1)
    return layer_in, torch.stack(hs), (torch.stack(cs) if cs else None), min_relu_pre


# ----------------------------------------------------------------------------
# JSON output
# ----------------------------------------------------------------------------

def tensor_entry(t):
    t = t.detach().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def dump_entry(e):
    return json.dumps(e, allow_nan=False)


def write_json(path, doc):
    """One key per line; each tensor on one line.  Deterministic."""
    lines = []
    for key, val in doc.items():
        if isinstance(val, dict) and "shape" not in val:  # params / grads
            inner = [f"    {json.dumps(k)}: {dump_entry(v)}" for k, v in val.items()]
            lines.append(f"  {json.dumps(key)}: {{\n" + ",\n".join(inner) + "\n  }")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(val, allow_nan=False)}")
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# ----------------------------------------------------------------------------
# safetensors (hand-written writer and reader)
# ----------------------------------------------------------------------------

def write_safetensors(path, state_dict):
    names = sorted(state_dict)  # reference implementation: by dtype, then name
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in names:
        t = state_dict[name].detach().to(torch.float32).contiguous()
        vals = t.reshape(-1).tolist()
        blob = struct.pack(f"<{len(vals)}f", *vals)
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    assert n % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    buf = raw[8 + n:]
    meta = header.pop("__metadata__", None)
    assert meta == {"format": "pt"}, meta
    out = {}
    expected_begin = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        assert info["dtype"] == "F32"
        b, e = info["data_offsets"]
        assert b == expected_begin, "tensors not contiguous"
        count = math.prod(info["shape"])
        assert e - b == 4 * count
        vals = struct.unpack_from(f"<{count}f", buf, b)
        out[name] = torch.tensor(vals, dtype=torch.float32).reshape(info["shape"])
        expected_begin = e
    assert expected_begin == len(buf), "trailing bytes"
    return out


# ----------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------

def make_case(name, cell, I, H, L, O, T, B, placement, random_state, scale, seed):
    torch.manual_seed(seed)
    net = Net(cell, I, H, L, O)  # float32, default init
    if scale != 1.0:
        with torch.no_grad():
            for p in net.rnn.parameters():
                p.mul_(scale)  # stays float32
    is_lstm = cell == "lstm"

    x = torch.randn(B, T, I)
    if random_state:
        h0 = torch.randn(L, B, H)
        c0 = torch.randn(L, B, H) if is_lstm else None
    else:
        h0 = torch.zeros(L, B, H)
        c0 = torch.zeros(L, B, H) if is_lstm else None
    target = torch.randn(B, O) if placement == "last" else torch.randn(B, T, O)

    rnn_sd = net.rnn.state_dict()
    params32 = {k: v.clone() for k, v in rnn_sd.items()}
    params32["head.weight"] = net.head.weight.detach().clone()
    params32["head.bias"] = net.head.bias.detach().clone()
    for v in params32.values():
        assert v.dtype == torch.float32

    # float64 reference computation
    net64 = copy.deepcopy(net).double()
    x64 = x.double().requires_grad_(True)
    h064 = h0.double().requires_grad_(True)
    c064 = c0.double().requires_grad_(True) if is_lstm else None
    target64 = target.double()
    if is_lstm:
        out, (h_n, c_n) = net64.rnn(x64, (h064, c064))
    else:
        out, h_n = net64.rnn(x64, h064)
        c_n = None
    pred = net64.head(out[:, -1]) if placement == "last" else net64.head(out)
    assert pred.shape == target64.shape
    loss = F.mse_loss(pred, target64)
    loss.backward()

    named64 = {k: v for k, v in net64.rnn.named_parameters()}
    named64["head.weight"] = net64.head.weight
    named64["head.bias"] = net64.head.bias
    assert list(named64) == list(params32)
    for k in params32:
        assert torch.equal(named64[k].detach().float(), params32[k])  # exact conversion

    # self-check against hand-written equations
    with torch.no_grad():
        p64 = {k: v.detach() for k, v in named64.items()}
        m_out, m_hn, m_cn, min_relu = manual_forward(
            cell, p64, x64.detach(), h064.detach(),
            c064.detach() if is_lstm else None, L)
        m_pred = (m_out[:, -1] if placement == "last" else m_out) @ p64["head.weight"].T + p64["head.bias"]
        assert torch.allclose(m_out, out, rtol=0, atol=1e-13), name
        assert torch.allclose(m_hn, h_n, rtol=0, atol=1e-13), name
        assert torch.allclose(m_pred, pred, rtol=0, atol=1e-13), name
        if is_lstm:
            assert torch.allclose(m_cn, c_n, rtol=0, atol=1e-13), name
        if cell == "rnn_relu":
            # keep away from the ReLU kink so finite differences are meaningful
            assert min_relu > 1e-3, (name, min_relu)
            active = (m_out > 0).double().mean().item()
            assert 0.1 < active < 0.95, (name, active)

    doc = {
        "case": name,
        "torch_version": TORCH_VERSION,
        "cell": cell,
        "input_size": I, "hidden_size": H, "num_layers": L, "output_size": O,
        "seq_len": T, "batch": B,
        "loss": "mse",
        "placement": placement,
        "x": tensor_entry(x),
        "h0": tensor_entry(h0),
    }
    if is_lstm:
        doc["c0"] = tensor_entry(c0)
    doc["target"] = tensor_entry(target)
    doc["params"] = {k: tensor_entry(v) for k, v in params32.items()}
    doc["prediction"] = tensor_entry(pred)
    doc["loss_value"] = float(loss.item())
    doc["grads"] = {k: tensor_entry(named64[k].grad) for k in params32}
    doc["grad_x"] = tensor_entry(x64.grad)
    doc["grad_h0"] = tensor_entry(h064.grad)
    if is_lstm:
        doc["grad_c0"] = tensor_entry(c064.grad)
    doc["h_n"] = tensor_entry(h_n)
    if is_lstm:
        doc["c_n"] = tensor_entry(c_n)

    json_path = os.path.join(HERE, name + ".json")
    write_json(json_path, doc)
    check_json(json_path, doc, params32, x, h0, c0, target)

    if name in SAFETENSORS_CASES:
        st_path = os.path.join(HERE, name + ".safetensors")
        sd = net.state_dict()  # float32, names rnn.* and head.*
        write_safetensors(st_path, sd)
        back = read_safetensors(st_path)
        assert sorted(back) == sorted(sd), (sorted(back), sorted(sd))
        for k, v in sd.items():
            assert v.dtype == torch.float32
            assert torch.equal(back[k], v), k
            jk = k[len("rnn."):] if k.startswith("rnn.") else k
            assert torch.equal(back[k], params32[jk]), k
    return json_path


def check_json(path, doc, params32, x, h0, c0, target):
    with open(path, encoding="utf-8") as f:
        back = json.load(f)
    assert back == doc

    def same32(entry, t):
        r = torch.tensor(entry["data"], dtype=torch.float64).reshape(entry["shape"])
        assert torch.equal(r.float().double(), r), "not float32-representable"
        assert torch.equal(r.float(), t), "float32 round-trip mismatch"

    same32(back["x"], x)
    same32(back["h0"], h0)
    if c0 is not None:
        same32(back["c0"], c0)
    same32(back["target"], target)
    for k, v in params32.items():
        same32(back["params"][k], v)
        assert back["grads"][k]["shape"] == list(v.shape)


def main():
    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)
    if not torch.__version__.startswith("1.13"):
        print(f"warning: fixtures were made with PyTorch 1.13.1, running {torch.__version__}",
              file=sys.stderr)
    for case in CASES:
        path = make_case(*case)
        print(f"{os.path.basename(path)}: {os.path.getsize(path)} bytes")
    for name in sorted(SAFETENSORS_CASES):
        p = os.path.join(HERE, name + ".safetensors")
        print(f"{os.path.basename(p)}: {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()

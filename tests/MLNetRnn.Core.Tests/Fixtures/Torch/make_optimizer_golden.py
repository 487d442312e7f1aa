"""Golden trajectories of torch.optim optimisers (PyTorch 1.13), for OptimizerTests.cs.

Run from the repository root:  /usr/bin/python3 tests/MLNetRnn.Core.Tests/Fixtures/Torch/make_optimizer_golden.py
Writes optimizers.json next to this file: for each configuration, the float32 start point, the five
gradients fed in (each step sets p.grad and calls opt.step(), learning rate changed between steps as
listed), and the parameters after every step, computed in float32 as PyTorch trains.
"""
import json, os, torch

torch.manual_seed(0)
torch.set_num_threads(1)
N, STEPS = 7, 5
start = (torch.randn(N) * 0.5).float()
grads = [(torch.randn(N) * s).float() for s in (1.0, 0.1, 3.0, 0.5, 1.0)]
lrs = [0.1, 0.1, 0.05, 0.05, 0.02]

CONFIGS = [
    ("sgd", dict(kind="Sgd"), lambda p, lr: torch.optim.SGD(p, lr=lr)),
    ("sgd_momentum_decay", dict(kind="Sgd", momentum=0.9, weight_decay=0.01), lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=0.01)),
    ("sgd_nesterov", dict(kind="Sgd", momentum=0.8, nesterov=True), lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.8, nesterov=True)),
    ("adam", dict(kind="Adam"), lambda p, lr: torch.optim.Adam(p, lr=lr)),
    ("adam_decay_betas", dict(kind="Adam", beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.05), lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("adamw", dict(kind="AdamW", weight_decay=0.1), lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=0.1)),
    ("rmsprop", dict(kind="RmsProp"), lambda p, lr: torch.optim.RMSprop(p, lr=lr)),
    ("rmsprop_momentum_decay", dict(kind="RmsProp", momentum=0.5, alpha=0.9, weight_decay=0.01), lambda p, lr: torch.optim.RMSprop(p, lr=lr, momentum=0.5, alpha=0.9, weight_decay=0.01)),
]

out = {"torch_version": torch.__version__, "start": [float(x) for x in start], "grads": [[float(x) for x in g] for g in grads], "learning_rates": lrs, "cases": []}
for name, options, make in CONFIGS:
    p = torch.nn.Parameter(start.clone())
    opt = make([p], lrs[0])
    trajectory = []
    for step in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        p.grad = grads[step].clone()
        opt.step()
        trajectory.append([float(x) for x in p.detach()])
    out["cases"].append({"name": name, "options": options, "trajectory": trajectory})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)

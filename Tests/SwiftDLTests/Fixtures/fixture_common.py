"""Shared helpers for the scripts that write SwiftDL's PyTorch test fixtures.

Each ``make_<family>.py`` script computes reference outputs and gradients with PyTorch
(float64, CPU) and writes ``<family>.json`` next to itself:

    {"torch": "<version>", "cases": {"<case>": {"<name>": {"shape": [...], "data": [...]},
                                                 "<setting>": <number or list>}}}

Arrays are stored row-major. Gradients are those of ``sum(output * upstream)`` for a fixed
random ``upstream`` array that is stored too, so every output element counts.

Run from the repository root with the peers' environment:
    .venv-peers/bin/python Tests/SwiftDLTests/Fixtures/make_<family>.py
"""

import json
import os
import sys

sys.dont_write_bytecode = True

import torch  # noqa: E402

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def array(t):
    """A tensor as a fixture entry."""
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def randn(*shape, requires_grad=True):
    """A float64 normal tensor."""
    return torch.randn(*shape, dtype=torch.float64, requires_grad=requires_grad)


def gradients(output, inputs, upstream=None):
    """Gradients of sum(output * upstream) with respect to `inputs` (None for unused ones)."""
    if upstream is None:
        upstream = torch.randn_like(output)
    grads = torch.autograd.grad((output * upstream).sum(), inputs, allow_unused=True)
    return upstream, grads


def gradient_case(cases, name, output, inputs, names, **extra):
    """Stores in `cases[name]` the output, a random upstream gradient and the gradients of
    sum(output * upstream) with respect to `inputs` (zeros for unused ones), under `names`."""
    upstream, grads = gradients(output, inputs)
    entry = {"y": array(output), "upstream": array(upstream)}
    for n, t, g in zip(names, inputs, grads):
        entry[n] = array(t)
        entry["d" + n] = array(g if g is not None else torch.zeros_like(t))
    entry.update(extra)
    cases[name] = entry


def write(family, cases):
    """Writes `<family>.json` next to this script."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), family + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print(f"wrote {path} ({len(cases)} cases)", file=sys.stderr)

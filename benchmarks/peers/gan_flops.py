"""Floating-point operations of one GAN training step, and of one call of each
convolution workload, counted by PyTorch.

Runs one step of each workload of ``torch_gans`` (and one forward and backward
call of each of ``torch_convolutions``) under
a dispatch mode that applies PyTorch's own FLOP formulas
(``torch.utils.flop_counter.flop_registry``, the ones ``FlopCounterMode``
uses) to every matrix product and convolution of the forward and backward
passes, double backward included (2 per multiply-add; elementwise work is
not counted). With a machine's peak rate
this bounds the steps per second any implementation can reach:

    .venv-peers/bin/python benchmarks/peers/gan_flops.py --peak-gflops 235

With ``--json`` it prints ``{"mlp": GFLOP, "dcgan": GFLOP, "wgan_gp": GFLOP,
"conv_fwd_bwd_ms": GFLOP, ...}`` (GFLOP per step, or per call of a convolution
workload) instead of the table (``compare.py`` reads it for its roofline table).
"""

from __future__ import annotations

import argparse
import json

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from torch_convolutions import CONVOLUTIONS, Convolution
from torch_gans import KINDS, GANStep


class FlopCount(TorchDispatchMode):
    """Adds up the FLOPs of the operations run while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peak-gflops", type=float, default=235.0,
                        help="the machine's peak float32 rate, GFLOP/s (default: 235, sgemm 2048 on 2 cores here)")
    parser.add_argument("--json", action="store_true",
                        help="print the GFLOP per step of every kind as a JSON object instead of the table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    counts = {}
    calls = [(kind, GANStep(kind)) for kind in KINDS] + [(name, Convolution(name)) for name in CONVOLUTIONS]
    for name, call in calls:
        call()
        with FlopCount() as counter:
            call()
        counts[name] = counter.flops / 1e9
    if args.json:
        print(json.dumps(counts))
        return
    print(f"| workload | GFLOP per step or call | steps/s or calls/s at {args.peak_gflops:g} GFLOP/s |")
    print("| --- | ---: | ---: |")
    for name, gflop in counts.items():
        print(f"| {name} | {gflop:.3f} | {args.peak_gflops / gflop:.1f} |")


if __name__ == "__main__":
    main()

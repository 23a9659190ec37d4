#!/usr/bin/env python3
"""PyTorch (eager, CPU) peer of SwiftDL's ``benchmarks`` program.

Runs the same workloads as the Swift program and prints one line per workload
on stdout, ``<name> <value> <unit>``, and nothing else on stdout; progress and
checks go to stderr.

Usage::

    python benchmarks/peers/torch_bench.py [WORKLOAD ...] [--runs N] [--min-run-time S]

PyTorch uses 2 intra-op threads (``torch.set_num_threads(2)``), the machine's
two cores.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Callable, Dict, Optional

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import log, make_arg_parser, measure, run_workloads, select_workloads  # noqa: E402

import torch  # noqa: E402

from torch_convolutions import Convolution  # noqa: E402
from torch_gans import GANStep  # noqa: E402


def _time(fn: Callable[[], object], args: argparse.Namespace) -> float:
    """Median seconds per call of ``fn`` with the command-line timing knobs."""
    return measure(fn, min_run_time=args.min_run_time, runs=args.runs)


def rosenbrock(args: argparse.Namespace) -> float:
    """Calls per second of forward + gradient of the 2-D Rosenbrock function."""
    x = torch.tensor([-1.0, 2.0], dtype=torch.float64, requires_grad=True)

    def call():
        x1, x2 = x[0], x[1]
        y = 100.0 * (x2 - x1 * x1) ** 2 + (1.0 - x1) ** 2
        (grad,) = torch.autograd.grad(y, x)
        return y, grad

    # One-time correctness check: y = 104, grad = [396, 200].
    y, grad = call()
    if y.item() != 104.0 or grad.tolist() != [396.0, 200.0]:
        raise AssertionError(f"wrong result: y={y.item()}, grad={grad.tolist()}")
    log("  check ok: y = 104, grad = [396, 200]")
    return 1.0 / _time(call, args)


def small_ops(args: argparse.Namespace) -> float:
    """Microseconds per recorded op: 100 x (sin, mul, add) on 16 floats + backward."""
    rounds = 100
    ops = 3 * rounds
    x = torch.linspace(-1.0, 1.0, 16, dtype=torch.float32).requires_grad_(True)

    def call():
        y = x
        for _ in range(rounds):
            y = torch.sin(y) * 1.01 + 0.1
        s = y.sum()
        (grad,) = torch.autograd.grad(s, x)
        return s, grad

    s, grad = call()
    if grad.shape != x.shape or not torch.isfinite(grad).all():
        raise AssertionError("bad gradient")
    log(f"  sum = {s.item():.6f}, grad[0] = {grad[0].item():.6g}")
    return _time(call, args) / ops * 1e6


def _matmul(n: int, args: argparse.Namespace) -> float:
    """GFLOP/s of a float32 n x n matrix product (2 n^3 flops)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, dtype=torch.float32, generator=gen)
    b = torch.randn(n, n, dtype=torch.float32, generator=gen)

    def call():
        return a @ b

    seconds = _time(call, args)
    return 2.0 * n ** 3 / seconds / 1e9


def matmul1024(args: argparse.Namespace) -> float:
    """GFLOP/s of a float32 1024 x 1024 matrix product."""
    return _matmul(1024, args)


def matmul2048(args: argparse.Namespace) -> float:
    """GFLOP/s of a float32 2048 x 2048 matrix product."""
    return _matmul(2048, args)


def _convolution_ms(name: str, args: argparse.Namespace) -> float:
    """Milliseconds per forward + backward of the convolution workload ``name``
    (``torch_convolutions.py``): the gradients with respect to the input, the
    weight and the bias of the output times a fixed upstream gradient."""
    call = Convolution(name)
    gx, gw, gb = call()
    if (gx.shape, gw.shape, gb.shape) != (call.x.shape, call.w.shape, call.b.shape):
        raise AssertionError("gradient shapes differ from parameter shapes")
    return _time(call, args) * 1e3


def conv(args: argparse.Namespace) -> float:
    """ms per forward+backward of a 4x4 stride-2 conv, 64x64x14x14 -> 64x128x7x7."""
    return _convolution_ms("conv_fwd_bwd_ms", args)


def transpconv(args: argparse.Namespace) -> float:
    """ms per forward+backward of a 4x4 stride-2 transposed conv, 64x128x7x7 -> 64x64x14x14."""
    return _convolution_ms("transpconv_fwd_bwd_ms", args)


def _check_losses(losses: tuple, when: str) -> None:
    """Fail unless both GAN losses are finite; log them."""
    loss_d, loss_g = losses
    if not (math.isfinite(loss_d) and math.isfinite(loss_g)):
        raise AssertionError(f"non-finite losses ({when}): lossD={loss_d}, lossG={loss_g}")
    log(f"  {when}: lossD = {loss_d:.4f}, lossG = {loss_g:.4f}")


def _gan_steps_per_s(kind: str, args: argparse.Namespace) -> float:
    """Training steps per second of one GAN kind (see ``torch_gans``).

    The losses are checked to be finite after the first step and after the
    timed runs (training goes on during the timing).
    """
    step = GANStep(kind)
    _check_losses(step(), "first step")
    seconds = _time(step, args)
    _check_losses(step(), "after timing")
    return 1.0 / seconds


def mlp_gan(args: argparse.Namespace) -> float:
    """Steps per second of the MLP GAN (non-saturating loss, Adam)."""
    return _gan_steps_per_s("mlp", args)


def dcgan(args: argparse.Namespace) -> float:
    """Steps per second of the DCGAN on 28x28 images (batch norm in G and D)."""
    return _gan_steps_per_s("dcgan", args)


def wgan_gp(args: argparse.Namespace) -> float:
    """Steps per second of the WGAN-GP (gradient penalty, double backward)."""
    return _gan_steps_per_s("wgan_gp", args)
def conv1to64(args: argparse.Namespace) -> float:
    """ms per forward+backward of a 4x4 stride-2 conv, 64x1x28x28 -> 64x64x14x14."""
    return _convolution_ms("conv1to64_fwd_bwd_ms", args)


def transpconv64to1(args: argparse.Namespace) -> float:
    """ms per forward+backward of a 4x4 stride-2 transposed conv, 64x64x14x14 -> 64x1x28x28."""
    return _convolution_ms("transpconv64to1_fwd_bwd_ms", args)


#: Workload name -> function returning the value to report.
FUNCTIONS: Dict[str, Callable[[argparse.Namespace], Optional[float]]] = {
    "rosenbrock_calls_per_s": rosenbrock,
    "small_ops_us_per_op": small_ops,
    "matmul1024_gflops": matmul1024,
    "matmul2048_gflops": matmul2048,
    "conv_fwd_bwd_ms": conv,
    "transpconv_fwd_bwd_ms": transpconv,
    "mlp_gan_steps_per_s": mlp_gan,
    "dcgan_steps_per_s": dcgan,
    "wgan_gp_steps_per_s": wgan_gp,
    "conv1to64_fwd_bwd_ms": conv1to64,
    "transpconv64to1_fwd_bwd_ms": transpconv64to1,
}


def main() -> int:
    """Parse arguments, run the selected workloads, print the results."""
    args = make_arg_parser(__doc__.splitlines()[0]).parse_args()
    torch.set_num_threads(2)
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    names = select_workloads(args.workloads, FUNCTIONS)
    return run_workloads(names, FUNCTIONS, args, "torch")


if __name__ == "__main__":
    sys.exit(main())

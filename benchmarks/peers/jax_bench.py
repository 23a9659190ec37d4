#!/usr/bin/env python3
"""JAX (CPU) peer of SwiftDL's ``benchmarks`` program, eager or jit.

Runs the same workloads as the Swift program and prints one line per workload
on stdout, ``<name> <value> <unit>``, and nothing else on stdout; progress and
checks go to stderr.

Usage::

    python benchmarks/peers/jax_bench.py --mode eager|jit [WORKLOAD ...] [--runs N]

Modes:

* ``eager``: the functions (``jax.value_and_grad``, ``jax.vjp``, ``a @ b``, ...)
  are called directly, without ``jax.jit``; JAX then dispatches every
  primitive on its own, as an op-by-op library would.
* ``jit``: the same functions wrapped in ``jax.jit`` (traced and compiled by
  XLA once, during warm-up).

Every timed call waits for its results with ``block_until_ready``, since JAX
dispatches asynchronously. In ``jit`` mode each function also returns the
forward value, so XLA cannot drop the forward computation as dead code.

Threads: XLA's CPU backend runs as it comes; its intra-op thread pool uses
all cores of the machine by default (both cores here), so no ``XLA_FLAGS``
are set.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable, Dict, Optional

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_common import log, make_arg_parser, measure, run_workloads, select_workloads  # noqa: E402

# CPU only: there is no accelerator, and this avoids probing for one.
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402  (installed with jax; used for checks only)

import jax_gans  # noqa: E402

# float64 is needed for the Rosenbrock workload; float32 arrays stay float32.
jax.config.update("jax_enable_x64", True)

#: Set by main(): "eager" or "jit".
MODE = "jit"


def maybe_jit(fn: Callable) -> Callable:
    """Return ``jax.jit(fn)`` in jit mode, ``fn`` itself in eager mode."""
    return jax.jit(fn) if MODE == "jit" else fn


def _time(fn: Callable[[], object], args: argparse.Namespace) -> float:
    """Median seconds per call of ``fn`` (which blocks on its results)."""
    return measure(fn, min_run_time=args.min_run_time, runs=args.runs)


def rosenbrock(args: argparse.Namespace) -> float:
    """Calls per second of value and gradient of the 2-D Rosenbrock function."""

    def f(x):
        x1, x2 = x[0], x[1]
        return 100.0 * (x2 - x1 * x1) ** 2 + (1.0 - x1) ** 2

    value_and_grad = maybe_jit(jax.value_and_grad(f))
    x = jnp.array([-1.0, 2.0], dtype=jnp.float64)

    def call():
        return jax.block_until_ready(value_and_grad(x))

    # One-time correctness check: y = 104, grad = [396, 200].
    y, grad = call()
    if y.dtype != jnp.float64 or float(y) != 104.0 or np.asarray(grad).tolist() != [396.0, 200.0]:
        raise AssertionError(f"wrong result: y={y} ({y.dtype}), grad={grad}")
    log("  check ok: y = 104, grad = [396, 200]")
    return 1.0 / _time(call, args)


def small_ops(args: argparse.Namespace) -> float:
    """Microseconds per recorded op: 100 x (sin, mul, add) on 16 floats + gradient."""
    rounds = 100
    ops = 3 * rounds

    def f(x):
        y = x
        for _ in range(rounds):
            y = jnp.sin(y) * 1.01 + 0.1
        return jnp.sum(y)

    value_and_grad = maybe_jit(jax.value_and_grad(f))
    x = jnp.linspace(-1.0, 1.0, 16, dtype=jnp.float32)

    def call():
        return jax.block_until_ready(value_and_grad(x))

    s, grad = call()
    if grad.shape != x.shape or grad.dtype != jnp.float32 or not np.isfinite(grad).all():
        raise AssertionError(f"bad gradient {grad}")
    log(f"  sum = {float(s):.6f}, grad[0] = {float(grad[0]):.6g}")
    return _time(call, args) / ops * 1e6


def _matmul(n: int, args: argparse.Namespace) -> float:
    """GFLOP/s of a float32 n x n matrix product (2 n^3 flops)."""
    ka, kb = jax.random.split(jax.random.PRNGKey(0))
    a = jax.random.normal(ka, (n, n), dtype=jnp.float32)
    b = jax.random.normal(kb, (n, n), dtype=jnp.float32)
    matmul = maybe_jit(lambda a, b: a @ b)

    def call():
        return matmul(a, b).block_until_ready()

    seconds = _time(call, args)
    return 2.0 * n ** 3 / seconds / 1e9


def matmul1024(args: argparse.Namespace) -> float:
    """GFLOP/s of a float32 1024 x 1024 matrix product."""
    return _matmul(1024, args)


def matmul2048(args: argparse.Namespace) -> float:
    """GFLOP/s of a float32 2048 x 2048 matrix product."""
    return _matmul(2048, args)


def _fwd_bwd_ms(forward: Callable, shapes: tuple, expected_out: tuple,
                args: argparse.Namespace) -> float:
    """Milliseconds per forward + backward of ``forward(x, w, b)``.

    ``shapes`` are the shapes of x, w and b (float32, random). The backward
    pass (``jax.vjp``) takes a fixed upstream gradient and computes the
    gradients with respect to the input, the weight and the bias; the forward
    output is returned too, so jit cannot skip it.
    """
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    x, w, b = (jax.random.normal(k, s, dtype=jnp.float32) for k, s in zip(keys, shapes))
    w = w * 0.05
    out_shape = tuple(jax.eval_shape(forward, x, w, b).shape)
    if out_shape != expected_out:
        raise AssertionError(f"output shape {out_shape}, expected {expected_out}")
    upstream = jax.random.normal(keys[3], out_shape, dtype=jnp.float32)

    def fwd_bwd(x, w, b, upstream):
        out, pullback = jax.vjp(forward, x, w, b)
        return out, pullback(upstream)

    step = maybe_jit(fwd_bwd)

    def call():
        return jax.block_until_ready(step(x, w, b, upstream))

    _, (gx, gw, gb) = call()
    if (gx.shape, gw.shape, gb.shape) != (x.shape, w.shape, b.shape):
        raise AssertionError("gradient shapes differ from parameter shapes")
    return _time(call, args) * 1e3


def conv(args: argparse.Namespace) -> float:
    """ms per forward+backward of a 4x4 stride-2 conv, 64x64x14x14 -> 64x128x7x7."""

    def forward(x, w, b):
        # w: (out, in, kh, kw), as PyTorch's conv2d.
        y = jax.lax.conv_general_dilated(
            x, w, window_strides=(2, 2), padding=((1, 1), (1, 1)),
            dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]

    return _fwd_bwd_ms(forward, ((64, 64, 14, 14), (128, 64, 4, 4), (128,)),
                       (64, 128, 7, 7), args)


def transpconv(args: argparse.Namespace) -> float:
    """ms per forward+backward of a 4x4 stride-2 transposed conv, 64x128x7x7 -> 64x64x14x14."""

    def forward(x, w, b):
        # w: (in=128, out=64, kh, kw), as PyTorch's conv_transpose2d. With
        # transpose_kernel=True the kernel is given as that of the forward
        # conv (64 -> 128 channels, "OIHW") whose input gradient this is, and
        # PyTorch's padding p corresponds to lax padding k - 1 - p = 2.
        # This matches torch.nn.functional.conv_transpose2d(x, w, b, 2, 1)
        # (checked: max abs difference 2e-6).
        # Note: XLA's CPU backend computes the weight gradient of this op
        # (a convolution of the stride-dilated input) with a slow generic
        # kernel, about 220 ms of the total here, in eager and jit alike;
        # the forward and the input gradient take under 10 ms each.
        y = jax.lax.conv_transpose(
            x, w, strides=(2, 2), padding=((2, 2), (2, 2)),
            dimension_numbers=("NCHW", "OIHW", "NCHW"), transpose_kernel=True)
        return y + b[None, :, None, None]

    return _fwd_bwd_ms(forward, ((64, 128, 7, 7), (128, 64, 4, 4), (64,)),
                       (64, 64, 14, 14), args)


def _check_losses(losses: tuple, when: str) -> None:
    """Fail unless both GAN losses are finite float32 scalars; log them."""
    loss_d, loss_g = losses
    if loss_d.dtype != jnp.float32 or not (np.isfinite(loss_d) and np.isfinite(loss_g)):
        raise AssertionError(f"bad losses ({when}): lossD={loss_d}, lossG={loss_g}")
    log(f"  {when}: lossD = {float(loss_d):.4f}, lossG = {float(loss_g):.4f}")


def _gan_steps_per_s(kind: str, args: argparse.Namespace) -> float:
    """Training steps per second of one GAN kind (see ``jax_gans``).

    The whole step (noise, D update, G update) is one function, jitted in
    ``jit`` mode; each call waits for the new state (parameters, running
    statistics, Adam moments) and the losses. The losses are checked to be
    finite after the first step and after the timed runs (training goes on
    during the timing).

    In eager mode, if one step takes over 2 s, only 3 timed runs are made
    (each of at least one step), to keep the run time reasonable.
    """
    model = jax_gans.gan(kind)
    step = maybe_jit(jax_gans.make_step(model))
    key_state, key_real = jax.random.split(jax.random.PRNGKey(0))
    state = jax_gans.init_state(model, key_state)
    real = jax.random.uniform(key_real, (jax_gans.BATCH,) + model.image_shape,
                              jnp.float32, -1.0, 1.0)

    def call():
        nonlocal state
        state, losses = jax.block_until_ready(step(state, real))
        return losses

    _check_losses(call(), "first step")
    if any(leaf.dtype != jnp.float32 for leaf in jax.tree_util.tree_leaves(
            {k: v for k, v in state.items() if k != "key"})):
        raise AssertionError("a parameter, statistic or Adam moment is not float32")
    runs = args.runs
    if MODE == "eager":
        start = time.perf_counter()
        call()
        if time.perf_counter() - start > 2.0:
            runs = min(runs, 3)
            log(f"  eager step over 2 s: {runs} timed runs")
    seconds = measure(call, min_run_time=args.min_run_time, runs=runs)
    _check_losses(call(), "after timing")
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
}


def main() -> int:
    """Parse arguments, run the selected workloads in the chosen mode, print results."""
    global MODE
    parser = make_arg_parser(__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("eager", "jit"), default="jit",
                        help="eager: no jax.jit; jit: jax.jit-compiled (default: jit)")
    args = parser.parse_args()
    MODE = args.mode
    log(f"jax {jax.__version__}, mode {MODE}, devices {jax.devices()}")
    names = select_workloads(args.workloads, FUNCTIONS)
    return run_workloads(names, FUNCTIONS, args, f"jax-{MODE}")


if __name__ == "__main__":
    sys.exit(main())

"""Shared helpers for the peer benchmarks (PyTorch, JAX) and the comparison runner.

Standard library only, so that ``compare.py`` can import it with any Python
interpreter, even one without torch or jax installed.

The workload names, units and "which direction is better" are defined once
here and must match the names printed by SwiftDL's Swift ``benchmarks``
program, which prints one line per workload::

    <name> <value> <unit>
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence


class Workload(NamedTuple):
    """One benchmark workload: its exact name, its unit, and its direction."""

    name: str
    unit: str
    lower_is_better: bool
    description: str


#: All workloads, in the order they are run and shown.
WORKLOADS: List[Workload] = [
    Workload(
        "rosenbrock_calls_per_s", "calls/s", False,
        "value and gradient of the 2-D Rosenbrock function at [-1, 2], float64",
    ),
    Workload(
        "small_ops_us_per_op", "us/op", True,
        "100 rounds of y = sin(y)*1.01 + 0.1 on 16 float32 values, sum, gradient;"
        " time per recorded op",
    ),
    Workload(
        "matmul1024_gflops", "GFLOP/s", False,
        "float32 1024x1024 @ 1024x1024",
    ),
    Workload(
        "matmul2048_gflops", "GFLOP/s", False,
        "float32 2048x2048 @ 2048x2048",
    ),
    Workload(
        "conv_fwd_bwd_ms", "ms", True,
        "conv2d 64x64x14x14 -> 128 ch, 4x4, stride 2, pad 1, bias; forward+backward",
    ),
    Workload(
        "transpconv_fwd_bwd_ms", "ms", True,
        "conv_transpose2d 64x128x7x7 -> 64 ch, 4x4, stride 2, pad 1, bias;"
        " forward+backward",
    ),
    Workload(
        "mlp_gan_steps_per_s", "steps/s", False,
        "MLP GAN training step (G 64-256-256-784, D 784-256-256-1, batch 64):"
        " D update, then G update through the new D; BCE on logits, Adam",
    ),
    Workload(
        "dcgan_steps_per_s", "steps/s", False,
        "DCGAN training step on 1x28x28 (batch norm in G and D), batch 64;"
        " D update, then G update; BCE on logits, Adam",
    ),
    Workload(
        "wgan_gp_steps_per_s", "steps/s", False,
        "WGAN-GP training step (DCGAN nets, no BN in D), batch 64: critic update"
        " with gradient penalty (double backward), then G update; Adam",
    ),
    Workload(
        "conv1to64_fwd_bwd_ms", "ms", True,
        "conv2d 64x1x28x28 -> 64 ch, 4x4, stride 2, pad 1, bias; forward+backward"
        " (a DCGAN discriminator's first layer)",
    ),
    Workload(
        "transpconv64to1_fwd_bwd_ms", "ms", True,
        "conv_transpose2d 64x64x14x14 -> 1 ch, 4x4, stride 2, pad 1, bias;"
        " forward+backward (a DCGAN generator's last layer)",
    ),
]

#: Workloads by name.
WORKLOADS_BY_NAME: Dict[str, Workload] = {w.name: w for w in WORKLOADS}


def log(*args: object) -> None:
    """Print a diagnostic line on stderr (stdout is reserved for results)."""
    print(*args, file=sys.stderr, flush=True)


def format_value(value: float) -> str:
    """Format ``value`` with about 4 significant digits and no exponent.

    >>> format_value(154321.7), format_value(11.1234), format_value(0.51234)
    ('154322', '11.12', '0.5123')
    """
    if value == 0 or not math.isfinite(value):
        return repr(float(value))
    digits = int(math.floor(math.log10(abs(value))))
    decimals = max(0, 3 - digits)
    return f"{value:.{decimals}f}"


def emit(name: str, value: float) -> None:
    """Print one result line ``<name> <value> <unit>`` on stdout."""
    unit = WORKLOADS_BY_NAME[name].unit
    print(f"{name} {format_value(value)} {unit}", flush=True)


def measure(
    fn: Callable[[], object],
    *,
    min_run_time: float = 0.5,
    runs: int = 5,
    warmup_time: float = 0.3,
) -> float:
    """Return the median wall-clock seconds per call of ``fn``.

    ``fn`` must be synchronous: it returns only when its work is done (for
    JAX, call ``block_until_ready`` inside it).

    1. Warm-up: call ``fn`` at least 3 times and for at least ``warmup_time``
       seconds (this absorbs JIT compilation, allocator warm-up and caches).
    2. Calibration: pick a number of calls per run so one timed run takes
       about ``min_run_time`` to ``2 * min_run_time`` seconds.
    3. ``runs`` timed runs with ``time.perf_counter``; the median run time
       divided by the number of calls per run is returned.
    """
    # Warm-up; also gives a first estimate of the time per call.
    calls = 0
    start = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= 3 and elapsed >= warmup_time:
            break
    per_call = elapsed / calls

    # Calibrate: the number of calls that makes one run ~1.5x min_run_time,
    # so that each run lands between min_run_time and 2x min_run_time even if
    # the warm-up estimate was somewhat off.
    number = max(1, int(math.ceil(1.5 * min_run_time / max(per_call, 1e-9))))

    times: List[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    median = statistics.median(times)
    log(
        f"  {runs} runs x {number} calls: median {median * 1e3:.4g} ms/call "
        f"(min {min(times) * 1e3:.4g}, max {max(times) * 1e3:.4g})"
    )
    return median


def make_arg_parser(description: str) -> argparse.ArgumentParser:
    """Argument parser shared by the peer scripts: workloads and timing knobs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "workloads", nargs="*", metavar="WORKLOAD",
        help="workloads to run (default: all this peer supports); known: "
        + ", ".join(w.name for w in WORKLOADS),
    )
    parser.add_argument(
        "--runs", type=int, default=5,
        help="number of timed runs; the median is reported (default: 5)",
    )
    parser.add_argument(
        "--min-run-time", type=float, default=0.5,
        help="target minimum seconds per timed run (default: 0.5)",
    )
    return parser


def select_workloads(requested: Sequence[str], supported: Iterable[str]) -> List[str]:
    """Return the requested workloads this peer supports, in canonical order.

    With no request, all supported workloads are returned. Requested names
    this peer does not support are dropped with a note on stderr (a workload
    a peer cannot run is simply omitted from its output).
    """
    supported = list(supported)
    if not requested:
        return [w.name for w in WORKLOADS if w.name in supported]
    for name in requested:
        if name not in supported:
            log(f"note: workload {name!r} not supported here; skipped")
    return [w.name for w in WORKLOADS if w.name in requested and w.name in supported]


def run_workloads(
    names: Sequence[str],
    functions: Dict[str, Callable[[argparse.Namespace], Optional[float]]],
    args: argparse.Namespace,
    label: str,
) -> int:
    """Run each named workload function and emit its result.

    Each function returns the value to report (in the workload's unit), or
    ``None`` to omit it. An exception in one workload is reported on stderr,
    the workload is omitted, and the others still run. Returns the process
    exit status: 0 if all workloads succeeded, else 1.
    """
    status = 0
    for name in names:
        log(f"[{label}] {name}")
        try:
            value = functions[name](args)
        except Exception as exc:  # keep going with the other workloads
            log(f"[{label}] {name} FAILED: {type(exc).__name__}: {exc}")
            status = 1
            continue
        if value is not None:
            emit(name, value)
    return status

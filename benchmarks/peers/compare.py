#!/usr/bin/env python3
"""Run SwiftDL's benchmarks and its Python peers, and print them side by side.

Runs, one after the other (so they do not compete for the cores):

1. the Swift side: ``swift run -c release benchmarks [WORKLOAD ...]`` from the
   repository root (override with ``--swift-cmd``, e.g. for testing);
2. ``torch_bench.py`` (PyTorch eager);
3. ``jax_bench.py --mode eager`` and ``jax_bench.py --mode jit``.

Every side prints ``<name> <value> <unit>`` lines on stdout; their stderr is
passed through. A peer whose package (torch, jax) is missing from the Python
interpreter used is skipped with a note on stderr. The result is a Markdown
table on stdout, headed by the command line used and the date::

    | workload | unit | SwiftDL | PyTorch | JAX eager | JAX jit | SwiftDL vs PyTorch |

The column "SwiftDL vs PyTorch" says how many times better SwiftDL is than
PyTorch (for ``us/op`` and ``ms`` lower is better, for the other units higher
is better), so ``2.00x`` means SwiftDL is twice as good and ``0.50x`` half as
good; "vs best peer" compares with the better of PyTorch eager and JAX jit.
The header names the CPU (model, and whether it has AVX-512).

When SwiftDL's ``matmul2048_gflops`` and a GAN step or convolution workload
were run, and torch is installed, a roofline table follows: the FLOPs of one
step or call (PyTorch's own counts, ``gan_flops.py --json``) times SwiftDL's
steps (calls) per second, over SwiftDL's own sgemm 2048 rate measured in the
same run.

With ``--rounds N`` every side runs N times, the sides taking turns (SwiftDL,
PyTorch, JAX, SwiftDL, ...), so a drift in the machine's speed reaches every
side alike. Each cell is then the median of the N rounds, and a last column
gives the range of the N ratios of SwiftDL to PyTorch within a round; a second
table lists every round's values, to show the machine's drift.

Usage::

    python3 benchmarks/peers/compare.py [WORKLOAD ...] [--python PY]
        [--swift-cmd CMD] [--skip SIDE ...] [--runs N] [--min-run-time S]
        [--rounds N]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
from typing import Dict, List, NamedTuple, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
from peer_common import WORKLOADS, WORKLOADS_BY_NAME, format_value, log  # noqa: E402

#: The venv the README tells how to create; used by default if it exists.
DEFAULT_VENV_PYTHON = os.path.join(REPO_ROOT, ".venv-peers", "bin", "python")

#: Default Swift command; the workload names are appended to it.
DEFAULT_SWIFT_CMD = "swift run -c release benchmarks"

#: Side keys, in table column order, with their column titles.
SIDES: List[Tuple[str, str]] = [
    ("swift", "SwiftDL"),
    ("torch", "PyTorch"),
    ("jax-eager", "JAX eager"),
    ("jax-jit", "JAX jit"),
]

#: (name -> (value, unit)) as parsed from one side's output.
Results = Dict[str, Tuple[float, str]]


class Side(NamedTuple):
    """One program to run: its key, the command, and a package it needs (if any)."""

    key: str
    command: List[str]
    needs_module: Optional[str]


def parse_results(stdout: str, label: str) -> Results:
    """Parse ``<name> <value> <unit>`` lines; other lines are noted and ignored.

    Tolerates build chatter on stdout (``swift run`` may print some): only
    lines of exactly three fields whose second field is a number count.
    """
    results: Results = {}
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) == 3:
            try:
                results[fields[0]] = (float(fields[1]), fields[2])
                continue
            except ValueError:
                pass
        if line.strip():
            log(f"[{label}] (ignored stdout line) {line}")
    return results


def has_module(python: str, module: str) -> bool:
    """Whether ``module`` can be found by the interpreter ``python``."""
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0
    except OSError:
        return False


def module_version(python: str, module: str) -> str:
    """The ``__version__`` of ``module`` under ``python``, or ``"?"``."""
    code = f"import {module}; print({module}.__version__)"
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True,
                              env=dict(os.environ, JAX_PLATFORMS="cpu"))
    except OSError:
        return "?"
    return proc.stdout.strip() or "?"


def run_side(side: Side) -> Tuple[Results, str]:
    """Run one side from the repository root.

    Returns its parsed results and a problem description ("" if none).
    stderr is passed through to ours; a non-zero exit status is noted on
    stderr, and whatever results it printed before are still used.
    """
    log(f"== {side.key}: {shlex.join(side.command)}")
    try:
        proc = subprocess.run(side.command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              text=True)
    except OSError as exc:
        log(f"== {side.key}: could not start: {exc}")
        return {}, f"could not start: {exc.strerror or exc}"
    problem = ""
    if proc.returncode != 0:
        problem = f"exited with status {proc.returncode}"
        log(f"== {side.key}: {problem}")
    return parse_results(proc.stdout, side.key), problem


def times_better(workload: str, unit: str, swift: Optional[float],
                 torch: Optional[float]) -> Optional[float]:
    """How many times better SwiftDL is than PyTorch, or None without both values."""
    if swift is None or torch is None or swift <= 0 or torch <= 0:
        return None
    known = WORKLOADS_BY_NAME.get(workload)
    lower_is_better = known.lower_is_better if known else unit in ("ms", "us/op", "s")
    return torch / swift if lower_is_better else swift / torch


def ratio(workload: str, unit: str, swift: Optional[float],
          torch: Optional[float]) -> str:
    """How many times better SwiftDL is than PyTorch, as ``"1.23x"``, or ``"-"``."""
    times = times_better(workload, unit, swift, torch)
    return "-" if times is None else f"{times:.2f}x"


def best_peer(workload: str, unit: str, values: Dict[str, Optional[float]]) -> Optional[float]:
    """The better of PyTorch eager's and JAX jit's values (the peers a user would pick), or None."""
    peers = [v for v in (values.get("torch"), values.get("jax-jit")) if v]
    if not peers:
        return None
    known = WORKLOADS_BY_NAME.get(peer_name(workload))
    lower_is_better = known.lower_is_better if known else unit in ("ms", "us/op", "s")
    return min(peers) if lower_is_better else max(peers)


def cpu_description() -> str:
    """The CPU's model name, family and model numbers, and whether it has AVX-512 (Linux's
    /proc/cpuinfo), e.g. ``"Intel(R) Xeon(R) Processor (family 6, model 143), AVX-512"``."""
    fields: Dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        return platform.processor() or "unknown CPU"
    flags = fields.get("flags", "").split()
    vector = "AVX-512" if "avx512f" in flags else ("AVX2, no AVX-512" if "avx2" in flags else "no AVX2")
    return (f"{fields.get('model name', 'unknown CPU')} (family {fields.get('cpu family', '?')}, "
            f"model {fields.get('model', '?')}), {vector}")


#: The workloads with a roofline line, and their keys in ``gan_flops.py --json``: the GAN
#: steps (steps/s) and the convolutions (ms per call).
FLOP_KEYS = {"mlp_gan_steps_per_s": "mlp", "dcgan_steps_per_s": "dcgan",
             "wgan_gp_steps_per_s": "wgan_gp", "conv_fwd_bwd_ms": "conv_fwd_bwd_ms",
             "transpconv_fwd_bwd_ms": "transpconv_fwd_bwd_ms",
             "conv1to64_fwd_bwd_ms": "conv1to64_fwd_bwd_ms",
             "transpconv64to1_fwd_bwd_ms": "transpconv64to1_fwd_bwd_ms"}


def roofline_table(python: str, swift: Results) -> Optional[str]:
    """The roofline of SwiftDL's GAN steps and convolutions in this run (see the module's
    doc), or None without sgemm 2048, such a workload, or torch to count the FLOPs."""
    peak = swift.get("matmul2048_gflops")
    measured = {name: value for name, (value, _) in swift.items() if peer_name(name) in FLOP_KEYS}
    if not peak or not measured:
        return None
    proc = subprocess.run([python, os.path.join(HERE, "gan_flops.py"), "--json"], cwd=HERE,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        log(f"== roofline: gan_flops.py failed: {proc.stderr.strip()[-300:]}")
        return None
    counts = json.loads(proc.stdout)
    lines = [f"Roofline: SwiftDL's sgemm 2048 in this run, {peak[0]:.1f} GFLOP/s (median).", "",
             "| workload | GFLOP per step or call | SwiftDL | GFLOP/s | % of roofline |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, value in measured.items():
        gflop = counts[FLOP_KEYS[peer_name(name)]]
        rate = gflop / (value / 1e3) if name.endswith("_ms") else gflop * value
        lines.append(f"| `{name}` | {gflop:.3f} | {format_value(value)} | {rate:.1f} | "
                     f"{100 * rate / peak[0]:.0f}% |")
    return "\n".join(lines)


def rounds_table(rounds: List[Dict[str, Results]], sides: List[str]) -> str:
    """Every round's values, one row per workload and side."""
    names: List[str] = []
    for results in rounds:
        for key in sides:
            names += [n for n in results.get(key, {}) if n not in names]
    header = ["workload", "side"] + [f"round {n + 1}" for n in range(len(rounds))]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([" --- "] * 2 + [" ---: "] * len(rounds)) + "|"]
    for name in names:
        for key in sides:
            cells = [results.get(key, {}).get(name if key == "swift" else peer_name(name)) for results in rounds]
            if any(cells):
                lines.append(f"| `{name}` | {dict(SIDES)[key]} | "
                             + " | ".join(format_value(c[0]) if c else "-" for c in cells) + " |")
    return "\n".join(lines)


def peer_name(workload: str) -> str:
    """The peers' name for a workload: SwiftDL's accelerated variants (``dlaccelerate``,
    ``..._accel_...``) do the work of the plain workload, which the peers run in their own
    modes (PyTorch eager, JAX eager and jit)."""
    return workload.replace("_accel_", "_")


def ratio_range(workload: str, rounds: List[Dict[str, Results]]) -> str:
    """The lowest and highest SwiftDL-to-PyTorch ratio of the rounds, as ``"0.95-1.10x"``."""
    ratios = []
    for results in rounds:
        swift, torch = results.get("swift", {}).get(workload), results.get("torch", {}).get(peer_name(workload))
        if swift and torch:
            ratios.append(times_better(workload, swift[1], swift[0], torch[0]))
    ratios = [r for r in ratios if r is not None]
    return f"{min(ratios):.2f}-{max(ratios):.2f}x" if ratios else "-"


def median_results(rounds: List[Dict[str, Results]]) -> Dict[str, Results]:
    """Per side and workload, the median value over the rounds that reported it."""
    merged: Dict[str, Dict[str, List[Tuple[float, str]]]] = {}
    for results in rounds:
        for key, side_results in results.items():
            for name, cell in side_results.items():
                merged.setdefault(key, {}).setdefault(name, []).append(cell)
    return {key: {name: (statistics.median(v for v, _ in cells), cells[0][1])
                  for name, cells in side.items()}
            for key, side in merged.items()}


def make_table(results: Dict[str, Results], selected: List[str],
               rounds: Optional[List[Dict[str, Results]]] = None) -> str:
    """Markdown table of all sides' results, one row per workload.

    Rows follow the canonical workload order (shown even if no side reported
    them), then any other workload a side reported, in the order first seen.
    With ``selected``, only those rows. With several ``rounds`` (whose medians
    ``results`` holds), a last column gives the range of their ratios.
    An accelerated variant (``..._accel_...``) shows the peers' values of the plain workload.
    """
    several = rounds is not None and len(rounds) > 1
    names = [w.name for w in WORKLOADS]
    for side_results in results.values():
        names += [n for n in side_results if n not in names]
    if selected:
        names = [n for n in names if n in selected]

    header = ["workload", "unit"] + [title for _, title in SIDES] + ["SwiftDL vs PyTorch", "vs best peer"]
    if several:
        header.append("ratio range over rounds")
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([" --- "] * 2 + [" ---: "] * (len(header) - 2)) + "|"]
    for name in names:
        cells = {key: results.get(key, {}).get(name if key == "swift" else peer_name(name)) for key, _ in SIDES}
        known = WORKLOADS_BY_NAME.get(name)
        if not known and not any(cells.values()):
            continue  # a selected name that is unknown and that no side reported
        unit = known.unit if known else next(c[1] for c in cells.values() if c)
        for key, cell in cells.items():
            if cell and cell[1] != unit:
                log(f"warning: {key} reports {name} in {cell[1]!r}, expected {unit!r}")
        values = {key: (cell[0] if cell else None) for key, cell in cells.items()}
        row = [f"`{name}`", unit]
        row += [format_value(values[key]) if values[key] is not None else "-"
                for key, _ in SIDES]
        row.append(ratio(name, unit, values["swift"], values["torch"]))
        row.append(ratio(name, unit, values["swift"], best_peer(name, unit, values)))
        if several:
            row.append(ratio_range(name, rounds))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> int:
    """Run every side, then print the header and the Markdown table."""
    parser = argparse.ArgumentParser(
        description="Run SwiftDL's benchmarks and the PyTorch/JAX peers; print a "
        "Markdown comparison table.")
    parser.add_argument(
        "workloads", nargs="*", metavar="WORKLOAD",
        help="restrict everything to these workloads (default: all); known: "
        + ", ".join(w.name for w in WORKLOADS))
    parser.add_argument(
        "--python",
        default=DEFAULT_VENV_PYTHON if os.path.exists(DEFAULT_VENV_PYTHON) else "python3",
        help="Python interpreter for the peers (default: .venv-peers/bin/python "
        "if it exists, else python3)")
    parser.add_argument(
        "--swift-cmd", default=DEFAULT_SWIFT_CMD,
        help="command for the Swift side, run from the repository root; the "
        f"workload names are appended (default: {DEFAULT_SWIFT_CMD!r})")
    parser.add_argument(
        "--skip", action="append", default=[], choices=[k for k, _ in SIDES],
        help="do not run this side (repeatable)")
    parser.add_argument("--runs", type=int, help="timed runs per peer workload")
    parser.add_argument("--min-run-time", type=float,
                        help="target seconds per timed run of a peer workload")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every side this many times, the sides taking turns; "
                        "report the medians and the range of the ratios (default: 1)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")

    unknown = [n for n in args.workloads if n not in WORKLOADS_BY_NAME]
    if unknown:
        log(f"note: unknown workload(s) {', '.join(unknown)}; passed on anyway")

    peer_opts: List[str] = []
    if args.runs is not None:
        peer_opts += ["--runs", str(args.runs)]
    if args.min_run_time is not None:
        peer_opts += ["--min-run-time", str(args.min_run_time)]

    torch_script = os.path.join(HERE, "torch_bench.py")
    jax_script = os.path.join(HERE, "jax_bench.py")
    sides = [
        Side("swift", shlex.split(args.swift_cmd) + args.workloads, None),
        Side("torch", [args.python, torch_script] + peer_opts + args.workloads, "torch"),
        Side("jax-eager", [args.python, jax_script, "--mode", "eager"] + peer_opts
             + args.workloads, "jax"),
        Side("jax-jit", [args.python, jax_script, "--mode", "jit"] + peer_opts
             + args.workloads, "jax"),
    ]

    started = datetime.datetime.now().astimezone()
    versions: Dict[str, str] = {}
    runnable: List[Side] = []
    for side in sides:
        if side.key in args.skip:
            log(f"== {side.key}: skipped (--skip)")
            continue
        if side.needs_module:
            if side.needs_module not in versions:
                if not has_module(args.python, side.needs_module):
                    versions[side.needs_module] = ""
                else:
                    versions[side.needs_module] = module_version(args.python,
                                                                 side.needs_module)
            if not versions[side.needs_module]:
                log(f"== {side.key}: skipped: {side.needs_module} is not installed "
                    f"for {args.python}")
                continue
        runnable.append(side)

    rounds: List[Dict[str, Results]] = []
    problems: Dict[str, str] = {}
    for number in range(args.rounds):
        if args.rounds > 1:
            log(f"== round {number + 1} of {args.rounds}")
        round_results: Dict[str, Results] = {}
        for side in runnable:
            round_results[side.key], problem = run_side(side)
            if problem and side.key not in problems:
                problems[side.key] = problem
        rounds.append(round_results)
    results = median_results(rounds)
    ran = [(side, problems.get(side.key, "")) for side in runnable]

    print(f"Command: `{shlex.join(sys.orig_argv)}`")
    print(f"Date: {started.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    machine = f"Machine: {platform.machine()}, {os.cpu_count()} cores"
    found = [f"{m} {v}" for m, v in versions.items() if v]
    if found:
        machine += "; " + ", ".join(found)
    print(machine)
    print(f"CPU: {cpu_description()}")
    print()
    if args.rounds > 1:
        print(f"Rounds: {args.rounds}, the sides taking turns; each value is the median of the rounds.")
        print()
    print(make_table(results, args.workloads, rounds))
    print()
    roofline = roofline_table(args.python, results.get("swift", {})) if has_module(args.python, "torch") else None
    if roofline:
        print(roofline)
        print()
    if args.rounds > 1:
        print("Every round:")
        print()
        print(rounds_table(rounds, [side.key for side in runnable]))
        print()
    print("Sides run (from the repository root):")
    for side, problem in ran:
        note = f" ({problem})" if problem else ""
        print(f"- {dict(SIDES)[side.key]}: `{shlex.join(side.command)}`{note}")
    print()
    print("SwiftDL vs PyTorch: how many times better SwiftDL is "
          "(lower is better for us/op and ms, higher for the others).")
    # Non-zero if any side that was run failed (the table is printed anyway).
    return 1 if any(problem for _, problem in ran) else 0


if __name__ == "__main__":
    sys.exit(main())

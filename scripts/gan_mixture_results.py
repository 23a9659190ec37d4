#!/usr/bin/env python3
"""Train the 2-D mixture GANs of RESULTS.md and print its table.

For each data set (ring-8, grid-25), each method (alternating GD with the
non-saturating loss, + R1, consensus optimization by default; ``--methods
hinge-wide hinge-wide-pack4`` adds the hinge loss with networks of width 256 and
the generator's average, without and with PacGAN4's packing) and each seed (1-5), runs
``gan`` (the release build, ``swift build -c release --product gan`` first)
with the settings below, into ``gan-output/results/<dataset>/<method>/seed<N>``,
then reads each run's ``summary.json`` and prints a Markdown table of modes
captured and % high-quality samples: every seed, and the mean.

Usage::

    python3 scripts/gan_mixture_results.py [--gan .build/release/gan] [--seeds 1 2 3 4 5]
        [--datasets ring-8 grid-25] [--methods baseline r1 consensus] [--iterations 10000] [--reuse]

``--reuse`` reads the summaries of runs already done instead of training again.
``--jobs N`` (default 2) trains N runs at a time, each on one thread
(``SWIFTDL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``): these small networks train
faster on one core each than split across two.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The methods: a name for the table and the gan options that select them.
METHODS = {
    "baseline": ("alternating GD, non-saturating loss", ["--regularizer", "none"]),
    "r1": ("alternating GD, non-saturating + R1 (gamma 0.1)", ["--regularizer", "r1", "--gamma", "0.1"]),
    "consensus": ("consensus optimization (gamma 1)", ["--regularizer", "consensus", "--gamma", "1"]),
    "hinge-wide": ("alternating GD, hinge + R1 (gamma 0.1), width 256, generator average 0.999",
                   ["--loss", "hinge", "--regularizer", "r1", "--gamma", "0.1", "--hidden-size", "256",
                    "--g-average", "0.999"]),
    "hinge-wide-pack4": ("the same, D packing 4 samples (PacGAN4)",
                         ["--loss", "hinge", "--regularizer", "r1", "--gamma", "0.1", "--hidden-size", "256",
                          "--g-average", "0.999", "--pack", "4"]),
}



def run(gan: str, dataset: str, method: str, seed: int, reuse: bool, iterations: int = 10000) -> dict:
    """Train one run of ``iterations`` (unless reusing) and return its summary."""
    name = method if iterations == 10000 else f"{method}-{iterations}"
    out = os.path.join(REPO_ROOT, "gan-output", "results", dataset, name, f"seed{seed}")
    summary = os.path.join(out, "summary.json")
    if not (reuse and os.path.exists(summary)):
        command = [gan, "--dataset", dataset, "--seed", str(seed), "--output", out,
                   "--iterations", str(iterations), "--sample-every", str(iterations // 4), *METHODS[method][1]]
        print("$", " ".join(command), file=sys.stderr, flush=True)
        env = dict(os.environ, SWIFTDL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        subprocess.run(command, cwd=REPO_ROOT, check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    with open(summary) as f:
        return json.load(f)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gan", default=os.path.join(REPO_ROOT, ".build", "release", "gan"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--datasets", nargs="+", default=["ring-8", "grid-25"])
    parser.add_argument("--methods", nargs="+", default=["baseline", "r1", "consensus"], choices=list(METHODS))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=10000,
                        help="iterations per run (measured every quarter); the rest are gan's 2-D defaults: "
                             "MLP of width 64, latent 16, batch 256, Adam 1e-3 with beta1 0.5 decaying linearly to 0")
    args = parser.parse_args()

    runs = [(d, m, s) for d in args.datasets for m in args.methods for s in args.seeds]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {key: pool.submit(run, args.gan, *key, args.reuse, args.iterations) for key in runs}
        results = {key: future.result() for key, future in futures.items()}

    print("| data | method | modes captured (seeds " + ", ".join(map(str, args.seeds))
          + ") | % high quality | mean modes | mean % HQ | seeds with all modes and >= 90% HQ | seconds per run |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |")
    for dataset in args.datasets:
        for method in args.methods:
            summaries = [results[(dataset, method, seed)] for seed in args.seeds]
            measures = [s["measures"] for s in summaries]
            modes = [m["modesCaptured"] for m in measures]
            quality = [m["highQualityPercent"] for m in measures]
            count = measures[0]["modeCount"]
            good = sum(1 for m, q in zip(modes, quality) if m == count and q >= 90)
            seconds = statistics.median(s["seconds"] for s in summaries)
            print(f"| {dataset} | {METHODS[method][0]} | {' '.join(map(str, modes))} | "
                  f"{' '.join(f'{q:.1f}' for q in quality)} | {statistics.mean(modes):.1f} | "
                  f"{statistics.mean(quality):.1f} | {good}/{len(args.seeds)} | {seconds:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

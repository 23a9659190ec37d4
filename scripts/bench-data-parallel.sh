#!/usr/bin/env bash
# Data-parallel GAN steps beside the one-process run, taking turns for ROUNDS rounds (default 3):
#   1 process x 2 threads  : benchmarks as usual (SwiftDL and OpenBLAS share the cores)
#   2 processes x 1 thread : mpirun -np 2, one thread per rank, the batch split over the ranks
#   2 threads as workers   : benchmarks --workers 2, one thread each, the batch split
# Prints every round's lines prefixed by the configuration; BENCHMARKS.md takes the medians.
# Needs Open MPI (scripts/bootstrap.sh --mpi).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
workloads=(mlp_gan_steps_per_s dcgan_steps_per_s)  # eager passes: data-parallel workers run eagerly
swift build -c release --traits default,MPI --product benchmarks >&2
benchmarks="$(swift build -c release --traits default,MPI --show-bin-path)/benchmarks"
mpirun=(mpirun --oversubscribe -x OPENBLAS_NUM_THREADS=1 -x OMP_NUM_THREADS=1 -x SWIFTDL_NUM_THREADS=1)
if [ "$(id -u)" -eq 0 ]; then mpirun+=(--allow-run-as-root); fi
lscpu | grep -E "Model name|^CPU\(s\)" >&2
for round in $(seq "$rounds"); do
    "$benchmarks" "${workloads[@]}" | sed "s/^/round $round 1x2threads /"
    "${mpirun[@]}" -np 2 "$benchmarks" "${workloads[@]}" | sed "s/^/round $round 2x1mpi /"
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 SWIFTDL_NUM_THREADS=1 "$benchmarks" --workers 2 "${workloads[@]}" \
        | sed "s/^/round $round 2x1threads /"
done

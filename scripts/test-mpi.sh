#!/usr/bin/env bash
# MPI integration test of data-parallel training (needs Open MPI: scripts/bootstrap.sh --mpi).
# Builds parallel-training with the package trait MPI, then under mpirun with 2 processes:
# its final parameters must match a one-process run with the same global mini-batch to 1e-5
# relative, and a checkpoint written under MPI must resume under MPI (with 3 processes) to the
# same parameters.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --traits default,MPI --product parallel-training
training="$(swift build --traits default,MPI --show-bin-path)/parallel-training"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One rank per core at most one thread each; root needs --allow-run-as-root.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mpirun=(mpirun --oversubscribe -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS)
if [ "$(id -u)" -eq 0 ]; then mpirun+=(--allow-run-as-root); fi

echo "test-mpi: one process" >&2
"$training" --steps 30 --output "$work/one.safetensors"
echo "test-mpi: 2 MPI processes against one process" >&2
"${mpirun[@]}" -np 2 "$training" --steps 30 --compare-to "$work/one.safetensors"
echo "test-mpi: 2 MPI processes write a checkpoint at step 10, 3 resume it" >&2
"${mpirun[@]}" -np 2 "$training" --steps 15 --checkpoint "$work/checkpoint.safetensors" --checkpoint-every 10
"${mpirun[@]}" -np 3 "$training" --steps 30 --resume "$work/checkpoint.safetensors" --compare-to "$work/one.safetensors"
echo "test-mpi: a failing worker ends the job" >&2
if "${mpirun[@]}" -np 2 "$training" --steps 30 --resume "$work/missing.safetensors" > "$work/failure.txt" 2>&1; then
    echo "test-mpi: a run resuming a missing checkpoint succeeded" >&2
    exit 1
fi
grep -q "worker 1 of 2: cannot read safetensors file" "$work/failure.txt" || { cat "$work/failure.txt" >&2; exit 1; }
echo "test-mpi: passed" >&2

#!/usr/bin/env bash
# MPI integration test of data-parallel training (needs Open MPI: scripts/bootstrap.sh --mpi).
# Builds parallel-training with the package trait MPI, then under mpirun with 2 processes:
# its final parameters must match a one-process run with the same global mini-batch to 1e-5
# relative, and a checkpoint written under MPI must resume under MPI (with 3 processes) to the
# same parameters.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --traits default,MPI --product parallel-training
swift build --traits default,MPI --product gan
training="$(swift build --traits default,MPI --show-bin-path)/parallel-training"
gan="$(swift build --traits default,MPI --show-bin-path)/gan"
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
echo "test-mpi: gan on ring-8 with 2 MPI processes against one process, then resumed under MPI" >&2
ring=(--hidden-size 8 --batch-size 16 --latent-size 4 --sample-every 100 --seed 3 --lr-schedule constant)
"$gan" "${ring[@]}" --iterations 12 --output "$work/ring-one" >/dev/null
"${mpirun[@]}" -np 2 "$gan" "${ring[@]}" --iterations 12 --output "$work/ring-mpi" >/dev/null
scripts/compare_checkpoints.py "$work/ring-mpi/checkpoint.safetensors" "$work/ring-one/checkpoint.safetensors" --skip /optimizer/
"${mpirun[@]}" -np 2 "$gan" "${ring[@]}" --iterations 6 --output "$work/ring-resumed" >/dev/null
"${mpirun[@]}" -np 2 "$gan" --resume --iterations 12 --output "$work/ring-resumed" >/dev/null
scripts/compare_checkpoints.py "$work/ring-resumed/checkpoint.safetensors" "$work/ring-one/checkpoint.safetensors" --skip /optimizer/
echo "test-mpi: a gan worker killed mid-run ends the job; its last checkpoint resumes to the uninterrupted run" >&2
long=("${ring[@]}" --iterations 400 --checkpoint-every 10)
"${mpirun[@]}" -np 2 "$gan" "${long[@]}" --output "$work/ring-whole" >/dev/null 2>&1
"${mpirun[@]}" -np 2 "$gan" "${long[@]}" --output "$work/ring-killed" > "$work/killed.txt" 2>&1 &
job=$!
for _ in $(seq 600); do [ -f "$work/ring-killed/checkpoint.safetensors" ] && break; sleep 0.05; done
for pid in $(pgrep -P "$job"); do
    if tr '\0' '\n' < "/proc/$pid/environ" | grep -qx "OMPI_COMM_WORLD_RANK=1"; then kill -9 "$pid"; fi
done
if wait "$job"; then echo "test-mpi: the job went on after worker 2 was killed" >&2; exit 1; fi
grep -qi "signal 9\|killed" "$work/killed.txt" || { cat "$work/killed.txt" >&2; exit 1; }
"${mpirun[@]}" -np 2 "$gan" --resume --output "$work/ring-killed" >/dev/null 2>&1
scripts/compare_checkpoints.py "$work/ring-killed/checkpoint.safetensors" "$work/ring-whole/checkpoint.safetensors"
echo "test-mpi: gan DCGAN on MNIST with 2 MPI processes against one process" >&2
# SGDM: Adam turns the rounding of nearly cancelling gradients into visible steps; the biases
# before batch normalization have gradients of rounding noise.
dcgan=(--data ../shared/datasets/mnist --batch-size 8 --iterations 3 --sample-every 100 --seed 4
       --g-optimizer sgdm --d-optimizer sgdm --g-lr 0.01 --d-lr 0.01)
if [ -d ../shared/datasets/mnist ]; then
    "$gan" "${dcgan[@]}" --output "$work/dcgan-one" >/dev/null
    "${mpirun[@]}" -np 2 "$gan" "${dcgan[@]}" --output "$work/dcgan-mpi" >/dev/null
    scripts/compare_checkpoints.py "$work/dcgan-mpi/checkpoint.safetensors" "$work/dcgan-one/checkpoint.safetensors" \
        --skip /optimizer/ /project/Bias /tconv1/Bias /conv2/Bias
fi
echo "test-mpi: passed" >&2

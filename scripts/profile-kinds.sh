#!/bin/bash
# A benchmarks workload's CPU time per step (or call) by kind of work, from a perf profile:
# oneDNN's convolution kernels, the pool threads waiting for work, batch norm, reorders, the
# layout transposes of mixed-layout kernels, leaky ReLU loops, reductions, matrix products,
# memory copies and fills, and the rest. Milliseconds per call at perf's 999 Hz.
#
#   scripts/profile-kinds.sh [--calls N] WORKLOAD [BENCHMARKS]
#
# BENCHMARKS defaults to .build/release/benchmarks; it runs `--profile N` (default 100) calls
# untimed after its first. Needs perf (Debian's linux-perf); oneDNN's JIT kernels are named
# through DNNL_JIT_PROFILE=2.
set -euo pipefail
calls=100
if [ "${1:-}" = "--calls" ]; then calls=$2; shift 2; fi
workload=${1:?usage: scripts/profile-kinds.sh [--calls N] WORKLOAD [BENCHMARKS]}
binary=${2:-.build/release/benchmarks}
data=$(mktemp)
trap 'rm -f "$data"' EXIT
DNNL_JIT_PROFILE=2 perf record -q -F 999 -o "$data" "$binary" --profile "$calls" "$workload" > /dev/null
perf report -i "$data" --no-children --sort symbol -F sample,sym 2> /dev/null | grep -v '^#' | awk -v calls="$calls" -v name="$workload" '
NF >= 3 {
    kind = "other"
    if ($0 ~ /conv_(fwd|bwd_data|bwd_weights)_kernel/) kind = "conv"
    else if ($0 ~ /pool_thread|swiftdl_pool_run/) kind = "pool-wait"
    else if ($0 ~ /Channel(Moments|Normalization|GradientSums|NormalizationGradient)/) kind = "batch-norm"
    else if ($0 ~ /reorder|single_blk/) kind = "reorder"
    else if ($0 ~ /gather_avx2|scatter_avx2/) kind = "transpose"
    else if ($0 ~ /slope_loop/) kind = "leaky-relu"
    else if ($0 ~ /DimensionReduction|ReduceAlongDimension/) kind = "reduction"
    else if ($0 ~ /gemm/) kind = "gemm"
    else if ($0 ~ /memmove|memset|memcpy/) kind = "memory"
    samples[kind] += $1; total += $1
}
END {
    split("conv pool-wait batch-norm reorder transpose leaky-relu reduction gemm memory other", order, " ")
    printf "%s", name
    for (k = 1; k <= 10; k++) printf "  %s %.2f", order[k], samples[order[k]] / calls * 1000 / 999
    printf "  total %.1f ms per call\n", total / calls * 1000 / 999
}'

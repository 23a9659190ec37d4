#!/usr/bin/env bash
# Installs what building SwiftDL needs beyond the Swift toolchain: OpenBLAS, FFTW and zlib (found
# through pkg-config; on macOS zlib is part of the SDK) and oneDNN (its header). With --mpi, also
# Open MPI (its ompi-c pkg-config entry and mpirun), which `swift build --traits default,MPI`
# needs for data-parallel training over processes. Does nothing when everything asked for is
# already installed.
set -euo pipefail

mpi=0
for argument in "$@"; do
    case "$argument" in
        --mpi) mpi=1 ;;
        *) echo "bootstrap: unknown option $argument (known: --mpi)" >&2; exit 2 ;;
    esac
done

has_onednn() { [ -f /usr/include/oneapi/dnnl/dnnl.h ] || [ -f "$(brew --prefix 2>/dev/null)/include/oneapi/dnnl/dnnl.h" ]; }
has_mpi() { pkg-config --exists ompi-c 2>/dev/null && command -v mpirun >/dev/null; }

if [ "$(uname)" = "Darwin" ]; then
    formulas=()
    pkg-config --exists openblas 2>/dev/null || formulas+=(openblas)
    pkg-config --exists fftw3 2>/dev/null || formulas+=(fftw)
    has_onednn || formulas+=(onednn)
    if [ "$mpi" -eq 1 ] && ! has_mpi; then formulas+=(open-mpi); fi
    if [ ${#formulas[@]} -gt 0 ]; then
        echo "bootstrap: installing ${formulas[*]} with Homebrew" >&2
        brew install "${formulas[@]}" pkg-config
    fi
    exit 0
fi

missing=()
pkg-config --exists openblas 2>/dev/null || missing+=(libopenblas-dev)
pkg-config --exists fftw3 2>/dev/null || missing+=(libfftw3-dev)
pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)
has_onednn || missing+=(libdnnl-dev)
if [ "$mpi" -eq 1 ] && ! has_mpi; then missing+=(libopenmpi-dev openmpi-bin); fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "bootstrap: installing ${missing[*]} with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" pkg-config >/dev/null
for library in openblas fftw3 zlib; do
    pkg-config --exists "$library" || { echo "bootstrap: $library is still not found by pkg-config" >&2; exit 1; }
done
has_onednn || { echo "bootstrap: oneDNN's header oneapi/dnnl/dnnl.h is still not found" >&2; exit 1; }
if [ "$mpi" -eq 1 ]; then
    has_mpi || { echo "bootstrap: Open MPI (ompi-c, mpirun) is still not found" >&2; exit 1; }
fi

#!/usr/bin/env bash
# Installs what building SwiftDL needs beyond the Swift toolchain: OpenBLAS (found through
# pkg-config). With --mpi, also Open MPI (its ompi-c pkg-config entry and mpirun), which
# `swift build --traits default,MPI` needs for data-parallel training over processes. Does nothing
# when everything asked for is already installed.
set -euo pipefail

mpi=0
for argument in "$@"; do
    case "$argument" in
        --mpi) mpi=1 ;;
        *) echo "bootstrap: unknown option $argument (known: --mpi)" >&2; exit 2 ;;
    esac
done

has_mpi() { pkg-config --exists ompi-c 2>/dev/null && command -v mpirun >/dev/null; }

if pkg-config --exists openblas 2>/dev/null && { [ "$mpi" -eq 0 ] || has_mpi; }; then
    exit 0
fi

if [ "$(uname)" = "Darwin" ]; then
    echo "bootstrap: installing OpenBLAS with Homebrew" >&2
    brew install openblas pkg-config
    if [ "$mpi" -eq 1 ]; then brew install open-mpi; fi
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
packages="libopenblas-dev pkg-config"
if [ "$mpi" -eq 1 ]; then packages="$packages libopenmpi-dev openmpi-bin"; fi
echo "bootstrap: installing $packages with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null
pkg-config --exists openblas || { echo "bootstrap: OpenBLAS is still not found by pkg-config" >&2; exit 1; }
if [ "$mpi" -eq 1 ]; then
    has_mpi || { echo "bootstrap: Open MPI (ompi-c, mpirun) is still not found" >&2; exit 1; }
fi

#!/usr/bin/env bash
# Installs what building SwiftDL needs beyond the Swift toolchain: OpenBLAS and FFTW (found
# through pkg-config). Does nothing when they are already installed.
set -euo pipefail

if pkg-config --exists openblas fftw3 2>/dev/null; then
    exit 0
fi

if [ "$(uname)" = "Darwin" ]; then
    echo "bootstrap: installing OpenBLAS and FFTW with Homebrew" >&2
    brew install openblas fftw pkg-config
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "bootstrap: installing OpenBLAS (libopenblas-dev) and FFTW (libfftw3-dev) with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenblas-dev libfftw3-dev pkg-config >/dev/null
pkg-config --exists openblas fftw3 || { echo "bootstrap: OpenBLAS or FFTW is still not found by pkg-config" >&2; exit 1; }

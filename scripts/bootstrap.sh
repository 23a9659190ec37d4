#!/usr/bin/env bash
# Installs what building SwiftDL needs beyond the Swift toolchain: OpenBLAS (found through
# pkg-config) and oneDNN (its header). Does nothing when they are already installed.
set -euo pipefail

has_onednn() { [ -f /usr/include/oneapi/dnnl/dnnl.h ] || [ -f "$(brew --prefix 2>/dev/null)/include/oneapi/dnnl/dnnl.h" ]; }

if pkg-config --exists openblas 2>/dev/null && has_onednn; then
    exit 0
fi

if [ "$(uname)" = "Darwin" ]; then
    echo "bootstrap: installing OpenBLAS and oneDNN with Homebrew" >&2
    brew install openblas onednn pkg-config
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "bootstrap: installing OpenBLAS (libopenblas-dev) and oneDNN (libdnnl-dev) with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenblas-dev libdnnl-dev pkg-config >/dev/null
pkg-config --exists openblas || { echo "bootstrap: OpenBLAS is still not found by pkg-config" >&2; exit 1; }
has_onednn || { echo "bootstrap: oneDNN's header oneapi/dnnl/dnnl.h is still not found" >&2; exit 1; }

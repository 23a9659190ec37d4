#!/usr/bin/env bash
# Installs what building SwiftDL needs beyond the Swift toolchain: OpenBLAS and zlib (found
# through pkg-config; on macOS zlib is part of the SDK). Does nothing when they are installed.
set -euo pipefail

if [ "$(uname)" = "Darwin" ]; then
    if ! pkg-config --exists openblas 2>/dev/null; then
        echo "bootstrap: installing OpenBLAS with Homebrew" >&2
        brew install openblas pkg-config
    fi
    exit 0
fi

missing=()
pkg-config --exists openblas 2>/dev/null || missing+=(libopenblas-dev)
pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "bootstrap: installing ${missing[*]} with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" pkg-config >/dev/null
for library in openblas zlib; do
    pkg-config --exists "$library" || { echo "bootstrap: $library is still not found by pkg-config" >&2; exit 1; }
done

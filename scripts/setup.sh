#!/usr/bin/env bash
# setup.sh - install the Debian packages the build and the tests need, when they are missing.
# Idempotent: when every package is already installed it only checks and returns. Needs root
# (or sudo) the first time. scripts/test.sh and .ci/run call it; run it by hand to get a
# machine ready without building anything.
#
# Usage: scripts/setup.sh
set -euo pipefail

PACKAGES=(
    build-essential cmake ninja-build ccache   # toolchain (gcc also assembles the assets)
    libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
    libgtest-dev libgmock-dev libbenchmark-dev # tests and benchmarks
    nginx-light curl                           # scripts/lab-local.sh, integration tests
    prometheus                                 # promtool: /metrics checked in a test
    python3-yaml                               # tests/k8s: compose file vs. manifests
    clang-14 libclang-rt-14-dev                # sanitizer and fuzz builds (libFuzzer)
    clang-format-14 clang-tidy-14              # style and lint checks
    chromium                                   # tests/browser: the dashboard in a browser
)
# tests/browser also needs node and npm. A machine may have them from another source (a
# nodejs package that carries npm); Debian's would conflict there, so only when node is missing.
if ! command -v node >/dev/null; then
    PACKAGES+=(nodejs npm)
fi

missing() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
            printf '%s\n' "$pkg"
        fi
    done
}

main() {
    local todo sudo=()
    mapfile -t todo < <(missing)
    if ((${#todo[@]} == 0)); then
        echo "setup: all ${#PACKAGES[@]} packages are installed"
        return 0
    fi
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || {
            echo "setup: missing ${todo[*]}; run as root or install sudo" >&2
            exit 1
        }
        sudo=(sudo)
    fi
    echo "setup: installing ${todo[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${todo[@]}"
}

main "$@"

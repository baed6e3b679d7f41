#!/usr/bin/env bash
# test.sh - install what is missing (scripts/setup.sh), build everything and run every test
# suite: unit, component and integration, then the dashboard in headless Chromium (browser),
# then e2e through Docker when an engine answers (as root it starts one with
# ../shared/tools/offline-docker.sh). Prints how long each stage took.
#
# Usage: scripts/test.sh
# Environment (all optional):
#   BUILD_DIR   build directory (default: build), configured RelWithDebInfo with Ninja + ccache
#   JOBS        parallel build and test jobs (default: nproc)
#   E2E         0: skip the e2e tests. Otherwise they run when a Docker engine answers; as root,
#               ../shared/tools/offline-docker.sh is run first to get one if it is there.
#   CHECKS      1 (set by .ci/run): after the main tests, check the style (clang-format,
#               clang-tidy: scripts/lint.sh), run the fault tests under load (label faults)
#               and the checking builds: an ASan+UBSan clang build
#               (build-asan, also holding the libFuzzer targets) runs the unit, component and
#               integration tests and replays the fuzz corpus, then fuzzes each target
#               FUZZ_SECONDS (default 60); a TSan clang build (build-tsan) runs the
#               concurrency, unit, component and integration tests.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
OFFLINE_DOCKER=$REPO/../shared/tools/offline-docker.sh
cd "$REPO"
# Every clone shares one ccache: paths under the checkout are hashed relative to it, and the
# build directory is left out of the hash (-g would put it in; gdb may then name another
# clone's build directory as the compilation directory).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$REPO}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

TIMINGS=()
stage() { # stage NAME COMMAND... : run one step, print and record its duration
    local name=$1 start=$SECONDS rc=0 outcome="done"
    shift
    printf '\n=== %s\n' "$name"
    "$@" || rc=$?
    if [[ $rc != 0 ]]; then
        outcome="FAILED (exit $rc)"
    fi
    TIMINGS+=("$(printf '%-14s %5ds  %s' "$name" $((SECONDS - start)) "$outcome")")
    printf '=== %s: %s in %ds\n' "$name" "$outcome" $((SECONDS - start))
    return "$rc"
}

summary() {
    local line
    printf '\n=== durations (total %ds)\n' "$SECONDS"
    for line in "${TIMINGS[@]}"; do
        printf '  %s\n' "$line"
    done
}
trap summary EXIT

configure() {
    local args=(-S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIRCUITLAB_TESTS=ON)
    # An existing build directory keeps its generator; cmake refuses to switch.
    if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
        args+=(-G Ninja)
    fi
    cmake "${args[@]}"
}

# configure_checked DIR CMAKE_ARGS... : a clang build of its own for a checking configuration.
configure_checked() {
    local dir=$1
    shift
    local args=(-S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCIRCUITLAB_TESTS=ON
        -DCMAKE_CXX_COMPILER=clang++-14 -DCIRCUITLAB_BENCH=OFF "$@")
    if [[ ! -f $dir/CMakeCache.txt ]]; then
        args+=(-G Ninja)
    fi
    cmake "${args[@]}" >/dev/null
}

build_asan() {
    configure_checked build-asan -DCIRCUITLAB_SANITIZE=address,undefined -DCIRCUITLAB_FUZZ=ON \
        -DCIRCUITLAB_FUZZ_SECONDS="${FUZZ_SECONDS:-60}" &&
        cmake --build build-asan --parallel "$JOBS"
}

build_tsan() {
    configure_checked build-tsan -DCIRCUITLAB_SANITIZE=thread &&
        cmake --build build-tsan --parallel "$JOBS"
}

# A sanitizer report stops the process that made it, which fails its test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

run_checks() {
    if [[ ${CHECKS:-0} != 1 ]]; then
        echo "checks skipped: CHECKS=1 runs fault tests, sanitizer builds and fuzzing"
        return 0
    fi
    stage format scripts/lint.sh format
    stage tidy scripts/lint.sh tidy "$BUILD_DIR"
    stage faults ctest --test-dir "$BUILD_DIR" --output-on-failure -L '^faults$'
    stage asan-build build_asan
    stage asan-tests ctest --test-dir build-asan --output-on-failure -j "$JOBS" \
        -L '^(unit|component|integration|conformance|fuzz)$'
    stage fuzz ctest --test-dir build-asan --output-on-failure -L '^fuzz-run$'
    stage tsan-build build_tsan
    stage tsan-tests ctest --test-dir build-tsan --output-on-failure -j "$JOBS" \
        -L '^(concurrency|unit|component|integration)$'
}

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

run_e2e() {
    if [[ ${E2E:-} == 0 ]]; then
        echo "e2e skipped: E2E=0"
        return 0
    fi
    if ! engine_answers && [[ -x $OFFLINE_DOCKER && $(id -u) == 0 ]]; then
        stage docker-engine "$OFFLINE_DOCKER"
    fi
    if ! engine_answers; then
        echo "e2e skipped: no Docker engine (as root, ../shared/tools/offline-docker.sh starts one)"
        return 0
    fi
    stage e2e ctest --test-dir "$BUILD_DIR" --output-on-failure -L e2e
}

stage setup scripts/setup.sh
stage configure configure
stage build cmake --build "$BUILD_DIR" --parallel "$JOBS"
stage tests ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" \
    -LE '^(e2e|faults|fuzz|fuzz-run|browser)$'
stage browser ctest --test-dir "$BUILD_DIR" --output-on-failure -L '^browser$'
run_e2e
run_checks

#!/usr/bin/env bash
# lint.sh - style and lint checks of the C++ tree, with the checked-in .clang-format and
# .clang-tidy. Exits non-zero on the first finding, printing it.
#
# Usage:
#   scripts/lint.sh format            check every tracked .cpp/.hpp (third_party excluded)
#   scripts/lint.sh format --fix      rewrite them in place instead
#   scripts/lint.sh tidy BUILD_DIR    clang-tidy over src/ with BUILD_DIR/compile_commands.json
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

sources() { git ls-files -- '*.cpp' '*.hpp' ':!third_party/**'; }

format() {
    local mode=(--dry-run --Werror)
    if [[ ${1:-} == --fix ]]; then
        mode=(-i)
    fi
    sources | xargs -r clang-format-14 --style=file "${mode[@]}"
    echo "format: $(sources | wc -l) files clean"
}

tidy() {
    local build=${1:?usage: lint.sh tidy BUILD_DIR}
    local files
    [[ -f $build/compile_commands.json ]] || {
        echo "lint: $build/compile_commands.json missing; configure the build first" >&2
        exit 2
    }
    mapfile -t files < <(git ls-files -- 'src/*.cpp' ':!src/http/beast_asio.cpp')
    run-clang-tidy-14 -quiet -p "$build" -j "$(nproc)" "${files[@]/#/$REPO/}" 2>&1 \
        | grep -v '^[0-9]* warnings generated' \
        | grep -v '^Suppressed [0-9]* warnings' \
        | grep -v '^Use -header-filter' \
        | tee /tmp/lint-tidy.$$ || true
    if grep -q -E '(warning|error):' /tmp/lint-tidy.$$; then
        rm -f /tmp/lint-tidy.$$
        echo "tidy: findings above" >&2
        exit 1
    fi
    rm -f /tmp/lint-tidy.$$
    echo "tidy: ${#files[@]} files clean"
}

case ${1:-} in
    format) format "${2:-}" ;;
    tidy) tidy "${2:-}" ;;
    *)
        echo "usage: scripts/lint.sh format [--fix] | tidy BUILD_DIR" >&2
        exit 2
        ;;
esac

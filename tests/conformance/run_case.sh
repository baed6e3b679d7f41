#!/usr/bin/env bash
# run_case.sh BINARY CASE_DIR - replays CASE_DIR/trace.* with CASE_DIR/settings.env and
# compares the report (every transition with its time, reason and window, then the summary)
# with CASE_DIR/expected.txt. UPDATE=1 rewrites expected.txt instead; review the diff.
set -euo pipefail

binary=$1
case_dir=$2
trace=$(ls "$case_dir"/trace.* | head -n 1)
actual=$("$binary" replay --config "$case_dir/settings.env" "$trace")

if [[ ${UPDATE:-0} == 1 ]]; then
    printf '%s\n' "$actual" >"$case_dir/expected.txt"
    echo "updated $case_dir/expected.txt"
    exit 0
fi
if ! diff -u "$case_dir/expected.txt" <(printf '%s\n' "$actual"); then
    echo "FAIL: $(basename "$case_dir"): the replay differs from expected.txt (above). If the" \
        "breaker's behaviour changed on purpose, rerun with UPDATE=1, review the diff and" \
        "check the case's settings.env still says what it checks." >&2
    exit 1
fi
echo "ok: $(basename "$case_dir")"

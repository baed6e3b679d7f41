#!/usr/bin/env bash
# expect_error.sh BINARY MESSAGE -- ARGS... - runs BINARY ARGS and passes when it exits 2 with
# exactly one line on stderr containing MESSAGE, and nothing on stdout.
set -uo pipefail

binary=$1
message=$2
shift 3
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
stdout=$("$binary" "$@" 2>"$errors")
code=$?
stderr=$(cat "$errors")

if [[ $code != 2 || -n $stdout || $(printf '%s\n' "$stderr" | wc -l) != 1 ||
      $stderr != *"$message"* ]]; then
    printf 'FAIL: expected exit 2 and one line with "%s"\ngot exit %s, stderr: %s\nstdout: %s\n' \
        "$message" "$code" "$stderr" "$stdout" >&2
    exit 1
fi
echo "ok: $stderr"

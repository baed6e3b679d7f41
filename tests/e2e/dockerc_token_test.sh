#!/usr/bin/env bash
# dockerc_token_test.sh - how ./dockerc.sh keeps the admin token, with no Docker engine needed:
# `./dockerc.sh token` reads, makes and saves it the same way `./dockerc.sh up` does.
# Runs a copy of dockerc.sh in a scratch folder, so the checkout's docker/.env is untouched.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/docker"
cp "$repo/dockerc.sh" "$scratch/"
env_file=$scratch/docker/.env
failures=0

check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        printf 'ok    %s\n' "$what"
    else
        printf 'FAIL  %s\n' "$what"
        failures=$((failures + 1))
    fi
}
token() { env -u ADMIN_TOKEN "$scratch/dockerc.sh" token; }
saved() { sed -n 's/^ADMIN_TOKEN=//p' "$env_file"; }

first=$(token)
check "the first use makes a 32-hex token" grep -qxE '[0-9a-f]{32}' <<<"$first"
check "it is kept in docker/.env" test "$(saved)" = "$first"
check "docker/.env is readable by its owner only" test "$(stat -c %a "$env_file")" = 600
check "later uses print the same token" test "$(token)" = "$first"

printf 'OTHER=kept\n' >>"$env_file"
given='given-token.0123456789_~+/='
out=$(ADMIN_TOKEN=$given "$scratch/dockerc.sh" token)
check "ADMIN_TOKEN from the environment wins" test "$out" = "$given"
check "and replaces the saved one" test "$(saved)" = "$given"
check "with one ADMIN_TOKEN line left" test "$(grep -c '^ADMIN_TOKEN=' "$env_file")" = 1
check "other lines of docker/.env stay" grep -qx 'OTHER=kept' "$env_file"
check "later uses print the given token" test "$(token)" = "$given"

for bad in short 'has space in it 0123' "$(printf 'x%.0s' {1..257})"; do
    if err=$(ADMIN_TOKEN=$bad "$scratch/dockerc.sh" token 2>&1); then
        check "a bad ADMIN_TOKEN (${#bad} characters) is refused" false
    else
        check "a bad ADMIN_TOKEN (${#bad} characters) is refused in one line naming it" \
            grep -qx 'dockerc: ADMIN_TOKEN: .*expected' <<<"$err"
    fi
done
check "a refused token leaves the saved one" test "$(saved)" = "$given"

if ((failures > 0)); then
    printf '%d check(s) failed\n' "$failures"
    exit 1
fi
echo "all checks passed"

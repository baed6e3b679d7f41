#!/usr/bin/env bash
# dockerc_token_test.sh - how ./dockerc.sh keeps the admin token, with no Docker engine:
# `./dockerc.sh token` reads (and on first use makes) it; `./dockerc.sh up` checks and saves a
# given ADMIN_TOKEN before it looks for an engine. Runs a copy of dockerc.sh in a scratch
# folder, with a `docker` on PATH that finds no engine (and no ../shared/tools to start one),
# so the checkout's docker/.env and any running stack are untouched.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/lab/docker" "$scratch/bin"
cp "$repo/dockerc.sh" "$scratch/lab/"
printf '#!/bin/sh\necho "no engine here" >&2\nexit 1\n' >"$scratch/bin/docker"
chmod +x "$scratch/bin/docker"
export PATH=$scratch/bin:$PATH
dockerc=$scratch/lab/dockerc.sh
env_file=$scratch/lab/docker/.env
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
token() { env -u ADMIN_TOKEN "$dockerc" token; }
saved() { sed -n 's/^ADMIN_TOKEN=//p' "$env_file"; }

first=$(token)
check "the first use makes a 32-hex token" grep -qxE '[0-9a-f]{32}' <<<"$first"
check "it is kept in docker/.env" test "$(saved)" = "$first"
check "docker/.env is readable by its owner only" test "$(stat -c %a "$env_file")" = 600
check "later uses print the same token" test "$(token)" = "$first"

printf 'OTHER=kept\n' >>"$env_file"
given='given-token.0123456789_~+/='
out=$(ADMIN_TOKEN=$given "$dockerc" token 2>&1)
check "token with another ADMIN_TOKEN set prints the saved one" grep -qx "$first" <<<"$out"
check "and says the environment's is not the saved one" grep -q 'not the saved one' <<<"$out"
check "and saves nothing" test "$(saved)" = "$first"

err=$(ADMIN_TOKEN=$given "$dockerc" up 2>&1) && up_ok=1 || up_ok=0
check "up with no engine fails" test "$up_ok" = 0
check "saying so" grep -q "no Docker engine answers" <<<"$err"
check "up saved the given ADMIN_TOKEN in place of the old one" test "$(saved)" = "$given"
check "with one ADMIN_TOKEN line left" test "$(grep -c '^ADMIN_TOKEN=' "$env_file")" = 1
check "other lines of docker/.env stay" grep -qx 'OTHER=kept' "$env_file"
check "docker/.env is still readable by its owner only" test "$(stat -c %a "$env_file")" = 600
check "token now prints the given one" test "$(token)" = "$given"

for bad in short 'has space in it 0123' "$(printf 'x%.0s' {1..257})"; do
    if err=$(ADMIN_TOKEN=$bad "$dockerc" up 2>&1); then
        check "up with a bad ADMIN_TOKEN (${#bad} characters) is refused" false
    else
        check "up with a bad ADMIN_TOKEN (${#bad} characters) is refused in one line naming it" \
            grep -qx 'dockerc: ADMIN_TOKEN: .*expected' <<<"$err"
    fi
done
check "a refused token leaves the saved one" test "$(saved)" = "$given"

if ((failures > 0)); then
    printf '%d check(s) failed\n' "$failures"
    exit 1
fi
echo "all checks passed"

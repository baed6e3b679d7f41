#!/usr/bin/env bash
# End to end through Docker: ./dockerc.sh builds and starts the lab, then everything a user
# would check goes through the gateway on localhost:8001. Exits 77 (skipped) when no Docker
# engine answers. Tears the stack down whatever happens.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
base=${E2E_URL:-http://localhost:8001}
failures=0

say() { printf 'e2e: %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        say "ok   - $what"
    else
        say "FAIL - $what"
        failures=$((failures + 1))
    fi
}

if ! docker info >/dev/null 2>&1; then
    say "skipped: no Docker engine answers (run ../shared/tools/offline-docker.sh first)"
    exit 77
fi

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
else
    compose=(docker-compose)
fi
compose+=(-p circuitlab -f "$repo/docker/docker-compose.yaml")

cleanup() { "$repo/dockerc.sh" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$repo/dockerc.sh"

# The forecast through all three hops.
body=$(curl -fsS "$base/api/success-request")
days=$(grep -o '"temperatureC"' <<<"$body" | wc -l)
check "success-request returns 5 forecast items" test "$days" -eq 5

# 20 mustfail calls: 502s first, then the breaker sheds with 503 + Retry-After.
statuses=""
for _ in $(seq 20); do
    statuses+=$(curl -s -o /dev/null -w '%{http_code} ' "$base/api/mustfail-request")
done
say "mustfail statuses: $statuses"
check "mustfail gives 502 before the breaker opens" grep -q '502' <<<"$statuses"
check "mustfail gives 503 once the breaker is open" grep -q '503' <<<"$statuses"
headers=$(curl -s -D - -o /dev/null "$base/api/mustfail-request")
check "open breaker answers with Retry-After" grep -qi '^retry-after: [0-9]' <<<"$headers"
check "open breaker names itself in X-Circuit-Open" grep -qi '^x-circuit-open: ' <<<"$headers"

# One line per transition in the logs.
logs=$("${compose[@]}" logs --no-color 2>&1 | sed 's/\x1b\[2K//g')
check "a transition line is in docker compose logs" grep -q 'closed -> open (' <<<"$logs"

# The bypass reaches backline while the breaker is open.
bypass=$(curl -s "$base/api/mustfail-request?non_circuit_breaker=1")
check "bypass reaches backline" grep -q 'downstream failed' <<<"$bypass"

# Swagger UI and its assets, served by the binary with no internet.
for path in /api/schema/ /api/schema/swagger-ui/ /api/schema/swagger-ui/swagger-ui-bundle.js \
    /api/schema/swagger-ui/swagger-ui.css /api/schema/swagger-ui/swagger-initializer.js; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base$path")
    check "$path answers 200" test "$code" = 200
done

if [[ $failures -gt 0 ]]; then
    say "$failures check(s) failed; last logs:"
    tail -n 40 <<<"$logs"
    exit 1
fi
say "all checks passed"

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

up_output=$("$repo/dockerc.sh" 2>&1 | tee /dev/stderr)

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

# The admin token: made on the first run, kept in the git-ignored docker/.env, printed.
token=$("$repo/dockerc.sh" token)
say "admin token: ${#token} characters"
check "dockerc.sh made an admin token" test "${#token}" -ge 16
check "the token is kept in docker/.env, which git ignores" bash -c \
    'grep -qx "ADMIN_TOKEN=$1" "$2/docker/.env" && git -C "$2" check-ignore -q docker/.env' \
    _ "$token" "$repo"
check "dockerc.sh printed the token" grep -qF "$token" <<<"$up_output"

# Steering through the gateway: the control routes refuse without the token, act with it.
breaker=frontier-%3Emidline%5Bsuccess-request%5D
control() { # control TOKEN STATE : HTTP status of forcing the breaker to STATE
    curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
        -d "{\"state\":\"$2\"}" "$base/api/chain/breakers/$breaker/state"
}
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"state":"forced_open"}' \
    "$base/api/chain/breakers/$breaker/state")
check "forcing a breaker without the token is refused ($code)" test "$code" = 401
check "forcing a breaker with a wrong token is refused" test "$(control wrong-token-0123456789 forced_open)" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{"fail_rate":1}' "$base/api/chain/chaos")
check "chaos without the token is refused ($code)" test "$code" = 401
check "success-request still passes after the refusals" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/success-request")" = 200
check "forcing frontier->midline[success-request] open with the token" \
    test "$(control "$token" forced_open)" = 200
headers=$(curl -s -D - -o /dev/null "$base/api/success-request")
check "the forced-open breaker sheds success-request" \
    grep -qi '^x-circuit-open: frontier->midline\[success-request\]' <<<"$headers"
check "closing it with the token" test "$(control "$token" closed)" = 200
check "success-request passes again" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/success-request")" = 200

# Watching: the breakers of every hop, the metrics, the event stream and the dashboard.
chain=$(curl -s "$base/api/chain/breakers")
state_of() { # state_of BREAKER : its state in the /api/chain/breakers answer on stdin
    python3 -c 'import json, sys
print(*[b["state"] for h in json.load(sys.stdin)["hops"] for b in h["breakers"]
        if b["name"] == sys.argv[1]])' "$1"
}
check "/api/chain/breakers shows midline's mustfail breaker open" \
    test "$(state_of 'midline->backline[mustfail-request]' <<<"$chain")" = open
metrics=$(curl -s "$base/metrics")
check "/metrics has the resilience4j state gauge" \
    grep -q '^resilience4j_circuitbreaker_state{name="frontier->midline\[success-request\]",state="closed"} 1' <<<"$metrics"
events=$(curl -sN --max-time 3 "$base/api/events" || true)
check "/api/events streams outcomes through the gateway" grep -q '^event: outcomes' <<<"$events"
check "/dashboard/ answers 200" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$base/dashboard/")" = 200

# Swagger UI and its assets, served by the binary with no internet.
for path in /api/schema/ /api/schema/swagger-ui/ /api/schema/swagger-ui/swagger-ui-bundle.js \
    /api/schema/swagger-ui/swagger-ui.css /api/schema/swagger-ui/swagger-initializer.js; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base$path")
    check "$path answers 200" test "$code" = 200
done

# Hardening: every container non-root, read-only, no new privileges, no capabilities,
# bounded memory and processes; only the gateway publishes a port.
for service in backline midline frontier gateway; do
    id=$("${compose[@]}" ps -q "$service")
    facts=$(docker inspect -f '{{.Config.User}}|{{.HostConfig.ReadonlyRootfs}}|{{.HostConfig.CapDrop}}|{{.HostConfig.SecurityOpt}}|{{.HostConfig.Memory}}|{{.HostConfig.PidsLimit}}|{{len .HostConfig.PortBindings}}' "$id")
    IFS='|' read -r user readonly capdrop secopt memory pids published <<<"$facts"
    check "$service runs as a non-root user ($user)" test -n "$user" -a "$user" != root -a "$user" != 0
    check "$service has a read-only root fs" test "$readonly" = true
    check "$service drops every capability" grep -q ALL <<<"$capdrop"
    check "$service has no-new-privileges" grep -q no-new-privileges <<<"$secopt"
    check "$service has a memory and a pid limit" test "$memory" -gt 0 -a "${pids:-0}" -gt 0
    if [[ $service == gateway ]]; then
        check "gateway publishes its port" test "$published" -gt 0
    else
        check "$service publishes no port" test "$published" -eq 0
    fi
done

# The gateway: no version in headers, a request id made up when missing, JSON for its own
# errors (a malformed request, an oversized header or body).
headers=$(curl -s -D - -o /dev/null "$base/api/success-request")
check "gateway shows no version" bash -c '! grep -qi "^server: .*[0-9]" <<<"$1"' _ "$headers"
check "gateway sets X-Request-ID when missing" grep -qi '^x-request-id: [0-9a-z]' <<<"$headers"
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /tmp/e2e-body.$$ -w '%{http_code}' -H "X-Big: $big" "$base/healthz")
check "gateway answers an oversized header with 431 JSON ($code)" \
    bash -c '[[ $1 == 431 ]] && grep -q "\"error\"" "$2"' _ "$code" /tmp/e2e-body.$$
code=$(head -c 100000 /dev/zero | curl -s -o /tmp/e2e-body.$$ -w '%{http_code}' \
    --data-binary @- "$base/api/success-request")
check "gateway answers an oversized body with 413 JSON ($code)" \
    bash -c '[[ $1 == 413 ]] && grep -q "\"error\"" "$2"' _ "$code" /tmp/e2e-body.$$
rm -f /tmp/e2e-body.$$

# `docker compose stop` with requests in flight: each one finishes with a JSON 200, 502 or
# 503; none sees a reset or an empty reply (curl exit 52/56). timeout-request takes about a
# second (backline sleeps SLEEP=1 with chance SLOW_RATE), so requests are in flight when the
# stop begins. No new request starts once it has begun: a connection made then would reach
# Docker's port proxy after the gateway closed, which says nothing about the lab.
load_dir=$(mktemp -d)
for i in $(seq 8); do
    (
        while [[ ! -e $load_dir/stop ]]; do
            start=$(date +%s.%N)
            rc=0
            out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 \
                "$base/api/timeout-request?non_circuit_breaker=1") || rc=$?
            echo "$start $out $rc" >>"$load_dir/$i"
        done
    ) &
done
sleep 3
touch "$load_dir/stop"
stop_at=$(date +%s.%N)
"${compose[@]}" stop >/dev/null 2>&1
stop_took=$(awk -v a="$stop_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a }')
wait
# Lines: START STATUS TOTAL CURL_EXIT; in flight = ended after the stop began.
in_flight=$(cat "$load_dir"/[0-9]* | awk -v s="$stop_at" '$1 + $3 > s' | wc -l)
bad=$(cat "$load_dir"/[0-9]* | awk '$4 != 0 || ($2 != 200 && $2 != 502 && $2 != 503)')
say "requests: $(cat "$load_dir"/[0-9]* | wc -l), in flight when the stop began: $in_flight"
rm -rf "$load_dir"
check "docker compose stop took ${stop_took}s, within the 15 s grace" test "$stop_took" -le 20
check "requests were in flight when the stop began" test "$in_flight" -ge 1
check "every request finished with 200, 502 or 503, none reset: ${bad:-none}" test -z "$bad"
for service in backline midline frontier gateway; do
    status=$(docker inspect -f '{{.State.ExitCode}}' "$("${compose[@]}" ps -aq "$service")")
    check "$service exited 0 on stop, not killed after its grace ($status)" test "$status" = 0
done

"$repo/dockerc.sh" down >/dev/null 2>&1
left=$(docker ps -aq --filter label=com.docker.compose.project=circuitlab | wc -l)
check "docker compose down leaves no container" test "$left" -eq 0
check "docker compose down leaves no network" \
    bash -c '! docker network ls --format "{{.Name}}" | grep -q "^circuitlab_"'

if [[ $failures -gt 0 ]]; then
    say "$failures check(s) failed; last logs:"
    tail -n 40 <<<"$logs"
    exit 1
fi
say "all checks passed"

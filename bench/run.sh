#!/usr/bin/env bash
# run.sh - measure the lab against an all-Nginx chain, side by side in one run, with wrk.
#
# Builds circuitlab (Release, its own build dir, ccache), starts the lab without Docker
# (scripts/lab-local.sh: Nginx gateway + frontier + midline + backline) and the Nginx baselines
# (bench/nginx/*.conf.in: a 3-hop keep-alive chain and a 1-hop proxy to a `return 200`), warms
# up, then measures, alternating lab and baseline on every repeat so that a noisy neighbour hits
# both alike:
#   success   GET /api/success-request at each BENCH_CONNECTIONS: lab vs chain
#   reject    the edge breaker tripped open (mustfail-request): lab vs the 1-hop proxy
#   healthz   GET /healthz at the gateway, alone and during a storm of BENCH_STORM concurrent
#             timeout-request calls that bypass the breakers (so all of them wait for backline)
# and for every point: requests/s, p50, p99, non-2xx, socket errors, CPU seconds per request
# (all processes of the stack) and new upstream connections per 1000 requests in steady state
# (from `ss`, between 1 s into the run and 1 s before its end);
# RSS of each role idle, after the success points and at the end. Writes a Markdown report.
#
# Usage: bench/run.sh            full run: 10 s per point, 3 repeats (about 8 minutes)
#        BENCH_QUICK=1 bench/run.sh   smoke check: 2 s per point, 1 repeat (about 1 minute)
# Environment (all optional):
#   BENCH_DURATION      seconds per point (10; quick: 2)
#   BENCH_REPEATS       repeats per point (3; quick: 1)
#   BENCH_WARMUP        seconds of warm-up per stack (5; quick: 1)
#   BENCH_CONNECTIONS   wrk connections of the success points ("8 32 128")
#   BENCH_STORM         concurrent timeout-request calls of the storm (256)
#   BENCH_WRK_THREADS   wrk threads (2)
#   BENCH_OUT           report folder (bench/out/<UTC time>); report.md and raw wrk output
#   BENCH_BUILD_DIR     build folder (build-bench); CIRCUITLAB_BIN skips the build
#   LAB_GATEWAY_PORT, LAB_FRONTIER_PORT, LAB_MIDLINE_PORT, LAB_BACKLINE_PORT (25001-25004)
#   BASE_PORT_FIRST     first of the baseline ports (19001): chain gateway +0, its hops
#                       +100..+102, 1-hop gateway +3, its answering hop +400
#   NGINX_WORKERS       workers per baseline Nginx (1)
#   THREADS, LOG_LEVEL (warn), and the other lab settings pass through to the lab; the bench
#   sets CB_WAIT_IN_OPEN_MS (1 h) and UPSTREAM_MAX_CONCURRENT (BENCH_STORM + 64) unless given.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    DURATION=${BENCH_DURATION:-2} REPEATS=${BENCH_REPEATS:-1} WARMUP=${BENCH_WARMUP:-1}
else
    DURATION=${BENCH_DURATION:-10} REPEATS=${BENCH_REPEATS:-3} WARMUP=${BENCH_WARMUP:-5}
fi
CONNECTIONS=${BENCH_CONNECTIONS:-8 32 128}
STORM=${BENCH_STORM:-256}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
OUT=${BENCH_OUT:-$REPO/bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
NGINX_WORKERS=${NGINX_WORKERS:-1}

export LAB_GATEWAY_PORT=${LAB_GATEWAY_PORT:-25001}
export LAB_FRONTIER_PORT=${LAB_FRONTIER_PORT:-25002}
export LAB_MIDLINE_PORT=${LAB_MIDLINE_PORT:-25003}
export LAB_BACKLINE_PORT=${LAB_BACKLINE_PORT:-25004}
export LOG_LEVEL=${LOG_LEVEL:-warn}
# A tripped breaker must stay open through the rejection point.
export CB_WAIT_IN_OPEN_MS=${CB_WAIT_IN_OPEN_MS:-3600000}
# Room in the bulkhead for every call of the storm, so that all of them wait for backline (a
# timeout storm) instead of the excess turning into a flood of instant 503s.
export UPSTREAM_MAX_CONCURRENT=${UPSTREAM_MAX_CONCURRENT:-$((${BENCH_STORM:-256} + 64))}

BASE=${BASE_PORT_FIRST:-19001}
CHAIN_PORT=$BASE
CHAIN_HOPS=($((BASE + 100)) $((BASE + 101)) $((BASE + 102)))  # frontier, midline, backline
ONEHOP_PORT=$((BASE + 3))
ONEHOP_LEAF=$((BASE + 400))

# The five-day forecast the baseline's last hop answers: backline's shape and size.
FORECAST='[{"date":"04/12/2026","summary":"Mild","temperatureC":21},'
FORECAST+='{"date":"05/12/2026","summary":"Freezing","temperatureC":-3},'
FORECAST+='{"date":"06/12/2026","summary":"Cool","temperatureC":12},'
FORECAST+='{"date":"07/12/2026","summary":"Balmy","temperatureC":24},'
FORECAST+='{"date":"08/12/2026","summary":"Sweltering","temperatureC":38}]'

CLK_TCK=$(getconf CLK_TCK)
STORM_PID=""

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 2
}

# ------------------------------------------------------------------ settings

check_settings() {
    local name value
    for name in DURATION REPEATS WARMUP STORM WRK_THREADS NGINX_WORKERS BASE; do
        value=${!name}
        [[ $value =~ ^[0-9]+$ ]] && ((value >= 1)) ||
            die "$name must be a whole number >= 1, got '$value'"
    done
    for value in $CONNECTIONS; do
        [[ $value =~ ^[0-9]+$ ]] && ((value >= WRK_THREADS)) ||
            die "BENCH_CONNECTIONS must be numbers >= BENCH_WRK_THREADS, got '$value'"
    done
    ((BASE + 400 <= 65535)) || die "BASE_PORT_FIRST leaves no room for its ports, got $BASE"
}

need_tools() {
    command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
    [[ -x $NGINX_BIN ]] || die "no Nginx at $NGINX_BIN (apt-get install nginx-light)"
    command -v ss >/dev/null || die "ss is needed (apt-get install iproute2)"
    command -v wrk >/dev/null && return
    [[ $(id -u) == 0 ]] || die "wrk is needed: apt-get install wrk (as root)"
    say "installing wrk"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || die "cannot install wrk"
}

# ------------------------------------------------------------------ build

build() {
    if [[ -n ${CIRCUITLAB_BIN:-} ]]; then
        [[ -x $CIRCUITLAB_BIN ]] || die "CIRCUITLAB_BIN=$CIRCUITLAB_BIN is not an executable"
        return
    fi
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$REPO}
    local args=(-S "$REPO" -B "$REPO/$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCIRCUITLAB_TESTS=OFF)
    [[ -f $REPO/$BUILD_DIR/CMakeCache.txt ]] || args+=(-G Ninja)
    say "building circuitlab (Release) in $BUILD_DIR"
    cmake "${args[@]}" >"$OUT/build.log" 2>&1 || die "cmake failed; see $OUT/build.log"
    nice cmake --build "$REPO/$BUILD_DIR" --target circuitlab >>"$OUT/build.log" 2>&1 ||
        die "build failed; see $OUT/build.log"
    export CIRCUITLAB_BIN=$REPO/$BUILD_DIR/src/app/circuitlab
}

# ------------------------------------------------------------------ the lab

lab() { LAB_DIR=$OUT/lab "$REPO/scripts/lab-local.sh" "$@"; }

lab_pid() { head -n 1 "$OUT/lab/$1.pid"; }

start_lab() {
    say "starting the lab on :$LAB_GATEWAY_PORT (roles :$LAB_FRONTIER_PORT-:$LAB_BACKLINE_PORT)"
    lab start >"$OUT/lab-start.log" 2>&1 || {
        cat "$OUT/lab-start.log" >&2
        die "the lab did not start"
    }
}

# ------------------------------------------------------------------ the Nginx baselines

# name port template next-port: the baseline instances, leaves first.
BASELINES=(
    "chain-backline ${CHAIN_HOPS[2]} answer -"
    "chain-midline ${CHAIN_HOPS[1]} proxy ${CHAIN_HOPS[2]}"
    "chain-frontier ${CHAIN_HOPS[0]} proxy ${CHAIN_HOPS[1]}"
    "chain-gateway $CHAIN_PORT proxy ${CHAIN_HOPS[0]}"
    "onehop-leaf $ONEHOP_LEAF answer -"
    "onehop-gateway $ONEHOP_PORT proxy $ONEHOP_LEAF"
)

base_dir() { echo "$OUT/nginx/$1"; }

# The master's pid, if it is alive and runs our config.
base_pid() {
    local dir pid
    dir=$(base_dir "$1")
    [[ -s $dir/nginx.pid ]] || return 1
    pid=$(<"$dir/nginx.pid")
    [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *"$dir/nginx.conf"* ]] || return 1
    echo "$pid"
}

write_base_conf() { # name port template next
    local dir
    dir=$(base_dir "$1")
    mkdir -p "$dir/tmp"
    sed -e "s|@WORKERS@|$NGINX_WORKERS|g" -e "s|@DIR@|$dir|g" -e "s|@PORT@|$2|g" \
        -e "s|@NEXT_PORT@|$4|g" -e "s|@BODY@|$FORECAST|g" \
        "$REPO/bench/nginx/$3.conf.in" >"$dir/nginx.conf"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_baselines() {
    local entry name port template next
    say "starting the Nginx baselines: chain :$CHAIN_PORT, 1-hop :$ONEHOP_PORT"
    for entry in "${BASELINES[@]}"; do
        read -r name port template next <<<"$entry"
        port_busy "$port" && die "port $port ($name) is taken; set BASE_PORT_FIRST"
        write_base_conf "$name" "$port" "$template" "$next"
        "$NGINX_BIN" -p "$(base_dir "$name")/" -c "$(base_dir "$name")/nginx.conf" \
            -e "$(base_dir "$name")/error.log" || die "Nginx $name did not start"
    done
    for entry in "${BASELINES[@]}"; do
        read -r name _ <<<"$entry"
        for _ in $(seq 50); do
            base_pid "$name" >/dev/null && break
            sleep 0.1
        done
        base_pid "$name" >/dev/null || die "Nginx $name wrote no pid file"
    done
}

stop_baselines() {
    local i name pid
    for ((i = ${#BASELINES[@]} - 1; i >= 0; i--)); do
        read -r name _ <<<"${BASELINES[i]}"
        pid=$(base_pid "$name") || continue
        kill -QUIT "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
}

cleanup() {
    if [[ -n $STORM_PID ]]; then
        kill "$STORM_PID" 2>/dev/null || true
        wait "$STORM_PID" 2>/dev/null || true
    fi
    stop_baselines
    lab stop >/dev/null 2>&1 || true
}

# ------------------------------------------------------------------ process figures

# Pids of a stack: its masters or roles and their children (the Nginx workers).
stack_pids() {
    local roots=() pid name
    case $1 in
        lab)
            for name in frontier midline backline gateway; do
                roots+=("$(lab_pid "$name")")
            done
            ;;
        chain) for name in chain-gateway chain-frontier chain-midline chain-backline; do
            roots+=("$(base_pid "$name")")
        done ;;
        onehop) for name in onehop-gateway onehop-leaf; do
            roots+=("$(base_pid "$name")")
        done ;;
    esac
    for pid in "${roots[@]}"; do
        echo "$pid"
        ps -o pid= --ppid "$pid" || true
    done
}

cpu_ticks() { # total utime + stime of the pids on stdin
    local pid total=0 fields
    while read -r pid; do
        fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a stat <<<"$fields"
        total=$((total + stat[11] + stat[12]))
    done
    echo "$total"
}

# Client-side endpoints of every TCP connection to the upstream ports of a stack, one a line;
# a connection opened during a point shows up as a line that was not there before (closed
# ones linger in TIME-WAIT for a minute, longer than a point).
upstream_ports() {
    case $1 in
        lab) echo "$LAB_FRONTIER_PORT $LAB_MIDLINE_PORT $LAB_BACKLINE_PORT" ;;
        chain) echo "${CHAIN_HOPS[*]}" ;;
        onehop) echo "$ONEHOP_LEAF" ;;
    esac
}

connection_ends() {
    local ports
    ports=$(upstream_ports "$1")
    ss -Htan | awk -v ports="$ports" '
        BEGIN { n = split(ports, list, " "); for (i = 1; i <= n; i++) { want[list[i]] = 1 } }
        $1 == "LISTEN" { next }
        {
            lp = $4; sub(/.*:/, "", lp); rp = $5; sub(/.*:/, "", rp)
            if (rp in want) { print $4 "-" $5 } else if (lp in want) { print $5 "-" $4 }
        }' | sort -u
}

rss_kib() { awk '/^'"$2"':/ {print $2}' "/proc/$1/status"; }

# ------------------------------------------------------------------ wrk

# Turns wrk's output into: rps p50_ms p99_ms requests non2xx socket_errors
parse_wrk() {
    awk '
        function ms(text) {
            if (text ~ /us$/) { return substr(text, 1, length(text) - 2) / 1000 }
            if (text ~ /ms$/) { return substr(text, 1, length(text) - 2) + 0 }
            if (text ~ /s$/) { return substr(text, 1, length(text) - 1) * 1000 }
            return -1
        }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        / requests in / { requests = $1 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { errors = $4 + $6 + $8 + $10; gsub(/,/, "", errors) }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "%s %s %s %s %d %d\n", rps, p50, p99, requests, non2xx, errors }
    ' "$1"
}

# One measured run of wrk on a stack; appends a row to points.tsv.
# measure POINT STACK REPEAT CONNECTIONS URL [WRK_THREADS]
measure() {
    local point=$1 stack=$2 repeat=$3 conns=$4 url=$5 threads=${6:-$WRK_THREADS}
    local raw="$OUT/raw/$point-$stack-$repeat.txt" ticks_before ticks_after ends_before new
    local wrk_pid window=$((DURATION >= 4 ? DURATION - 2 : 0)) ends_after window_requests
    ticks_before=$(stack_pids "$stack" | cpu_ticks)
    ends_before=$(connection_ends "$stack")
    wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 5s --latency "$url" >"$raw" 2>&1 &
    wrk_pid=$!
    # New connections are counted in steady state: from 1 s into the run to 1 s before its
    # end, so that neither wrk opening its connections nor the requests it cuts off when it
    # stops (every hop then drops the connection of an unfinished call) are counted.
    if ((window > 0)); then
        sleep 1
        ends_before=$(connection_ends "$stack")
        sleep "$window"
        ends_after=$(connection_ends "$stack")
    fi
    wait "$wrk_pid" || die "wrk failed on $url; see $raw"
    ticks_after=$(stack_pids "$stack" | cpu_ticks)
    if ((window == 0)); then
        ends_after=$(connection_ends "$stack")
    fi
    new=$(comm -13 <(echo "$ends_before") <(echo "$ends_after") | wc -l)
    read -r rps p50 p99 requests non2xx errors < <(parse_wrk "$raw")
    window_requests=$(awk -v r="$rps" -v w="$window" -v n="$requests" \
        'BEGIN { printf "%d", (w > 0 ? r * w : n) }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$point" "$stack" \
        "$repeat" "$conns" "$rps" "$p50" "$p99" "$requests" "$non2xx" "$errors" \
        "$((ticks_after - ticks_before))" "$new" "$window_requests" >>"$OUT/points.tsv"
    say "$(printf '%-8s %-6s #%s c%-4s %9s req/s  p99 %7s ms  non-2xx %s  errors %s' \
        "$point" "$stack" "$repeat" "$conns" "$rps" "$p99" "$non2xx" "$errors")"
}

warm_up() { # URL
    wrk -t"$WRK_THREADS" -c128 -d"${WARMUP}s" --timeout 5s "$1" >/dev/null 2>&1 ||
        die "warm-up failed on $1"
}

# ------------------------------------------------------------------ points

lab_url() { echo "http://127.0.0.1:$LAB_GATEWAY_PORT$1"; }

check_answers() {
    local url
    for url in "$(lab_url /api/success-request)" \
        "http://127.0.0.1:$CHAIN_PORT/api/success-request" \
        "http://127.0.0.1:$ONEHOP_PORT/api/success-request"; do
        curl -fsS -m 5 -o /dev/null "$url" || die "no 200 from $url"
    done
}

success_points() {
    local conns repeat
    for conns in $CONNECTIONS; do
        for ((repeat = 1; repeat <= REPEATS; repeat++)); do
            measure success lab "$repeat" "$conns" "$(lab_url /api/success-request)"
            measure success chain "$repeat" "$conns" \
                "http://127.0.0.1:$CHAIN_PORT/api/success-request"
        done
    done
}

# Fails mustfail-request until frontier's own breaker answers: then the edge rejects.
trip_edge_breaker() {
    local headers
    for _ in $(seq 50); do
        headers=$(curl -sS -m 5 -o /dev/null -D - "$(lab_url /api/mustfail-request)")
        if [[ $headers == *"X-Circuit-Open: frontier->"* ]]; then
            return 0
        fi
    done
    die "frontier's breaker did not open after 50 calls to mustfail-request"
}

reject_points() {
    local repeat
    trip_edge_breaker
    for ((repeat = 1; repeat <= REPEATS; repeat++)); do
        measure reject lab "$repeat" 128 "$(lab_url /api/mustfail-request)"
        measure reject onehop "$repeat" 128 "http://127.0.0.1:$ONEHOP_PORT/api/success-request"
    done
}

start_storm() {
    local seconds=$((2 * REPEATS * (DURATION + 1) + 6))
    wrk -t1 -c"$STORM" -d"${seconds}s" --timeout 10s --latency \
        "$(lab_url '/api/timeout-request?non_circuit_breaker=1')" >"$OUT/raw/storm.txt" 2>&1 &
    STORM_PID=$!
    sleep 3  # every storm connection has its call in flight
}

healthz_points() {
    local repeat url
    url=$(lab_url /healthz)
    for ((repeat = 1; repeat <= REPEATS; repeat++)); do
        measure healthz lab "$repeat" 4 "$url" 1
    done
    start_storm
    for ((repeat = 1; repeat <= REPEATS; repeat++)); do
        measure storm lab "$repeat" 4 "$url" 1
        # The gateway's own answer, which never reaches frontier: the machine's noise floor.
        measure storm-gw lab "$repeat" 4 "$(lab_url /_gateway/healthz)" 1
    done
    wait "$STORM_PID" || true
    STORM_PID=""
}

# ------------------------------------------------------------------ report

record_rss() { # label
    local role
    for role in frontier midline backline; do
        printf '%s\t%s\t%s\t%s\n' "$1" "$role" "$(rss_kib "$(lab_pid "$role")" VmRSS)" \
            "$(rss_kib "$(lab_pid "$role")" VmHWM)" >>"$OUT/rss.tsv"
    done
}

# One line per point and stack: median and min-max over the repeats.
summarize() {
    sort -t$'\t' -k1,1 -k4,4n -k2,2 "$OUT/points.tsv" | awk -F'\t' -v tck="$CLK_TCK" '
        function median(list, n,    sorted, i, j, t) {
            for (i = 1; i <= n; i++) { sorted[i] = list[i] }
            for (i = 2; i <= n; i++) {
                for (j = i; j > 1 && sorted[j - 1] > sorted[j]; j--) {
                    t = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = t
                }
            }
            lo = sorted[1]; hi = sorted[n]
            return n % 2 ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
        }
        function flush() {
            if (n == 0) { return }
            m = median(rps, n); rlo = lo; rhi = hi
            p = median(p99, n); plo = lo; phi = hi
            printf "%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.1f\t%.2f\n",
                key_point, key_stack, key_conns, m, rlo, rhi, p, plo, phi, bad, errs,
                (reqs ? ticks / tck / reqs * 1e6 : 0), (window ? conns_new * 1000 / window : 0)
            n = 0; bad = 0; errs = 0; reqs = 0; ticks = 0; conns_new = 0; window = 0
        }
        {
            key = $1 "/" $2 "/" $4
            if (key != last) { flush(); last = key; key_point = $1; key_stack = $2; key_conns = $4 }
            n++; rps[n] = $5; p99[n] = $7
            reqs += $8; bad += $9; errs += $10; ticks += $11; conns_new += $12; window += $13
        }
        END { flush() }
    '
}

machine() {
    echo "- CPU: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "- memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)," \
        "kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "- $("$NGINX_BIN" -v 2>&1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)," \
        "circuitlab $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "- lab: THREADS=${THREADS:-cores}, LOG_LEVEL=$LOG_LEVEL; baseline: $NGINX_WORKERS Nginx" \
        "worker per hop; wrk -t$WRK_THREADS, ${DURATION} s per point, $REPEATS repeats"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

report_points() {
    echo "| point | stack | conns | req/s median (min-max) | p99 ms median (min-max) |" \
        "non-2xx | socket errors | CPU µs/request | new upstream conns/1000 req |"
    echo "|---|---|---|---|---|---|---|---|---|"
    summarize | while IFS=$'\t' read -r point stack conns m lo hi p plo phi bad errs cpu newc; do
        echo "| $point | $stack | $conns | $m ($lo-$hi) | $p ($plo-$phi) | $bad | $errs |" \
            "$cpu | $newc |"
    done
}

field() { # point stack conns column(1-based in summarize output)
    summarize | awk -F'\t' -v p="$1" -v s="$2" -v c="$3" -v f="$4" \
        '$1 == p && $2 == s && $3 == c { print $f }'
}

verdict() { [[ $1 == 1 ]] && echo "met" || echo "**missed**"; }

report_targets() {
    local conns lab chain lab_p99 chain_p99 bad ok
    echo "| target | figure | verdict |"
    echo "|---|---|---|"
    for conns in $CONNECTIONS; do
        lab=$(field success lab "$conns" 4) chain=$(field success chain "$conns" 4)
        lab_p99=$(field success lab "$conns" 7) chain_p99=$(field success chain "$conns" 7)
        bad=$(($(field success lab "$conns" 10) + $(field success lab "$conns" 11)))
        ok=$(awk -v r="$(ratio "$lab" "$chain")" -v a="$lab_p99" -v b="$chain_p99" -v bad="$bad" \
            'BEGIN { print ((r >= 1.0 && a <= b && bad == 0) ? 1 : 0) }')
        echo "| success c$conns >= 1.0x chain, p99 no worse, all 2xx |" \
            "$(ratio "$lab" "$chain")x ($lab vs $chain req/s), p99 $lab_p99 vs $chain_p99 ms," \
            "$bad non-2xx/errors | $(verdict "$ok") |"
    done
    lab=$(field reject lab 128 4) chain=$(field reject onehop 128 4)
    ok=$(awk -v r="$(ratio "$lab" "$chain")" 'BEGIN { print (r >= 0.8 ? 1 : 0) }')
    echo "| rejections >= 0.8x 1-hop return 200 | $(ratio "$lab" "$chain")x ($lab vs $chain" \
        "req/s) | $(verdict "$ok") |"
    lab_p99=$(field storm lab 4 7)
    ok=$(awk -v a="$lab_p99" 'BEGIN { print (a < 10 ? 1 : 0) }')
    echo "| /healthz p99 < 10 ms during a $STORM-call storm | $lab_p99 ms (Nginx answering" \
        "alone meanwhile: $(field storm-gw lab 4 7) ms) | $(verdict "$ok") |"
    report_rss_targets
    bad=$(summarize | awk -F'\t' '
        $2 == "lab" && ($1 == "success" || $1 == "reject") { if ($13 > m) m = $13 }
        END { printf "%.2f", m }')
    ok=$(awk -v a="$bad" 'BEGIN { print (a < 1 ? 1 : 0) }')
    echo "| pooled upstream connections reused | at most $bad new per 1000 requests |" \
        "$(verdict "$ok") |"
}

report_rss_targets() {
    local idle peak ok
    idle=$(awk -F'\t' '$1 == "idle" { if ($3 > m) m = $3 } END { print m / 1024 }' "$OUT/rss.tsv")
    peak=$(awk -F'\t' '$1 == "after-success" { if ($4 > m) m = $4 } END { print m / 1024 }' \
        "$OUT/rss.tsv")
    ok=$(awk -v a="$idle" 'BEGIN { print (a < 15 ? 1 : 0) }')
    echo "| RSS per role < 15 MiB idle | largest $(printf '%.1f' "$idle") MiB | $(verdict "$ok") |"
    ok=$(awk -v a="$peak" 'BEGIN { print (a < 30 ? 1 : 0) }')
    echo "| RSS per role < 30 MiB at 128 connections | largest peak $(printf '%.1f' "$peak")" \
        "MiB | $(verdict "$ok") |"
}

report_rss() {
    echo "| when | role | RSS MiB | peak RSS (VmHWM) MiB |"
    echo "|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %.1f | %.1f |\n", $1, $2, $3 / 1024, $4 / 1024 }' \
        "$OUT/rss.tsv"
}

report_storm() {
    local line
    line=$(parse_wrk "$OUT/raw/storm.txt")
    read -r rps p50 p99 requests non2xx errors <<<"$line"
    echo "The storm: wrk -c$STORM on timeout-request?non_circuit_breaker=1" \
        "(SLOW_RATE ${SLOW_RATE:-0.7}, SLEEP ${SLEEP:-1} s," \
        "UPSTREAM_TIMEOUT_MS ${UPSTREAM_TIMEOUT_MS:-1000}):" \
        "$requests answers, $non2xx non-2xx, $errors socket errors, p99 $p99 ms."
}

write_report() {
    {
        echo "# circuitlab bench, $(date -u '+%F %H:%M') UTC"
        echo
        machine
        echo "- load (uptime) at start: $LOAD_START"
        echo "- load (uptime) at end:   $(uptime)"
        echo
        echo "## Targets"
        echo
        report_targets
        echo
        echo "## Points"
        echo
        echo "success: GET /api/success-request; reject: lab = /api/mustfail-request with" \
            "frontier's breaker open (503), onehop = Nginx proxy to a \`return 200\`; healthz:" \
            "GET /healthz at the gateway (wrk -t1 -c4), storm: the same during the storm," \
            "storm-gw: the gateway's own /_gateway/healthz during the storm (no frontier)."
        echo "CPU counts every process of the stack (roles, Nginx masters and workers), not wrk."
        echo
        report_points
        echo
        report_storm
        echo
        echo "## Memory of the roles"
        echo
        report_rss
    } >"$OUT/report.md"
}

# ------------------------------------------------------------------ main

main() {
    check_settings
    need_tools
    mkdir -p "$OUT/raw"
    OUT=$(cd "$OUT" && pwd)
    : >"$OUT/points.tsv"
    : >"$OUT/rss.tsv"
    LOAD_START=$(uptime)
    build
    trap cleanup EXIT
    start_baselines
    start_lab
    check_answers
    sleep 1
    record_rss idle

    say "warming up (${WARMUP} s per stack)"
    warm_up "$(lab_url /api/success-request)"
    warm_up "http://127.0.0.1:$CHAIN_PORT/api/success-request"
    warm_up "http://127.0.0.1:$ONEHOP_PORT/api/success-request"

    success_points
    record_rss after-success
    reject_points
    healthz_points
    record_rss end

    write_report
    cat "$OUT/report.md"
    say "report: $OUT/report.md"
}

main "$@"

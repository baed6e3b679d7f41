#!/usr/bin/env bash
# lab-local.sh - run the lab without Docker: backline, midline and frontier as local processes
# behind a host Nginx built from configs/nginx.conf. The integration tests use it too.
#
# Usage: scripts/lab-local.sh start            (re)start everything, wait for health
#        scripts/lab-local.sh stop [ROLE]      stop everything, or one role
#        scripts/lab-local.sh restart [ROLE]   restart everything, or one role
#        scripts/lab-local.sh status           one line per role; exit 1 unless all are up
#   ROLE: frontier | midline | backline | gateway
#
# Environment (all optional):
#   LAB_DIR              run directory: pid files, logs, Nginx config and temp (default REPO/.lab)
#   LAB_GATEWAY_PORT     Nginx port (8001)
#   LAB_FRONTIER_PORT    8101;  LAB_MIDLINE_PORT 8102;  LAB_BACKLINE_PORT 8103
#   CIRCUITLAB_BIN       the binary (default REPO/build/src/app/circuitlab, built if missing)
#   NGINX_BIN            Nginx (default /usr/sbin/nginx, from Debian's nginx-light)
#   LAB_START_TIMEOUT    seconds to wait for every /healthz (20)
#   LAB_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL (5)
#   LAB_KEEP_ON_FAILURE  1: leave the processes running when start fails (default: stop them)
# Everything else in the environment (FAIL_RATE, SLOW_RATE, SLEEP, UPSTREAM_TIMEOUT_MS, CB_*,
# LOG_LEVEL, ...) passes through to the three processes. Each one listens on 127.0.0.1 and
# is told its neighbours' addresses through FRONTIER_DOMAIN, MIDLINE_DOMAIN, BACKLINE_DOMAIN.
#
# Logs: LAB_DIR/<role>.log (gateway.log is Nginx's error log), LAB_DIR/gateway-access.log.
# Two stacks can run side by side with different LAB_DIR and ports.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/.lab}
GATEWAY_PORT=${LAB_GATEWAY_PORT:-8001}
FRONTIER_PORT=${LAB_FRONTIER_PORT:-8101}
MIDLINE_PORT=${LAB_MIDLINE_PORT:-8102}
BACKLINE_PORT=${LAB_BACKLINE_PORT:-8103}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
START_TIMEOUT=${LAB_START_TIMEOUT:-20}
STOP_TIMEOUT=${LAB_STOP_TIMEOUT:-5}

SERVICES=(backline midline frontier)  # start order: each one's upstream comes first
ALL_ROLES=(backline midline frontier gateway)

say() { printf 'lab-local: %s\n' "$*"; }
die() {
    printf 'lab-local: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
    exit "${1:-0}"
}

# ------------------------------------------------------------------ settings

check_settings() {
    local name value
    for name in GATEWAY_PORT FRONTIER_PORT MIDLINE_PORT BACKLINE_PORT; do
        value=${!name}
        if ! [[ $value =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
            die "LAB_$name must be a port number (1-65535), got '$value'"
        fi
    done
    for name in START_TIMEOUT STOP_TIMEOUT; do
        [[ ${!name} =~ ^[0-9]+$ ]] || die "LAB_$name must be whole seconds, got '${!name}'"
    done
    # The path ends up in nginx.conf, where quotes, '$' and ';' mean something.
    [[ $LAB_DIR =~ ^[-A-Za-z0-9._/@+=:,\ ]+$ ]] ||
        die "LAB_DIR has characters Nginx paths cannot take: '$LAB_DIR'"
}

port_of() {
    case $1 in
        frontier) echo "$FRONTIER_PORT" ;;
        midline) echo "$MIDLINE_PORT" ;;
        backline) echo "$BACKLINE_PORT" ;;
        gateway) echo "$GATEWAY_PORT" ;;
    esac
}

is_role() {
    case ${1:-} in
        frontier | midline | backline | gateway) return 0 ;;
        *) return 1 ;;
    esac
}

pid_file() { echo "$LAB_DIR/$1.pid"; }
log_file() { echo "$LAB_DIR/$1.log"; }

# /healthz of the role; through the gateway it proves the proxy path to frontier too.
health_url() { echo "http://127.0.0.1:$(port_of "$1")/healthz"; }

# Liveness of the role itself on PORT: the gateway's own endpoint does not depend on frontier.
live_url() { # live_url ROLE PORT
    if [[ $1 == gateway ]]; then
        echo "http://127.0.0.1:$2/_gateway/healthz"
    else
        echo "http://127.0.0.1:$2/healthz"
    fi
}

# ------------------------------------------------------------------ processes

# A pid file holds the PID, the port, and a piece of the command line that only our process
# has. A PID is signalled only while /proc/PID/cmdline still contains that piece, so a recycled
# PID is never hit. The port is kept so that status and stop need no LAB_*_PORT settings.
owns() {
    local pid=$1 marker=$2 cmdline
    [[ $pid =~ ^[0-9]+$ && -n $marker ]] || return 1
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ $cmdline == *"$marker"* ]] && return 0
    # Nginx rewrites its command line (the process title) just after it starts; a read in
    # the middle of that sees neither form, so look once more before saying it is gone.
    sleep 0.05
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ $cmdline == *"$marker"* ]]
}

read_pid_file() { # read_pid_file ROLE -> sets PID, PORT and MARKER; fails if no file
    local file
    file=$(pid_file "$1")
    PID="" PORT="" MARKER=""
    [[ -f $file ]] || return 1
    { read -r PID && read -r PORT && read -r MARKER; } <"$file" || true
}

write_pid_file() { # write_pid_file ROLE PID MARKER
    printf '%s\n%s\n%s\n' "$2" "$(port_of "$1")" "$3" >"$(pid_file "$1")"
}

running_pid() { # prints the PID if the role runs, else fails
    read_pid_file "$1" || return 1
    owns "$PID" "$MARKER" || return 1
    echo "$PID"
}

stop_role() {
    local role=$1 waited=0
    read_pid_file "$role" || return 0

    if ! owns "$PID" "$MARKER"; then
        say "$role: not running (removing stale pid file)"
        rm -f -- "$(pid_file "$role")"
        return 0
    fi

    kill -TERM "$PID" 2>/dev/null || true
    # A zombie child has an empty cmdline, so owns() also ends the wait for those.
    while owns "$PID" "$MARKER" && ((waited < STOP_TIMEOUT * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    if owns "$PID" "$MARKER"; then
        say "$role: still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
        kill -KILL "$PID" 2>/dev/null || true
    fi
    say "stopped $role (pid $PID)"
    rm -f -- "$(pid_file "$role")"
}

stop_all() {
    local i
    for ((i = ${#ALL_ROLES[@]} - 1; i >= 0; i--)); do
        stop_role "${ALL_ROLES[i]}"
    done
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_port_free() {
    local role=$1 port
    port=$(port_of "$role")
    if port_busy "$port"; then
        die "port $port ($role) is taken by another process; set LAB_${role^^}_PORT"
    fi
}

# ------------------------------------------------------------------ circuitlab

find_binary() {
    if [[ -n ${CIRCUITLAB_BIN:-} ]]; then
        [[ -x $CIRCUITLAB_BIN ]] || die "CIRCUITLAB_BIN=$CIRCUITLAB_BIN is not an executable"
        BIN=$(realpath -- "$CIRCUITLAB_BIN")
        return
    fi

    BIN=$REPO/build/src/app/circuitlab
    [[ -x $BIN ]] && return
    say "no $BIN yet; building it"
    if [[ ! -f $REPO/build/CMakeCache.txt ]]; then
        cmake -S "$REPO" -B "$REPO/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
    fi
    cmake --build "$REPO/build" --target circuitlab
    [[ -x $BIN ]] || die "the build did not produce $BIN"
}

start_service() {
    local role=$1 args
    args=(--role "$role" --listen "127.0.0.1:$(port_of "$role")")
    echo "=== $(date '+%F %T') lab-local: starting $role" >>"$(log_file "$role")"

    # 9>&- : the children must not inherit the lock on LAB_DIR.
    FRONTIER_DOMAIN=http://127.0.0.1:$FRONTIER_PORT \
        MIDLINE_DOMAIN=http://127.0.0.1:$MIDLINE_PORT \
        BACKLINE_DOMAIN=http://127.0.0.1:$BACKLINE_PORT \
        "$BIN" "${args[@]}" </dev/null >>"$(log_file "$role")" 2>&1 9>&- &
    write_pid_file "$role" "$!" "${args[*]}"
    disown "$!"  # no "Killed" job notices from this shell
}

# ------------------------------------------------------------------ nginx

# Rewrites every line of configs/nginx.conf that ends in `# @lab:<name>`; fails if a marker is
# missing or unknown, so a change to the shared file cannot silently break this copy.
write_nginx_conf() {
    local out=$1 user_line=""
    # Workers run as the launching user: the run dir need not be reachable by www-data.
    if [[ $(id -u) == 0 ]]; then
        user_line="user root;"
    fi

    LAB_USER=$user_line \
        LAB_PID="pid \"$LAB_DIR/nginx/nginx.pid\";" \
        LAB_ERROR_LOG="error_log \"$(log_file gateway)\" warn;" \
        LAB_ACCESS_LOG="access_log \"$LAB_DIR/gateway-access.log\" lab buffer=64k flush=1s;" \
        LAB_UPSTREAM="server 127.0.0.1:$FRONTIER_PORT;" \
        LAB_LISTEN="listen 127.0.0.1:$GATEWAY_PORT;" \
        LAB_TEMP_DIR="$LAB_DIR/nginx/tmp" \
        awk -f - "$REPO/configs/nginx.conf" >"$out" <<'AWK'
BEGIN {
    split("user pid error_log access_log upstream listen temp", names, " ")
    for (i in names) { wanted[names[i]] = 1 }
}
match($0, /# @lab:[a-z_]+[ \t]*$/) {
    name = substr($0, RSTART + 7, RLENGTH - 7)
    sub(/[ \t]+$/, "", name)
    indent = $0
    sub(/[^ \t].*$/, "", indent)
    if (!(name in wanted)) {
        printf "unknown marker @lab:%s on line %d\n", name, NR > "/dev/stderr"
        bad = 1
    }
    seen[name]++
    if (name == "temp") {
        path = $2
        sub(/;$/, "", path)
        n = split(path, parts, "/")
        line = $1 " \"" ENVIRON["LAB_TEMP_DIR"] "/" parts[n] "\";"
    } else {
        line = ENVIRON["LAB_" toupper(name)]
    }
    if (line == "") {
        line = "# (not used by lab-local.sh)"
    }
    print indent line "  # @lab:" name
    next
}
{ print }
END {
    for (name in wanted) {
        if (!(name in seen)) {
            printf "marker @lab:%s not found\n", name > "/dev/stderr"
            bad = 1
        }
    }
    exit bad
}
AWK
}

start_gateway() {
    local conf=$LAB_DIR/nginx/nginx.conf
    [[ -x $NGINX_BIN ]] || die "no Nginx at $NGINX_BIN (apt-get install nginx-light)"
    mkdir -p "$LAB_DIR/nginx/tmp"

    write_nginx_conf "$conf.new" || die "could not derive $conf from configs/nginx.conf"
    mv -f -- "$conf.new" "$conf"
    echo "=== $(date '+%F %T') lab-local: starting gateway" >>"$(log_file gateway)"
    if ! "$NGINX_BIN" -t -q -p "$LAB_DIR/nginx/" -c "$conf" >>"$(log_file gateway)" 2>&1; then
        tail -n 20 -- "$(log_file gateway)" >&2
        die "nginx -t rejected $conf"
    fi

    "$NGINX_BIN" -p "$LAB_DIR/nginx/" -c "$conf" -g 'daemon off;' \
        </dev/null >>"$(log_file gateway)" 2>&1 9>&- &
    write_pid_file gateway "$!" "-c $conf"
    disown "$!"
}

start_role() {
    check_port_free "$1"
    if [[ $1 == gateway ]]; then
        start_gateway
    else
        start_service "$1"
    fi
}

# ------------------------------------------------------------------ health

fail_start() {
    local role=$1 why=$2
    printf 'lab-local: %s %s; last lines of %s:\n' "$role" "$why" "$(log_file "$role")" >&2
    tail -n 40 -- "$(log_file "$role")" >&2 || true
    if [[ ${LAB_KEEP_ON_FAILURE:-0} != 1 ]]; then
        stop_all >&2
    fi
    exit 1
}

wait_healthy() {
    local deadline=$((SECONDS + START_TIMEOUT)) role
    for role in "$@"; do
        until curl -fsS -o /dev/null --max-time 1 "$(health_url "$role")" 2>/dev/null; do
            running_pid "$role" >/dev/null || fail_start "$role" "exited during start-up"
            ((SECONDS < deadline)) || fail_start "$role" "not healthy after ${START_TIMEOUT}s"
            sleep 0.2
        done
        # Something else answering on the port must not pass for our process.
        running_pid "$role" >/dev/null || fail_start "$role" "exited during start-up"
    done
}

print_urls() {
    local base=http://127.0.0.1:$GATEWAY_PORT
    cat <<EOF
Circuit Breaker Lab is up (run dir: $LAB_DIR)
  $base/api/success-request
  $base/api/timeout-request
  $base/api/mustfail-request
  $base/api/schema/
  $base/api/schema/swagger-ui/
  roles: frontier :$FRONTIER_PORT  midline :$MIDLINE_PORT  backline :$BACKLINE_PORT
Logs:  tail -F $LAB_DIR/*.log
Stop:  $0 stop
EOF
}

# ------------------------------------------------------------------ commands

cmd_start() {
    local role
    stop_all
    find_binary
    for role in "${ALL_ROLES[@]}"; do
        check_port_free "$role"
    done

    for role in "${SERVICES[@]}"; do
        start_role "$role"
    done
    wait_healthy "${SERVICES[@]}"
    start_role gateway
    wait_healthy gateway
    print_urls
}

cmd_restart_role() {
    local role=$1
    stop_role "$role"
    if [[ $role != gateway ]]; then
        find_binary
    fi
    start_role "$role"
    wait_healthy "$role"
    say "$role is up on 127.0.0.1:$(port_of "$role")"
}

cmd_status() {
    local role health all_up=0
    for role in "${ALL_ROLES[@]}"; do
        if read_pid_file "$role" && owns "$PID" "$MARKER"; then
            health=unhealthy
            if curl -fsS -o /dev/null --max-time 1 "$(live_url "$role" "$PORT")" 2>/dev/null; then
                health=healthy
            fi
            printf '%-9s running  pid %-8s 127.0.0.1:%-5s %s\n' \
                "$role" "$PID" "$PORT" "$health"
            [[ $health == healthy ]] || all_up=1
        else
            printf '%-9s stopped\n' "$role"
            all_up=1
        fi
    done
    return "$all_up"
}

main() {
    local cmd=${1:-} role=${2:-}
    case $cmd in
        -h | --help | help) usage 0 ;;
        start | stop | restart | status) ;;
        *) usage 2 >&2 ;;
    esac
    if [[ -n $role ]] && ! is_role "$role"; then
        die "unknown role '$role' (frontier, midline, backline or gateway)"
    fi
    [[ $cmd == start && -n $role ]] && die "start takes no role; use: restart $role"

    check_settings
    command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
    mkdir -p -- "$LAB_DIR"
    LAB_DIR=$(cd -- "$LAB_DIR" && pwd)

    # One command at a time per run dir.
    exec 9>"$LAB_DIR/.lock"
    flock -w 60 9 || die "another lab-local.sh is busy with $LAB_DIR"

    case $cmd in
        start) cmd_start ;;
        stop) if [[ -n $role ]]; then stop_role "$role"; else stop_all; fi ;;
        restart) if [[ -n $role ]]; then cmd_restart_role "$role"; else cmd_start; fi ;;
        status) cmd_status ;;
    esac
}

main "$@"

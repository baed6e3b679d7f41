#!/usr/bin/env bash
# dockerc.sh - run the lab in Docker: backline, midline, frontier and the Nginx gateway on
# http://localhost:8001. Works with Compose v2 (`docker compose`) and v1.29 (`docker-compose`).
#
# Usage: ./dockerc.sh [up]    build the images, replace a running stack, start, wait for health
#        ./dockerc.sh down    stop and remove the stack
#        ./dockerc.sh logs    follow the logs of every service
#        ./dockerc.sh ps      list the containers and their health
#        ./dockerc.sh token   print the saved admin token, the one `up` started the services
#                             with (made on first use)
#
# The admin token: on first use a random one is made and kept in docker/.env (git-ignored,
# readable by its owner only), where Compose finds it for every later `up`, including a
# plain `docker compose ... up -d backline`. ADMIN_TOKEN in the environment wins over it at
# `up`, and replaces it there.
#
# Environment (all optional):
#   FAIL_RATE, SLOW_RATE, SLEEP, UPSTREAM_TIMEOUT_MS, CB_*, LOG_LEVEL, LOG_FORMAT, ...
#                   settings of the services (see docker/docker-compose.yaml)
#   ADMIN_TOKEN     the admin token for this run (16 to 256 of A-Z a-z 0-9 . _ ~ + / = -)
#   DOCKERC_WAIT    seconds to wait for every service to be healthy (default 120)
#   DOCKERC_BUILD   0: skip the build and use the images already there (default 1)
#
# No Docker engine? As root, ../shared/tools/offline-docker.sh (run here when it is there)
# installs and starts one from Debian's archive; or run the same lab as local processes:
# scripts/lab-local.sh start
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
PROJECT=circuitlab
FILE=docker/docker-compose.yaml
SERVICES=(backline midline frontier gateway)
WAIT=${DOCKERC_WAIT:-120}
BASE_URL=http://localhost:8001
ENV_FILE=docker/.env

say() { printf 'dockerc: %s\n' "$*"; }
die() {
    printf 'dockerc: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
    exit "${1:-0}"
}

# Compose 2.26 writes ESC[2K before each log line even with --no-color.
# Unbuffered, so followed logs go through at once.
strip_escapes() { sed -u 's/\x1b\[2K//g'; }

no_engine() {
    local helper=../shared/tools/offline-docker.sh
    [[ -x $helper ]] || helper="offline-docker.sh (from the shared tools)"
    die "no Docker engine answers; start one (as root: $helper) or run without Docker: scripts/lab-local.sh start"
}

detect_compose() {
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
        COMPOSE_NAME="Compose v2 ($(docker compose version --short 2>/dev/null || echo '?'))"
    elif command -v docker-compose >/dev/null && docker-compose version >/dev/null 2>&1; then
        COMPOSE=(docker-compose)
        COMPOSE_NAME="Compose v1 ($(docker-compose version --short 2>/dev/null || echo '?'))"
    else
        die "neither 'docker compose' nor 'docker-compose' works; install Compose (apt-get install docker-compose)"
    fi
    COMPOSE_CMD="${COMPOSE[*]} -p $PROJECT -f $FILE"
}

compose() { "${COMPOSE[@]}" -p "$PROJECT" -f "$FILE" "$@"; }

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

# On a machine with no registry the shared helper installs and starts Docker from Debian and
# seeds the base images; it is idempotent, so it runs whenever no engine answers.
check_engine() {
    local helper=../shared/tools/offline-docker.sh
    engine_answers && return 0
    if [[ -x $helper && $(id -u) == 0 ]]; then
        say "no Docker engine answers; starting one with $helper"
        "$helper" >&2 || die "$helper failed (see above)"
        engine_answers && return 0
    fi
    no_engine
}

# The token kept in ENV_FILE; empty when there is none.
saved_token() {
    [[ -f $ENV_FILE ]] || return 0
    sed -n 's/^ADMIN_TOKEN=//p' "$ENV_FILE" | tail -n 1
}

# save_token TOKEN: ENV_FILE holds TOKEN as its only ADMIN_TOKEN line, other lines kept.
save_token() {
    (
        umask 077
        local rest=""
        if [[ -f $ENV_FILE ]]; then
            rest=$(grep -v '^ADMIN_TOKEN=' "$ENV_FILE" || true)
        fi
        {
            [[ -n $rest ]] && printf '%s\n' "$rest"
            printf 'ADMIN_TOKEN=%s\n' "$1"
        } >"$ENV_FILE.tmp" && mv "$ENV_FILE.tmp" "$ENV_FILE"
    ) || die "cannot write $ENV_FILE"
}

# Sets and exports ADMIN_TOKEN: from the environment (then also saved, so ENV_FILE always
# holds the token the services run with), else the saved one, else a new random one (128
# bits, hex). TOKEN_FROM says which.
ensure_token() {
    local saved
    saved=$(saved_token)
    if [[ -n ${ADMIN_TOKEN:-} ]]; then
        # The binary's rule (src/ops/config.cpp), checked here before anything is built.
        [[ $ADMIN_TOKEN =~ ^[A-Za-z0-9._~+/=-]{16,256}$ ]] ||
            die "ADMIN_TOKEN: 16 to 256 of A-Z a-z 0-9 . _ ~ + / = - expected"
        TOKEN_FROM="ADMIN_TOKEN from the environment, kept in $ENV_FILE"
        [[ $ADMIN_TOKEN == "$saved" ]] || save_token "$ADMIN_TOKEN"
    elif [[ -n $saved ]]; then
        ADMIN_TOKEN=$saved
        TOKEN_FROM="kept in $ENV_FILE"
    else
        ADMIN_TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
        [[ ${#ADMIN_TOKEN} == 32 ]] || die "could not read 16 random bytes from /dev/urandom"
        save_token "$ADMIN_TOKEN"
        TOKEN_FROM="new, kept in $ENV_FILE"
    fi
    export ADMIN_TOKEN
}

# `token`: the saved token, the one the services were started with. With none saved yet it
# is the one `up` would take (ADMIN_TOKEN, else a new one), saved now. A different
# ADMIN_TOKEN in the environment replaces nothing here: only `up` does that.
print_token() {
    local saved
    saved=$(saved_token)
    if [[ -z $saved ]]; then
        ensure_token
        printf '%s\n' "$ADMIN_TOKEN"
        return
    fi
    if [[ -n ${ADMIN_TOKEN:-} && $ADMIN_TOKEN != "$saved" ]]; then
        say "ADMIN_TOKEN in your environment is not the saved one printed here;" \
            "./dockerc.sh (up) would start the services with it and save it" >&2
    fi
    printf '%s\n' "$saved"
}

# healthy | starting | unhealthy | exited | missing ... for one service's container.
service_state() {
    local id
    id=$(compose ps -a -q "$1" 2>/dev/null | head -n 1)
    if [[ -z $id ]]; then
        echo missing
        return
    fi
    docker inspect -f \
        '{{if ne .State.Status "running"}}{{.State.Status}}{{else if .State.Health}}{{.State.Health.Status}}{{else}}running{{end}}' \
        "$id" 2>/dev/null || echo missing
}

show_failure() {
    local svc state
    say "the stack did not become healthy; containers:"
    compose ps -a 2>&1 | strip_escapes || true
    for svc in "${SERVICES[@]}"; do
        state=$(service_state "$svc")
        case $state in
            healthy) continue ;;
            created | missing) say "$svc: not started (it waits for the one before it)"; continue ;;
        esac
        echo
        say "$svc is $state; its last log lines:"
        compose logs --no-color --tail 40 "$svc" 2>&1 | strip_escapes || true
    done
    echo
    say "tear down with: ./dockerc.sh down"
}

wait_healthy() {
    local deadline=$((SECONDS + WAIT)) svc state pending
    while :; do
        pending=()
        for svc in "${SERVICES[@]}"; do
            state=$(service_state "$svc")
            case $state in
                healthy) ;;
                exited | dead | unhealthy) show_failure; return 1 ;;
                *) pending+=("$svc:$state") ;;
            esac
        done
        ((${#pending[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            say "still waiting after ${WAIT}s: ${pending[*]}"
            show_failure
            return 1
        fi
        sleep 2
    done
}

print_urls() {
    cat <<EOF

Circuit Breaker Lab is up ($COMPOSE_NAME, project $PROJECT):
  $BASE_URL/api/success-request
  $BASE_URL/api/timeout-request
  $BASE_URL/api/mustfail-request
  $BASE_URL/api/schema/
  $BASE_URL/api/schema/swagger-ui/
  $BASE_URL/dashboard/
  $BASE_URL/metrics
Admin token ($TOKEN_FROM):
  $ADMIN_TOKEN
  (paste it once in the dashboard or in Swagger UI's Authorize; with curl:
   -H "Authorization: Bearer \$(./dockerc.sh token)")
Follow the logs:  $COMPOSE_CMD logs -f     (or ./dockerc.sh logs)
Stop:             ./dockerc.sh down
EOF
}

cmd_up() {
    say "using $COMPOSE_NAME"

    if [[ ${DOCKERC_BUILD:-1} != 0 ]]; then
        say "building circuit-breaker:latest and circuit-breaker-gateway:latest"
        compose build || die "the build failed (see above)"
    fi

    say "replacing any running stack (project $PROJECT)"
    compose down --remove-orphans 2>&1 | strip_escapes

    say "starting; waiting up to ${WAIT}s for every service to be healthy"
    # up -d itself waits for each depends_on health condition and fails if one is unhealthy.
    if ! compose up -d 2>&1 | strip_escapes; then
        show_failure
        exit 1
    fi
    wait_healthy || exit 1
    print_urls
}

main() {
    local cmd=${1:-up}
    case $cmd in
        -h | --help | help) usage 0 ;;
        down | logs | ps) ;;
        up)
            # A bad ADMIN_TOKEN stops here, before any Docker work.
            ensure_token
            ;;
        token)
            print_token
            return 0
            ;;
        *) usage 2 >&2 ;;
    esac

    # The engine first: on a fresh machine starting it is what installs Compose.
    check_engine
    detect_compose
    case $cmd in
        up) cmd_up ;;
        down) compose down --remove-orphans ;;
        logs) compose logs -f 2>&1 | strip_escapes ;;
        ps) compose ps ;;
    esac
}

main "$@"

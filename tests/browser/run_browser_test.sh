#!/usr/bin/env bash
# run_browser_test.sh - the dashboard and Swagger UI in Debian's headless Chromium, against a
# real lab (scripts/lab-local.sh: three processes + Nginx) on this test's own loopback ports.
# ctest runs it as `browser.dashboard`; by hand:
#
# Usage: tests/browser/run_browser_test.sh CIRCUITLAB_BIN RUN_DIR
# Environment (all optional):
#   CIRCUITLAB_TEST_BASE_PORT  ports: gateway BASE+1, frontier/midline/backline BASE+11..13
#                              (default 18000, as the integration tests)
#   CIRCUITLAB_SCREENSHOT_DIR  where the two screenshots go (default tests/browser/screenshots;
#                              docs/screenshots refreshes the ones the README shows)
#   CHROMIUM_BIN               the browser (default /usr/bin/chromium)
# Installs tests/browser/node_modules with `npm ci` when it is missing or older than
# package-lock.json. playwright-core stays at 1.61.1, the last release that runs on Node.js 18
# (Debian 12's). The lab is stopped on every exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

fail() {
    printf 'browser test: %s\n' "$*" >&2
    exit 1
}

[[ $# == 2 ]] || fail "usage: $0 CIRCUITLAB_BIN RUN_DIR"
BIN=$1
RUN_DIR=$2
BASE=${CIRCUITLAB_TEST_BASE_PORT:-18000}
if ! [[ $BASE =~ ^[0-9]+$ ]] || ((BASE < 1 || BASE > 65500)); then
    fail "CIRCUITLAB_TEST_BASE_PORT must be a port number up to 65500, got '$BASE'"
fi
export CHROMIUM_BIN=${CHROMIUM_BIN:-/usr/bin/chromium}
export CIRCUITLAB_SCREENSHOT_DIR=${CIRCUITLAB_SCREENSHOT_DIR:-$HERE/screenshots}

[[ -x $BIN ]] || fail "no circuitlab binary at $BIN"
command -v node >/dev/null || fail "node is missing (scripts/setup.sh installs nodejs)"
command -v npm >/dev/null || fail "npm is missing (scripts/setup.sh installs npm)"
[[ -x $CHROMIUM_BIN ]] || fail "no Chromium at $CHROMIUM_BIN (scripts/setup.sh installs chromium)"

# npm ci wipes node_modules and installs exactly the lock file; only when it changed.
install_modules() {
    local stamp=$HERE/node_modules/.package-lock.json
    if [[ -f $stamp && ! $HERE/package-lock.json -nt $stamp ]]; then
        return 0
    fi
    echo "browser test: npm ci in $HERE"
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
}

LAB_DIR=$RUN_DIR/lab-browser-$BASE
export LAB_DIR
export LAB_GATEWAY_PORT=$((BASE + 1))
export LAB_FRONTIER_PORT=$((BASE + 11))
export LAB_MIDLINE_PORT=$((BASE + 12))
export LAB_BACKLINE_PORT=$((BASE + 13))
export CIRCUITLAB_BIN=$BIN
export THREADS=2
# A short open wait keeps the test quick; without CB_AUTO_HALF_OPEN an open breaker stays open
# on the page until the next call, so the open screenshot cannot race a timer.
export CB_WAIT_IN_OPEN_MS=1500
export FAIL_RATE=0 SLOW_RATE=0
ADMIN_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export ADMIN_TOKEN

stop_lab() {
    local rc=$?
    if ((rc != 0)) && [[ -d $LAB_DIR ]]; then
        echo "browser test: failed; last lines of the lab's logs in $LAB_DIR:" >&2
        tail -n 15 "$LAB_DIR"/{frontier,midline,backline,gateway}.log >&2 2>/dev/null || true
    fi
    "$REPO/scripts/lab-local.sh" stop >/dev/null 2>&1 || true
    exit "$rc"
}

install_modules
mkdir -p "$LAB_DIR"
trap stop_lab EXIT
trap 'exit 130' INT TERM
"$REPO/scripts/lab-local.sh" start >"$LAB_DIR.launcher.log" 2>&1 ||
    fail "lab-local.sh start failed: $(tail -n 20 "$LAB_DIR.launcher.log")"

export GATEWAY_URL=http://127.0.0.1:$LAB_GATEWAY_PORT
export LAB_LOCAL=$REPO/scripts/lab-local.sh
node "$HERE/dashboard_test.mjs"

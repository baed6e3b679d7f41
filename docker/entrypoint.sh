#!/usr/bin/env bash
# Container entry point: run circuitlab as PID 1 (exec), so SIGTERM from `docker stop` reaches it
# and starts the graceful shutdown. ROLE, LISTEN, *_DOMAIN and the rest come from the
# environment (docker-compose.yaml); any arguments are passed on, e.g. `healthcheck` or `--help`.
set -euo pipefail
exec circuitlab "$@"

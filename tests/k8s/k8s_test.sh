#!/usr/bin/env bash
# k8s_test.sh - render every kustomize tree under deploy/k8s with `kubectl kustomize` and check
# the objects against docker/docker-compose.yaml (tests/k8s/check_manifests.py), then prove the
# check bites: each drift that tests/k8s/drift_test.py plants must make it fail.
# Offline: no cluster is needed. Exit 77 (skipped) when kubectl (with kustomize v4 or later,
# i.e. kubectl 1.21+) or python3 with PyYAML is missing.
#
# `docker` runs the base's pods in Docker instead (tests/k8s/pods_in_docker.py): the same
# images, variables, users, read-only roots and stop sequence, serving through the gateway.
#
# Usage: tests/k8s/k8s_test.sh [render|drift|docker]   (default: render and drift)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/tests/k8s
OVERLAYS=(base overlays/kind overlays/istio)

skip() {
    echo "k8s test skipped: $*"
    exit 77
}

# Debian 12's kubernetes-client is kubectl 1.20 with kustomize v2, which cannot list a folder
# under `resources:` nor apply `patches:`; the manifests need kustomize v4 or later.
find_kubectl() {
    local version
    command -v kubectl >/dev/null || skip "no kubectl on PATH (install kubectl 1.21 or later)"
    version=$(kubectl version --client 2>/dev/null |
        sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
    [[ -n $version && $version -ge 4 ]] ||
        skip "kubectl's kustomize is older than v4 ($(kubectl version --client 2>&1 | head -n 1))"
}

# /usr/bin/python3 first: Debian's python3-yaml (scripts/setup.sh) is installed for it.
find_python() {
    local candidate
    for candidate in /usr/bin/python3 python3; do
        if "$candidate" -c 'import yaml' 2>/dev/null; then
            PYTHON=$candidate
            return
        fi
    done
    skip "no python3 with PyYAML (apt-get install python3-yaml)"
}

render_all() {
    local overlay
    RENDERED=()
    for overlay in "${OVERLAYS[@]}"; do
        local name=${overlay##*/} out=$WORK/${overlay##*/}.yaml
        if ! kubectl kustomize "$REPO/deploy/k8s/$overlay" >"$out" 2>"$WORK/$name.err"; then
            echo "kubectl kustomize deploy/k8s/$overlay failed:" >&2
            cat "$WORK/$name.err" >&2
            exit 1
        fi
        echo "rendered deploy/k8s/$overlay: $(grep -c '^kind:' "$out") objects"
        RENDERED+=(--overlay "$name=$out")
    done
}

main() {
    local what=${1:-all}
    find_kubectl
    find_python
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    render_all
    if [[ $what == all || $what == render ]]; then
        "$PYTHON" "$HERE/check_manifests.py" --repo "$REPO" "${RENDERED[@]}"
    fi
    if [[ $what == all || $what == drift ]]; then
        "$PYTHON" "$HERE/drift_test.py" --repo "$REPO" "${RENDERED[@]}"
    fi
    if [[ $what == docker ]]; then
        "$PYTHON" "$HERE/pods_in_docker.py" --repo "$REPO" --rendered "$WORK/base.yaml"
    fi
}

main "$@"

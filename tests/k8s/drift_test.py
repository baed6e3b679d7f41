#!/usr/bin/env python3
"""Plant one drift at a time between Compose and the Kubernetes manifests and check that
check_manifests.py catches each one, naming it.

The inputs are copied to a scratch tree first (compose file, env file, nginx.conf, kind cluster
config, README, and the rendered overlays); the copy without drift must pass, so a case that
fails proves the check, not a broken copy.

Usage: drift_test.py --repo DIR --overlay NAME=RENDERED.yaml [--overlay ...]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
COPIED = [
    "docker/docker-compose.yaml",
    "deploy/k8s/base/circuitlab.env",
    "deploy/k8s/overlays/kind/kind-cluster.yaml",
    "configs/nginx.conf",
    "README.md",
]


# ---------------------------------------------------------------------------- edits

def compose(edit):
    def apply(tree, rendered):
        path = tree / "docker/docker-compose.yaml"
        data = yaml.safe_load(path.read_text())
        edit(data["services"])
        path.write_text(yaml.safe_dump(data))
    return apply


def text(relative, edit):
    def apply(tree, rendered):
        path = tree / relative
        path.write_text(edit(path.read_text()))
    return apply


def objects(overlay, edit):
    """Edit the rendered objects of one overlay: edit(index) with index[(kind, name)] = doc."""
    def apply(tree, rendered):
        path = rendered[overlay]
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        index = {(d["kind"], d["metadata"]["name"]): d for d in docs}
        edit(index)
        path.write_text(yaml.safe_dump_all([d for d in index.values() if d is not None]))
    return apply


def container(index, name):
    return index[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]


def env_configmap(index):
    return next(d for (k, n), d in index.items() if k == "ConfigMap" and
                n.startswith("circuitlab-env"))


def set_environment(services, name, value):
    for service in services.values():
        if service.get("image") == "circuit-breaker:latest":
            service["environment"][name] = value


def drop(index, key):
    index[key] = None


CASES = [
    ("a Compose default changes",
     compose(lambda s: set_environment(s, "FAIL_RATE", "${FAIL_RATE:-0.5}")), "FAIL_RATE"),
    ("Compose passes a new variable",
     compose(lambda s: set_environment(s, "NEW_KNOB", None)), "NEW_KNOB"),
    ("Compose exposes another port",
     compose(lambda s: s["frontier"].update(expose=["9000"])), "container ports"),
    ("the gateway is published on another host port",
     compose(lambda s: s["gateway"].update(ports=["8002:8001"])), "host port 8002"),
    ("Compose limits memory differently",
     compose(lambda s: s["backline"].update(mem_limit="64m")), "memory limit"),
    ("Compose limits CPU differently",
     compose(lambda s: s["midline"].update(cpus="0.25")), "cpu limit"),
    ("Compose adds a capability",
     compose(lambda s: s["midline"].update(cap_add=["NET_BIND_SERVICE"])), "cap_add"),
    ("Compose mounts a tmpfs",
     compose(lambda s: s["frontier"].update(tmpfs=["/tmp"])), "tmpfs on /tmp"),
    ("Compose runs as another user",
     compose(lambda s: s["backline"].update(user="1000:1000")), "Compose user 1000:1000"),
    ("Compose checks health elsewhere",
     compose(lambda s: s["midline"].update(healthcheck={
         "test": ["CMD", "circuitlab", "healthcheck", "--url", "http://127.0.0.1:8000/livez"]})),
     "livenessProbe asks /healthz, expected /livez"),
    ("Compose waits longer for a stop",
     compose(lambda s: s["frontier"].update(stop_grace_period="30s")), "stop_grace_period"),
    ("nginx.conf changes after rendering",
     text("configs/nginx.conf", lambda t: t + "# changed\n"), "differs from configs/nginx.conf"),
    ("Nginx's upstream moves to another port",
     text("configs/nginx.conf",
          lambda t: t.replace("server frontier:8000", "server frontier:9000")),
     "no Service frontier with port 9000"),
    ("an optional setting is no longer listed",
     text("deploy/k8s/base/circuitlab.env", lambda t: t.replace("# CB_SCOPE=\n", "")),
     "CB_SCOPE"),
    ("a ConfigMap value drifts",
     objects("base", lambda i: env_configmap(i)["data"].update(SLEEP="2")), "SLEEP"),
    ("k8s sets a variable Compose does not have",
     objects("base", lambda i: env_configmap(i)["data"].update(EXTRA="1")),
     "EXTRA='1' is not in Compose's environment"),
    ("a readiness probe goes missing",
     objects("base", lambda i: container(i, "midline").pop("readinessProbe")), "no readinessProbe"),
    ("the root filesystem becomes writable",
     objects("base", lambda i: container(i, "gateway")["securityContext"].update(
         readOnlyRootFilesystem=False)), "readOnlyRootFilesystem"),
    ("privilege escalation is allowed",
     objects("base", lambda i: container(i, "frontier")["securityContext"].pop(
         "allowPrivilegeEscalation")), "allowPrivilegeEscalation"),
    ("a pod runs as root",
     objects("base", lambda i: i[("Deployment", "backline")]["spec"]["template"]["spec"]
             ["securityContext"].update(runAsUser=0)), "runAsUser 0"),
    ("backline runs one pod",
     objects("base", lambda i: i[("Deployment", "backline")]["spec"].update(replicas=1)),
     "replicas"),
    ("the PodDisruptionBudget goes",
     objects("base", lambda i: drop(i, ("PodDisruptionBudget", "backline"))),
     "no PodDisruptionBudget for backline"),
    ("limits go",
     objects("base", lambda i: container(i, "frontier")["resources"].pop("limits")),
     "resources.limits"),
    ("preStop goes",
     objects("base", lambda i: container(i, "midline").pop("lifecycle")), "preStop"),
    ("the grace period is shorter than preStop + drain",
     objects("base", lambda i: i[("Deployment", "midline")]["spec"]["template"]["spec"].update(
         terminationGracePeriodSeconds=12)), "terminationGracePeriodSeconds 12"),
    ("a rolling update may drop a pod first",
     objects("base", lambda i: i[("Deployment", "frontier")]["spec"]["strategy"]
             ["rollingUpdate"].update(maxUnavailable=1)), "maxUnavailable"),
    ("the gateway loses its temp volume",
     objects("base", lambda i: container(i, "gateway").update(volumeMounts=[
         m for m in container(i, "gateway")["volumeMounts"]
         if m["mountPath"] != "/var/lib/nginx"])),
     "Nginx writes under /var/lib/nginx"),
    ("kind may pull",
     objects("kind", lambda i: container(i, "backline").update(imagePullPolicy="IfNotPresent")),
     "not Never"),
    ("kind's gateway is not a NodePort",
     objects("kind", lambda i: i[("Service", "gateway")]["spec"].update(type="ClusterIP")),
     "not a NodePort"),
    ("the mesh loses outlier detection",
     objects("istio", lambda i: i[("DestinationRule", "backline")]["spec"]["trafficPolicy"].pop(
         "outlierDetection")), "consecutive5xxErrors"),
    ("the mesh retries again",
     objects("istio", lambda i: i[("VirtualService", "midline")]["spec"]["http"][0].pop(
         "retries")), "mesh retries are not off"),
    ("the sidecar leaves before the drain ends",
     objects("istio", lambda i: i[("Deployment", "midline")]["spec"]["template"]["metadata"].pop(
         "annotations")), "terminationDrainDuration"),
]


# ---------------------------------------------------------------------------- run

def prepare(repo, rendered, scratch):
    tree = scratch / "repo"
    for relative in COPIED:
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo / relative, tree / relative)
    copies = {}
    for name, path in rendered.items():
        copies[name] = scratch / f"{name}.yaml"
        shutil.copy(path, copies[name])
    return tree, copies


def check(tree, copies):
    command = [sys.executable, str(HERE / "check_manifests.py"), "--repo", str(tree)]
    for name, path in copies.items():
        command += ["--overlay", f"{name}={path}"]
    return subprocess.run(command, capture_output=True, text=True)


def run_case(repo, rendered, edit):
    with tempfile.TemporaryDirectory() as scratch:
        tree, copies = prepare(repo, rendered, Path(scratch))
        if edit:
            edit(tree, copies)
        return check(tree, copies)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, type=Path)
    parser.add_argument("--overlay", action="append", required=True, metavar="NAME=FILE")
    args = parser.parse_args()
    rendered = dict(item.split("=", 1) for item in args.overlay)
    rendered = {name: Path(path) for name, path in rendered.items()}

    clean = run_case(args.repo, rendered, None)
    if clean.returncode != 0:
        print("drift test: the unchanged copy does not pass:\n" + clean.stderr, file=sys.stderr)
        return 1

    failed = 0
    for title, edit, expected in CASES:
        result = run_case(args.repo, rendered, edit)
        caught = result.returncode == 1 and expected in result.stderr
        failed += not caught
        print(f"{'caught' if caught else 'MISSED'}: {title}")
        if not caught:
            print(f"  expected exit 1 and {expected!r}; got exit {result.returncode}:\n"
                  f"{result.stdout}{result.stderr}", file=sys.stderr)
    print(f"{len(CASES) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

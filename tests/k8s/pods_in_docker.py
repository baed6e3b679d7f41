#!/usr/bin/env python3
"""Run the base's pods in Docker as a kubelet would, and check that they serve and stop cleanly.

There is no cluster here, so this takes each rendered Deployment and starts its container with
the same image, variables (from the ConfigMaps), user and group, read-only root, dropped
capabilities, no-new-privileges, memory and CPU limits, emptyDirs (fresh folders) and ConfigMap
files,
one container per replica, on a private network where each Service name resolves to its pods.
First each pod's runAsUser must be its image's own user, the one Compose runs it as. Then it
checks what a cluster would show: every readiness probe passes, the gateway answers
through all three hops, and each pod's preStop hook followed by the stop signal ends it with
exit code 0 within its terminationGracePeriodSeconds.

Exit 77 (skipped) when no Docker engine answers. Everything it starts is removed at the end.

Usage: pods_in_docker.py --repo DIR --rendered BASE.yaml
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

PREFIX = f"circuitlab-k8s-{os.getpid()}"
READY_TIMEOUT_S = 60


def docker(*args, check=True, timeout=120):
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result


def say(text):
    print(f"pods: {text}", flush=True)


class Pod:
    """One replica of a Deployment, as a container."""

    def __init__(self, deployment, replica):
        self.app = deployment["metadata"]["name"]
        self.name = f"{PREFIX}-{self.app}-{replica}"
        self.spec = deployment["spec"]["template"]["spec"]
        self.container = self.spec["containers"][0]

    def grace_s(self):
        return self.spec.get("terminationGracePeriodSeconds", 30)

    def port(self, port):
        for entry in self.container.get("ports") or []:
            if port in (entry.get("name"), entry["containerPort"]):
                return entry["containerPort"]
        return port


class Cluster:
    def __init__(self, repo, documents, scratch):
        self.repo = repo
        self.scratch = scratch
        self.objects = {(d["kind"], d["metadata"]["name"]): d for d in documents if d}
        self.network = PREFIX
        self.pods = []

    def configmap(self, name):
        return self.objects[("ConfigMap", name)].get("data") or {}

    # -- start

    def ensure_images(self):
        """Build an image missing here with the Dockerfile Compose builds it from."""
        compose = yaml.safe_load((self.repo / "docker/docker-compose.yaml").read_text())
        builds = {svc["image"]: svc["build"] for svc in compose["services"].values()
                  if "build" in svc}
        for (kind, _), doc in self.objects.items():
            if kind != "Deployment":
                continue
            image = doc["spec"]["template"]["spec"]["containers"][0]["image"]
            if docker("image", "inspect", image, check=False).returncode == 0:
                continue
            build = builds[image]
            say(f"building {image} from {build['dockerfile']}")
            docker("build", "-f", str(self.repo / build["dockerfile"]), "-t", image,
                   str((self.repo / "docker" / build["context"]).resolve()), timeout=1800)

    def environment(self, container):
        env = {}
        for source in container.get("envFrom") or []:
            env.update(self.configmap(source["configMapRef"]["name"]))
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = item["value"]
            elif "configMapKeyRef" in (item.get("valueFrom") or {}):
                ref = item["valueFrom"]["configMapKeyRef"]
                env[item["name"]] = self.configmap(ref["name"])[ref["key"]]
            # An optional secretKeyRef whose Secret is absent leaves the variable unset.
        return env

    def volume_args(self, pod):
        volumes = {v["name"]: v for v in pod.spec.get("volumes") or []}
        args = []
        for mount in pod.container.get("volumeMounts") or []:
            volume = volumes[mount["name"]]
            if "emptyDir" in volume:
                # A fresh world-writable folder, as a kubelet makes it. (Docker's --tmpfs would
                # copy the image folder's owner and mode, root 0755, which is not what a pod gets.)
                path = self.scratch / f"{pod.name}-{mount['name']}"
                path.mkdir()
                path.chmod(0o777)
                args += ["-v", f"{path}:{mount['mountPath']}"]
            elif "configMap" in volume:
                data = self.configmap(volume["configMap"]["name"])
                path = self.scratch / f"{pod.name}-{mount['name']}"
                path.write_text(data[mount["subPath"]])
                path.chmod(0o644)  # the configMap volume's defaultMode
                args += ["-v", f"{path}:{mount['mountPath']}:ro"]
            else:
                raise RuntimeError(f"{pod.app}: volume kind not handled: {volume}")
        return args

    def security_args(self, pod):
        own = pod.container.get("securityContext") or {}
        shared = pod.spec.get("securityContext") or {}
        user = own.get("runAsUser", shared.get("runAsUser"))
        group = own.get("runAsGroup", shared.get("runAsGroup", user))
        args = ["--user", f"{user}:{group}"]
        if own.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        if own.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        for cap in (own.get("capabilities") or {}).get("drop") or []:
            args += ["--cap-drop", cap]
        for cap in (own.get("capabilities") or {}).get("add") or []:
            args += ["--cap-add", cap]
        return args

    def resource_args(self, pod):
        limits = (pod.container.get("resources") or {}).get("limits") or {}
        args = []
        if "memory" in limits:
            args += ["--memory", limits["memory"].replace("Mi", "m").replace("Gi", "g")]
        if "cpu" in limits:
            cpu = str(limits["cpu"])
            args += ["--cpus", str(int(cpu[:-1]) / 1000 if cpu.endswith("m") else cpu)]
        return args

    def service_aliases(self, pod):
        labels = self.objects[("Deployment", pod.app)]["spec"]["template"]["metadata"]["labels"]
        aliases = []
        for (kind, name), svc in self.objects.items():
            if kind != "Service":
                continue
            selector = svc["spec"].get("selector") or {}
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                aliases += ["--network-alias", name]
        return aliases

    def start(self, deployment):
        for replica in range(1, deployment["spec"].get("replicas", 1) + 1):
            pod = Pod(deployment, replica)
            args = ["run", "-d", "--name", pod.name, "--network", self.network,
                    "--hostname", pod.name]
            args += self.service_aliases(pod) + self.security_args(pod)
            args += self.resource_args(pod) + self.volume_args(pod)
            for name, value in self.environment(pod.container).items():
                args += ["-e", f"{name}={value}"]
            docker(*args, pod.container["image"], *(pod.container.get("args") or []))
            self.pods.append(pod)
            say(f"started {pod.name} ({' '.join(self.security_args(pod))})")

    # -- probe

    def prober(self):
        """A pod whose image has the `circuitlab healthcheck` client (exit 0 on 200)."""
        return next(p for p in self.pods if p.container["image"].startswith("circuit-breaker:"))

    def get(self, url):
        """(ok, what came back): ok when the URL answers 200 within 2 s."""
        result = docker("exec", self.prober().name, "circuitlab", "healthcheck", "--url", url,
                        check=False)
        return result.returncode == 0, (result.stdout + result.stderr).strip()[:300]

    def get_ok(self, url):
        return self.get(url)[0]

    def wait_ready(self, pod):
        probe = pod.container["readinessProbe"]["httpGet"]
        url = f"http://{pod.name}:{pod.port(probe['port'])}{probe['path']}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.get_ok(url):
                say(f"ready: {pod.name} ({url})")
                return True
            state = docker("inspect", "-f", "{{.State.Status}}", pod.name).stdout.strip()
            if state != "running":
                break
            time.sleep(1)
        say(f"NOT ready: {pod.name}; its log:\n{docker('logs', pod.name, check=False).stderr}")
        return False

    # -- stop

    def stop(self, pod, outcome):
        """preStop, then the stop signal with what is left of the grace period."""
        started = time.monotonic()
        hook = (pod.container.get("lifecycle") or {}).get("preStop", {}).get("exec", {})
        if hook:
            docker("exec", pod.name, *hook["command"], check=False, timeout=pod.grace_s())
        left = max(1, int(pod.grace_s() - (time.monotonic() - started)))
        docker("stop", "-t", str(left), pod.name, check=False, timeout=left + 30)
        code = docker("inspect", "-f", "{{.State.ExitCode}}", pod.name).stdout.strip()
        outcome[pod.name] = (code, time.monotonic() - started)

    def stop_all(self, during):
        """Stop every pod at once; call during() while the preStop hooks run."""
        outcome = {}
        threads = [threading.Thread(target=self.stop, args=(pod, outcome)) for pod in self.pods]
        for thread in threads:
            thread.start()
        during()
        for thread in threads:
            thread.join()
        return outcome

    def remove(self):
        for pod in self.pods:
            docker("rm", "-f", pod.name, check=False)
        docker("network", "rm", self.network, check=False)


def image_user_matches(cluster):
    """Compose runs each image as its own USER: a pod's runAsUser must be that same uid."""
    failures = []
    for (kind, name), doc in sorted(cluster.objects.items()):
        if kind != "Deployment":
            continue
        pod = Pod(doc, 1)
        user = pod.spec.get("securityContext", {}).get("runAsUser")
        image = pod.container["image"]
        uid = docker("run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip()
        if uid == "0":
            say(f"{image} runs as root by itself; the pod runs it as {user}")
        elif uid != str(user):
            failures.append(f"{name}: runAsUser {user}, but {image} runs as uid {uid}")
        else:
            say(f"{name}: runAsUser {user} is the image's own user")
    return failures


def run(cluster):
    cluster.ensure_images()
    failures = image_user_matches(cluster)
    docker("network", "create", cluster.network)
    # Callees first: Nginx resolves `frontier` when it starts (a Service exists before its pods
    # on a cluster; here the name exists once a pod has it).
    for name in ("backline", "midline", "frontier", "gateway"):
        cluster.start(cluster.objects[("Deployment", name)])
        for pod in [p for p in cluster.pods if p.app == name]:
            if not cluster.wait_ready(pod):
                failures.append(f"{pod.name} never became ready")
    if failures:
        return failures

    gateway = cluster.objects[("Service", "gateway")]["spec"]["ports"][0]["port"]
    for path in ("/api/success-request", "/healthz"):
        ok, answer = cluster.get(f"http://gateway:{gateway}{path}")
        say(f"{'200' if ok else 'NOT 200'}: gateway {path}: {answer[:60]}...")
        if not ok:
            failures.append(f"gateway {path} did not answer 200")

    def while_stopping():
        # Endpoints leave during preStop, before SIGTERM: the pods must still serve meanwhile.
        time.sleep(2)
        ok, answer = cluster.get(f"http://gateway:{gateway}/api/success-request")
        say(f"{'200' if ok else 'NOT 200'} during preStop: {answer[:40]}...")
        if not ok:
            failures.append("a request during preStop was not served")

    for name, (code, seconds) in sorted(cluster.stop_all(while_stopping).items()):
        say(f"stopped {name}: exit {code} after {seconds:.1f} s (preStop + drain)")
        if code != "0":
            failures.append(f"{name} exited {code} on stop (137: killed at the grace period)")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, type=Path)
    parser.add_argument("--rendered", required=True, type=Path)
    args = parser.parse_args()
    if docker("info", check=False, timeout=30).returncode != 0:
        print("pods in Docker skipped: no Docker engine answers")
        return 77

    documents = list(yaml.safe_load_all(args.rendered.read_text()))
    with tempfile.TemporaryDirectory() as scratch:
        os.chmod(scratch, 0o755)
        cluster = Cluster(args.repo, documents, Path(scratch))
        try:
            failures = run(cluster)
        finally:
            cluster.remove()
    for failure in failures:
        print(f"pods: FAIL - {failure}", file=sys.stderr)
    print(f"pods in Docker: {'FAILED' if failures else 'passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Check rendered Kubernetes manifests against docker/docker-compose.yaml.

The lab has two deployments, Compose and Kubernetes. This script reads the compose file, the
kustomize renderings of deploy/k8s (one per overlay), the base's env file, configs/nginx.conf
and the kind cluster config, and fails (exit 1, one line per difference) when the Kubernetes
objects do not carry what Compose has: the same images, variables and values, ports, health
endpoints, hardening, memory limits, and a stop sequence long enough for the drain. It also
checks what the Kubernetes side must have on its own: probes, requests and limits, a non-root
restricted security context, a PodDisruptionBudget, two backline pods, and per overlay the
NodePort (kind) or the mesh rules (istio).

Usage: check_manifests.py --repo DIR --overlay NAME=RENDERED.yaml [--overlay ...]
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROLE_IMAGE = "circuit-breaker:latest"
GATEWAY = "gateway"
NGINX_CONF_PATH = "/etc/nginx/nginx.conf"
# Compose variables the Kubernetes side sets although Compose leaves them to the shell, and why.
K8S_ONLY_VALUES = {
    "THREADS": "the binary's default is the node's core count, not the pod's CPU limit",
}
# Variables that come from a Secret, never from a ConfigMap.
SECRET_VARIABLES = {"ADMIN_TOKEN"}


class Report:
    """Collects differences; each one is a line naming the overlay, the object and the fact."""

    def __init__(self):
        self.problems = []
        self.checks = 0
        self.notes = set()

    def expect(self, ok, where, what):
        self.checks += 1
        if not ok:
            self.problems.append(f"{where}: {what}")
        return ok

    def note(self, text):
        self.notes.add(text)


# ---------------------------------------------------------------------------- compose side

def interpolate(value):
    """What Compose passes for a value with no shell variable set: (is_set, text)."""
    if value is None:
        return False, None
    text = str(value)
    match = re.fullmatch(r"\$\{(\w+)(:?-)(.*)\}", text)
    if match:
        return True, match.group(3)
    if re.fullmatch(r"\$\{?\w+\}?", text):
        return False, None
    return True, text.replace("$$", "$")


def compose_environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {name: interpolate(value) for name, value in env.items()}


def parse_duration_s(text):
    """Compose durations such as 15s, 1m30s, 500ms, in seconds."""
    total = 0.0
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    for number, unit in re.findall(r"([\d.]+)(ms|us|h|m|s)", str(text)):
        total += float(number) * units[unit]
    return total


def parse_bytes(text):
    """Compose (128m, 1g, 134217728) or Kubernetes (128Mi, 1G) memory sizes, in bytes."""
    text = str(text).strip()
    match = re.fullmatch(r"([\d.]+)\s*([A-Za-z]*)", text)
    if not match:
        raise ValueError(f"not a memory size: {text}")
    number, unit = float(match.group(1)), match.group(2)
    binary = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
              "g": 1 << 30, "gb": 1 << 30, "ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30}
    decimal = {"K": 10**3, "M": 10**6, "G": 10**9}
    if unit in decimal:
        return int(number * decimal[unit])
    return int(number * binary[unit.lower()])


def parse_cpu_milli(text):
    text = str(text)
    if text.endswith("m"):
        return int(text[:-1])
    return int(round(float(text) * 1000))


def compose_memory_limit(service):
    limit = service.get("mem_limit")
    deploy = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    return limit if limit is not None else deploy.get("memory")


def compose_cpu_limit(service):
    deploy = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    return service.get("cpus", deploy.get("cpus"))


def compose_ports(service):
    """[(host_port, container_port)] of `ports`, short or long syntax."""
    result = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            result.append((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        result.append((int(parts[-2]) if len(parts) > 1 else None, int(parts[-1])))
    return result


def compose_health_path(service):
    """The path the compose health check asks for, and its port when it names one."""
    test = service.get("healthcheck", {}).get("test")
    text = " ".join(test) if isinstance(test, list) else str(test)
    url = re.search(r"https?://[^/\s]+:(\d+)(/\S*)", text)
    if url:
        return url.group(2), int(url.group(1))
    raw = re.search(r"/dev/tcp/[^/]+/(\d+).*GET (/\S*) HTTP", text)
    if raw:
        return raw.group(2), int(raw.group(1))
    return None, None


# ---------------------------------------------------------------------------- k8s side

def index_objects(documents):
    objects = {}
    for doc in documents:
        if doc:
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def configmap_by_prefix(objects, name):
    """A generated ConfigMap by its name before kustomize's hash suffix."""
    for (kind, full), doc in objects.items():
        if kind == "ConfigMap" and (full == name or re.fullmatch(re.escape(name) + r"-\w+", full)):
            return doc
    return None


def configmap_named(objects, name):
    return objects.get(("ConfigMap", name))


def container_environment(objects, container):
    """{name: ("value", text) | ("secret", ref) | ("missing", why)} of a container."""
    env = {}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref is None:
            continue
        configmap = configmap_named(objects, ref["name"])
        if configmap is None:
            env[f"<configMap {ref['name']}>"] = ("missing", "no such ConfigMap")
            continue
        for name, value in (configmap.get("data") or {}).items():
            env[name] = ("value", str(value))
    for item in container.get("env") or []:
        env[item["name"]] = env_item_value(objects, item)
    return env


def env_item_value(objects, item):
    if "value" in item:
        return "value", str(item["value"])
    source = item.get("valueFrom") or {}
    if "secretKeyRef" in source:
        return "secret", source["secretKeyRef"]
    ref = source.get("configMapKeyRef")
    if ref is not None:
        data = (configmap_named(objects, ref["name"]) or {}).get("data") or {}
        if ref["key"] in data:
            return "value", str(data[ref["key"]])
    return "missing", f"unresolved {source}"


def describe(got):
    """A container variable as the report shows it."""
    if got is None:
        return "unset"
    kind, detail = got
    return repr(detail) if kind == "value" else f"{kind} {detail}"


def commented_settings(env_file):
    """Settings listed as `# NAME=` in the base's env file: known, deliberately unset."""
    names = set()
    for line in Path(env_file).read_text().splitlines():
        match = re.fullmatch(r"#\s*([A-Z][A-Z0-9_]*)=\s*", line)
        if match:
            names.add(match.group(1))
    return names


def readme_default(readme, variable):
    for line in Path(readme).read_text().splitlines():
        cells = [cell.strip().strip("`") for cell in line.split("|")]
        if len(cells) > 3 and cells[1] == variable:
            return cells[3]
    return None


def port_number(container, port):
    if isinstance(port, int):
        return port
    for entry in container.get("ports") or []:
        if entry.get("name") == port:
            return entry["containerPort"]
    return None


def pre_stop_sleep_s(container):
    """Seconds the preStop hook waits before the stop signal, from its `sleep N`."""
    hook = ((container.get("lifecycle") or {}).get("preStop") or {})
    if "sleep" in hook:
        return float(hook["sleep"].get("seconds", 0))
    command = " ".join((hook.get("exec") or {}).get("command") or [])
    match = re.search(r"sleep\s+(\d+(?:\.\d+)?)", command)
    return float(match.group(1)) if match else None


# ---------------------------------------------------------------------------- checks

class Checker:
    def __init__(self, repo, report):
        self.repo = Path(repo)
        self.report = report
        compose_file = self.repo / "docker" / "docker-compose.yaml"
        self.compose = yaml.safe_load(compose_file.read_text())["services"]
        self.env_file = self.repo / "deploy" / "k8s" / "base" / "circuitlab.env"
        self.unset_in_k8s = commented_settings(self.env_file)
        self.nginx_conf = (self.repo / "configs" / "nginx.conf").read_text()
        kind_file = self.repo / "deploy" / "k8s" / "overlays" / "kind" / "kind-cluster.yaml"
        self.kind_cluster = yaml.safe_load(kind_file.read_text())
        grace = readme_default(self.repo / "README.md", "SHUTDOWN_GRACE_MS")
        self.default_grace_ms = int(grace) if grace and grace.isdigit() else None

    def roles(self):
        return [name for name, svc in self.compose.items() if svc.get("image") == ROLE_IMAGE]

    def run(self, overlay, documents):
        objects = index_objects(documents)
        self.check_namespace(overlay, objects)
        for role in self.roles():
            self.check_role(overlay, objects, role)
        self.check_gateway(overlay, objects)
        self.check_budget(overlay, objects)
        self.check_domains(overlay, objects)
        overlay_check = getattr(self, f"check_overlay_{overlay}", None)
        if overlay_check:
            overlay_check(overlay, objects)

    # -- every overlay

    def check_namespace(self, overlay, objects):
        namespaces = [name for kind, name in objects if kind == "Namespace"]
        self.report.expect(len(namespaces) == 1, overlay, f"one Namespace, found {namespaces}")
        for (kind, name), doc in objects.items():
            if kind != "Namespace" and namespaces:
                self.report.expect(doc["metadata"].get("namespace") == namespaces[0],
                                   f"{overlay}: {kind} {name}", f"not in namespace {namespaces}")

    def workload(self, overlay, objects, name):
        where = f"{overlay}: Deployment {name}"
        deployment = objects.get(("Deployment", name))
        if not self.report.expect(deployment is not None, where, "missing"):
            return where, None, None
        pod = deployment["spec"]["template"]["spec"]
        containers = pod.get("containers") or []
        self.report.expect(len(containers) == 1, where, f"{len(containers)} containers, not 1")
        return where, deployment, containers[0] if containers else None

    def check_role(self, overlay, objects, role):
        service = self.compose[role]
        where, deployment, container = self.workload(overlay, objects, role)
        if container is None:
            return
        self.check_image(where, service, container)
        self.check_environment(where, objects, service, container)
        self.check_ports(overlay, objects, role, service, container)
        self.check_probes(where, service, container, ready="/readyz")
        self.check_security(where, service, deployment, container)
        self.check_resources(where, service, container)
        grace_ms = self.shutdown_grace_ms(objects, container)
        self.check_stop(where, service, deployment, container, grace_ms / 1000.0)
        self.check_rollout(where, deployment)
        if role == "backline":
            replicas = deployment["spec"].get("replicas", 1)
            self.report.expect(replicas >= 2, where, f"{replicas} replicas; backline runs 2")

    def check_image(self, where, service, container):
        self.report.expect(container.get("image") == service.get("image"), where,
                           f"image {container.get('image')}, Compose has {service.get('image')}")
        policy = container.get("imagePullPolicy")
        self.report.expect(policy in ("IfNotPresent", "Never"), where,
                           f"imagePullPolicy {policy}: a :latest image is pulled every start")

    def check_environment(self, where, objects, service, container):
        k8s = container_environment(objects, container)
        compose = compose_environment(service)
        for name, (is_set, value) in sorted(compose.items()):
            self.check_variable(where, name, is_set, value, k8s.get(name))
        for name, got in sorted(k8s.items()):
            self.report.expect(name in compose, where,
                               f"{name}={describe(got)} is not in Compose's environment")
            self.report.expect(got[0] != "missing", where, f"{name}: {got[1]}")

    def check_variable(self, where, name, is_set, value, got):
        if name in SECRET_VARIABLES:
            self.report.expect(got is not None and got[0] == "secret", where,
                               f"{name} must come from a Secret, not {describe(got)}")
            return
        if is_set:
            self.report.expect(got == ("value", value), where,
                               f"{name}: Compose passes {value!r}, k8s {describe(got)}")
            return
        # Compose passes it from the shell when set there: k8s leaves it unset too (listed,
        # commented out, in the env file) or sets it for a stated reason.
        if got is None:
            self.report.expect(name in self.unset_in_k8s, where,
                               f"{name} (from the shell in Compose) is not listed as "
                               f"`# {name}=` in {self.env_file.name}")
        else:
            self.report.expect(name in K8S_ONLY_VALUES, where,
                               f"{name} is unset in Compose but k8s sets {describe(got)}")

    def check_ports(self, overlay, objects, name, service, container):
        where = f"{overlay}: {name}"
        wanted = sorted({int(p) for p in service.get("expose") or []} |
                        {target for _, target in compose_ports(service)})
        declared = sorted(p["containerPort"] for p in container.get("ports") or [])
        self.report.expect(declared == wanted, where,
                           f"container ports {declared}, Compose exposes {wanted}")
        svc = objects.get(("Service", name))
        if not self.report.expect(svc is not None, where, "no Service of that name"):
            return
        selector = svc["spec"].get("selector") or {}
        labels = objects[("Deployment", name)]["spec"]["template"]["metadata"].get("labels", {})
        self.report.expect(selector and all(labels.get(k) == v for k, v in selector.items()),
                           where, f"Service selector {selector} does not match pods {labels}")
        for port in svc["spec"].get("ports") or []:
            target = port_number(container, port.get("targetPort", port["port"]))
            self.report.expect(target in wanted, where,
                               f"Service port {port['port']} goes to {target}, not {wanted}")
            self.report.expect(str(port.get("name", "")).startswith("http"), where,
                               f"Service port {port['port']} is not named http* (Istio)")
        service_ports = sorted(p["port"] for p in svc["spec"].get("ports") or [])
        self.report.expect(service_ports == wanted, where,
                           f"Service ports {service_ports}, Compose {wanted}")

    def check_probes(self, where, service, container, ready):
        path, port = compose_health_path(service)
        for probe, want in (("livenessProbe", path), ("readinessProbe", ready)):
            got = (container.get(probe) or {}).get("httpGet")
            if not self.report.expect(got is not None, where, f"no {probe} (httpGet)"):
                continue
            self.report.expect(got.get("path") == want, where,
                               f"{probe} asks {got.get('path')}, expected {want}")
            self.report.expect(port_number(container, got.get("port")) == port, where,
                               f"{probe} on port {got.get('port')}, Compose checks {port}")

    def check_security(self, where, service, deployment, container):
        pod = deployment["spec"]["template"]["spec"].get("securityContext") or {}
        own = container.get("securityContext") or {}

        def field(name):
            return own.get(name, pod.get(name))

        uid = field("runAsUser")
        self.report.expect(field("runAsNonRoot") is True, where, "runAsNonRoot is not true")
        self.report.expect(isinstance(uid, int) and uid > 0, where,
                           f"runAsUser {uid}: a numeric non-root uid is needed")
        if service.get("user") is not None:
            want = str(service["user"]).split(":")
            self.report.expect(str(uid) == want[0], where,
                               f"runAsUser {uid}, Compose user {service['user']}")
            if len(want) > 1:
                self.report.expect(str(field("runAsGroup")) == want[1], where,
                                   f"runAsGroup {field('runAsGroup')}, Compose {service['user']}")
        seccomp = (field("seccompProfile") or {}).get("type")
        self.report.expect(seccomp == "RuntimeDefault", where, f"seccompProfile {seccomp}")
        self.report.expect(own.get("allowPrivilegeEscalation") is False, where,
                           "allowPrivilegeEscalation is not false (no-new-privileges)")
        self.report.expect(own.get("readOnlyRootFilesystem") is True, where,
                           "readOnlyRootFilesystem is not true")
        self.check_compose_hardening(where, service, container, own)

    def check_compose_hardening(self, where, service, container, own):
        caps = own.get("capabilities") or {}
        self.report.expect("ALL" in (caps.get("drop") or []), where, "capabilities do not drop ALL")
        added = sorted(caps.get("add") or [])
        compose_added = sorted(c.upper().removeprefix("CAP_") for c in service.get("cap_add") or [])
        self.report.expect(added == compose_added, where,
                           f"capabilities add {added}, Compose cap_add {compose_added}")
        if "read_only" in service:
            self.report.expect(service["read_only"] is True, where,
                               "Compose has read_only: false; k8s has a read-only root")
        options = [str(o).replace("=", ":") for o in service.get("security_opt") or []]
        if options:
            self.report.expect("no-new-privileges:true" in options, where,
                               f"Compose security_opt {options} lacks no-new-privileges")
        if service.get("cap_drop") is not None:
            self.report.expect("ALL" in [c.upper() for c in service["cap_drop"]], where,
                               f"Compose cap_drop {service['cap_drop']}; k8s drops ALL")
        mounts = {m["mountPath"] for m in container.get("volumeMounts") or []}
        for entry in self.compose_tmpfs(service):
            self.report.expect(entry in mounts, where,
                               f"Compose mounts a tmpfs on {entry}; k8s has no volume there")
        if service.get("pids_limit") is not None:
            self.report.note(f"Compose pids_limit {service['pids_limit']} has no pod field; "
                             "Kubernetes sets it per node (kubelet podPidsLimit)")

    @staticmethod
    def compose_tmpfs(service):
        tmpfs = service.get("tmpfs") or []
        entries = [tmpfs] if isinstance(tmpfs, str) else tmpfs
        return [str(entry).split(":")[0] for entry in entries]

    def check_resources(self, where, service, container):
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            got = resources.get(kind) or {}
            self.report.expect("cpu" in got and "memory" in got, where,
                               f"resources.{kind} lacks cpu or memory: {got}")
        limits = resources.get("limits") or {}
        memory = compose_memory_limit(service)
        if memory is not None and "memory" in limits:
            self.report.expect(parse_bytes(memory) == parse_bytes(limits["memory"]), where,
                               f"memory limit {limits['memory']}, Compose {memory}")
        cpus = compose_cpu_limit(service)
        if cpus is not None and "cpu" in limits:
            self.report.expect(parse_cpu_milli(cpus) == parse_cpu_milli(limits["cpu"]), where,
                               f"cpu limit {limits['cpu']}, Compose cpus {cpus}")

    def shutdown_grace_ms(self, objects, container):
        got = container_environment(objects, container).get("SHUTDOWN_GRACE_MS")
        if got and got[0] == "value":
            return int(got[1])
        return self.default_grace_ms or 0

    def check_stop(self, where, service, deployment, container, drain_s):
        """preStop waits for the endpoints to go, then the drain; the grace period covers both
        and is at least Compose's stop_grace_period on top of the preStop wait."""
        sleep_s = pre_stop_sleep_s(container)
        if not self.report.expect(sleep_s is not None and sleep_s > 0, where,
                                  "no preStop hook that sleeps before the stop signal"):
            return
        grace = deployment["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        self.report.expect(grace > sleep_s + drain_s, where,
                           f"terminationGracePeriodSeconds {grace} <= preStop {sleep_s} s "
                           f"+ drain {drain_s} s")
        compose_stop = parse_duration_s(service.get("stop_grace_period", "10s"))
        self.report.expect(grace >= sleep_s + compose_stop, where,
                           f"terminationGracePeriodSeconds {grace} < preStop {sleep_s} s + "
                           f"Compose stop_grace_period {compose_stop} s")

    def check_rollout(self, where, deployment):
        rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        self.report.expect(rolling.get("maxUnavailable") == 0, where,
                           "rollingUpdate.maxUnavailable is not 0: an update would drop capacity")

    def check_gateway(self, overlay, objects):
        service = self.compose[GATEWAY]
        where, deployment, container = self.workload(overlay, objects, GATEWAY)
        if container is None:
            return
        self.check_image(where, service, container)
        self.check_ports(overlay, objects, GATEWAY, service, container)
        path, _ = compose_health_path(service)
        self.check_probes(where, service, container, ready=path)
        self.check_security(where, service, deployment, container)
        self.check_resources(where, service, container)
        timeout = re.search(r"proxy_read_timeout\s+(\d+)s;", self.nginx_conf)
        drain_s = int(timeout.group(1)) if timeout else 0
        self.check_stop(where, service, deployment, container, drain_s)
        self.check_rollout(where, deployment)
        self.check_nginx_conf(where, objects, deployment, container)
        self.check_writable_paths(where, container)

    def check_nginx_conf(self, where, objects, deployment, container):
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes", [])}
        mount = next((m for m in container.get("volumeMounts") or []
                      if m["mountPath"] == NGINX_CONF_PATH), None)
        if not self.report.expect(mount is not None, where,
                                  f"nothing mounted on {NGINX_CONF_PATH}"):
            return
        ref = (volumes.get(mount["name"]) or {}).get("configMap") or {}
        data = (configmap_named(objects, ref.get("name")) or {}).get("data") or {}
        key = mount.get("subPath", "nginx.conf")
        self.report.expect(data.get(key) == self.nginx_conf, where,
                           f"ConfigMap {ref.get('name')} key {key} differs from configs/nginx.conf")

    def check_writable_paths(self, where, container):
        """Nginx writes its pid file and temp files; with a read-only root they need volumes."""
        mounts = {m["mountPath"] for m in container.get("volumeMounts") or []}
        paths = {match.group(1).rsplit("/", 1)[0] for match in
                 re.finditer(r"^\s*(?:pid|\w+_temp_path)\s+(/\S+);", self.nginx_conf, re.M)}
        for path in sorted(paths):
            covered = any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)
            self.report.expect(covered, where, f"Nginx writes under {path}: no volume there")

    def check_domains(self, overlay, objects):
        """Every base URL in the settings and Nginx's upstream name a Service and its port."""
        urls = {}
        configmap = configmap_by_prefix(objects, "circuitlab-env")
        for name, value in ((configmap or {}).get("data") or {}).items():
            if name.endswith("_DOMAIN"):
                urls[name] = value
        for match in re.finditer(r"^\s*server\s+([\w.-]+):(\d+)", self.nginx_conf, re.M):
            urls["nginx.conf upstream"] = f"http://{match.group(1)}:{match.group(2)}"
        for name, url in sorted(urls.items()):
            host, port = re.fullmatch(r"https?://([\w.-]+):(\d+)/?", url).groups()
            svc = objects.get(("Service", host.split(".")[0]))
            ports = [p["port"] for p in (svc or {}).get("spec", {}).get("ports", [])]
            self.report.expect(int(port) in ports, f"{overlay}: {name}",
                               f"{url}: no Service {host} with port {port}")

    def check_budget(self, overlay, objects):
        budgets = [d for (k, _), d in objects.items() if k == "PodDisruptionBudget"]
        selected = [b["spec"]["selector"]["matchLabels"].get("app") for b in budgets]
        self.report.expect("backline" in selected, overlay,
                           f"no PodDisruptionBudget for backline (budgets for {selected})")
        for budget in budgets:
            self.report.expect(budget["spec"].get("minAvailable") == 1 or
                               budget["spec"].get("maxUnavailable") == 1, overlay,
                               f"PodDisruptionBudget {budget['metadata']['name']} allows no drain")

    # -- per overlay

    def check_overlay_kind(self, overlay, objects):
        svc = objects.get(("Service", GATEWAY)) or {"spec": {}}
        where = f"{overlay}: Service {GATEWAY}"
        self.report.expect(svc["spec"].get("type") == "NodePort", where, "not a NodePort")
        node_ports = [p.get("nodePort") for p in svc["spec"].get("ports") or []]
        mappings = [m for node in self.kind_cluster.get("nodes") or []
                    for m in node.get("extraPortMappings") or []]
        mapped = {m["containerPort"]: m["hostPort"] for m in mappings}
        for host_port, _ in compose_ports(self.compose[GATEWAY]):
            ok = any(mapped.get(port) == host_port for port in node_ports)
            self.report.expect(ok, where, f"NodePort {node_ports} is not mapped to host port "
                               f"{host_port} in kind-cluster.yaml ({mapped})")
        for (kind, name), doc in objects.items():
            if kind == "Deployment":
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    self.report.expect(container.get("imagePullPolicy") == "Never",
                                       f"{overlay}: Deployment {name}",
                                       "imagePullPolicy is not Never (images are kind-loaded)")

    def check_overlay_istio(self, overlay, objects):
        namespace = next(d for (k, _), d in objects.items() if k == "Namespace")
        labels = namespace["metadata"].get("labels") or {}
        self.report.expect(labels.get("istio-injection") == "enabled", overlay,
                           "the Namespace is not labelled istio-injection=enabled")
        for host in ("midline", "backline"):
            self.check_destination_rule(overlay, objects, host)
        for role in self.roles():
            self.check_no_mesh_retries(overlay, objects, role)
            self.check_sidecar_drain(overlay, objects, role)

    def check_destination_rule(self, overlay, objects, host):
        rules = [d for (k, _), d in objects.items()
                 if k == "DestinationRule" and d["spec"].get("host") == host]
        where = f"{overlay}: DestinationRule for {host}"
        if not self.report.expect(len(rules) == 1, where, f"{len(rules)} found, expected 1"):
            return
        policy = rules[0]["spec"].get("trafficPolicy") or {}
        outlier = policy.get("outlierDetection") or {}
        pool = policy.get("connectionPool") or {}
        self.report.expect(outlier.get("consecutive5xxErrors", 0) > 0, where,
                           "no outlierDetection.consecutive5xxErrors")
        self.report.expect("baseEjectionTime" in outlier, where, "no baseEjectionTime")
        self.report.expect((pool.get("tcp") or {}).get("maxConnections", 0) > 0, where,
                           "no connectionPool.tcp.maxConnections")
        self.report.expect((pool.get("http") or {}).get("http1MaxPendingRequests", 0) > 0, where,
                           "no connectionPool.http.http1MaxPendingRequests")
        self.report.expect(("Service", host) in objects, where, f"no Service {host}")

    def check_no_mesh_retries(self, overlay, objects, host):
        services = [d for (k, _), d in objects.items()
                    if k == "VirtualService" and host in d["spec"].get("hosts", [])]
        routes = [r for d in services for r in d["spec"].get("http") or []]
        self.report.expect(routes and all((r.get("retries") or {}).get("attempts") == 0
                                          for r in routes),
                           f"{overlay}: VirtualService for {host}",
                           "mesh retries are not off (Istio retries a 503 twice by default)")

    def check_sidecar_drain(self, overlay, objects, role):
        where, deployment, container = self.workload(overlay, objects, role)
        if container is None:
            return
        annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
        config = yaml.safe_load(annotations.get("proxy.istio.io/config", "{}")) or {}
        drain = parse_duration_s(config.get("terminationDrainDuration", "5s"))
        grace_s = self.shutdown_grace_ms(objects, container) / 1000
        need = (pre_stop_sleep_s(container) or 0) + grace_s
        self.report.expect(drain >= need, where,
                           f"sidecar terminationDrainDuration {drain} s < preStop + drain {need} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="the repository's root")
    parser.add_argument("--overlay", action="append", required=True, metavar="NAME=FILE",
                        help="an overlay's name (base, kind, istio) and its rendered YAML")
    args = parser.parse_args()

    report = Report()
    checker = Checker(args.repo, report)
    for item in args.overlay:
        name, _, path = item.partition("=")
        checker.run(name, list(yaml.safe_load_all(Path(path).read_text())))

    for note in sorted(report.notes):
        print(f"note: {note}")
    for problem in report.problems:
        print(f"k8s drift: {problem}", file=sys.stderr)
    print(f"{report.checks - len(report.problems)} checks passed, {len(report.problems)} failed "
          f"({', '.join(name.partition('=')[0] for name in args.overlay)})")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())

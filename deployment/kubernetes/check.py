#!/usr/bin/env python3
"""Invariants of Arcana's rendered Kubernetes manifests that no schema or linter checks.

    check.py RENDERED.yaml [--arcana BIN]

RENDERED.yaml is the output of `kubectl kustomize deployment/kubernetes/overlays/NAME`. Every
failed invariant is printed; the exit status is 1 if there is any. With --arcana, each
container's configuration (its ARCANA_* variables, secret references replaced by stand-ins, and
the ConfigMap's local.toml) is also passed to `BIN config check`, so a key or value the binary
would refuse fails here rather than in a crash-looping pod.

Needs PyYAML (a dependency of kubernetes-validate, installed by .ci/run).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "arcana"
BINARIES = {"arcana", "arcana-controller", "arcana-service", "arcana-repository", "arcana-worker"}
# Paths the image itself provides (deployment/container/Containerfile).
IMAGE_PATHS = ("/etc/arcana/config", "/usr/local/bin")
# Who may open a connection to whom, and on which port; anything else is a finding.
PUBLIC_PORTS = {8080, 9090}
INTERNAL_PORT = 7070
OPS_PORT = 9100
PUBLIC_TIERS = {"controller", "monolith"}
ALLOWED_CALLERS = {"service": {"controller"}, "repository": {"service", "worker"}}
# Keys whose values are secrets: given only as `…__FILE` pointing into a mounted Secret, never
# as a value or a variable (environments leak to child processes and crash reports).
SECRET_VARIABLES = {
    "ARCANA_DATABASE__URL",
    "ARCANA_REDIS__URL",
    "ARCANA_SECURITY__JWT_SECRET",
    "ARCANA_TIERS__SERVICE_CREDENTIAL",
    "ARCANA_TIERS__REPOSITORY_CREDENTIAL",
    "ARCANA_BOOTSTRAP_ADMIN__PASSWORD",
}
# Read by the loader itself, not a configuration key.
LOADER_VARIABLES = {"ARCANA_CONFIG_DIR"}
PIN = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$")


class Findings:
    def __init__(self):
        self.items = []

    def __call__(self, where, problem):
        self.items.append(f"{where}: {problem}")


def known_config_keys():
    """Every key config/default.toml sets or documents (optional keys are commented out there,
    as `# key = value` right under their table)."""
    text = (REPO / "config" / "default.toml").read_text()
    keys = set()

    def walk(table, prefix):
        for key, value in table.items():
            path = f"{prefix}{key}"
            keys.add(path)
            if isinstance(value, dict):
                walk(value, path + ".")

    walk(tomllib.loads(text), "")
    table = ""
    for line in text.splitlines():
        header = re.match(r"^\[([a-z0-9_.]+)\]\s*$", line)
        if header:
            table = header.group(1) + "."
            continue
        commented = re.match(r"^# ([a-z0-9_]+) = ", line)
        if commented:
            keys.add(table + commented.group(1))
    return keys


FILE_SUFFIX = "__FILE"


def variable_key(name):
    """The configuration key of ARCANA_<SECTION>__<KEY> (or of its …__FILE form)."""
    if name.endswith(FILE_SUFFIX):
        name = name[: -len(FILE_SUFFIX)]
    return name[len("ARCANA_"):].lower().replace("__", ".")


def pod_spec(resource):
    spec = resource.get("spec", {})
    return spec.get("template", {}).get("spec")


def containers(spec):
    return [("init", c) for c in spec.get("initContainers", [])] + [
        ("main", c) for c in spec.get("containers", [])
    ]


def component(resource):
    template = resource["spec"]["template"]
    return template.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component")


def check_namespace(docs, find):
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    if [n["metadata"]["name"] for n in namespaces] != [NAMESPACE]:
        find("Namespace", f"exactly one Namespace `{NAMESPACE}` expected")
    for ns in namespaces:
        if ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") != "restricted":
            find("Namespace", "Pod Security `restricted` is not enforced")
    for d in docs:
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != NAMESPACE:
            find(f"{d['kind']}/{d['metadata']['name']}", f"not in namespace {NAMESPACE}")
        if d["kind"] == "Secret":
            find(f"Secret/{d['metadata']['name']}", "secrets are created by the operator, never rendered")


def rule_ports(rule):
    return {p.get("port") for p in rule.get("ports", [])}


def selected_components(policy):
    selector = policy["spec"]["podSelector"]
    labels = selector.get("matchLabels", {})
    if "app.kubernetes.io/component" in labels:
        return {labels["app.kubernetes.io/component"]}
    for expression in selector.get("matchExpressions", []):
        if expression["key"] == "app.kubernetes.io/component" and expression["operator"] == "In":
            return set(expression["values"])
    return None if not selector else set()


def check_network(docs, workloads, find):
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    deny = [
        p for p in policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress") and not p["spec"].get("egress")
    ]
    if not deny:
        find("NetworkPolicy", "no default-deny policy (podSelector {}, Ingress and Egress, no rule)")
    dns = [
        p for p in policies
        if p["spec"]["podSelector"] == {}
        and any(rule_ports(r) == {53} for r in p["spec"].get("egress", []))
    ]
    if not dns:
        find("NetworkPolicy", "no DNS egress for the default-denied pods")
    tiers = {component(w) for w in workloads if w["kind"] == "Deployment"}
    for tier in tiers:
        own = [p for p in policies if (selected_components(p) or set()) == {tier}]
        if not own:
            find(f"tier {tier}", "no NetworkPolicy of its own")
        for policy in own:
            if "Egress" not in policy["spec"].get("policyTypes", []):
                find(f"NetworkPolicy/{policy['metadata']['name']}", "does not govern egress")
    for policy in policies:
        name = f"NetworkPolicy/{policy['metadata']['name']}"
        targets = selected_components(policy)
        for rule in policy["spec"].get("ingress", []):
            ports = rule_ports(rule)
            sources = rule.get("from")
            if not rule.get("ports"):
                find(name, "an ingress rule without ports opens every port")
            if not sources:
                if targets is None or not targets <= PUBLIC_TIERS or not ports <= PUBLIC_PORTS:
                    find(name, f"open ingress to {sorted(targets or ['every pod'])} on {sorted(ports)}")
                continue
            callers = set()
            for source in sources:
                if "ipBlock" in source:
                    find(name, "ingress from an ipBlock")
                labels = source.get("podSelector", {}).get("matchLabels", {})
                if "namespaceSelector" in source:
                    if ports != {OPS_PORT}:
                        find(name, f"ingress from another namespace on {sorted(ports)}")
                    continue
                callers.add(labels.get("app.kubernetes.io/component", "*"))
            if INTERNAL_PORT in ports:
                for target in targets or {"*"}:
                    allowed = ALLOWED_CALLERS.get(target, set())
                    if callers and not callers <= allowed:
                        find(name, f"{sorted(callers - allowed)} may call {target}'s internal port")


def check_services(docs, find):
    for service in (d for d in docs if d["kind"] == "Service"):
        name = f"Service/{service['metadata']['name']}"
        spec = service["spec"]
        tier = spec.get("selector", {}).get("app.kubernetes.io/component")
        ports = {p["port"] for p in spec.get("ports", [])}
        if spec.get("type", "ClusterIP") != "ClusterIP":
            find(name, "exposed beyond the cluster: add your own Ingress or Gateway instead")
        if tier in PUBLIC_TIERS:
            if not ports <= PUBLIC_PORTS:
                find(name, f"public Service carries {sorted(ports - PUBLIC_PORTS)}")
        elif ports != {INTERNAL_PORT}:
            find(name, f"internal Service must carry only {INTERNAL_PORT}, not {sorted(ports)}")


def probe_port_ok(probe, container):
    port = probe.get("httpGet", {}).get("port")
    names = {p.get("name") for p in container.get("ports", [])}
    numbers = {p.get("containerPort") for p in container.get("ports", [])}
    return port in names or port in numbers


def check_pods(workloads, grace_secs, find):
    for workload in workloads:
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        security = spec.get("securityContext", {})
        if security.get("runAsNonRoot") is not True or not security.get("runAsUser"):
            find(name, "pod may run as root (runAsNonRoot true and a non-zero runAsUser required)")
        if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            find(name, "seccomp profile is not RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            find(name, "mounts a service-account token")
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(field):
                find(name, f"{field} is set")
        for kind, container in containers(spec):
            where = f"{name} container {container['name']}"
            context = container.get("securityContext", {})
            if context.get("runAsUser") == 0 or context.get("runAsNonRoot") is False:
                find(where, "runs as root")
            if context.get("allowPrivilegeEscalation") is not False:
                find(where, "allowPrivilegeEscalation is not false")
            if context.get("readOnlyRootFilesystem") is not True:
                find(where, "root filesystem is writable")
            if context.get("privileged"):
                find(where, "privileged")
            caps = context.get("capabilities", {})
            if caps.get("drop") != ["ALL"] or caps.get("add"):
                find(where, "capabilities are not all dropped")
            image = container.get("image", "")
            if not PIN.match(image) or image.endswith(":latest"):
                find(where, f"image `{image}` is not a pinned registry reference")
            resources = container.get("resources", {})
            if not {"cpu", "memory"} <= set(resources.get("requests", {})):
                find(where, "no cpu and memory requests")
            if "memory" not in resources.get("limits", {}):
                find(where, "no memory limit")
            command = container.get("command") or []
            if not command or Path(command[0]).name not in BINARIES or not command[0].startswith("/usr/local/bin/"):
                find(where, f"command {command} is not one of the image's binaries")
            if kind == "main" and workload["kind"] == "Deployment":
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    if probe not in container:
                        find(where, f"no {probe}")
                    elif not probe_port_ok(container[probe], container):
                        find(where, f"{probe} targets a port the container does not declare")
                if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/health/ready":
                    find(where, "readiness is not /health/ready")
                if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/health/live":
                    find(where, "liveness must be /health/live (process-only)")
                sleep = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds")
                if not sleep:
                    find(where, "no preStop sleep: a rolling update would send requests to a stopping pod")
                period = spec.get("terminationGracePeriodSeconds", 30)
                if sleep and period < sleep + grace_secs:
                    find(name, f"terminationGracePeriodSeconds {period} < preStop {sleep} + drain {grace_secs}")
        if workload["kind"] == "Deployment":
            if "replicas" in workload["spec"]:
                find(name, "sets replicas, which the HorizontalPodAutoscaler owns")
            rolling = workload["spec"].get("strategy", {}).get("rollingUpdate", {})
            if rolling.get("maxUnavailable") not in (0, "0%"):
                find(name, "a rolling update may take a serving pod down before its replacement is ready")


def matches(selector, labels):
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def check_scaling(docs, workloads, find):
    deployments = {w["metadata"]["name"]: w for w in workloads if w["kind"] == "Deployment"}
    scaled = set()
    for hpa in (d for d in docs if d["kind"] == "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        if target.get("kind") != "Deployment" or target.get("name") not in deployments:
            find(f"HorizontalPodAutoscaler/{hpa['metadata']['name']}", f"targets no Deployment: {target}")
        scaled.add(target.get("name"))
        if hpa["spec"].get("minReplicas", 1) < 2:
            find(f"HorizontalPodAutoscaler/{hpa['metadata']['name']}", "fewer than two replicas")
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if not matches(deployment["spec"]["selector"], labels):
            find(f"Deployment/{name}", "its selector does not select its own pods")
        if name not in scaled:
            find(f"Deployment/{name}", "no HorizontalPodAutoscaler")
        covering = [b for b in budgets if matches(b["spec"]["selector"], labels)]
        if len(covering) != 1:
            find(f"Deployment/{name}", f"{len(covering)} PodDisruptionBudgets select it, not 1")
    for budget in budgets:
        if not any(matches(budget["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
                   for d in deployments.values()):
            find(f"PodDisruptionBudget/{budget['metadata']['name']}", "selects no Deployment's pods")


def config_maps(docs):
    return {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}


def mounted_local_toml(spec, maps):
    """The local.toml a pod mounts from a ConfigMap, if any."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for _, container in containers(spec):
        for mount in container.get("volumeMounts", []):
            if mount["mountPath"] == "/etc/arcana/config/local.toml":
                name = volumes.get(mount["name"], {}).get("configMap", {}).get("name")
                return maps.get(name, {}).get(mount.get("subPath", ""))
    return None


def flatten(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def check_config(docs, workloads, keys, find):
    maps = config_maps(docs)
    for name, data in maps.items():
        for file, text in data.items():
            if file.endswith(".toml"):
                for key in flatten(tomllib.loads(text)):
                    if key not in keys:
                        find(f"ConfigMap/{name} {file}", f"`{key}` is not a configuration key")
    for workload in workloads:
        spec = pod_spec(workload)
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for _, container in containers(spec):
            where = f"{workload['kind']}/{workload['metadata']['name']} container {container['name']}"
            mounts = {m["mountPath"]: volumes.get(m["name"], {}) for m in container.get("volumeMounts", [])}
            for variable in container.get("env", []):
                name = variable["name"]
                if not name.startswith("ARCANA_"):
                    find(where, f"{name}: Arcana reads no such variable")
                elif name not in LOADER_VARIABLES and variable_key(name) not in keys:
                    find(where, f"{name}: `{variable_key(name)}` is not a key of config/default.toml")
                if "valueFrom" in variable:
                    find(where, f"{name}: values come from the manifest or from files, not valueFrom")
                if name in SECRET_VARIABLES:
                    find(where, f"{name} puts a secret in the environment; use {name}{FILE_SUFFIX}")
                value = variable.get("value", "")
                if not value.startswith("/"):
                    continue
                source = next(
                    (volume for path, volume in mounts.items()
                     if value == path or value.startswith(path.rstrip("/") + "/")),
                    None,
                )
                if source is None and not value.startswith(IMAGE_PATHS):
                    find(where, f"{name}={value}: no volume or image path provides it")
                if name.endswith(FILE_SUFFIX) and name[: -len(FILE_SUFFIX)] in SECRET_VARIABLES:
                    if source is None or "secret" not in source:
                        find(where, f"{name}={value}: a secret must be read from a Secret volume")


def stand_in(name):
    """A value of the right shape for a secret file, for `config check` only."""
    if name == "ARCANA_DATABASE__URL":
        return "postgres://arcana@database.invalid/arcana"
    if name == "ARCANA_REDIS__URL":
        return "redis://redis.invalid:6379"
    return "x" * 48


def check_with_binary(docs, workloads, arcana, find):
    maps = config_maps(docs)
    for workload in workloads:
        spec = pod_spec(workload)
        local = mounted_local_toml(spec, maps)
        for _, container in containers(spec):
            where = f"{workload['kind']}/{workload['metadata']['name']} container {container['name']}"
            with tempfile.TemporaryDirectory() as directory:
                for file in (REPO / "config").glob("*.toml"):
                    shutil.copy(file, directory)
                if local is not None:
                    Path(directory, "local.toml").write_text(local)
                env = {"PATH": os.environ.get("PATH", ""), "ARCANA_CONFIG_DIR": directory}
                for variable in container.get("env", []):
                    name, value = variable["name"], variable.get("value", "")
                    if name.endswith(FILE_SUFFIX):
                        # The Secret's file does not exist here: the same key, from a stand-in.
                        value = str(Path(directory, name))
                        Path(value).write_text(stand_in(name[: -len(FILE_SUFFIX)]) + "\n")
                    env[name] = value
                done = subprocess.run([arcana, "config", "check"], env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    find(where, f"`arcana config check` refuses its configuration:\n{done.stdout}{done.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rendered")
    parser.add_argument("--arcana", help="an arcana binary to run `config check` with")
    args = parser.parse_args()
    docs = [d for d in yaml.safe_load_all(Path(args.rendered).read_text()) if d]
    find = Findings()
    workloads = [d for d in docs if d["kind"] in ("Deployment", "Job")]
    if not any(d["kind"] == "Deployment" for d in docs):
        find(args.rendered, "renders no Deployment")
    defaults = tomllib.loads((REPO / "config" / "default.toml").read_text())
    grace = defaults["server"]["shutdown_grace_secs"]
    for data in config_maps(docs).values():
        if "local.toml" in data:
            grace = tomllib.loads(data["local.toml"]).get("server", {}).get("shutdown_grace_secs", grace)
    check_namespace(docs, find)
    check_network(docs, workloads, find)
    check_services(docs, find)
    check_pods(workloads, grace, find)
    check_scaling(docs, workloads, find)
    check_config(docs, workloads, known_config_keys(), find)
    if args.arcana:
        check_with_binary(docs, workloads, args.arcana, find)
    for item in find.items:
        print(f"  {item}")
    print(f"{args.rendered}: {len(find.items)} finding(s)")
    return 1 if find.items else 0


if __name__ == "__main__":
    sys.exit(main())

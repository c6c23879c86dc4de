#!/usr/bin/env python3
"""What a deployment file asks of the suite's executables, as JSON for DeploymentTests.

    deployment_facts.py compose docker-compose.yml [NAME=VALUE...]
    deployment_facts.py k8s rendered.yaml        # the output of `kubectl kustomize OVERLAY`

Prints {"services": [...], "references": [...]} (and for compose "interpolated", the
`${VAR}` names it takes from the environment or .env): per container running one of the suite's
executables its name (the DNS name others reach it by), the executable, the environment it
gets (compose's `${VAR}` resolved from the NAME=VALUE arguments, as from .env, else
`${VAR:-default}` to the default and `${VAR:?}` to a placeholder; a
Kubernetes value from elsewhere as empty), the container ports, the probes (HTTP paths and
ports, or the `--health-check` argument) and the scrape annotations; and every
`(host, port)` some other part names (URLs in the environment, socat forwarders, Kubernetes
Services), so the test can check each against the port that service really listens on.
The test compares all of it with each executable's own `--print-config`; nothing here
knows what the services read.
"""
import base64
import json
import re
import sys

import yaml

URL = re.compile(r"^[a-z]+://(?:[^@/]*@)?([A-Za-z0-9.-]+):(\d+)")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


GIVEN = {}


def interpolate(value):
    def replace(match):
        if match.group(1) in GIVEN:
            return GIVEN[match.group(1)]
        operator, default = match.group(2), match.group(3)
        if operator in (":-", "-"):
            return default
        if operator in (":?", "?"):
            return "placeholder"
        return ""

    return INTERPOLATION.sub(replace, str(value)).replace("$$", "$")


def references_in(environment, source):
    found = []
    for key, value in environment.items():
        for part in str(value).split(","):
            match = URL.match(part.strip())
            if match:
                found.append({"host": match.group(1), "port": int(match.group(2)), "where": f"{source} {key}"})
    return found


def compose(path):
    document = yaml.safe_load(open(path))
    services, references = [], []
    for name, spec in document["services"].items():
        command = spec.get("command") or []
        if "build" in spec:
            environment = {key: interpolate(value) for key, value in (spec.get("environment") or {}).items()}
            ports = [int(interpolate(port).rsplit(":", 1)[-1]) for port in spec.get("ports") or []]
            test = (spec.get("healthcheck") or {}).get("test") or []
            services.append({
                "name": name,
                "executable": command[0],
                "environment": environment,
                "ports": ports,
                "health_check": test[1:] if test[:1] == ["CMD"] else test,
            })
            references += references_in(environment, name)
        for argument in command:
            match = re.match(r"^TCP:([A-Za-z0-9.-]+):(\d+)$", str(argument))
            if match:
                references.append({"host": match.group(1), "port": int(match.group(2)), "where": f"{name} forwarder"})
    interpolated = sorted({match.group(1) for match in INTERPOLATION.finditer(open(path).read())})
    return {"services": services, "references": references, "interpolated": interpolated}


def k8s(path):
    objects = [item for item in yaml.safe_load_all(open(path)) if item]
    by_kind = {}
    for item in objects:
        by_kind.setdefault(item["kind"], {})[item["metadata"]["name"]] = item
    services, references = [], []
    owners = {}
    for name, deployment in by_kind.get("Deployment", {}).items():
        pod = deployment["spec"]["template"]
        spec = pod["spec"]
        container = spec["containers"][0]
        environment = {}
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                environment.update(by_kind["ConfigMap"][source["configMapRef"]["name"]].get("data") or {})
            if "secretRef" in source:
                data = by_kind["Secret"][source["secretRef"]["name"]].get("data") or {}
                environment.update({key: base64.b64decode(value).decode() for key, value in data.items()})
        for variable in container.get("env") or []:
            environment[variable["name"]] = variable.get("value", "")
        ports = {port.get("name"): port["containerPort"] for port in container.get("ports") or []}

        def probe(kind):
            get = (container.get(kind) or {}).get("httpGet")
            if not get:
                return None
            port = get["port"]
            return {"path": get["path"], "port": ports.get(port) if isinstance(port, str) else port}

        annotations = pod["metadata"].get("annotations") or {}
        selector = deployment["spec"]["selector"]["matchLabels"]
        owners[json.dumps(selector, sort_keys=True)] = (name, ports)
        services.append({
            "name": name,
            "executable": (container.get("args") or container.get("command"))[0],
            "environment": environment,
            "ports": sorted(ports.values()),
            "probes": {kind: probe(kind) for kind in ("livenessProbe", "readinessProbe", "startupProbe")},
            "scrape": {"port": int(annotations.get("prometheus.io/port", 0)), "path": annotations.get("prometheus.io/path")},
            "service_links": spec.get("enableServiceLinks", True),
        })
        references += references_in(environment, name)
    for name, service in by_kind.get("Service", {}).items():
        owner = owners.get(json.dumps(service["spec"].get("selector") or {}, sort_keys=True))
        if not owner:
            continue
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            target = owner[1].get(target) if isinstance(target, str) else target
            references.append({"host": name, "port": port["port"], "where": f"Service {name}"})
            references.append({"host": owner[0], "port": target, "where": f"Service {name} targetPort"})
    return {"services": services, "references": references}


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    GIVEN.update(argument.split("=", 1) for argument in sys.argv[3:])
    print(json.dumps(compose(path) if kind == "compose" else k8s(path), indent=1))

"""Image discovery speed (issue 8 §6), measured side by side in one run.

1. A generated corpus (default 60 MB, deterministic: the same bytes on every run) of manifests as a
   platform repository holds them: CustomResourceDefinitions with large openAPIV3Schema (pod
   templates described field by field), Deployments and StatefulSets, ConfigMaps carrying whole
   documents (helper pods, Helm values, dashboards), Secrets, Services and RBAC. kenv's discovery
   (`read_inputs` over the directory) beside a bare `yaml.load_all(..., Loader=CSafeLoader)` of the
   same files, both reading the files themselves. Target: kenv <= 1.5x the bare parse. Discovery
   with its pre-filter off (every document parsed) runs beside them, to show what the filter saves.
2. ArgoCD's install manifest (tests/fixtures/images/argocd-v3.5.1-install.yaml, 1.9 MB): discovery
   in-process and `kenv images discover FILE -o json` as a cold process. Target: <= 0.3 s.

Usage: .venv/bin/python bench/images_discovery.py [--runs 5] [--megabytes 60]
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, user_environment
from kenv.images.discovery import read_inputs

REPO = Path(__file__).resolve().parent.parent
ARGOCD = REPO / "tests" / "fixtures" / "images" / "argocd-v3.5.1-install.yaml"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

VOCABULARY = (
    "the container image name pull policy resources limits requests volume mount path port protocol "
    "probe readiness liveness startup handler exec command args environment variable secret config "
    "map key reference selector label annotation node affinity toleration scheduling priority "
    "security context capabilities user group filesystem read only service account token lifecycle"
)
WORDS = VOCABULARY.split()

DEFAULTS = {"string": "IfNotPresent", "integer": "1", "boolean": "false"}


def prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def crd(rng: random.Random, i: int) -> str:
    """A CRD whose schema describes a pod template, as kubebuilder writes them: deep, with long
    multi-line descriptions (many mention images) and a few scalar defaults."""
    lines = [
        "apiVersion: apiextensions.k8s.io/v1",
        "kind: CustomResourceDefinition",
        "metadata:",
        f"  name: widgets{i}.bench.example.com",
        "  annotations:",
        "    controller-gen.kubebuilder.io/version: v0.16.4",
        "spec:",
        "  group: bench.example.com",
        f"  names: {{kind: Widget{i}, listKind: Widget{i}List, plural: widgets{i}, singular: widget{i}}}",
        "  scope: Namespaced",
        "  versions:",
        "  - name: v1",
        "    served: true",
        "    storage: true",
        "    schema:",
        "      openAPIV3Schema:",
        "        type: object",
        "        properties:",
    ]

    def schema(indent: int, depth: int) -> None:
        pad = " " * indent
        for p in range(rng.randint(3, 6) if depth else 8):
            name = f"{rng.choice(WORDS)}{p}"
            lines.append(f"{pad}{name}:")
            lines.append(f"{pad}  description: |-")
            lines.extend(f"{pad}    {prose(rng, 12)}" for _ in range(rng.randint(1, 4)))
            if depth < 4 and rng.random() < 0.55:
                lines.append(f"{pad}  type: object")
                lines.append(f"{pad}  properties:")
                schema(indent + 4, depth + 1)
            else:
                kind = rng.choice(("string", "integer", "boolean"))
                lines.append(f"{pad}  type: {kind}")
                if rng.random() < 0.1:
                    lines.append(f"{pad}  default: {DEFAULTS[kind]}")

    schema(10, 0)
    return "\n".join(lines) + "\n"


def deployment(rng: random.Random, i: int, kind: str = "Deployment") -> str:
    containers = "".join(
        f"""      - name: c{c}
        image: registry.example.com/team{i % 40}/app{c}:{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}
        imagePullPolicy: IfNotPresent
        args: ["--port=80{c}", "--log-level=info", "--config=/etc/app/config.yaml"]
        env:
        - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
        - {{name: LOG_FORMAT, value: json}}
        - {{name: SIDECAR_IMAGE, value: "quay.io/acme/sidecar:v{rng.randint(1, 5)}"}}
        ports: [{{containerPort: 80{c}, name: http{c}}}]
        resources: {{limits: {{cpu: 500m, memory: 256Mi}}, requests: {{cpu: 100m, memory: 64Mi}}}}
        readinessProbe: {{httpGet: {{path: /healthz, port: 80{c}}}, periodSeconds: 10}}
        volumeMounts: [{{name: config, mountPath: /etc/app}}]
"""
        for c in range(rng.randint(1, 3))
    )
    return f"""apiVersion: apps/v1
kind: {kind}
metadata:
  name: app-{i}
  namespace: team-{i % 40}
  labels: {{app.kubernetes.io/name: app-{i}, app.kubernetes.io/part-of: bench}}
  annotations: {{description: "{prose(rng, 10)}"}}
spec:
  replicas: {rng.randint(1, 5)}
  selector: {{matchLabels: {{app.kubernetes.io/name: app-{i}}}}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: app-{i}}}
    spec:
      serviceAccountName: app-{i}
      securityContext: {{runAsNonRoot: true, runAsUser: 1000}}
      initContainers:
      - name: migrate
        image: registry.example.com/team{i % 40}/migrate:{rng.randint(1, 9)}.0
      containers:
{containers}      volumes:
      - name: config
        configMap: {{name: app-{i}}}
"""


def configmap(rng: random.Random, i: int) -> str:
    if i % 3 == 0:  # a helper pod, as local-path-config carries one
        body = (
            "  helperPod.yaml: |-\n    apiVersion: v1\n    kind: Pod\n    metadata:\n      name: helper-pod\n"
            "    spec:\n      containers:\n      - name: helper\n"
            f'        image: "%{{SYSTEM_DEFAULT_REGISTRY}}%rancher/mirrored-library-busybox:1.36.{i % 5}"\n'
        )
    elif i % 3 == 1:  # Helm values kept for a chart
        body = (
            "  values.yaml: |\n    image:\n      registry: docker.io\n      repository: bitnami/redis\n"
            f"      tag: 7.4.{i % 9}\n    auth: {{enabled: true}}\n"
        )
    else:  # a dashboard or a config file: text, no image
        rows = "\n".join(
            f'      {{"title": "{prose(rng, 4)}", "expr": "rate(http_requests_total[5m])"}},' for _ in range(40)
        )
        body = f'  dashboard.json: |\n    {{\n      "panels": [\n{rows}\n      ]\n    }}\n'
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}\n  namespace: team-{i % 40}\ndata:\n{body}"


def secret(rng: random.Random, i: int) -> str:
    token = base64.b64encode(rng.randbytes(48)).decode()
    config = base64.b64encode(f"user: app{i}\npassword: {rng.randbytes(12).hex()}\n".encode()).decode()
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-{i}\n  namespace: team-{i % 40}\ntype: Opaque\n"
        f"data:\n  token: {token}\n  config.yaml: {config}\n"
    )


def service(rng: random.Random, i: int) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i}\n  namespace: team-{i % 40}\n"
        f"spec:\n  selector: {{app.kubernetes.io/name: app-{i}}}\n"
        f"  ports:\n  - {{name: http, port: 80, targetPort: {8000 + rng.randint(0, 99)}}}\n"
    )


def rbac(rng: random.Random, i: int) -> str:
    return (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
        f"metadata:\n  name: app-{i}\n  namespace: team-{i % 40}\n"
        "rules:\n- apiGroups: ['']\n  resources: [configmaps, secrets, pods]\n  verbs: [get, list, watch]\n"
        "---\napiVersion: v1\nkind: ServiceAccount\n"
        f"metadata:\n  name: app-{i}\n  namespace: team-{i % 40}\n"
    )


def generate(directory: Path, megabytes: int) -> int:
    """Files of about 3 MB each until the corpus holds `megabytes`; returns the bytes written."""
    rng = random.Random(8)
    written, number, i = 0, 0, 0
    while written < megabytes * 1024 * 1024:
        parts: list[str] = []
        size = 0
        while size < 3 * 1024 * 1024:
            roll = rng.random()
            if roll < 0.006:
                text = crd(rng, i)
            elif roll < 0.40:
                text = deployment(rng, i, "StatefulSet" if i % 5 == 0 else "Deployment")
            elif roll < 0.58:
                text = configmap(rng, i)
            elif roll < 0.72:
                text = secret(rng, i)
            elif roll < 0.88:
                text = service(rng, i)
            else:
                text = rbac(rng, i)
            parts.append(text)
            size += len(text)
            i += 1
        data = "---\n".join(parts)
        (directory / f"part-{number:03d}.yaml").write_text(data)
        written += len(data.encode())
        number += 1
    return written


def bare_parse(files: list[Path]) -> int:
    count = 0
    for path in files:
        count += sum(1 for _ in yaml.load_all(path.read_text(), Loader=LOADER))
    return count


def byte_mix(files: list[Path]) -> str:
    from kenv.images.discovery import _top_level_kind, split_documents

    sizes: dict[str, int] = {}
    for path in files:
        for chunk in split_documents(path.read_text()):
            kind = _top_level_kind(chunk) or "?"
            sizes[kind] = sizes.get(kind, 0) + len(chunk)
    total = sum(sizes.values())
    return ", ".join(f"{k} {v * 100 / total:.0f}%" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1]))


def without_prefilter(paths: list[str]) -> object:
    """Discovery parsing every document (what the pre-filter saves, measured)."""
    from kenv.images import discovery

    original = discovery.worth_parsing
    discovery.worth_parsing = lambda chunk: True
    try:
        return read_inputs(paths)
    finally:
        discovery.worth_parsing = original


def timed(function: object, *args: object) -> float:
    started = time.perf_counter()
    function(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=60)
    args = parser.parse_args()
    print(f"machine: {machine()}; PyYAML loader {LOADER.__name__}")
    # ArgoCD first: a heap holding the corpus's results would slow it down (garbage collection).
    text = ARGOCD.read_text()
    from kenv.images.discovery import discover_text

    discover_text(text, str(ARGOCD))  # unmeasured: first-call costs (regular expressions, the loader)
    inside = [timed(discover_text, text, str(ARGOCD)) for _ in range(args.runs)]
    env = user_environment()
    subprocess.run([sys.executable, "-m", "kenv", "--version"], env=env, capture_output=True, check=False)
    cold = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kenv", "images", "discover", str(ARGOCD), "-o", "json"],
            env=env,
            capture_output=True,
            check=True,
        )
        cold.append(time.perf_counter() - started)
    bare_argocd = [timed(lambda: list(yaml.load_all(text, Loader=LOADER))) for _ in range(args.runs)]
    print(
        f"ArgoCD install.yaml ({len(text) / 1024 / 1024:.1f} MB, {args.runs} runs): discovery in-process median "
        f"{statistics.median(inside) * 1000:.0f} ms (bare parse {statistics.median(bare_argocd) * 1000:.0f} ms); "
        f"`kenv images discover -o json` cold process median {statistics.median(cold) * 1000:.0f} ms "
        "(target <= 300 ms)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        size = generate(corpus, args.megabytes)
        files = sorted(corpus.glob("*.yaml"))
        documents = bare_parse(files)
        found = read_inputs([str(corpus)])
        print(
            f"corpus: {size / 1024 / 1024:.1f} MB in {len(files)} files, {documents} documents; "
            f"kenv finds {len(found.images)} images, {len(found.warnings)} warnings"
        )
        print(f"corpus bytes by kind: {byte_mix(files)}")
        del found  # kept alive, its objects would make every collection below slower
        bare, kenv, unfiltered = [], [], []
        for _ in range(args.runs):  # interleaved, so all three see the same machine load
            bare.append(timed(bare_parse, files))
            kenv.append(timed(read_inputs, [str(corpus)]))
            unfiltered.append(timed(without_prefilter, [str(corpus)]))
        b, k, u = statistics.median(bare), statistics.median(kenv), statistics.median(unfiltered)
        print(
            f"corpus ({args.runs} runs): bare CSafeLoader parse median {b:.2f} s; kenv discovery median {k:.2f} s, "
            f"ratio {k / b:.2f} (target <= 1.5); with the pre-filter off {u:.2f} s, ratio {u / b:.2f}"
        )


if __name__ == "__main__":
    main()

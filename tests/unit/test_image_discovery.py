"""Image discovery (issue 8 §2): every source and trap, on fixtures written after upstream manifests."""

from __future__ import annotations

import base64
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kenv.errors import InvalidInput
from kenv.images import discovery as disc
from kenv.images.discovery import DEFINITE, PROBABLE, Discovery, discover_documents, discover_text, read_inputs

# k3s manifests/local-storage.yaml (v1.31): the helper pod's image hides in a ConfigMap value,
# behind a %{SYSTEM_DEFAULT_REGISTRY}% placeholder (seed 000).
LOCAL_STORAGE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: local-path-provisioner
  namespace: kube-system
  labels:
    app: local-path-provisioner
spec:
  template:
    spec:
      containers:
      - name: local-path-provisioner
        image: "%{SYSTEM_DEFAULT_REGISTRY}%rancher/local-path-provisioner:v0.0.30"
        imagePullPolicy: IfNotPresent
        command:
        - local-path-provisioner
        - start
        - --config
        - /etc/config/config.json
        env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-path-config
  namespace: kube-system
data:
  config.json: |-
    {
      "nodePathMap":[
      {
        "node":"DEFAULT_PATH_FOR_NON_LISTED_NODES",
        "paths":["%{DEFAULT_LOCAL_STORAGE_PATH}%"]
      }
      ]
    }
  setup: |-
    #!/bin/sh
    while getopts "m:s:p:" opt
    do
        case $opt in
            p)
            absolutePath=$OPTARG
            ;;
        esac
    done
    mkdir -m 0777 -p ${absolutePath}
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata:
      name: helper-pod
    spec:
      containers:
      - name: helper-pod
        image: "%{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-library-busybox:1.36.1"
        imagePullPolicy: IfNotPresent
"""


def found(d: Discovery) -> dict[str, str]:
    return {image.ref: image.tier for image in d.images.values()}


def test_configmap_embedded_helper_pod_and_placeholders() -> None:
    d = discover_text(LOCAL_STORAGE, "local-storage.yaml")
    assert found(d) == {
        "docker.io/rancher/local-path-provisioner:v0.0.30": DEFINITE,
        "docker.io/rancher/mirrored-library-busybox:1.36.1": DEFINITE,
    }
    (source,) = d.images["docker.io/rancher/mirrored-library-busybox:1.36.1"].sources
    assert (source.file, source.document, source.kind, source.namespace, source.name) == (
        "local-storage.yaml",
        2,
        "ConfigMap",
        "kube-system",
        "local-path-config",
    )
    assert source.path == "data.helperPod.yaml>spec.containers[0].image"
    assert source.as_written == "%{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-library-busybox:1.36.1"
    assert d.warnings == []


def test_unquoted_placeholders_top_level_and_embedded() -> None:
    text = """\
kind: ConfigMap
metadata: {name: c}
data:
  pod.yaml: |
    spec:
      containers:
      - image: %{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-pause:3.6
---
kind: Pod
metadata: {name: p}
spec:
  containers:
  - image: %{SYSTEM_DEFAULT_REGISTRY}%rancher/mirrored-coredns-coredns:1.12.0
"""
    d = discover_text(text, "k3s.yaml")
    assert set(d.images) == {
        "docker.io/rancher/mirrored-pause:3.6",
        "docker.io/rancher/mirrored-coredns-coredns:1.12.0",
    }
    assert d.warnings == []


def test_pod_spec_lists_everywhere_and_custom_resources() -> None:
    text = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: ops}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{name: init, image: "busybox:1.36"}]
          containers:
          - name: main
            image: ghcr.io/acme/backup@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          ephemeralContainers: [{name: debug, image: "nicolaka/netshoot:v0.13"}]
---
apiVersion: postgres-operator.crunchydata.com/v1beta1
kind: PostgresCluster
metadata: {name: hippo}
spec:
  instances:
  - name: instance1
    containers:
    - name: sidecar
      image: registry.example.com:5000/team/sidecar:2.0
"""
    d = discover_text(text, "f.yaml")
    assert set(found(d)) == {
        "docker.io/library/busybox:1.36",
        "ghcr.io/acme/backup@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "docker.io/nicolaka/netshoot:v0.13",
        "registry.example.com:5000/team/sidecar:2.0",
    }
    sidecar = d.images["registry.example.com:5000/team/sidecar:2.0"].sources[0]
    assert (sidecar.kind, sidecar.name, sidecar.path) == (
        "PostgresCluster",
        "hippo",
        "spec.instances[0].containers[0].image",
    )
    assert d.images["docker.io/library/busybox:1.36"].sources[0].path == (
        "spec.jobTemplate.spec.template.spec.initContainers[0].image"
    )


def test_image_volumes_and_split_maps() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: nginx:1.27}]
  volumes:
  - name: data
    image:
      reference: quay.io/crio/artifact:v2
      pullPolicy: IfNotPresent
---
# Helm values (bitnami style)
image:
  registry: docker.io
  repository: bitnami/postgresql
  tag: 16.4.0-debian-12-r0
  digest: ""
metrics:
  image: {registry: quay.io, repository: prometheuscommunity/postgres-exporter, tag: v0.15.0}
exporter:
  image: {repository: acme/exporter, tag: 3}
unknownTag:
  image: {repository: acme/chart-version, tag: ""}
git:
  repository: https://github.com/acme/charts
"""
    d = discover_text(text, "values.yaml")
    assert set(found(d)) == {
        "docker.io/library/nginx:1.27",
        "quay.io/crio/artifact:v2",
        "docker.io/bitnami/postgresql:16.4.0-debian-12-r0",
        "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
        "docker.io/acme/exporter:3",
    }
    assert d.images["quay.io/crio/artifact:v2"].sources[0].path == "spec.volumes[0].image.reference"
    assert d.images["docker.io/bitnami/postgresql:16.4.0-debian-12-r0"].sources[0].path == "image"


def test_env_and_args_are_probable() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: operator, namespace: olm}
spec:
  template:
    spec:
      containers:
      - name: manager
        image: quay.io/acme/operator:v1.2.0
        args:
        - --leader-elect
        - --sidecar-image=quay.io/acme/sidecar:v1.2.0
        - --init-image
        - docker.io/acme/init:1
        env:
        - name: RELATED_IMAGE_POSTGRES
          value: registry.developers.crunchydata.com/crunchydata/crunchy-postgres:ubi9-16.4-2
        - {name: PGBOUNCER_IMAGE, value: "acme/pgbouncer:1.23"}
        - {name: IMAGE_PULL_POLICY, value: IfNotPresent}
        - {name: DEFAULT_IMAGE, value: busybox}
        - {name: IMAGE_TAG, value: "v1"}
        - {name: LOG_LEVEL, value: "acme/not-an-image:1"}
"""
    d = discover_text(text, "op.yaml")
    assert found(d) == {
        "quay.io/acme/operator:v1.2.0": DEFINITE,
        "quay.io/acme/sidecar:v1.2.0": PROBABLE,
        "docker.io/acme/init:1": PROBABLE,
        "registry.developers.crunchydata.com/crunchydata/crunchy-postgres:ubi9-16.4-2": PROBABLE,
        "docker.io/acme/pgbouncer:1.23": PROBABLE,
    }
    sources = d.images["docker.io/acme/pgbouncer:1.23"].sources
    assert sources[0].path == "spec.template.spec.containers[0].env[1].value"


def test_no_false_positives() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {image: nginx, app.kubernetes.io/image: redis}
  annotations:
    image: "postgres:16"
    kubectl.kubernetes.io/last-applied-configuration: '{"spec":{"containers":[{"image":"ghost:5"}]}}'
spec:
  containers:
  - {name: a, image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"}
  - {name: b, image: "${REGISTRY}/app:1"}
  - {name: c, image: true}
  - {name: d, image: 42}
  - {name: e, image: "not an image"}
  - {name: f, image: "UPPER/Case:1"}
  - {name: g, image: ""}
  - {name: h, image: {repository: "{{ .Values.repo }}", tag: "1"}}
"""
    d = discover_text(text, "f.yaml")
    assert found(d) == {}


def test_familiar_and_canonical_collapse_keeping_sources() -> None:
    text = """\
kind: Pod
metadata: {name: a}
spec: {containers: [{name: x, image: nginx}]}
---
kind: Pod
metadata: {name: b}
spec: {containers: [{name: x, image: "docker.io/library/nginx:latest"}]}
---
kind: Pod
metadata: {name: c}
spec: {containers: [{name: x, image: "index.docker.io/library/nginx"}], initContainers: []}
---
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: y, image: q, env: [{name: X_IMAGE, value: "nginx:latest"}]}]}}}
"""
    d = discover_text(text, "f.yaml")
    image = d.images["docker.io/library/nginx:latest"]
    assert image.familiar == "nginx:latest"
    assert image.tier == DEFINITE  # a probable sighting never lowers a definite one
    assert [s.as_written for s in image.sources] == [
        "nginx",
        "docker.io/library/nginx:latest",
        "index.docker.io/library/nginx",
        "nginx:latest",
    ]
    assert [s.document for s in image.sources] == [1, 2, 3, 4]
    assert d.find("library/nginx") is image
    assert d.find("{{ nope }}") is None


def test_lists_and_json() -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "kind": "Pod",
                "metadata": {"name": "p1", "namespace": "n"},
                "spec": {"containers": [{"image": "redis:7"}]},
            },
            {"kind": "Pod", "metadata": {"name": "p2"}, "spec": {"containers": [{"image": "redis:7"}]}},
        ],
    }
    d = discover_text(json.dumps(listing, indent=1), "l.json")
    sources = d.images["docker.io/library/redis:7"].sources
    assert [(s.kind, s.namespace, s.name, s.path) for s in sources] == [
        ("Pod", "n", "p1", "items[0].spec.containers[0].image"),
        ("Pod", None, "p2", "items[1].spec.containers[0].image"),
    ]
    d2 = discover_documents([listing], "parsed")
    assert set(d2.images) == {"docker.io/library/redis:7"}


def test_secret_data_base64_and_string_data() -> None:
    pod = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: alpine:3.20\n"
    text = f"""\
apiVersion: v1
kind: Secret
metadata: {{name: s}}
data:
  pod.yaml: {base64.b64encode(pod.encode()).decode()}
  token: {base64.b64encode(b"alpine:3.19").decode()}
stringData:
  other.yaml: |
    image: alpine:3.18
"""
    d = discover_text(text, "s.yaml")
    assert set(d.images) == {"docker.io/library/alpine:3.20", "docker.io/library/alpine:3.18"}
    assert d.images["docker.io/library/alpine:3.20"].sources[0].path == "data.pod.yaml>spec.containers[0].image"


def test_broken_document_warns_and_others_are_read() -> None:
    text = "kind: Pod\nspec: {containers: [{image: a/one:1}]}\n---\nimage: [unclosed\n---\nimage: a/three:3\n"
    d = discover_text(text, "mixed.yaml")
    assert set(d.images) == {"docker.io/a/one:1", "docker.io/a/three:3"}
    assert len(d.warnings) == 1
    line = d.warnings[0].one_line()
    assert line.startswith("mixed.yaml: document 2: not valid YAML")


def test_read_inputs_files_directories_and_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deploy" / "sub").mkdir(parents=True)
    (tmp_path / "deploy" / "a.yaml").write_text("image: a/a:1\n")
    (tmp_path / "deploy" / "sub" / "b.yml").write_text("image: a/b:1\n")
    (tmp_path / "deploy" / "sub" / "c.json").write_text('{"image": "a/c:1"}')
    (tmp_path / "deploy" / "notes.txt").write_text("image: a/ignored:1\n")
    (tmp_path / "deploy" / "bin.yaml").write_bytes(b"\x7fELF\x00\x00image")
    (tmp_path / "deploy" / "latin1.yaml").write_bytes(b"image: caf\xe9\n")
    (tmp_path / "deploy" / "huge.yaml").write_text("image: a/huge:1\n" * 10)
    monkeypatch.setattr(disc, "MAX_FILE_BYTES", 100)
    d = read_inputs([str(tmp_path / "deploy")])
    assert set(d.images) == {"docker.io/a/a:1", "docker.io/a/b:1", "docker.io/a/c:1"}
    messages = sorted(w.one_line() for w in d.warnings)
    assert len(messages) == 3
    assert any("bin.yaml: a binary file" in m for m in messages)
    assert any("latin1.yaml: not UTF-8" in m for m in messages)
    assert any("huge.yaml" in m and "larger than" in m for m in messages)


def test_unreadable_file_warns(tmp_path: Path) -> None:
    target = tmp_path / "locked.yaml"
    target.write_text("image: a/a:1\n")
    target.chmod(0)
    try:
        d = read_inputs([str(target), str(tmp_path)])
        if not d.warnings:
            pytest.skip("running as root: permissions are not enforced")
        assert "locked.yaml: cannot be read" in d.warnings[0].one_line()
    finally:
        target.chmod(0o600)


def test_missing_path_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file or directory"):
        read_inputs([str(tmp_path / "nope.yaml")])


# The CLI command in-process (tests/e2e/test_images_discover.py runs it as `python -m kenv`).


def _cli(*args: str, input_text: str | None = None) -> object:
    from kenv.cli.cmd_images import images

    return CliRunner().invoke(images, ["discover", *args], input=input_text)


def test_cli_json_contract_pinned(tmp_path: Path) -> None:
    (tmp_path / "local-storage.yaml").write_text(LOCAL_STORAGE)
    result = _cli(str(tmp_path / "local-storage.yaml"), "-o", "json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.output)  # type: ignore[attr-defined]
    assert list(data) == ["images"]
    first = data["images"][0]
    assert list(first) == ["ref", "familiar", "tier", "sources"]
    assert list(first["sources"][0]) == ["file", "document", "kind", "namespace", "name", "path", "as_written"]
    assert [(i["ref"], i["familiar"], i["tier"]) for i in data["images"]] == [
        ("docker.io/rancher/local-path-provisioner:v0.0.30", "rancher/local-path-provisioner:v0.0.30", "definite"),
        ("docker.io/rancher/mirrored-library-busybox:1.36.1", "rancher/mirrored-library-busybox:1.36.1", "definite"),
    ]


def test_cli_stdin_table_and_why() -> None:
    result = _cli("-", input_text=LOCAL_STORAGE)
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert "rancher/mirrored-library-busybox:1.36.1" in result.output  # type: ignore[attr-defined]
    why = _cli("-", "--why", "docker.io/rancher/mirrored-library-busybox:1.36.1", input_text=LOCAL_STORAGE)
    assert why.exit_code == 0  # type: ignore[attr-defined]
    assert "local-path-config" in why.output  # type: ignore[attr-defined]
    assert "data.helperPod.yaml>spec.containers[0].image" in why.output  # type: ignore[attr-defined]
    missing = _cli("-", "--why", "busybox:1.36.1", input_text=LOCAL_STORAGE)
    assert missing.exit_code != 0  # type: ignore[attr-defined]
    assert isinstance(missing.exception, InvalidInput)  # type: ignore[attr-defined]


# --kustomize: rendered by the real kubectl (kustomize is built in, works offline).


def _kustomization(root: Path) -> Path:
    base = root / "app"
    base.mkdir()
    (base / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec: {template: {spec: {containers: [{name: web, image: image-web-placeholder}]}}}\n"
    )
    (base / "kustomization.yaml").write_text(
        "resources: [deployment.yaml]\n"
        "images:\n- name: image-web-placeholder\n  newName: registry.example.com/team/web\n  newTag: '2.1'\n"
    )
    return base


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_before_discovery(tmp_path: Path) -> None:
    from kenv.images.sources import render_kustomize
    from kenv.runtime.process import Runner

    base = _kustomization(tmp_path)
    d = discover_text(render_kustomize(Runner(), str(base)), "app (kustomize)")
    assert set(d.images) == {"registry.example.com/team/web:2.1"}
    result = _cli("--kustomize", str(base), "-o", "json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert [i["ref"] for i in json.loads(result.output)["images"]] == ["registry.example.com/team/web:2.1"]  # type: ignore[attr-defined]


def test_kustomize_without_kubectl_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kenv.errors import ExternalCommandError

    base = _kustomization(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = _cli("--kustomize", str(base))
    assert isinstance(result.exception, ExternalCommandError)  # type: ignore[attr-defined]
    assert "kubectl is not installed" in result.exception.one_line()  # type: ignore[attr-defined]


def test_kustomize_needs_a_kustomization(tmp_path: Path) -> None:
    result = _cli("--kustomize", str(tmp_path))
    assert isinstance(result.exception, InvalidInput)  # type: ignore[attr-defined]
    assert "not a kustomize directory" in str(result.exception)  # type: ignore[attr-defined]


# Pull policy facts: containers kubelet pulls on every start whatever the node holds.

POLICIES = """\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n}
spec:
  initContainers:
  - {name: init, image: "busybox"}
  containers:
  - {name: untagged, image: "nginx"}
  - {name: latest, image: "nginx:latest", imagePullPolicy: IfNotPresent}
  - {name: always, image: "nginx:1.27", imagePullPolicy: Always}
  - {name: tagged, image: "redis:7"}
  - {name: digest, image: "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
  - {name: latest-default, image: "quay.io/acme/app:latest"}
  - {name: never, image: "acme/app", imagePullPolicy: Never}
  - {name: template, image: "{{ .Values.image }}", imagePullPolicy: Always}
  ephemeralContainers:
  - {name: debug, image: "nicolaka/netshoot:v0.13", imagePullPolicy: Always}
"""


def test_pull_always_follows_the_api_server_defaults() -> None:
    d = discover_text(POLICIES, "p.yaml")
    assert [(ref, s.path) for ref, s in d.pull_always] == [
        ("docker.io/library/busybox:latest", "spec.initContainers[0].image"),
        ("docker.io/library/nginx:latest", "spec.containers[0].image"),
        ("docker.io/library/nginx:1.27", "spec.containers[2].image"),
        ("quay.io/acme/app:latest", "spec.containers[5].image"),
        ("docker.io/nicolaka/netshoot:v0.13", "spec.ephemeralContainers[0].image"),
    ]
    source = d.pull_always[0][1]
    assert (source.kind, source.namespace, source.name, source.as_written) == ("Pod", "n", "p", "busybox")


def test_pull_always_inside_embedded_pods_and_argocd() -> None:
    text = LOCAL_STORAGE.replace(
        'mirrored-library-busybox:1.36.1"\n        imagePullPolicy: IfNotPresent',
        'mirrored-library-busybox"',
    )
    d = discover_text(text, "local-storage.yaml")
    assert [(ref, s.path) for ref, s in d.pull_always] == [
        ("docker.io/rancher/mirrored-library-busybox:latest", "data.helperPod.yaml>spec.containers[0].image")
    ]
    # ../shared/reference/images.md §3: ArgoCD's install sets Always on 8 of its 9 containers.
    argocd = discover_text((FIXTURES / "argocd-v3.5.1-install.yaml").read_text(), "install.yaml")
    assert len(argocd.pull_always) == 8
    assert {s.name for _, s in argocd.pull_always} >= {"argocd-server", "argocd-repo-server", "argocd-redis"}


# Fixtures written after upstream manifests (tests/fixtures/images): every source and trap.

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "images"
DIGEST = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
CRUNCHY = "registry.developers.crunchydata.com/crunchydata"
TEKTON = "gcr.io/tekton-releases/github.com/tektoncd/pipeline/cmd"

EXPECTED = {
    "k3s-local-storage.yaml": {
        "docker.io/rancher/local-path-provisioner:v0.0.30": DEFINITE,
        "docker.io/rancher/mirrored-library-busybox:1.36.1": DEFINITE,
    },
    "olm-csv.yaml": {
        f"{CRUNCHY}/postgres-operator:ubi9-5.8.3-0": DEFINITE,
        f"{CRUNCHY}/crunchy-postgres:ubi9-16.10-2534": DEFINITE,  # also in spec.relatedImages
        f"{CRUNCHY}/crunchy-pgbouncer:ubi9-1.24-2534": DEFINITE,
        f"{CRUNCHY}/crunchy-pgbackrest:ubi9-2.56.0-2534": PROBABLE,
        f"{CRUNCHY}/crunchy-pgadmin4:ubi9-9.2-2534": PROBABLE,
    },
    "tekton.yaml": {
        f"{TEKTON}/controller:v0.28.1": DEFINITE,
        f"{TEKTON}/kubeconfigwriter:v0.28.1@sha256:"
        "55963ed3fb6157e5f8dac7a315a794ebe362e46714631f9c79d79d33fe769e4d": PROBABLE,
        f"{TEKTON}/entrypoint:v0.28.1@sha256:"
        "2fa7f7c3408f52ff21b2d8c4271374dac4f5b113b1c4dbc7d5189131e71ce721": PROBABLE,
        f"{TEKTON}/nop:v0.28.1@sha256:59b5304bcfdd9834150a2701720cf66e3ebe6d6e4d361ae1612d9430089591f8": PROBABLE,
        "ghcr.io/tektoncd/operator/operator-303303c315a48490ba6517859ef65b77:v0.80.0@sha256:"
        "49f9f258920f77ca9db8031f8ee93b6abef0ff6a1a23254d937fd347601f4853": DEFINITE,
        "ghcr.io/tektoncd/operator/proxy-webhook-f6167da7bc41b96a27c5529f850e63d1:v0.80.0@sha256:"
        "2260f9bdf1699253a47e5d2664f70465f1a8c59ad7651cede2469a7586774341": PROBABLE,
        "ghcr.io/tektoncd/plumbing/tkn@sha256:"
        "233de6c8b8583a34c2379fa98d42dba739146c9336e8d41b66030484357481ed": PROBABLE,
    },
    "workloads.yaml": {
        "docker.io/library/busybox:1.36": DEFINITE,
        "docker.io/library/postgres:16-alpine": DEFINITE,
        f"registry.example.com:5000/team/api@{DIGEST}": DEFINITE,
        "docker.io/nicolaka/netshoot:latest": DEFINITE,
        "quay.io/acme/model-weights:v2": DEFINITE,
        "docker.io/library/alpine:3.20": DEFINITE,
        "docker.io/bitnami/postgresql:16.4.0-debian-12-r0": DEFINITE,
        "docker.io/bitnami/redis:7.4.1": DEFINITE,
        "ghcr.io/acme/json-job:1.0": DEFINITE,
        "ghcr.io/acme/restore-tool:3.2": DEFINITE,
    },
    "traps.yaml": {},
    "argocd-v3.5.1-install.yaml": {
        "quay.io/argoproj/argocd:v3.5.1": DEFINITE,
        "ghcr.io/dexidp/dex:v2.45.0": DEFINITE,
        "public.ecr.aws/docker/library/redis:8.2.3-alpine": DEFINITE,
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_finds_exactly_what_it_names(name: str) -> None:
    d = read_inputs([str(FIXTURES / name)])
    assert found(d) == EXPECTED[name]
    assert d.warnings == []


def test_fixture_paths_name_where() -> None:
    d = read_inputs([str(FIXTURES / "workloads.yaml"), str(FIXTURES / "tekton.yaml")])
    where = {ref: (s.kind, s.path) for ref, image in d.images.items() for s in image.sources[:1]}
    assert where["ghcr.io/acme/restore-tool:3.2"] == ("Secret", "data.pod.yaml>spec.containers[0].image")
    assert where["docker.io/bitnami/redis:7.4.1"] == ("ConfigMap", "data.chart-overrides>redis.image")
    assert where["quay.io/acme/model-weights:v2"] == ("Pod", "spec.volumes[0].image.reference")
    assert where["docker.io/library/alpine:3.20"] == ("Workflow", "spec.templates[0].container.image")
    assert where[f"{TEKTON}/nop:v0.28.1@sha256:59b5304bcfdd9834150a2701720cf66e3ebe6d6e4d361ae1612d9430089591f8"] == (
        "Deployment",
        "spec.template.spec.containers[0].args[5]",
    )
    assert d.find("busybox") is None  # "-shell-image", "busybox": a bare word is not a probable image


def test_crd_schema_defaults_are_images_and_descriptions_are_not() -> None:
    crd = (FIXTURES / "charts" / "webapp" / "crds" / "widgets.yaml").read_text()
    d = discover_text(crd, "widgets.yaml")
    assert found(d) == {"registry.example.com/team/widget-runner:1.0.0": DEFINITE}
    assert d.images["registry.example.com/team/widget-runner:1.0.0"].sources[0].path == (
        "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.image.default"
    )
    structured = crd.replace("default: registry.example.com/team/widget-runner:1.0.0", "default: {}").replace(
        "              replicas:",
        "              sidecar:\n                default: {image: acme/side:2}\n              replicas:",
    )
    assert set(discover_text(structured, "w.yaml").images) == {"docker.io/acme/side:2"}


# The pre-filter: documents that cannot name an image are never parsed, and that drops nothing.


def _without_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disc, "worth_parsing", lambda chunk: True)


def _everything(d: Discovery) -> tuple[object, ...]:
    return (
        [(i.ref, i.tier, i.sources) for i in d.sorted_images()],
        d.pull_always,
        [w.one_line() for w in d.warnings],
    )


def test_prefilter_drops_nothing_from_the_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [str(p) for p in sorted(FIXTURES.rglob("*.yaml"))]
    texts = [(FIXTURES / "workloads.yaml").read_text(), LOCAL_STORAGE, POLICIES]
    filtered = read_inputs(files)
    for i, text in enumerate(texts):
        discover_text(text, f"inline{i}", filtered)
    skipped = sum(not disc.worth_parsing(c) for f in files for c in disc.split_documents(Path(f).read_text()))
    assert skipped > 10  # the pre-filter does skip (Services, RBAC, CRDs without image defaults...)
    _without_prefilter(monkeypatch)
    unfiltered = read_inputs(files)
    for i, text in enumerate(texts):
        discover_text(text, f"inline{i}", unfiltered)
    assert _everything(filtered)[:2] == _everything(unfiltered)[:2]
    # Unrendered chart templates are not YAML: those that could name an image still warn.
    assert set(_everything(filtered)[2]) <= set(_everything(unfiltered)[2])  # type: ignore[arg-type]
    assert any("deployment.yaml: document 1: not valid YAML" in w for w in _everything(filtered)[2])  # type: ignore[attr-defined]


HIDDEN = [
    # Any case of IMAGE in an env name or flag.
    "kind: Deployment\nspec: {template: {spec: {containers: [{name: a, env: "
    "[{name: Related_iMage_DB, value: 'acme/db:2'}]}]}}}\n",
    "kind: Pod\nspec:\n  containers:\n  - name: a\n    args: ['--sidecar-imAGE=acme/side:3']\n",
    # A key spelled with YAML escapes, and a value joined by an escaped line break.
    'kind: Pod\nspec: {containers: [{name: a, "\\x69mage": "acme/esc:1"}]}\n',
    'kind: ConfigMap\ndata: {pod: "spec:\\n  containers:\\n  - ima\\\n  ge: acme/joined:1\\n"}\n',
    # A k3s placeholder inside a key.
    "kind: Pod\nspec:\n  containers:\n  - name: a\n    ima%{X}%ge: %{REG}%acme/ph:1\n",
    # A Secret whose plain text names nothing.
    "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  p.yaml: "
    + base64.b64encode(b"kind: Pod\nspec: {containers: [{image: acme/b64:1}]}\n").decode()
    + "\n",
    # CRDs: a default under `image`, a structured default, one in flow style.
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n"
    "      openAPIV3Schema:\n        properties:\n          image: {type: string, default: 'acme/crd:1'}\n",
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n"
    "      openAPIV3Schema:\n        properties:\n          x:\n            default:\n"
    "              image: acme/crd2:1\n",
    # A CRD default on the line after its key.
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n"
    "      openAPIV3Schema:\n        properties:\n          image:\n            type: string\n"
    "            default:\n\n              acme/next-line:1\n",
    # CRD keys a line scan cannot read: explicit, and an alias.
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n"
    "      openAPIV3Schema:\n        properties:\n          x:\n            ? default\n"
    "            : {image: acme/crd3:1}\n",
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  names: [&d default]\n"
    "  versions:\n  - schema:\n      openAPIV3Schema:\n        properties:\n          x:\n"
    "            *d : {image: acme/crd4:1}\n",
]


@pytest.mark.parametrize("text", HIDDEN)
def test_prefilter_keeps_what_hides(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = discover_text(text, "f.yaml")
    assert kept.images, "the walker itself finds an image here"
    _without_prefilter(monkeypatch)
    assert _everything(kept) == _everything(discover_text(text, "f.yaml"))


def test_prefilter_skips_what_cannot_name_images() -> None:
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n"
        "      openAPIV3Schema:\n        properties:\n          image:\n            type: string\n"
        "            description: 'The image (default: false)'\n"
        "          mode: {type: string, default: ReadWriteOnce}\n          size: {default: 1}\n"
    )
    secret = "apiVersion: v1\nkind: Secret\ndata:\n  password: " + base64.b64encode(b"hunter2\n").decode() + "\n"
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"
    assert [disc.worth_parsing(t) for t in (crd, secret, service)] == [False, False, False]


# --helm: `helm template` through the Runner; the fake helm (tests/fakes/bin/helm) renders the chart.

CHART = FIXTURES / "charts" / "webapp"
FAKE_BIN = Path(__file__).resolve().parent.parent / "fakes" / "bin"


def test_helm_template_argv_and_output_split() -> None:
    from kenv.images.sources import helm_template_argv, split_helm_output

    assert helm_template_argv("./c", ["a.yaml", "b.yaml"], ["image.tag=2", "x=y"], "v1.31.5") == [
        "helm", "template", "./c", "--include-crds", "--skip-tests",
        "--values", "a.yaml", "--values", "b.yaml", "--set", "image.tag=2", "--set", "x=y",
        "--kube-version", "v1.31.5",
    ]  # fmt: skip
    rendered = (
        "---\n# Source: c/crds/w.yaml\nkind: CustomResourceDefinition\n"
        "---\n# Source: c/templates/two.yaml\nimage: a/one:1\n---\nimage: a/two:2\n"
        "---\n# Source: c/templates/hook.yaml\nimage: a/three:3\n"
    )
    assert [(t, c.count("image")) for t, c in split_helm_output(rendered)] == [
        ("c/crds/w.yaml", 0),
        ("c/templates/two.yaml", 1),
        ("c/templates/two.yaml", 1),
        ("c/templates/hook.yaml", 1),
    ]
    from kenv.images.sources import discover_helm_output

    d = discover_helm_output(rendered, "c")
    assert [(s.file, s.document) for i in d.sorted_images() for s in i.sources] == [
        ("c: c/templates/two.yaml", 1),
        ("c: c/templates/hook.yaml", 1),
        ("c: c/templates/two.yaml", 2),
    ]


def test_helm_chart_discovery_drops_test_hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{FAKE_BIN}:{Path(sys.executable).parent}:/usr/bin:/bin")
    values = tmp_path / "prod.yaml"
    values.write_text("image: {registry: mirror.example.com}\n")
    result = _cli("--helm", str(CHART), "--values", str(values), "--set", "image.tag=2.5.0", "-o", "json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    images = {i["ref"]: i for i in json.loads(result.output)["images"]}  # type: ignore[attr-defined]
    assert set(images) == {
        "mirror.example.com/team/webapp:2.5.0",
        "mirror.example.com/team/webapp-migrate:2.5.0",  # a pre-install hook runs at install
        "quay.io/prometheus/statsd-exporter:v0.28.0",
        "registry.example.com/team/widget-runner:1.0.0",  # a CRD schema default (--include-crds)
        "registry.example.com/team/webapp-backup:2.4.1",  # only in Chart.yaml's helm.sh/images
    }  # and no busybox / curl: `helm test` hooks (test, test-success) never run at install
    (source,) = images["mirror.example.com/team/webapp:2.5.0"]["sources"]
    assert source["file"] == f"{CHART}: webapp/templates/deployment.yaml"
    assert (source["kind"], source["namespace"], source["name"]) == ("Deployment", "default", "release-name-webapp")
    backup = images["registry.example.com/team/webapp-backup:2.4.1"]
    assert backup["tier"] == "probable"
    assert [(s["file"], s["kind"], s["name"], s["path"]) for s in backup["sources"]] == [
        (f"{CHART}: Chart.yaml", "Chart", "webapp", "annotations.helm.sh/images>[1].image")
    ]
    statsd = images["quay.io/prometheus/statsd-exporter:v0.28.0"]
    assert statsd["tier"] == "definite"  # rendered, and also declared
    assert [s["kind"] for s in statsd["sources"]] == ["Deployment", "Chart"]


def test_helm_bad_input_and_missing_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kenv.errors import ExternalCommandError

    for args, message in (
        (("--helm", str(tmp_path / "nochart")), "no such chart directory or archive"),
        (("--helm", str(CHART), "--values", str(tmp_path / "nope.yaml")), "no such file"),
        (("--helm", str(CHART), "--set", "novalue"), "expected KEY=VALUE"),
        (("--values", "x.yaml", "deploy/"), "go with --helm CHART"),
        ((), "nothing to search"),
    ):
        result = _cli(*args)
        assert isinstance(result.exception, InvalidInput), args  # type: ignore[attr-defined]
        assert message in str(result.exception)  # type: ignore[attr-defined]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = _cli("--helm", str(CHART))
    assert isinstance(result.exception, ExternalCommandError)  # type: ignore[attr-defined]
    assert "helm is not installed" in str(result.exception)  # type: ignore[attr-defined]
    assert "https://helm.sh/docs/intro/install/" in (result.exception.hint or "")  # type: ignore[attr-defined]


# Bad input that must neither hang nor fill memory.


def test_huge_sparse_file_is_skipped_without_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(500 * 1024 * 1024)
    (tmp_path / "ok.yaml").write_text("image: a/ok:1\n")
    d = read_inputs([str(tmp_path)])
    assert set(d.images) == {"docker.io/a/ok:1"}
    assert [w.one_line() for w in d.warnings] == [f"{huge}: 500 MB, larger than 50 MB; skipped"]


def test_directory_symlink_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "up").symlink_to(tmp_path)
    (tmp_path / "a" / "self").symlink_to(tmp_path / "a")
    (tmp_path / "a" / "x.yaml").write_text("image: a/x:1\n")
    d = read_inputs([str(tmp_path)])
    assert set(d.images) == {"docker.io/a/x:1"}
    assert [s.file for s in d.images["docker.io/a/x:1"].sources] == [str(tmp_path / "a" / "x.yaml")]


def test_libyaml_loader_when_pyyaml_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    assert disc._loader() is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    assert disc._loader() is yaml.SafeLoader
    assert set(discover_text(POLICIES, "p.yaml").images) >= {"docker.io/library/nginx:1.27"}


def test_chart_annotation_from_a_packaged_chart(tmp_path: Path) -> None:
    import tarfile

    from kenv.images.sources import discover_chart_annotations

    package = tmp_path / "webapp-0.3.0.tgz"
    with tarfile.open(package, "w:gz") as archive:
        archive.add(CHART, arcname="webapp")
    d = Discovery()
    discover_chart_annotations(str(package), d)
    assert found(d) == {
        "quay.io/prometheus/statsd-exporter:v0.28.0": PROBABLE,
        "registry.example.com/team/webapp-backup:2.4.1": PROBABLE,
    }
    for chart in ("bitnami/postgresql", str(tmp_path / "missing"), str(tmp_path)):
        nothing = Discovery()
        discover_chart_annotations(chart, nothing)
        assert nothing.images == {}

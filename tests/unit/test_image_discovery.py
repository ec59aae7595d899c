"""Image discovery (issue 8 §2): every source and trap, on fixtures written after upstream manifests."""

from __future__ import annotations

import base64
import json
import shutil
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

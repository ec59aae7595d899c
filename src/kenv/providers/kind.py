"""kind. A generated config (name, apiServerAddress 127.0.0.1, apiServerPort, extraPortMappings
from the http/https host ports to the ingress's NodePorts, nodes) and the environment's own
kubeconfig file: concurrent kind creates fail on a shared one (kind#1425). kind clusters share
Docker's 'kind' network, so they have no subnet.

The nodes and whether they run are read from Docker by kind's own labels
(`pkg/cluster/internal/providers/docker/constants.go`): `kind get nodes` lists stopped node
containers too (it runs `docker ps -a`), and kind has no start or stop of its own.

The node image: kind supports a node image "with the kind version they were released with (and
best effort with other releases)" (`site/content/docs/design/node-image.md`), so an environment
with no k8s_version gets the default node image of the kind release installed, exactly as that
release's `pkg/apis/config/defaults/image.go` names it (digest included); a release kenv does not
know (newer, or a development build) gets no `--image` at all and kind picks its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenv.inventory.model import Environment
from kenv.providers.base import ClusterState, CreateOptions, NodeState, own_kubeconfig, write_private
from kenv.providers.image_supply import SupplyPlan, plan_supply
from kenv.runtime import docker
from kenv.runtime.process import CommandResult, Runner

# kind release -> the node image it creates when given none: `defaults.Image` in
# pkg/apis/config/defaults/image.go at each release tag of kubernetes-sigs/kind (read 2026-12-01).
RELEASE_IMAGES: dict[str, str] = {
    "v0.20.0": "kindest/node:v1.27.3@sha256:3966ac761ae0136263ffdb6cfd4db23ef8a83cba8a463690e98317add2c9ba72",
    "v0.21.0": "kindest/node:v1.29.1@sha256:a0cc28af37cf39b019e2b448c54d1a3f789de32536cb5a5db61a49623e527144",
    "v0.22.0": "kindest/node:v1.29.2@sha256:51a1434a5397193442f0be2a297b488b6c919ce8a3931be0ce822606ea5ca245",
    "v0.23.0": "kindest/node:v1.30.0@sha256:047357ac0cfea04663786a612ba1eaba9702bef25227a794b52890dd8bcd692e",
    "v0.24.0": "kindest/node:v1.31.0@sha256:53df588e04085fd41ae12de0c3fe4c72f7013bba32a20e7325357a1ac94ba865",
    "v0.25.0": "kindest/node:v1.31.2@sha256:18fbefc20a7113353c7b75b5c869d7145a6abd6269154825872dc59c1329912e",
    "v0.26.0": "kindest/node:v1.32.0@sha256:c48c62eac5da28cdadcf560d1d8616cfa6783b58f0d94cf63ad1bf49600cb027",
    "v0.27.0": "kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f",
    "v0.28.0": "kindest/node:v1.33.1@sha256:8d866994839cd096b3590681c55a6fa4a071fdaf33be7b9660e5697d2ed13002",
    "v0.29.0": "kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f",
    "v0.30.0": "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a",
    "v0.31.0": "kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f",
    "v0.32.0": "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5",
}
# Where `kenv.workflows.context` remembers tool versions (under the data directory): the provider
# reads the same file, so a create asks `kind version` at most once, and not at all when it is warm.
TOOLS_CACHE = Path("cache") / "tools.json"
QUERY_TIMEOUT = 30.0
CLUSTER_LABEL = "io.x-k8s.kind.cluster"
ROLE_LABEL = "io.x-k8s.kind.role"
# kind's node roles in kenv's words.
_ROLES = {"control-plane": "server", "worker": "agent", "external-load-balancer": "loadbalancer"}


def render_config(env: Environment, supply: SupplyPlan | None = None) -> dict[str, Any]:
    """The kind v1alpha4 Cluster; `supply` adds the registry host directory (containerd
    config_path patch, the directory mounted read-only on every node)."""
    control_plane: dict[str, Any] = {"role": "control-plane"}
    mappings = []
    # The host ports go to the ingress's NodePorts, not to 80/443: kenv's ingress (ingress-nginx,
    # workflows/ingress.py) is a NodePort Service without hostPorts, so nothing listens on the
    # node's 80/443 (kind's own ingress guide needs hostPorts and an `ingress-ready` node label).
    # kind's docs, "NodePort with Port Mappings" (site/content/docs/user/configuration.md): the
    # node's containerPort and the Service's nodePort must be equal.
    for purpose, container_port in (("http", env.node_port), ("https", env.https_node_port)):
        port = env.port(purpose)
        if port:
            mappings.append(
                {"containerPort": container_port, "hostPort": port, "listenAddress": "127.0.0.1", "protocol": "TCP"}
            )
    if mappings:
        control_plane["extraPortMappings"] = mappings
    nodes = [control_plane] + [{"role": "control-plane"}] * (env.servers - 1) + [{"role": "worker"}] * env.agents
    networking: dict[str, Any] = {"apiServerAddress": "127.0.0.1"}
    if env.port("api"):
        networking["apiServerPort"] = env.port("api")
    config: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": env.name,
        "networking": networking,
        "nodes": nodes,
    }
    if supply is not None and supply.kind_mounts:
        config["nodes"] = [{**node, "extraMounts": [dict(m) for m in supply.kind_mounts]} for node in nodes]
    if supply is not None and supply.kind_patches:
        config["containerdConfigPatches"] = list(supply.kind_patches)
    return config


def node_image(k8s_version: str | None, release: str | None) -> str | None:
    """The `--image` of a create: the k8s_version asked for (a tag of kindest/node, or a whole
    image), else the default node image of kind `release` (`v0.30.0`), else None: the release is
    not in RELEASE_IMAGES (newer, a development build, or unknown) and kind picks its own."""
    if k8s_version:
        return k8s_version if ("/" in k8s_version or ":" in k8s_version) else f"kindest/node:{k8s_version}"
    if release is None:
        return None
    return RELEASE_IMAGES.get(release if release.startswith("v") else "v" + release)


def image_note(k8s_version: str | None, release: str | None) -> str:
    """What a create says about its node image (a progress note)."""
    image = node_image(k8s_version, release)
    if k8s_version:
        return f"node image {image}"
    if image is not None:
        return f"node image {image} (the default of kind {release})"
    installed = f"kind {release}" if release else "the installed kind (its version is unknown)"
    return f"no --image: {installed} is not in kenv's table of kind releases, so kind picks its own default node image"


# (tools cache, PATH) -> the kind version found there: every provider object of one process
# (create, then the images lists) shares one answer.
_RELEASES: dict[tuple[str, str], str | None] = {}


def installed_release(runner: Runner, data_dir: Path) -> str | None:
    """The installed kind's version (`v0.30.0`), remembered like the tool check remembers it and
    asked at most once per process; None when kind does not answer with one."""
    import os

    from kenv.runtime.tools import detect_remembered

    cache = data_dir / TOOLS_CACHE
    key = (str(cache), (runner.env if runner.env is not None else os.environ).get("PATH", ""))
    if key not in _RELEASES:
        _RELEASES[key] = detect_remembered(runner, "kind", cache).version
    return _RELEASES[key]


def _write_host_directory(supply: SupplyPlan) -> None:
    """The environment's containerd host directory, written whole: hosts.toml files of registries
    no longer configured are removed (the directory is kenv's own, mounted into the nodes)."""
    if supply.files_dir is None:
        return
    if supply.files_dir.is_dir():
        import shutil

        shutil.rmtree(supply.files_dir)
    for path, text in supply.files.items():
        write_private(Path(path), text)


class Kind:
    name = "kind"
    tool = "kind"

    def __init__(self, runner: Runner, data_dir: Path) -> None:
        self.runner = runner
        self.data_dir = data_dir
        # The version the tool check found, when it handed it over (`adopt_tool_version`).
        self._adopted: tuple[str | None] | None = None

    def context_name(self, env: Environment) -> str:
        return f"kind-{env.name}"

    def adopt_tool_version(self, version: str | None) -> None:
        """The installed kind's version as `kenv create`'s tool check found it, so that `kind
        version` is not asked twice (a dry run remembers nothing on disk)."""
        self._adopted = (version,)

    def release(self) -> str | None:
        """The installed kind's version (handed over, or see `installed_release`)."""
        if self._adopted is not None:
            return self._adopted[0]
        return installed_release(self.runner, self.data_dir)

    def image(self, env: Environment) -> str | None:
        """The node image a create of `env` asks for; None: no `--image` (see `node_image`)."""
        if env.k8s_version:
            return node_image(env.k8s_version, None)
        return self.default_image()

    def default_image(self) -> str | None:
        """The node image of a create with no k8s_version (what `WorkflowContext.node_version`
        looks the system images up by); None: kind picks its own."""
        return node_image(None, self.release())

    def image_note(self, env: Environment) -> str:
        return image_note(env.k8s_version, None if env.k8s_version else self.release())

    def create(self, env: Environment, options: CreateOptions) -> None:
        import yaml

        # The config is written where the user can read it; a dry run plans the same path.
        config_path = self.data_dir / "kind" / f"{env.name}.yaml"
        supply = plan_supply(options.images, env, self.data_dir)
        if not self.runner.dry_run:
            _write_host_directory(supply)
            write_private(config_path, yaml.safe_dump(render_config(env, supply), sort_keys=False))
        argv = ["kind", "create", "cluster", "--name", env.name, "--config", str(config_path)]
        image = self.image(env)
        argv += ["--image", image] if image else []
        argv += ["--kubeconfig", str(options.kubeconfig)]
        argv += ["--wait", f"{int(options.timeout)}s"]
        # kind hands the proxy variables of its own environment to every node.
        self.runner.run(argv, timeout=options.timeout + 120, extra_env=supply.tool_env or None)

    def delete(self, env: Environment) -> None:
        # With its own kubeconfig, so kind never edits the user's default one.
        kubeconfig = own_kubeconfig(self.data_dir, env.name)
        self.runner.run(["kind", "delete", "cluster", "--name", env.name, "--kubeconfig", str(kubeconfig)], timeout=300)

    def list_clusters(self) -> list[ClusterState]:
        nodes: dict[str, list[NodeState]] = {}
        for container in docker.list_containers(self.runner, CLUSTER_LABEL):
            role = container.labels.get(ROLE_LABEL, "")
            node = NodeState(container.name, _ROLES.get(role, role), container.running)
            nodes.setdefault(container.labels.get(CLUSTER_LABEL, ""), []).append(node)
        return [
            ClusterState(name, "kind", tuple(members), network="kind")
            for name, members in sorted(nodes.items())
            if name
        ]

    def state(self, env: Environment) -> ClusterState | None:
        return next((c for c in self.list_clusters() if c.name == env.name), None)

    def node_names(self, env: Environment) -> list[str]:
        state = self.state(env)
        return [n.name for n in (state.nodes if state else ()) if n.role != "loadbalancer"]

    def _containers(self, env: Environment) -> list[str]:
        state = self.state(env)
        return list(state.node_names) if state else []

    def start(self, env: Environment) -> None:
        # Every node container, the load balancer in front of several control planes included.
        docker.container_action(self.runner, "start", self._containers(env))

    def stop(self, env: Environment) -> None:
        docker.container_action(self.runner, "stop", self._containers(env))

    def write_kubeconfig(self, env: Environment, path: Path) -> None:
        # Counted as a change: it produces the kubeconfig file, so a dry run lists it in the plan.
        text = self.runner.run(["kind", "get", "kubeconfig", "--name", env.name], timeout=QUERY_TIMEOUT).stdout
        if not self.runner.dry_run:
            write_private(path, text)

    def exec_in_node(self, env: Environment, node: str, argv: list[str]) -> CommandResult:
        return self.runner.run(["docker", "exec", node, *argv], timeout=120, mutating=False, check=False)

    def import_images(self, env: Environment, images: list[str]) -> None:
        self.runner.run(["kind", "load", "docker-image", *images, "--name", env.name], timeout=600)

    def import_archives(self, env: Environment, paths: list[Path]) -> None:
        # kind v0.27.0 pkg/cmd/kind/load/image-archive: every argument is an archive (each is
        # stat'ed first, then loaded into every node in turn), so one call takes them all.
        files = [str(p.resolve()) for p in paths]
        self.runner.run(["kind", "load", "image-archive", *files, "--name", env.name], timeout=1800)

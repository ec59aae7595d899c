"""kind ``Cluster`` config (kind.x-k8s.io/v1alpha4) decoding and validation.

Mirrors kind v0.27.0's pkg/internal/apis/config/encoding/load.go: ``yaml.Unmarshal``
into a typeMeta first ("could not determine kind / apiVersion for config: ..."), then
a go-yaml v3 ``Decoder`` with ``KnownFields(true)`` into ``v1alpha4.Cluster`` ("unable
to decode config: yaml: unmarshal errors:" + one ``line N: ...`` per problem, texts of
go-yaml v3.0.1 decode.go: unknown fields, duplicate keys, ``cannot unmarshal !!tag
`value` into type``).  Field names and Go types are pkg/apis/config/v1alpha4/types.go;
validation messages are pkg/internal/apis/config/validate.go.  The YAML is read with
PyYAML's composer (line numbers from the node marks), scalars resolved like go-yaml v3.
"""

from __future__ import annotations

import json
import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamlio

API_VERSION = "kind.x-k8s.io/v1alpha4"

# Go types, as go-yaml v3 needs them: (kind, Go type name[, element or fields])
GoType = tuple


def _struct(name: str, fields: dict[str, GoType]) -> GoType:
    return ("struct", f"v1alpha4.{name}", fields)


_STRING: GoType = ("str", "string")
_INT32: GoType = ("int", "int32")
_BOOL: GoType = ("bool", "bool")
_STRINGS: GoType = ("list", "[]string", _STRING)
_PATCHES: GoType = (
    "list",
    "[]v1alpha4.PatchJSON6902",
    _struct("PatchJSON6902", {"group": _STRING, "version": _STRING, "kind": _STRING, "patch": _STRING}),
)
_NODE = _struct(
    "Node",
    {
        "role": ("str", "v1alpha4.NodeRole"),
        "image": _STRING,
        "labels": ("map", "map[string]string", _STRING),
        "extraMounts": (
            "list",
            "[]v1alpha4.Mount",
            _struct(
                "Mount",
                {
                    "containerPath": _STRING,
                    "hostPath": _STRING,
                    "readOnly": _BOOL,
                    "selinuxRelabel": _BOOL,
                    "propagation": ("str", "v1alpha4.MountPropagation"),
                },
            ),
        ),
        "extraPortMappings": (
            "list",
            "[]v1alpha4.PortMapping",
            _struct(
                "PortMapping",
                {
                    "containerPort": _INT32,
                    "hostPort": _INT32,
                    "listenAddress": _STRING,
                    "protocol": ("str", "v1alpha4.PortMappingProtocol"),
                },
            ),
        ),
        "kubeadmConfigPatches": _STRINGS,
        "kubeadmConfigPatchesJSON6902": _PATCHES,
    },
)
_NETWORKING = _struct(
    "Networking",
    {
        "ipFamily": ("str", "v1alpha4.ClusterIPFamily"),
        "apiServerPort": _INT32,
        "apiServerAddress": _STRING,
        "podSubnet": _STRING,
        "serviceSubnet": _STRING,
        "disableDefaultCNI": _BOOL,
        "kubeProxyMode": ("str", "v1alpha4.ProxyMode"),
        "dnsSearch": _STRINGS,  # *[]string: the pointer is transparent to the decoder
    },
)
_CLUSTER = _struct(
    "Cluster",
    {
        "kind": _STRING,  # TypeMeta, inline
        "apiVersion": _STRING,
        "name": _STRING,
        "nodes": ("list", "[]v1alpha4.Node", _NODE),
        "networking": _NETWORKING,
        "featureGates": ("map", "map[string]bool", _BOOL),
        "runtimeConfig": ("map", "map[string]string", _STRING),
        "kubeadmConfigPatches": _STRINGS,
        "kubeadmConfigPatchesJSON6902": _PATCHES,
        "containerdConfigPatches": _STRINGS,
        "containerdConfigPatchesJSON6902": _STRINGS,
    },
)
_TYPE_META: GoType = ("struct", "encoding.typeMeta", {"kind": _STRING, "apiVersion": _STRING})

_VALID_NAME = re.compile(r"^[a-z0-9.-]+$")
_INT32_RANGE = range(-(1 << 31), 1 << 31)
_YAML11_BOOLS = {"y": True, "Y": True, "yes": True, "Yes": True, "YES": True, "on": True, "On": True, "ON": True}
_YAML11_BOOLS.update(dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False))


class ConfigError(Exception):
    """Message exactly as kind prints it after 'failed to create cluster: '."""


class _Decoder:
    """go-yaml v3's decoder (decode.go) for the types above; collects its type errors."""

    def __init__(self, known_fields: bool) -> None:
        self.known_fields = known_fields
        self.errors: list[str] = []

    @staticmethod
    def _tag(node: Node) -> str:
        if isinstance(node, MappingNode):
            return "map"
        if isinstance(node, SequenceNode):
            return "seq"
        assert isinstance(node, ScalarNode)
        return yamlio.go_resolve(node.value, v3=True) if yamlio.is_plain(node) else "str"

    def _terror(self, node: Node, go_type: GoType) -> None:
        tag = self._tag(node)
        value = ""
        if tag not in ("seq", "map"):
            text = str(node.value)
            value = f" `{text[:7]}...`" if len(text.encode()) > 10 else f" `{text}`"
        self.errors.append(f"line {yamlio.line_of(node)}: cannot unmarshal !!{tag}{value} into {go_type[1]}")

    def decode(self, node: Node, go_type: GoType) -> tuple[bool, object]:
        """(good, value) like decoder.unmarshal; value is None when nothing was set."""
        if isinstance(node, ScalarNode):
            return self._scalar(node, go_type)
        if isinstance(node, MappingNode):
            return self._mapping(node, go_type)
        if isinstance(node, SequenceNode):
            if go_type[0] != "list":
                self._terror(node, go_type)
                return False, None
            items = []
            for item in node.value:
                good, value = self.decode(item, go_type[2])
                if good:
                    items.append(value)
            return True, items
        return False, None

    def _scalar(self, node: ScalarNode, go_type: GoType) -> tuple[bool, object]:
        tag = self._tag(node)
        kind = go_type[0]
        if tag == "null":
            return kind in ("map", "list"), None  # decoder.null: only maps/slices/pointers "succeed"
        text = str(node.value)
        if kind == "str":
            return True, text  # any scalar decodes into a string, as written
        if kind == "int":
            value: int | None = None
            if tag == "int":
                value = int(text.replace("_", ""), 0) if not re.match(r"^[-+]?0[0-7]", text) else int(text, 8)
            elif tag == "float":
                number = float(text)
                value = int(number) if abs(number) < 2**63 else None
            if value is not None and value in _INT32_RANGE:
                return True, value
        elif kind == "bool":
            if tag == "bool":
                return True, text.lower() == "true"
            if tag == "str" and text in _YAML11_BOOLS:  # YAML 1.1 compatibility for typed bools
                return True, _YAML11_BOOLS[text]
        self._terror(node, go_type)
        return False, None

    def _mapping(self, node: MappingNode, go_type: GoType) -> tuple[bool, object]:
        pairs = node.value
        before = len(self.errors)
        for i, (key_i, _) in enumerate(pairs):
            for key_j, _ in pairs[i + 1 :]:
                if type(key_i) is type(key_j) and key_i.value == key_j.value:
                    self.errors.append(
                        f"line {yamlio.line_of(key_j)}: mapping key {json.dumps(key_j.value)} already defined "
                        f"at line {yamlio.line_of(key_i)}"
                    )
        if len(self.errors) > before:
            return False, None
        kind = go_type[0]
        if kind not in ("struct", "map"):
            self._terror(node, go_type)
            return False, None
        result: dict = {}
        for key_node, value_node in pairs:
            good, key = self.decode(key_node, _STRING)
            if not good:
                continue
            if kind == "map":
                good, value = self.decode(value_node, go_type[2])
                if good or self._tag(value_node) == "null":
                    result[key] = value
                continue
            field = go_type[2].get(key)
            if field is not None:
                good, value = self.decode(value_node, field)
                if good:
                    result[key] = value
            elif self.known_fields:
                self.errors.append(f"line {yamlio.line_of(key_node)}: field {key} not found in type {go_type[1]}")
        return True, result


def _unmarshal_errors(errors: list[str]) -> str:
    return "yaml: unmarshal errors:\n  " + "\n  ".join(errors)


def parse(raw: str) -> dict:
    """Decode raw YAML like kind's encoding.Parse; returns the decoded fields (raises ConfigError)."""
    try:
        root = yamlio.compose(raw)
    except yamlio.YAMLError as exc:
        raise ConfigError(
            f"could not determine kind / apiVersion for config: {yamlio.go_error(exc, v3=True)}"
        ) from None
    meta: dict = {}
    if root is not None:
        decoder = _Decoder(known_fields=False)
        _, value = decoder.decode(root, _TYPE_META)
        if decoder.errors:
            raise ConfigError(f"could not determine kind / apiVersion for config: {_unmarshal_errors(decoder.errors)}")
        meta = value if isinstance(value, dict) else {}
    api_version, kind = meta.get("apiVersion", ""), meta.get("kind", "")
    if api_version != API_VERSION:
        raise ConfigError(f"unknown apiVersion: {api_version}")
    if kind != "Cluster":
        raise ConfigError(f"unknown kind {kind} for apiVersion: {api_version}")
    assert root is not None
    strict = _Decoder(known_fields=True)
    _, doc = strict.decode(root, _CLUSTER)
    if strict.errors:
        raise ConfigError(f"unable to decode config: {_unmarshal_errors(strict.errors)}")
    return doc if isinstance(doc, dict) else {}


def normalise(doc: dict, name_override: str, image_override: str, default_image: str) -> dict:
    """Apply kind's defaults (SetDefaultsCluster) and the CLI overrides."""
    net = dict(doc.get("networking") or {})
    nodes = [dict(n or {}) for n in (doc.get("nodes") or [{"role": "control-plane"}])]
    for node in nodes:
        node.setdefault("role", "control-plane")
        if image_override or not node.get("image"):
            node["image"] = image_override or default_image
        node["extraPortMappings"] = [dict(m or {}) for m in node.get("extraPortMappings") or []]
        for mapping in node["extraPortMappings"]:
            mapping.setdefault("listenAddress", "0.0.0.0")
            mapping.setdefault("protocol", "TCP")
            mapping.setdefault("hostPort", 0)
            mapping.setdefault("containerPort", 0)
    ip_family = net.get("ipFamily") or "ipv4"
    return {
        "name": name_override or doc.get("name") or "kind",
        "nodes": nodes,
        "networking": {
            "ipFamily": ip_family,
            "apiServerPort": int(net.get("apiServerPort") or 0),
            "apiServerAddress": net.get("apiServerAddress") or ("::1" if ip_family == "ipv6" else "127.0.0.1"),
            "podSubnet": net.get("podSubnet") or ("fd00:10:244::/56" if ip_family == "ipv6" else "10.244.0.0/16"),
            "serviceSubnet": net.get("serviceSubnet")
            or ("fd00:10:96::/112" if ip_family == "ipv6" else "10.96.0.0/16"),
            "disableDefaultCNI": bool(net.get("disableDefaultCNI")),
            "kubeProxyMode": net.get("kubeProxyMode") or "iptables",
        },
        "containerdConfigPatches": list(doc.get("containerdConfigPatches") or []),
        "featureGates": dict(doc.get("featureGates") or {}),
    }


def _port_error(port: int) -> str | None:
    return f"invalid port number: {port}" if port < -1 or port > 65535 else None


def validate(cfg: dict) -> None:
    """kind's Cluster.Validate(); raises ConfigError with the aggregate text."""
    errs: list[str] = []
    if not _VALID_NAME.match(cfg["name"]):
        errs.append(f"'{cfg['name']}' is not a valid cluster name, cluster names must match `{_VALID_NAME.pattern}`")
    net = cfg["networking"]
    if net["apiServerPort"] and _port_error(net["apiServerPort"]):
        errs.append(f"invalid apiServerPort: {_port_error(net['apiServerPort'])}")
    for label, subnet in (("pod", net["podSubnet"]), ("service", net["serviceSubnet"])):
        if not re.fullmatch(r"[0-9a-fA-F.:]+/\d+", subnet):
            errs.append(
                f'invalid {label} subnet failed to parse cidr value:"{subnet}" with error: '
                f"invalid CIDR address: {subnet}"
            )
    if net["kubeProxyMode"] not in ("iptables", "ipvs", "nftables", "none"):
        errs.append(f"invalid kubeProxyMode: {net['kubeProxyMode']}")
    control_planes = 0
    for i, node in enumerate(cfg["nodes"]):
        node_errs = []
        if node["role"] not in ("control-plane", "worker"):
            node_errs.append(f'"{node["role"]}" is not a valid node role')
        control_planes += node["role"] == "control-plane"
        for mapping in node["extraPortMappings"]:
            for field in ("hostPort", "containerPort"):
                problem = _port_error(int(mapping[field]))
                if problem:
                    node_errs.append(f"invalid {field}: {problem}")
        if node_errs:
            inner = node_errs[0] if len(node_errs) == 1 else "[" + ", ".join(node_errs) + "]"
            errs.append(f"invalid configuration for node {i}: {inner}")
    if control_planes < 1:
        errs.append("must have at least one control-plane node")
    if errs:
        raise ConfigError(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")

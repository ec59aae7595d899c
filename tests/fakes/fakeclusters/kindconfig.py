"""kind ``Cluster`` config (kind.x-k8s.io/v1alpha4) decoding and validation.

Mirrors kind's pkg/internal/apis/config/encoding/load.go (strict decoding:
unknown fields are errors, reported like Go's yaml.v3 with line numbers),
pkg/apis/config/v1alpha4/types.go (field names) and
pkg/internal/apis/config/validate.go (validation messages).
"""

from __future__ import annotations

import re

from . import yamlmini

API_VERSION = "kind.x-k8s.io/v1alpha4"

# yaml field -> expected Python type, per v1alpha4 Go type
Schema = dict[str, type]

_CLUSTER: Schema = {
    "kind": str,
    "apiVersion": str,
    "name": str,
    "nodes": list,
    "networking": dict,
    "featureGates": dict,
    "runtimeConfig": dict,
    "kubeadmConfigPatches": list,
    "kubeadmConfigPatchesJSON6902": list,
    "containerdConfigPatches": list,
    "containerdConfigPatchesJSON6902": list,
}
_NODE: Schema = {
    "role": str,
    "image": str,
    "labels": dict,
    "extraMounts": list,
    "extraPortMappings": list,
    "kubeadmConfigPatches": list,
    "kubeadmConfigPatchesJSON6902": list,
}
_NETWORKING: Schema = {
    "ipFamily": str,
    "apiServerPort": int,
    "apiServerAddress": str,
    "podSubnet": str,
    "serviceSubnet": str,
    "disableDefaultCNI": bool,
    "kubeProxyMode": str,
    "dnsSearch": list,
}
_PORT: Schema = {"containerPort": int, "hostPort": int, "listenAddress": str, "protocol": str}
_MOUNT: Schema = {"containerPath": str, "hostPath": str, "readOnly": bool, "selinuxRelabel": bool, "propagation": str}
_PATCH: Schema = {"group": str, "version": str, "kind": str, "patch": str}

# (parent type, field) -> (schema of the nested type, its Go type name)
_NESTED: dict[tuple[str, str], tuple[Schema, str]] = {
    ("Cluster", "networking"): (_NETWORKING, "Networking"),
    ("Cluster", "nodes"): (_NODE, "Node"),
    ("Node", "extraPortMappings"): (_PORT, "PortMapping"),
    ("Node", "extraMounts"): (_MOUNT, "Mount"),
    ("Cluster", "kubeadmConfigPatchesJSON6902"): (_PATCH, "PatchJSON6902"),
    ("Node", "kubeadmConfigPatchesJSON6902"): (_PATCH, "PatchJSON6902"),
}

_VALID_NAME = re.compile(r"^[a-z0-9.-]+$")


class ConfigError(Exception):
    """Message exactly as kind prints it after 'failed to create cluster: '."""


def _go_type(expected: type) -> str:
    return {int: "int32", str: "string", bool: "bool"}.get(expected, "")


def _yaml_tag(value: object) -> str:
    if isinstance(value, bool):
        return "!!bool"
    if isinstance(value, int):
        return "!!int"
    if isinstance(value, float):
        return "!!float"
    if isinstance(value, list):
        return "!!seq"
    if isinstance(value, dict):
        return "!!map"
    return "!!str"


def _check(obj: object, schema: Schema, type_name: str, errors: list[tuple[int, str]], line: int) -> None:
    """Collect yaml.v3-style strict decoding errors for obj against schema."""
    if not isinstance(obj, dict):
        errors.append((line, f"cannot unmarshal {_yaml_tag(obj)} into v1alpha4.{type_name}"))
        return
    lines = getattr(obj, "key_lines", {})
    for key, value in obj.items():
        at = lines.get(key, line)
        if key not in schema:
            errors.append((at, f"field {key} not found in type v1alpha4.{type_name}"))
            continue
        expected = schema[key]
        if value is None:
            continue
        if expected in (int, str, bool):
            ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
            if expected is str and isinstance(value, (int, float, bool)):
                ok = True  # yaml.v3 decodes plain scalars into strings
            if not ok:
                shown = str(value).lower() if isinstance(value, bool) else value
                errors.append((at, f"cannot unmarshal {_yaml_tag(value)} `{shown}` into {_go_type(expected)}"))
            continue
        if expected is dict and not isinstance(value, dict):
            errors.append((at, f"cannot unmarshal {_yaml_tag(value)} into map[string]string"))
            continue
        if expected is list and not isinstance(value, list):
            errors.append((at, f"cannot unmarshal {_yaml_tag(value)} into []"))
            continue
        nested = _NESTED.get((type_name, key))
        if nested is None:
            continue
        sub_schema, sub_name = nested
        items = value if isinstance(value, list) else [value]
        for item in items:
            _check(item, sub_schema, sub_name, errors, getattr(item, "line", at) or at)


def parse(raw: str) -> dict:
    """Decode raw YAML into a normalised config dict (raises ConfigError)."""
    try:
        doc = yamlmini.loads(raw)
    except yamlmini.YAMLSubsetError as exc:
        raise ConfigError(
            f"could not determine kind / apiVersion for config: fake kind cannot parse this YAML without PyYAML ({exc})"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"could not determine kind / apiVersion for config: yaml: {exc}") from None
    if doc is None:
        doc = yamlmini.LineDict()
    if not isinstance(doc, dict):
        raise ConfigError(
            "could not determine kind / apiVersion for config: yaml: unmarshal errors:\n"
            f"  line 1: cannot unmarshal {_yaml_tag(doc)} into encoding.typeMeta"
        )
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    if api_version != API_VERSION:
        if api_version == "kind.sigs.k8s.io/v1alpha3":
            raise ConfigError("fake kind only implements kind.x-k8s.io/v1alpha4 configs")
        raise ConfigError(f"unknown apiVersion: {api_version}")
    if kind != "Cluster":
        # kind's load.go passes (apiVersion, kind) in this (swapped) order
        raise ConfigError(f"unknown kind {api_version} for apiVersion: {kind}")
    errors: list[tuple[int, str]] = []
    _check(doc, _CLUSTER, "Cluster", errors, 1)
    if errors:
        detail = "\n".join(f"  line {line}: {msg}" for line, msg in errors)
        raise ConfigError(f"unable to decode config: yaml: unmarshal errors:\n{detail}")
    return doc


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

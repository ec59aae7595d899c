"""kubectl output printers: table, wide, name, json, yaml.

Column sets follow kubectl's built-in table printers
(k8s.io/kubernetes/pkg/printers/internalversion/printers.go).  The template
printers kubectl also has (jsonpath, go-template, custom-columns) are not
emulated: kenv never asks for them, so the fake says so (exit 2) instead of
guessing their output.
"""

from __future__ import annotations

import json

from .common import human_age, table

# The formats real kubectl accepts, sorted, as its "unable to match a printer"
# error lists them (cli-runtime genericclioptions NoCompatiblePrinterError):
# `kubectl get` (pkg/cmd/get/get_flags.go AllowedFormats) ...
ALLOWED_FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
    "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
)
# ... and commands built on genericclioptions.PrintFlags (e.g. `kubectl config view`).
GENERIC_FORMATS = (
    "go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml"
)


class PrintError(Exception):
    """Message kubectl prints as 'error: <msg>'."""


class NotEmulated(Exception):
    """Something real kubectl does that the fake does not: reported, exit 2."""


def unsupported_format(fmt: str, allowed: str) -> Exception:
    """The error for an output format the fake cannot print: kubectl's own error for a
    format kubectl does not know either, else 'not implemented by the test fake'."""
    if fmt.partition("=")[0] in allowed.split(","):
        return NotEmulated(f'output format "{fmt}" is not implemented by the test fake (kubectl allows: {allowed})')
    return PrintError(
        f'unable to match a printer suitable for the output format "{fmt}", allowed formats are: {allowed}'
    )


def _node_roles(node: dict) -> str:
    roles = sorted(
        k.split("/", 1)[1] for k in node["metadata"].get("labels", {}) if k.startswith("node-role.kubernetes.io/")
    )
    return ",".join(roles) or "<none>"


def _node_status(node: dict) -> str:
    ready = next((c for c in node["status"]["conditions"] if c["type"] == "Ready"), None)
    status = "Ready" if ready and ready["status"] == "True" else "NotReady"
    if node["spec"].get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def _pod_status(pod: dict) -> tuple[str, str, str]:
    statuses = pod["status"].get("containerStatuses", [])
    ready = sum(1 for s in statuses if s.get("ready"))
    reason = pod["status"]["phase"]
    for s in statuses:
        state = s.get("state", {})
        if "waiting" in state:
            reason = state["waiting"].get("reason", reason)
        elif "terminated" in state and reason != "Running":
            reason = state["terminated"].get("reason", reason)
    restarts = sum(int(s.get("restartCount", 0)) for s in statuses)
    restart_text = str(restarts)
    if restarts:
        restart_text += f" ({human_age(pod['status'].get('startTime', ''))} ago)"
    return f"{ready}/{len(statuses)}", reason, restart_text


def _rows(kind: str, objs: list[dict], wide: bool, with_namespace: bool) -> list[list[str]]:
    if kind == "Node":
        header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        if wide:
            header += ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
        rows = [header]
        for o in objs:
            info = o["status"]["nodeInfo"]
            row = [
                o["metadata"]["name"],
                _node_status(o),
                _node_roles(o),
                human_age(o["metadata"]["creationTimestamp"]),
                info["kubeletVersion"],
            ]
            if wide:
                ip = next((a["address"] for a in o["status"]["addresses"] if a["type"] == "InternalIP"), "<none>")
                row += [ip, "<none>", info["osImage"], info["kernelVersion"], info["containerRuntimeVersion"]]
            rows.append(row)
        return rows
    if kind == "Pod":
        header = (["NAMESPACE"] if with_namespace else []) + ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        if wide:
            header += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
        rows = [header]
        for o in objs:
            ready, status, restarts = _pod_status(o)
            row = ([o["metadata"]["namespace"]] if with_namespace else []) + [
                o["metadata"]["name"],
                ready,
                status,
                restarts,
                human_age(o["metadata"]["creationTimestamp"]),
            ]
            if wide:
                row += [o["status"].get("podIP") or "<none>", o["spec"].get("nodeName", "<none>"), "<none>", "<none>"]
            rows.append(row)
        return rows
    if kind == "ConfigMap":  # kubectl's table for configmaps: NAME DATA AGE
        rows = [(["NAMESPACE"] if with_namespace else []) + ["NAME", "DATA", "AGE"]]
        for o in objs:
            rows.append(
                ([o["metadata"]["namespace"]] if with_namespace else [])
                + [o["metadata"]["name"], str(len(o.get("data") or {})), human_age(o["metadata"]["creationTimestamp"])]
            )
        return rows
    rows = [["NAME", "STATUS", "AGE"]]
    for o in objs:
        rows.append([o["metadata"]["name"], o["status"]["phase"], human_age(o["metadata"]["creationTimestamp"])])
    return rows


def as_list(objs: list[dict]) -> dict:
    return {"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {"resourceVersion": ""}}


def render(
    fmt: str,
    kind: str,
    objs: list[dict],
    single: bool,
    no_headers: bool,
    with_namespace: bool,
    show_labels: bool = False,
) -> str:
    """Format objects like ``kubectl get -o FMT`` (returns text without trailing newline)."""
    data: dict = objs[0] if single else as_list(objs)
    if fmt in ("", "wide"):
        rows = _rows(kind, objs, fmt == "wide", with_namespace)
        if show_labels:
            rows[0].append("LABELS")
            for row, obj in zip(rows[1:], objs, strict=True):
                labels = obj["metadata"].get("labels") or {}
                row.append(",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>")
        if no_headers:
            rows = rows[1:]
        return table(rows, padding=3, minwidth=6) if rows else ""
    if fmt == "json":
        return json.dumps(data, indent=4)
    if fmt == "yaml":
        from . import yamlio

        return yamlio.dump(data).rstrip("\n")
    if fmt == "name":
        return "\n".join(f"{kind.lower()}/{o['metadata']['name']}" for o in objs)
    raise unsupported_format(fmt, ALLOWED_FORMATS)

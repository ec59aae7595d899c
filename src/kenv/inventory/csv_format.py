"""The predecessor's config/environments.csv: parsing and rendering. Pure.

Format: header as a `#` comment (`# env,provider,node_port,pf_port,register_portainer,
haproxy_route,http_port,https_port[,cluster_subnet]`), booleans true/false/1/0, an empty
subnet for none, comment and blank lines anywhere. Everything that can be checked without the
inventory is checked here, so a file with any such problem is rejected whole, before anything
is written; the message names the line.
"""

from __future__ import annotations

import csv
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from kenv.catalogue import facts_for
from kenv.errors import InvalidInput, KenvError
from kenv.inventory.model import Environment
from kenv.inventory.validation import (
    check_host_port,
    check_node_port,
    parse_cidr,
    validate_name,
    validate_provider,
)

COLUMNS = (
    "env",
    "provider",
    "node_port",
    "pf_port",
    "register_portainer",
    "haproxy_route",
    "http_port",
    "https_port",
    "cluster_subnet",
)
REQUIRED = ("env", "provider")
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
DEFAULT_NODE_PORT = 30080


@dataclass(frozen=True)
class CsvRow:
    line: int
    name: str
    provider: str
    node_port: int
    pf_port: int | None
    register_portainer: bool
    haproxy_route: bool
    http_port: int | None
    https_port: int | None
    subnet: ipaddress.IPv4Network | None

    def ports(self) -> dict[str, int]:
        given = {"http": self.http_port, "https": self.https_port, "pf": self.pf_port}
        return {k: v for k, v in given.items() if v is not None}


def _header_from(text: str) -> list[str] | None:
    cells = [c.strip().lower() for c in text.split(",")]
    return cells if cells and cells[0] == "env" and "provider" in cells else None


def _int(value: str, column: str, where: str) -> int | None:
    if value == "":
        return None
    if not value.isdigit() or len(value) > 5:
        raise InvalidInput(f"{where}: {column} {value!r} is not a port number")
    return int(value)


def _bool(value: str, column: str, where: str) -> bool:
    lowered = value.lower()
    if lowered == "":
        return True  # the predecessor treated a missing flag as on
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput(f"{where}: {column} {value!r} is not a boolean", hint="use true/false or 1/0")


def _row(cells: dict[str, str], line: int, source: str) -> CsvRow:
    where = f"{source}:{line}"
    try:
        name = validate_name(cells["env"], role="management")
        provider = validate_provider(cells["provider"].lower())
        node_port = _int(cells.get("node_port", ""), "node_port", where)
        ports = {c: _int(cells.get(c, ""), c, where) for c in ("pf_port", "http_port", "https_port")}
        for column, port in ports.items():
            if port is not None:
                check_host_port(port, column, allow_privileged=True)
        subnet_text = cells.get("cluster_subnet", "")
        subnet = parse_cidr(subnet_text) if subnet_text else None
        if subnet is not None and not facts_for(provider).has_subnet:
            raise InvalidInput(
                f"{provider} environments cannot have a subnet ({subnet})", hint="leave cluster_subnet empty"
            )
        row = CsvRow(
            line=line,
            name=name,
            provider=provider,
            node_port=check_node_port(node_port) if node_port is not None else DEFAULT_NODE_PORT,
            pf_port=ports["pf_port"],
            register_portainer=_bool(cells.get("register_portainer", ""), "register_portainer", where),
            haproxy_route=_bool(cells.get("haproxy_route", ""), "haproxy_route", where),
            http_port=ports["http_port"],
            https_port=ports["https_port"],
            subnet=subnet,
        )
    except KenvError as exc:
        if exc.message.startswith(where):
            raise
        raise InvalidInput(f"{where}: {exc.message}", hint=exc.hint) from exc
    return row


def parse_csv(text: str, source: str) -> list[CsvRow]:
    """All rows of the file, or InvalidInput naming the first bad line."""
    columns: list[str] = list(COLUMNS)
    rows: list[CsvRow] = []
    seen_names: dict[str, int] = {}
    seen_ports: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip().lstrip("\ufeff")
        if not stripped:
            continue
        if stripped.startswith("#"):
            header = _header_from(stripped.lstrip("#").strip())
            if header is not None and not rows:
                columns = _check_header(header, source, number)
            continue
        header = _header_from(stripped)
        if header is not None and not rows:
            columns = _check_header(header, source, number)
            continue
        values = [v.strip() for v in next(csv.reader([stripped]))]
        # A trailing optional subnet may be left off entirely, not only left empty.
        allowed = {len(columns), len(columns) - 1} if columns[-1] == "cluster_subnet" else {len(columns)}
        if len(values) not in allowed:
            raise InvalidInput(
                f"{source}:{number}: expected {len(columns)} columns ({','.join(columns)}), found {len(values)}"
            )
        row = _row(dict(zip(columns, values, strict=False)), number, source)
        if row.name in seen_names:
            raise InvalidInput(
                f"{source}:{number}: environment {row.name!r} already appears on line {seen_names[row.name]}"
            )
        seen_names[row.name] = number
        for port in row.ports().values():
            if port in seen_ports:
                raise InvalidInput(f"{source}:{number}: port {port} is also used on line {seen_ports[port]}")
            seen_ports[port] = number
        rows.append(row)
    return rows


def _check_header(header: list[str], source: str, line: int) -> list[str]:
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise InvalidInput(
            f"{source}:{line}: unknown column(s) {', '.join(unknown)}",
            hint=f"known columns: {','.join(COLUMNS)}",
        )
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(f"{source}:{line}: header lacks {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise InvalidInput(f"{source}:{line}: a column appears twice in the header")
    return header


def render_csv(envs: Iterable[Environment]) -> str:
    lines = ["# " + ",".join(COLUMNS)]
    for env in sorted(envs, key=lambda e: e.name):
        cells = [
            env.name,
            env.provider,
            str(env.node_port),
            _port_cell(env.port("pf")),
            "true" if env.register_portainer else "false",
            "true" if env.haproxy_route else "false",
            _port_cell(env.port("http")),
            _port_cell(env.port("https")),
            str(env.subnet) if env.subnet else "",
        ]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def _port_cell(port: int | None) -> str:
    return "" if port is None else str(port)

"""`kenv postgres render`, pure: Params in, file texts out.

Public interface (other code builds on it): `Params`, `tune(params)`, `render_postgresql_conf(params)`,
`render_pg_hba(params)`, `render_files(params)` (file name -> text of the kustomize directory) and
`config_checksum(params)`. Nothing here touches the disk or a cluster; `kenv.platform.postgres.output`
writes a directory.
"""

from __future__ import annotations

import hashlib

from kenv.platform.postgres.params import IMAGES, Params, quantity_bytes
from kenv.platform.postgres.tuning import FORMULA, Tuning, compute

__all__ = [
    "IMAGES",
    "Params",
    "config_checksum",
    "render_files",
    "render_pg_hba",
    "render_postgresql_conf",
    "tune",
]

TLS_DIR = "/etc/postgresql/tls"
ARCHIVE_TIMEOUT = "5min"  # the recovery point objective: a quiet server still archives every 5 minutes


def tune(params: Params) -> Tuning:
    """The memory and planner settings for `params` (see tuning.py for the formula)."""
    params.validate()
    return compute(params.memory_bytes, params.cpu, params.connections, params.profile)


def _conf_line(name: str, value: str) -> str:
    return f"{name} = {value}"


def render_postgresql_conf(params: Params) -> str:
    """postgresql.conf: the tuned values, then what kenv fixes whatever the size (archiving,
    authentication, logging). Paths are the pod's unless `params` names others."""
    tuning = tune(params)
    lines = [
        f"# kenv postgres render: {FORMULA}, profile {params.profile}, memory {params.memory}, cpu {params.cpu}.",
        "# Edit the render options, not this file: a new render replaces it.",
        "",
        "# Connections",
        _conf_line("listen_addresses", "'*'"),
        _conf_line("port", "5432"),
        _conf_line("unix_socket_directories", f"'{params.socket_dir}'"),
        _conf_line("superuser_reserved_connections", "3"),
        "",
        "# Memory and planner (" + FORMULA + ")",
    ]
    lines += [_conf_line(name, value) for name, value in tuning.settings.items()]
    lines += [
        "",
        "# Write-ahead log and archiving: point-in-time recovery needs both a base backup and every",
        "# segment since; 'test ! -f' never overwrites an archived segment (PostgreSQL docs, 26.3.1).",
        _conf_line("wal_level", "replica"),
        _conf_line("max_wal_senders", "10"),
        _conf_line("archive_mode", "on"),
        _conf_line("archive_command", f"'test ! -f {params.archive_dir}/%f && cp %p {params.archive_dir}/%f'"),
        _conf_line("archive_timeout", ARCHIVE_TIMEOUT),
        "",
        "# Authentication",
        _conf_line("password_encryption", "scram-sha-256"),
    ]
    if params.tls:
        lines += [
            _conf_line("ssl", "on"),
            _conf_line("ssl_cert_file", f"'{TLS_DIR}/tls.crt'"),
            _conf_line("ssl_key_file", f"'{TLS_DIR}/tls.key'"),
            _conf_line("ssl_min_protocol_version", "'TLSv1.3'"),
        ]
    else:
        lines.append(_conf_line("ssl", "off"))
    lines += [
        "",
        "# Observability (kenv postgres status reads these)",
        _conf_line("shared_preload_libraries", "'" + ",".join(params.preload_libraries) + "'"),
        _conf_line("track_io_timing", "on"),
        _conf_line("log_destination", "'stderr'"),
        _conf_line("log_min_duration_statement", "1000"),
        _conf_line("log_checkpoints", "on"),
        _conf_line("log_lock_waits", "on"),
        _conf_line("log_temp_files", "0"),
        "",
    ]
    return "\n".join(lines)


def render_pg_hba(params: Params) -> str:
    """pg_hba.conf: scram-sha-256 for every network connection (hostssl with --tls, so a plain
    connection matches no line and is refused). The pod's own Unix socket uses peer: only
    processes inside the pod reach it, they run as the postgres user, and the image's first-start
    scripts, `kubectl exec ... psql` and the pod's own pg_basebackup (a replication connection,
    which `all` does not cover) work without a password anywhere."""
    host = "hostssl" if params.tls else "host"
    rows = [
        ("local", "all", "all", "", "peer"),
        ("local", "replication", "all", "", "peer"),
        (host, "all", "all", "0.0.0.0/0", "scram-sha-256"),
        (host, "all", "all", "::/0", "scram-sha-256"),
        (host, "replication", "all", "0.0.0.0/0", "scram-sha-256"),
        (host, "replication", "all", "::/0", "scram-sha-256"),
    ]
    header = ("# TYPE", "DATABASE", "USER", "ADDRESS", "METHOD")
    lines = ["# kenv postgres render: scram-sha-256 only over the network; peer on the pod's own socket."]
    lines += [f"{row[0]:<10}{row[1]:<13}{row[2]:<6}{row[3]:<12}{row[4]}".rstrip() for row in [header, *rows]]
    return "\n".join(lines) + "\n"


def config_checksum(params: Params) -> str:
    """sha256 of both configuration files: the pod template carries it, so a change rolls the pod."""
    digest = hashlib.sha256()
    digest.update(render_postgresql_conf(params).encode())
    digest.update(b"\0")
    digest.update(render_pg_hba(params).encode())
    return digest.hexdigest()


def render_files(params: Params) -> dict[str, str]:
    """The kustomize directory: file name -> text, in kustomization order."""
    from kenv.platform.postgres.manifests import render_objects

    params.validate()
    quantity_bytes(params.storage, "--storage")
    return render_objects(params, render_postgresql_conf(params), render_pg_hba(params), config_checksum(params))

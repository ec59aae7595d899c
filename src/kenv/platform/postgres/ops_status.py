"""`kenv postgres status`: the SQL it reads and the shape of its answer. Pure.

The five things the predecessor said to watch (connections, cache hit ratio, slow queries, WAL
archiving, size) plus version and uptime, from the statistics views every PostgreSQL from 13 on
has; pg_stat_statements only when it is loaded (shared_preload_libraries) and created in the
database, and the answer says which of the two is missing otherwise.
"""

from __future__ import annotations

from typing import Any

SUMMARY_SQL = """
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num') AS version_num,
       pg_postmaster_start_time() AS started_at,
       extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_seconds,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections,
       current_setting('max_connections') AS max_connections,
       (SELECT round(sum(blks_hit)::numeric / nullif(sum(blks_hit) + sum(blks_read), 0), 4)
          FROM pg_stat_database) AS cache_hit_ratio,
       current_database() AS database,
       pg_database_size(current_database()) AS database_bytes,
       (SELECT sum(pg_database_size(oid)) FROM pg_database WHERE datallowconn) AS all_databases_bytes,
       pg_is_in_recovery() AS in_recovery,
       current_setting('archive_mode') AS archive_mode,
       current_setting('shared_preload_libraries') AS preload,
       (SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements') AS statements_created,
       (SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory
"""

ARCHIVER_SQL = """
SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, last_failed_time,
       round(extract(epoch FROM now() - last_archived_time)::numeric, 1) AS lag_seconds
  FROM pg_stat_archiver
"""

LONGEST_SQL = """
SELECT pid, usename AS "user", datname AS database, state,
       round(extract(epoch FROM now() - query_start)::numeric, 1) AS seconds, left(query, 200) AS query
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()
 ORDER BY query_start
 LIMIT 5
"""

SLOWEST_SQL = """
SELECT calls, round(mean_exec_time::numeric, 2) AS mean_ms, round(total_exec_time::numeric, 2) AS total_ms,
       left(query, 200) AS query
  FROM pg_stat_statements
 ORDER BY mean_exec_time DESC
 LIMIT 5
"""

# `kenv postgres status -o json`: top-level keys and those of each part (pinned by a test).
STATUS_JSON_KEYS = (
    "target",
    "version",
    "version_num",
    "started_at",
    "uptime_seconds",
    "in_recovery",
    "connections",
    "cache_hit_ratio",
    "longest_running",
    "slowest_queries",
    "archiving",
    "database",
    "volume",
)
CONNECTIONS_KEYS = ("used", "max", "ratio")
ARCHIVING_KEYS = (
    "mode",
    "archived_count",
    "failed_count",
    "last_archived_wal",
    "last_archived_time",
    "last_failed_wal",
    "last_failed_time",
    "lag_seconds",
)
SLOWEST_KEYS = ("available", "reason", "queries")
DATABASE_KEYS = ("name", "size_bytes", "all_databases_bytes")
VOLUME_KEYS = ("path", "size_bytes", "used_bytes", "available_bytes")


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def statements_state(summary: dict[str, str | None]) -> tuple[bool, str | None]:
    """Whether pg_stat_statements can be read, and why not otherwise."""
    preload = [p.strip() for p in (summary.get("preload") or "").split(",")]
    if "pg_stat_statements" not in preload:
        return False, "pg_stat_statements is not loaded (add it to shared_preload_libraries and restart)"
    if (summary.get("statements_created") or "0") == "0":
        return False, "pg_stat_statements is loaded but not created here (CREATE EXTENSION pg_stat_statements)"
    return True, None


def parse_df(text: str) -> dict[str, int] | None:
    """`df -Pk PATH`: POSIX output, one header line and one line of 1024-byte blocks."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    fields = lines[-1].split()
    if len(fields) < 6 or not all(f.isdigit() for f in fields[1:4]):
        return None
    total, used, available = (int(f) * 1024 for f in fields[1:4])
    return {"size_bytes": total, "used_bytes": used, "available_bytes": available}


def build_status(
    *,
    target: str,
    summary: dict[str, str | None],
    archiver: dict[str, str | None],
    longest: list[dict[str, str | None]],
    slowest: list[dict[str, str | None]] | None,
    volume: dict[str, int] | None,
) -> dict[str, Any]:
    used, maximum = _int(summary.get("connections")) or 0, _int(summary.get("max_connections")) or 0
    available, reason = statements_state(summary)
    return {
        "target": target,
        "version": summary.get("version"),
        "version_num": _int(summary.get("version_num")),
        "started_at": summary.get("started_at"),
        "uptime_seconds": _int(summary.get("uptime_seconds")),
        "in_recovery": summary.get("in_recovery") == "t",
        "connections": {"used": used, "max": maximum, "ratio": round(used / maximum, 4) if maximum else None},
        "cache_hit_ratio": _float(summary.get("cache_hit_ratio")),
        "longest_running": [
            {
                "pid": _int(row.get("pid")),
                "user": row.get("user"),
                "database": row.get("database"),
                "state": row.get("state"),
                "seconds": _float(row.get("seconds")),
                "query": row.get("query"),
            }
            for row in longest
        ],
        "slowest_queries": {
            "available": available and slowest is not None,
            "reason": reason,
            "queries": [
                {
                    "calls": _int(row.get("calls")),
                    "mean_ms": _float(row.get("mean_ms")),
                    "total_ms": _float(row.get("total_ms")),
                    "query": row.get("query"),
                }
                for row in slowest or []
            ],
        },
        "archiving": {
            "mode": summary.get("archive_mode"),
            "archived_count": _int(archiver.get("archived_count")),
            "failed_count": _int(archiver.get("failed_count")),
            "last_archived_wal": archiver.get("last_archived_wal"),
            "last_archived_time": archiver.get("last_archived_time"),
            "last_failed_wal": archiver.get("last_failed_wal"),
            "last_failed_time": archiver.get("last_failed_time"),
            "lag_seconds": _float(archiver.get("lag_seconds")),
        },
        "database": {
            "name": summary.get("database"),
            "size_bytes": _int(summary.get("database_bytes")),
            "all_databases_bytes": _int(summary.get("all_databases_bytes")),
        },
        "volume": {"path": summary.get("data_directory"), **(volume or dict.fromkeys(VOLUME_KEYS[1:]))},
    }


def status_lines(status: dict[str, Any]) -> list[str]:
    """The status for people, one fact per line."""
    connections = status["connections"]
    archiving = status["archiving"]
    lines = [
        f"target:        {status['target']}",
        f"version:       {status['version']}  (up {_duration(status['uptime_seconds'])}"
        f"{', in recovery' if status['in_recovery'] else ''})",
        f"connections:   {connections['used']} of {connections['max']}",
        f"cache hit:     {_percent(status['cache_hit_ratio'])}",
        f"archiving:     mode {archiving['mode']}, archived {archiving['archived_count']}, failed "
        f"{archiving['failed_count']}, last {archiving['last_archived_wal'] or '-'}, lag "
        f"{_duration(archiving['lag_seconds'])}",
    ]
    if archiving["last_failed_wal"]:
        lines.append(f"last failure:  {archiving['last_failed_wal']} at {archiving['last_failed_time']}")
    database, volume = status["database"], status["volume"]
    everything = _bytes(database["all_databases_bytes"])
    lines.append(f"database:      {database['name']} {_bytes(database['size_bytes'])} (all databases {everything})")
    if volume["size_bytes"] is not None:
        lines.append(
            f"volume:        {_bytes(volume['used_bytes'])} used of {_bytes(volume['size_bytes'])} ({volume['path']})"
        )
    lines.append("longest running:" if status["longest_running"] else "longest running: none")
    lines += [f"  {q['seconds']}s pid {q['pid']} {q['state']}: {q['query']}" for q in status["longest_running"]]
    slowest = status["slowest_queries"]
    if not slowest["available"]:
        lines.append(f"slowest queries: {slowest['reason']}")
    else:
        lines.append("slowest queries (mean):")
        lines += [f"  {q['mean_ms']} ms x{q['calls']}: {q['query']}" for q in slowest["queries"]]
    return lines


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.2f}%"


def _bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"

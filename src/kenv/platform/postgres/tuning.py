"""Memory and planner settings from the pod's size: pgtune's formulas, one named version.

The formulas are pgtune's (github.com/le0pard/pgtune, `configurationSlice.js`) as of commit
7d204bd (2025-04, PR #113), the version whose work_mem counts the background workers:

    shared_buffers        = RAM / 4
    effective_cache_size  = RAM * 3 / 4
    maintenance_work_mem  = RAM / 16 (dw: RAM / 8), at most 8GB
    work_mem              = (RAM - shared_buffers) / ((max_connections + max_worker_processes) * 3)
                            / divisor (web, oltp 1; dw, mixed 2), at least 64kB
    wal_buffers           = 3% of shared_buffers, at most 16MB (14MB..16MB rounds up to 16MB)

For 2 GiB, web, 200 connections this gives the seed's 512MB / 1536MB / 128MB / 200 and a work_mem
of 2520kB. The seed's "~2.6MB" is (RAM - shared_buffers) / (3 * max_connections) = 2621kB, a
figure no pgtune version prints: it forgets that parallel and background workers take work_mem
too. The later pgtune (2026-04) raises work_mem to a 4MB floor, which at 200 connections could
commit 2.4GB of sorts on a 2GiB pod; 7d204bd's figure keeps the worst case inside the limit.
The desktop profile is not offered: since 2024-08 it sets wal_level=minimal, which turns WAL
archiving and pg_basebackup (so point-in-time recovery) off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FORMULA = "pgtune 7d204bd (2025-04)"
PROFILES = ("web", "oltp", "dw", "mixed")
DEFAULT_CONNECTIONS = {"web": 200, "oltp": 300, "dw": 40, "mixed": 100}
WORK_MEM_DIVISOR = {"web": 1, "oltp": 1, "dw": 2, "mixed": 2}
WAL_SIZES = {"web": ("1GB", "4GB"), "oltp": ("2GB", "8GB"), "dw": ("4GB", "16GB"), "mixed": ("1GB", "4GB")}
STATISTICS_TARGET = {"web": 100, "oltp": 100, "dw": 500, "mixed": 100}
DEFAULT_WORKER_PROCESSES = 8  # PostgreSQL's default max_worker_processes, used below 4 CPUs

KB_PER_MB = 1024
KB_PER_GB = 1024 * 1024


def format_kb(value: int) -> str:
    """pgtune's formatValue: GB or MB when the value divides exactly, kB otherwise."""
    if value % KB_PER_GB == 0:
        return f"{value // KB_PER_GB}GB"
    if value % KB_PER_MB == 0:
        return f"{value // KB_PER_MB}MB"
    return f"{value}kB"


@dataclass(frozen=True)
class Tuning:
    """The computed settings, in postgresql.conf order and spelling."""

    settings: dict[str, str]
    formula: str = FORMULA


def compute(memory_bytes: int, cpu: int, max_connections: int, profile: str) -> Tuning:
    """pgtune's settings for a pod of `memory_bytes` and `cpu` CPUs (SSD storage, Linux)."""
    ram = memory_bytes // 1024  # kB, as pgtune counts
    shared_buffers = ram // 4
    effective_cache_size = ram * 3 // 4
    maintenance = min(ram // (8 if profile == "dw" else 16), 8 * KB_PER_GB)
    workers = cpu if cpu >= 4 else DEFAULT_WORKER_PROCESSES
    work_mem = (ram - shared_buffers) // ((max_connections + workers) * 3) // WORK_MEM_DIVISOR[profile]
    work_mem = max(work_mem, 64)
    wal_buffers = min(shared_buffers * 3 // 100, 16 * KB_PER_MB)
    if wal_buffers > 14 * KB_PER_MB:
        wal_buffers = 16 * KB_PER_MB
    wal_buffers = max(wal_buffers, 32)
    min_wal, max_wal = WAL_SIZES[profile]
    settings = {
        "max_connections": str(max_connections),
        "shared_buffers": format_kb(shared_buffers),
        "effective_cache_size": format_kb(effective_cache_size),
        "maintenance_work_mem": format_kb(maintenance),
        "checkpoint_completion_target": "0.9",
        "wal_buffers": format_kb(wal_buffers),
        "default_statistics_target": str(STATISTICS_TARGET[profile]),
        "random_page_cost": "1.1",  # local clusters keep volumes on the host's SSD
        "effective_io_concurrency": "200",
        "work_mem": format_kb(work_mem),
        "huge_pages": "try" if shared_buffers >= 2 * KB_PER_GB else "off",
        "min_wal_size": min_wal,
        "max_wal_size": max_wal,
    }
    if cpu >= 4:
        half = math.ceil(cpu / 2)
        settings["max_worker_processes"] = str(cpu)
        settings["max_parallel_workers_per_gather"] = str(half if profile == "dw" else min(half, 4))
        settings["max_parallel_workers"] = str(cpu)
        settings["max_parallel_maintenance_workers"] = str(min(half, 4))
    return Tuning(settings)

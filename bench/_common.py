"""Helpers shared by the benchmark scripts (run with the project venv: `make bench`)."""

from __future__ import annotations

import ipaddress
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from kenv.inventory.repository import AllocationPolicy, Inventory, ensure_ports_spec
from kenv.inventory.validation import AUTO, EnvironmentSpec
from kenv.settings import PortRange

# Wide ranges so that 1,000+ environments fit (the defaults are sized for 500 per purpose).
BENCH_RANGES = {
    "KENV_HTTP_PORT_RANGE": "20000-21999",
    "KENV_HTTPS_PORT_RANGE": "22000-23999",
    "KENV_PF_PORT_RANGE": "24000-25999",
    "KENV_API_PORT_RANGE": "26000-27999",
    "KENV_SUBNET_POOL": "10.200.0.0/16",
    "KENV_SUBNET_PREFIX": "26",
}
POLICY = AllocationPolicy(
    port_ranges={
        "http": PortRange(20000, 21999),
        "https": PortRange(22000, 23999),
        "pf": PortRange(24000, 25999),
        "api": PortRange(26000, 27999),
    },
    subnet_pool=ipaddress.IPv4Network("10.200.0.0/16"),
    subnet_prefix=26,
)


def spec(i: int, prefix: str = "env") -> EnvironmentSpec:
    provider = "kind" if i % 4 == 0 else "k3d"
    return EnvironmentSpec(
        name=f"{prefix}{i:04d}",
        provider=provider,
        subnet=AUTO if provider == "k3d" else None,
        ports=ensure_ports_spec({}, provider),
        labels=(("bench", "yes"),),
    )


def populate(inventory: Inventory, count: int) -> None:
    for i in range(count):
        inventory.register(spec(i), POLICY)


def user_environment() -> dict[str, str]:
    """This environment as a user's shell has it: Python writes its bytecode caches. (Some
    environments set PYTHONDONTWRITEBYTECODE, which makes every run compile kenv's modules again, a
    cost no installed kenv pays; the first, unmeasured run of each command writes the caches.)"""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_command(argv: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, {platform.system()}"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000

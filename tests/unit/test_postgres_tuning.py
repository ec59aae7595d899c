"""The tuning formula (pgtune 7d204bd) against the seed's 2 GiB numbers and pgtune's own rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kenv.errors import InvalidInput
from kenv.platform.postgres.params import Params
from kenv.platform.postgres.render import render_postgresql_conf, tune
from kenv.platform.postgres.tuning import compute, format_kb

GIB = 1024**3


def test_the_seeds_2gib_web_numbers() -> None:
    settings = tune(Params(memory="2Gi", cpu=2, profile="web")).settings
    assert settings["shared_buffers"] == "512MB"
    assert settings["effective_cache_size"] == "1536MB"
    assert settings["maintenance_work_mem"] == "128MB"
    assert settings["max_connections"] == "200"
    assert settings["wal_buffers"] == "16MB"
    # (2GiB - 512MB) / ((200 + 8 workers) * 3) = 2520kB; the seed's 2.6MB forgets the workers
    assert settings["work_mem"] == "2520kB"
    seed_figure = (2 * 1024 * 1024 - 512 * 1024) // (3 * 200)
    assert seed_figure == 2621 and int(settings["work_mem"][:-2]) < seed_figure


def test_8gib_oltp_with_4_cpus_sets_the_parallel_workers() -> None:
    settings = compute(8 * GIB, 4, 300, "oltp").settings
    assert settings["shared_buffers"] == "2GB" and settings["effective_cache_size"] == "6GB"
    assert settings["maintenance_work_mem"] == "512MB"
    assert settings["work_mem"] == "6898kB"  # (8GiB - 2GiB) / ((300 + 4) * 3)
    assert settings["huge_pages"] == "try"
    assert settings["min_wal_size"] == "2GB" and settings["max_wal_size"] == "8GB"
    assert settings["max_worker_processes"] == "4" and settings["max_parallel_workers_per_gather"] == "2"


def test_dw_halves_work_mem_and_doubles_maintenance() -> None:
    web = compute(4 * GIB, 2, 40, "web").settings
    dw = compute(4 * GIB, 2, 40, "dw").settings
    assert dw["maintenance_work_mem"] == "512MB" and web["maintenance_work_mem"] == "256MB"
    assert int(dw["work_mem"][:-2]) == int(web["work_mem"][:-2]) // 2
    assert dw["default_statistics_target"] == "500"


def test_small_wal_buffers_and_the_work_mem_floor() -> None:
    settings = compute(256 * 1024**2, 1, 10000, "mixed").settings
    assert settings["shared_buffers"] == "64MB"
    assert settings["wal_buffers"] == "1966kB"  # 3% of 64MB
    assert settings["work_mem"] == "64kB"


def test_format_is_pgtunes() -> None:
    assert [format_kb(v) for v in (1024 * 1024, 1536, 1024, 2520)] == ["1GB", "1536kB", "1MB", "2520kB"]


def test_the_desktop_profile_is_refused() -> None:
    with pytest.raises(InvalidInput, match="--profile 'desktop' is not one of web, oltp, dw, mixed"):
        tune(Params(profile="desktop"))


def test_the_conf_always_archives_and_uses_scram() -> None:
    conf = render_postgresql_conf(Params(memory="512Mi", profile="mixed"))
    for line in (
        "wal_level = replica",
        "archive_mode = on",
        "archive_command = 'test ! -f /wal-archive/%f && cp %p /wal-archive/%f'",
        "archive_timeout = 5min",
        "password_encryption = scram-sha-256",
        "max_connections = 100",
    ):
        assert line in conf.splitlines()


@given(
    memory_mib=st.integers(min_value=256, max_value=256 * 1024),
    cpu=st.integers(min_value=1, max_value=64),
    connections=st.integers(min_value=20, max_value=10000),
    profile=st.sampled_from(["web", "oltp", "dw", "mixed"]),
)
def test_worst_case_sorts_fit_beside_shared_buffers(memory_mib: int, cpu: int, connections: int, profile: str) -> None:
    """Every connection and worker running three sorts of work_mem stays inside the memory
    shared_buffers leaves (unless the 64kB floor applies)."""
    settings = compute(memory_mib * 1024**2, cpu, connections, profile).settings

    def kb(value: str) -> int:
        units = {"kB": 1, "MB": 1024, "GB": 1024**2}
        return next(int(value[: -len(u)]) * f for u, f in units.items() if value.endswith(u))

    ram = memory_mib * 1024
    workers = cpu if cpu >= 4 else 8
    work_mem = kb(settings["work_mem"])
    assert kb(settings["shared_buffers"]) == ram // 4
    if work_mem > 64:
        assert work_mem * (connections + workers) * 3 <= ram - kb(settings["shared_buffers"])


def test_the_cli_offers_exactly_the_profiles_the_formula_knows() -> None:
    # The CLI keeps its own copy so `kenv --help` does not import the tuning module.
    from kenv.cli.cmd_postgres import PROFILES as CLI_PROFILES
    from kenv.platform.postgres.tuning import PROFILES

    assert CLI_PROFILES == PROFILES

"""Configuration precedence and validation: flag > KENV_* > file > defaults."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from kenv.errors import InvalidInput
from kenv.settings import MIN_ENVIRONMENTS, PortRange, load_settings


def write_config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text)
    return path


def test_defaults_fit_at_least_64_environments_and_avoid_docker_pools(isolated: Path) -> None:
    settings = load_settings(env={"KENV_HOME": str(isolated)})
    for purpose in ("http", "https", "pf", "api"):
        assert len(settings.port_range(purpose)) >= MIN_ENVIRONMENTS
        assert settings.port_range(purpose).high < 32768  # below the ephemeral range
    pool = settings.subnet_pool
    assert 2 ** (settings.subnet_prefix - pool.prefixlen) >= MIN_ENVIRONMENTS
    docker_defaults = [ipaddress.IPv4Network("172.16.0.0/12"), ipaddress.IPv4Network("192.168.0.0/16")]
    assert not any(pool.overlaps(n) for n in docker_defaults)
    assert settings.db_url == f"sqlite:///{isolated / 'data' / 'inventory.db'}"


def test_precedence_flag_over_env_over_file(isolated: Path) -> None:
    write_config(isolated, 'default_provider = "kind"\nbase_domain = "file.test"\nsubnet_prefix = 25\n')
    env = {"KENV_HOME": str(isolated), "KENV_BASE_DOMAIN": "env.test", "KENV_SUBNET_PREFIX": "26"}
    settings = load_settings(env=env, overrides={"subnet_prefix": "27"})
    assert settings.default_provider == "kind"
    assert settings.sources["default_provider"] == str(isolated / "config.toml")
    assert settings.base_domain == "env.test"
    assert settings.sources["base_domain"] == "KENV_BASE_DOMAIN"
    assert settings.subnet_prefix == 27
    assert settings.sources["subnet_prefix"] == "flag"


def test_xdg_locations_without_kenv_home(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = load_settings(env=env)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert settings.config_path == tmp_path / "cfg" / "kenv" / "config.toml"
    assert settings.db_url.endswith(str(tmp_path / "data" / "kenv" / "inventory.db"))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("http_port_range = 'abc'", "not a port range"),
        ("http_port_range = '100-50'", "not a valid port range"),
        ("http_port_range = '18000-18010'", "fewer than 64"),
        ("http_port_range = '18400-18999'", "overlaps https_port_range"),
        ("subnet_pool = '10.200.0.0/26'", "does not fit"),
        ("subnet_pool = 'fd00::/48'", "IPv6"),
        ("default_provider = 'docker'", "unknown provider"),
        ("typo_key = 1", "unknown key"),
        ("this is not toml", "not valid TOML"),
        ("node_port = 80", "NodePort range"),
    ],
)
def test_bad_configuration_is_refused(isolated: Path, text: str, fragment: str) -> None:
    write_config(isolated, text)
    with pytest.raises(InvalidInput, match=fragment):
        load_settings(env={"KENV_HOME": str(isolated)})


def test_explicit_config_file_must_exist(isolated: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_settings(config_path=str(isolated / "missing.toml"), env={"KENV_HOME": str(isolated)})


def test_port_range_helpers() -> None:
    assert 18000 in PortRange(18000, 18001)
    assert PortRange(1, 10).overlaps(PortRange(10, 20))
    assert not PortRange(1, 9).overlaps(PortRange(10, 20))

"""The pure parts of moving the inventory into the platform's PostgreSQL: HAProxy's fe_postgres
(checked by the real `haproxy -c`), the NodePort Service, the inventory's login as SQL, the
password file, the config file edited in place, and the new setting."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from kenv.errors import InvalidInput
from kenv.platform.haproxy.render import ConfigInput, Listen, Route, TcpTarget, render
from kenv.platform.postgres.manifests import PLATFORM_NODE_PORT, network_policies, services
from kenv.platform.postgres.params import Params
from kenv.platform.postgres.roles import (
    database_statement,
    pgpass_line,
    pgpass_password,
    role_statement,
    scram_verifier,
)
from kenv.settings import load_settings, with_config_value
from kenv.workflows.context import WorkflowContext
from kenv.workflows.inventory_move import move_target, moved, plan


def _config(postgres: TcpTarget | None) -> ConfigInput:
    listen = Listen("127.0.0.1", 18080, 18443, 15432)
    return ConfigInput("localtest.me", [Route("dev", "10.200.0.3", 30080)], [], listen, postgres=postgres)


def test_fe_postgres_relays_tcp_to_the_node_port_only_when_there_is_a_target() -> None:
    text = render(_config(TcpTarget("172.30.0.4", PLATFORM_NODE_PORT)))
    assert "frontend fe_postgres\n    mode tcp\n    bind 127.0.0.1:15432\n    default_backend be_postgres\n" in text
    assert "backend be_postgres\n    mode tcp\n    server postgres 172.30.0.4:30432 init-addr last,libc,none\n" in text
    without = render(_config(None))
    assert "fe_postgres" not in without and "be_postgres" not in without
    with pytest.raises(ValueError, match="not one IPv4 address"):
        render(_config(TcpTarget("10.0.0.4172.18.0.6", 30432)))


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (apt-get install haproxy)")
def test_the_configuration_with_fe_postgres_passes_haproxy_check(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(render(_config(TcpTarget("172.30.0.4", PLATFORM_NODE_PORT))))
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_platform_service_is_a_node_port_and_outside_clients_are_allowed_only_then() -> None:
    client, headless = services(Params(node_port=PLATFORM_NODE_PORT))
    assert client["spec"]["type"] == "NodePort"
    assert client["spec"]["ports"] == [
        {"name": "postgresql", "port": 5432, "targetPort": "postgresql", "protocol": "TCP", "nodePort": 30432}
    ]
    assert headless["spec"]["clusterIP"] == "None"
    _, allow = network_policies(Params(node_port=PLATFORM_NODE_PORT))
    sources = allow["spec"]["ingress"][0]["from"]
    assert {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.42.0.0/16", "10.244.0.0/16"]}} in sources
    # `kenv postgres render` without a node port renders what it always did.
    plain, _ = services(Params())
    assert plain["spec"]["type"] == "ClusterIP" and "nodePort" not in plain["spec"]["ports"][0]
    _, plain_allow = network_policies(Params())
    assert not any("ipBlock" in s for s in plain_allow["spec"]["ingress"][0]["from"])
    with pytest.raises(InvalidInput, match="NodePort range"):
        Params(node_port=5432).validate()


def test_the_role_gets_a_scram_verifier_never_the_password() -> None:
    verifier = scram_verifier("pencil", bytes(range(16)))
    iterations, _, rest = verifier.removeprefix("SCRAM-SHA-256$").partition(":")
    salt, _, keys = rest.partition("$")
    assert iterations == "4096" and salt == "AAECAwQFBgcICQoLDA0ODw=="
    stored, server = keys.split(":")
    assert len(stored) == len(server) == 44
    statement = role_statement("kenv", verifier, exists=False)
    assert statement.startswith("CREATE ROLE kenv WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD E'")
    assert "pencil" not in statement and ":" not in statement  # colons as \x3a: never read as :parameters
    assert role_statement("kenv", verifier, exists=True).startswith("ALTER ROLE kenv ")
    assert database_statement("kenv", "kenv") == "CREATE DATABASE kenv OWNER kenv"
    with pytest.raises(ValueError, match="not a plain lower-case identifier"):
        database_statement('kenv"; DROP', "kenv")
    with pytest.raises(ValueError, match="only printable ASCII"):
        scram_verifier("pässword", b"0" * 16)


def test_the_password_file_is_libpqs_format_and_reads_back() -> None:
    line = pgpass_line("127.0.0.1", 15432, "kenv", "kenv", "a:b\\c")
    assert line == "127.0.0.1:15432:kenv:kenv:a\\:b\\\\c\n"
    assert pgpass_password(line) == "a:b\\c"
    assert pgpass_password("# nothing\n\n") is None


def test_db_url_replaces_its_line_or_goes_before_the_first_table_keeping_the_rest() -> None:
    text = '# my settings\nbase_domain = "example.test"  # ours\n\n[images]\nno_proxy = ["corp.example"]\n'
    added = with_config_value(text, "db_url", "postgresql://kenv@127.0.0.1:15432/kenv?passfile=/p")
    assert added.startswith('# my settings\nbase_domain = "example.test"  # ours\n\ndb_url = "postgresql://')
    assert added.endswith('\n\n[images]\nno_proxy = ["corp.example"]\n')
    parsed = tomllib.loads(added)
    assert parsed["db_url"].endswith("passfile=/p") and parsed["images"] == {"no_proxy": ["corp.example"]}
    again = with_config_value(added, "db_url", "sqlite:////x.db")
    assert again.count("db_url") == 1 and tomllib.loads(again)["db_url"] == "sqlite:////x.db"
    assert with_config_value("", "db_url", "sqlite:////x.db") == 'db_url = "sqlite:////x.db"\n'
    with pytest.raises(InvalidInput, match=r"cannot set db_url"):
        with_config_value("db_url = [", "db_url", "x")


def test_the_postgres_port_setting_defaults_to_15432_and_must_differ_from_the_http_ports(isolated: Path) -> None:
    assert load_settings().haproxy_postgres_port == 15432
    assert load_settings(env={"KENV_HAPROXY_POSTGRES_PORT": "25432"}).haproxy_postgres_port == 25432
    with pytest.raises(InvalidInput, match="haproxy_http_port and haproxy_postgres_port are both 8080"):
        load_settings(env={"KENV_HAPROXY_HTTP_PORT": "8080", "KENV_HAPROXY_POSTGRES_PORT": "8080"})
    with pytest.raises(InvalidInput, match="is not a port"):
        load_settings(env={"KENV_HAPROXY_POSTGRES_PORT": "70000"})


def test_the_target_url_names_the_password_file_and_holds_no_password(isolated: Path) -> None:
    ctx = WorkflowContext(load_settings(env={"KENV_HOME": str(isolated), "KENV_HAPROXY_BIND": "0.0.0.0"}))  # noqa: S104
    target = move_target(ctx)
    passfile = isolated / "data" / "secrets" / "devops" / "inventory.pgpass"
    assert target.url == f"postgresql://kenv@127.0.0.1:15432/kenv?passfile={passfile}&sslmode=disable"
    assert not moved(ctx)
    described = plan(ctx)
    assert f"from sqlite:///{isolated / 'data' / 'inventory.db'}" in described
    assert target.url in described and str(isolated / "config.toml") in described
    there = WorkflowContext(load_settings(env={"KENV_HOME": str(isolated), "KENV_DB_URL": target.url}))
    assert moved(there)


def test_the_docker_runtime_publishes_fe_postgres_and_reports_what_a_container_publishes(tmp_path: Path) -> None:
    from kenv.runtime import haproxy as hx
    from tests.unit.scripted_runner import ScriptedRunner

    runner = ScriptedRunner()
    missing = "Error response from daemon: No such container: kenv-haproxy\n"
    runner.answer(["docker", "container", "inspect", hx.CONTAINER], returncode=1, stdout="[]\n", stderr=missing)
    runner.expect(
        [
            *("docker", "run", "-d", "--name", "kenv-haproxy", "--label", "io.kenv.component=haproxy"),
            *("--restart", "unless-stopped", "--network", "kenv"),
            *("-p", "127.0.0.1:80:8080", "-p", "127.0.0.1:443:8443", "-p", "127.0.0.1:15432:15432"),
            *("-v", f"{tmp_path}:/usr/local/etc/haproxy:ro", hx.IMAGE),
        ]
    )
    loaded = "[NOTICE]   (1) : New worker (8) forked\n[NOTICE]   (1) : Loading success.\n"
    runner.expect(["docker", "logs", "--since"], stderr=loaded, prefix=True)
    hx.start_docker(
        runner, tmp_path, network="kenv", bind="127.0.0.1", http_port=80, https_port=443, postgres_port=15432
    )
    runner.assert_done()

    made_before = {
        "State": {"Running": True},
        "HostConfig": {"PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "80"}], "8443/tcp": []}},
        "NetworkSettings": {"Networks": {"kenv": {"IPAddress": "10.0.0.9"}}},
    }
    runner = ScriptedRunner()
    runner.answer(["docker", "container", "inspect", hx.CONTAINER], stdout=json.dumps([made_before]))
    info = hx.container_info(runner)
    assert info is not None and info.published == ("8080/tcp", "8443/tcp")
    assert f"{hx.CONTAINER_POSTGRES_PORT}/tcp" not in info.published  # such a container is made again


def test_deploying_the_platforms_postgresql_again_keeps_its_node_port(isolated: Path) -> None:
    from kenv.workflows.postgres_deploy import DeployRequest, _platform_node_port
    from kenv.workflows.registrations import mark_done

    ctx = WorkflowContext(load_settings(env={"KENV_HOME": str(isolated)}))
    devops, dev = DeployRequest("devops", Params()), DeployRequest("dev", Params())
    assert _platform_node_port(ctx, devops).node_port is None  # no platform PostgreSQL yet
    mark_done(ctx, "postgres")
    assert _platform_node_port(ctx, devops).node_port == PLATFORM_NODE_PORT
    assert _platform_node_port(ctx, dev).node_port is None

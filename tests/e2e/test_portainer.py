"""Portainer through the fake docker (which runs the fake Portainer API) and the fake k3d/kubectl:
bootstrap with a generated admin password, registration on create (edge environment + agent with
the key in a Secret), removal on delete, and the failures named with their fix."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import stat
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kenv.errors import KenvError
from kenv.inventory.model import Environment
from kenv.runtime.process import Runner
from kenv.settings import load_settings
from kenv.workflows import portainer
from kenv.workflows.context import WorkflowContext
from tests.e2e.lifecycle_support import Fleet
from tests.fakes.fakeclusters.portainer_server import containers


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    yield world
    world.kill_fakes()
    for record in containers(str(world.state)).values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(record["pid"], signal.SIGKILL)


def data_dir(fleet: Fleet) -> Path:
    return fleet.home / "data"


def password(fleet: Fleet) -> str:
    return (data_dir(fleet) / "secrets" / "portainer-admin").read_text().strip()


def api(fleet: Fleet, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    port = json.loads((data_dir(fleet) / "platform" / "portainer.json").read_text())["port"]
    auth = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth",
        data=json.dumps({"Username": "admin", "Password": password(fleet)}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(auth, timeout=5) as answer:  # noqa: S310 - loopback
        jwt = json.loads(answer.read())["jwt"]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, headers={"Authorization": f"Bearer {jwt}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        raw = answer.read()
        return answer.status, json.loads(raw) if raw else None


def endpoints(fleet: Fleet) -> list[dict[str, Any]]:
    return list(api(fleet, "GET", "/api/endpoints")[1])


def context(fleet: Fleet, *, dry_run: bool = False) -> WorkflowContext:
    settings = load_settings(env=fleet.env)
    return WorkflowContext(settings, runner=Runner(dry_run=dry_run, env=fleet.env), dry_run=dry_run)


def docker_argvs(fleet: Fleet) -> list[list[str]]:
    return [list(map(str, c["argv"])) for c in fleet.calls() if c["tool"] == "docker"]


def stop_portainer(fleet: Fleet) -> None:
    """Portainer goes down (its process killed; the record stays, as a stopped container's would)."""
    for record in containers(str(fleet.state)).values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(record["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", record["port"]), timeout=0.2).close()
            except OSError:
                break
            time.sleep(0.02)


def test_bootstrap_sets_a_generated_password_once_and_keeps_it(fleet: Fleet) -> None:
    first = fleet.run("bootstrap", "--only", "portainer")
    assert first.returncode == 0, first.stderr
    secret = password(fleet)
    path = data_dir(fleet) / "secrets" / "portainer-admin"
    assert len(secret) >= 12
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret not in first.stdout + first.stderr
    assert str(path) in first.stdout
    (run,) = [argv for argv in docker_argvs(fleet) if argv[1:2] == ["run"]]
    assert secret not in " ".join(run)  # set through the API, never on a command line
    assert "portainer/portainer-ce:2.21.4" in run and "--network" in run
    assert any(a.startswith("127.0.0.1:") and a.endswith(":9000") for a in run)
    again = fleet.run("bootstrap", "--only", "portainer")
    assert again.returncode == 0, again.stderr
    assert password(fleet) == secret
    assert [argv for argv in docker_argvs(fleet) if argv[1:2] == ["run"]] == [run]


def test_a_restarted_container_keeps_its_administrator(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "portainer")
    secret = password(fleet)
    stop_portainer(fleet)
    assert not portainer.portainer_bootstrapped(context(fleet))
    info = portainer.ensure_portainer(context(fleet))  # runs the container again on the same volume
    assert password(fleet) == secret
    assert info.password_file == data_dir(fleet) / "secrets" / "portainer-admin"
    assert portainer.portainer_bootstrapped(context(fleet))


def test_create_registers_once_and_delete_removes(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "portainer")
    created = fleet.run("create", "dev", "--subnet", "none")
    assert created.returncode == 0, created.stderr
    (endpoint,) = endpoints(fleet)
    assert endpoint["Name"] == "dev" and endpoint["Type"] == 4
    key = endpoint["EdgeKey"]
    assert key not in created.stdout + created.stderr
    # the agent's Secret holds the key verbatim, in the environment's own cluster
    state = json.loads((fleet.state / "state.json").read_text())
    secrets = [o for c in state["clusters"].values() for o in c.get("applied") or [] if o["kind"] == "Secret"]
    (stored,) = [s for s in secrets if s["metadata"]["name"] == "portainer-agent-edge-key"]
    assert base64.b64decode(stored["data"]["edge.key"]).decode() == key
    # registering again looks the name up: still one environment, same Id and key
    ctx = context(fleet)
    env = ctx.inventory().get("dev")
    assert isinstance(env, Environment)
    again = portainer.register_environment(ctx, env)
    assert again is not None and again.id == endpoint["Id"] and again.to_dict() == {"id": endpoint["Id"], "name": "dev"}
    assert "EdgeKey" not in repr(again) and key not in repr(again)
    assert len(endpoints(fleet)) == 1
    deleted = fleet.run("delete", "dev")
    assert deleted.returncode == 0, deleted.stderr
    assert endpoints(fleet) == []
    portainer.unregister_environment(context(fleet), "dev")  # unknown name: nothing to do


def test_delete_retries_a_failing_portainer(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet.ok("bootstrap", "--only", "portainer", KENV_FAKE_PORTAINER_DELETE_FAILS="5")
    fleet.ok("create", "dev", "--subnet", "none")
    fleet.ok("create", "qa", "--subnet", "none")
    monkeypatch.setattr(portainer, "RETRY_PAUSE", 0.01)
    # the first four DELETEs answer 500: dev's attempts run out, and the error says what Portainer said
    with pytest.raises(KenvError, match="removing the environment 'dev': HTTP 500 Unexpected error"):
        portainer.unregister_environment(context(fleet), "dev")
    # the fifth fails too, the sixth goes through: qa's retries get there
    portainer.unregister_environment(context(fleet), "qa")
    assert [e["Name"] for e in endpoints(fleet)] == ["dev"]


def test_a_portainer_that_is_down_fails_the_step_with_the_fix(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "portainer")
    stop_portainer(fleet)
    result = fleet.run("create", "dev", "--subnet", "none")
    assert result.returncode == 1
    assert "portainer" in result.stderr and "kenv bootstrap --only portainer" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(KenvError, match="not answering") as caught:
        portainer.unregister_environment(context(fleet), "dev")
    assert "kenv bootstrap --only portainer" in caught.value.one_line()


def test_a_wrong_stored_password_is_named_not_printed(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "portainer")
    path = data_dir(fleet) / "secrets" / "portainer-admin"
    path.write_text("this-is-not-the-password\n")
    result = fleet.run("create", "dev", "--subnet", "none")
    assert result.returncode == 1
    assert f"refuses the admin password stored in {path}" in result.stderr
    assert "this-is-not-the-password" not in result.stderr + result.stdout
    stop_portainer(fleet)
    with pytest.raises(KenvError, match="refuses the admin password"):
        portainer.ensure_portainer(context(fleet))


def test_an_initialised_portainer_without_the_password_file_is_refused(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "portainer")
    (data_dir(fleet) / "secrets" / "portainer-admin").unlink()
    with pytest.raises(KenvError, match="already has an administrator but its password file") as caught:
        portainer.ensure_portainer(context(fleet))
    assert "docker volume rm kenv-portainer-data" in caught.value.one_line()


def test_dry_run_plans_the_container_and_the_api_calls(fleet: Fleet) -> None:
    ctx = context(fleet, dry_run=True)
    info = portainer.ensure_portainer(ctx)
    planned = [" ".join(p) for p in ctx.runner.planned]
    assert any(p.startswith("docker run -d --name kenv-portainer") for p in planned)
    assert f"POST {info.url}/api/users/admin/init" in planned
    assert not (data_dir(fleet) / "secrets" / "portainer-admin").exists()
    assert containers(str(fleet.state)) == {}


def test_remove_takes_what_kenv_made(fleet: Fleet) -> None:
    fleet.ok("bootstrap", "--only", "portainer")
    portainer.remove_portainer(context(fleet))
    assert containers(str(fleet.state)) == {}
    assert not (fleet.state / "portainer" / "volumes" / "kenv-portainer-data").exists()
    assert not (data_dir(fleet) / "secrets" / "portainer-admin").exists()
    assert not portainer.portainer_bootstrapped(context(fleet))


def test_a_port_taken_since_it_was_picked_is_picked_again(fleet: Fleet) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]

    def refuse() -> None:  # accepts and hangs up: no HTTP answer, like a program that is not Portainer
        with contextlib.suppress(OSError):
            while True:
                holder.accept()[0].close()

    threading.Thread(target=refuse, daemon=True).start()
    state = data_dir(fleet) / "platform" / "portainer.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"port": taken}))
    try:
        info = portainer.ensure_portainer(context(fleet))
    finally:
        holder.close()
    assert not info.url.endswith(f":{taken}")
    assert json.loads(state.read_text())["port"] != taken
    runs = [argv for argv in docker_argvs(fleet) if argv[1:2] == ["run"]]
    assert len(runs) == 2 and f"127.0.0.1:{taken}:9000" in runs[0]
    assert portainer.portainer_bootstrapped(context(fleet))


def test_a_stored_password_portainer_would_refuse_is_named(fleet: Fleet) -> None:
    path = data_dir(fleet) / "secrets" / "portainer-admin"
    path.parent.mkdir(parents=True)
    path.write_text("short\n")
    with pytest.raises(KenvError, match="shorter than 12 characters"):
        portainer.ensure_portainer(context(fleet))

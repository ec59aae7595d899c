"""The fake Portainer answers and refuses as Portainer CE 2.21.4 does (tests/fakes/README.md cites
the handlers), and the fake docker runs and removes its container and volume."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.fakeclusters.portainer_server import containers
from tests.fakes_selftest.conftest import Runner
from tests.netutil import free_port

IMAGE = "portainer/portainer-ce:2.21.4"
PASSWORD = "a-long-enough-password"  # noqa: S105 - the fake's test password


def call(
    method: str, url: str, body: Any = None, *, jwt: str = "", form: dict[str, str] | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {jwt}"} if jwt else {}
    data = None
    if form is not None:
        boundary = "xyz123"
        data = (
            b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                for k, v in form.items()
            )
            + f"--{boundary}--\r\n".encode()
        )
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode()


@pytest.fixture
def portainer(run: Runner, fake_env: dict[str, str]) -> Iterator[str]:
    """A fake Portainer container started through the fake docker; its URL."""
    port = free_port()
    made = run("docker", "volume", "create", "--label", "kenv.component=portainer", "pv")
    assert made.returncode == 0 and made.stdout == "pv\n", made.stderr
    started = run("docker", "run", "-d", "--name", "pt", "-p", f"127.0.0.1:{port}:9000", "-v", "pv:/data", IMAGE)
    assert started.returncode == 0, started.stderr
    assert len(started.stdout.strip()) == 64
    yield f"http://127.0.0.1:{port}"
    for record in containers(fake_env["KENV_FAKE_STATE"]).values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(record["pid"], signal.SIGKILL)


def _admin(url: str) -> str:
    assert call("POST", f"{url}/api/users/admin/init", {"Username": "admin", "Password": PASSWORD})[0] == 200
    status, body = call("POST", f"{url}/api/auth", {"Username": "admin", "Password": PASSWORD})
    assert status == 200
    return str(body["jwt"])


def test_admin_is_made_once_with_a_long_enough_password(portainer: str) -> None:
    assert call("GET", f"{portainer}/api/users/admin/check") == (
        404,
        {
            "message": "No administrator account found inside the database",
            "details": "Object not found inside the database",
        },
    )
    short = call("POST", f"{portainer}/api/users/admin/init", {"Username": "admin", "Password": "elevenchars"})
    assert short == (
        400,
        {"message": "Password does not meet the requirements", "details": "Password does not meet the requirements"},
    )
    spaced = call("POST", f"{portainer}/api/users/admin/init", {"Username": "ad min", "Password": PASSWORD})
    assert spaced[0] == 400 and spaced[1]["details"] == "Invalid username. Must not contain any whitespace"
    assert call("POST", f"{portainer}/api/users/admin/init", {"Username": "admin", "Password": PASSWORD})[0] == 200
    assert call("GET", f"{portainer}/api/users/admin/check") == (204, None)
    again = call("POST", f"{portainer}/api/users/admin/init", {"Username": "admin", "Password": PASSWORD})
    assert again == (
        409,
        {"message": "Unable to create administrator user", "details": "An administrator user already exists"},
    )


def test_login_refuses_a_wrong_password_and_routes_need_a_valid_token(portainer: str) -> None:
    jwt = _admin(portainer)
    wrong = call("POST", f"{portainer}/api/auth", {"Username": "admin", "Password": "not-the-password"})
    assert wrong == (422, {"message": "Invalid credentials", "details": "Unauthorized"})
    assert call("GET", f"{portainer}/api/endpoints") == (
        401,
        {"message": "A valid authorization token is missing", "details": "Unauthorized"},
    )
    assert call("GET", f"{portainer}/api/endpoints", jwt="forged")[0] == 401
    assert call("GET", f"{portainer}/api/endpoints", jwt=jwt) == (200, [])
    assert call("GET", f"{portainer}/api/nowhere") == (404, "404 page not found\n")


def test_edge_environment_create_validates_the_form_and_keeps_names_unique(portainer: str) -> None:
    jwt = _admin(portainer)
    url = f"{portainer}/api/endpoints"
    no_name = call("POST", url, jwt=jwt, form={"EndpointCreationType": "4", "URL": "http://p:9000"})
    assert no_name == (400, {"message": "Invalid request payload", "details": "Invalid environment name"})
    no_type = call("POST", url, jwt=jwt, form={"Name": "dev", "URL": "http://p:9000"})
    assert no_type[0] == 400 and no_type[1]["details"].startswith("Invalid environment type value")
    no_url = call("POST", url, jwt=jwt, form={"Name": "dev", "EndpointCreationType": "4"})
    assert no_url == (400, {"message": "Invalid request payload", "details": "URL cannot be empty"})
    local = call(
        "POST", url, jwt=jwt, form={"Name": "dev", "EndpointCreationType": "4", "URL": "http://localhost:9000"}
    )
    assert local == (400, {"message": "Unable to parse host", "details": "Cannot use localhost as environment URL"})
    status, made = call("POST", url, jwt=jwt, form={"Name": "dev", "EndpointCreationType": "4", "URL": "http://p:9000"})
    assert status == 200 and made["Id"] == 1 and made["Type"] == 4 and made["URL"] == "p"
    # chisel/key.go: base64 (no padding) of url|host:8000|fingerprint|id
    key = base64.b64decode(made["EdgeKey"] + "=" * (-len(made["EdgeKey"]) % 4)).decode().split("|")
    assert key[0] == "http://p:9000" and key[1] == "p:8000" and key[3] == "1"
    dup = call("POST", url, jwt=jwt, form={"Name": "dev", "EndpointCreationType": "4", "URL": "http://p:9000"})
    assert dup == (409, {"message": "Name is not unique", "details": "Name is not unique"})
    assert [e["Id"] for e in call("GET", f"{url}?name=dev", jwt=jwt)[1]] == [1]
    assert call("GET", f"{url}?name=other", jwt=jwt) == (200, [])


def test_delete_answers_204_then_404(portainer: str) -> None:
    jwt = _admin(portainer)
    url = f"{portainer}/api/endpoints"
    call("POST", url, jwt=jwt, form={"Name": "dev", "EndpointCreationType": "4", "URL": "http://p:9000"})
    assert call("DELETE", f"{url}/1", jwt=jwt) == (204, None)
    assert call("DELETE", f"{url}/1", jwt=jwt)[0] == 404
    assert call("DELETE", f"{url}/abc", jwt=jwt)[0] == 400
    assert call("DELETE", f"{url}/1")[0] == 401


def test_the_volume_keeps_the_data_across_containers(run: Runner, portainer: str, fake_env: dict[str, str]) -> None:
    _admin(portainer)
    port = portainer.rsplit(":", 1)[1]
    busy = run("docker", "volume", "rm", "pv")
    assert busy.returncode == 1 and "volume is in use" in busy.stderr
    running = run("docker", "rm", "pt")
    assert running.returncode == 1 and "container is running" in running.stderr
    conflict = run("docker", "run", "-d", "--name", "pt", "-p", f"127.0.0.1:{port}:9000", "-v", "pv:/data", IMAGE)
    assert conflict.returncode == 125 and 'The container name "/pt" is already in use' in conflict.stderr
    assert run("docker", "rm", "-f", "pt").stdout == "pt\n"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{portainer}/api/system/status", timeout=2)  # noqa: S310 - loopback
    again = run("docker", "run", "-d", "--name", "pt", "-p", f"127.0.0.1:{port}:9000", "-v", "pv:/data", IMAGE)
    assert again.returncode == 0, again.stderr
    assert call("GET", f"{portainer}/api/users/admin/check") == (204, None)
    assert run("docker", "rm", "-f", "pt").returncode == 0
    assert run("docker", "volume", "rm", "pv").stdout == "pv\n"
    assert not (Path(fake_env["KENV_FAKE_STATE"]) / "portainer" / "volumes" / "pv").exists()


def test_run_refuses_unknown_flags_and_a_taken_port(run: Runner, portainer: str) -> None:
    port = portainer.rsplit(":", 1)[1]
    bad = run("docker", "run", "-d", "--bogus", "--name", "x", IMAGE)
    assert bad.returncode == 125 and "unknown flag: --bogus" in bad.stderr
    taken = run("docker", "run", "-d", "--name", "other", "-p", f"127.0.0.1:{port}:9000", "-v", "pv2:/data", IMAGE)
    assert taken.returncode == 125 and "port is already allocated" in taken.stderr


def test_volume_create_leaves_what_the_cli_refuses_to_it(run: Runner, fake_env: dict[str, str]) -> None:
    """Two names, or --name and a positional name: docker/cli volume/create.go refuses both before
    the engine is asked, so the fake must not create a volume for either."""
    volumes = Path(fake_env["KENV_FAKE_STATE"]) / "portainer" / "volumes"
    for extra in (["va", "vb"], ["--name", "va", "vb"]):
        refused = run("docker", "volume", "create", "--label", "kenv.component=portainer", *extra)
        assert refused.returncode != 0, refused.stdout
        assert not (volumes / "va").exists() and not (volumes / "vb").exists()

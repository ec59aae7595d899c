"""A fake Portainer CE 2.21.4: its REST API on a real HTTP port, started by the fake `docker run`.

The real image cannot be pulled here, so `docker run ... portainer/portainer-ce:<tag>` through
the fake docker (tool_docker.py hands those calls to `docker_intercept` below) starts this server
as a detached process listening on the published loopback port. Its data lives in the fake
volume's directory (`$KENV_FAKE_STATE/portainer/volumes/<volume>/portainer.json`), so a container
removed and run again on the same volume finds its administrator and environments, as the real
one does with its BoltDB file. `docker rm [-f]` and `docker volume create|rm` answer for these
containers and volumes; anything else goes on to the real engine as before.

What the API does and refuses follows portainer/portainer at tag 2.21.4 (tests/fakes/README.md
cites each file): error bodies are {"message","details"} (pkg/libhttp/error/error.go), protected
routes need `Authorization: Bearer <jwt>` (api/http/security/bouncer.go: 401 "A valid
authorization token is missing" / "Invalid JWT token"), an administrator is made once (409), a
short password is refused (RequiredPasswordLength 12), a wrong one is 422 "Invalid credentials",
endpoint creation is multipart/form-data with the validation order of endpoint_create.go, and
names are unique (409 "Name is not unique").

Test controls (environment of the `docker run` call): KENV_FAKE_PORTAINER_JWT_TTL (seconds a JWT
lives, default 8 h as Portainer's UserSessionTimeout), KENV_FAKE_PORTAINER_DELETE_FAILS (the first
N DELETE /api/endpoints/{id} answer 500, to exercise retries).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:  # the server's modules are imported when it starts, not on each fake docker call
    from http.server import BaseHTTPRequestHandler

VERSION = "2.21.4"
IMAGE_REPO = "portainer/portainer-ce"
REQUIRED_PASSWORD_LENGTH = 12  # api/datastore/init.go
TUNNEL_PORT = 8000
EDGE_AGENT_ON_DOCKER = 4  # api/portainer.go EndpointType: what createEdgeAgentEndpoint records
NOT_FOUND_DETAIL = "Object not found inside the database"  # api/dataservices/errors ErrObjectNotFound


# -- the API ---------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: str | None = None) -> None:
        super().__init__(message)
        # writeErrorResponse: details default to the capitalised message
        self.status, self.message = status, message
        self.details = details if details is not None else message[:1].upper() + message[1:]


class Store:
    """The instance's database: one JSON file on the fake volume, written whole on each change."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "portainer.json")
        self.lock = threading.Lock()
        try:
            with open(self.path, encoding="utf-8") as handle:
                self.data: dict[str, Any] = json.load(handle)
        except FileNotFoundError:
            self.data = {"admin": None, "endpoints": [], "next_id": 1, "instance": str(uuid.uuid4())}
            self.data["fingerprint"] = ":".join(secrets.token_hex(1) for _ in range(16))
            self.save()

    def save(self) -> None:
        temp = self.path + ".tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle)
        os.replace(temp, self.path)


def _hash(password: str, salt: str) -> str:
    import hashlib

    return hashlib.sha256((salt + password).encode()).hexdigest()


class Api:
    def __init__(self, store: Store, jwt_ttl: float, delete_failures: int) -> None:
        self.store = store
        self.jwt_ttl = jwt_ttl
        self.tokens: dict[str, float] = {}  # jwt -> expiry (the signing key dies with the process)
        self.delete_failures = delete_failures

    # routes: (method, pattern) -> handler; gorilla/mux answers 404 "404 page not found" for an
    # unknown path and 405 with an empty body for a known path with another method
    def route(self, method: str, path: str) -> tuple[Any, list[str]]:
        table = [
            ("GET", r"/api/system/status", self.status, False),
            ("GET", r"/api/users/admin/check", self.admin_check, False),
            ("POST", r"/api/users/admin/init", self.admin_init, False),
            ("POST", r"/api/auth", self.authenticate, False),
            ("GET", r"/api/endpoints", self.endpoint_list, True),
            ("POST", r"/api/endpoints", self.endpoint_create, True),
            ("GET", r"/api/endpoints/([^/]+)", self.endpoint_inspect, True),
            ("DELETE", r"/api/endpoints/([^/]+)", self.endpoint_delete, True),
        ]
        known_path = False
        for verb, pattern, handler, protected in table:
            match = re.fullmatch(pattern, path)
            if match:
                known_path = True
                if verb == method:
                    return (handler, protected), list(match.groups())
        return (None, known_path), []

    def check_token(self, header: str | None) -> None:
        token = header[7:].strip() if header and header.lower().startswith("bearer ") else ""
        if not token:
            raise ApiError(401, "A valid authorization token is missing", "Unauthorized")
        expiry = self.tokens.get(token)
        if expiry is None or expiry < time.time():
            raise ApiError(401, "Invalid JWT token", "Unauthorized")

    @staticmethod
    def json_payload(body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body or b"null")
        except ValueError as exc:
            raise ApiError(400, "Invalid request payload", "Invalid JSON payload") from exc
        if not isinstance(payload, dict):
            raise ApiError(400, "Invalid request payload", "Invalid JSON payload")
        return payload

    def status(self, request: Request) -> tuple[int, Any]:
        return 200, {"Version": VERSION, "InstanceID": self.store.data["instance"]}

    def admin_check(self, request: Request) -> tuple[int, Any]:
        if not self.store.data["admin"]:
            raise ApiError(404, "No administrator account found inside the database", NOT_FOUND_DETAIL)
        return 204, None

    def admin_init(self, request: Request) -> tuple[int, Any]:
        payload = self.json_payload(request.body)
        username, password = payload.get("Username"), payload.get("Password")
        if not isinstance(username, str) or not username.strip() or " " in username:
            raise ApiError(400, "Invalid request payload", "Invalid username. Must not contain any whitespace")
        if not isinstance(password, str) or not password.strip():
            raise ApiError(400, "Invalid request payload", "Invalid password")
        with self.store.lock:
            if self.store.data["admin"]:
                raise ApiError(409, "Unable to create administrator user", "An administrator user already exists")
            if len(password) < REQUIRED_PASSWORD_LENGTH:
                raise ApiError(400, "Password does not meet the requirements")
            salt = secrets.token_hex(8)
            self.store.data["admin"] = {"username": username, "salt": salt, "hash": _hash(password, salt)}
            self.store.save()
        return 200, {"Id": 1, "Username": username, "Role": 1}

    def authenticate(self, request: Request) -> tuple[int, Any]:
        payload = self.json_payload(request.body)
        username, password = payload.get("Username"), payload.get("Password")
        if not isinstance(username, str) or not username.strip():
            raise ApiError(400, "Invalid request payload", "Invalid username")
        if not isinstance(password, str) or not password.strip():
            raise ApiError(400, "Invalid request payload", "Invalid password")
        admin = self.store.data["admin"]
        if not admin or admin["username"] != username or admin["hash"] != _hash(password, admin["salt"]):
            raise ApiError(422, "Invalid credentials", "Unauthorized")
        token = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
        self.tokens[token] = time.time() + self.jwt_ttl
        return 200, {"jwt": token}

    def endpoint_list(self, request: Request) -> tuple[int, Any]:
        query = parse_qs(request.query)
        found = list(self.store.data["endpoints"])
        if "name" in query:
            found = [e for e in found if e["Name"] == query["name"][0]]
        if "search" in query:
            needle = query["search"][0].lower()
            found = [e for e in found if needle in e["Name"].lower()]
        request.extra_headers["X-Total-Count"] = str(len(found))
        request.extra_headers["X-Total-Available"] = str(len(self.store.data["endpoints"]))
        return 200, found

    def _find(self, raw: str) -> dict[str, Any]:
        if not raw.isdigit():
            raise ApiError(400, "Invalid environment identifier route variable", "Invalid route variable")
        for endpoint in self.store.data["endpoints"]:
            if endpoint["Id"] == int(raw):
                return dict(endpoint)
        raise ApiError(
            404, "Unable to find an environment with the specified identifier inside the database", NOT_FOUND_DETAIL
        )

    def endpoint_inspect(self, request: Request, raw: str) -> tuple[int, Any]:
        return 200, self._find(raw)

    def endpoint_create(self, request: Request) -> tuple[int, Any]:
        form = request.form()

        def bad(detail: str) -> ApiError:
            return ApiError(400, "Invalid request payload", detail[:1].upper() + detail[1:])

        name = form.get("Name", "")
        if not name:
            raise bad("invalid environment name")
        kind = form.get("EndpointCreationType", "")
        if not kind.isdigit() or int(kind) == 0:
            raise bad(
                "invalid environment type value. Value must be one of: 1 (Docker environment), 2 (Agent "
                "environment), 3 (Azure environment), 4 (Edge Agent environment) or 5 (Local Kubernetes environment)"
            )
        group = int(form["GroupID"]) if form.get("GroupID", "").isdigit() else 0
        try:
            tags = json.loads(form["TagIds"]) if "TagIds" in form else []
        except ValueError:
            raise bad("invalid TagIds parameter") from None
        if not isinstance(tags, list) or not all(isinstance(t, int) for t in tags):
            raise bad("invalid TagIds parameter")
        if int(kind) != 4:
            # kenv registers edge agents only; the other types need a Docker or Kubernetes API
            raise ApiError(500, "Unable to get environment type", "the fake Portainer implements edge agents only")
        url = form.get("URL", "")
        if not url.strip():
            raise bad("URL cannot be empty")
        with self.store.lock:
            if any(e["Name"] == name for e in self.store.data["endpoints"]):
                raise ApiError(409, "Name is not unique")
            host = _host_for_edge(url)
            ident = self.store.data["next_id"]
            self.store.data["next_id"] = ident + 1
            key_info = "|".join([url, f"{host}:{TUNNEL_PORT}", self.store.data["fingerprint"], str(ident)])
            endpoint = {
                "Id": ident,
                "Name": name,
                "Type": EDGE_AGENT_ON_DOCKER,
                "URL": host,
                "GroupId": group or 1,
                "PublicURL": form.get("PublicURL", ""),
                "TagIds": tags,
                "Status": 1,
                "EdgeKey": base64.b64encode(key_info.encode()).decode().rstrip("="),  # RawStdEncoding
                "EdgeID": "",
                "EdgeCheckinInterval": int(form["EdgeCheckinInterval"])
                if form.get("EdgeCheckinInterval", "").isdigit()
                else 0,
                "UserTrusted": True,
                "Snapshots": [],
            }
            self.store.data["endpoints"].append(endpoint)
            self.store.save()
        return 200, endpoint

    def endpoint_delete(self, request: Request, raw: str) -> tuple[int, Any]:
        with self.store.lock:
            self._find(raw)
            if self.delete_failures > 0:
                self.delete_failures -= 1
                raise ApiError(500, "Unexpected error", "Unable to remove environment (injected by the test)")
            self.store.data["endpoints"] = [e for e in self.store.data["endpoints"] if e["Id"] != int(raw)]
            self.store.save()
        return 204, None


def _host_for_edge(url: str) -> str:
    """api/internal/edge/url.go ParseHostForEdge."""
    parts = urlsplit(url)
    host = parts.hostname if parts.netloc else ""
    if not host:
        raise ApiError(400, "Unable to parse host", "Hostname cannot be empty")
    if host == "localhost":
        raise ApiError(400, "Unable to parse host", "Cannot use localhost as environment URL")
    return host


class Request:
    def __init__(self, path: str, query: str, headers: Any, body: bytes) -> None:
        self.path, self.query, self.headers, self.body = path, query, headers, body
        self.extra_headers: dict[str, str] = {}

    def form(self) -> dict[str, str]:
        """The text fields of a multipart/form-data body (Go's r.FormValue also reads an
        urlencoded one)."""
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        if not ctype.startswith("multipart/form-data"):
            return {}
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body)
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                fields.setdefault(name, payload.decode() if isinstance(payload, bytes) else "")
        return fields


def make_handler(api: Api) -> type[BaseHTTPRequestHandler]:
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-portainer"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            (handler, flag), groups = api.route(method, parts.path)
            request = Request(parts.path, parts.query, self.headers, body)
            try:
                if handler is None:
                    if flag:
                        self._send(405, b"", "")
                    else:
                        self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
                    return
                if flag:
                    api.check_token(self.headers.get("Authorization"))
                status, payload = handler(request, *groups)
            except ApiError as exc:
                data = json.dumps({"message": exc.message, "details": exc.details}, separators=(",", ":")).encode()
                self._send(exc.status, data, "application/json")
                return
            if payload is None:
                self._send(status, b"", "", request.extra_headers)
            else:
                self._send(
                    status,
                    json.dumps(payload, separators=(",", ":")).encode(),
                    "application/json",
                    request.extra_headers,
                )

        def _send(self, status: int, data: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_PUT(self) -> None:
            self._serve("PUT")

    return Handler


def serve(host: str, port: int, data_dir: str, ready_file: str = "") -> int:
    from http.server import ThreadingHTTPServer

    os.makedirs(data_dir, exist_ok=True)
    api = Api(
        Store(data_dir),
        float(os.environ.get("KENV_FAKE_PORTAINER_JWT_TTL", str(8 * 3600))),
        int(os.environ.get("KENV_FAKE_PORTAINER_DELETE_FAILS", "0")),
    )

    class Server(ThreadingHTTPServer):
        # One listener per port, as a published port is: no SO_REUSEPORT sharing.
        allow_reuse_port = False

    try:
        server = Server((host, port), make_handler(api))
    except OSError as exc:
        print(f"bind {host}:{port}: {exc}", file=sys.stderr)
        return 98
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if ready_file:  # the port is ours: `docker run -d` may return
        with open(ready_file, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
    server.serve_forever(poll_interval=0.2)
    return 0


# -- the container, through the fake docker ----------------------------------------------------------

_RUN_FLAGS = {
    "detach": ("d", False, False),
    "name": ("", True, False),
    "restart": ("", True, False),
    "label": ("l", True, True),
    "network": ("", True, False),
    "net": ("", True, False),
    "publish": ("p", True, True),
    "volume": ("v", True, True),
    "env": ("e", True, True),
    "rm": ("", False, False),
}
_RM_FLAGS = {"force": ("f", False, False), "link": ("l", False, False), "volumes": ("v", False, False)}
_VOLUME_CREATE_FLAGS = {
    "driver": ("d", True, False),
    "label": ("", True, True),
    "name": ("", True, False),
    "opt": ("o", True, True),
}
_VOLUME_RM_FLAGS = {"force": ("f", False, False)}
_USAGE = {
    "run": "docker run [OPTIONS] IMAGE [COMMAND] [ARG...]",
    "rm": "docker rm [OPTIONS] CONTAINER [CONTAINER...]",
    "volume create": "docker volume create [OPTIONS] [VOLUME]",
    "volume rm": "docker volume rm [OPTIONS] VOLUME [VOLUME...]",
}


def _root(state_dir: str) -> str:
    return os.path.join(state_dir, "portainer")


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write(path: str, data: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(path + ".tmp", path)


def containers(state_dir: str) -> dict[str, dict[str, Any]]:
    """The fake Portainer containers by name (tests read the pid and port here)."""
    directory = os.path.join(_root(state_dir), "containers")
    found: dict[str, dict[str, Any]] = {}
    for entry in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        data = _read(os.path.join(directory, entry))
        if data is not None:
            found[data["name"]] = data
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def docker_intercept(state_dir: str, rest: list[str]) -> int | None:
    """Answer `docker run` of the Portainer image and `rm`/`volume create|rm` of the fake
    Portainer's containers and volumes; None: not ours, the caller goes on as before."""
    from .common import err, out
    from .tool_docker import _parse, _Usage

    if rest[:1] == ["container"] and rest[1:2] in (["run"], ["rm"]):
        rest = rest[1:]
    command = " ".join(rest[:2]) if rest[:1] == ["volume"] else rest[0] if rest else ""
    spec = {"run": _RUN_FLAGS, "rm": _RM_FLAGS, "volume create": _VOLUME_CREATE_FLAGS, "volume rm": _VOLUME_RM_FLAGS}
    if command not in spec:
        return None
    args = rest[2:] if command.startswith("volume") else rest[1:]
    if command == "run" and not any(a.startswith(IMAGE_REPO + ":") for a in args):
        return None
    if command == "volume create" and not any("kenv.component=portainer" in a for a in args):
        return None
    try:
        opts, positional = _parse(args, spec[command], command, interspersed=command != "run")
    except _Usage as exc:
        if command != "run":
            return None  # a flag the fake does not model: the real engine answers
        if exc.code == 0:
            out(f"Usage:  {_USAGE[command]}")
            return 0
        err(exc.message)
        err("")
        err(f"Usage:  {_USAGE[command]}")
        err("")
        err(f"Run 'docker {command} --help' for more information")
        return exc.code
    root = _root(state_dir)
    known = containers(state_dir)
    if command == "rm":
        ours = [
            n for n in positional if n in known or any(c["id"].startswith(n) for c in known.values() if len(n) >= 12)
        ]
        if not ours:
            return None
        code = 0
        for name in positional:
            record = known.get(name) or next((c for c in known.values() if c["id"].startswith(name)), None)
            if record is None:
                err(f"Error response from daemon: No such container: {name}")
                code = 1
                continue
            if _alive(record["pid"]) and not opts["force"]:
                err(
                    f'Error response from daemon: cannot remove container "/{record["name"]}": container is running: '
                    "stop the container before removing or force remove"
                )
                code = 1
                continue
            _stop(record["pid"])
            os.unlink(os.path.join(root, "containers", record["name"] + ".json"))
            out(name)
        return code
    if command == "volume create":
        if len(positional) + bool(opts["name"]) != 1:
            # volume/create.go: RequiresMaxArgs(1), --name and a positional conflict, no name means a
            # generated one; none of it is modelled: the real CLI and engine answer
            return None
        name = opts["name"] or positional[0]
        labels = dict(label.partition("=")[::2] for label in opts["label"])
        path = os.path.join(root, "volumes", name, "volume.json")
        if _read(path) is None:
            _write(path, {"name": name, "labels": labels})
        out(name)
        return 0
    if command == "volume rm":
        ours = [n for n in positional if _read(os.path.join(root, "volumes", n, "volume.json")) is not None]
        if not ours:
            return None
        code = 0
        for name in positional:
            users = [c for c in known.values() if c["volume"] == name]
            if name not in ours:
                err(f"Error response from daemon: get {name}: no such volume")
                code = 1
            elif users:
                err(f"Error response from daemon: remove {name}: volume is in use - [{users[0]['id']}]")
                code = 1
            else:
                import shutil

                shutil.rmtree(os.path.join(root, "volumes", name))
                out(name)
        return code
    return _run(state_dir, opts, positional)


def _stop(pid: int) -> None:
    if not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # our child when this process started it: reap it
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.02)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


def _run(state_dir: str, opts: dict[str, Any], positional: list[str]) -> int:
    import subprocess

    from .common import err, out

    image = positional[0]
    if positional[1:]:
        err("fake docker: a command after the Portainer image is not implemented by the test fake")
        return 2
    if not opts["detach"]:
        err("fake docker: the fake Portainer runs detached only (-d)")
        return 2
    name = opts["name"] or f"portainer_{secrets.token_hex(3)}"
    root = _root(state_dir)
    known = containers(state_dir)
    if name in known:
        err(
            f'docker: Error response from daemon: Conflict. The container name "/{name}" is already in use by '
            f'container "{known[name]["id"]}". You have to remove (or rename) that container to be able to reuse '
            "that name."
        )
        err("")
        err("Run 'docker run --help' for more information")
        return 125
    host, port = "", 0
    for publish in opts["publish"]:
        # [ip:]hostPort:containerPort; the API is on 9000 inside the container
        fields = publish.split(":")
        if fields[-1].split("/")[0] == "9000" and len(fields) >= 2 and fields[-2].isdigit():
            host, port = (fields[0] if len(fields) == 3 else "0.0.0.0"), int(fields[-2])
    if not port:
        err("fake docker: the fake Portainer needs -p [IP:]HOSTPORT:9000 (a published API port)")
        return 2
    volume = ""
    for mount in opts["volume"]:
        source, _, target = mount.partition(":")
        if target.split(":")[0] == "/data":
            volume = source
    if not volume or "/" in volume:
        err("fake docker: the fake Portainer needs a named volume on /data (-v NAME:/data)")
        return 2
    volume_dir = os.path.join(root, "volumes", volume)
    if _read(os.path.join(volume_dir, "volume.json")) is None:  # docker run makes a missing named volume
        _write(os.path.join(volume_dir, "volume.json"), {"name": volume, "labels": {}})
    env = dict(os.environ)
    env.update(e.partition("=")[::2] for e in opts["env"] if "=" in e)
    log_path = os.path.join(root, f"{name}.log")
    ready = os.path.join(root, f"{name}.ready")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(ready)
    fakes_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = fakes_dir
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fakeclusters.portainer_server",
                host,
                str(port),
                os.path.join(volume_dir, "data"),
                ready,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
            cwd=fakes_dir,
        )
    deadline = time.monotonic() + 10
    while not os.path.exists(ready):
        if proc.poll() is not None:
            err(
                f"docker: Error response from daemon: driver failed programming external connectivity on endpoint "
                f"{name}: Bind for {host}:{port} failed: port is already allocated."
            )
            err("")
            err("Run 'docker run --help' for more information")
            return 125
        if time.monotonic() > deadline:
            _stop(proc.pid)
            err("fake docker: the fake Portainer did not start (see " + log_path + ")")
            return 125
        time.sleep(0.02)
    os.unlink(ready)
    ident = secrets.token_hex(32)
    _write(
        os.path.join(root, "containers", name + ".json"),
        {
            "name": name,
            "id": ident,
            "pid": proc.pid,
            "host": host,
            "port": port,
            "volume": volume,
            "image": image,
            "network": opts["network"] or opts["net"] or "bridge",
            "labels": dict(label.partition("=")[::2] for label in opts["label"]),
        },
    )
    out(ident)
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:5]))

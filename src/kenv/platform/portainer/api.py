"""Portainer CE's REST API as kenv uses it: what to send, how to read what comes back.

Sources (portainer/portainer, tag 2.21.4): api/http/handler/users/admin_init.go (POST
/api/users/admin/init, JSON {Username, Password}; 409 once an administrator exists),
api/http/handler/users/admin_check.go (GET /api/users/admin/check: 204 when one exists, 404 when
not), api/http/handler/auth/authenticate.go (POST /api/auth -> {"jwt"}; 422 "Invalid
credentials"), api/http/handler/endpoints/endpoint_create.go (POST /api/endpoints,
multipart/form-data; EndpointCreationType 4 is an edge agent, whose URL must not be empty nor
localhost; 409 "Name is not unique"), endpoint_list.go (GET /api/endpoints?name=...),
endpoint_delete.go (DELETE /api/endpoints/{id}: 204, 404 when unknown),
pkg/libhttp/error/error.go (errors are {"message", "details"}), api/datastore/init.go
(RequiredPasswordLength 12: a shorter admin password is refused at init).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERSION = "2.21.4"
IMAGE = f"portainer/portainer-ce:{VERSION}"
AGENT_IMAGE = f"portainer/agent:{VERSION}"
ADMIN_USER = "admin"
MIN_PASSWORD_LENGTH = 12
HTTP_PORT = 9000  # the UI and API inside the container (plain HTTP)
TUNNEL_PORT = 8000  # the edge agents' reverse tunnel
EDGE_AGENT_TYPE = 4  # endpointCreationEnum: edgeAgentEnvironment
UNASSIGNED_GROUP = 1


class ApiAnswerError(ValueError):
    """Portainer answered with something that is not what its API documents."""


@dataclass(frozen=True)
class Endpoint:
    """An environment as Portainer knows it. The edge key is a credential: never printed."""

    id: int
    name: str
    edge_key: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name}

    def __repr__(self) -> str:  # keeps the key out of logs and tracebacks
        return f"Endpoint(id={self.id}, name={self.name!r})"


def admin_init_body(password: str) -> dict[str, str]:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Portainer refuses admin passwords shorter than {MIN_PASSWORD_LENGTH} characters")
    return {"Username": ADMIN_USER, "Password": password}


def auth_body(password: str) -> dict[str, str]:
    return {"Username": ADMIN_USER, "Password": password}


def bearer(jwt: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt}"}


def edge_endpoint_form(name: str, portainer_url: str, *, group_id: int = UNASSIGNED_GROUP) -> dict[str, str]:
    """The multipart fields of an edge environment. `portainer_url` is where the agent reaches
    Portainer (its host also names the tunnel server), so it cannot be localhost."""
    return {
        "Name": name,
        "EndpointCreationType": str(EDGE_AGENT_TYPE),
        "URL": portainer_url,
        "GroupID": str(group_id),
        "TagIds": "[]",
    }


def error_text(body: Any) -> str:
    """Portainer's {"message", "details"} in one line, or the raw text."""
    if isinstance(body, dict):
        message, details = str(body.get("message") or ""), str(body.get("details") or "")
        return f"{message}: {details}" if message and details and details != message else message or details
    return str(body or "").strip()[:200]


def parse_jwt(body: Any) -> str:
    jwt = body.get("jwt") if isinstance(body, dict) else None
    if not isinstance(jwt, str) or not jwt:
        raise ApiAnswerError("POST /api/auth answered without a jwt")
    return jwt


def parse_endpoint(body: Any) -> Endpoint:
    """An Endpoint object: Id and EdgeKey taken verbatim."""
    if not isinstance(body, dict):
        raise ApiAnswerError("an environment is not a JSON object")
    ident, name, key = body.get("Id"), body.get("Name"), body.get("EdgeKey", "")
    if not isinstance(ident, int) or isinstance(ident, bool) or not isinstance(name, str):
        raise ApiAnswerError("an environment has no integer Id or no Name")
    return Endpoint(id=ident, name=name, edge_key=key if isinstance(key, str) else "")


def find_by_name(body: Any, name: str) -> Endpoint | None:
    """The environment called `name` in a GET /api/endpoints answer (the name filter is a
    server-side exact match, but an older server ignores unknown parameters: match here too)."""
    if not isinstance(body, list):
        raise ApiAnswerError("GET /api/endpoints did not answer a JSON list")
    for item in body:
        if isinstance(item, dict) and item.get("Name") == name:
            return parse_endpoint(item)
    return None

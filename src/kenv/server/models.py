"""The API's documented shapes (OpenAPI): request bodies are validated against them; responses
are declared with them (and built by the same `to_dict`/`to_json` the CLI's `-o json` prints)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kenv.catalogue import PROVIDERS
from kenv.images.components import ALL, COMPONENTS

# A port as the CLI takes it: a number, `auto` (kenv allocates) or `none`.
PortChoice = int | Literal["auto", "none"] | None
# The choices the CLI offers, declared for clients (the dashboard's form reads them); an unknown
# one is refused by the same check as on the CLI, with its message.
Provider = Annotated[str, Field(json_schema_extra={"enum": list(PROVIDERS)})]
Component = Annotated[str, Field(json_schema_extra={"enum": [ALL, *COMPONENTS]})]


class ErrorBody(BaseModel):
    message: str
    hint: str | None
    exit_code: int
    status: int


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Environment(BaseModel):
    """The keys of `kenv list -o json` items, in that order."""

    name: str
    provider: str
    role: str
    status: str
    desired_state: str
    subnet: str | None
    http_port: int | None
    https_port: int | None
    pf_port: int | None
    api_port: int | None
    node_port: int
    servers: int
    agents: int
    labels: dict[str, str]
    last_error: str | None
    created_at: str
    updated_at: str
    k8s_version: str | None
    register_portainer: bool
    haproxy_route: bool
    last_step: str | None


class EnvironmentList(BaseModel):
    environments: list[Environment]


class Step(BaseModel):
    name: str
    result: str
    seconds: float
    detail: str


class Job(BaseModel):
    id: str
    kind: Literal["create", "delete", "start", "stop", "verify", "images-sync"]
    environment: str
    state: Literal["queued", "running", "succeeded", "failed", "interrupted"]
    created_at: str
    started_at: str | None
    finished_at: str | None
    steps: list[Step]
    result: Any
    error: ErrorBody | None


class JobList(BaseModel):
    jobs: list[Job]


class CreateBody(BaseModel):
    """`kenv create`'s choices; what is left out is chosen as the CLI chooses it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    provider: Provider | None = None
    role: Literal["business", "management"] = "business"
    subnet: str | None = None
    http_port: PortChoice = None
    https_port: PortChoice = None
    pf_port: PortChoice = None
    api_port: PortChoice = None
    node_port: int | None = None
    servers: int = 1
    agents: int = 0
    k8s_version: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    components: list[Component] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)
    dry_run: bool = False


class ImagesBody(BaseModel):
    """The images a check or sync is about: references, and components kenv knows."""

    model_config = ConfigDict(extra="forbid")

    images: list[str] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    dry_run: bool = False


class Document(BaseModel):
    """A document whose shape is the CLI's `-o json` of the same command (see its --help)."""

    model_config = ConfigDict(extra="allow")

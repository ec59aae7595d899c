"""An EnvironmentSpec from what a person chose (`kenv register`/`kenv create` flags, the API's
create body): the same parsing and the same "given on purpose" set wherever the choice comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kenv.inventory.validation import EnvironmentSpec
    from kenv.settings import Settings


def spec_from_choices(
    settings: Settings,
    name: str,
    *,
    provider: str | None,
    role: str,
    subnet: str | None,
    ports: dict[str, str | None],
    node_port: int | None,
    servers: int,
    agents: int,
    k8s_version: str | None,
    labels: tuple[str, ...],
    allow_privileged_port: bool,
    check_host: bool = True,
) -> tuple[EnvironmentSpec, frozenset[str]]:
    """The EnvironmentSpec that register's and create's shared choices describe, and which values
    the user gave on purpose (create compares those with an existing record). Labels are KEY=VALUE texts."""
    from kenv.inventory.repository import ensure_ports_spec
    from kenv.inventory.validation import EnvironmentSpec, parse_labels, parse_port_choice, parse_subnet_choice

    chosen = provider or settings.default_provider
    choices = {p: parse_port_choice(v, f"{p} port") for p, v in ports.items() if v is not None}
    spec = EnvironmentSpec(
        name=name,
        provider=chosen,
        role=role,
        subnet=parse_subnet_choice(subnet, chosen),
        ports=ensure_ports_spec(choices, chosen, servers + agents),
        node_port=node_port if node_port is not None else settings.node_port,
        servers=servers,
        agents=agents,
        k8s_version=k8s_version,
        labels=tuple(parse_labels(labels).items()),
        allow_privileged_ports=allow_privileged_port,
        check_host=check_host,
    )
    given = {"provider": provider, "subnet": subnet, "node_port": node_port, "k8s_version": k8s_version}
    explicit = {f"{p}_port" for p in choices} | {k for k, v in given.items() if v is not None}
    explicit |= {k for k, v in {"servers": servers != 1, "agents": agents != 0, "labels": bool(labels)}.items() if v}
    return spec, frozenset(explicit)


def create_spec(
    settings: Settings,
    name: str,
    *,
    recorded_provider: str | None,
    provider: str | None,
    **choices: Any,
) -> tuple[EnvironmentSpec, frozenset[str]]:
    """What `kenv create` asks for: an existing record's provider wins over the configured
    default, and counts as given on purpose only when the caller named one."""
    spec, explicit = spec_from_choices(settings, name, provider=provider or recorded_provider, **choices)
    if provider is None:
        explicit -= {"provider"}
    return spec, explicit

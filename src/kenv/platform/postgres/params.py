"""What `kenv postgres render` is asked for, checked before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kenv.errors import InvalidInput
from kenv.platform.postgres.tuning import DEFAULT_CONNECTIONS, PROFILES

# One place for the image each major version runs: a minor version and a distro, never a floating
# tag. Debian (bookworm), not Alpine: glibc locales, and the postgres user is uid 999 there (70 on
# Alpine). 18 is left out: its image moves PGDATA to /var/lib/postgresql/18/docker.
IMAGES = {
    13: "postgres:13.18-bookworm",
    14: "postgres:14.15-bookworm",
    15: "postgres:15.10-bookworm",
    16: "postgres:16.6-bookworm",
    17: "postgres:17.2-bookworm",
}
POSTGRES_UID = 999

_QUANTITY = re.compile(r"^([1-9][0-9]*)(Mi|Gi|Ti)$")
_UNIT = {"Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MIN_MEMORY = 256 * 1024**2
MIN_CONNECTIONS, MAX_CONNECTIONS = 20, 10000


def quantity_bytes(value: str, option: str) -> int:
    """A Kubernetes binary quantity (512Mi, 2Gi, 1Ti); decimal units are refused because 2GB and
    2Gi differ by 7% and the settings are computed from the exact figure."""
    match = _QUANTITY.match(value)
    if match is None:
        raise InvalidInput(f"{option} {value!r} is not a size: write a whole number of Mi, Gi or Ti (e.g. 2Gi, 512Mi)")
    return int(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class Params:
    """The render's inputs. `archive_dir`, `socket_dir` and `preload_libraries` describe the pod;
    a server run on this machine from the same postgresql.conf passes its own."""

    memory: str = "2Gi"
    cpu: int = 2
    max_connections: int | None = None  # None: the profile's default (web 200)
    storage: str = "20Gi"
    wal_archive_storage: str = "10Gi"
    version: int = 16
    namespace: str = "infra"
    profile: str = "web"
    tls: bool = False
    archive_dir: str = "/wal-archive"
    socket_dir: str = "/var/run/postgresql"
    # pg_stat_statements ships with the official image and Debian's server; a build without it
    # (the pgserver wheel) passes ().
    preload_libraries: tuple[str, ...] = ("pg_stat_statements",)
    # The platform's PostgreSQL is also a NodePort (HAProxy's fe_postgres forwards to it: the
    # inventory moved there is reached from the host); None keeps the Service ClusterIP only.
    node_port: int | None = None

    @property
    def memory_bytes(self) -> int:
        return quantity_bytes(self.memory, "--memory")

    @property
    def connections(self) -> int:
        return self.max_connections if self.max_connections is not None else DEFAULT_CONNECTIONS[self.profile]

    @property
    def image(self) -> str:
        return IMAGES[self.version]

    def validate(self) -> Params:
        """Raise InvalidInput (exit 2) naming the first bad value; return self when all are good."""
        if self.profile not in PROFILES:
            raise InvalidInput(f"--profile {self.profile!r} is not one of {', '.join(PROFILES)}")
        if self.memory_bytes < MIN_MEMORY:
            raise InvalidInput(f"--memory {self.memory} is too small: PostgreSQL needs at least 256Mi")
        if not 1 <= self.cpu <= 256:
            raise InvalidInput(f"--cpu {self.cpu} is out of range: give a whole number of CPUs from 1 to 256")
        if not MIN_CONNECTIONS <= self.connections <= MAX_CONNECTIONS:
            raise InvalidInput(
                f"--max-connections {self.connections} is out of range: give {MIN_CONNECTIONS} to {MAX_CONNECTIONS}"
                " (superuser_reserved_connections alone takes 3)"
            )
        if quantity_bytes(self.storage, "--storage") < 1024**3:
            raise InvalidInput(f"--storage {self.storage} is too small: give at least 1Gi")
        if quantity_bytes(self.wal_archive_storage, "--wal-archive-storage") < 1024**3:
            raise InvalidInput(f"--wal-archive-storage {self.wal_archive_storage} is too small: give at least 1Gi")
        if self.version not in IMAGES:
            supported = ", ".join(str(v) for v in IMAGES)
            raise InvalidInput(f"--version {self.version} is not supported: choose one of {supported}")
        if self.node_port is not None and not 30000 <= self.node_port <= 32767:
            raise InvalidInput(f"node port {self.node_port} is outside Kubernetes' NodePort range 30000-32767")
        if not _NAMESPACE.match(self.namespace):
            raise InvalidInput(
                f"--namespace {self.namespace!r} is not a valid namespace: lower-case letters, digits and '-',"
                " at most 63, starting and ending with a letter or digit"
            )
        return self

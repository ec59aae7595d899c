"""The Kubernetes objects of the rendered directory, one file each, and the kustomization.

Choices (docs/postgres.md has the full reasoning):
- data: a volumeClaimTemplate, so the claim follows the pod's identity (data-postgres-0) and the
  StatefulSet's retention policy keeps it when the StatefulSet is deleted or scaled down;
- WAL archive: a claim of its own (postgres-wal-archive), because the base-backup and
  WAL-retention jobs mount it by a name they can know; on a one-node local cluster its
  ReadWriteOnce access lets those jobs share it with the server's pod;
- no PodDisruptionBudget: with one replica a budget either forbids every eviction (a node drain
  then never finishes) or allows all of them (and protects nothing);
- no Secret: the pod reads the admin password from the Secret `kenv postgres deploy` creates.
"""

from __future__ import annotations

from typing import Any

from kenv.platform.postgres.params import POSTGRES_UID, Params, quantity_bytes

NAME = "postgres"
# Names of Secrets and of a Secret key, not secrets.
SECRET_NAME = "postgres-admin"  # noqa: S105
SECRET_KEY = "password"  # noqa: S105
TLS_SECRET_NAME = "postgres-tls"  # noqa: S105
TMP = "/tmp"  # noqa: S108 - the container's own /tmp, an emptyDir
SHM = "/dev/shm"  # noqa: S108 - the container's shared memory, an emptyDir
CONFIG_NAME = "postgres-config"
ARCHIVE_CLAIM = "postgres-wal-archive"
HEADLESS = "postgres-headless"
CLIENT_LABEL = "kenv.io/postgres-client"  # namespaces (and this namespace's jobs) allowed on 5432
CHECKSUM_ANNOTATION = "kenv.io/config-checksum"
DATA_MOUNT = "/var/lib/postgresql/data"
PGDATA = DATA_MOUNT + "/pgdata"  # a subdirectory: a fresh volume's root may hold lost+found
CONFIG_DIR = "/etc/postgresql"
TLS_MOUNT = "/etc/postgresql-tls"
SOCKET_DIR = "/var/run/postgresql"
# The platform's NodePort (bootstrap): HAProxy's fe_postgres reaches PostgreSQL there.
PLATFORM_NODE_PORT = 30432
# Pod networks of k3s (k3d) and of kind/minikube: NodePort clients come from outside them.
POD_NETWORKS = ("10.42.0.0/16", "10.244.0.0/16")
KEEP_BACKUPS = 7
BACKUP_SCHEDULE = "0 2 * * *"
RETENTION_SCHEDULE = "30 3 * * *"

SELECTOR = {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": NAME}
LABELS = {**SELECTOR, "app.kubernetes.io/managed-by": "kenv"}

# pg_isready exits 0 when the server accepts connections, 1 when it answers but rejects them
# (starting, recovering, shutting down), 2 when nothing answers. Alive is 0 or 1; ready is 0.
ALIVE = ["sh", "-c", f"pg_isready -q -h {SOCKET_DIR} -p 5432; [ $? -le 1 ]"]
READY = ["pg_isready", "-q", "-h", SOCKET_DIR, "-p", "5432"]

BASE_BACKUP_SCRIPT = """\
set -eu
id=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p {archive}/base
pg_basebackup -D {archive}/base/$id.partial -Ft -z -Xs --checkpoint=fast --label=kenv-$id
mv {archive}/base/$id.partial {archive}/base/$id
echo "base backup $id done"
"""

# Keeps the newest KEEP_BACKUPS base backups, then removes the WAL segments older than the oldest
# one kept: its backup history file (archived by the server, carrying the backup's label) names the
# first segment that backup needs, which is what pg_archivecleanup takes.
RETENTION_SCRIPT = """\
set -eu
cd {archive}/base 2>/dev/null || {{ echo "no base backup yet"; exit 0; }}
ls -1d 2*Z 2>/dev/null | sort | head -n -"$KEEP_BACKUPS" | xargs -r rm -rf --
oldest=$(ls -1d 2*Z 2>/dev/null | sort | head -n 1)
[ -n "$oldest" ] || {{ echo "no complete base backup"; exit 0; }}
history=$(grep -l "LABEL: kenv-$oldest" {archive}/*.backup 2>/dev/null | head -n 1 || true)
[ -n "$history" ] || {{ echo "no backup history file for $oldest; nothing removed"; exit 0; }}
pg_archivecleanup {archive} "$(basename "$history")"
echo "kept base backups from $oldest and the WAL since"
"""


def _meta(name: str, params: Params, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": params.namespace, "labels": dict(LABELS), **extra}


def _pod_security() -> dict[str, Any]:
    return {
        "runAsUser": POSTGRES_UID,
        "runAsGroup": POSTGRES_UID,
        "runAsNonRoot": True,
        "fsGroup": POSTGRES_UID,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _container_security() -> dict[str, Any]:
    return {
        "runAsUser": POSTGRES_UID,
        "runAsGroup": POSTGRES_UID,
        "runAsNonRoot": True,
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _password_env(name: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": SECRET_KEY}}}


def _mebibytes(value: int) -> str:
    return f"{max(value // 1024**2, 64)}Mi"


def namespace(params: Params) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": params.namespace, "labels": dict(LABELS)}}


def config_map(params: Params, postgresql_conf: str, pg_hba: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(CONFIG_NAME, params),
        "data": {"postgresql.conf": postgresql_conf, "pg_hba.conf": pg_hba},
    }


def stateful_set(params: Params, checksum: str) -> dict[str, Any]:
    memory = params.memory_bytes
    mounts = [
        {"name": "data", "mountPath": DATA_MOUNT},
        {"name": "wal-archive", "mountPath": params.archive_dir},
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "run", "mountPath": SOCKET_DIR},
        {"name": "tmp", "mountPath": TMP},
        {"name": "shm", "mountPath": SHM},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "wal-archive", "persistentVolumeClaim": {"claimName": ARCHIVE_CLAIM}},
        {"name": "config", "configMap": {"name": CONFIG_NAME}},
        {"name": "run", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
        # Parallel query's dynamic shared memory lives here; a container's default is 64MB.
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": _mebibytes(memory // 4)}},
    ]
    if params.tls:
        mounts.append({"name": "tls", "mountPath": TLS_MOUNT, "readOnly": True})
        # Owned by root, group postgres (fsGroup), 0640: the key-file permissions PostgreSQL accepts.
        volumes.append({"name": "tls", "secret": {"secretName": TLS_SECRET_NAME, "defaultMode": 0o640}})
    container = {
        "name": "postgres",
        "image": params.image,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            "postgres",
            "-c",
            f"config_file={CONFIG_DIR}/postgresql.conf",
            "-c",
            f"hba_file={CONFIG_DIR}/pg_hba.conf",
        ],
        "env": [
            {"name": "PGDATA", "value": PGDATA},
            {"name": "POSTGRES_USER", "value": "postgres"},
            _password_env("POSTGRES_PASSWORD"),
            {"name": "POSTGRES_INITDB_ARGS", "value": "--data-checksums --auth-local=peer --auth-host=scram-sha-256"},
        ],
        "ports": [{"name": "postgresql", "containerPort": 5432, "protocol": "TCP"}],
        "resources": {
            "requests": {"memory": params.memory, "cpu": f"{params.cpu * 500}m"},
            "limits": {"memory": params.memory},
        },
        "startupProbe": {"exec": {"command": ALIVE}, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 360},
        "livenessProbe": {"exec": {"command": ALIVE}, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6},
        "readinessProbe": {"exec": {"command": READY}, "periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 3},
        "lifecycle": {
            "preStop": {"exec": {"command": ["pg_ctl", "stop", "-D", PGDATA, "-m", "fast", "-w", "-t", "60"]}}
        },
        "securityContext": _container_security(),
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(NAME, params),
        "spec": {
            "serviceName": HEADLESS,
            "replicas": 1,
            "selector": {"matchLabels": dict(SELECTOR)},
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": dict(LABELS), "annotations": {CHECKSUM_ANNOTATION: f"sha256:{checksum}"}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 120,
                    "securityContext": _pod_security(),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data", "labels": dict(LABELS)},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": params.storage}}},
                }
            ],
        },
    }


def services(params: Params) -> tuple[dict[str, Any], dict[str, Any]]:
    port = {"name": "postgresql", "port": 5432, "targetPort": "postgresql", "protocol": "TCP"}
    client = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(NAME, params),
        "spec": {"type": "ClusterIP", "selector": dict(SELECTOR), "ports": [dict(port)]},
    }
    if params.node_port is not None:
        client["spec"] = {
            "type": "NodePort",
            "selector": dict(SELECTOR),
            "ports": [{**port, "nodePort": params.node_port}],
        }
    headless = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(HEADLESS, params),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": dict(SELECTOR),
            "ports": [dict(port)],
        },
    }
    return client, headless


def network_policies(params: Params) -> tuple[dict[str, Any], dict[str, Any]]:
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta("postgres-deny-ingress", params),
        "spec": {"podSelector": {"matchLabels": dict(SELECTOR)}, "policyTypes": ["Ingress"], "ingress": []},
    }
    allow = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta("postgres-allow-clients", params),
        "spec": {
            "podSelector": {"matchLabels": dict(SELECTOR)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {CLIENT_LABEL: "true"}}},
                        {"podSelector": {"matchLabels": {CLIENT_LABEL: "true"}}},
                        *_outside_clients(params),
                    ],
                    "ports": [{"protocol": "TCP", "port": 5432}],
                }
            ],
        },
    }
    return deny, allow


def _outside_clients(params: Params) -> list[dict[str, Any]]:
    """With a NodePort, the clients HAProxy relays: on the one-node devops the policy filter
    (FORWARD) sees their own address, outside every pod network, because kube-proxy's source NAT
    comes later (POSTROUTING); pods still need the label."""
    if params.node_port is None:
        return []
    return [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(POD_NETWORKS)}}]


def archive_claim(params: Params) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(ARCHIVE_CLAIM, params),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": params.wal_archive_storage}}},
    }


def _job_pod(params: Params, name: str, script: str, env: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"labels": {**LABELS, "app.kubernetes.io/component": name, CLIENT_LABEL: "true"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": _pod_security(),
            "containers": [
                {
                    "name": name,
                    "image": params.image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", script],
                    "env": env,
                    "resources": {"requests": {"memory": "128Mi", "cpu": "100m"}, "limits": {"memory": "512Mi"}},
                    "securityContext": _container_security(),
                    "volumeMounts": [
                        {"name": "wal-archive", "mountPath": params.archive_dir},
                        {"name": "tmp", "mountPath": TMP},
                    ],
                }
            ],
            "volumes": [
                {"name": "wal-archive", "persistentVolumeClaim": {"claimName": ARCHIVE_CLAIM}},
                {"name": "tmp", "emptyDir": {}},
            ],
        },
    }


def _cron_job(params: Params, name: str, schedule: str, pod: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(name, params),
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {"backoffLimit": 1, "template": pod}},
        },
    }


def base_backup_job(params: Params) -> dict[str, Any]:
    env = [
        {"name": "PGHOST", "value": f"{NAME}.{params.namespace}.svc"},
        {"name": "PGUSER", "value": "postgres"},
        _password_env("PGPASSWORD"),
    ]
    if params.tls:
        env.append({"name": "PGSSLMODE", "value": "require"})
    script = BASE_BACKUP_SCRIPT.format(archive=params.archive_dir)
    return _cron_job(params, "postgres-base-backup", BACKUP_SCHEDULE, _job_pod(params, "base-backup", script, env))


def retention_job(params: Params) -> dict[str, Any]:
    env = [{"name": "KEEP_BACKUPS", "value": str(KEEP_BACKUPS)}]
    script = RETENTION_SCRIPT.format(archive=params.archive_dir)
    return _cron_job(
        params, "postgres-wal-retention", RETENTION_SCHEDULE, _job_pod(params, "wal-retention", script, env)
    )


def objects(params: Params, postgresql_conf: str, pg_hba: str, checksum: str) -> dict[str, dict[str, Any]]:
    """File name -> object, in the order kustomize lists them."""
    quantity_bytes(params.storage, "--storage")
    client, headless = services(params)
    deny, allow = network_policies(params)
    return {
        "namespace.yaml": namespace(params),
        "configmap.yaml": config_map(params, postgresql_conf, pg_hba),
        "pvc-wal-archive.yaml": archive_claim(params),
        "statefulset.yaml": stateful_set(params, checksum),
        "service.yaml": client,
        "service-headless.yaml": headless,
        "networkpolicy-deny.yaml": deny,
        "networkpolicy-allow.yaml": allow,
        "cronjob-base-backup.yaml": base_backup_job(params),
        "cronjob-wal-retention.yaml": retention_job(params),
    }


def kustomization(params: Params, resources: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": params.namespace,
        "resources": resources,
    }


def render_objects(params: Params, postgresql_conf: str, pg_hba: str, checksum: str) -> dict[str, str]:
    from kenv.platform.postgres.yaml_text import dump

    found = objects(params, postgresql_conf, pg_hba, checksum)
    header = (
        "# Rendered by `kenv postgres render`; no Secret here: `kenv postgres deploy` creates\n"
        f"# {SECRET_NAME} in the cluster. No PodDisruptionBudget: one replica (docs/postgres.md).\n"
    )
    files = {"kustomization.yaml": header + dump(kustomization(params, list(found)))}
    files.update({name: dump(obj) for name, obj in found.items()})
    return files

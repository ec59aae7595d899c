"""The pod paths of `kenv postgres` (`--env ENV`: backup, backups, status, psql) carried out for
real: kenv runs `kubectl exec -i -n infra postgres-0 -c postgres -- ...`, the fake kubectl finds
the pod of the StatefulSet `kenv postgres deploy --via apply` created and runs the command on this
machine as the OS user `postgres` (the image's user), against a real PostgreSQL (Debian's server
package) started here from the RENDERED postgresql.conf and pg_hba.conf. So the pod's socket, the
peer lines of pg_hba (databases and replication) and the commands kenv builds meet a real server.

What is not real: the pod's paths. The server's socket and WAL archive are temporary directories
(the exec backing's PGHOST/PGPORT stand for the image's compiled-in socket), and the backup
directory is given with --backup-dir instead of the pod's /wal-archive/base.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.lifecycle_support import Fleet
from tests.integration.pg_local import debian_bin, wheel_bin
from tests.netutil import free_port

pytestmark = pytest.mark.postgres

POD_USER = "postgres"  # Debian's server package makes it; the image's server runs as postgres too


@dataclass
class PodServer:
    bin_dir: Path
    base: Path
    data: Path
    archive: Path
    sockets: Path
    port: int

    def _as_pod(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", POD_USER, "--", *argv], capture_output=True, text=True, timeout=120, check=False
        )

    def psql(self, sql: str) -> str:
        done = self._as_pod(
            str(self.bin_dir / "psql"), "-XAtq", "-v", "ON_ERROR_STOP=1", "-h", str(self.sockets),
            "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-c", sql,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def backing(self) -> dict[str, object]:
        return {
            "run_as": POD_USER,
            "bin_dir": str(self.bin_dir),
            "env": {"PGHOST": str(self.sockets), "PGPORT": str(self.port), "PGDATA": str(self.data)},
        }


@pytest.fixture(scope="module")
def pod_server() -> Iterator[PodServer]:
    bin_dir = debian_bin("pg_ctl", "pg_basebackup")
    if bin_dir is None:
        pytest.skip("needs PostgreSQL server programs (apt-get install postgresql postgresql-contrib)")
    if os.geteuid() != 0:
        pytest.skip("the pod's commands run as the OS user postgres (peer authentication): needs root for runuser")
    import pwd

    try:
        pwd.getpwnam(POD_USER)
    except KeyError:
        pytest.skip("no OS user postgres (Debian's postgresql package creates it)")
    from kenv.platform.postgres.params import Params
    from kenv.platform.postgres.render import render_pg_hba, render_postgresql_conf

    base = Path(tempfile.mkdtemp(prefix="kpgpod"))  # short: a socket path stays under 107 bytes
    base.chmod(0o755)
    data, archive, sockets = base / "data", base / "archive", base / "s"
    for directory in (archive, sockets):
        directory.mkdir()
    shutil.chown(base, POD_USER, POD_USER)
    for directory in (archive, sockets):
        shutil.chown(directory, POD_USER, POD_USER)
    port = free_port()
    srv = PodServer(bin_dir, base, data, archive, sockets, port)
    done = srv._as_pod(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--auth=peer")
    assert done.returncode == 0, done.stderr
    params = Params(version=int(bin_dir.parent.name), archive_dir=str(archive), socket_dir=str(sockets))
    conf = render_postgresql_conf(params).replace("\nport = 5432\n", f"\nport = {port}\n")
    (data / "postgresql.conf").write_text(conf)
    (data / "pg_hba.conf").write_text(render_pg_hba(params))
    for name in ("postgresql.conf", "pg_hba.conf"):
        shutil.chown(data / name, POD_USER, POD_USER)
    log = base / "server.log"
    started = srv._as_pod(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l", str(log), "start")
    if started.returncode != 0:
        pytest.fail(f"the server did not start with the rendered configuration: {started.stderr} {log.read_text()}")
    try:
        yield srv
    finally:
        srv._as_pod(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fleet(isolated: Path, tmp_path: Path, pod_server: PodServer) -> Iterator[Fleet]:
    world = Fleet(isolated, tmp_path)
    world.ok("create", "dev", "--subnet", "none")
    world.ok("postgres", "deploy", "--env", "dev", "--via", "apply")
    seeds = world.state / "kubeseed"
    seeds.mkdir(exist_ok=True)
    (seeds / "dev.json").write_text(json.dumps({"exec": {"infra/postgres-0": pod_server.backing()}}))
    yield world
    world.kill_fakes()


def kubectl_execs(fleet: Fleet) -> list[list[str]]:
    return [list(map(str, c["argv"])) for c in fleet.calls() if c["tool"] == "kubectl" and "exec" in c["argv"]]


def test_backup_backups_status_and_psql_run_in_the_pod_against_a_real_server(
    fleet: Fleet, pod_server: PodServer
) -> None:
    backups = pod_server.archive / "base"
    pod_server.psql("CREATE TABLE IF NOT EXISTS podrows(id int primary key)")
    pod_server.psql("INSERT INTO podrows VALUES (1), (2) ON CONFLICT DO NOTHING")

    taken = fleet.run("postgres", "backup", "--env", "dev", "--backup-dir", str(backups), "-o", "json", timeout=300)
    assert taken.returncode == 0, taken.stderr
    backup = json.loads(taken.stdout)["backup"]
    assert backup["verified"] is True and backup["server_version"].startswith(pod_server.bin_dir.parent.name + ".")
    assert (backups / backup["id"] / "backup_manifest").exists()
    # pg_basebackup ran "in the pod" over its socket: no TCP, no password (pg_hba's local replication peer)
    (basebackup,) = [argv for argv in kubectl_execs(fleet) if "pg_basebackup" in argv]
    assert basebackup[basebackup.index("--") + 1] == "pg_basebackup"
    assert "-h" not in basebackup and "PGPASSWORD" not in " ".join(basebackup)
    assert basebackup[:2] == ["kubectl", "--kubeconfig"] and basebackup[3:9] == [
        "exec", "-i", "-n", "infra", "postgres-0", "-c",
    ]  # fmt: skip

    listed = fleet.run("postgres", "backups", "--env", "dev", "--backup-dir", str(backups), "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(b["id"], b["verified"]) for b in json.loads(listed.stdout)] == [(backup["id"], True)]

    shown = fleet.run("postgres", "status", "--env", "dev", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["target"] == "pod infra/postgres-0 of environment dev"
    assert str(state["version"]).startswith(pod_server.bin_dir.parent.name)
    assert state["volume"] is not None  # df in "the pod" over the real data directory

    rows = fleet.run("postgres", "psql", "--env", "dev", "--", "-XAt", "-c", "SELECT count(*) FROM podrows")
    assert rows.returncode == 0, rows.stderr
    assert rows.stdout.strip() == "2"


def test_a_failing_command_in_the_pod_is_one_line_with_kubectls_exit_code(fleet: Fleet) -> None:
    result = fleet.run("postgres", "psql", "--env", "dev", "--", "-XAt", "-v", "ON_ERROR_STOP=1", "-c", "SELEC 1")
    assert result.returncode != 0
    assert 'syntax error at or near "SELEC"' in result.stderr
    assert "command terminated with exit code" in result.stderr


def _wait_archived(server: PodServer, segment: str) -> None:
    import time

    deadline = time.monotonic() + 60
    while not (server.archive / segment).exists():
        assert time.monotonic() < deadline, f"{segment} was not archived"
        time.sleep(0.2)


def test_restore_into_applies_a_new_statefulset_and_waits_in_its_pod_until_recovered(
    fleet: Fleet, pod_server: PodServer
) -> None:
    """The test plays the kubelet for the new pod: it runs the init container's script from the
    StatefulSet kenv plans (verbatim, as the pod's user, PGDATA a temporary directory) and
    starts the server on the restored directory. Real: the backup, the script, the recovery to
    the time, the applied object and kenv's wait loop through kubectl exec in the new pod."""
    import time

    import yaml

    backups = pod_server.archive / "base"
    taken = fleet.run("postgres", "backup", "--env", "dev", "--backup-dir", str(backups), "-o", "json", timeout=300)
    assert taken.returncode == 0, taken.stderr
    pod_server.psql("CREATE TABLE IF NOT EXISTS pitr(id int primary key)")
    pod_server.psql("INSERT INTO pitr VALUES (1), (2), (3)")
    time.sleep(0.3)
    target = pod_server.psql("SELECT now()")
    time.sleep(0.3)
    pod_server.psql("INSERT INTO pitr VALUES (4), (5)")
    _wait_archived(pod_server, pod_server.psql("SELECT pg_walfile_name(pg_switch_wal())"))

    args = ["postgres", "restore", "--to-time", target, "--into", "pgr", "--env", "dev",
            "--backup-dir", str(backups), "--archive-dir", str(pod_server.archive)]  # fmt: skip
    plan = fleet.run(*args, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    planned = yaml.safe_load(plan.stdout)
    (init,) = planned["spec"]["template"]["spec"]["initContainers"]
    assert init["command"][:2] == ["sh", "-c"]

    restored, sockets, port = pod_server.base / "restored", pod_server.base / "s2", free_port()
    sockets.mkdir()
    shutil.chown(sockets, POD_USER, POD_USER)
    ran = pod_server._as_pod("env", f"PGDATA={restored}", "sh", "-c", init["command"][2])
    assert ran.returncode == 0, ran.stderr
    assert "restored base backup" in ran.stdout
    options = f"-p {port} -k {sockets} -c archive_mode=off"
    bin_dir = pod_server.bin_dir
    started = pod_server._as_pod(
        str(bin_dir / "pg_ctl"), "-D", str(restored), "-o", options, "-l", str(pod_server.base / "r.log"), "start"
    )
    assert started.returncode == 0, started.stderr
    try:
        backing = {**pod_server.backing(), "env": {"PGHOST": str(sockets), "PGPORT": str(port)}}
        seed = fleet.state / "kubeseed" / "dev.json"
        document = json.loads(seed.read_text())
        document["exec"]["infra/pgr-0"] = backing
        seed.write_text(json.dumps(document))

        done = fleet.run(*args, "-o", "json", "--timeout", "120", timeout=300)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["backup"] == json.loads(taken.stdout)["backup"]["id"]
        assert report["statefulset"] == "pgr" and report["pod"] == "pgr-0" and report["namespace"] == "infra"
        assert report["reached_time"] is not None and report["reached_time"][:19] <= target.replace("T", " ")[:19]
        assert report["timeline"] == 2  # promoted: a new timeline
        state = json.loads((fleet.state / "state.json").read_text())
        applied = [
            o
            for cluster in state["clusters"].values()
            for o in cluster.get("applied") or []
            if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "pgr"
        ]
        assert len(applied) == 1
        assert applied[0]["spec"]["template"] == planned["spec"]["template"]  # what the plan showed
        # exactly the rows written before the target time
        recovered = pod_server._as_pod(
            str(bin_dir / "psql"), "-XAtq", "-h", str(sockets), "-p", str(port), "-U", "postgres", "-d", "postgres",
            "-c", "SELECT string_agg(id::text, ',' ORDER BY id) FROM pitr",
        )  # fmt: skip
        assert recovered.stdout.strip() == "1,2,3", recovered.stderr
        waits = [argv for argv in kubectl_execs(fleet) if "pgr-0" in argv]
        assert waits, "kenv asked the new pod"

        again = fleet.run(*args)
        assert again.returncode == 2
        assert "statefulset pgr already exists in infra" in again.stderr
    finally:
        pod_server._as_pod(str(bin_dir / "pg_ctl"), "-D", str(restored), "-m", "immediate", "stop")
        shutil.rmtree(restored, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)


def fake_kubectl_json(fleet: Fleet, home: Path, *args: str) -> dict[str, object]:
    """What the fake cluster answers now (patches live beside the applied objects)."""
    kubeconfig = next(p for p in home.rglob("dev.yaml") if "kubeconfig" in str(p))
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args, "-o", "json"],
        capture_output=True, text=True, env=fleet.env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert isinstance(answer, dict)
    return answer


def _start_fresh(bin_dir: Path, base: Path) -> PodServer:
    """What the new pod's image does on its first start (initdb with peer on the socket, then the
    server), done by the test in the kubelet's place."""
    data, sockets = base / "data", base / "s"
    base.parent.chmod(0o755)  # mkdtemp's 0700 would keep the pod's user out
    base.mkdir(mode=0o755)
    sockets.mkdir()
    for path in (base, sockets):
        shutil.chown(path, POD_USER, POD_USER)
    srv = PodServer(bin_dir, base, data, base / "none", sockets, free_port())
    done = srv._as_pod(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--auth=peer")
    assert done.returncode == 0, done.stderr
    options = f"-p {srv.port} -k {sockets} -c listen_addresses=''"
    started = srv._as_pod(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "start")
    assert started.returncode == 0, started.stderr
    return srv


def test_major_upgrade_on_the_cluster_pipes_the_dump_between_pods_and_switches_on_a_match(
    isolated: Path, tmp_path: Path, pod_server: PodServer
) -> None:
    """Old pod: Debian's PostgreSQL (15) started from the rendered configuration; new pod
    postgres-16-0: the pgserver wheel's 16, started fresh as its image would (the test plays the
    kubelet). Real: the StatefulSet applied, the dump streamed from one `kubectl exec` into the
    other, the counts read in both pods, the Service patched, --cleanup's deletion."""
    new_bin = wheel_bin()
    if new_bin is None:
        pytest.skip("needs the pgserver wheel (pip install -e .[dev])")
    old_major = int(pod_server.bin_dir.parent.name)
    new_major = int(subprocess.run([str(new_bin / "initdb"), "--version"], capture_output=True, text=True,
                                   check=True).stdout.split()[-1].split(".")[0])  # fmt: skip
    if new_major <= old_major:
        pytest.skip(f"needs a newer major than {old_major} in the pgserver wheel")
    pod_server.psql("CREATE TABLE IF NOT EXISTS moved(id serial primary key, v text)")
    pod_server.psql("TRUNCATE moved; INSERT INTO moved(v) SELECT 'r' || g FROM generate_series(1, 500) g")
    fleet = Fleet(isolated, tmp_path)
    new = _start_fresh(new_bin, Path(tempfile.mkdtemp(prefix="kpgnew")) / "n")
    try:
        fleet.ok("create", "dev", "--subnet", "none")
        fleet.ok("postgres", "deploy", "--env", "dev", "--via", "apply", "--version", str(old_major))
        seeds = fleet.state / "kubeseed"
        seeds.mkdir(exist_ok=True)
        (seeds / "dev.json").write_text(
            json.dumps({"exec": {"infra/postgres-0": pod_server.backing(), f"infra/postgres-{new_major}-0": {
                **new.backing(), "env": {"PGHOST": str(new.sockets), "PGPORT": str(new.port)}}}})
        )  # fmt: skip

        done = fleet.run(
            "postgres", "upgrade", "--to", str(new_major), "--env", "dev", "--via", "apply", "-o", "json", timeout=600
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["switched"] is True and result["mismatches"] == []
        assert result["from"].startswith(f"{old_major}.") and result["to"].startswith(f"{new_major}.")
        assert result["rows"] >= 500 and result["tables"] >= 1
        assert new.psql("SELECT count(*), max(v) FROM moved") == "500|r99"
        assert new.psql("SELECT nextval('moved_id_seq')") == "501"  # the sequence moved too

        state = json.loads((fleet.state / "state.json").read_text())
        applied = {
            (o["kind"], o["metadata"]["name"]): o
            for cluster in state["clusters"].values()
            for o in cluster.get("applied") or []
        }
        sts = applied[("StatefulSet", f"postgres-{new_major}")]
        assert sts["spec"]["template"]["spec"]["containers"][0]["image"].startswith(f"postgres:{new_major}.")
        assert sts["metadata"]["annotations"]["kenv.io/upgraded-from"] == "postgres"
        assert ("StatefulSet", "postgres") in applied  # the old one is kept
        service = fake_kubectl_json(fleet, isolated, "get", "service", "postgres", "-n", "infra")
        assert service["spec"]["selector"]["app.kubernetes.io/instance"] == f"postgres-{new_major}"
        policy = applied[("NetworkPolicy", f"postgres-deny-ingress-{new_major}")]
        assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == f"postgres-{new_major}"
        # two processes joined by a pipe: pg_dumpall in the old pod, psql in the new one
        execs = kubectl_execs(fleet)
        assert any("pg_dumpall" in argv and "postgres-0" in argv for argv in execs)
        assert any(argv[argv.index("--") + 1] == "psql" and f"postgres-{new_major}-0" in argv for argv in execs)

        planned = fleet.run("postgres", "upgrade", "--cleanup", "--env", "dev", "--delete-volumes", "--dry-run")
        assert planned.returncode == 3, planned.stderr
        assert "delete statefulset postgres -n infra" in planned.stdout
        assert "delete pvc data-postgres-0 -n infra" in planned.stdout
        cleaned = fleet.run("postgres", "upgrade", "--cleanup", "--env", "dev", "-o", "json")
        assert cleaned.returncode == 0, cleaned.stderr
        report = json.loads(cleaned.stdout)
        assert (report["removed"], report["current"], report["volumes_removed"]) == (
            "postgres", f"postgres-{new_major}", [],
        )  # fmt: skip
        state = json.loads((fleet.state / "state.json").read_text())
        names = {
            (o["kind"], o["metadata"]["name"]) for cluster in state["clusters"].values() for o in cluster["applied"]
        }
        assert ("StatefulSet", "postgres") not in names and ("StatefulSet", f"postgres-{new_major}") in names
    finally:
        fleet.kill_fakes()
        new._as_pod(str(new_bin / "pg_ctl"), "-D", str(new.data), "-m", "immediate", "stop")
        shutil.rmtree(new.base.parent, ignore_errors=True)


def test_the_fake_exec_answers_as_kubectl_does(isolated: Path, tmp_path: Path) -> None:
    """kubectl v0.31.6 exec's own refusals, the kubelet's, and the exit code passed through; a
    backed pod's command runs with the backing's environment only."""
    fleet = Fleet(isolated, tmp_path)
    try:
        fleet.ok("create", "dev", "--subnet", "none")
        fleet.ok("postgres", "deploy", "--env", "dev", "--via", "apply")
        seeds = fleet.state / "kubeseed"
        seeds.mkdir(exist_ok=True)
        (seeds / "dev.json").write_text(json.dumps({"exec": {"infra/postgres-0": {"env": {"ANSWER": "42"}}}}))
        kubeconfig = next(p for p in isolated.rglob("dev.yaml") if "kubeconfig" in str(p))

        def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["kubectl", "--kubeconfig", str(kubeconfig), *args],
                capture_output=True, text=True, env={**fleet.env, "LEAK": "no"}, timeout=60, check=False,
            )  # fmt: skip

        ran = kubectl(
            "exec", "-i", "-n", "infra", "postgres-0", "-c", "postgres", "--", "sh", "-c", 'echo "$ANSWER$LEAK"'
        )
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, "42\n", "")
        failed = kubectl("exec", "-n", "infra", "postgres-0", "--", "sh", "-c", "echo out; exit 3")
        assert (failed.returncode, failed.stdout, failed.stderr) == (
            3,
            "out\n",
            "command terminated with exit code 3\n",
        )
        missing = kubectl("exec", "-n", "infra", "postgres-9", "--", "true")
        assert (missing.returncode, missing.stderr) == (
            1,
            'Error from server (NotFound): pods "postgres-9" not found\n',
        )
        wrong = kubectl("exec", "-n", "infra", "postgres-0", "-c", "nope", "--", "true")
        assert wrong.returncode == 1
        assert (
            wrong.stderr
            == 'error: Internal error occurred: unable to upgrade connection: container not found ("nope")\n'
        )
        old_form = kubectl("exec", "-n", "infra", "postgres-0", "true")
        assert old_form.returncode == 1
        assert "exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead" in old_form.stderr
        no_command = kubectl("exec", "-n", "infra", "postgres-0", "--")
        assert no_command.stderr == "error: you must specify at least one command for the container\n"
    finally:
        fleet.kill_fakes()

"""The API against a real `kenv serve` on loopback, with the provider fakes on PATH: auth, jobs
and their events, the CLI's errors as JSON, restarts, the token's rotation."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx

from tests.api.server_support import Event, Server, events, wait_job
from tests.conftest import KENV
from tests.e2e.lifecycle_support import Fleet
from tests.netutil import free_port

CREATE_STEPS = ["record", "cluster", "kubeconfig", "ready", "running"]


def create(client: httpx.Client, name: str, **body: object) -> dict[str, object]:
    response = client.post("/environments", json={"name": name, "subnet": "none", **body})
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/api/v1/jobs/{job['id']}"
    return dict(job)


def test_health_needs_no_token_and_everything_else_does(server: Server) -> None:
    health = httpx.get(f"{server.base}/api/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {server.token()}"}):
        response = httpx.get(f"{server.base}/api/v1/environments", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        error = response.json()["error"]
        assert error["status"] == 401 and "bearer token" in error["message"]
    for path in ("/jobs", "/routes", "/history", "/platform"):
        assert httpx.get(f"{server.base}/api/v1{path}").status_code == 401, path
    assert httpx.post(f"{server.base}/api/v1/environments", json={"name": "x"}).status_code == 401
    with server.client() as client:
        assert client.get("/environments").json() == {"environments": []}


def test_the_token_is_0600_and_rotation_invalidates_the_old_one_at_once(server: Server, fleet: Fleet) -> None:
    token_file = fleet.home / "data" / "serve" / "token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    old = server.token()
    assert server.token() == old, "printing the token does not change it"
    new = fleet.ok("serve", "token", "--rotate").strip()
    assert new != old and len(new) >= 43
    assert token_file.stat().st_mode & 0o777 == 0o600
    with server.client(old) as client:
        assert client.get("/environments").status_code == 401
    with server.client(new) as client:
        assert client.get("/environments").status_code == 200


def test_create_streams_its_steps_then_the_environment_runs_and_delete_removes_it(server: Server, fleet: Fleet) -> None:
    with server.client() as client:
        job = create(client, "dev")
        assert job["kind"] == "create" and job["environment"] == "dev" and job["state"] in ("queued", "running")
        stream = events(client, str(job["id"]))
        seqs = [e.id for e in stream]
        assert seqs == list(range(1, len(stream) + 1)), "ids are the 1-based seq, in order"
        assert [e.data["seq"] for e in stream] == seqs
        started = [e.data["step"] for e in stream if e.event == "step-started"]
        finished = [(e.data["step"], e.data["result"]) for e in stream if e.event == "step-finished"]
        assert started == CREATE_STEPS
        assert finished == [(s, "done") for s in CREATE_STEPS]
        assert all(e.data["total"] == len(CREATE_STEPS) for e in stream if e.event.startswith("step-"))
        assert stream[-1].event == "state" and stream[-1].data["state"] == "succeeded"
        assert stream[0].event == "state" and stream[0].data["state"] == "running"
        done = client.get(f"/jobs/{job['id']}").json()
        assert done["state"] == "succeeded" and done["error"] is None
        assert [s["name"] for s in done["steps"]] == CREATE_STEPS
        assert done["result"]["ok"] is True and done["result"]["workflow"] == "create"
        # A reconnect with Last-Event-ID gets only what came after; at the end, nothing but the end.
        tail = client.get(f"/jobs/{job['id']}/events", headers={"Last-Event-ID": str(len(stream) - 2)})
        assert [line for line in tail.text.splitlines() if line.startswith("id: ")] == [
            f"id: {len(stream) - 1}",
            f"id: {len(stream)}",
        ]
        listed = client.get("/environments").json()["environments"]
        assert [(e["name"], e["status"]) for e in listed] == [("dev", "running")]
        # Exactly what `kenv list -o json` / `kenv get -o json` print.
        assert listed == json.loads(fleet.ok("list", "-o", "json"))
        assert client.get("/environments/dev").json() == json.loads(fleet.ok("get", "dev", "-o", "json"))
        assert fleet.clusters()["k3d"] == ["dev"]

        gone = client.delete("/environments/dev")
        assert gone.status_code == 202
        assert wait_job(client, gone.json()["id"])["state"] == "succeeded"
        assert client.get("/environments").json() == {"environments": []}
        assert fleet.clusters()["k3d"] == []
        assert client.get("/environments/dev").status_code == 404
        history = client.get("/history", params={"environment": "dev"}).json()
        operations = [(h["operation"], h["status"]) for h in history]
        assert operations[0] == ("delete", "succeeded") and ("create", "succeeded") in operations
        assert history == json.loads(fleet.ok("history", "dev", "-o", "json"))
        jobs = client.get("/jobs").json()["jobs"]
        assert [j["kind"] for j in jobs] == ["delete", "create"], "newest first"


def test_errors_carry_the_clis_message_and_class(server: Server, fleet: Fleet) -> None:
    cli = fleet.run("create", "Bad_Name")
    assert cli.returncode == 2
    with server.client() as client:
        bad = client.post("/environments", json={"name": "Bad_Name"})
        assert bad.status_code == 400
        error = bad.json()["error"]
        assert error["exit_code"] == 2 and error["status"] == 400
        line = error["message"] + (f"; {error['hint']}" if error["hint"] else "")
        assert cli.stderr.strip() == f"kenv: error: {line}"
        assert client.get("/jobs").json() == {"jobs": []}, "refused input makes no job"

        shape = client.post("/environments", json={"name": "x", "servers": "many"})
        assert shape.status_code == 400 and shape.json()["error"]["message"].startswith("body.servers:")
        assert client.post("/environments", json={"name": "x", "surprise": 1}).status_code == 400

        missing = client.post("/environments/nope/start")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "environment 'nope' is not in the inventory"
        assert client.get("/jobs/" + "0" * 32).status_code == 404
        assert client.get("/jobs/not-a-job/events").status_code == 404

        devops = client.delete("/environments/devops")
        assert devops.status_code == 403
        assert "management environment" in devops.json()["error"]["message"]

        unknown = client.post("/environments/nope/images/check", json={"components": ["nonsense"]})
        assert unknown.status_code == 400 and "unknown component" in unknown.json()["error"]["message"]


def test_an_environment_another_kenv_works_on_is_a_conflict(server: Server, fleet: Fleet) -> None:
    cli = fleet.start("create", "qa", "--subnet", "none", KENV_FAKE_HANG="k3d:cluster-create")
    try:
        fleet.wait_for_call("cluster create")
        with server.client() as client:
            busy = client.post("/environments", json={"name": "qa", "subnet": "none"})
            assert busy.status_code == 409, busy.text
            error = busy.json()["error"]
            assert "busy" in error["message"] and f"pid {cli.pid}" in error["message"]
            assert client.delete("/environments/qa").status_code == 409
            assert client.get("/jobs").json() == {"jobs": []}
    finally:
        cli.kill()
        cli.wait(timeout=10)


def test_a_tool_failure_is_502(fleet: Fleet) -> None:
    server = Server(fleet, KENV_FAKE_FAIL="k3d:cluster-create").start()
    try:
        with server.client() as client:
            job = create(client, "dev")
            ended = wait_job(client, str(job["id"]))
            assert ended["state"] == "failed"
            assert ended["error"]["status"] == 502 and ended["error"]["exit_code"] == 1
            assert ended["error"]["message"].startswith("create dev failed: step 'cluster' failed:")
            assert ended["result"]["ok"] is False
            assert [s["result"] for s in ended["steps"]][:2] == ["done", "failed"]
    finally:
        server.stop()
    # A read that runs a tool answers 502 itself.
    fleet.ok("create", "dev", "--subnet", "none")
    server = Server(fleet, KENV_FAKE_FAIL="kubectl:*").start()
    try:
        with server.client() as client:
            doctor = client.get("/environments/dev/doctor")
            assert doctor.status_code == 502, doctor.text
            assert doctor.json()["error"]["exit_code"] == 1
    finally:
        server.stop()


def test_a_restart_marks_the_running_job_interrupted(fleet: Fleet) -> None:
    server = Server(fleet, KENV_FAKE_HANG="k3d:cluster-create").start()
    with server.client() as client:
        job = create(client, "slow")
        fleet.wait_for_call("cluster create")
        assert client.get(f"/jobs/{job['id']}").json()["state"] == "running"
    server.kill(signal.SIGKILL)
    fleet.kill_fakes()
    server.start(KENV_FAKE_HANG="")
    try:
        with server.client() as client:
            jobs = client.get("/jobs").json()["jobs"]
            assert [(j["id"], j["state"]) for j in jobs] == [(job["id"], "interrupted")]
            assert "run it again" in jobs[0]["error"]["hint"]
            stream = events(client, str(job["id"]))
            assert stream[-1].event == "state" and stream[-1].data["state"] == "interrupted"
            assert [e.data["step"] for e in stream if e.event == "step-started"][:2] == ["record", "cluster"]
            # The workflow resumes as on the CLI: the same create again finishes it.
            again = create(client, "slow")
            assert wait_job(client, str(again["id"]))["state"] == "succeeded"
    finally:
        server.stop()


def test_sigterm_stops_the_server_cleanly_and_a_used_port_is_one_line(server: Server, fleet: Fleet) -> None:
    taken = fleet.run("serve", "--port", str(server.port), timeout=30)
    assert taken.returncode == 1
    assert taken.stderr.strip().splitlines() == [
        f"kenv: error: cannot listen on 127.0.0.1:{server.port}: the port is in use; choose another --port"
    ]
    second = fleet.run("serve", "--port", str(free_port()), timeout=30)
    assert second.returncode == 1
    assert second.stderr.startswith(f"kenv: error: another kenv serve (pid {server.proc.pid}) already serves"), second
    assert server.kill(signal.SIGTERM) == 0
    assert server.start().kill(signal.SIGINT) == 0


def test_a_host_other_than_loopback_is_served_with_a_warning(fleet: Fleet) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*KENV, "serve", "--host", "0.0.0.0", "--port", str(port)],  # noqa: S104 - the case under test
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=fleet.env,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().strip() == f"kenv serve: http://0.0.0.0:{port}/ (token: kenv serve token)"
        assert proc.stderr.readline().strip() == (
            "kenv: warning: listening on 0.0.0.0: the API is reachable from the network (token required)"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_events_reach_the_client_while_the_job_runs(fleet: Fleet) -> None:
    """Each event is pushed when it happens, not when the job ends: with the cluster step slowed
    to 1.5 s, the record step's end arrives more than a second before the stream's end."""
    server = Server(fleet, KENV_FAKE_DELAY="k3d:cluster-create=1.5").start()
    try:
        with server.client() as client:
            job = create(client, "dev")
            stream: list[Event] = events(client, str(job["id"]))
            record_done = next(e for e in stream if e.event == "step-finished" and e.data["step"] == "record")
            assert stream[-1].received - record_done.received > 1.0
    finally:
        server.stop()


def test_the_cli_does_not_load_the_web_libraries(fleet: Fleet) -> None:
    probe = (
        "import sys, runpy; sys.argv = ['kenv'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('kenv', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn', 'pydantic'))\n"
        "sys.stderr.write('LOADED ' + ' '.join(heavy) + '\\n')\n"
    )
    for args in (["--help"], ["list"], ["list", "-o", "json"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, env=fleet.env, timeout=60, check=False
        )
        loaded = [line for line in result.stderr.splitlines() if line.startswith("LOADED")]
        assert loaded == ["LOADED "], (args, result.stderr)
    # And the probe can see them when they are loaded: `kenv serve --help` imports nothing heavy either.
    help_run = subprocess.run([*KENV, "serve", "--help"], capture_output=True, text=True, env=fleet.env, check=False)
    assert help_run.returncode == 0 and "/api/v1/openapi.json" in help_run.stdout


def test_jobs_and_events_survive_in_files(server: Server, fleet: Fleet) -> None:
    with server.client() as client:
        job = create(client, "dev", dry_run=True)
        ended = wait_job(client, str(job["id"]))
        assert ended["state"] == "succeeded" and ended["result"]["dry_run"] is True
    jobs_dir = fleet.home / "data" / "serve" / "jobs"
    record = json.loads((jobs_dir / f"{job['id']}.json").read_text())
    assert record == ended
    assert (jobs_dir / f"{job['id']}.json").stat().st_mode & 0o777 == 0o600
    lines = (jobs_dir / f"{job['id']}.events.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["data"]["state"] == "succeeded"
    assert fleet.clusters()["k3d"] == [], "a dry run creates nothing"


def test_stop_start_verify_and_images_run_as_the_cli_runs_them(server: Server, fleet: Fleet) -> None:
    fleet.ok("create", "dev", "--subnet", "none")
    with server.client() as client:
        for action, status in (("stop", "stopped"), ("start", "running")):
            job = client.post(f"/environments/dev/{action}")
            assert job.status_code == 202, job.text
            ended = wait_job(client, job.json()["id"])
            assert ended["state"] == "succeeded", ended
            assert ended["kind"] == action and ended["result"]["workflow"] == action
            assert client.get("/environments/dev").json()["status"] == status
        verified = wait_job(client, client.post("/environments/dev/verify").json()["id"])
        assert verified["state"] == "succeeded", verified
        cli_report = json.loads(fleet.ok("verify", "dev", "-o", "json"))
        assert [(r["environment"], r["healthy"]) for r in verified["result"]] == [("dev", True)]
        assert [c["check"] for c in verified["result"][0]["checks"]] == [c["check"] for c in cli_report[0]["checks"]]
        listing = client.get("/environments/dev/images").json()
        assert listing["environment"] == "dev"
        assert {i["ref"] for i in listing["images"]} == {
            i["ref"] for i in json.loads(fleet.ok("images", "list", "dev", "-o", "json"))["images"]
        }
        check = client.post("/environments/dev/images/check", json={"components": ["system"]})
        assert check.status_code == 200 and check.json()["operation"] == "check"
        sync = client.post("/environments/dev/images/sync", json={"images": ["busybox:1.36.1"], "dry_run": True})
        assert sync.status_code == 202, sync.text
        synced = wait_job(client, sync.json()["id"])
        assert synced["kind"] == "images-sync" and synced["result"]["dry_run"] is True, synced
        bad = client.post("/environments/dev/images/sync", json={"images": ["UPPER:case"]})
        assert bad.status_code == 400 and bad.json()["error"]["exit_code"] == 2


def test_the_page_and_its_modules_need_no_token_and_are_revalidated(server: Server) -> None:
    page = httpx.get(f"{server.base}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    module = httpx.get(f"{server.base}/static/app.js")
    assert module.status_code == 200 and module.headers["cache-control"] == "no-cache"
    with server.client() as client:
        platform = client.get("/platform").json()
        assert platform["base_domain"] == "localtest.me"
        assert platform["components"] == {} and platform["environments"] == []

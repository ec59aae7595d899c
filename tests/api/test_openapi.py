"""The OpenAPI document against the running server, by a property-based tool (schemathesis):
every operation answered without a server error, with the status codes, content types, headers
and bodies the document declares, and the token enforced where the document says it is.

Left out of the fuzzing: the operations that start workflows (create, delete, start, stop,
verify, images sync). Each accepted request runs a real workflow on the fakes (a cluster made,
ports and a subnet allocated, a job thread), so fuzzing them would make clusters by the hundred
and test the fakes' capacity rather than the API; `test_api.py` drives each of them instead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.server_support import Server, wait_job
from tests.e2e.lifecycle_support import Fleet

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "ignored_auth",
    "missing_required_header",
)
WORKFLOW_OPERATIONS = r"^(create|delete|start|stop|verify|images_sync)_"


def test_the_openapi_document_declares_the_bearer_scheme_and_needs_no_token(server: Server) -> None:
    document = httpx.get(f"{server.base}/api/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "description": "The token `kenv serve token` prints.",
        "scheme": "bearer",
    }
    health = document["paths"]["/api/v1/health"]["get"]
    assert "security" not in health
    assert document["paths"]["/api/v1/environments"]["get"]["security"] == [{"HTTPBearer": []}]


@pytest.mark.slow
def test_schemathesis_finds_nothing(server: Server, fleet: Fleet, tmp_path: Path) -> None:
    fleet.ok("create", "dev", "--subnet", "none")  # a real record, so reads of it have something to say
    with server.client() as client:
        # A finished job, so the job reads (and the stateful phase's links from the job list) reach one.
        job = client.post("/environments", json={"name": "dev", "dry_run": True}).json()
        assert wait_job(client, job["id"])["state"] == "succeeded"
    report = tmp_path / "junit.xml"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{server.base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {server.token()}",
            "--checks",
            ",".join(CHECKS),
            "--exclude-operation-id-regex",
            WORKFLOW_OPERATIONS,
            "--max-examples",
            "10",
            "--seed",
            "20261201",
            # One worker: hypothesis describes strategies with ast.parse, which this CPython 3.11 can
            # fail in two threads at once ("AST constructor recursion depth mismatch", python/cpython#106905).
            "--workers",
            "1",
            "--no-shrink",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        env=fleet.env,
        cwd=tmp_path,  # its example cache (.schemathesis/) stays out of the tree
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Tested: 12" in result.stdout, result.stdout[-2000:]
    assert fleet.clusters()["k3d"] == ["dev"], "the fuzzing made no cluster"

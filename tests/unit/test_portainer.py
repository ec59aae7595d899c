"""Portainer's request bodies, answers and edge agent manifests (pure), and the JSON-over-HTTP
client against a loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kenv.platform.portainer import agent, api
from kenv.runtime.http import HttpUnavailable, encode_multipart, free_loopback_port, public_url, request_json

ENDPOINT = {"Id": 7, "Name": "dev", "Type": 4, "EdgeKey": "aHR0cDovL3B8cDo4MDAwfGZwfDc", "GroupId": 1}


def test_admin_init_refuses_what_portainer_refuses() -> None:
    assert api.admin_init_body("x" * 12) == {"Username": "admin", "Password": "x" * 12}
    with pytest.raises(ValueError, match="shorter than 12"):
        api.admin_init_body("x" * 11)


def test_the_edge_form_is_an_edge_agent_of_the_unassigned_group() -> None:
    form = api.edge_endpoint_form("dev", "http://kenv-portainer:9000")
    assert form == {
        "Name": "dev",
        "EndpointCreationType": "4",
        "URL": "http://kenv-portainer:9000",
        "GroupID": "1",
        "TagIds": "[]",
    }


def test_id_and_edge_key_are_taken_verbatim_and_the_key_is_never_shown() -> None:
    endpoint = api.parse_endpoint(ENDPOINT)
    assert (endpoint.id, endpoint.name, endpoint.edge_key) == (7, "dev", ENDPOINT["EdgeKey"])
    assert endpoint.to_dict() == {"id": 7, "name": "dev"}
    assert ENDPOINT["EdgeKey"] not in repr(endpoint) + str(endpoint) + json.dumps(endpoint.to_dict())


@pytest.mark.parametrize("body", [[], {"Name": "dev"}, {"Id": "7", "Name": "dev"}, {"Id": True, "Name": "dev"}])
def test_an_answer_that_is_not_an_endpoint_is_refused(body: Any) -> None:
    with pytest.raises(api.ApiAnswerError):
        api.parse_endpoint(body)


def test_find_by_name_matches_exactly() -> None:
    listed = [{**ENDPOINT, "Name": "dev2", "Id": 8}, ENDPOINT]
    found = api.find_by_name(listed, "dev")
    assert found is not None and found.id == 7
    assert api.find_by_name(listed, "de") is None
    with pytest.raises(api.ApiAnswerError):
        api.find_by_name({"message": "x"}, "dev")


def test_errors_read_as_one_line() -> None:
    assert api.error_text({"message": "Invalid request payload", "details": "URL cannot be empty"}) == (
        "Invalid request payload: URL cannot be empty"
    )
    assert api.error_text({"message": "Name is not unique", "details": "Name is not unique"}) == "Name is not unique"
    assert api.error_text("404 page not found\n") == "404 page not found"
    with pytest.raises(api.ApiAnswerError):
        api.parse_jwt({"message": "x"})


def test_the_agent_keeps_its_key_in_a_secret_and_reads_it_from_there() -> None:
    objects = agent.agent_objects("dev", "KEY123")
    kinds = [o["kind"] for o in objects]
    assert kinds == [
        "Namespace",
        "ServiceAccount",
        "ClusterRoleBinding",
        "ConfigMap",
        "Secret",
        "Service",
        "Deployment",
    ]
    (secret,) = [o for o in objects if o["kind"] == "Secret"]
    assert secret["metadata"]["name"] == "portainer-agent-edge-key" and secret["stringData"] == {"edge.key": "KEY123"}
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["EDGE"]["value"] == "1" and env["EDGE_INSECURE_POLL"]["value"] == "1"
    assert env["EDGE_KEY"] == {
        "name": "EDGE_KEY",
        "valueFrom": {"secretKeyRef": {"name": "portainer-agent-edge-key", "key": "edge.key"}},
    }
    assert "KEY123" not in json.dumps(deployment)
    (config,) = [o for o in objects if o["kind"] == "ConfigMap"]
    assert config["data"] == {"edge.id": "kenv-dev"}
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == api.AGENT_IMAGE


def test_the_rendered_stream_is_one_document_per_object() -> None:
    import yaml

    docs = list(yaml.safe_load_all(agent.render_agent("dev", "KEY")))
    assert docs == agent.agent_objects("dev", "KEY")


# -- runtime/http.py -------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = json.dumps(
            {
                "path": self.path,
                "type": self.headers.get("Content-Type"),
                "auth": self.headers.get("Authorization"),
                "body": body.decode(),
            }
        ).encode()
        status = 409 if self.path == "/conflict" else 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        data = b"not json" if self.path == "/text" else b""
        self.send_response(200 if data else 204)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_request_json_sends_json_and_returns_any_status(server: str) -> None:
    status, body = request_json("POST", f"{server}/conflict", json={"a": 1}, headers={"Authorization": "Bearer t"})
    assert status == 409
    assert body == {"path": "/conflict", "type": "application/json", "auth": "Bearer t", "body": '{"a": 1}'}
    assert request_json("GET", f"{server}/empty") == (204, None)
    assert request_json("GET", f"{server}/text") == (200, "not json")


def test_request_json_sends_multipart_forms(server: str) -> None:
    status, body = request_json("POST", f"{server}/form", form={"Name": "dev", "EndpointCreationType": "4"})
    assert status == 200 and body["type"].startswith("multipart/form-data; boundary=")
    assert 'name="Name"\r\n\r\ndev\r\n' in body["body"] and 'name="EndpointCreationType"\r\n\r\n4\r\n' in body["body"]


def test_multipart_encoding_ends_with_the_closing_boundary() -> None:
    data, ctype = encode_multipart({"a": "b"})
    boundary = ctype.split("boundary=")[1]
    assert data.endswith(f"--{boundary}--\r\n".encode())


def test_no_answer_is_an_error_naming_the_url_without_secrets() -> None:
    port = free_loopback_port()
    with pytest.raises(HttpUnavailable) as caught:
        request_json("GET", f"http://user:pw@127.0.0.1:{port}/api/x?token=abc", timeout=2)
    message = caught.value.one_line()
    assert f"GET http://127.0.0.1:{port}/api/x: no answer" in message
    assert "pw" not in message and "abc" not in message
    assert caught.value.exit_code == 1


def test_public_url_drops_credentials_query_and_fragment() -> None:
    assert public_url("https://u:p@[::1]:8443/a/b?x=1#f") == "https://[::1]:8443/a/b"


def test_only_http_urls_are_requested() -> None:
    with pytest.raises(Exception, match="not an http"):
        request_json("GET", "file:///etc/passwd")

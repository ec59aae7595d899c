"""The page's modules in the browser itself, on inputs a live server seldom gives: the
server-sent events reader (static/api.js EventParser) on a stream cut at any byte, with comments
(the keep-alive) and every line ending the SSE grammar allows (kenv's server sends LF); the create
form's choices read from an OpenAPI document (static/environments.js choicesFrom)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import Server

PARSE_IN_CHUNKS = """
const [text, sizes, done] = arguments;
import('/static/api.js').then(({ EventParser }) => {
  done(sizes.map((size) => {
    const seen = [];
    const parser = new EventParser((event) => seen.push({ seq: event.seq, type: event.type, data: event.data }));
    for (let i = 0; i < text.length; i += size) parser.feed(text.slice(i, i + size), 0);
    return seen;
  }));
}).catch((error) => done(String(error)));
"""


def event(seq: int, kind: str, data: dict[str, Any], newline: str = "\n") -> str:
    return newline.join([f"id: {seq}", f"event: {kind}", f"data: {json.dumps({'seq': seq, **data})}", "", ""])


def test_events_cut_anywhere_come_out_whole(browser: Any, serve: Callable[..., Server]) -> None:
    server = serve()
    browser.get(server.url)
    detail = "dev (k3d; api 16400) — ok"
    stream = (
        event(1, "step-started", {"step": "record", "index": 1, "total": 5})
        + ": keep-alive\n\n"
        + event(2, "step-finished", {"step": "record", "detail": detail}, "\r\n")
        + event(3, "note", {"text": "a: b"}, "\r")
        + "data: no id, no type\n\n"
    )
    expected = [
        {"seq": 1, "type": "step-started", "data": {"seq": 1, "step": "record", "index": 1, "total": 5}},
        {"seq": 2, "type": "step-finished", "data": {"seq": 2, "step": "record", "detail": detail}},
        {"seq": 3, "type": "note", "data": {"seq": 3, "text": "a: b"}},
        {"seq": None, "type": "message", "data": {"text": "no id, no type"}},
    ]
    browser.set_script_timeout(10)
    results = browser.execute_async_script(PARSE_IN_CHUNKS, stream, [1, 2, 3, 7, len(stream)])
    assert isinstance(results, list), results
    for seen in results:
        assert seen == expected


CHOICES = """
const [document, done] = arguments;
import('/static/environments.js').then(({ choicesFrom }) => done(choicesFrom(document))).catch((e) => done(String(e)));
"""


def test_create_choices_come_from_the_openapi_enums(browser: Any, serve: Callable[..., Server]) -> None:
    server = serve()
    browser.get(server.url)
    browser.set_script_timeout(10)
    # As pydantic writes Optional[Literal[...]], Literal[...] and list[Literal[...]].
    document = {
        "paths": {"/api/v1/environments": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/CreateBody"}}}}}}},
        "components": {"schemas": {"CreateBody": {"properties": {
            "provider": {"anyOf": [{"enum": ["k3d", "kind"], "type": "string"}, {"type": "null"}]},
            "role": {"enum": ["business"], "type": "string"},
            "components": {"type": "array", "items": {"enum": ["system", "all"], "type": "string"}},
        }}}},
    }  # fmt: skip
    assert browser.execute_async_script(CHOICES, document) == {
        "provider": ["k3d", "kind"],
        "role": ["business"],
        "components": ["system", "all"],
    }
    # No enums (an older server): the lists the page carries, so the form still offers something.
    fallback = browser.execute_async_script(CHOICES, {})
    assert fallback["provider"] == ["k3d", "kind", "minikube"] and "business" in fallback["role"]

"""A subset of kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath).

Supported: ``{.a.b}``, ``{.items[*].metadata.name}``, ``{.items[0]}``,
``{.x['dotted.key']}``, escaped dots (``{.labels.a\\.b/c}``), filters
``[?(@.type=="Ready")]`` (``==``/``!=``), ``{range ...}{end}``, string
literals (``{"\\n"}``), ``{..name}`` is *not* supported.  Unsupported syntax
raises :class:`JSONPathError` (kubectl would print "error: error parsing
jsonpath ..."), so tests notice instead of getting silently wrong output.
"""

from __future__ import annotations

import json
import re


class JSONPathError(ValueError):
    pass


_TOKEN_RE = re.compile(r"\{((?:[^{}\"']|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')*)\}")


def _split_path(expr: str) -> list[str]:
    """'.items[*].metadata.labels.a\\.b' -> ['items', '[*]', 'metadata', 'labels', 'a.b']"""
    parts: list[str] = []
    i = 0
    cur = ""
    while i < len(expr):
        ch = expr[i]
        if ch == "\\" and i + 1 < len(expr):
            cur += expr[i + 1]
            i += 2
            continue
        if ch == ".":
            if cur:
                parts.append(cur)
            cur = ""
            i += 1
            if i < len(expr) and expr[i] == ".":
                raise JSONPathError("recursive descent (..) is not supported by the fake kubectl")
            continue
        if ch == "[":
            if cur:
                parts.append(cur)
            cur = ""
            depth, j = 0, i
            while j < len(expr):
                if expr[j] == "[":
                    depth += 1
                elif expr[j] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= len(expr):
                raise JSONPathError(f"unterminated array notation in {expr!r}")
            parts.append(expr[i : j + 1])
            i = j + 1
            continue
        cur += ch
        i += 1
    if cur:
        parts.append(cur)
    return parts


def _literal(text: str) -> object:
    text = text.strip()
    if text[:1] == "'":
        return json.loads('"' + text[1:-1].replace('"', '\\"') + '"', strict=False)
    if text[:1] == '"':
        return json.loads(text, strict=False)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _apply(values: list[object], part: str) -> list[object]:
    result: list[object] = []
    if part.startswith("["):
        inner = part[1:-1].strip()
        if inner.startswith("?(") and inner.endswith(")"):
            match = re.fullmatch(r"\?\(@\.([\w.\\/-]+)\s*(==|!=)\s*(.+)\)", inner)
            if not match:
                raise JSONPathError(f"unsupported filter {part}")
            field, op, raw = match.groups()
            want = _literal(raw)
            for value in values:
                for item in value if isinstance(value, list) else []:
                    got = _walk([item], _split_path("." + field))
                    hit = bool(got) and got[0] == want
                    if hit == (op == "=="):
                        result.append(item)
            return result
        if inner[:1] in "\"'":
            key = _literal(inner)
            return [v[key] for v in values if isinstance(v, dict) and key in v]
        for value in values:
            if not isinstance(value, list):
                continue
            if inner == "*":
                result.extend(value)
            elif re.fullmatch(r"-?\d+", inner):
                idx = int(inner)
                if -len(value) <= idx < len(value):
                    result.append(value[idx])
                else:
                    raise JSONPathError(f"array index out of bounds: index {idx}, length {len(value)}")
            elif re.fullmatch(r"-?\d*:-?\d*", inner):
                start, _, end = inner.partition(":")
                result.extend(value[int(start) if start else None : int(end) if end else None])
            else:
                raise JSONPathError(f"unsupported array notation {part}")
        return result
    if part == "*":
        for value in values:
            if isinstance(value, dict):
                result.extend(value.values())
            elif isinstance(value, list):
                result.extend(value)
        return result
    for value in values:
        if isinstance(value, dict) and part in value:
            result.append(value[part])
        elif isinstance(value, list) and part != "":
            # kubectl's jsonpath walks into lists implicitly for .field after [*]
            result.extend(v[part] for v in value if isinstance(v, dict) and part in v)
    return result


def _walk(values: list[object], parts: list[str]) -> list[object]:
    for part in parts:
        values = _apply(values, part)
    return values


def _fmt(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _tokens(template: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    for match in _TOKEN_RE.finditer(template):
        if match.start() > pos:
            tokens.append(("text", template[pos : match.start()]))
        body = match.group(1).strip()
        if body.startswith("range "):
            tokens.append(("range", body[6:].strip()))
        elif body == "end":
            tokens.append(("end", ""))
        elif body[:1] in "\"'":
            tokens.append(("text", str(_literal(body))))
        else:
            tokens.append(("field", body))
        pos = match.end()
    if pos < len(template):
        tokens.append(("text", template[pos:]))
    return tokens


def _render(tokens: list[tuple[str, str]], data: object, out: list[str]) -> None:
    i = 0
    while i < len(tokens):
        kind, body = tokens[i]
        if kind == "text":
            out.append(body)
        elif kind == "field":
            expr = body[1:] if body.startswith("$") else body
            if expr in ("", "@"):
                out.append(_fmt(data))
            else:
                if expr.startswith("@"):
                    expr = expr[1:]
                values = _walk([data], _split_path(expr))
                out.append(" ".join(_fmt(v) for v in values))
        elif kind == "range":
            depth, j = 1, i + 1
            while j < len(tokens) and depth:
                depth += {"range": 1, "end": -1}.get(tokens[j][0], 0)
                j += 1
            if depth:
                raise JSONPathError("unclosed range")
            inner = tokens[i + 1 : j - 1]
            expr = body[1:] if body.startswith("$") else body
            for item in _walk([data], _split_path(expr)):
                _render(inner, item, out)
            i = j
            continue
        elif kind == "end":
            raise JSONPathError("not in range, nothing to end")
        i += 1


def evaluate(template: str, data: object) -> str:
    """Render a kubectl jsonpath template against data."""
    if "{" not in template:
        template = "{" + template + "}"  # kubectl accepts a bare ".a.b"
    out: list[str] = []
    _render(_tokens(template), data, out)
    return "".join(out)

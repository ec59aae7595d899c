"""Minimal YAML reader/writer for kubeconfig files and kind cluster configs.

Why not PyYAML?  The fakes are started by ``/usr/bin/env python3`` which may
be an interpreter without PyYAML, and importing it costs start-up time.  The
files the fakes read (kubeconfigs written by kubectl/k3d/kind/minikube/kenv,
kind ``Cluster`` configs) use a small, regular subset of YAML: block
mappings and sequences, plain/quoted scalars, simple flow collections and
block scalars (``|``/``>``).  Anything outside that subset raises
:class:`YAMLSubsetError`; :func:`load` then falls back to PyYAML when it is
importable, so unusual-but-valid files still work.

Mappings are returned as :class:`LineDict` which remembers the 1-based line
of every key, so kind's strict-decoding errors can quote line numbers like
Go's yaml.v3 does ("line 5: field foo not found in type v1alpha4.Cluster").
"""

from __future__ import annotations

import json
import re
from types import ModuleType


class YAMLSubsetError(ValueError):
    """The document uses YAML features this reader does not implement."""


class YAMLSyntaxError(ValueError):
    """The document is not valid YAML."""


class LineDict(dict):
    """A dict that remembers the source line of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[str, int] = {}
        self.line = 0


class _Line:
    __slots__ = ("indent", "no", "raw", "text")

    def __init__(self, no: int, raw: str) -> None:
        self.no = no
        self.raw = raw
        stripped = _strip_comment(raw).rstrip()
        self.indent = len(stripped) - len(stripped.lstrip(" "))
        self.text = stripped.strip()


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


_INT_RE = re.compile(r"[-+]?[0-9]+$")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_KEY_RE = re.compile(
    r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s\-?:,\[\]{}#&*!|>'"%@`][^#]*?|-[^\s][^#]*?)\s*:(\s+|$)"""
)


def _scalar(text: str, line_no: int) -> object:
    if not text:
        return None
    if text[0] == '"':
        if not text.endswith('"') or len(text) < 2:
            raise YAMLSubsetError(f"line {line_no}: multi-line double-quoted scalar")
        try:
            return json.loads(text)
        except ValueError:
            raise YAMLSubsetError(f"line {line_no}: unsupported escape in {text}") from None
    if text[0] == "'":
        if not text.endswith("'") or len(text) < 2:
            raise YAMLSubsetError(f"line {line_no}: multi-line single-quoted scalar")
        return text[1:-1].replace("''", "'")
    if text[0] in "&*!":
        raise YAMLSubsetError(f"line {line_no}: anchors, aliases and tags are not supported")
    if text[0] in "[{":
        value, rest = _flow(text, 0, line_no)
        if text[rest:].strip():
            raise YAMLSyntaxError(f"line {line_no}: did not find expected key")
        return value
    if text in ("~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT_RE.match(text):
        return int(text)
    if _FLOAT_RE.match(text):
        return float(text)
    return text


def _flow(text: str, pos: int, line_no: int) -> tuple[object, int]:
    """Parse a flow collection/scalar starting at text[pos]."""
    while pos < len(text) and text[pos] == " ":
        pos += 1
    if pos >= len(text):
        raise YAMLSyntaxError(f"line {line_no}: unexpected end of flow collection")
    ch = text[pos]
    if ch in "[{":
        closing = "]" if ch == "[" else "}"
        items: list[object] = []
        mapping = LineDict() if ch == "{" else None
        pos += 1
        while True:
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos >= len(text):
                raise YAMLSubsetError(f"line {line_no}: multi-line flow collection")
            if text[pos] == closing:
                pos += 1
                break
            key, pos = _flow(text, pos, line_no)
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if mapping is not None:
                if pos >= len(text) or text[pos] != ":":
                    raise YAMLSyntaxError(f"line {line_no}: expected ':' in flow mapping")
                value, pos = _flow(text, pos + 1, line_no)
                mapping[str(key)] = value
                mapping.key_lines[str(key)] = line_no
            else:
                items.append(key)
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos < len(text) and text[pos] == ",":
                pos += 1
        return (mapping if mapping is not None else items), pos
    if ch in "\"'":
        end = pos + 1
        while end < len(text):
            if text[end] == "\\" and ch == '"':
                end += 2
                continue
            if text[end] == ch:
                if ch == "'" and end + 1 < len(text) and text[end + 1] == "'":
                    end += 2
                    continue
                break
            end += 1
        return _scalar(text[pos : end + 1], line_no), end + 1
    end = pos
    while (
        end < len(text)
        and text[end] not in ",]}"
        and not (text[end] == ":" and (end + 1 == len(text) or text[end + 1] in " ,]}"))
    ):
        end += 1
    return _scalar(text[pos:end].strip(), line_no), end


class _Parser:
    def __init__(self, text: str) -> None:
        self.raw_lines = text.splitlines()
        self.lines: list[_Line] = []
        seen_content = False
        for no, raw in enumerate(self.raw_lines, start=1):
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise YAMLSyntaxError(f"line {no}: found character that cannot start any token")
            line = _Line(no, raw)
            if line.text in ("---", "...") and line.indent == 0:
                if seen_content:
                    raise YAMLSubsetError(f"line {no}: multiple YAML documents")
                continue
            if line.text.startswith("%"):
                raise YAMLSubsetError(f"line {no}: directives are not supported")
            if line.text:
                seen_content = True
            self.lines.append(line)
        self.pos = 0

    # -- helpers ------------------------------------------------------------
    def _skip_blank(self) -> None:
        while self.pos < len(self.lines) and not self.lines[self.pos].text:
            self.pos += 1

    def _peek(self) -> _Line | None:
        self._skip_blank()
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    # -- grammar ------------------------------------------------------------
    def document(self) -> object:
        line = self._peek()
        if line is None:
            return None
        value = self.node(line.indent)
        trailing = self._peek()
        if trailing is not None:
            raise YAMLSyntaxError(f"line {trailing.no}: did not find expected key")
        return value

    def node(self, indent: int) -> object:
        line = self._peek()
        assert line is not None
        if line.text == "-" or line.text.startswith("- "):
            return self.sequence(line.indent)
        if _KEY_RE.match(line.text):
            return self.mapping(line.indent)
        self.pos += 1
        if line.text[:1] in "|>":
            raise YAMLSubsetError(f"line {line.no}: top-level block scalar")
        return _scalar(line.text, line.no)

    def mapping(self, indent: int) -> LineDict:
        result = LineDict()
        first = self._peek()
        result.line = first.no if first else 0
        while True:
            line = self._peek()
            if line is None or line.indent < indent:
                break
            if line.indent > indent:
                raise YAMLSyntaxError(f"line {line.no}: mapping values are not allowed in this context")
            match = _KEY_RE.match(line.text)
            if not match:
                if line.text.startswith("- "):
                    break  # a sibling sequence belongs to the caller
                raise YAMLSyntaxError(f"line {line.no}: could not find expected ':'")
            key = _scalar(match.group(1).strip(), line.no)
            key = "" if key is None else (str(key).lower() if isinstance(key, bool) else str(key))
            if key in result:
                raise YAMLSyntaxError(f'line {line.no}: mapping key "{key}" already defined')
            rest = line.text[match.end() :].strip()
            self.pos += 1
            result[key] = self._value_after_key(rest, indent, line)
            result.key_lines[key] = line.no
        return result

    def _value_after_key(self, rest: str, indent: int, line: _Line) -> object:
        if rest[:1] in ("|", ">"):
            return self.block_scalar(rest, indent, line)
        if rest:
            return _scalar(rest, line.no)
        nxt = self._peek()
        if nxt is None:
            return None
        if nxt.indent > indent:
            return self.node(nxt.indent)
        if nxt.indent == indent and (nxt.text == "-" or nxt.text.startswith("- ")):
            return self.sequence(indent)  # "key:\n- item" (same indent) is valid YAML
        return None

    def sequence(self, indent: int) -> list[object]:
        items: list[object] = []
        while True:
            line = self._peek()
            if line is None or line.indent != indent or not (line.text == "-" or line.text.startswith("- ")):
                if line is not None and line.indent > indent:
                    raise YAMLSyntaxError(f"line {line.no}: did not find expected '-' indicator")
                break
            rest = line.text[1:].lstrip(" ")
            if not rest:
                self.pos += 1
                nxt = self._peek()
                items.append(self.node(nxt.indent) if nxt is not None and nxt.indent > indent else None)
                continue
            # "- key: value" / "- - x": re-read the rest as a node at its column
            inner = indent + (len(line.text) - len(rest))
            if rest.startswith("- ") or rest == "-" or _KEY_RE.match(rest):
                virtual = _Line(line.no, " " * inner + rest)
                self.lines[self.pos] = virtual
                items.append(self.node(inner))
            else:
                self.pos += 1
                if rest[:1] in "|>":
                    items.append(self.block_scalar(rest, indent, line))
                else:
                    items.append(_scalar(rest, line.no))
        return items

    def block_scalar(self, header: str, indent: int, line: _Line) -> str:
        match = re.fullmatch(r"([|>])([-+]?)([1-9]?)([-+]?)", header.split("#", maxsplit=1)[0].strip())
        if not match:
            raise YAMLSyntaxError(f"line {line.no}: invalid block scalar header {header!r}")
        style, chomp = match.group(1), match.group(2) or match.group(4)
        # block content is raw text: read it from the original lines
        body: list[str] = []
        content_indent = int(match.group(3)) + indent if match.group(3) else None
        while self.pos < len(self.lines):
            cand = self.lines[self.pos]
            raw = self.raw_lines[cand.no - 1]
            if raw.strip():
                cur = len(raw) - len(raw.lstrip(" "))
                if content_indent is None:
                    if cur <= indent:
                        break
                    content_indent = cur
                if cur < content_indent:
                    break
                body.append(raw[content_indent:])
            else:
                body.append("")
            self.pos += 1
        while body and body[-1] == "" and chomp != "+":
            body.pop()
        if style == "|":
            text = "\n".join(body)
        else:
            text = ""
            for i, piece in enumerate(body):
                if i == 0:
                    text = piece
                elif piece == "" or piece.startswith(" ") or body[i - 1] == "":
                    text += "\n" + piece
                else:
                    text += " " + piece
        if chomp == "-":
            return text
        return text + "\n" if body else ""


def loads(text: str) -> object:
    """Parse YAML text with the subset parser, falling back to PyYAML."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    try:
        return _Parser(text).document()
    except YAMLSubsetError as subset_error:
        try:
            import yaml  # optional: only needed for YAML outside the subset
        except ImportError:
            raise subset_error from None
        try:
            return _from_pyyaml(yaml, text)
        except yaml.YAMLError as exc:
            raise YAMLSyntaxError(str(exc)) from None


def _from_pyyaml(yaml: ModuleType, text: str) -> object:
    """Load with PyYAML, converting mappings to LineDict (keeps line numbers)."""
    node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    loader = yaml.SafeLoader("")

    def line_of(n: object) -> int:
        return int(getattr(n, "start_mark").line) + 1  # noqa: B009 - PyYAML nodes are untyped

    def convert(n: object) -> object:
        kind = type(n).__name__
        children = getattr(n, "value", None)
        if kind == "MappingNode" and isinstance(children, list):
            out = LineDict()
            out.line = line_of(n)
            for k, v in children:
                key = str(convert(k))
                out[key] = convert(v)
                out.key_lines[key] = line_of(k)
            return out
        if kind == "SequenceNode" and isinstance(children, list):
            return [convert(x) for x in children]
        return loader.construct_object(n, deep=True)

    return None if node is None else convert(node)


# --------------------------------------------------------------------------
# writer

_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@` ")
_RESERVED = {
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "True",
    "TRUE",
    "false",
    "False",
    "FALSE",
    "yes",
    "no",
    "on",
    "off",
    "Yes",
    "No",
    "On",
    "Off",
    "y",
    "n",
    "Y",
    "N",
}


def _quote_if_needed(value: str) -> str:
    needs = (
        value in _RESERVED
        or value[0] in _PLAIN_UNSAFE_START
        or value[-1] == " "
        or ": " in value
        or " #" in value
        or value.endswith(":")
        or "\n" in value
        or "\t" in value
        or ('"' in value and value[0] == '"')
        or _INT_RE.match(value) is not None
        or _FLOAT_RE.match(value) is not None
        or any(ord(c) < 32 for c in value)
    )
    return json.dumps(value) if needs else value


def _fmt_scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _quote_if_needed(str(value))


def _is_block(value: object) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def _emit(value: object, indent: int, out: list[str], sort_keys: bool) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        keys = sorted(value) if sort_keys else list(value)
        for key in keys:
            item = value[key]
            k = _quote_if_needed(str(key))
            if isinstance(item, dict) and item:
                out.append(f"{pad}{k}:")
                _emit(item, indent + 2, out, sort_keys)
            elif isinstance(item, list) and item:
                out.append(f"{pad}{k}:")
                _emit(item, indent, out, sort_keys)  # kubectl style: "- " at key indent
            else:
                out.append(f"{pad}{k}: {_fmt_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if _is_block(item):
                sub: list[str] = []
                _emit(item, indent + 2, sub, sort_keys)
                sub[0] = f"{pad}- {sub[0][indent + 2 :]}"
                out.extend(sub)
            else:
                out.append(f"{pad}- {_fmt_scalar(item)}")
    else:
        out.append(pad + _fmt_scalar(value))


def dumps(value: object, sort_keys: bool = True) -> str:
    """Serialise to block-style YAML the way kubectl/clientcmd writes files."""
    out: list[str] = []
    _emit(value, 0, out, sort_keys)
    return "\n".join(out) + "\n"

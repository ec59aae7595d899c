"""YAML for the fakes, on PyYAML.

Reading
  :func:`load` -- what client-go/k3d read (sigs.k8s.io/yaml, i.e. go-yaml v2 into
  ``interface{}``): timestamps stay strings, as go-yaml v2 keeps them when the
  target is ``interface{}``.
  :func:`compose` -- the node tree with line numbers, for decoders that must
  quote ``line N`` the way go-yaml v3 does (kind's strict config decoding);
  :func:`go_resolve` gives a plain scalar's tag as go-yaml v2/v3 resolve it.

Writing
  :func:`dump` -- the text sigs.k8s.io/yaml ``Marshal``/``JSONToYAML`` prints (kubectl
  ``-o yaml``, ``config view``, kubeconfig files written by client-go): go-yaml v2's
  emitter, which PyYAML shares with libyaml -- 2-space indent, block sequences not
  indented under their key, plain scalars folded at 80 columns, ``{}``/``[]`` for
  empty collections, no anchors.  Two go-yaml v2 rules PyYAML does not have are
  added: map keys in go-yaml's "natural" order (``sorter.go``: digit runs compared
  as numbers, non-letters before letters), and a string that would read back as
  something else in go-yaml v2 (``resolve.go``: ``""``, ``"true"``, ``"y"``, ``"0"``,
  ``"1e3"``, a timestamp, ...) or that looks like a base-60 float is written
  double-quoted (``encode.go`` ``stringv``); a string with a newline is written as a
  literal block.  Floats use Go's ``strconv.FormatFloat(f, 'g', -1, 64)``.

PyYAML is imported here, so only fakes that really read or write YAML pay for it.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from decimal import Decimal
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import Node, ScalarNode

YAMLError = yaml.YAMLError

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# -- reading -----------------------------------------------------------------------------


class _GoV2Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader that leaves timestamps as strings (go-yaml v2 into interface{})."""


_GoV2Loader.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


def load(text: str) -> Any:
    """Parse one YAML document (raises :data:`YAMLError`)."""
    return yaml.load(text, Loader=_GoV2Loader)  # noqa: S506 - a SafeLoader subclass


def compose(text: str) -> Node | None:
    """The first document's node tree (marks give line numbers); like go-yaml v3's
    ``Decoder.Decode``, later documents are not read."""
    for node in yaml.compose_all(text, Loader=_BaseLoader):
        return node
    return None


def is_plain(node: ScalarNode) -> bool:
    """Plain (unquoted, not block) scalar: the only kind go-yaml resolves."""
    return not node.style


def go_error(exc: YAMLError, v3: bool = False) -> str:
    """A syntax error as go-yaml words it: ``yaml: line N: problem`` (decode.go
    ``parser.fail``: v2 prefers the problem mark, v3 the context mark; marks are
    0-based and only scanner errors add one).  PyYAML shares libyaml's problem
    texts except the two rewritten here."""
    problem = str(getattr(exc, "problem", "") or "unknown problem parsing YAML content")
    problem = problem.replace("mapping values are not allowed here", "mapping values are not allowed in this context")
    problem = re.sub(r"^found character .* that cannot start", "found character that cannot start", problem)
    scanner = type(exc).__name__ == "ScannerError"
    context, found = getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)
    line = 0
    for index, mark in enumerate((context, found) if v3 else (found, context)):
        if mark is not None and mark.line != 0:
            line = mark.line + (1 if scanner and (v3 or index == 0) else 0)
            break
    return f"yaml: line {line}: {problem}" if line else f"yaml: {problem}"


def line_of(node: Node) -> int:
    """1-based line of a node, as go-yaml reports it."""
    return int(node.start_mark.line) + 1


# -- writing -----------------------------------------------------------------------------

_STR = "tag:yaml.org,2002:str"
_YAML11_BOOLS = ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF")
_RESOLVE_MAP_V3 = {
    **dict.fromkeys(("true", "True", "TRUE", "false", "False", "FALSE"), "bool"),
    **dict.fromkeys(("~", "null", "Null", "NULL"), "null"),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), "float"),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), "float"),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), "float"),
}
_RESOLVE_MAP_V2 = {**_RESOLVE_MAP_V3, **dict.fromkeys(_YAML11_BOOLS, "bool")}
_HINT_M = set("yYnNtTfFoO~")
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMPS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[-+]\d{2}:\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
)
_INT_DIGITS = {16: re.compile(r"^[0-9a-fA-F]+$"), 8: re.compile(r"^[0-7]+$"), 2: re.compile(r"^[01]+$")}


def _go_timestamp(text: str) -> bool:
    """go-yaml v2 parseTimestamp (time.Parse with its allowed layouts)."""
    for pattern in _TIMESTAMPS:
        match = pattern.match(text)
        if not match:
            continue
        parts = [int(g) for g in match.groups()[:6] if g is not None and g[:1].isdigit()]
        try:
            datetime.datetime(*parts[:3])
        except ValueError:
            return False
        return len(parts) == 3 or (parts[3] < 24 and parts[4] < 60 and parts[5] < 60)
    return False


def _go_parse_int(text: str) -> bool:
    """strconv.ParseInt(text, 0, 64) or ParseUint(text, 0, 64) succeeds."""
    sign, body = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    prefix = body[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        base, digits = {"0x": 16, "0o": 8, "0b": 2}[prefix], body[2:]
    elif body[:1] == "0" and len(body) > 1:
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    if not digits or not (_INT_DIGITS[base].match(digits) if base != 10 else digits.isascii() and digits.isdigit()):
        return False
    value = int(digits, base)
    if sign == "-":
        return value <= 1 << 63
    return value < 1 << 63 or (not sign and value < 1 << 64)


def go_resolve(text: str, v3: bool = False) -> str:
    """The tag go-yaml resolve() gives a plain scalar: str, bool, null, int, float or
    timestamp (v2: YAML 1.1 booleans y/yes/on/n/no/off too; v3: only true/false)."""
    first = text[:1]
    if not text:
        return "null"
    if first in _HINT_M or first in "+-.0123456789":
        table = _RESOLVE_MAP_V3 if v3 else _RESOLVE_MAP_V2
        if text in table:
            return table[text]
        if first == ".":
            return "float" if _YAML_STYLE_FLOAT.match(text) else "str"
        if first in "+-0123456789":
            if _go_timestamp(text):
                return "timestamp"
            plain = text.replace("_", "")
            if _go_parse_int(plain):
                return "int"
            if _YAML_STYLE_FLOAT.match(plain):
                return "float"
            if plain.startswith(("0b", "-0b")) and _INT_DIGITS[2].match(plain.lstrip("-")[2:] or "x"):
                return "int"
    return "str"


def _go_float(value: float) -> str:
    """A float as kubectl's YAML shows it: json.Marshal writes an integral value without
    a fraction (go-yaml then reads it back as an int); anything else goes through
    strconv.FormatFloat(value, 'g', -1, 64)."""
    if math.isnan(value):
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    exp = len(digits) + int(exponent) - 1  # decimal exponent of the first digit
    if exp < -4 or exp >= 6:  # %e when shortest ('g' with precision -1 decides with 6)
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    elif exp >= 0:
        text = (
            digits[: exp + 1] + "." + digits[exp + 1 :]
            if len(digits) > exp + 1
            else digits + "0" * (exp + 1 - len(digits))
        )
    else:
        text = "0." + "0" * (-exp - 1) + digits
    return ("-" if sign else "") + text


def _go_key_less(a: str, b: str) -> bool:
    """go-yaml v2 keyList.Less for two string keys (sorter.go)."""
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            continue
        al, bl = ca.isalpha(), cb.isalpha()
        if al and bl:
            return ca < cb
        if al or bl:
            return bl
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and a[j].isdigit():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdigit():
            an = an * 10 + int(a[ai])
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdigit():
            bn = bn * 10 + int(b[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


_KEY_ORDER = functools.cmp_to_key(lambda a, b: -1 if _go_key_less(a, b) else (1 if _go_key_less(b, a) else 0))


def _prepared(value: object, sort_keys: bool) -> object:
    """A JSON-shaped copy (new containers, so no aliases) with keys in go-yaml order."""
    if isinstance(value, dict):
        keys = sorted((str(k) for k in value), key=_KEY_ORDER) if sort_keys else [str(k) for k in value]
        source = {str(k): v for k, v in value.items()}
        return {k: _prepared(source[k], sort_keys) for k in keys}
    if isinstance(value, (list, tuple)):
        return [_prepared(v, sort_keys) for v in value]
    return value


class _GoV2Dumper(_BaseDumper):  # type: ignore[misc]
    """PyYAML dumper following go-yaml v2's tag resolution and scalar styles."""

    def ignore_aliases(self, data: object) -> bool:
        return True

    def resolve(self, kind: type, value: object, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0] and isinstance(value, str):
            return f"tag:yaml.org,2002:{go_resolve(value)}"
        return str(super().resolve(kind, value, implicit))


def _represent_str(dumper: _GoV2Dumper, data: str) -> ScalarNode:
    if "\n" in data:
        style: str | None = "|"
    elif go_resolve(data) != "str" or _BASE60_FLOAT.match(data):
        style = '"'
    else:
        style = None
    return dumper.represent_scalar(_STR, data, style=style)


def _represent_go_plain(dumper: _GoV2Dumper, data: object) -> ScalarNode:
    if data is None:
        text = "null"
    elif isinstance(data, bool):
        text = "true" if data else "false"
    elif isinstance(data, float):
        text = _go_float(data)
    else:
        text = str(data)
    return dumper.represent_scalar(f"tag:yaml.org,2002:{go_resolve(text)}", text)


_GoV2Dumper.add_representer(str, _represent_str)
for _type in (bool, type(None), int, float):
    _GoV2Dumper.add_representer(_type, _represent_go_plain)


def dump(value: object, sort_keys: bool = True) -> str:
    """Serialise like sigs.k8s.io/yaml Marshal (see the module docstring)."""
    text = yaml.dump(
        _prepared(value, sort_keys),
        Dumper=_GoV2Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=80,
        indent=2,
    )
    if text.endswith("\n...\n"):  # PyYAML's end marker after a bare scalar; go-yaml writes none
        text = text[: -len("...\n")]
    return str(text)

"""One renderer for every read command: a table for people, json/yaml/csv for programs."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

import click

TABLE_FORMATS = ("table", "json", "yaml")
LIST_FORMATS = ("table", "json", "yaml", "csv")


F = TypeVar("F", bound=Callable[..., Any])


def output_option(formats: Sequence[str] = TABLE_FORMATS) -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(list(formats)),
        default="table",
        show_default=True,
        help="Output format; json/yaml keys are stable.",
    )


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)


ELLIPSIS = "\u2026"
GAP = "  "
# Cells up to this wide (names, subnets, ports, statuses) are never cut: only long free text (a
# finding, a fix, an error, labels) gives way. A table of short cells wider than the terminal
# overflows rather than losing what it is for.
MIN_COLUMN = 20


def terminal_width() -> int | None:
    """The width tables must fit: COLUMNS when set, else the terminal's; None when stdout is not a
    terminal (a file or a pipe keeps whole lines, like `ls` does)."""
    import os

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
    except (OSError, ValueError):
        return None


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def fit_widths(natural: Sequence[int], minimum: Sequence[int], width: int) -> list[int]:
    """Column widths that fit `width` (gaps included): the widest column gives way first, none
    below its minimum; when even the minimums do not fit, the minimums."""
    widths = list(natural)
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        others = [widths[i] for i in shrinkable if i != widest]
        # Down to the next widest column at once (not one character per pass): rows can be long.
        step = min(excess, widths[widest] - max([*others, minimum[widest]]) or 1)
        widths[widest] -= step
        excess -= step
    return widths


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def format_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    width: int | None = None,
    wrap: Collection[str] = (),
) -> str:
    """Aligned columns fitted to `width` (None: as wide as the cells): cells of the columns keyed in
    `wrap` continue on the next lines, others are cut with an ellipsis. `-o json` keeps the full text."""
    header = [title for title, _ in columns]
    body = [[_cell(row.get(key)) for _, key in columns] for row in rows]
    natural = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    widths = natural
    if width is not None:
        minimum = [min(natural[i], max(len(h), MIN_COLUMN)) for i, h in enumerate(header)]
        widths = fit_widths(natural, minimum, width)
    wrapped = {i for i, (_, key) in enumerate(columns) if key in wrap}
    lines = []
    for line in [header, *body]:
        cells = [
            _wrap(cell, widths[i]) if i in wrapped and len(cell) > widths[i] else [truncate(cell, widths[i])]
            for i, cell in enumerate(line)
        ]
        for n in range(max(len(c) for c in cells)):
            parts = [(c[n] if n < len(c) else "").ljust(widths[i]) for i, c in enumerate(cells)]
            lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def dump_yaml(data: Any) -> str:
    import yaml  # loaded only when asked for: it costs start-up time

    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)).rstrip("\n")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return json.dumps(dict(value), sort_keys=True)
    return str(value)


def dump_csv(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow([_csv_cell(row.get(k)) for k in keys])
    return buffer.getvalue().rstrip("\n")


def emit(
    data: Any,
    output: str,
    *,
    columns: Sequence[tuple[str, str]] | None = None,
    keys: Sequence[str] | None = None,
    empty: str = "No environments.",
    wrap: Collection[str] = (),
) -> None:
    """Print `data` (a dict or a list of dicts) in the chosen format; a table fits the terminal,
    and an empty list is said in words (`empty`)."""
    if output == "json":
        text = dump_json(data)
    elif output == "yaml":
        text = dump_yaml(data)
    elif output == "csv":
        rows = data if isinstance(data, list) else [data]
        text = dump_csv(rows, keys or (list(rows[0]) if rows else []))
    elif isinstance(data, list):
        assert columns is not None
        text = format_table(data, columns, width=terminal_width(), wrap=wrap) if data else empty
    else:
        text = format_mapping(data, width=terminal_width())
    sys.stdout.write(text + "\n")


def format_mapping(data: Mapping[str, Any], *, width: int | None = None) -> str:
    """`key  value` lines; a value too long for `width` is cut with an ellipsis."""
    key_width = max((len(k) for k in data), default=0)
    room = None if width is None else max(width - key_width - len(GAP), MIN_COLUMN)
    return "\n".join(
        f"{k.ljust(key_width)}{GAP}{_cell(v) if room is None else truncate(_cell(v), room)}" for k, v in data.items()
    )

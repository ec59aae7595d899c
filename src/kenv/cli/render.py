"""One renderer for every read command: a table for people, json/yaml/csv for programs."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Mapping, Sequence
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


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    header = [title for title, _ in columns]
    body = [[_cell(row.get(key)) for _, key in columns] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in [header, *body]]
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
) -> None:
    """Print `data` (a dict or a list of dicts) in the chosen format."""
    if output == "json":
        text = dump_json(data)
    elif output == "yaml":
        text = dump_yaml(data)
    elif output == "csv":
        rows = data if isinstance(data, list) else [data]
        text = dump_csv(rows, keys or (list(rows[0]) if rows else []))
    elif isinstance(data, list):
        assert columns is not None
        text = format_table(data, columns) if data else "No environments."
    else:
        text = format_mapping(data)
    sys.stdout.write(text + "\n")


def format_mapping(data: Mapping[str, Any]) -> str:
    width = max((len(k) for k in data), default=0)
    return "\n".join(f"{k.ljust(width)}  {_cell(v)}" for k, v in data.items())

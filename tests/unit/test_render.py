"""The CLI's table renderer: tables fitted to the terminal (cut with an ellipsis, or wrapped for
the columns that must be read in full), the width it fits, and empty lists said in words."""

from __future__ import annotations

import io
import json

import pytest

from kenv.cli import render
from kenv.cli.render import ELLIPSIS, emit, fit_widths, format_mapping, format_table, terminal_width

COLUMNS = [("NAME", "name"), ("NOTE", "note")]


def rows(count: int, note: str) -> list[dict[str, object]]:
    return [{"name": f"env{i:03}", "note": note} for i in range(count)]


def test_a_table_that_fits_is_left_as_it_is() -> None:
    table = format_table(rows(2, "short"), COLUMNS, width=80)
    assert table.splitlines() == ["NAME    NOTE", "env000  short", "env001  short"]
    assert table == format_table(rows(2, "short"), COLUMNS)


def test_a_long_cell_is_cut_with_an_ellipsis_to_the_width() -> None:
    lines = format_table(rows(3, "x" * 2000), COLUMNS, width=40).splitlines()
    assert max(len(line) for line in lines) == 40
    assert all(line.endswith(ELLIPSIS) for line in lines[1:])
    assert lines[1].startswith("env000  xxx")


def test_short_cells_are_never_cut_even_when_the_table_overflows() -> None:
    columns = [(f"C{i}", f"c{i}") for i in range(8)]
    row = {f"c{i}": "10.200.0.0/24" for i in range(8)}
    table = format_table([row], columns, width=60)
    assert table == format_table([row], columns), "subnets, ports and names stay whole"


def test_wrapped_columns_keep_every_word_on_following_lines() -> None:
    note = " ".join(f"word{i}" for i in range(60))
    lines = format_table(rows(1, note), COLUMNS, width=40, wrap=("note",)).splitlines()
    assert max(len(line) for line in lines) <= 40
    assert len(lines) > 3
    assert " ".join(line[8:] for line in lines[1:]).split() == note.split()
    assert lines[2].startswith(" " * 8), "a continuation line leaves the other columns empty"


def test_the_widest_column_gives_way_first_and_none_goes_below_its_minimum() -> None:
    assert fit_widths([10, 50, 30], [4, 6, 6], 60) == [10, 23, 23]
    assert fit_widths([10, 50], [8, 40], 20) == [8, 40], "minimums win over the width"


def test_a_mapping_is_cut_to_the_width() -> None:
    text = format_mapping({"name": "dev", "labels": {"team": "x" * 300}}, width=30)
    assert [len(line) for line in text.splitlines()] == [len("name    dev"), 30]


def test_width_comes_from_columns_then_the_terminal_and_pipes_are_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "93")
    assert terminal_width() == 93
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(render.sys, "stdout", io.StringIO())
    assert terminal_width() is None


def test_emit_fits_every_table_command_to_the_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    emit(rows(200, "n" * 500), "table", columns=COLUMNS)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 201 and max(len(line) for line in lines) == 50
    emit(rows(1, "n" * 500), "json")
    assert json.loads(capsys.readouterr().out)[0]["note"] == "n" * 500, "json keeps the full text"


def test_an_empty_list_is_said_in_the_command_s_own_words(capsys: pytest.CaptureFixture[str]) -> None:
    emit([], "table", columns=COLUMNS)
    emit([], "table", columns=COLUMNS, empty="No operations recorded.")
    emit([], "json", columns=COLUMNS, empty="No operations recorded.")
    assert capsys.readouterr().out == "No environments.\nNo operations recorded.\n[]\n"

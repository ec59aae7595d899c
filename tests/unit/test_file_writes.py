"""Files kenv writes: refused targets say why in one line, and no temporary file is ever left."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kenv.errors import InvalidInput, KenvError
from kenv.inventory.files import write_file


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_writes_atomically_with_the_mode_asked(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    assert write_file(target, "{}\n", mode=0o600) == target
    assert target.read_text() == "{}\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert leftovers(tmp_path) == []


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a directory"):
        write_file(tmp_path, "x")
    assert leftovers(tmp_path) == []
    assert [p for p in leftovers(tmp_path.parent) if p.endswith(".tmp")] == []


def test_an_existing_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("mine")
    with pytest.raises(InvalidInput, match="already exists") as caught:
        write_file(target, "theirs")
    assert "--force" in caught.value.one_line()
    assert target.read_text() == "mine"
    write_file(target, "theirs", force=True)
    assert target.read_text() == "theirs"
    assert leftovers(tmp_path) == []


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        write_file(tmp_path / "no" / "such" / "out.csv", "x")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("target", ["/proc/kenv-export.csv", "/sys/kernel/kenv-export.csv"])
def test_a_place_that_takes_no_files_is_invalid_input(target: str) -> None:
    with pytest.raises(InvalidInput, match="cannot write"):
        write_file(Path(target), "x")
    assert not Path(target).exists()


def test_a_failed_write_is_an_operation_failure_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(KenvError) as caught:
        write_file(tmp_path / "out.csv", "x")
    assert not isinstance(caught.value, InvalidInput)
    assert caught.value.exit_code == 1
    assert "No space left" in caught.value.one_line()
    assert list(tmp_path.iterdir()) == []

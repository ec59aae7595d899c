"""Tool versions are remembered per binary, so each kenv command does not ask them again."""

from __future__ import annotations

import os
from pathlib import Path

from kenv.runtime.process import Runner
from kenv.runtime.tools import detect_remembered


def fake_k3d(bin_dir: Path, version: str) -> Path:
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / "k3d"
    calls = bin_dir / "calls"
    tool.write_text(f'#!/bin/sh\necho asked >> "{calls}"\necho "k3d version {version}"\n')
    tool.chmod(0o755)
    return calls


def asked(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_a_supported_version_is_asked_once_per_binary(tmp_path: Path) -> None:
    calls = fake_k3d(tmp_path / "bin", "v5.8.3")
    runner = Runner(env={**os.environ, "PATH": str(tmp_path / "bin")})
    cache = tmp_path / "cache" / "tools.json"
    first = detect_remembered(runner, "k3d", cache)
    second = detect_remembered(runner, "k3d", cache)
    assert first.supported and second.supported and second.version == "v5.8.3"
    assert asked(calls) == 1
    # a new binary (another size and mtime) is asked again
    fake_k3d(tmp_path / "bin", "v5.9.0-rc1")
    os.utime(tmp_path / "bin" / "k3d", ns=(1, 1))
    assert detect_remembered(runner, "k3d", cache).version == "v5.9.0-rc1"
    assert asked(calls) == 2


def test_an_untested_version_is_never_remembered(tmp_path: Path) -> None:
    calls = fake_k3d(tmp_path / "bin", "v4.4.8")
    runner = Runner(env={**os.environ, "PATH": str(tmp_path / "bin")})
    cache = tmp_path / "tools.json"
    assert not detect_remembered(runner, "k3d", cache).supported
    assert not detect_remembered(runner, "k3d", cache).supported
    assert asked(calls) == 2 and not cache.exists()


def test_a_dry_run_writes_no_cache_and_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    fake_k3d(tmp_path / "bin", "v5.8.3")
    cache = tmp_path / "tools.json"
    dry = Runner(dry_run=True, env={**os.environ, "PATH": str(tmp_path / "bin")})
    assert detect_remembered(dry, "k3d", cache).supported and not cache.exists()
    cache.write_text("{not json")
    runner = Runner(env={**os.environ, "PATH": str(tmp_path / "bin")})
    assert detect_remembered(runner, "k3d", cache).supported
    assert '"k3d"' in cache.read_text()

"""Writing the rendered directory: all of it or nothing.

The files go to a temporary directory next to the target, which is renamed into place; an
existing directory is replaced only when empty or with --force (then wholly: a file an older
render had and this one has not must not linger and be applied). A crash leaves the target as it
was, plus at most a hidden `.NAME.*` directory.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from kenv.errors import InvalidInput, KenvError


def write_directory(files: dict[str, str], out: Path, *, force: bool = False) -> Path:
    """Write `files` (name -> text) as the directory `out`; returns its absolute path."""
    target = Path(os.path.abspath(out.expanduser()))
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"-o {out} is a file, not a directory: give a directory path")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InvalidInput(f"-o {out} is not empty: choose an empty or new directory, or use --force to replace it")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from exc
    old: Path | None = None
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
            os.chmod(staging / name, 0o644)
        os.chmod(staging, 0o755)  # noqa: S103 - manifests, readable by the GitOps tooling
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=parent))
            os.replace(target, old / target.name)
        os.replace(staging, target)
    except OSError as exc:
        if old is not None and (old / target.name).exists() and not target.exists():
            os.replace(old / target.name, target)
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise InvalidInput(f"cannot write {out}: {exc.strerror}") from exc
        raise KenvError(
            f"writing {out} failed: {exc.strerror or exc}", hint="free space or fix the disk, then retry"
        ) from exc
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target

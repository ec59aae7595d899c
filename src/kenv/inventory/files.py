"""Writing a file kenv produces (CSV export, backup; kubeconfigs and bundles can use it too):
atomic, never over an existing file without `force`, and never leaving a temporary file behind.

Every refusal is one line saying what is wrong with the target. A target the user named that
cannot hold a file (a directory, a missing or unwritable directory, /proc) is invalid input; a
write that fails for another reason (a full disk) is a failed operation.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from kenv.errors import InvalidInput, KenvError

# errnos that mean "this place cannot take a file", as opposed to a write that failed midway.
_BAD_PLACE = {
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "no such directory",
    errno.ENOTDIR: "a path component is not a directory",
    errno.EISDIR: "it is a directory",
    errno.EINVAL: "this file system does not take files",
    errno.EEXIST: "it already exists",
}


def _refuse(path: Path, reason: str, hint: str | None = "choose another path") -> InvalidInput:
    return InvalidInput(f"cannot write {path}: {reason}", hint=hint)


def check_target(path: Path, *, force: bool = False) -> Path:
    """The target's absolute path, or InvalidInput before anything is written."""
    target = Path(os.path.abspath(path.expanduser()))
    if target.is_dir():
        raise _refuse(path, "it is a directory", hint="give a file name inside it")
    if target.exists() or target.is_symlink():
        if not force:
            raise _refuse(path, "it already exists", hint="use --force to replace it, or choose another path")
        mode = target.stat().st_mode if target.exists() else stat.S_IFLNK
        if not stat.S_ISREG(mode):
            raise _refuse(path, "it is not a regular file", hint="choose another path")
    directory = target.parent
    if not directory.is_dir():
        raise _refuse(path, f"directory {directory} does not exist", hint="create it or choose another path")
    return target


def write_file(path: Path, data: str | bytes, *, force: bool = False, mode: int = 0o600) -> Path:
    """Write `data` to `path` atomically (a temporary file in the same directory, fsync, rename)
    with `mode`; an existing file is replaced only with force. Returns the absolute path."""
    target = check_target(path, force=force)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        if exc.errno == errno.ENOENT:  # the directory exists (checked above) but takes no new files
            raise _refuse(path, f"{target.parent} does not take new files") from exc
        raise _refuse(path, _BAD_PLACE.get(exc.errno or 0, exc.strerror or str(exc))) from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if not force and target.exists():
            # Someone created it meanwhile: still not ours to replace.
            raise _refuse(path, "it already exists", hint="use --force to replace it, or choose another path")
        os.replace(temp, target)
    except OSError as exc:
        if exc.errno in _BAD_PLACE:
            raise _refuse(path, _BAD_PLACE[exc.errno]) from exc
        raise KenvError(
            f"writing {path} failed: {exc.strerror or exc}", hint="free space or fix the disk, then retry"
        ) from exc
    finally:
        temp.unlink(missing_ok=True)
    return target

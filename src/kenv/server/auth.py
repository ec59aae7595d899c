"""The API's bearer token: 32 random bytes (URL-safe base64) in <data>/serve/token, mode 0600,
made on first start; compared in constant time."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from kenv.errors import InvalidInput
from kenv.inventory.files import write_file


def token_path(data_dir: Path) -> Path:
    return data_dir / "serve" / "token"


def read_token(path: Path) -> str:
    """The token the file holds; "" when there is none. Anything else in its place (a directory, a
    file kenv may not read) is one clear error, never a traceback."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(
            f"cannot read the API token {path}: {reason.lower()}",
            hint=f"remove {path}; kenv makes a new token in its place",
        ) from exc


def load_or_create_token(data_dir: Path) -> str:
    return read_token(token_path(data_dir)) or rotate_token(data_dir)


def rotate_token(data_dir: Path) -> str:
    """A new token replaces the old one at once (atomic rename): the old one stops working."""
    token = secrets.token_urlsafe(32)
    path = token_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_file(path, token + "\n", force=True, mode=0o600)
    return token


def bearer_matches(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared with hmac.compare_digest so the time taken does not
    say how much of a guess was right."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


class TokenSource:
    """The token as the file holds it now: `kenv serve token --rotate` takes effect on the running
    server at once (the file is checked by inode and mtime, re-read only when it changed)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = token_path(data_dir)
        self._token = load_or_create_token(data_dir)
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return info.st_ino, info.st_mtime_ns

    def current(self) -> str:
        stamp = self._stat()
        if stamp != self._stamp:
            try:
                self._token = read_token(self.path)  # removed: "", nothing matches until a new one is made
            except InvalidInput:
                self._token = ""  # replaced by something that is not a token: nothing matches
            self._stamp = stamp
        return self._token

    def matches(self, header: str | None) -> bool:
        token = self.current()
        return bool(token) and bearer_matches(header, token)

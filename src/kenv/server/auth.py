"""The API's bearer token: 32 random bytes (URL-safe base64) in <data>/serve/token, mode 0600,
made on first start; compared in constant time."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from kenv.inventory.files import write_file


def token_path(data_dir: Path) -> Path:
    return data_dir / "serve" / "token"


def load_or_create_token(data_dir: Path) -> str:
    path = token_path(data_dir)
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        token = ""
    return token or rotate_token(data_dir)


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
                self._token = self.path.read_text().strip()
            except FileNotFoundError:
                self._token = ""  # removed: nothing matches until a new one is made
            self._stamp = stamp
        return self._token

    def matches(self, header: str | None) -> bool:
        token = self.current()
        return bool(token) and bearer_matches(header, token)

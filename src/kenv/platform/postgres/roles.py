"""The inventory's own login in the platform's PostgreSQL: a role and a database named for it,
as SQL text (pure).

The password never reaches the server: kenv sends the SCRAM-SHA-256 verifier it computes, as
`psql`'s `\\password` does, so no statement log, `pg_stat_activity` or error message can show it.
The verifier's form is PostgreSQL's own (src/common/scram-common.c `scram_build_secret`,
RFC 5802/7677): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64, with the
server's defaults of 4096 iterations and a 16-byte salt. Passwords kenv makes are ASCII
(`secrets.token_urlsafe`), which SASLprep leaves as they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

ITERATIONS = 4096  # SCRAM_SHA_256_DEFAULT_ITERATIONS
SALT_BYTES = 16  # SCRAM_DEFAULT_SALT_LEN
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def scram_verifier(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    if not password.isascii() or not password.isprintable():
        raise ValueError("only printable ASCII passwords are supported (no SASLprep here)")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def identifier(name: str) -> str:
    """A role or database name kenv chooses: plain lower-case, so it needs no quoting."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain lower-case identifier")
    return name


def role_statement(role: str, verifier: str, *, exists: bool) -> str:
    """CREATE ROLE (or ALTER ROLE, to set the password kept locally again) with LOGIN only: no
    superuser, no CREATEDB, no CREATEROLE. Utility statements take no bind parameters, so the
    verifier is a literal; its alphabet (base64, `$`, `:`, digits) holds no quote or backslash."""
    if "'" in verifier or "\\" in verifier:
        raise ValueError("not a SCRAM verifier")
    verb = "ALTER" if exists else "CREATE"
    # An escape string with its colons as \x3a: the inventory's statements name parameters
    # `:name`, and a `:` after base64's `=` padding would read as one.
    literal = "E'" + verifier.replace(":", "\\x3a") + "'"
    return f"{verb} ROLE {identifier(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {literal}"


def database_statement(database: str, owner: str) -> str:
    return f"CREATE DATABASE {identifier(database)} OWNER {identifier(owner)}"


def pgpass_line(host: str, port: int, database: str, user: str, password: str) -> str:
    """One line of a libpq password file (`host:port:database:username:password`, libpq's
    "The Password File"): `:` and `\\` in a field are escaped with a backslash, which libpq's
    `passwordFromFile` (interfaces/libpq/fe-connect.c) matches and de-escapes."""

    def field(value: str) -> str:
        return value.replace("\\", "\\\\").replace(":", "\\:")

    return ":".join(field(v) for v in (host, str(port), database, user, password)) + "\n"


def pgpass_password(text: str) -> str | None:
    """The password of a password file's first entry (the file kenv writes has one)."""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields: list[str] = []
        current, escaped = "", False
        for char in line:
            if escaped:
                current, escaped = current + char, False
            elif char == "\\":
                escaped = True
            elif char == ":" and len(fields) < 4:
                fields.append(current)
                current = ""
            else:
                current += char
        fields.append(current)
        return fields[4] if len(fields) == 5 and fields[4] else None
    return None

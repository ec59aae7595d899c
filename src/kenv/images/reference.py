"""Container image references: parse and normalise by the distribution reference grammar.

Follows github.com/distribution/reference (regexp.go, reference.go, normalize.go, v0.6.0-22):
`ParseNormalizedNamed` for domain detection and the lowercase check, `Parse` for the grammar,
the 255-character path limit and the error kinds, go-digest for digest validation, and
`TagNameOnly` / `FamiliarString` for the two string forms.

    busybox:1.36                       -> docker.io/library/busybox:1.36
    rancher/k3s:v1.31.5-k3s1           -> docker.io/rancher/k3s:v1.31.5-k3s1
    index.docker.io/library/busybox    -> docker.io/library/busybox:latest
    localhost:5000/app@sha256:<64 hex> -> localhost:5000/app@sha256:<64 hex>

`Reference` holds what was written (`tag` is None when the input named no tag); `canonical`
and `familiar` add the default tag `latest` when there is neither tag nor digest, exactly where
`TagNameOnly` does, and keep a tag written beside a digest. Two spellings of one image have the
same `canonical` string: compare and deduplicate on it.

Deliberate differences from the Go package: sha384 and sha512 digests are accepted (Go accepts
them only when the program links those hashes; the package's own tests do not); a first
component taken for a domain that is not a valid host (`foo_bar.com/app`) is refused, where Go
returns a name with an empty domain; the familiar form keeps `docker.io/` when dropping it would
make the first path component read as a registry (`docker.io/localhost/x`, `docker.io/a.b/c`),
so it always parses back to the same image; and every error is one `InvalidReference` whose
`reason` names the Go error it stands for (`ErrNameIsIdentifier` for 64 hex digits, an error Go
formats without a name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kenv.errors import InvalidInput

__all__ = ["InvalidReference", "Reference", "looks_like_reference", "parse_reference"]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# regexp.go, spelled out once. Go's \w is ASCII, hence re.ASCII; fullmatch replaces ^...$.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_AND_PORT = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"\w[\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_REFERENCE_RE = re.compile(rf"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_TAG_RE = re.compile(_TAG, re.ASCII)
_DIGEST_RE = re.compile(_DIGEST, re.ASCII)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
_NUMBER_RE = re.compile(r"[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?")

# go-digest's registered algorithms and the length of their hex encoding (lowercase only).
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_ENCODED_RE = re.compile(r"[a-f0-9]+")

# YAML 1.1 scalars a discovery pass must never mistake for an image name.
_PLAIN_SCALARS = frozenset(
    ("true", "false", "yes", "no", "on", "off", "y", "n", "null", "none", "~", ".nan", ".inf", "-.inf", "+.inf")
)
_TEMPLATE_MARKERS = ("{{", "${", "%{")
_LONGEST_PLAUSIBLE = 1024

# reference.go's error values, by name.
_MESSAGES = {
    "ErrReferenceInvalidFormat": "invalid reference format",
    "ErrTagInvalidFormat": "invalid reference format: invalid tag format",
    "ErrDigestInvalidFormat": "invalid reference format: invalid digest format",
    "ErrNameContainsUppercase": "invalid reference format: repository name must be lowercase",
    "ErrNameEmpty": "invalid reference format: repository name must have at least one component",
    "ErrNameTooLong": (
        f"invalid reference format: repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
    ),
    "ErrNameIsIdentifier": ("invalid repository name: cannot specify 64-byte hexadecimal strings"),
}


class InvalidReference(InvalidInput):
    """A string that is not a container image reference; `reason` names the grammar's error."""

    def __init__(
        self,
        message: str,
        *,
        reason: str = "ErrReferenceInvalidFormat",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


def _invalid(reason: str, text: str, detail: str = "") -> InvalidReference:
    shown = text if len(text) <= 300 else text[:300] + "..."
    what = f"{_MESSAGES[reason]}{detail}: {shown!r}"
    return InvalidReference(what, reason=reason)


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised image reference; `tag` and `digest` as written (None when absent)."""

    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def canonical(self) -> str:
        """Fully qualified: `docker.io/library/busybox:1.36`, `:latest` when nothing was named."""
        return self.name + self._suffix()

    @property
    def familiar(self) -> str:
        """As Docker shows it: `busybox:1.36`, `rancher/k3s:v1.31.5-k3s1`, `ghcr.io/x/y:1`."""
        domain, path = self.domain, self.path
        if domain != DEFAULT_DOMAIN:
            return f"{domain}/{path}{self._suffix()}"
        if path.startswith(OFFICIAL_REPO_PREFIX):
            remainder = path[len(OFFICIAL_REPO_PREFIX) :]
            if "/" not in remainder:
                path = remainder
        first, slash, _ = path.partition("/")
        if slash and ("." in first or first == "localhost"):
            # Go would drop docker.io here too, and the result would name another registry.
            return f"{domain}/{path}{self._suffix()}"
        return path + self._suffix()

    def _suffix(self) -> str:
        tag = self.tag if self.tag is not None or self.digest is not None else DEFAULT_TAG
        return (f":{tag}" if tag is not None else "") + (f"@{self.digest}" if self.digest is not None else "")

    def __str__(self) -> str:
        return self.canonical


def _split_docker_domain(text: str) -> tuple[str, str]:
    """normalize.go splitDockerDomain: the domain ParseNormalizedNamed assumes, and the rest."""
    maybe_domain, slash, rest = text.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + text
    if maybe_domain == "localhost":
        domain, remainder = maybe_domain, rest
    elif maybe_domain == LEGACY_DEFAULT_DOMAIN:
        domain, remainder = DEFAULT_DOMAIN, rest
    elif "." in maybe_domain or ":" in maybe_domain or maybe_domain.lower() != maybe_domain:
        domain, remainder = maybe_domain, rest
    else:
        domain, remainder = DEFAULT_DOMAIN, text
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _diagnose(text: str, full: str) -> InvalidReference:
    """Why `full` (domain/remainder) does not match: uppercase, a bad tag, a bad digest, or else."""
    lowered = full.lower()
    if lowered != full and _REFERENCE_RE.fullmatch(lowered):
        return _invalid("ErrNameContainsUppercase", text)
    name_and_tag, at, digest = full.partition("@")
    if at and not _DIGEST_RE.fullmatch(digest) and _REFERENCE_RE.fullmatch(name_and_tag):
        return _invalid("ErrDigestInvalidFormat", text)
    last = name_and_tag.rfind("/")
    colon = name_and_tag.find(":", last + 1)
    tag = name_and_tag[colon + 1 :]
    if colon >= 0 and _REFERENCE_RE.fullmatch(name_and_tag[:colon]) and not _TAG_RE.fullmatch(tag):
        return _invalid("ErrTagInvalidFormat", text)
    return _invalid("ErrReferenceInvalidFormat", text)


def _check_digest(text: str, digest: str) -> None:
    """go-digest Parse + Validate: a registered algorithm and its exact lowercase hex length."""
    algorithm, _, encoded = digest.partition(":")
    expected = _DIGEST_HEX_LENGTH.get(algorithm)
    if expected is None:
        raise _invalid("ErrDigestInvalidFormat", text, f" (unsupported algorithm {algorithm!r})")
    if len(encoded) != expected:
        raise _invalid("ErrDigestInvalidFormat", text, f" ({algorithm} needs {expected} hex digits)")
    if not _ENCODED_RE.fullmatch(encoded):
        raise _invalid("ErrDigestInvalidFormat", text, f" ({algorithm} hex must be lowercase)")


def parse_reference(text: str) -> Reference:
    """Parse `text` as ParseNormalizedNamed does; raise InvalidReference saying what is wrong."""
    if not text:
        raise _invalid("ErrNameEmpty", text)
    if _IDENTIFIER_RE.fullmatch(text):
        raise _invalid("ErrNameIsIdentifier", text)
    split_domain, remainder = _split_docker_domain(text)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise _invalid("ErrNameContainsUppercase", text)
    full = f"{split_domain}/{remainder}"
    match = _REFERENCE_RE.fullmatch(full)
    if match is None:
        raise _diagnose(text, full)
    domain, path, tag, digest = match.groups()
    if domain is None:
        # Go keeps an empty domain here ("foo_bar.com/app" is all path); kenv needs a registry.
        detail = f" ({split_domain!r} is not a registry host)"
        raise _invalid("ErrReferenceInvalidFormat", text, detail)
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise _invalid("ErrNameTooLong", text)
    if digest is not None:
        _check_digest(text, digest)
    return Reference(domain=domain, path=path, tag=tag, digest=digest)


def looks_like_reference(text: str) -> bool:
    """A cheap pre-check for discovery: True only for a plausible, valid image reference.

    Refuses whitespace, template expressions (`{{`, `${`, `%{`), YAML booleans and nulls,
    numbers, anything over 1024 characters, and whatever `parse_reference` refuses.
    """
    if not text or len(text) > _LONGEST_PLAUSIBLE or text.lower() in _PLAIN_SCALARS:
        return False
    if any(marker in text for marker in _TEMPLATE_MARKERS) or _NUMBER_RE.fullmatch(text):
        return False
    if any(ch.isspace() for ch in text):
        return False
    try:
        parse_reference(text)
    except InvalidReference:
        return False
    return True

"""Find the images manifests name (issue 8 §2; ../shared/reference/images.md §2).

Pure: `discover_text` takes the text of one input (a file or stdin) and returns what it found;
`read_inputs` is the one small reader (files, directories, stdin) and never raises for one bad
file: it warns, naming the file, and goes on.

Tiers:
- `definite`: any string under an `image` key (so every `containers`, `initContainers` and
  `ephemeralContainers` entry wherever a pod spec appears, custom resources included), image
  volumes (`image.reference`), split maps (`registry`/`repository`/`tag`|`digest`, Helm values),
  and the same inside documents embedded in ConfigMap/Secret values and other multi-line strings
  (k3s `%{...}%` placeholders stripped first).
- `probable`: env vars named `RELATED_IMAGE_*`, `*_IMAGE`, `IMAGE_*`, and `--*image=` args; these
  must also contain `/`, `:` or `@`.

Every candidate is validated with `looks_like_reference` and `parse_reference`, and anything with
`{{`, `$` or whitespace is rejected. Entries are keyed by the canonical reference, so familiar and
canonical spellings collapse into one entry keeping every source. Documents are numbered from 1
in file order.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenv.errors import InvalidInput
from kenv.images.reference import InvalidReference, looks_like_reference, parse_reference

DEFINITE = "definite"
PROBABLE = "probable"
TIERS = (DEFINITE, PROBABLE)

MAX_FILE_BYTES = 50 * 1024 * 1024
SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"

PLACEHOLDER = re.compile(r"%\{[^}]*\}%")
DOCUMENT_SEPARATOR = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)
ENV_NAME = re.compile(r"^RELATED_IMAGE_|(?:^|_)IMAGE(?:_|$)", re.IGNORECASE)
ARG_IMAGE = re.compile(r"^--[\w-]*image[=\s](\S+)$", re.IGNORECASE | re.ASCII)
ARG_IMAGE_FLAG = re.compile(r"^--[\w-]*image$", re.IGNORECASE | re.ASCII)
# A document that names none of these cannot hold an image: it is not parsed at all.
WORTH_PARSING = re.compile(r"image|repository|Secret|IMAGE|Image")
SKIPPED_KEYS = frozenset({"metadata", "labels", "annotations"})
POD_SPEC_LISTS = ("containers", "initContainers", "ephemeralContainers")
MAX_EMBEDDING_DEPTH = 4


@dataclass(frozen=True)
class Source:
    """Where one image was named: `path` is a JSON-like path in the document; `>` steps into a
    document embedded in a string (`data.helperPod.yaml>spec.containers[0].image`)."""

    file: str
    document: int
    kind: str | None
    namespace: str | None
    name: str | None
    path: str
    as_written: str

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "document": self.document,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "path": self.path,
            "as_written": self.as_written,
        }


@dataclass
class Image:
    ref: str
    familiar: str
    tier: str
    sources: list[Source] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "familiar": self.familiar,
            "tier": self.tier,
            "sources": [s.to_json() for s in self.sources],
        }


@dataclass(frozen=True)
class InputWarning:
    file: str
    document: int | None
    message: str

    def one_line(self) -> str:
        where = self.file if self.document is None else f"{self.file}: document {self.document}"
        return f"{where}: {self.message}"


@dataclass
class Discovery:
    """Images found so far (by canonical reference, in the order first seen) and warnings."""

    images: dict[str, Image] = field(default_factory=dict)
    warnings: list[InputWarning] = field(default_factory=list)
    _seen: set[tuple[str, Source]] = field(default_factory=set, repr=False)

    def add(self, candidate: str, tier: str, source: Source) -> bool:
        reference = validate(candidate, tier)
        if reference is None:
            return False
        canonical, familiar = reference
        image = self.images.get(canonical)
        if image is None:
            self.images[canonical] = Image(canonical, familiar, tier, [source])
        else:
            if tier == DEFINITE:
                image.tier = DEFINITE
            if (canonical, source) not in self._seen:
                image.sources.append(source)
        self._seen.add((canonical, source))
        return True

    def sorted_images(self) -> list[Image]:
        return sorted(self.images.values(), key=lambda i: (TIERS.index(i.tier), i.ref))

    def find(self, text: str) -> Image | None:
        """The image `text` names, in any spelling; None when it was not found or is no reference."""
        reference = validate(text, DEFINITE)
        return None if reference is None else self.images.get(reference[0])

    def to_json(self) -> dict[str, Any]:
        return {"images": [i.to_json() for i in self.sorted_images()]}


def strip_placeholders(text: str) -> str:
    return PLACEHOLDER.sub("", text) if "%{" in text else text


def validate(candidate: str, tier: str) -> tuple[str, str] | None:
    """(canonical, familiar) when `candidate` is an image reference worth reporting, else None."""
    text = strip_placeholders(candidate).strip()
    if not text or "{{" in text or "$" in text or any(c.isspace() for c in text):
        return None
    if tier == PROBABLE and not any(c in text for c in "/:@"):
        return None
    if not looks_like_reference(text):
        return None
    try:
        reference = parse_reference(text)
    except InvalidReference:
        return None
    return reference.canonical, reference.familiar


def _scalar(value: Any) -> str | None:
    """A tag or a digest as written: strings, and integers (`tag: 16` in Helm values)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return None


def split_map_reference(node: Mapping[str, Any]) -> str | None:
    """`{registry?, repository, tag|digest}` joined into one reference; None when incomplete (an
    empty tag in Helm values means "the chart's appVersion", which this cannot know)."""
    repository = node.get("repository")
    if not isinstance(repository, str) or not repository:
        return None
    tag = _scalar(node.get("tag")) or ""
    digest = _scalar(node.get("digest")) or ""
    if not tag and not digest:
        return None
    registry = node.get("registry")
    text = f"{registry.rstrip('/')}/{repository}" if isinstance(registry, str) and registry else repository
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    return text


class _Walker:
    def __init__(self, discovery: Discovery, file: str, document: int) -> None:
        self.discovery = discovery
        self.file = file
        self.document = document
        self.kind: str | None = None
        self.namespace: str | None = None
        self.name: str | None = None

    def object(self, node: Any, path: str, depth: int = 0) -> None:
        """A top-level object (or an item of a `List`): its identity names every source in it."""
        if isinstance(node, Mapping):
            items = node.get("items")
            kind = node.get("kind")
            if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
                for i, item in enumerate(items):
                    self.object(item, f"{path}items[{i}].", depth)
                return
            if depth == 0:
                metadata = node.get("metadata")
                metadata = metadata if isinstance(metadata, Mapping) else {}
                self.kind = kind if isinstance(kind, str) else None
                self.namespace = _str_or_none(metadata.get("namespace"))
                self.name = _str_or_none(metadata.get("name"))
        self.walk(node, path.rstrip("."), depth, secret=self.kind == "Secret")

    def source(self, path: str, as_written: str) -> Source:
        return Source(self.file, self.document, self.kind, self.namespace, self.name, path, as_written)

    def found(self, value: str, tier: str, path: str) -> None:
        self.discovery.add(value, tier, self.source(path, value))

    def walk(self, node: Any, path: str, depth: int, secret: bool = False) -> None:
        if isinstance(node, Mapping):
            self.mapping(node, path, depth, secret)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                self.walk(item, f"{path}[{i}]", depth)
        elif isinstance(node, str) and "\n" in node:
            self.embedded(node, path, depth)

    def mapping(self, node: Mapping[str, Any], path: str, depth: int, secret: bool) -> None:
        joined = split_map_reference(node)
        if joined is not None:
            self.found(joined, DEFINITE, path or ".")
        for key, value in node.items():
            if not isinstance(key, str) or key in SKIPPED_KEYS:
                continue
            child = f"{path}.{key}" if path and not path.endswith(">") else f"{path}{key}"
            if key == "image":
                if isinstance(value, str):
                    self.found(value, DEFINITE, child)
                    continue
                if isinstance(value, Mapping) and isinstance(value.get("reference"), str):
                    self.found(value["reference"], DEFINITE, f"{child}.reference")
            elif key == "env" and isinstance(value, list):
                self.env(value, child)
            elif key in ("args", "command") and isinstance(value, list):
                self.args(value, child)
            elif secret and key == "data" and isinstance(value, Mapping):
                self.secret_data(value, child, depth)
                continue
            self.walk(value, child, depth)

    def env(self, entries: list[Any], path: str) -> None:
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            name, value = entry.get("name"), entry.get("value")
            if isinstance(name, str) and isinstance(value, str) and ENV_NAME.search(name):
                self.found(value, PROBABLE, f"{path}[{i}].value")

    def args(self, entries: list[Any], path: str) -> None:
        for i, entry in enumerate(entries):
            if not isinstance(entry, str):
                continue
            match = ARG_IMAGE.match(entry)
            if match:
                self.found(match.group(1), PROBABLE, f"{path}[{i}]")
            elif ARG_IMAGE_FLAG.match(entry) and i + 1 < len(entries) and isinstance(entries[i + 1], str):
                self.found(entries[i + 1], PROBABLE, f"{path}[{i + 1}]")

    def secret_data(self, data: Mapping[str, Any], path: str, depth: int) -> None:
        for key, value in data.items():
            if not isinstance(value, str):
                continue
            try:
                text = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            if "\n" in text:
                self.embedded(text, f"{path}.{key}", depth)

    def embedded(self, text: str, path: str, depth: int) -> None:
        if depth >= MAX_EMBEDDING_DEPTH or not WORTH_PARSING.search(text):
            return
        for document in _load_all_quietly(text):
            if isinstance(document, Mapping | list):
                self.walk(document, f"{path}>", depth + 1)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_all_quietly(text: str) -> list[Any]:
    """The documents of an embedded string, or none when it is not YAML/JSON (a script, a note)."""
    import yaml

    for attempt in (text, strip_placeholders(text)) if "%{" in text else (text,):
        try:
            return list(yaml.load_all(attempt, Loader=_loader()))
        except (yaml.YAMLError, ValueError, RecursionError):
            continue
    return []


def split_documents(text: str) -> list[str]:
    """The documents of a YAML stream, split on `---` lines so that one broken document does not
    hide the ones after it (`yaml.safe_load_all` stops at the first error)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return [text]
    parts = DOCUMENT_SEPARATOR.split(text)
    # A stream that starts with `---` has an empty first part: it is not a document.
    if parts and not parts[0].strip() and DOCUMENT_SEPARATOR.match(text.lstrip("\n")):
        parts = parts[1:]
    return parts


def _parse_document(chunk: str) -> Any:
    """One document: JSON when it looks like JSON, else YAML; a document that fails only because
    of k3s `%{...}%` placeholders (unquoted, they are not YAML) is read with them stripped."""
    import yaml

    stripped = chunk.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(chunk)
        except ValueError:
            pass
    try:
        return yaml.load(chunk, Loader=_loader())  # noqa: S506 - CSafeLoader or SafeLoader
    except yaml.YAMLError:
        if "%{" not in chunk:
            raise
        return yaml.load(strip_placeholders(chunk), Loader=_loader())  # noqa: S506 - as above


def discover_text(text: str, file: str, discovery: Discovery | None = None) -> Discovery:
    """Add what `text` (one file or stdin, named `file` in sources and warnings) names."""
    import yaml

    discovery = discovery if discovery is not None else Discovery()
    for number, chunk in enumerate(split_documents(text), start=1):
        if not chunk.strip() or not WORTH_PARSING.search(chunk):
            continue
        try:
            document = _parse_document(chunk)
        except yaml.YAMLError as exc:
            problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1} of the document)" if mark is not None else ""
            discovery.warnings.append(InputWarning(file, number, f"not valid YAML: {problem}{where}; skipped"))
            continue
        except (ValueError, RecursionError) as exc:
            discovery.warnings.append(InputWarning(file, number, f"cannot be read: {exc}; skipped"))
            continue
        if isinstance(document, Mapping | list):
            _Walker(discovery, file, number).object(document, "")
    return discovery


def discover_documents(documents: Iterable[Any], file: str, discovery: Discovery | None = None) -> Discovery:
    """Add what already parsed documents name (numbered from 1)."""
    discovery = discovery if discovery is not None else Discovery()
    for number, document in enumerate(documents, start=1):
        if isinstance(document, Mapping | list):
            _Walker(discovery, file, number).object(document, "")
    return discovery


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files to read, in the order given (directories: their *.yaml, *.yml, *.json, recursively and
    sorted); a path that does not exist is invalid input, before anything is read."""
    files: list[str] = []
    for name in paths:
        if name == STDIN:
            files.append(STDIN)
            continue
        path = Path(name)
        if not path.exists():
            raise InvalidInput(f"{name}: no such file or directory", hint="give manifest files, directories or -")
        if path.is_dir():
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.suffix.lower() in SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.parts[len(path.parts) :])
            )
            files.extend(found)
        else:
            files.append(name)
    return files


def read_text(name: str, data: bytes, discovery: Discovery) -> str | None:
    """The text of one input, or None (with a warning) when it is binary or not UTF-8."""
    if b"\0" in data[:8192]:
        discovery.warnings.append(InputWarning(name, None, "a binary file, not a manifest; skipped"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        discovery.warnings.append(InputWarning(name, None, f"not UTF-8 text (byte {exc.start}); skipped"))
        return None


def read_inputs(paths: Sequence[str], stdin: Any = None, discovery: Discovery | None = None) -> Discovery:
    """Discover over files, directories and `-` (stdin, a binary stream). One unreadable, binary or
    oversized file is a warning naming it; the others are still read."""
    discovery = discovery if discovery is not None else Discovery()
    for name in expand_paths(paths):
        for label, data in _read_one(name, stdin, discovery):
            text = read_text(label, data, discovery)
            if text is not None:
                discover_text(text, label, discovery)
    return discovery


def _read_one(name: str, stdin: Any, discovery: Discovery) -> Iterator[tuple[str, bytes]]:
    if name == STDIN:
        data = stdin.read(MAX_FILE_BYTES + 1) if stdin is not None else b""
        if len(data) > MAX_FILE_BYTES:
            discovery.warnings.append(InputWarning("<stdin>", None, f"larger than {MAX_FILE_BYTES >> 20} MB; skipped"))
            return
        yield "<stdin>", data
        return
    try:
        size = os.stat(name).st_size
        if size > MAX_FILE_BYTES:
            discovery.warnings.append(
                InputWarning(name, None, f"{size >> 20} MB, larger than {MAX_FILE_BYTES >> 20} MB; skipped")
            )
            return
        with open(name, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        discovery.warnings.append(InputWarning(name, None, f"cannot be read: {exc.strerror or exc}; skipped"))
        return
    yield name, data

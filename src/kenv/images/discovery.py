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
- `probable`: env vars named `RELATED_IMAGE_*`, `*_IMAGE`, `IMAGE_*`, and `--*image=` / `-*image REF`
  args (Go flags take one dash or two); these must also contain `/`, `:` or `@`.

A CustomResourceDefinition is a schema, not a workload: only its schema `default` values are read
(a string default of a property named `image`, and whatever a structured default holds); its
descriptions are prose. `pull_always` lists the containers kubelet pulls on every start.

Speed: `worth_parsing` keeps documents that cannot report anything out of the YAML parser (no
`image`/`repository` in any case, no placeholder or escape; Secrets whose base64 hides nothing;
CRDs whose defaults are all plain non-reference scalars) — conservative by construction, checked
against parsing everything in tests/unit/test_image_discovery.py. libyaml's CSafeLoader is used
when PyYAML has it.

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
from functools import lru_cache
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
# Go's flag package takes `-x` and `--x` alike (Tekton: "-entrypoint-image", "<ref>").
ARG_IMAGE = re.compile(r"^--?[\w-]*image[=\s](\S+)$", re.IGNORECASE | re.ASCII)
ARG_IMAGE_FLAG = re.compile(r"^--?[\w-]*image$", re.IGNORECASE | re.ASCII)
# What the walker can report needs one of these in the text (see `worth_parsing`): the `image` key
# (pod specs, image volumes, `--*image` args, *IMAGE* env names: any case), the `repository` key of
# a split map, a k3s placeholder (stripped before a second parse) or a YAML/JSON escape that can
# spell a letter or join two lines inside a quoted string.
TRIGGER = re.compile(r"image|repository|%\{|\\[xuU\r\n]", re.IGNORECASE)
ESCAPE = re.compile(r"\\[xuU\r\n]")
# A top-level `kind:` line of a block-style document (column 0: nothing nested starts there).
TOP_LEVEL_KIND = re.compile(r"""^["']?kind["']?[ \t]*:[ \t]*["']?([\w.-]*)["']?[ \t]*(?:#.*)?$""", re.MULTILINE)
CRD_API_VERSION = re.compile(r"""^["']?apiVersion["']?[ \t]*:[ \t]*["']?apiextensions\.k8s\.io/""", re.MULTILINE)
DEFAULT_KEY = re.compile(r"""default["']?[ \t]*:([^\n]*)""")
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{4,}={0,2}")
NEXT_LINE = re.compile(r"\n[ \t]*(\S[^\n]*)")
# Keys a line scan cannot read: explicit (`? key`) or an alias (`*anchor :`).
EXPLICIT_KEY = re.compile(r"^[ \t-]*\?(?:[ \t]|$)", re.MULTILINE)
ALIAS_KEY = re.compile(r"\*[^\s,\[\]{}]+[ \t]*:")
CRD_KIND = "CustomResourceDefinition"
SKIPPED_KEYS = frozenset({"metadata", "labels", "annotations"})
POD_SPEC_LISTS = ("containers", "initContainers", "ephemeralContainers")
# Keys the walker treats specially; every other key is only descended into.
SPECIAL_KEYS = frozenset({"image", "env", "args", "command", "data", *POD_SPEC_LISTS, *SKIPPED_KEYS})
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
    # Containers kubelet pulls on every start whatever the node holds (see `pulls_always`):
    # (canonical reference, where), in the order found. A side-loaded image does not help them.
    pull_always: list[tuple[str, Source]] = field(default_factory=list)
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


def _top_level_kind(chunk: str) -> str | None:
    """The kind of a block-style document read from its text, or None when that is not certain
    (JSON or flow style, no `kind:` line, or more than one)."""
    if chunk.lstrip().startswith(("{", "[")):
        return None
    kinds = TOP_LEVEL_KIND.findall(chunk)
    return kinds[0] if len(kinds) == 1 else None


def _crd_may_name_images(chunk: str) -> bool:
    """In a CustomResourceDefinition the walker reads only schema `default` values (the rest is
    schema and prose). A default can name an image only if it is a structure (`{`, `[`, a block,
    an anchor, alias, tag or block scalar) or a string that is itself a reference; such a string
    has no `,` `}` `]` `#` or blank in it, so the text up to the first of those is the whole value."""
    if ESCAPE.search(chunk):
        return True
    if ("?" in chunk and EXPLICIT_KEY.search(chunk)) or ("*" in chunk and ALIAS_KEY.search(chunk)):
        return True
    for match in DEFAULT_KEY.finditer(chunk):
        rest = match.group(1).strip()
        if not rest:
            # The value starts on a later line: a block mapping or sequence, or a plain scalar
            # (or, in prose, the words after a wrapped "(default:").
            following = NEXT_LINE.search(chunk, match.end())
            rest = following.group(1).strip() if following else ""
            if not rest or rest[0] in "-#?" or re.search(r":(?:\s|$)", rest):
                return True
        if rest[0] in "{[&*!|>":
            return True
        value = re.split(r"[,}\]#\s]", rest, maxsplit=1)[0].strip("'\"")
        if value and validate(value, DEFINITE) is not None:
            return True
    return False


def _secret_may_name_images(chunk: str) -> bool:
    """A Secret whose text names nothing can still hide a manifest in a base64 `data` value: the
    walker decodes a value only when it is one unbroken base64 token, so decoding every such run
    of the text and looking for a trigger in it finds whatever the walker could."""
    for match in BASE64_RUN.finditer(chunk):
        token = match.group(0)
        if len(token) % 4:
            continue
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if "\n" in decoded and (TRIGGER.search(decoded) or "Secret" in decoded):
            return True
    return False


def worth_parsing(chunk: str) -> bool:
    """False only when parsing `chunk` (one document) cannot report anything: a cheap pre-filter
    that keeps most of a large input out of the YAML parser. Conservative by construction: every
    report of the walker needs a `TRIGGER` in the text, or a Secret's base64 value decoding to one;
    CustomResourceDefinitions are read only for their schema defaults."""
    # `in` first: a substring test is many times faster than the case-blind expression.
    if "image" in chunk or "repository" in chunk or TRIGGER.search(chunk):
        if CRD_KIND in chunk and _top_level_kind(chunk) == CRD_KIND and CRD_API_VERSION.search(chunk):
            return _crd_may_name_images(chunk)
        return True
    if "Secret" in chunk:
        return _secret_may_name_images(chunk)
    return False


@lru_cache(maxsize=8192)
def validate(candidate: str, tier: str) -> tuple[str, str] | None:
    """(canonical, familiar) when `candidate` is an image reference worth reporting, else None.
    Cached: manifests name the same few images over and over."""
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


def pulls_always(image: str, policy: Any) -> bool:
    """Whether kubelet pulls `image` on every container start: `imagePullPolicy: Always`, or no
    policy with the tag `latest` or no tag and no digest (the API server then defaults the policy
    to Always: kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Container, which takes the tag
    from parsers.ParseImageName, `latest` when neither tag nor digest is written; a digest alone
    defaults to IfNotPresent)."""
    if isinstance(policy, str) and policy:
        return policy == "Always"
    try:
        reference = parse_reference(strip_placeholders(image).strip())
    except InvalidReference:
        return False
    if reference.tag is None:
        return reference.digest is None
    return reference.tag == "latest"


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


# A JSON-like path, built only when something is found: (parent, key) for a mapping key, (parent,
# index) for a list item, (parent, EMBEDDED) for a step into a document embedded in a string.
PathLink = tuple[Any, "str | int"] | None
EMBEDDED = -1


def render_path(link: PathLink) -> str:
    steps: list[str | int] = []
    while link is not None:
        link, step = link
        steps.append(step)
    out: list[str] = []
    after_embedding = True
    for step in reversed(steps):
        if isinstance(step, str):
            out.append(step if after_embedding else f".{step}")
            after_embedding = False
        elif step == EMBEDDED:
            out.append(">")
            after_embedding = True
        else:
            out.append(f"[{step}]")
            after_embedding = False
    return "".join(out)


def _embeddable(value: str) -> bool:
    """A multi-line string, or JSON on one line (a ConfigMap value): maybe a document."""
    return "\n" in value or (value.startswith(("{", "[")) and value.endswith(("}", "]")))


class _Walker:
    def __init__(self, discovery: Discovery, file: str, document: int) -> None:
        self.discovery = discovery
        self.file = file
        self.document = document
        self.kind: str | None = None
        self.namespace: str | None = None
        self.name: str | None = None

    def object(self, node: Any, path: PathLink = None, depth: int = 0) -> None:
        """A top-level object (or an item of a `List`): its identity names every source in it."""
        if isinstance(node, Mapping):
            items = node.get("items")
            kind = node.get("kind")
            if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
                for i, item in enumerate(items):
                    self.object(item, ((path, "items"), i), depth)
                return
            if depth == 0:
                metadata = node.get("metadata")
                metadata = metadata if isinstance(metadata, Mapping) else {}
                self.kind = kind if isinstance(kind, str) else None
                self.namespace = _str_or_none(metadata.get("namespace"))
                self.name = _str_or_none(metadata.get("name"))
                if self.kind == CRD_KIND:
                    self.schema_defaults(node.get("spec"), (path, "spec"))
                    return
        self.walk(node, path, depth, secret=self.kind == "Secret")

    def source(self, path: PathLink, as_written: str) -> Source:
        where = render_path(path) or "."
        return Source(self.file, self.document, self.kind, self.namespace, self.name, where, as_written)

    def found(self, value: str, tier: str, path: PathLink) -> None:
        self.discovery.add(value, tier, self.source(path, value))

    def walk(self, node: Any, path: PathLink, depth: int, secret: bool = False) -> None:
        # Exact classes, not Mapping/Sequence: the parsers give dicts and lists, and an ABC check
        # per node costs more than the rest of the walk.
        cls = node.__class__
        if cls is dict:
            self.mapping(node, path, depth, secret)
        elif cls is list:
            for i, item in enumerate(node):
                kind = item.__class__
                if kind is dict or kind is list or (kind is str and _embeddable(item)):
                    self.walk(item, (path, i), depth)
        elif isinstance(node, Mapping):
            self.mapping(node, path, depth, secret)
        elif isinstance(node, list):
            self.walk(list(node), path, depth)
        elif isinstance(node, str) and _embeddable(node):
            self.embedded(node, path, depth)

    def mapping(self, node: Mapping[str, Any], path: PathLink, depth: int, secret: bool) -> None:
        if "repository" in node:
            joined = split_map_reference(node)
            if joined is not None:
                self.found(joined, DEFINITE, path)
        for key, value in node.items():
            if key not in SPECIAL_KEYS:
                kind = value.__class__
                if key.__class__ is not str:  # `1:` or `yes:` as a key: not a Kubernetes field
                    continue
                if kind is dict:
                    self.mapping(value, (path, key), depth, False)
                elif kind is list or (kind is str and _embeddable(value)):
                    self.walk(value, (path, key), depth)
                continue
            if key in SKIPPED_KEYS:
                continue
            if key == "image":
                if isinstance(value, str):
                    self.found(value, DEFINITE, (path, key))
                    continue
                if isinstance(value, Mapping) and isinstance(value.get("reference"), str):
                    self.found(value["reference"], DEFINITE, ((path, key), "reference"))
            elif isinstance(value, list):
                if key in POD_SPEC_LISTS:
                    self.pull_policies(value, (path, key))
                elif key == "env":
                    self.env(value, (path, key))
                elif key in ("args", "command"):
                    self.args(value, (path, key))
            elif secret and key == "data" and isinstance(value, Mapping):
                self.secret_data(value, (path, key), depth)
                continue
            if isinstance(value, Mapping | list) or (isinstance(value, str) and _embeddable(value)):
                self.walk(value, (path, key), depth)

    def pull_policies(self, containers: list[Any], path: PathLink) -> None:
        for i, container in enumerate(containers):
            if not isinstance(container, Mapping):
                continue
            image = container.get("image")
            if not isinstance(image, str) or not pulls_always(image, container.get("imagePullPolicy")):
                continue
            reference = validate(image, DEFINITE)
            if reference is not None:
                self.discovery.pull_always.append((reference[0], self.source(((path, i), "image"), image)))

    def schema_defaults(self, node: Any, path: PathLink, prop: str | None = None) -> None:
        """A CRD's schema is types and prose (descriptions are not searched: their examples are
        not images anyone runs); what the API server fills in is data: a string default of a
        property named `image`, and whatever a structured default holds."""
        if isinstance(node, list):
            for i, item in enumerate(node):
                self.schema_defaults(item, (path, i))
            return
        if not isinstance(node, Mapping):
            return
        for key, value in node.items():
            if not isinstance(key, str):
                continue
            child = (path, key)
            if key == "default":
                if prop == "image" and isinstance(value, str):
                    self.found(value, DEFINITE, child)
                elif isinstance(value, Mapping | list):
                    self.walk(value, child, 0)
            elif key == "properties" and isinstance(value, Mapping):
                for name, schema in value.items():
                    if isinstance(name, str):
                        self.schema_defaults(schema, (child, name), name)
            elif isinstance(value, Mapping | list):
                self.schema_defaults(value, child)

    def env(self, entries: list[Any], path: PathLink) -> None:
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            name, value = entry.get("name"), entry.get("value")
            if isinstance(name, str) and isinstance(value, str) and ENV_NAME.search(name):
                self.found(value, PROBABLE, ((path, i), "value"))

    def args(self, entries: list[Any], path: PathLink) -> None:
        for i, entry in enumerate(entries):
            if not isinstance(entry, str):
                continue
            match = ARG_IMAGE.match(entry)
            if match:
                self.found(match.group(1), PROBABLE, (path, i))
            elif ARG_IMAGE_FLAG.match(entry) and i + 1 < len(entries) and isinstance(entries[i + 1], str):
                self.found(entries[i + 1], PROBABLE, (path, i + 1))

    def secret_data(self, data: Mapping[str, Any], path: PathLink, depth: int) -> None:
        for key, value in data.items():
            if not isinstance(value, str):
                continue
            try:
                text = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            if "\n" in text:
                self.embedded(text, (path, key), depth)

    def embedded(self, text: str, path: PathLink, depth: int) -> None:
        if depth >= MAX_EMBEDDING_DEPTH or not TRIGGER.search(text):
            return
        for document in _load_all_quietly(text):
            if isinstance(document, Mapping | list):
                self.walk(document, (path, EMBEDDED), depth + 1)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_all_quietly(text: str) -> list[Any]:
    """The documents of an embedded string, or none when it is not YAML/JSON (a script, a note)."""
    import yaml

    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        # JSON (a dashboard, a config file) is read many times faster by json than by YAML.
        try:
            return [json.loads(text)]
        except (ValueError, RecursionError):
            pass
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


def discover_text(text: str, file: str, discovery: Discovery | None = None, first_document: int = 1) -> Discovery:
    """Add what `text` (one file or stdin, named `file` in sources and warnings) names; its
    documents are numbered from `first_document`."""
    import yaml

    discovery = discovery if discovery is not None else Discovery()
    for number, chunk in enumerate(split_documents(text), start=first_document):
        if not chunk.strip() or not worth_parsing(chunk):
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
            _Walker(discovery, file, number).object(document)
    return discovery


def discover_documents(documents: Iterable[Any], file: str, discovery: Discovery | None = None) -> Discovery:
    """Add what already parsed documents name (numbered from 1)."""
    discovery = discovery if discovery is not None else Discovery()
    for number, document in enumerate(documents, start=1):
        if isinstance(document, Mapping | list):
            _Walker(discovery, file, number).object(document)
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

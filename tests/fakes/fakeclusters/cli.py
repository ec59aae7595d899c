"""A small cobra/pflag look-alike command-line parser.

The real k3d, kind, minikube and kubectl are Go programs built on
spf13/cobra + spf13/pflag.  The fakes must accept exactly the same grammar
and reject everything else with the same error *text*, so this module
re-implements the parts of pflag's behaviour that matter:

* ``--flag value``, ``--flag=value``, ``-f value``, ``-fvalue``, ``-f=value``
* boolean flags take no separate value, but accept ``--flag=false``
* repeatable flags (StringArray: one value per occurrence; StringSlice:
  comma separated and repeatable)
* interspersed positional arguments and the ``--`` terminator
* pflag's error strings ("unknown flag: --foo", "flag needs an argument:
  'n' in -n", 'invalid argument "x" for "-s, --servers" flag: ...').

How an error is *presented* (prefix, exit code, usage hint) differs per
tool, so parse errors are raised as :class:`UsageError` and each tool
formats them itself.
"""

from __future__ import annotations

import re

BOOL = "bool"
STRING = "string"
INT = "int"
DURATION = "duration"
ARRAY = "stringArray"  # repeatable, value kept verbatim
SLICE = "strings"  # repeatable, values split on commas
COUNT = "count"


class UsageError(Exception):
    """A command-line error the real tool reports before doing any work."""

    def __init__(self, message: str, command: Command | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.command = command


class Flag:
    """One pflag flag definition."""

    __slots__ = ("default", "hidden", "kind", "name", "short", "usage")

    def __init__(
        self,
        name: str,
        kind: str = STRING,
        default: object = None,
        short: str | None = None,
        usage: str = "",
        hidden: bool = False,
    ) -> None:
        self.name = name
        self.short = short
        self.kind = kind
        if default is None:
            default = {BOOL: False, INT: 0, ARRAY: [], SLICE: [], COUNT: 0, DURATION: 0.0}.get(kind, "")
        self.default = default
        self.usage = usage
        self.hidden = hidden

    def label(self) -> str:
        """Flag name as pflag prints it in "invalid argument" errors."""
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


class Command:
    """A cobra command: flags, persistent flags, sub-commands."""

    def __init__(
        self,
        name: str,
        flags: list[Flag] | None = None,
        persistent: list[Flag] | None = None,
        subcommands: list[Command] | None = None,
        aliases: tuple[str, ...] = (),
        use: str = "",
        short: str = "",
        hidden: bool = False,
    ) -> None:
        self.name = name
        self.flags = list(flags or [])
        self.persistent = list(persistent or [])
        self.subcommands = list(subcommands or [])
        self.aliases = aliases
        self.use = use or name
        self.short = short
        self.hidden = hidden
        self.parent: Command | None = None
        for sub in self.subcommands:
            sub.parent = self

    # -- tree helpers -----------------------------------------------------
    def path(self) -> str:
        names = []
        cmd: Command | None = self
        while cmd is not None:
            names.append(cmd.name)
            cmd = cmd.parent
        return " ".join(reversed(names))

    def find_sub(self, token: str) -> Command | None:
        for sub in self.subcommands:
            if token == sub.name or token in sub.aliases:
                return sub
        return None

    def all_flags(self) -> list[Flag]:
        """Local flags plus persistent flags of this command and ancestors."""
        result = list(self.flags) + list(self.persistent)
        cmd = self.parent
        while cmd is not None:
            result.extend(cmd.persistent)
            cmd = cmd.parent
        if not any(f.name == "help" for f in result):
            result.append(Flag("help", BOOL, short="h", usage=f"help for {self.name}"))
        return result

    def help_text(self) -> str:
        """A cobra-like usage text (close enough for humans, not parsed)."""
        lines = ["Usage:", f"  {self._use_line()}"]
        visible_subs = [s for s in self.subcommands if not s.hidden]
        if visible_subs:
            lines += ["", "Available Commands:"]
            width = max(len(s.name) for s in visible_subs) + 2
            lines += [f"  {s.name.ljust(width)}{s.short}" for s in visible_subs]
        local = [f for f in self.flags + self.persistent if not f.hidden]
        if local:
            lines += ["", "Flags:", *_flag_lines(local)]
        inherited: list[Flag] = []
        cmd = self.parent
        while cmd is not None:
            inherited.extend(f for f in cmd.persistent if not f.hidden)
            cmd = cmd.parent
        if inherited:
            lines += ["", "Global Flags:", *_flag_lines(inherited)]
        return "\n".join(lines) + "\n"

    def _use_line(self) -> str:
        prefix = self.parent.path() + " " if self.parent else ""
        line = prefix + self.use
        if self.flags or self.persistent:
            line += " [flags]"
        return line


def _flag_lines(flags: list[Flag]) -> list[str]:
    lines = []
    for f in flags:
        head = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
        if f.kind != BOOL:
            head += f" {f.kind}"
        lines.append(f"{head.ljust(40)} {f.usage}".rstrip())
    return lines


class Parsed:
    """Result of parsing: the selected command, its flag values and args."""

    def __init__(
        self,
        command: Command,
        values: dict[str, object],
        changed: set[str],
        args: list[str],
        dash_args: list[str] | None,
    ) -> None:
        self.command = command
        self.values = values
        self.changed = changed
        self.args = args
        # arguments after a literal "--" (None when there was no "--")
        self.dash_args = dash_args

    def __getitem__(self, name: str) -> object:
        return self.values[name]

    def get(self, name: str, default: object = None) -> object:
        return self.values.get(name, default)

    def is_set(self, name: str) -> bool:
        return name in self.changed

    def number(self, name: str) -> int:
        """An INT/COUNT flag's value."""
        value = self.values[name]
        assert isinstance(value, int)
        return value

    def seconds(self, name: str) -> float:
        """A DURATION flag's value in seconds."""
        value = self.values[name]
        assert isinstance(value, (int, float))
        return float(value)

    def strings(self, name: str) -> list[str]:
        """A repeatable (StringArray/StringSlice) flag's values."""
        value = self.values[name]
        assert isinstance(value, list)
        return [str(v) for v in value]


# --------------------------------------------------------------------------
# value conversion (error texts copied from Go's strconv / time packages)

_DURATION_RE = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """Parse a Go ``time.Duration`` string into seconds (raises ValueError)."""
    raw = text
    sign = 1.0
    if text[:1] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise ValueError(f'time: invalid duration "{raw}"')
    pos = 0
    total = 0.0
    while pos < len(text):
        match = _DURATION_RE.match(text, pos)
        if not match:
            if re.match(r"\d", text[pos:]) and not re.search(r"[a-zµμ]", text[pos:]):
                raise ValueError(f'time: missing unit in duration "{raw}"')
            raise ValueError(f'time: invalid duration "{raw}"')
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    return sign * total


def _parse_bool(text: str) -> bool:
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def _parse_int(text: str) -> int:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax')


def _convert(flag: Flag, text: str) -> object:
    try:
        if flag.kind == BOOL:
            return _parse_bool(text)
        if flag.kind in (INT, COUNT):
            return _parse_int(text)
        if flag.kind == DURATION:
            return parse_go_duration(text)
    except ValueError as exc:
        raise UsageError(f'invalid argument "{text}" for "{flag.label()}" flag: {exc}') from None
    return text


def _store(values: dict[str, object], flag: Flag, value: object, fresh: set[str]) -> None:
    previous = values[flag.name]
    if flag.kind in (ARRAY, SLICE):
        # pflag replaces the default on first use, then appends
        current = list(previous) if flag.name in fresh and isinstance(previous, list) else []
        if flag.kind == ARRAY:
            current.append(value)
        elif value != "":
            current.extend(str(value).split(","))
        values[flag.name] = current
    elif flag.kind == COUNT:
        values[flag.name] = (previous if isinstance(previous, int) else 0) + 1
    else:
        values[flag.name] = value
    fresh.add(flag.name)


# --------------------------------------------------------------------------


def _select_command(root: Command, argv: list[str]) -> tuple[Command, list[str]]:
    """Walk sub-command names like cobra's Find (flags may precede them)."""
    cmd = root
    remaining: list[str] = []
    descending = True  # cobra only looks at the first positional per level
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            remaining.extend(argv[i:])
            break
        if tok.startswith("-") and tok != "-":
            remaining.append(tok)
            flag = _lookup_for_skip(cmd, tok)
            if (
                flag is not None
                and flag.kind not in (BOOL, COUNT)
                and "=" not in tok
                and not _is_attached_short(tok)
                and i + 1 < len(argv)
            ):
                remaining.append(argv[i + 1])
                i += 1
            i += 1
            continue
        sub = cmd.find_sub(tok) if descending and cmd.subcommands else None
        if sub is not None:
            cmd = sub
        else:
            descending = False
            remaining.append(tok)
        i += 1
    return cmd, remaining


def _is_attached_short(tok: str) -> bool:
    return not tok.startswith("--") and len(tok) > 2


def _lookup_for_skip(cmd: Command, tok: str) -> Flag | None:
    flags = cmd.all_flags()
    if tok.startswith("--"):
        name = tok[2:].split("=", 1)[0]
        return next((f for f in flags if f.name == name), None)
    short = tok[1:2]
    return next((f for f in flags if f.short == short), None)


def parse(root: Command, argv: list[str]) -> Parsed:
    """Select the sub-command and parse its flags; raise UsageError on bad input."""
    cmd, tokens = _select_command(root, argv)
    flags = cmd.all_flags()
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values: dict[str, object] = {f.name: (list(f.default) if isinstance(f.default, list) else f.default) for f in flags}
    changed: set[str] = set()
    args: list[str] = []
    dash_args: list[str] | None = None
    i = 0
    try:
        while i < len(tokens):
            tok = tokens[i]
            i += 1
            if tok == "--":
                dash_args = tokens[i:]
                args.extend(tokens[i:])
                break
            if tok.startswith("--"):
                body = tok[2:]
                name, eq, inline = body.partition("=")
                flag = by_name.get(name)
                if flag is None:
                    raise UsageError(f"unknown flag: --{name}")
                if eq:
                    _store(values, flag, _convert(flag, inline), changed)
                elif flag.kind == BOOL:
                    _store(values, flag, True, changed)
                elif flag.kind == COUNT:
                    _store(values, flag, 1, changed)
                else:
                    if i >= len(tokens):
                        raise UsageError(f"flag needs an argument: --{name}")
                    _store(values, flag, _convert(flag, tokens[i]), changed)
                    i += 1
            elif tok.startswith("-") and tok != "-":
                shorts = tok[1:]
                while shorts:
                    ch, shorts = shorts[0], shorts[1:]
                    flag = by_short.get(ch)
                    if flag is None:
                        raise UsageError(f"unknown shorthand flag: '{ch}' in {tok}")
                    if shorts.startswith("="):
                        _store(values, flag, _convert(flag, shorts[1:]), changed)
                        shorts = ""
                    elif flag.kind == BOOL:
                        _store(values, flag, True, changed)
                    elif flag.kind == COUNT:
                        _store(values, flag, 1, changed)
                    elif shorts:
                        _store(values, flag, _convert(flag, shorts), changed)
                        shorts = ""
                    else:
                        if i >= len(tokens):
                            raise UsageError(f"flag needs an argument: '{ch}' in {tok}")
                        _store(values, flag, _convert(flag, tokens[i]), changed)
                        i += 1
            else:
                args.append(tok)
    except UsageError as exc:
        exc.command = cmd
        raise
    return Parsed(cmd, values, changed, args, dash_args)

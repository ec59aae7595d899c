"""script.crlf: shell scripts with CRLF line ends in ConfigMaps, and the pods they make crash."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from kenv.doctor.findings import Finding, Fix, object_ref
from kenv.doctor.index import Index, mapping, meta, text
from kenv.doctor.rules import Rule
from kenv.doctor.rules._common import Container, configmap_names, containers, kubectl, log_text, matching_lines, q

RULE_ID = "script.crlf"
# What a script with `\r` line ends makes the shell or the kernel say (../shared/reference/doctor.md §2.9).
CRLF_SYMPTOM = re.compile(
    r"\$'\\r': command not found|: not found\r?$|env: '[^']*\\r'|bad interpreter|set: -\s*$|invalid option"
    r"|exec [^ ]+: no such file or directory"
)


def crlf_scripts(index: Index) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """(namespace, ConfigMap) → [(key, lines ending in CR)] for script-looking values; computed once."""
    if "crlf" in index.memo:
        found: dict[tuple[str, str], list[tuple[str, int]]] = index.memo["crlf"]
        return found
    found = {}
    for config in index.all("configmaps"):
        namespace, name, _ = meta(config)
        for key, value in mapping(config.get("data")).items():
            if not isinstance(value, str) or "\r\n" not in value:
                continue
            if key.endswith((".sh", ".bash")) or value.lstrip("\ufeff").startswith("#!"):
                found.setdefault((namespace, name), []).append((str(key), value.count("\r\n")))
    index.memo["crlf"] = found
    return found


def crashing(c: Container) -> bool:
    last = c.last_terminated or c.terminated
    exit_code = last.get("exitCode")
    return c.waiting_reason == "CrashLoopBackOff" or c.restarts > 0 or (isinstance(exit_code, int) and exit_code != 0)


def symptom_lines(index: Index, c: Container) -> list[str]:
    body = log_text(index, c) + "\n" + text(c.last_terminated.get("message")) + "\n" + text(c.terminated.get("message"))
    return matching_lines(body, CRLF_SYMPTOM, 2)


def crashing_users(index: Index, key: tuple[str, str]) -> list[Container]:
    return [c for c in containers(index) if c.namespace == key[0] and key[1] in configmap_names(c.pod) and crashing(c)]


def claimed(index: Index, c: Container) -> bool:
    """Whether this crashing container mounts a CRLF script (the crash is this rule's)."""
    scripts = crlf_scripts(index)
    return any((c.namespace, name) in scripts for name in configmap_names(c.pod))


def _exit(c: Container) -> Mapping[str, Any]:
    return c.last_terminated or c.terminated


def check(index: Index) -> Iterator[Finding]:
    for (namespace, name), keys in sorted(crlf_scripts(index).items()):
        users = crashing_users(index, (namespace, name))
        evidence = [f"data[{key!r}]: {count} line(s) end in \\r\\n" for key, count in keys]
        for c in users[:3]:
            evidence.append(
                f"pod {c.namespace}/{c.pod_name} container {c.name} mounts it and crashes: restarts {c.restarts}, "
                f"last exit {_exit(c).get('exitCode', '?')}"
            )
            evidence += [f"log: {line}" for line in symptom_lines(index, c)]
        k = kubectl(index)
        commands = (
            f"{k} -n {q(namespace)} get configmap {q(name)} -o json | sed 's/\\\\r\\\\n/\\\\n/g' | {k} replace -f -",
            "sed -i 's/\\r$//' <the script in your repository>; echo '*.sh text eol=lf' >> .gitattributes",
        )
        yield Finding(
            rule=RULE_ID,
            severity="error" if users else "warning",
            object=object_ref("ConfigMap", namespace, name),
            summary=f"ConfigMap {name} holds shell script(s) with CRLF line ends"
            + (f"; {len({c.pod_name for c in users})} pod(s) running them crash" if users else ""),
            evidence=tuple(evidence),
            fix=Fix(
                "convert the scripts to LF line ends (in the ConfigMap and at their source), then restart the pods",
                commands,
                "low",
                True,
            ),
            symptoms=tuple(dict.fromkeys(c.ref for c in users)),
        )


RULE = Rule(
    id=RULE_ID,
    severity="warning",
    summary=(
        "Shell scripts in ConfigMaps have CRLF line ends (`$'\\r': command not found`, exit 127); an error "
        "when a pod running them crashes."
    ),
    doc=(
        "A script saved on Windows keeps `\\r\\n`: the shell reads `$'\\r'` as a command, a shebang becomes "
        "`/bin/sh\\r` (`no such file or directory`). Found in ConfigMap values whose key ends in .sh or that "
        "start with `#!`, before anything runs; the crashing pods that mount them are its symptoms."
    ),
    bad='data: {install.sh: "#!/bin/sh\\r\\nset -e\\r\\n"}',
    good='data: {install.sh: "#!/bin/sh\\nset -e\\n"}   # and *.sh text eol=lf in .gitattributes',
    check=check,
)

"""Diagnosis: capture a snapshot of facts (side effects, through kenv.runtime), then judge it with
pure rules that each say what is wrong, why it matters and how to fix it.

    host_snapshot   HostSnapshot and capture_host_snapshot(): tools, Docker, disks, limits, ports, ...
    host_rules      the host rules (Rule[HostSnapshot]); evaluate() runs them on the engine (judge)
    snapshot        the cluster snapshot format (docs/snapshot-format.md): load, dump, parts collected
    capture         pure half of a cluster capture: which logs to read, command lines, docker image ls
    anonymize       --anonymize: names masked the same way everywhere, images and reasons kept
"""

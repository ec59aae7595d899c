"""The cluster major upgrade's pure part (the new instance's objects from the deployed ones, the
Service patch) and the runtime's pipe between two programs."""

from __future__ import annotations

import json
import sys

import yaml

from kenv.platform.postgres.params import Params
from kenv.platform.postgres.render import render_files
from kenv.platform.postgres.upgrade_cluster import new_instance, switch_patch
from kenv.runtime.pipe import pipe
from kenv.runtime.process import Runner


def _deployed(version: int = 15) -> dict[str, dict]:
    return {name: yaml.safe_load(text) for name, text in render_files(Params(version=version)).items()}


def test_the_new_instance_is_the_deployed_one_renamed_with_the_new_image_and_no_archiving() -> None:
    deployed = _deployed()
    old_image = deployed["statefulset.yaml"]["spec"]["template"]["spec"]["containers"][0]["image"]
    name, objects = new_instance(deployed, major=16, current_image=old_image, new_image="postgres:16.6-bookworm")
    assert name == "postgres-16"
    sts, *policies = objects
    assert sts["metadata"]["name"] == "postgres-16"
    assert sts["metadata"]["annotations"]["kenv.io/upgraded-from"] == "postgres"
    assert sts["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "postgres-16"
    assert sts["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/instance"] == "postgres-16"
    pod = sts["spec"]["template"]["spec"]
    images = {c["image"] for c in [*pod.get("initContainers", []), *pod["containers"]]}
    assert images == {"postgres:16.6-bookworm"}
    assert pod["containers"][0]["args"][-2:] == ["-c", "archive_mode=off"]
    # the deployed objects are untouched, the resources (memory) carried over
    assert deployed["statefulset.yaml"]["metadata"]["name"] == "postgres"
    old_pod = deployed["statefulset.yaml"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"] == old_pod["containers"][0]["resources"]
    assert sorted(p["metadata"]["name"] for p in policies) == ["postgres-allow-clients-16", "postgres-deny-ingress-16"]
    assert all(p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "postgres-16" for p in policies)
    assert json.loads(switch_patch(name)) == {"spec": {"selector": {"app.kubernetes.io/instance": "postgres-16"}}}


def test_pipe_streams_one_program_into_the_other() -> None:
    first = [sys.executable, "-c", "import sys; sys.stdout.write('x' * 300000); sys.stderr.write('said')"]
    second = [sys.executable, "-c", "import sys; print(len(sys.stdin.read()))"]
    a, b = pipe(Runner(), first, second, timeout=60)
    assert (a.returncode, a.stderr, b.returncode, b.stdout.strip()) == (0, "said", 0, "300000")


def test_pipe_reports_a_failing_producer_and_a_dry_run_records_both() -> None:
    a, b = pipe(Runner(), [sys.executable, "-c", "raise SystemExit(4)"], ["cat"], timeout=60)
    assert (a.returncode, b.returncode) == (4, 0)
    runner = Runner(dry_run=True)
    pipe(runner, ["pg_dumpall"], ["psql"], timeout=60)
    assert runner.planned == [("pg_dumpall",), ("psql",)]

"""Host pulls through mirrors (kenv.images.pull) and archives (kenv.images.archive), against a
scripted docker/skopeo: the order of endpoints, retries, timeouts, the digest check, dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kenv.errors import KenvError
from kenv.images import archive as archive_module
from kenv.images import pull
from kenv.images.archive import save_archive
from kenv.images.pull import ensure_on_host, mirror_name
from kenv.images.reference import parse_reference
from kenv.settings import ImageSupply
from tests.unit.scripted_runner import ScriptedRunner

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
NO_SUCH = "Error: No such image: {}"
REFUSED = 'Error response from daemon: Get "https://m1.example/v2/": dial tcp 10.0.0.1:443: connect: connection refused'
UNKNOWN = "Error response from daemon: manifest for m2.example/library/busybox:1.36 not found: manifest unknown"

SUPPLY = ImageSupply(mirrors={"docker.io": ("https://m1.example", "http://m2.example:5000/v2/hub")})


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pull, "RETRY_PAUSE", 0.0)


def inspect_json(*repo_digests: str) -> str:
    return json.dumps([{"Id": "sha256:" + "c" * 64, "RepoTags": [], "RepoDigests": list(repo_digests)}])


@pytest.mark.parametrize(
    ("endpoint", "ref", "expected"),
    [
        ("https://mirror.example", "busybox:1.36", "mirror.example/library/busybox:1.36"),
        ("mirror.example:5000", "rancher/k3s", "mirror.example:5000/rancher/k3s:latest"),
        ("https://mirror.example/v2", "ghcr.io/a/b:1", "mirror.example/a/b:1"),
        ("https://harbor.example/v2/hub/", "busybox:1.36", "harbor.example/hub/library/busybox:1.36"),
        ("http://10.0.0.5:5000", f"busybox:1.36@{DIGEST}", f"10.0.0.5:5000/library/busybox@{DIGEST}"),
    ],
)
def test_mirror_endpoints_become_docker_names_as_containerd_addresses_them(
    endpoint: str, ref: str, expected: str
) -> None:
    assert mirror_name(endpoint, parse_reference(ref)) == expected


def test_an_api_under_a_path_prefix_cannot_be_pulled_by_docker() -> None:
    with pytest.raises(KenvError, match=r"/some/path/v2/, which docker pull cannot address"):
        mirror_name("https://mirror.example/some/path", parse_reference("busybox"))


def test_present_on_the_host_means_no_pull() -> None:
    runner = ScriptedRunner().expect(
        ["docker", "image", "inspect", "docker.io/library/busybox:1.36"], stdout=inspect_json()
    )
    [outcome] = ensure_on_host(runner, SUPPLY, [parse_reference("busybox:1.36")], parallel=1)
    assert (outcome.ok, outcome.source, outcome.tried) == (True, "host", ())
    runner.assert_done()


def test_mirrors_in_order_with_retries_then_the_original_name_is_tagged() -> None:
    ref = parse_reference("busybox:1.36")
    runner = (
        ScriptedRunner()
        .expect(
            ["docker", "image", "inspect", ref.canonical],
            returncode=1,
            stderr=NO_SUCH.format(ref.canonical),
        )
        .expect(["docker", "pull", "m1.example/library/busybox:1.36"], returncode=1, stderr=REFUSED)
        .expect(["docker", "pull", "m1.example/library/busybox:1.36"], returncode=1, stderr=REFUSED)
        .expect(["docker", "pull", "m2.example:5000/hub/library/busybox:1.36"])
        .expect(["docker", "tag", "m2.example:5000/hub/library/busybox:1.36", "docker.io/library/busybox:1.36"])
    )
    notes: list[str] = []
    [outcome] = ensure_on_host(runner, SUPPLY, [ref], parallel=1, retries=1, timeout=7, progress=notes.append)
    runner.assert_done()
    assert outcome.ok and outcome.source == "http://m2.example:5000/v2/hub"
    assert outcome.tried == (("https://m1.example", REFUSED),)
    assert [c.timeout for c in runner.calls_to("docker") if c.argv[1] == "pull"] == [7, 7, 7]
    assert notes == [
        "busybox:1.36: pulling through https://m1.example",
        "busybox:1.36: pulling through http://m2.example:5000/v2/hub",
    ]


def test_not_found_is_not_retried_and_every_failure_is_named() -> None:
    ref = parse_reference("busybox:1.36")
    runner = (
        ScriptedRunner()
        .answer(["docker", "image", "inspect"], prefix=True, returncode=1, stderr=NO_SUCH.format(ref.canonical))
        .expect(["docker", "pull", "m1.example/library/busybox:1.36"], timed_out=True)
        .expect(["docker", "pull", "m1.example/library/busybox:1.36"], timed_out=True)
        .expect(["docker", "pull", "m2.example:5000/hub/library/busybox:1.36"], returncode=1, stderr=UNKNOWN)
        .expect(["docker", "pull", "docker.io/library/busybox:1.36"], returncode=1, stderr=REFUSED)
        .expect(["docker", "pull", "docker.io/library/busybox:1.36"], returncode=1, stderr=REFUSED)
    )
    [outcome] = ensure_on_host(runner, SUPPLY, [ref], parallel=1, retries=1)
    runner.assert_done()
    assert not outcome.ok and outcome.source is None
    assert [endpoint for endpoint, _ in outcome.tried] == [
        "https://m1.example",
        "http://m2.example:5000/v2/hub",
        "upstream",
    ]
    assert "timed out after 120s" in outcome.tried[0][1]
    assert outcome.error is not None
    for named in (
        "mirror https://m1.example",
        "mirror http://m2.example:5000/v2/hub",
        "upstream docker.io",
        "manifest unknown",
    ):
        assert named in outcome.error
    assert "\n" not in outcome.error


def test_a_mirror_serving_another_digest_fails_and_the_next_is_tried() -> None:
    ref = parse_reference(f"busybox:1.36@{DIGEST}")
    first = f"m1.example/library/busybox@{DIGEST}"
    second = f"m2.example:5000/hub/library/busybox@{DIGEST}"
    runner = (
        ScriptedRunner()
        .expect(["docker", "image", "inspect", f"docker.io/library/busybox@{DIGEST}"], returncode=1, stderr=NO_SUCH)
        .expect(["docker", "image", "inspect", "docker.io/library/busybox:1.36"], returncode=1, stderr=NO_SUCH)
        .expect(["docker", "pull", first])
        .expect(["docker", "image", "inspect", first], stdout=inspect_json(f"m1.example/library/busybox@{OTHER}"))
        .expect(["docker", "pull", second])
        .expect(
            ["docker", "image", "inspect", second], stdout=inspect_json(f"m2.example:5000/hub/library/busybox@{DIGEST}")
        )
        .expect(["docker", "tag", second, "docker.io/library/busybox:1.36"])
    )
    [outcome] = ensure_on_host(runner, SUPPLY, [ref], parallel=1, retries=0)
    runner.assert_done()
    assert outcome.ok and outcome.source == "http://m2.example:5000/v2/hub"
    assert outcome.tried[0][0] == "https://m1.example"
    assert f"served another digest (sha256:bbbbbbbbbbbb...), not {DIGEST}" in outcome.tried[0][1]


def test_a_digest_reference_on_the_host_under_its_tag_with_that_digest_is_present() -> None:
    ref = parse_reference(f"busybox:1.36@{DIGEST}")
    runner = (
        ScriptedRunner()
        .expect(["docker", "image", "inspect", f"docker.io/library/busybox@{DIGEST}"], returncode=1, stderr=NO_SUCH)
        .expect(
            ["docker", "image", "inspect", "docker.io/library/busybox:1.36"],
            stdout=inspect_json(f"m2.example:5000/hub/library/busybox@{DIGEST}"),
        )
    )
    [outcome] = ensure_on_host(runner, SUPPLY, [ref], parallel=1)
    assert outcome.source == "host"


def test_dry_run_plans_the_first_pull_and_dedupes_spellings() -> None:
    runner = ScriptedRunner(dry_run=True).answer(
        ["docker", "image", "inspect"], prefix=True, returncode=1, stderr=NO_SUCH
    )
    refs = [
        parse_reference("busybox:1.36"),
        parse_reference("docker.io/library/busybox:1.36"),
        parse_reference("ghcr.io/a/b:1"),
    ]
    outcomes = ensure_on_host(runner, SUPPLY, refs, parallel=2)
    assert [o.source for o in outcomes] == ["https://m1.example", "upstream"]
    assert sorted(runner.planned) == sorted(
        [
            ("docker", "pull", "m1.example/library/busybox:1.36"),
            ("docker", "tag", "m1.example/library/busybox:1.36", "docker.io/library/busybox:1.36"),
            ("docker", "pull", "ghcr.io/a/b:1"),
        ]
    )


def test_an_unusable_endpoint_is_reported_and_skipped() -> None:
    supply = ImageSupply(mirrors={"docker.io": ("https://mirror.example/some/path",)})
    runner = (
        ScriptedRunner()
        .expect(["docker", "image", "inspect", "docker.io/library/busybox:1.36"], returncode=1, stderr=NO_SUCH)
        .expect(["docker", "pull", "docker.io/library/busybox:1.36"])
    )
    [outcome] = ensure_on_host(runner, supply, [parse_reference("busybox:1.36")], parallel=1)
    assert outcome.ok and outcome.source == "upstream"
    assert "cannot address" in outcome.tried[0][1]


def test_digest_references_without_skopeo_are_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no skopeo
    runner = ScriptedRunner()
    with pytest.raises(KenvError) as caught:
        save_archive(runner, SUPPLY, [parse_reference(f"busybox@{DIGEST}")], tmp_path)
    text = caught.value.one_line()
    assert "docker save drops the registry digest, moby#22011" in text
    assert "apt-get install skopeo" in text and "reference the image by tag" in text
    assert runner.calls == []


def test_archives_one_docker_save_for_tags_and_one_oci_layout_for_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_module.images_host, "skopeo_path", lambda: "/usr/bin/skopeo")
    supply = ImageSupply(
        mirrors={"docker.io": ("http://m2.example:5000",)}, https_proxy="http://proxy:3128", no_proxy=("corp",)
    )
    refs = [parse_reference("busybox:1.36"), parse_reference("rancher/k3s:v1"), parse_reference(f"app:2@{DIGEST}")]
    runner = ScriptedRunner(dry_run=True)
    archives = save_archive(runner, supply, refs, tmp_path)
    assert [(a.path.name, a.format, a.keeps_digest) for a in archives] == [
        ("images.docker.tar", "docker-archive", False),
        ("images.oci.tar", "oci-archive", True),
    ]
    save, digest_copy, tag_copy = runner.planned
    assert save == (
        "docker",
        "save",
        "-o",
        str(tmp_path / "images.docker.tar"),
        "docker.io/library/busybox:1.36",
        "docker.io/rancher/k3s:v1",
    )
    assert digest_copy[:5] == ("skopeo", "copy", "--quiet", "--preserve-digests", "--src-tls-verify=false")
    assert digest_copy[5] == f"docker://m2.example:5000/library/app@{DIGEST}"
    assert digest_copy[6].endswith(f":docker.io/library/app@{DIGEST}") and digest_copy[6].startswith("oci:")
    assert tag_copy[6].endswith(":docker.io/library/app:2")
    [call] = [c for c in runner.calls if c.argv[1] == "copy"][:1]
    assert call.extra_env is not None and call.extra_env["HTTPS_PROXY"] == "http://proxy:3128"
    assert call.extra_env["NO_PROXY"] == "corp,m2.example:5000"
    assert list(tmp_path.iterdir()) == []  # the layout directory is gone, nothing written in a dry run

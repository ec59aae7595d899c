"""The parts of `kenv images sync` that decide what to run: reference lists (--from), which way
each missing image goes (host pull + ONE import call for tags; an OCI archive that keeps the
digest for digest references), and the pinning commands. Commands are checked against a
scripted Runner: the providers' real argv builders run, nothing is patched but where skopeo is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kenv.errors import InvalidInput
from kenv.images.nodes import PIN_LABEL, parse_crictl_listing, pin_argv, pin_name
from kenv.images.reference import parse_reference
from kenv.providers.k3d import K3d
from kenv.providers.minikube import Minikube
from kenv.runtime import images_host
from kenv.settings import load_settings
from kenv.workflows import images as sync
from kenv.workflows.context import WorkflowContext
from tests.unit.scripted_runner import ScriptedRunner, environment

DIGEST = "sha256:" + "ab" * 32
TAGGED = parse_reference("busybox:1.36.1")
BY_DIGEST = parse_reference(f"ghcr.io/acme/tool:2@{DIGEST}")
INSPECTED = json.dumps([{"Id": "sha256:" + "cd" * 32, "RepoTags": ["busybox:1.36.1"], "RepoDigests": []}])


# -- --from FILE ------------------------------------------------------------------------------


def test_reference_lines_skip_comments_and_blank_lines_and_keep_the_order() -> None:
    text = "# images of dev\n\nbusybox:1.36.1   # the helper\n  ghcr.io/acme/tool:2\r\nbusybox:1.36.1\n"
    refs = sync.parse_reference_lines(text, "images.txt")
    assert [r.canonical for r in refs] == [
        "docker.io/library/busybox:1.36.1",
        "ghcr.io/acme/tool:2",
        "docker.io/library/busybox:1.36.1",
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("busybox\nBad:Ref\n", "images.txt:2: invalid reference format"),
        ("busybox\n\n# c\nbusybox nginx\n", "images.txt:4: 'busybox nginx' is more than one reference"),
        ("ok:1\n" + "a" * 300 + ":1\n", "images.txt:2:"),
    ],
)
def test_a_bad_line_is_named_with_the_references_own_error(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        sync.parse_reference_lines(text, "images.txt")
    assert fragment in caught.value.one_line()


def test_reference_files_that_are_not_lists_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a directory"):
        sync.read_reference_file(str(tmp_path))
    with pytest.raises(InvalidInput, match="no such file"):
        sync.read_reference_file(str(tmp_path / "nope.txt"))
    binary = tmp_path / "image.tar"
    binary.write_bytes(b"\x89PNG\xff\xfe\x00")
    with pytest.raises(InvalidInput, match="not a text file"):
        sync.read_reference_file(str(binary))
    assert [r.familiar for r in sync.read_reference_file("-", "busybox:1\n")] == ["busybox:1"]


# -- pinning ----------------------------------------------------------------------------------


def test_pin_commands_name_the_image_as_the_import_named_it() -> None:
    assert pin_name(TAGGED) == "docker.io/library/busybox:1.36.1"
    assert pin_name(BY_DIGEST) == f"ghcr.io/acme/tool@{DIGEST}"
    assert pin_name(parse_reference(f"busybox@{DIGEST}")) == f"docker.io/library/busybox@{DIGEST}"
    assert pin_argv(TAGGED) == (
        "ctr", "-n", "k8s.io", "images", "label", "docker.io/library/busybox:1.36.1", "io.cri-containerd.pinned=pinned",
    )  # fmt: skip
    assert PIN_LABEL == "io.cri-containerd.pinned=pinned"


def test_the_listing_says_which_images_are_pinned() -> None:
    listing = {
        "images": [
            {"repoTags": ["docker.io/library/busybox:1.36.1"], "repoDigests": [], "pinned": True},
            {
                "repoTags": ["ghcr.io/acme/tool:2"],
                "repoDigests": [f"ghcr.io/acme/tool@{DIGEST}"],
                "pinned": False,
            },
        ]
    }
    parsed = parse_crictl_listing(json.dumps(listing))
    assert parsed.pinned == {"docker.io/library/busybox:1.36.1"}
    assert parsed.held == {"docker.io/library/busybox:1.36.1", "ghcr.io/acme/tool:2", f"ghcr.io/acme/tool@{DIGEST}"}


# -- routing ----------------------------------------------------------------------------------


@pytest.fixture
def ctx_for(isolated: Path) -> object:
    def make(runner: ScriptedRunner) -> WorkflowContext:
        return WorkflowContext(load_settings(), runner=runner, dry_run=runner.dry_run)

    return make


def _result(provider: str = "k3d", nodes: tuple[str, ...] = ("k3d-dev-server-0",)) -> sync.ImagesResult:
    return sync.ImagesResult(
        "sync", "dev", provider, (TAGGED, BY_DIGEST), nodes, pin_supported=sync.PINNING[provider], dry_run=True
    )


def test_tags_are_imported_in_one_call_and_digests_through_an_oci_archive(
    ctx_for: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images_host, "skopeo_path", lambda: "/usr/bin/skopeo")
    runner = ScriptedRunner(dry_run=True).answer(["docker", "image", "inspect", TAGGED.canonical], stdout=INSPECTED)
    ctx = ctx_for(runner)  # type: ignore[operator]
    result = _result()
    failures = sync._supply_and_import(
        ctx, result, environment(), K3d(runner, ctx.settings.data_dir), [TAGGED, BY_DIGEST], 4
    )
    assert failures == {}
    planned = [list(argv) for argv in runner.planned]
    assert planned[0] == ["k3d", "image", "import", TAGGED.canonical, "-c", "dev"], "ONE call for the tags"
    copies = [a for a in planned if a[0] == "skopeo"]
    assert copies and all("--preserve-digests" in a and f"docker://ghcr.io/acme/tool@{DIGEST}" in a for a in copies)
    archive_imports = [a for a in planned[1:] if a[:3] == ["k3d", "image", "import"]]
    assert len(archive_imports) == 1 and archive_imports[0][3].endswith(".tar"), "ONE call for the archive"
    assert not [a for a in planned if a[:2] in (["docker", "save"], ["docker", "pull"])], (
        "a digest reference never goes through docker save (moby#22011) nor a host pull"
    )
    assert [(p.ref.canonical, p.source) for p in result.pulls] == [(TAGGED.canonical, "host")]
    assert [a.format for a in result.archives] == ["oci-archive"] and result.archives[0].keeps_digest


def test_without_skopeo_a_digest_reference_fails_with_the_fix_and_tags_still_go_in(
    ctx_for: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images_host, "skopeo_path", lambda: None)
    runner = ScriptedRunner(dry_run=True).answer(["docker", "image", "inspect", TAGGED.canonical], stdout=INSPECTED)
    ctx = ctx_for(runner)  # type: ignore[operator]
    result = _result()
    failures = sync._supply_and_import(
        ctx, result, environment(), K3d(runner, ctx.settings.data_dir), [TAGGED, BY_DIGEST], 4
    )
    assert list(failures) == [BY_DIGEST.canonical]
    assert "skopeo" in failures[BY_DIGEST.canonical] and "moby#22011" in failures[BY_DIGEST.canonical]
    assert [list(a) for a in runner.planned] == [["k3d", "image", "import", TAGGED.canonical, "-c", "dev"]]
    assert result.import_error is not None and "skopeo" in result.import_error


def test_a_dry_run_plans_one_pin_per_image_and_node(ctx_for: object) -> None:
    runner = ScriptedRunner(dry_run=True)
    ctx = ctx_for(runner)  # type: ignore[operator]
    result = _result(nodes=("k3d-dev-server-0", "k3d-dev-agent-0"))
    sync._pin(ctx, result, environment(), K3d(runner, ctx.settings.data_dir), [TAGGED])
    assert [list(a) for a in result.pin_argv] == [
        ["docker", "exec", node, *pin_argv(TAGGED)] for node in ("k3d-dev-server-0", "k3d-dev-agent-0")
    ]
    assert runner.calls == [], "nothing runs in a dry run"


def test_pins_run_in_every_node_and_a_failure_is_kept_per_node(ctx_for: object) -> None:
    runner = ScriptedRunner()
    runner.expect(["docker", "exec", "k3d-dev-server-0", *pin_argv(TAGGED)], stdout="io.cri-containerd.pinned=pinned")
    runner.expect(
        ["docker", "exec", "k3d-dev-agent-0", *pin_argv(TAGGED)],
        returncode=1,
        stderr=f'ctr: image "{TAGGED.canonical}": not found',
    )
    ctx = ctx_for(runner)  # type: ignore[operator]
    result = _result(nodes=("k3d-dev-server-0", "k3d-dev-agent-0"))
    result.dry_run = False
    sync._pin(ctx, result, environment(), K3d(runner, ctx.settings.data_dir), [TAGGED])
    runner.assert_done()
    assert [(n, r) for n, r, _ in result.pin_errors] == [("k3d-dev-agent-0", TAGGED.canonical)]
    assert "not found" in result.pin_errors[0][2]
    result.images = ()
    assert tuple(result.to_json()["pin"]["errors"][0]) == sync.JSON_KEYS["pin_error"]


def test_minikube_docker_runtime_is_not_pinned(ctx_for: object) -> None:
    runner = ScriptedRunner()
    ctx = ctx_for(runner)  # type: ignore[operator]
    result = _result("minikube", nodes=("dev",))
    sync._pin(ctx, result, environment(provider="minikube"), Minikube(runner, ctx.settings.data_dir), [TAGGED])
    assert runner.calls == [] and result.pin_argv == () and not result.pin_supported

"""What a node holds, parsed from `crictl images -o json`, and the per-node plan (issue 8 §5)."""

from __future__ import annotations

import json

import pytest

from kenv.errors import ExternalCommandError
from kenv.images.nodes import parse_crictl_images, plan, presence_key
from kenv.images.reference import parse_reference

DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64

# The shape crictl prints (CRI ListImagesResponse through protojson: camelCase, size a string).
LISTING = {
    "images": [
        {
            "id": "sha256:" + "1" * 64,
            "repoTags": ["docker.io/library/busybox:1.36.1"],
            "repoDigests": [f"docker.io/library/busybox@{DIGEST}"],
            "size": "2159953",
            "uid": None,
            "username": "",
            "spec": None,
            "pinned": False,
        },
        {
            "id": "sha256:" + "2" * 64,
            "repoTags": ["rancher/mirrored-pause:3.6"],  # a familiar spelling is normalised too
            "repoDigests": [],
            "size": "301463",
            "uid": {"value": "65535"},
            "username": "",
            "spec": None,
            "pinned": True,
        },
        {
            "id": "sha256:" + "3" * 64,
            "repoTags": ["<none>:<none>"],
            "repoDigests": ["<none>@<none>"],
            "size": "1",
        },
        {"id": "sha256:" + "4" * 64, "repoTags": None, "repoDigests": [f"ghcr.io/x/y@{OTHER_DIGEST}"], "size": "1"},
    ]
}


def held() -> frozenset[str]:
    return parse_crictl_images(json.dumps(LISTING))


def test_repo_tags_are_canonical_whatever_spelling_the_runtime_used() -> None:
    keys = held()
    assert "docker.io/library/busybox:1.36.1" in keys
    assert "docker.io/rancher/mirrored-pause:3.6" in keys


@pytest.mark.parametrize(
    "ref",
    ["busybox:1.36.1", "docker.io/library/busybox:1.36.1", "index.docker.io/library/busybox:1.36.1"],
)
def test_a_tag_reference_in_any_spelling_is_present(ref: str) -> None:
    assert presence_key(parse_reference(ref)) in held()


def test_a_digest_reference_is_present_only_by_its_own_digest() -> None:
    keys = held()
    assert presence_key(parse_reference(f"busybox@{DIGEST}")) in keys
    assert presence_key(parse_reference(f"busybox:1.36.1@{DIGEST}")) in keys  # the digest decides
    assert presence_key(parse_reference(f"busybox@{OTHER_DIGEST}")) not in keys
    assert presence_key(parse_reference(f"ghcr.io/x/y@{OTHER_DIGEST}")) in keys  # digest-only image


def test_untagged_images_and_nulls_are_ignored() -> None:
    keys = held()
    assert not any("<none>" in k for k in keys)
    assert len(keys) == 4


@pytest.mark.parametrize("text", ["", "   \n", '{"images": []}', "{}", '{"images": null}'])
def test_no_output_or_an_empty_listing_is_an_empty_node(text: str) -> None:
    assert parse_crictl_images(text) == frozenset()


def test_output_that_is_not_json_is_the_tool_failing_named_with_its_command() -> None:
    table = "IMAGE   TAG   IMAGE ID   SIZE\ndocker.io/library/busybox   1.36   abc   1MB\n"
    with pytest.raises(ExternalCommandError) as info:
        parse_crictl_images(table, ["docker", "exec", "n1", "crictl", "images", "-o", "json"])
    assert "docker exec n1 crictl images -o json" in info.value.one_line()
    assert "not JSON" in info.value.one_line()


def test_json_without_an_images_list_is_an_error() -> None:
    with pytest.raises(ExternalCommandError, match="without an images list"):
        parse_crictl_images('{"images": "nope"}')
    with pytest.raises(ExternalCommandError):
        parse_crictl_images("[1, 2]")


def test_plan_says_per_node_what_is_missing_and_collapses_spellings() -> None:
    wanted = [parse_reference(r) for r in ("busybox:1.36.1", "docker.io/library/busybox:1.36.1", "nginx:1.27")]
    result = plan(wanted, {"n1": held(), "n2": frozenset({"docker.io/library/nginx:1.27"}), "n3": None})
    assert [r.canonical for r in result.wanted] == ["docker.io/library/busybox:1.36.1", "docker.io/library/nginx:1.27"]
    assert result.missing == {"n1": ("docker.io/library/nginx:1.27",), "n2": ("docker.io/library/busybox:1.36.1",)}
    assert result.present["n1"] == ("docker.io/library/busybox:1.36.1",)
    assert result.unread == ("n3",)
    assert result.missing_images == ("docker.io/library/busybox:1.36.1", "docker.io/library/nginx:1.27")
    assert not result.complete


def test_plan_with_everything_present_is_complete() -> None:
    result = plan([parse_reference("busybox:1.36.1")], {"n1": held(), "n2": held()})
    assert result.complete and result.missing_images == ()

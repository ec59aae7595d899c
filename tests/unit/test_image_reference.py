"""Image references: the distribution grammar's published vectors, and property tests.

The tables below are ported from github.com/distribution/reference at v0.6.0-22-g0965666
(main, 2026-04-18): reference_test.go (TestReferenceParse, TestParseNamed), normalize_test.go
(TestValidateReferenceName, TestValidateRemoteName, TestParseRepositoryInfo,
TestParseReferenceWithTagAndDigest, TestParseAnyReference, TestNormalizedSplitHostname,
TestParseDockerRef) and regexp_test.go (TestDomainRegexp, TestFullNameRegexp,
TestReferenceRegexp). kenv parses the way ParseNormalizedNamed does, so vectors written for the
bare `Parse` or a single regexp are checked through normalisation; every place where the
expected result therefore differs is marked where it is listed.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kenv.errors import InvalidInput
from kenv.images.reference import (
    InvalidReference,
    Reference,
    looks_like_reference,
    parse_reference,
)

F64 = "f" * 64
SHA_F = f"sha256:{F64}"
SHA_BE = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912"
SHA_86 = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
SHA_DB = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
SHA_E6 = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"


def reason_of(text: str) -> str:
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    return caught.value.reason


# reference_test.go TestReferenceParse: (input, error, repository, tag, digest). `repository` is
# what bare Parse names; the normalised name ends with it.
REFERENCE_PARSE: list[tuple[str, str | None, str, str | None, str | None]] = [
    ("test_com", None, "test_com", None, None),
    ("test.com:tag", None, "test.com", "tag", None),
    ("test.com:5000", None, "test.com", "5000", None),
    ("test.com/repo:tag", None, "test.com/repo", "tag", None),
    ("test:5000/repo", None, "test:5000/repo", None, None),
    ("test:5000/repo:tag", None, "test:5000/repo", "tag", None),
    (f"test:5000/repo@{SHA_F}", None, "test:5000/repo", None, SHA_F),
    (f"test:5000/repo:tag@{SHA_F}", None, "test:5000/repo", "tag", SHA_F),
    ("", "ErrNameEmpty", "", None, None),
    (":justtag", "ErrReferenceInvalidFormat", "", None, None),
    (f"@{SHA_F}", "ErrReferenceInvalidFormat", "", None, None),
    # go-digest's ErrDigestInvalidLength and ErrDigestUnsupported: one kind here.
    ("repo@sha256:" + "f" * 34, "ErrDigestInvalidFormat", "", None, None),
    (f"validname@invaliddigest:{F64}", "ErrDigestInvalidFormat", "", None, None),
    ("Uppercase:tag", "ErrNameContainsUppercase", "", None, None),
    ("test:5000/Uppercase/lowercase:tag", "ErrNameContainsUppercase", "", None, None),
    ("lowercase:Uppercase", None, "lowercase", "Uppercase", None),
    ("domain/" + "a" * 256 + ":tag", "ErrNameTooLong", "", None, None),
    ("a/" * 127 + "a:tag-puts-this-over-max", None, "a/" * 127 + "a", "tag-puts-this-over-max", None),
    ("aa/asdf$$^/aa", "ErrReferenceInvalidFormat", "", None, None),
    ("sub-dom1.foo.com/bar/baz/quux", None, "sub-dom1.foo.com/bar/baz/quux", None, None),
    ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", None, "sub-dom1.foo.com/bar/baz/quux", "some-long-tag", None),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        None,
        "b.gcr.io/test.example.com/my-app",
        "test.example.com",
        None,
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", None, "xn--n3h.com/myimage", "xn--n3h.com", None),
    (f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA_F}", None, "xn--7o8h.com/myimage", "xn--7o8h.com", SHA_F),
    ("foo_bar.com:8080", None, "foo_bar.com", "8080", None),
    ("foo/foo_bar.com:8080", None, "foo/foo_bar.com", "8080", None),
    ("192.168.1.1", None, "192.168.1.1", None, None),
    ("192.168.1.1:tag", None, "192.168.1.1", "tag", None),
    ("192.168.1.1:5000", None, "192.168.1.1", "5000", None),
    ("192.168.1.1/repo", None, "192.168.1.1/repo", None, None),
    ("192.168.1.1:5000/repo", None, "192.168.1.1:5000/repo", None, None),
    ("192.168.1.1:5000/repo:5050", None, "192.168.1.1:5000/repo", "5050", None),
    ("[2001:db8::1]", "ErrReferenceInvalidFormat", "", None, None),
    ("[2001:db8::1]:5000", "ErrReferenceInvalidFormat", "", None, None),
    ("[2001:db8::1]:tag", "ErrReferenceInvalidFormat", "", None, None),
    ("[2001:db8::1]/repo", None, "[2001:db8::1]/repo", None, None),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", None, "[2001:db8:1:2:3:4:5:6]/repo", "tag", None),
    ("[2001:db8::1]:5000/repo", None, "[2001:db8::1]:5000/repo", None, None),
    ("[2001:db8::1]:5000/repo:tag", None, "[2001:db8::1]:5000/repo", "tag", None),
    (f"[2001:db8::1]:5000/repo@{SHA_F}", None, "[2001:db8::1]:5000/repo", None, SHA_F),
    (f"[2001:db8::1]:5000/repo:tag@{SHA_F}", None, "[2001:db8::1]:5000/repo", "tag", SHA_F),
    ("[2001:db8::]:5000/repo", None, "[2001:db8::]:5000/repo", None, None),
    ("[::1]:5000/repo", None, "[::1]:5000/repo", None, None),
    ("[fe80::1%eth0]:5000/repo", "ErrReferenceInvalidFormat", "", None, None),
    ("[fe80::1%@invalidzone]:5000/repo", "ErrReferenceInvalidFormat", "", None, None),
    ("example.com/" + "a" * 255 + ":tag", None, "example.com/" + "a" * 255, "tag", None),
]


@pytest.mark.parametrize(("text", "error", "repository", "tag", "digest"), REFERENCE_PARSE)
def test_reference_parse_vectors(
    text: str, error: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    if error is not None:
        assert reason_of(text) == error
        return
    ref = parse_reference(text)
    assert ref.name.endswith(repository)
    assert (ref.tag, ref.digest) == (tag, digest)


def test_sha512_is_accepted_unlike_the_go_test_which_does_not_register_it() -> None:
    # TestReferenceParse expects ErrDigestUnsupported only because its binary lacks sha512.
    ref = parse_reference("validname@sha512:" + "f" * 128)
    assert ref.digest == "sha512:" + "f" * 128
    assert reason_of("validname@sha512:" + "f" * 64) == "ErrDigestInvalidFormat"
    assert reason_of(f"validname@sha256:{'F' * 64}") == "ErrDigestInvalidFormat"


VALID_REPO_NAMES = [
    "docker/docker",
    "library/debian",
    "debian",
    "localhost/library/debian",
    "localhost/debian",
    "LOCALDOMAIN/library/debian",
    "LOCALDOMAIN/debian",
    "docker.io/docker/docker",
    "docker.io/library/debian",
    "docker.io/debian",
    "index.docker.io/docker/docker",
    "index.docker.io/library/debian",
    "index.docker.io/debian",
    "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/library/debian",
    "127.0.0.1:5000/debian",
    "192.168.0.1",
    "192.168.0.1:80",
    "192.168.0.1:8/debian",
    "192.168.0.2:25000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00::1]:5000/docker",
    "[fc00::1]:5000/docker/docker",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "Docker/docker",
    "DOCKER/docker",
    # TestValidateRemoteName
    "docker-rules/docker",
    "docker---rules/docker",
    "doc/docker",
    "d/docker",
    "jess/t",
    "dock__er/docker",
]
INVALID_REPO_NAMES = [
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "docker.io/docker///docker",
    "[fc00::1]",
    "[fc00::1]:5000",
    "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian",
    "[2001:db8:3:4::192.0.2.33]:5000/debian",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    # TestValidateRemoteName
    "docker-/docker",
    "-docker-/docker",
    "____/____",
    "_docker/_docker",
    "dock..er/docker",
    "dock_.er/docker",
    "dock-.er/docker",
    "docker/",
    "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_" * 4 + "/docker",
]


@pytest.mark.parametrize("text", VALID_REPO_NAMES)
def test_valid_repository_names(text: str) -> None:
    parse_reference(text)


@pytest.mark.parametrize("text", INVALID_REPO_NAMES)
def test_invalid_repository_names(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse_reference(text)


# normalize_test.go TestParseRepositoryInfo: (path, familiar name, full name, ambiguous, domain).
REPOSITORY_INFO = [
    ("fooo", "localhost/fooo", "localhost/fooo", "localhost/fooo", "localhost"),
    ("fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "", "localhost"),
    ("fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "", "LOCALDOMAIN"),
    ("fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "", "LOCALDOMAIN"),
    ("fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"),
    ("library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"),
    ("nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"),
    ("other/library", "other/library", "docker.io/other/library", "", "docker.io"),
    ("private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "", "127.0.0.1:8000"),
    ("privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "", "127.0.0.1:8000"),
    ("private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "", "example.com"),
    ("privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"),
    (
        "private/moonbase",
        "example.com:8000/private/moonbase",
        "example.com:8000/private/moonbase",
        "",
        "example.com:8000",
    ),
    ("privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "", "example.com:8000"),
    (
        "library/ubuntu-12.04-base",
        "ubuntu-12.04-base",
        "docker.io/library/ubuntu-12.04-base",
        "index.docker.io/library/ubuntu-12.04-base",
        "docker.io",
    ),
    ("library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"),
    ("library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"),
    ("store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"),
    ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
    ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
]


@pytest.mark.parametrize(("path", "familiar", "full", "ambiguous", "domain"), REPOSITORY_INFO)
def test_repository_info_vectors(path: str, familiar: str, full: str, ambiguous: str, domain: str) -> None:
    for text in filter(None, (familiar, full, ambiguous)):
        ref = parse_reference(text)
        assert (ref.domain, ref.path, ref.name) == (domain, path, full)
        assert ref.familiar == f"{familiar}:latest"
        assert ref.canonical == f"{full}:latest"


def test_tag_and_digest_are_both_kept() -> None:
    # normalize_test.go TestParseReferenceWithTagAndDigest
    short = f"busybox:latest@{SHA_86}"
    ref = parse_reference(short)
    assert ref.canonical == f"docker.io/library/{short}"
    assert (ref.tag, ref.digest) == ("latest", SHA_86)
    assert ref.familiar == short


# normalize_test.go TestParseAnyReference, the named cases: (input, ParseNormalizedNamed string).
ANY_REFERENCE = [
    ("redis", "docker.io/library/redis"),
    ("redis:latest", "docker.io/library/redis:latest"),
    ("docker.io/library/redis:latest", "docker.io/library/redis:latest"),
    (f"redis@{SHA_DB}", f"docker.io/library/redis@{SHA_DB}"),
    (f"docker.io/library/redis@{SHA_DB}", f"docker.io/library/redis@{SHA_DB}"),
    ("dmcgowan/myapp", "docker.io/dmcgowan/myapp"),
    ("dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest"),
    ("docker.io/mcgowan/myapp:latest", "docker.io/mcgowan/myapp:latest"),
    (f"dmcgowan/myapp@{SHA_DB}", f"docker.io/dmcgowan/myapp@{SHA_DB}"),
    (f"docker.io/dmcgowan/myapp@{SHA_DB}", f"docker.io/dmcgowan/myapp@{SHA_DB}"),
    (SHA_DB[7:-1], f"docker.io/library/{SHA_DB[7:-1]}"),
    ("dbcc1", "docker.io/library/dbcc1"),
]


@pytest.mark.parametrize(("text", "equivalent"), ANY_REFERENCE)
def test_any_reference_vectors(text: str, equivalent: str) -> None:
    ref = parse_reference(text)
    assert ref == parse_reference(equivalent)
    written = ref.name + (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")
    assert written == equivalent
    assert ref.canonical == (equivalent if "@" in equivalent or ref.tag else f"{equivalent}:latest")


def test_a_bare_identifier_is_not_a_name() -> None:
    # ParseNormalizedNamed refuses 64 hex digits (ParseAnyReference reads them as a digest).
    assert reason_of(SHA_DB[7:]) == "ErrNameIsIdentifier"


# normalize_test.go TestNormalizedSplitHostname: (input, domain, path).
SPLIT_HOSTNAME = [
    ("test.com/foo", "test.com", "foo"),
    ("test_com/foo", "docker.io", "test_com/foo"),
    ("docker/migrator", "docker.io", "docker/migrator"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("foo", "docker.io", "library/foo"),
    ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    ("docker.io/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
]


@pytest.mark.parametrize(("text", "domain", "path"), SPLIT_HOSTNAME)
def test_split_hostname_vectors(text: str, domain: str, path: str) -> None:
    ref = parse_reference(text)
    assert (ref.domain, ref.path) == (domain, path)


# normalize_test.go TestParseDockerRef: (input, expected). The last vector differs on purpose:
# ParseDockerRef drops the tag beside a digest; kenv keeps both (issue 8: keep tag@digest).
DOCKER_REF = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:latest", "docker.io/library/busybox:latest"),
    (f"busybox@{SHA_E6}", f"docker.io/library/busybox@{SHA_E6}"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox:latest", "docker.io/library/busybox:latest"),
    ("library/busybox:latest", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("gcr.io/library/busybox", "gcr.io/library/busybox:latest"),
    (f"gcr.io/library/busybox:latest@{SHA_E6}", f"gcr.io/library/busybox:latest@{SHA_E6}"),
]


@pytest.mark.parametrize(("text", "expected"), DOCKER_REF)
def test_docker_ref_vectors(text: str, expected: str) -> None:
    assert parse_reference(text).canonical == expected
    assert parse_reference(expected).canonical == expected


# reference_test.go TestParseNamed: a name is canonical when it is its own normalised name.
@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("test.com/foo", True),
        ("test:8080/foo", True),
        ("test_com/foo", False),
        ("test.com", False),
        ("foo", False),
        ("library/foo", False),
        ("docker.io/library/foo", True),
        ("docker.io/foo", False),
    ],
)
def test_parse_named_vectors(text: str, canonical: bool) -> None:
    assert (parse_reference(text).name == text) is canonical


# regexp_test.go TestDomainRegexp: (domain, matches). Checked as the domain of `<domain>/repo`;
# every vector that must not match contains "." or ":", so it is taken as a domain and refused.
DOMAINS = [
    ("test.com", True),
    ("test.com:10304", True),
    ("test.com:http", False),
    ("localhost", True),
    ("localhost:8080", True),
    ("a", True),
    ("a.b", True),
    ("ab.cd.com", True),
    ("a-b.com", True),
    ("-ab.com", False),
    ("ab-.com", False),
    ("ab.c-om", True),
    ("ab.-com", False),
    ("ab.com-", False),
    ("0101.com", True),
    ("001a.com", True),
    ("b.gbc.io:443", True),
    ("b.gbc.io", True),
    ("xn--n3h.com", True),
    ("Asdf.com", True),
    ("192.168.1.1:75050", True),
    ("192.168.1.1:750050", True),
    ("[fd00:1:2::3]:75050", True),
    ("[fd00:1:2::3]75050", False),
    ("[fd00:1:2::3]::75050", False),
    ("[fd00:1:2::3%eth0]:75050", False),
    ("[fd00123123123]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505", True),
    ("fd00:1:2::3:75050", False),
]


@pytest.mark.parametrize(("domain", "matches"), DOMAINS)
def test_domain_vectors(domain: str, matches: bool) -> None:
    if not matches:
        with pytest.raises(InvalidReference):
            parse_reference(f"{domain}/repo")
        return
    ref = parse_reference(f"{domain}/repo")
    assert ref.domain == (domain if domain != "a" else "docker.io")


# regexp_test.go TestFullNameRegexp and TestReferenceRegexp: (input, matches). Two differ through
# normalisation, marked where they stand.
FULL_NAMES = [
    ("", False),
    ("short", True),
    ("simple/name", True),
    ("library/ubuntu", True),
    ("docker/stevvooe/app", True),
    ("aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb", True),
    ("aa/aa/bb/bb/bb", True),
    ("a/a/a/a", True),
    ("a/a/a/a/", False),
    ("a//a/a", False),
    ("a", True),
    ("a/aa", True),
    ("a/aa/a", True),
    ("foo.com", True),
    ("foo.com/", False),
    ("foo.com:8080/bar", True),
    ("foo.com:http/bar", False),
    ("foo.com/bar", True),
    ("foo.com/bar/baz", True),
    ("localhost:8080/bar", True),
    ("sub-dom1.foo.com/bar/baz/quux", True),
    ("blog.foo.com/bar/baz", True),
    ("a^a", False),
    ("aa/asdf$$^/aa", False),
    ("asdf$$^/aa", False),
    ("aa-a/a", True),
    ("a/" * 128 + "a", False),  # Name regexp only; normalised, docker.io/ + 257-char path
    ("a-/a/a/a", False),
    ("foo.com/a-/a/a", False),
    ("-foo/bar", False),
    ("foo/bar-", False),
    ("foo-/bar", False),
    ("foo/-bar", False),
    ("_foo/bar", False),
    ("foo_bar", True),
    ("foo_bar.com", True),
    ("foo_bar.com:8080", True),  # a bare Name regexp refuses it; as a reference, tag 8080
    ("foo_bar.com:8080/app", False),
    ("foo.com/foo_bar", True),
    ("____/____", False),
    ("_docker/_docker", False),
    ("docker_/docker_", False),
    ("b.gcr.io/test.example.com/my-app", True),
    ("xn--n3h.com/myimage", True),
    ("xn--7o8h.com/myimage", True),
    ("example.com/xn--7o8h.com/myimage", True),
    ("example.com/some_separator__underscore/myimage", True),
    ("example.com/__underscore/myimage", False),
    ("example.com/..dots/myimage", False),
    ("example.com/.dots/myimage", False),
    ("example.com/nodouble..dots/myimage", False),
    ("docker./docker", False),
    (".docker/docker", False),
    ("docker-/docker", False),
    ("-docker/docker", False),
    ("do..cker/docker", False),
    ("do__cker:8080/docker", False),
    ("do__cker/docker", True),
    ("registry.io/foo/project--id.module--name.ver---sion--name", True),
    ("Asdf.com/foo/bar", True),
    ("Foo/FarB", False),
    # TestReferenceRegexp
    ("registry.com:8080/myapp:tag", True),
    (f"registry.com:8080/myapp@{SHA_BE}", True),
    (f"registry.com:8080/myapp:tag2@{SHA_BE}", True),
    ("registry.com:8080/myapp@sha256:badbadbadbad", False),
    ("registry.com:8080/myapp:invalid~tag", False),
    ("bad_hostname.com:8080/myapp:tag", False),
    (f"localhost:8080@{SHA_BE}", True),
    (f"localhost:8080/name@{SHA_BE}", True),
    (f"localhost:http/name@{SHA_BE}", False),
    (f"localhost@{SHA_BE}", True),
    ("registry.com:8080/myapp@bad", False),
    ("registry.com:8080/myapp@2bad", False),
]


@pytest.mark.parametrize(("text", "matches"), FULL_NAMES)
def test_name_and_reference_vectors(text: str, matches: bool) -> None:
    if matches:
        parse_reference(text)
    else:
        with pytest.raises(InvalidReference):
            parse_reference(text)


def test_localhost_without_a_path_is_an_image_name_with_a_tag() -> None:
    # regexp_test.go: "localhost treated as name, missing tag with 8080 as tag".
    ref = parse_reference(f"localhost:8080@{SHA_BE}")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (
        "docker.io",
        "library/localhost",
        "8080",
        SHA_BE,
    )


# ----------------------------------------------------------------------------- kenv's own cases


@pytest.mark.parametrize(
    ("text", "canonical", "familiar"),
    [
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("rancher/k3s:v1.31.5-k3s1", "docker.io/rancher/k3s:v1.31.5-k3s1", "rancher/k3s:v1.31.5-k3s1"),
        ("docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        (
            "index.docker.io/rancher/mirrored-library-busybox:1.36.1",
            "docker.io/rancher/mirrored-library-busybox:1.36.1",
            "rancher/mirrored-library-busybox:1.36.1",
        ),
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        (f"busybox@{SHA_E6}", f"docker.io/library/busybox@{SHA_E6}", f"busybox@{SHA_E6}"),
        ("ghcr.io/org/app", "ghcr.io/org/app:latest", "ghcr.io/org/app:latest"),
        ("localhost:5000/app:dev", "localhost:5000/app:dev", "localhost:5000/app:dev"),
        ("[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
    ],
)
def test_canonical_and_familiar_forms(text: str, canonical: str, familiar: str) -> None:
    ref = parse_reference(text)
    assert (ref.canonical, ref.familiar, str(ref)) == (canonical, familiar, canonical)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Busybox", "invalid reference format: repository name must be lowercase: 'Busybox'"),
        ("busybox:", "invalid reference format: invalid tag format: 'busybox:'"),
        ("foo_bar.com/app", "'foo_bar.com' is not a registry host"),
        ("busybox:-x", "invalid reference format: invalid tag format: 'busybox:-x'"),
        ("busybox:" + "t" * 129, "invalid tag format"),
        ("busybox@sha256:abc", "invalid digest format"),
        (f"busybox@md5:{F64}", "unsupported algorithm 'md5'"),
        ("", "repository name must have at least one component"),
        ("x/" + "a" * 300, "must not be more than 255 characters"),
        ("bus box", "invalid reference format: 'bus box'"),
    ],
)
def test_errors_say_what_is_wrong_on_one_line(text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    line = caught.value.one_line()
    assert message in line
    assert "\n" not in line
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.exit_code == 2


def test_the_length_limit_counts_the_path_only() -> None:
    assert len(parse_reference("example.com/" + "a" * 255).path) == 255
    assert reason_of("example.com/" + "a" * 256) == "ErrNameTooLong"
    # a familiar official name gains "library/", which counts
    assert reason_of("a" * 248) == "ErrNameTooLong"
    assert parse_reference("a" * 247).path == "library/" + "a" * 247


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("docker.io/localhost/x", "docker.io/localhost/x:latest"),
        ("docker.io/a.b/c:1", "docker.io/a.b/c:1"),
        ("docker.io/library/a.b", "a.b:latest"),
        ("docker.io/ab/c:1", "ab/c:1"),
    ],
)
def test_familiar_keeps_docker_io_where_dropping_it_would_name_a_registry(text: str, familiar: str) -> None:
    ref = parse_reference(text)
    assert ref.familiar == familiar
    assert parse_reference(familiar) == parse_reference(ref.canonical)


def test_a_long_hostile_input_is_refused_quickly() -> None:
    with pytest.raises(InvalidReference):
        parse_reference("a." * 3000 + "!/x")
    with pytest.raises(InvalidReference):
        parse_reference("a-" * 3000 + "!")


@pytest.mark.parametrize(
    "text",
    [
        "busybox:1.36",
        "rancher/mirrored-library-busybox:1.36.1",
        "quay.io/prometheus/node-exporter:v1.8.2",
        f"ghcr.io/x/y@{SHA_E6}",
        "nginx",
    ],
)
def test_looks_like_reference_accepts_images(text: str) -> None:
    assert looks_like_reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "true",
        "False",
        "yes",
        "off",
        "null",
        "~",
        "42",
        "1.5",
        "1e3",
        "-7",
        "{{ .Values.image }}",
        "{{.Values.image}}",
        "${IMAGE}",
        "repo/app:${TAG}",
        "%{SYSTEM_DEFAULT_REGISTRY}%busybox",
        "busybox 1.36",
        "busybox\n",
        "Busybox",
        "https://example.com/x",
        "a" * 2000,
        F64,
    ],
)
def test_looks_like_reference_refuses_non_images(text: str) -> None:
    assert not looks_like_reference(text)


# ----------------------------------------------------------------------------- properties

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_component = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    st.text(_ALNUM, min_size=1, max_size=6),
    st.lists(
        st.tuples(st.sampled_from([".", "_", "__", "-", "---"]), st.text(_ALNUM, min_size=1, max_size=5)),
        max_size=2,
    ),
)
_path = st.lists(_component, min_size=1, max_size=4).map("/".join)
_label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
_port = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
_domain = st.one_of(
    st.just(""),
    st.sampled_from(["docker.io", "index.docker.io", "localhost", "LOCALDOMAIN", "Registry"]),
    st.builds(lambda labels, port: ".".join(labels) + port, st.lists(_label, min_size=2, max_size=4), _port),
    st.builds(lambda host, port: host + port, st.sampled_from(["[::1]", "[2001:db8::1]", "[fd00:1:2::3]"]), _port),
    st.builds(lambda host, port: host + port, st.sampled_from(["localhost", "registry"]), _port.filter(bool)),
)
_tag = st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True))
_digest = st.one_of(
    st.none(),
    st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}"),
)


@st.composite
def valid_references(draw: st.DrawFn) -> str:
    domain, path, tag, digest = draw(_domain), draw(_path), draw(_tag), draw(_digest)
    first, slash, _ = path.partition("/")
    if not domain and slash and "." in first:
        domain = "docker.io"  # "a.b/c" names the registry a.b, which the path strategy cannot make
    text = f"{domain}/{path}" if domain else path
    return text + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


@given(valid_references())
@example("busybox")
@example("localhost:5000/app")
@example(f"busybox:1.36@{SHA_E6}")
def test_canonical_and_familiar_name_the_same_image(text: str) -> None:
    ref = parse_reference(text)
    assert parse_reference(ref.canonical) == parse_reference(ref.familiar)
    assert parse_reference(ref.familiar).canonical == ref.canonical


@given(valid_references())
def test_canonical_is_idempotent(text: str) -> None:
    ref = parse_reference(text)
    again = parse_reference(ref.canonical)
    assert again.canonical == ref.canonical
    assert again.canonical.startswith(again.domain + "/")
    assert again.tag is not None or again.digest is not None


@given(valid_references())
def test_familiar_round_trips(text: str) -> None:
    ref = parse_reference(text)
    assert parse_reference(ref.familiar).familiar == ref.familiar
    assert looks_like_reference(ref.familiar) == looks_like_reference(ref.canonical)


@given(valid_references())
def test_the_parts_are_kept_as_written(text: str) -> None:
    ref = parse_reference(text)
    if ref.tag is not None:
        assert f":{ref.tag}" in text
    if ref.digest is not None:
        assert text.endswith(f"@{ref.digest}")
    assert isinstance(ref, Reference)


_FORBIDDEN = " !$%^&*(){}|\\\"'<>?,;~`=\t\né"


@given(valid_references(), st.sampled_from(list(_FORBIDDEN)), st.data())
def test_a_forbidden_character_is_always_refused(text: str, bad: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(text)))
    with pytest.raises(InvalidReference):
        parse_reference(text[:at] + bad + text[at:])


@given(st.text(max_size=80) | st.text("abAB09:/@.-_[]", max_size=40))
def test_anything_else_parses_or_raises_invalid_reference(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidReference as refused:
        assert refused.one_line()
        assert not looks_like_reference(text)
        return
    assert parse_reference(ref.canonical).canonical == ref.canonical


@given(st.text(max_size=60))
def test_looks_like_reference_implies_it_parses(text: str) -> None:
    if looks_like_reference(text):
        parse_reference(text)

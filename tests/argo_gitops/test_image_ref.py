"""Image references are checked against the distribution grammar before they reach a manifest."""

from __future__ import annotations

import pytest

from argo_gitops.errors import InputError
from argo_gitops.imageref import ImageRef, parse_image_ref

SHA256 = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            f"ghcr.io/acme/argo-python:sha-1a2b3c4@{SHA256}",
            ImageRef("ghcr.io/acme/argo-python", "sha-1a2b3c4", SHA256),
            id="deploy-yml-tag-and-digest",
        ),
        pytest.param(
            "ghcr.io/acme/argo-python:sha-1a2b3c4",
            ImageRef("ghcr.io/acme/argo-python", "sha-1a2b3c4", None),
            id="tag-only",
        ),
        pytest.param(
            f"ghcr.io/acme/argo-python@{SHA256}",
            ImageRef("ghcr.io/acme/argo-python", None, SHA256),
            id="digest-only",
        ),
        pytest.param(
            "localhost:5000/team/app:1.2.3",
            ImageRef("localhost:5000/team/app", "1.2.3", None),
            id="registry-port-is-not-a-tag",
        ),
        pytest.param("nginx:1.27", ImageRef("nginx", "1.27", None), id="docker-hub-short-name"),
        pytest.param(
            "[::1]:5000/app:V_1.0-rc",
            ImageRef("[::1]:5000/app", "V_1.0-rc", None),
            id="ipv6-registry-and-mixed-case-tag",
        ),
        pytest.param(
            "registry.example.com/a__b/c-d.e:x",
            ImageRef("registry.example.com/a__b/c-d.e", "x", None),
            id="path-separators",
        ),
    ],
)
def test_valid_reference_is_parsed_into_its_parts(text: str, expected: ImageRef) -> None:
    parsed = parse_image_ref(text)
    assert parsed == expected
    assert str(parsed) == text


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        pytest.param(
            "ghcr.io/Acme/argo-python:sha-1a2b3c4",
            "'Acme' must be lower-case",
            id="upper-case-owner-not-lowered",
        ),
        pytest.param(
            "ghcr.io/acme/argo-python", "needs a tag or a digest", id="bare-name-is-latest"
        ),
        pytest.param("ghcr.io/acme/argo-python:", "tag ''", id="empty-tag"),
        pytest.param("ghcr.io/acme/argo-python:-x", "tag '-x'", id="tag-starting-with-dash"),
        pytest.param("ghcr.io/acme/argo-python:" + "t" * 129, "1-128", id="tag-too-long"),
        pytest.param("ghcr.io/acme/argo-python@sha256:abc", "malformed sha256", id="short-digest"),
        pytest.param(
            "ghcr.io/acme/argo-python@sha256:" + "A" * 64,
            "malformed sha256",
            id="upper-case-digest",
        ),
        pytest.param(
            "ghcr.io/acme/argo-python@" + "a" * 64, "sha256:<64", id="digest-without-algo"
        ),
        pytest.param("ghcr.io/acme/argo python:1", "'argo python'", id="space-in-name"),
        pytest.param("ghcr.io//argo-python:1", "component ''", id="empty-path-component"),
        pytest.param("bad_host.io/app:1", "'bad_host.io' is not a valid registry", id="bad-host"),
        pytest.param("", "repository name is empty", id="empty"),
        pytest.param("ghcr.io/" + "a" * 260 + ":1", "longer than 255", id="name-too-long"),
        pytest.param(
            f"ghcr.io/acme/app:sha-1a2b3c4@{SHA256}@{SHA256}", "malformed sha256", id="two-digests"
        ),
    ],
)
def test_malformed_reference_is_rejected_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_image_ref(text)
    message = str(caught.value)
    assert message.startswith(f"malformed image reference {text!r}: ")
    assert complaint in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "label", "source_commit"),
    [
        pytest.param(f"r.io/a:sha-1a2b3c4@{SHA256}", "sha-1a2b3c4", "1a2b3c4", id="sha-tag"),
        pytest.param("r.io/a:sha-" + "f" * 40, "sha-" + "f" * 40, "f" * 40, id="full-sha-tag"),
        pytest.param("r.io/a:v1.2.3", "v1.2.3", None, id="release-tag-names-no-commit"),
        pytest.param("r.io/a:sha-12345", "sha-12345", None, id="too-short-to-be-a-commit"),
        pytest.param("r.io/a:sha-XYZ1234", "sha-XYZ1234", None, id="not-hex"),
        pytest.param(f"r.io/a@{SHA256}", SHA256, None, id="digest-only-label-is-digest"),
    ],
)
def test_label_and_source_commit_come_from_the_tag(
    text: str, label: str, source_commit: str | None
) -> None:
    image = parse_image_ref(text)
    assert image.label == label
    assert image.source_commit == source_commit

"""`argo-gitops set-image` changes the one image line of a Deployment and nothing else, and
refuses, with one line and exit 2, anything it cannot change safely."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from tests.argo_gitops.repos import MANIFEST, Origin, deployment, make_origin, run_cli

from argo_gitops.imageref import parse_image_ref
from argo_gitops.manifest import set_image

NEW = "ghcr.io/acme/argo-python:sha-1a2b3c4@sha256:" + "ab" * 32
OLD = "ghcr.io/acme/argo-python:sha-0000000"

TWO_CONTAINERS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/migrate:1   # runs first
      containers:
        - name: app
          image: ghcr.io/acme/app:1
        - name: sidecar
          image: ghcr.io/acme/sidecar:1
"""

FORMATTING_CASES = [
    pytest.param(
        deployment(OLD),
        None,
        f"        image: {NEW}  # set by argo-gitops\n",
        id="comments-flow-maps-unindented-list",
    ),
    pytest.param(
        deployment(OLD).replace("\n", "\r\n"),
        None,
        f"        image: {NEW}  # set by argo-gitops\r\n",
        id="crlf-line-endings",
    ),
    pytest.param(
        deployment(f'"{OLD}"'),
        None,
        f'        image: "{NEW}"  # set by argo-gitops\n',
        id="double-quoted-stays-double-quoted",
    ),
    pytest.param(
        deployment(f"'{OLD}'"),
        None,
        f"        image: '{NEW}'  # set by argo-gitops\n",
        id="single-quoted-stays-single-quoted",
    ),
    pytest.param(
        deployment(OLD).rstrip("\n"),
        None,
        f"        image: {NEW}  # set by argo-gitops\n",
        id="no-newline-at-end-of-file",
    ),
    pytest.param(
        "kind:    Deployment\nmetadata: {name: w}\nspec:\n    template:\n        spec:\n"
        "            containers:\n                -   image:     old:1      # spaced out\n"
        "                    name: only\n",
        None,
        f"                -   image:     {NEW}      # spaced out\n",
        id="four-space-indent-image-key-first-extra-spaces",
    ),
    pytest.param(
        "kind: Deployment\nmetadata: {name: w}\nspec: {template: {spec: {containers: "
        "[{name: a, image: old:1}]}}}\n",
        None,
        f"spec: {{template: {{spec: {{containers: [{{name: a, image: {NEW}}}]}}}}}}\n",
        id="all-flow-style",
    ),
    pytest.param(
        TWO_CONTAINERS, "sidecar", f"          image: {NEW}\n", id="second-of-two-by-name"
    ),
    pytest.param(
        TWO_CONTAINERS,
        "migrate",
        f"          image: {NEW}   # runs first\n",
        id="init-container-by-name",
    ),
    pytest.param(
        "# Service and Deployment in one file\n---\napiVersion: v1\nkind: Service\n"
        "metadata: {name: web}\nspec: {ports: [{port: 80}]}\n---\n# only a comment\n---\n"
        + deployment(OLD)
        + "...\n",
        None,
        f"        image: {NEW}  # set by argo-gitops\n",
        id="multi-document-file",
    ),
    pytest.param(
        deployment(OLD).replace("hand.", "hand: déjà vu, 日本語."),
        None,
        f"        image: {NEW}  # set by argo-gitops\n",
        id="non-ascii-comments",
    ),
]


def _changed_lines(before: str, after: str) -> list[str]:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    diff = list(difflib.unified_diff(old, new, n=0))
    return [line for line in diff[2:] if not line.startswith("@@")]


def _load(text: str) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(text))


def _with_image(documents: list[Any], container: str | None, image: str) -> list[Any]:
    """The parsed documents with the chosen container's image replaced, for comparison."""
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "Deployment":
            pod = document["spec"]["template"]["spec"]
            candidates = [*pod["containers"], *pod.get("initContainers", [])]
            chosen = next(c for c in candidates if container in (None, c["name"]))
            chosen["image"] = image
    return documents


@pytest.mark.parametrize(("text", "container", "new_line"), FORMATTING_CASES)
def test_only_the_image_line_changes_whatever_the_formatting(
    text: str, container: str | None, new_line: str
) -> None:
    updated = set_image(text, parse_image_ref(NEW), container, "manifest.yaml")
    changed = _changed_lines(text, updated)
    assert len(changed) == 2, changed
    assert changed[0].startswith("-")
    assert changed[1] == "+" + new_line
    assert _load(updated) == _with_image(_load(text), container, NEW)


def test_a_plain_value_that_would_not_parse_plain_is_quoted() -> None:
    # `[` starts a flow sequence, so an IPv6 registry cannot be written as a plain scalar.
    updated = set_image(deployment(OLD), parse_image_ref("[::1]:5000/app:1"), None, "m.yaml")
    assert '        image: "[::1]:5000/app:1"  # set by argo-gitops\n' in updated


def test_unchanged_image_returns_the_very_same_text() -> None:
    text = deployment(NEW)
    assert set_image(text, parse_image_ref(NEW), None, "m.yaml") is text


def test_init_containers_are_not_candidates_for_the_default_container() -> None:
    text = TWO_CONTAINERS.replace(
        "        - name: sidecar\n          image: ghcr.io/acme/sidecar:1\n", ""
    )
    updated = set_image(text, parse_image_ref(NEW), None, "m.yaml")
    assert f"        - name: app\n          image: {NEW}\n" in updated
    assert "ghcr.io/acme/migrate:1" in updated


def test_cli_diff_of_a_hand_formatted_manifest_is_exactly_one_line(tmp_path: Path) -> None:
    origin: Origin = make_origin(tmp_path)
    origin.dev.commit("add the manifest", {MANIFEST: deployment(OLD)})
    result = run_cli("set-image", MANIFEST, NEW, cwd=origin.dev.path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "updated\n", "")
    assert origin.dev.git("diff", "--numstat") == f"1\t1\t{MANIFEST}"
    hunk = [
        line
        for line in origin.dev.git("diff", "--unified=0").splitlines()
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
    assert hunk == [
        f"-        image: {OLD}  # set by argo-gitops",
        f"+        image: {NEW}  # set by argo-gitops",
    ]


def test_cli_reports_unchanged_and_leaves_the_file_alone(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(deployment(NEW))
    manifest.chmod(0o640)
    before = manifest.stat()
    result = run_cli("set-image", manifest, NEW)
    assert (result.returncode, result.stdout, result.stderr) == (0, "unchanged\n", "")
    after = manifest.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_cli_update_keeps_the_file_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(deployment(OLD))
    manifest.chmod(0o640)
    result = run_cli("set-image", manifest, NEW, "--container", "argo-python")
    assert (result.returncode, result.stdout) == (0, "updated\n")
    assert manifest.stat().st_mode & 0o777 == 0o640
    assert [path.name for path in tmp_path.iterdir()] == ["deployment.yaml"]
    assert manifest.read_text() == deployment(NEW)


MULTI_DEPLOYMENT = deployment(OLD) + "---\n" + deployment(OLD).replace("argo-python", "other")

BAD_INPUT_CASES = [
    pytest.param(
        deployment(OLD),
        ["ghcr.io/Acme/argo-python:1"],
        "malformed image reference",
        id="malformed-image-reference",
    ),
    pytest.param(
        deployment(OLD),
        ["ghcr.io/acme/argo-python"],
        "needs a tag or a digest",
        id="image-without-tag-or-digest",
    ),
    pytest.param(
        deployment(OLD),
        [NEW, "--container", "nope"],
        "has no container named 'nope' (containers: argo-python)",
        id="missing-container",
    ),
    pytest.param(
        TWO_CONTAINERS,
        [NEW],
        "has 2 containers (app, sidecar); choose one with --container",
        id="several-containers-without-container-flag",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
        [NEW],
        "not a Deployment manifest (found kind Service)",
        id="service-not-deployment",
    ),
    pytest.param(
        "# nothing here\n",
        [NEW],
        "not a Deployment manifest (found no Kubernetes",
        id="only-a-comment",
    ),
    pytest.param("", [NEW], "not a Deployment manifest", id="empty-file"),
    pytest.param(
        MULTI_DEPLOYMENT, [NEW], "holds 2 Deployments (argo-python, other)", id="two-deployments"
    ),
    pytest.param("kind: Deployment\nspec: [\n", [NEW], "not valid YAML", id="invalid-yaml"),
    pytest.param(
        deployment(OLD) + "kind: Deployment\n", [NEW], "not valid YAML", id="duplicate-key"
    ),
    pytest.param(
        "kind: Deployment\nmetadata: {name: w}\nspec: {replicas: 1}\n",
        [NEW],
        "Deployment w has no spec.template.spec.containers list",
        id="no-containers",
    ),
    pytest.param(
        deployment(OLD).replace(f"        image: {OLD}  # set by argo-gitops\n", ""),
        [NEW],
        "container 'argo-python' has no image field",
        id="container-without-image",
    ),
    pytest.param(
        deployment(OLD).replace(f"image: {OLD}", "image:"),
        [NEW],
        "container 'argo-python' has an empty image field",
        id="empty-image",
    ),
    pytest.param(
        "kind: Deployment\nmetadata: {name: w}\nx-image: &img old:1\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: a\n        image: *img\n",
        [NEW],
        "is a YAML anchor or alias",
        id="image-is-an-alias",
    ),
    pytest.param(
        "kind: Deployment\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers:\n"
        "      - name: a\n        image: |\n          old:1\n",
        [NEW],
        "is a block scalar",
        id="image-is-a-block-scalar",
    ),
]


@pytest.mark.parametrize(("text", "args", "message"), BAD_INPUT_CASES)
def test_bad_input_exits_2_with_one_line_and_leaves_the_file_untouched(
    tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(text)
    before = manifest.stat()
    result = run_cli("set-image", manifest, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("argo-gitops: ")
    assert message in result.stderr
    assert manifest.read_text() == text
    assert manifest.stat().st_mtime_ns == before.st_mtime_ns


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        pytest.param(None, [NEW], "no such file", id="missing-file"),
        pytest.param(b"kind: Deployment\n# \xff\xfe\n", [NEW], "not UTF-8 text", id="not-utf8"),
        pytest.param(b"", [], "required: IMAGE_REF", id="missing-argument"),
        pytest.param(b"", [NEW, "--bogus"], "unrecognized arguments: --bogus", id="unknown-flag"),
    ],
)
def test_unreadable_file_or_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, setup: bytes | None, args: list[str], message: str
) -> None:
    manifest = tmp_path / "deployment.yaml"
    if setup is not None:
        manifest.write_bytes(setup)
    result = run_cli("set-image", manifest, *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_help_documents_every_exit_code() -> None:
    result = run_cli("set-image", "--help")
    assert result.returncode == 0
    for code in ("0", "2", "3", "4"):
        assert f"\n  {code}  " in result.stdout


def test_fork_help_lists_only_the_exit_codes_of_fork() -> None:
    """fork checks its input and writes nothing on failure: it never runs git."""
    result = run_cli("fork", "--help")
    assert result.returncode == 0
    assert re.findall(r"^  (\d)  ", result.stdout, re.MULTILINE) == ["0", "2"]
    assert "manifest has the image" not in result.stdout


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(deployment(OLD))
    result = subprocess.run(
        [sys.executable, "-m", "argo_gitops", "set-image", str(manifest), NEW],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "updated\n")

"""Which image a fork's Deployment may name: the placeholder the template ships with, or a build
deploy.yml pushed for the fork, pinned by tag and digest. One rule for both sides: `set-image`
and `publish` refuse anything else before they write, and the deploy tests (tests/deploy) check
k8s/deployment.yaml with it.

What deploy.yml writes, and so what the rule accepts: `ghcr.io/<owner>/<repository>`, named
after the GitHub repository it runs in and lower-cased (registry paths must be); the tag
`sha-<the first 7 hex digits of the commit>`; the `@sha256:` digest build-push-action reports.
Once fork.toml names an owner, the image must be that fork's own package; until then (a fork on
GitHub that never ran `make fork`) any repository's.
"""

from __future__ import annotations

import re
from pathlib import Path

from argo_gitops.errors import InputError
from argo_gitops.identity import GITHUB_OWNER, IDENTITY_FILE, Identity, find_root, load
from argo_gitops.imageref import ImageRef, parse_image_ref

REGISTRY = "ghcr.io"
# deploy.yml's `tag=sha-${GITHUB_SHA::7}`.
CI_TAG = re.compile(r"sha-[0-9a-f]{7}")
CI_TAG_TEXT = "sha-<7 hex digits of the commit>"
# The digest build-push-action reports; a tag alone can be moved to another build.
CI_DIGEST_ALGORITHM = "sha256"


def image_problem(image: str | ImageRef, identity: Identity) -> str:
    """Why the deploy check rejects `image` as the image of `identity`'s Deployment, in a few
    words for an error line; "" when it accepts it."""
    if str(image) == identity.placeholder_image:
        return ""
    if isinstance(image, str):
        try:
            image = parse_image_ref(image)
        except InputError as error:
            return str(error)
    return next(
        (
            problem
            for problem in (
                _name_problem(image.name, identity),
                _tag_problem(image.tag),
                _digest_problem(image.digest),
            )
            if problem
        ),
        "",
    )


def check_deployable(image: ImageRef, manifest: Path) -> None:
    """Raise InputError naming what is wrong when `manifest` belongs to a fork (a fork.toml in
    its directory or above) whose deploy check would reject `image`. A manifest of no fork is
    not checked: its image only has to be a valid reference."""
    root = find_root(manifest)
    if root is None:
        return
    identity = load(root)
    problem = image_problem(image, identity)
    if problem:
        raise InputError(
            f"{image} is not an image the deploy check accepts for {root / IDENTITY_FILE}: "
            f"{problem}"
        )


def _name_problem(name: str, identity: Identity) -> str:
    registry, _, path = name.partition("/")
    owner, _, repository = path.partition("/")
    if registry != REGISTRY or not owner or not repository or "/" in repository:
        return f"its name must be {REGISTRY}/<owner>/<repository>, where deploy.yml pushes"
    if identity.forked and name != identity.image:
        return f"it is not this fork's package {identity.image} (owner and repository in fork.toml)"
    if not GITHUB_OWNER.fullmatch(owner):
        return f"{owner!r} is not a GitHub user or organisation"
    return ""


def _tag_problem(tag: str | None) -> str:
    if tag is None:
        return f"it has no tag; deploy.yml tags every build {CI_TAG_TEXT}"
    if not CI_TAG.fullmatch(tag):
        return f"tag {tag!r} is not {CI_TAG_TEXT}, the tag deploy.yml gives every build"
    return ""


def _digest_problem(digest: str | None) -> str:
    if digest is None:
        return (
            f"it has no @{CI_DIGEST_ALGORITHM}: digest; deploy.yml pins every build by the "
            "digest it pushed"
        )
    if digest.partition(":")[0] != CI_DIGEST_ALGORITHM:
        return f"its digest is not a {CI_DIGEST_ALGORITHM} one, as deploy.yml's are"
    return ""

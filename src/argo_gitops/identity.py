"""The fork's deploy identity: who owns it, what it is called, where it answers. One file at the
root of the repository (`fork.toml`) holds it; `argo-gitops fork` writes it, the tests and
`infra/setup.sh` read it, and every deploy file is derived from it.

The file is TOML with one `key = value` line per setting, so that `infra/setup.sh` can read a
value with one `sed` expression. `rewrite` changes only the values, through tomlkit's round trip:
the comments a user added to the file stay.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import tomlkit

from argo_gitops.errors import InputError
from argo_gitops.imageref import parse_image_ref

IDENTITY_FILE = "fork.toml"
# The owner the template ships with: a repository URL or image of this owner is not yours yet.
PLACEHOLDER_OWNER = "your-github-user"
# The tag of the image the repository ships with, until CI writes the first real one (CI always
# writes a digest as well: a reference with this tag and no digest was never built).
PLACEHOLDER_TAG = "sha-0000000"
NODE_PORT_RANGE = (30000, 32767)

# GitHub's rules: an owner is 1-39 letters, digits and single inner hyphens; a repository name is
# letters, digits, '.', '_' and '-' (and never just '.' or '..').
GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPOSITORY = re.compile(r"[A-Za-z0-9._-]{1,100}")
# A DNS-1035 label: what Kubernetes requires of a Service name, and tofu/variables.tf of a key.
_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
# The rule of tofu/variables.tf: a lowercase DNS name with at least one dot.
_HOSTNAME = re.compile(
    r"(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"
)


@dataclass(frozen=True)
class Identity:
    owner: str
    name: str
    repository: str
    node_port: int
    hostname: str = ""
    image_budget_mb: int = 25

    @property
    def namespace(self) -> str:
        """The namespace is the service's name: one service, one namespace."""
        return self.name

    @property
    def image(self) -> str:
        """The image name CI pushes: ghcr.io paths are lower-case, GitHub names need not be."""
        return f"ghcr.io/{self.owner}/{self.repository}".lower()

    @property
    def placeholder_image(self) -> str:
        return f"{self.image}:{PLACEHOLDER_TAG}"

    @property
    def repo_url(self) -> str:
        return f"https://github.com/{self.owner}/{self.repository}.git"

    @property
    def forked(self) -> bool:
        """Whether an owner has been set, i.e. the repository URL and image are real ones."""
        return self.owner != PLACEHOLDER_OWNER


def validate(identity: Identity, source: str | None = None) -> Identity:
    """Return `identity` if every field is acceptable; else raise InputError naming the first
    bad one and what it accepts: as the key of the file `source` when the value came from it,
    else as the variable of `make fork` that sets it."""
    low, high = NODE_PORT_RANGE
    problems = [
        (
            "owner",
            "OWNER",
            identity.owner,
            GITHUB_OWNER.fullmatch(identity.owner),
            "a GitHub user or organisation"
            " (letters, digits and single inner hyphens, at most 39 characters)",
        ),
        (
            "name",
            "NAME",
            identity.name,
            _NAME.fullmatch(identity.name),
            "a DNS label: lower-case letters, digits and '-', starting with a letter and"
            " ending with a letter or digit, at most 63 characters",
        ),
        (
            "repository",
            "REPO",
            identity.repository,
            _repository_ok(identity.repository),
            "a GitHub repository name whose lower-case form is a valid image path (letters, digits,"
            " single '.', '_' or '-' between them)",
        ),
        (
            "node_port",
            "NODE_PORT",
            str(identity.node_port),
            low <= identity.node_port <= high,
            f"a whole number from {low} to {high}",
        ),
        (
            "hostname",
            "HOSTNAME",
            identity.hostname,
            identity.hostname == ""
            or (_HOSTNAME.fullmatch(identity.hostname) and len(identity.hostname) <= 253),
            "a lower-case DNS name with at least one dot, such as api.example.org, or empty",
        ),
        (
            "image_budget_mb",
            "image_budget_mb",
            str(identity.image_budget_mb),
            identity.image_budget_mb >= 1,
            "a whole number of megabytes, at least 1",
        ),
    ]
    for field, variable, value, ok, accepted in problems:
        if ok:
            continue
        if source is None:
            raise InputError(f"{variable}={value!r} is invalid: expected {accepted}")
        raise InputError(
            f"{source}: {field} = {getattr(identity, field)!r} is invalid: expected {accepted}"
        )
    return identity


def _repository_ok(repository: str) -> bool:
    if not _REPOSITORY.fullmatch(repository) or repository in (".", ".."):
        return False
    try:
        parse_image_ref(f"ghcr.io/owner/{repository.lower()}:{PLACEHOLDER_TAG}")
    except InputError:
        return False
    return True


def parse(text: str, source: str) -> Identity:
    """The identity in `text` (the identity file's content), validated."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{source}: not valid TOML: {error}") from None
    known = {field.name: field.type for field in fields(Identity)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InputError(f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(known)})")
    missing = [name for name in ("owner", "name", "repository", "node_port") if name not in data]
    if missing:
        raise InputError(f"{source}: missing setting {missing[0]!r}")
    for name, value in data.items():
        wanted = int if known[name] == "int" else str
        if type(value) is not wanted:
            raise InputError(f"{source}: {name} must be a {wanted.__name__}, got {value!r}")
    return validate(Identity(**data), source)


def load(root: Path) -> Identity:
    """The identity of the repository at `root`."""
    path = root / IDENTITY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; this is not an argo-python repository") from None
    return parse(text, str(path))


def find_root(path: Path) -> Path | None:
    """The repository `path` belongs to: the nearest directory holding the identity file, at
    `path` or above it; None when there is none."""
    start = path.resolve()
    for directory in (start, *start.parents):
        if (directory / IDENTITY_FILE).is_file():
            return directory
    return None


def rewrite(text: str, identity: Identity) -> str:
    """`text` (the identity file's content) with every setting of `identity`: a value that
    changed is replaced in its place, a missing setting is added at the end, and everything
    else, comments included, stays as it is."""
    document = tomlkit.parse(text)
    for field in fields(Identity):
        value = getattr(identity, field.name)
        if document.get(field.name) != value:
            document[field.name] = value
    return tomlkit.dumps(document)


def with_changes(identity: Identity, **changes: str | int) -> Identity:
    """`identity` with some fields changed, validated."""
    return validate(replace(identity, **changes))  # type: ignore[arg-type]

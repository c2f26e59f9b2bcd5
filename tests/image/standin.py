"""A local stand-in for the official `python:3.11-slim-bookworm` base, for machines without a
registry.

debootstrap builds a minimal Debian bookworm with Debian's Python 3.11, shaped like the official
image where the Dockerfile relies on it:
- `python` and `python3` in /usr/local/bin, first on PATH, LANG=C.UTF-8, CMD ["python3"];
- no bytecode for the standard library (the official image deletes it), so that the image's own
  bytecode step and its size are measured as they will be on the real base;
- the machine's CA bundle as the trust store, and SSL_CERT_FILE naming it, so that pip and uv
  inside a build reach the package index through a TLS-inspecting proxy.

The result is an engine image whose tag carries a digest of this recipe and of the CA bundle:
it is built once (about a minute) and reused until either changes.

    python -m tests.image.standin     # build it now and name it as the Dockerfile's base
                                      # (needs root, debootstrap and podman)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.image.dockerfile import base_image, qualified
from tests.image.engine import ENGINES, Engine

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE_CONFIG = (
    "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f"ENV SSL_CERT_FILE={CA_BUNDLE}",
    'CMD ["python3"]',
)
# Left out of the stand-in: the package downloads and index, and Debian's precompiled bytecode.
REMOVED = ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*", "usr/lib/python3*/**/__pycache__")
PYTHON_LINKS = {
    "usr/local/bin/python3": "/usr/bin/python3",
    "usr/local/bin/python": "/usr/bin/python3",
}
REPOSITORY = "localhost/argo-python-standin"


class StandinError(RuntimeError):
    """The stand-in cannot be built on this machine; the message says what is missing."""


def tag() -> str:
    """The image reference for the current recipe and CA bundle."""
    recipe = repr((SUITE, MIRROR, PACKAGES, IMAGE_CONFIG, REMOVED, PYTHON_LINKS)).encode()
    digest = hashlib.sha256(recipe + _ca_bundle()).hexdigest()[:12]
    return f"{REPOSITORY}:{SUITE}-{digest}"


def ensure(engine: Engine) -> str:
    """Return the stand-in's reference, building it first if the engine does not have it."""
    reference = tag()
    if not engine.image_exists(reference):
        build(engine, reference)
    return reference


def provide_base(engine: Engine) -> str:
    """Make the Dockerfile's base available to `engine` under its full name, and return that name.

    The name comes from the Dockerfile's FROM line, in full (docker.io/library/python:...).
    With a reachable registry (`engine.needs_standin` false) the real image is pulled. Without one,
    the stand-in is built (or reused) and tagged with that name in the engine's local storage, and
    the engine builds with --pull=never, so the Dockerfile starts from it unchanged.

    Careful: that tag replaces whatever image had the name in the engine's storage, including a
    real python image pulled earlier. It is done only when `engine.needs_standin` (no registry to
    pull from); `podman pull <name>` restores the real one where a registry is reachable.
    """
    reference = qualified(base_image())
    if engine.needs_standin:
        engine.run("tag", ensure(engine), reference)
    else:
        engine.run("pull", reference, timeout=600)  # explicitly, so that it can be inspected
    return reference


def build(engine: Engine, reference: str) -> None:
    missing_tool = shutil.which("debootstrap") is None
    if missing_tool or os.geteuid() != 0:
        raise StandinError(
            "building the stand-in base image needs root and debootstrap; "
            "install it with: apt-get install debootstrap"
        )
    with tempfile.TemporaryDirectory(prefix="argo-python-standin-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "rootfs"
        _run(
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            MIRROR,
            timeout=900,
        )
        _shape(root)
        archive = Path(tmp) / "rootfs.tar"
        _run("tar", "-C", str(root), "-cf", str(archive), ".", timeout=300)
        changes = [arg for line in IMAGE_CONFIG for arg in ("--change", line)]
        engine.run("import", *changes, str(archive), reference, timeout=300)


def _shape(root: Path) -> None:
    for pattern in REMOVED:
        for path in list(root.glob(pattern)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    shutil.copyfile(CA_BUNDLE, root / CA_BUNDLE.relative_to("/"))
    for link, target in PYTHON_LINKS.items():
        (root / link).unlink(missing_ok=True)
        (root / link).symlink_to(target)


def _ca_bundle() -> bytes:
    try:
        return CA_BUNDLE.read_bytes()
    except OSError as exc:
        raise StandinError(
            f"cannot read {CA_BUNDLE}: {exc.strerror}; install it with: apt-get install "
            "ca-certificates"
        ) from None


def _run(*argv: str, timeout: float) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise StandinError(f"{' '.join(argv)} exited {result.returncode}:\n{tail}")


def main() -> int:
    podman = next(engine for engine in ENGINES if engine.name == "podman")
    try:
        print(provide_base(podman))
    except StandinError as exc:
        print(f"standin: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

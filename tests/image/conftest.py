"""Fixtures of the image tests: the engine, the base, the built image and running containers.

The image is built once per session from the repository itself and every container is
removed afterwards; the only things left behind are the engine's build cache and, with podman,
the stand-in base image (rebuilt only when missing).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.image import layers, standin
from tests.image.dockerfile import REPO
from tests.image.engine import Engine, detect
from tests.image.harness import BUILD_ARGS, TAG, Container, Containers

_SIZE_REPORT = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def engine() -> Engine:
    found = detect()
    if found is None:
        pytest.skip(
            "no container engine answers: install podman with: apt-get install podman buildah "
            "runc debootstrap uidmap slirp4netns fuse-overlayfs (or start a Docker daemon)"
        )
    return found


@pytest.fixture(scope="session")
def base_image(engine: Engine) -> str:
    """The image every Dockerfile stage starts from: the real one pulled, or the stand-in."""
    try:
        return standin.provide_base(engine)
    except standin.StandinError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def build_args(base_image: str) -> dict[str, str]:
    """The build arguments, once the base is in place under the Dockerfile's name."""
    return dict(BUILD_ARGS)


@pytest.fixture(scope="session")
def image(engine: Engine, build_args: dict[str, str]) -> Iterator[str]:
    """The service image, built from the repository as it is on disk."""
    engine.build(REPO, TAG, build_args)
    yield TAG
    engine.run("rmi", TAG, check=False)


@pytest.fixture(scope="session")
def size_report(
    engine: Engine,
    image: str,
    base_image: str,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> layers.SizeReport:
    """The layers the Dockerfile adds above the base, also printed in the terminal summary."""
    archive = tmp_path_factory.mktemp("image") / "image.tar"
    engine.run("save", "-o", str(archive), image, timeout=300)
    try:
        found = layers.read_archive(archive)
    finally:
        archive.unlink()
    base_ids = engine.inspect("image", base_image)["RootFS"]["Layers"]
    report = layers.split(found, base_ids)
    pytestconfig.stash[_SIZE_REPORT] = report.render()
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    text = terminalreporter.config.stash.get(_SIZE_REPORT, None)
    if text:
        terminalreporter.write_sep("-", "container image: layers added above the base")
        terminalreporter.write_line(text)


@pytest.fixture(scope="session")
def containers(engine: Engine, image: str) -> Iterator[Containers]:
    started = Containers(engine, image)
    yield started
    started.remove_all()


@pytest.fixture(scope="session")
def service(containers: Containers) -> Container:
    """One container of the image running as the manifests run it, shared by the read-only tests."""
    return containers.start("service")

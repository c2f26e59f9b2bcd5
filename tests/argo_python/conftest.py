from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.argo_python.serverproc import ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """One real server for a module's read-only tests."""
    proc = ServerProcess.start()
    yield proc
    proc.stop()

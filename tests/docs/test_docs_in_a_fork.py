"""The docs stay true in a fork: `make fork` rewrites no page, so every page must hold as it is."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.forks import assert_green, fork, run_suite

from .pages import ROOT
from .test_docs_commands import shared_environment_copy

# Other names, owner, port and hostname than the template's, and a name of another length (the
# greeting's length shows in a Content-Length the docs print).
FORK = (
    "--owner=example-org",
    "--name=weather-service",
    "--repo=weather",
    "--node-port=31234",
    "--hostname=weather.example.org",
)


def test_a_forked_copy_passes_the_doc_tests_unchanged(tmp_path: Path) -> None:
    root = shared_environment_copy(tmp_path / "fork")
    fork(root, *FORK)
    assert_green(run_suite(root, "tests/docs", f"--ignore={Path(__file__).relative_to(ROOT)}"))

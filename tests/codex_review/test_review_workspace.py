"""Reading post-image files under --repo-dir: only inside the checkout, only text."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_review.workspace import Workspace


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.rs").write_bytes(b'fn main() {}\r\nlet s = "caf\xe9";\r\n')
    (root / "src" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "secret.txt").write_text("outside the checkout\n")
    (root / "src" / "link.rs").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("src/main.rs", 'fn main() {}\nlet s = "caf\ufffd";\n'),
        ("src/logo.png", None),
        ("src/missing.rs", None),
        ("src", None),
        ("../secret.txt", None),
        ("src/../../secret.txt", None),
        ("src/link.rs", None),
    ],
    ids=[
        "text-with-crlf-and-latin1",
        "binary",
        "missing",
        "directory",
        "parent-directory",
        "dot-dot-inside",
        "symlink-out",
    ],
)
def test_only_text_files_inside_the_checkout_are_read(
    checkout: Path, path: str, text: str | None
) -> None:
    assert Workspace(checkout).read_text(path) == text

"""Read post-image files and AGENTS.md files from the pull request's checkout (``--repo-dir``).

The only module of the core that touches the file system. Paths come from the diff, which is
untrusted input: a path that escapes the checkout (``..``, an absolute path, a symlink pointing
outside) is treated as absent rather than read.
"""

from __future__ import annotations

from pathlib import Path

from codex_review.diff import as_text

MAX_FILE_BYTES = 8 * 1024 * 1024


class Workspace:
    """A checkout directory that answers "what is the text of this repository path?"."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def read_text(self, relative: str) -> str | None:
        """The file's text (UTF-8, invalid bytes replaced, LF line ends) or None if unavailable."""
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root):
            return None
        try:
            if not candidate.is_file() or candidate.stat().st_size > MAX_FILE_BYTES:
                return None
            data = candidate.read_bytes()
        except OSError:
            return None
        return as_text(data)

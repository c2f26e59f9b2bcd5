#!/usr/bin/env python3

"""Entry point compatible with the original review script, run as the workflow runs it:
``.venv/bin/python .github/scripts/codex-review.py --diff pr_diff.txt ...``.

A thin shim over the ``codex_review`` package. In a plain checkout it also finds the package in
``src/``; its dependencies (``unidiff``, and ``httpx`` for ``--github``) must be installed, e.g.
with ``uv sync --locked --extra review``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SRC = Path(__file__).resolve().parents[2] / "src"
if (_SRC / "codex_review").is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

try:
    from codex_review.cli import main
except ModuleNotFoundError as error:
    print(
        f"codex-review: error: missing dependency {error.name!r}; install the review extra "
        "(uv sync --locked --extra review, or pip install '.[review]' in the repository)",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

if __name__ == "__main__":
    raise SystemExit(main())

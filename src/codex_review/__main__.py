"""``python -m codex_review`` runs the command line."""

from codex_review.cli import main

raise SystemExit(main())

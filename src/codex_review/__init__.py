"""codex-review: a rule-based pull-request review bot (diff in; JSON, text, Markdown, SARIF out)."""

__version__ = "1.0.0"

"""docs/review-outputs.md agrees with the code: its table is the outputs table, and its examples
are what the bot writes for the findings they show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codex_review.annotations import finding_command
from codex_review.checks import check_run
from codex_review.inline import comment_body, keyed
from codex_review.models import Finding, Severity
from codex_review.outputs import OPTIONS, Option, Outputs
from codex_review.review import Review

PAGE = Path(__file__).resolve().parents[2] / "docs" / "review-outputs.md"
LEAK = Finding(
    Severity.ERROR,
    "security",
    "rust-log-password",
    "src/main.rs",
    2,
    "Potential password logging detected",
    'println!("password: {}", password);',
)
UNWRAP = Finding(
    Severity.WARNING,
    "bugs",
    "rust-unwrap",
    "src/main.rs",
    3,
    "Consider using proper error handling instead of unwrap()",
    "let v = parse().unwrap();",
)


def _text() -> str:
    return PAGE.read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", _text(), re.MULTILINE | re.DOTALL)


def _default(option: Option) -> str:
    value = getattr(Outputs(), option.field)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in _text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`CODEX_REVIEW_"):
            rows[cells[1].strip("`")] = cells
    return rows


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_the_table_row_of_each_option_matches_the_code(option: Option) -> None:
    bullet, _, default, accepts, doc = _rows()[option.env]

    assert bullet == (f"`{option.name}`" if option.agents_md else "workflow only")
    assert default == f"`{_default(option)}`"
    assert (accepts, doc) == (option.accepts, option.doc)


def test_the_table_lists_no_other_variable() -> None:
    assert set(_rows()) == {option.env for option in OPTIONS}


def test_the_examples_are_what_the_bot_writes() -> None:
    (key_of,) = keyed([UNWRAP])
    run = check_run(Review(1, (LEAK, UNWRAP)), "0" * 40, Severity.ERROR, now="t")

    assert finding_command(LEAK) + "\n" in _blocks("text")
    markdown = _blocks("markdown")
    assert comment_body(*key_of) + "\n" in markdown
    assert run.create["output"]["summary"] + "\n" in markdown
    assert (
        f"title `{run.create['output']['title']}`, conclusion `{run.create['conclusion']}`"
        in _text()
    )

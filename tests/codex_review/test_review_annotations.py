"""The pure parts of the outputs: workflow-command escaping as the Actions runner reads it,
GitHub's display limits, the check run's batches and conclusion, and the outputs table."""

from __future__ import annotations

import re

import pytest

from codex_review.annotations import PER_STEP, command, escape_data, escape_property, select
from codex_review.checks import MAX_ANNOTATIONS_PER_REQUEST, check_run, conclusion
from codex_review.models import Finding, Severity
from codex_review.outputs import OPTIONS, Outputs, OutputsError, from_agents_md, from_env, load
from codex_review.review import Review

# actions/runner ActionCommand.cs: _escapeDataMappings and _escapePropertyMappings, undone in
# this order when the runner reads a command.
DATA_MAPPINGS = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]
PROPERTY_MAPPINGS = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]
TRICKY = ["plain", "100%", "a\nb\r\nc", "literal %0A and %25", "a:b,c", "::error::", "%3A,%2C"]


def _runner_unescape(text: str, mappings: list[tuple[str, str]]) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


def _runner_parse(line: str) -> tuple[str, dict[str, str], str]:
    """How the runner splits ``::kind key=value,key=value::message``."""
    match = re.fullmatch(r"::(\w+)(?: (.*?))?::(.*)", line)
    assert match is not None, line
    properties = {}
    for pair in (match.group(2) or "").split(","):
        if pair:
            key, value = pair.split("=", 1)
            properties[key] = _runner_unescape(value, PROPERTY_MAPPINGS)
    return match.group(1), properties, _runner_unescape(match.group(3), DATA_MAPPINGS)


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_escaped_text_reads_back_exactly_as_written(text: str) -> None:
    assert _runner_unescape(escape_data(text), DATA_MAPPINGS) == text
    assert _runner_unescape(escape_property(text), PROPERTY_MAPPINGS) == text
    assert "\n" not in escape_data(text) + escape_property(text)


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_a_path_or_message_cannot_forge_another_property(text: str) -> None:
    line = command("warning", text, file=f"src/{text}.py", line=3, title=text)

    assert _runner_parse(line) == (
        "warning",
        {"file": f"src/{text}.py", "line": "3", "title": text},
        text,
    )


def _findings(severity: Severity, count: int) -> list[Finding]:
    return [Finding(severity, "bugs", "r", "f.py", line, "m", "") for line in range(1, count + 1)]


@pytest.mark.parametrize(
    ("errors", "warnings", "infos"),
    [(0, 0, 0), (3, 4, 5), (10, 10, 10), (12, 0, 0), (0, 30, 0), (25, 25, 25)],
    ids=str,
)
def test_selection_fits_githubs_per_step_limits_errors_first(
    errors: int, warnings: int, infos: int
) -> None:
    findings = [
        *_findings(Severity.INFO, infos),
        *_findings(Severity.WARNING, warnings),
        *_findings(Severity.ERROR, errors),
    ]

    shown, left_out = select(findings)

    for severity in Severity:
        count = sum(f.severity is severity for f in shown)
        assert count <= PER_STEP[severity] - (1 if severity is Severity.INFO and left_out else 0)
    assert shown == sorted(shown, key=lambda f: -f.severity)
    assert sum(f.severity is Severity.ERROR for f in shown) == min(errors, PER_STEP[Severity.ERROR])
    assert len(shown) + left_out == len(findings)


@pytest.mark.parametrize(
    ("worst", "fail_on", "expected"),
    [
        (None, Severity.ERROR, "success"),
        (Severity.INFO, Severity.ERROR, "success"),
        (Severity.WARNING, Severity.ERROR, "neutral"),
        (Severity.ERROR, Severity.ERROR, "failure"),
        (Severity.WARNING, Severity.WARNING, "failure"),
        (Severity.ERROR, None, "neutral"),
    ],
    ids=["clean", "info", "warning", "error", "warning-fails", "never-fails"],
)
def test_check_conclusion_follows_the_threshold(
    worst: Severity | None, fail_on: Severity | None, expected: str
) -> None:
    assert conclusion(worst, fail_on) == expected


@pytest.mark.parametrize("count", [0, 1, 50, 51, 120], ids=lambda n: f"{n}-findings")
def test_check_run_batches_every_annotation_and_completes_once(count: int) -> None:
    review = Review(1, tuple(_findings(Severity.WARNING, count)))

    run = check_run(review, "a" * 40, Severity.ERROR, now="2026-01-01T00:00:00Z")

    requests = [run.create, *run.updates]
    sizes = [len(r["output"]["annotations"]) for r in requests]
    assert sum(sizes) == count
    assert max(sizes) <= MAX_ANNOTATIONS_PER_REQUEST
    assert [r.get("status") == "completed" for r in requests][-1]
    assert sum(r.get("status") == "completed" for r in requests) == 1


def test_defaults_are_the_dataclass_defaults_and_every_field_has_an_option() -> None:
    assert {option.field for option in OPTIONS} == set(Outputs.__dataclass_fields__)
    assert load({}, None) == Outputs()


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_each_option_reads_from_its_variable(option: object) -> None:
    from codex_review.outputs import Option  # noqa: PLC0415

    assert isinstance(option, Option)
    default = getattr(Outputs(), option.field)
    # An empty variable is unset; a bad one is refused naming the variable.
    assert getattr(from_env({option.env: ""}), option.field) == default
    with pytest.raises(OutputsError, match=option.env):
        from_env({option.env: "not a valid value !"})


def test_agents_md_outputs_apply_below_the_workflow() -> None:
    text = (
        "# x\n\n## Review outputs\n\n- Inline: off\n- max inline: 5\n\n## Other\n\n- inline: on\n"
    )

    assert (from_agents_md(text).inline, from_agents_md(text).max_inline) == (False, 5)
    assert load({"CODEX_REVIEW_MAX_INLINE": "7"}, text).max_inline == 7


def test_agents_md_may_not_set_workflow_only_options() -> None:
    workflow_only = [option.name for option in OPTIONS if not option.agents_md]
    assert workflow_only
    for name in workflow_only:
        with pytest.raises(OutputsError, match="unknown output option"):
            from_agents_md(f"## Review outputs\n\n- {name}: 1\n")

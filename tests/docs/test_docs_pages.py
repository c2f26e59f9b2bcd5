"""The pages themselves: links and anchors resolve, examples are valid, numbers have one source."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.deploy.support import tofu_binary, tool_env

from .pages import DOCS, README, ROOT, Block, Link, all_blocks, anchors, links, pages

# Pages that other changes of this release add; linked already, checked once they exist.
# Remove an entry when its page has landed.
PAGES_FROM_OTHER_BRANCHES = {
    "docs/fork.md",
    "docs/review-rules.md",
    "docs/service.md",
}
README_MAX_LINES = 250
RESULTS = ROOT / "bench" / "RESULTS.md"
PERFORMANCE = DOCS / "performance.md"
# A number standing on its own: not part of a word (p99, python311) or of a longer number.
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def relative_links() -> list[Link]:
    return [
        link
        for page in pages()
        for link in links(page)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", link.href)  # https:, mailto:, ...
    ]


@pytest.mark.parametrize("link", relative_links(), ids=lambda link: link.id)
def test_relative_link_points_at_a_file_and_heading_that_exist(link: Link) -> None:
    path, _, anchor = link.href.partition("#")
    target = (link.page.parent / path).resolve() if path else link.page
    name = target.relative_to(ROOT).as_posix() if target.is_relative_to(ROOT) else str(target)
    if not target.exists() and name in PAGES_FROM_OTHER_BRANCHES:
        return
    assert target.exists(), f"{link.id}: names no file"
    if anchor:
        assert target.suffix == ".md", f"{link.id}: an anchor into a file that is not a page"
        assert anchor in anchors(target), f"{link.id}: {name} has no heading #{anchor}"


def test_the_readme_is_short_and_links_every_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
    linked = {(README.parent / link.href.partition("#")[0]).resolve() for link in links(README)}
    unlinked = [page.name for page in DOCS.glob("*.md") if page.resolve() not in linked]
    assert not unlinked, f"README.md links no {unlinked}"


def test_every_number_on_the_performance_page_is_in_the_results() -> None:
    recorded = set(NUMBER.findall(RESULTS.read_text(encoding="utf-8")))
    quoted = set(NUMBER.findall(PERFORMANCE.read_text(encoding="utf-8")))
    assert not quoted - recorded, f"not in bench/RESULTS.md: {sorted(quoted - recorded)}"


@pytest.mark.parametrize(
    "block", [b for b in all_blocks() if b.language == "yaml"], ids=lambda b: b.id
)
def test_yaml_example_parses(block: Block) -> None:
    assert list(yaml.safe_load_all(block.content)), f"{block.id} is empty"


@pytest.mark.parametrize(
    "block", [b for b in all_blocks() if b.language == "hcl"], ids=lambda b: b.id
)
def test_hcl_example_is_fmt_clean(block: Block, tmp_path: Path) -> None:
    result = subprocess.run(
        [tofu_binary(), "fmt", "-"],
        input=block.content,
        env=tool_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{block.id}: {result.stderr}"
    assert result.stdout == block.content, f"{block.id} is not as `fmt` writes it"

"""The documentation as data: its pages, their fenced blocks, links and headings (markdown-it)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

# Marks for a shell block that no test here can run; the word says what it needs.
MARKS = frozenset({"needs-cluster", "needs-github", "needs-image"})
# Languages of a block that shows output rather than commands.
OUTPUT_LANGUAGES = frozenset({"json", "text"})


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    marks: frozenset[str]
    content: str
    output: Block | None  # the json/text block right below, with only blank lines between

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Link:
    page: Path
    line: int
    href: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}:{self.href}"


def pages() -> list[Path]:
    """README.md and every page under docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


@cache
def _tokens(page: Path) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(page.read_text(encoding="utf-8"))


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of `page`, each with the output block that follows it, if any."""
    lines = page.read_text(encoding="utf-8").splitlines()
    fences = [t for t in _tokens(page) if t.type == "fence" and t.map is not None]
    found: list[Block] = []
    for fence in reversed(fences):  # from the end, so that each block's successor is built
        assert fence.map is not None
        start, end = fence.map
        language, *marks = fence.info.split()
        following = found[-1] if found else None
        output = None
        if (
            following is not None
            and following.language in OUTPUT_LANGUAGES
            and not any(line.strip() for line in lines[end : following.line - 1])
        ):
            output = following
        found.append(Block(page, start + 1, language, frozenset(marks), fence.content, output))
    return found[::-1]


def all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks(page)]


def links(page: Path) -> list[Link]:
    found = []
    for token in _tokens(page):
        if token.type != "inline" or token.map is None:
            continue
        for child in token.children or []:
            if child.type == "link_open":
                found.append(Link(page, token.map[0] + 1, str(child.attrs["href"])))
    return found


def anchors(page: Path) -> set[str]:
    """The #anchors GitHub gives the headings of `page` (github-slugger's rules)."""
    tokens = _tokens(page)
    seen: dict[str, int] = {}
    slugs = set()
    for token, following in itertools.pairwise(tokens):
        if token.type != "heading_open":
            continue
        text = "".join(
            child.content
            for child in following.children or []
            if child.type in ("text", "code_inline")
        )
        slug = github_slug(text)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        slugs.add(slug if count == 0 else f"{slug}-{count}")
    return slugs


def github_slug(heading: str) -> str:
    """Lower-case, punctuation and symbols dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")

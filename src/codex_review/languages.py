"""Languages by file extension, and the tree-sitter grammar that parses each of them.

A grammar is a PyPI wheel (``tree-sitter-rust``...) exposing a function that returns the
language pointer; it is loaded the first time a file of that language is reviewed. ``comments``
names the grammar's comment node types: suppression comments count only inside them, and the
text a rule checks for a mention (a password) leaves them out.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath

from tree_sitter import Language as Grammar


@dataclass(frozen=True)
class Language:
    """A language the bot reviews: its name, extensions, grammar and comment node types."""

    name: str
    extensions: tuple[str, ...]
    module: str
    function: str = "language"
    comments: frozenset[str] = field(default_factory=lambda: frozenset({"comment"}))

    @property
    def grammar(self) -> Grammar:
        return _grammar(self.module, self.function)


@cache
def _grammar(module: str, function: str) -> Grammar:
    return Grammar(getattr(importlib.import_module(module), function)())


_LINE_AND_BLOCK = frozenset({"line_comment", "block_comment"})

LANGUAGES: tuple[Language, ...] = (
    Language("rust", (".rs",), "tree_sitter_rust", comments=_LINE_AND_BLOCK),
    Language("go", (".go",), "tree_sitter_go"),
    Language("python", (".py",), "tree_sitter_python"),
    Language("javascript", (".js",), "tree_sitter_javascript",
             comments=frozenset({"comment", "html_comment"})),
    Language("typescript", (".ts",), "tree_sitter_typescript", "language_typescript"),
    Language("java", (".java",), "tree_sitter_java", comments=_LINE_AND_BLOCK),
    Language("c", (".c",), "tree_sitter_c"),
    Language("cpp", (".cpp",), "tree_sitter_cpp"),
    Language("csharp", (".cs",), "tree_sitter_c_sharp"),
    Language("ruby", (".rb",), "tree_sitter_ruby"),
    # The PHP grammar with inline HTML: text outside <?php ... ?> is not code.
    Language("php", (".php",), "tree_sitter_php", "language_php"),
)  # fmt: skip

_BY_EXTENSION: dict[str, Language] = {
    extension: language for language in LANGUAGES for extension in language.extensions
}
BY_NAME: dict[str, Language] = {language.name: language for language in LANGUAGES}

# The extensions the workflow hands to the bot; a test checks that both lists agree.
REVIEWED_EXTENSIONS: tuple[str, ...] = tuple(_BY_EXTENSION)


def language_for(path: str) -> Language | None:
    """The language of a repository path by its extension, or None for any other file."""
    return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())

"""Languages by file extension and their lexical syntax (comments and string literals).

The syntax is data: per language, regular-expression fragments for comments and literals,
compiled once into a single token pattern. The lexer (``lexer.py``) uses it to blank comments and
literals so that rules never fire inside them.

Two rules keep the scan fast: every fragment starts with a literal character (so the regex
engine can skip ahead to the next possible token instead of trying every position), and loops are
written "unrolled" (``"[^"\\]*(?:\\.[^"\\]*)*"``) instead of as per-character alternations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# Single-line quotes stop at the end of the line when unterminated, so a misread quote (say in a
# JavaScript regex literal) damages one line at most. Block constructs stop at their closing
# delimiter or at the end of the text.
_DQ_LINE = r'"[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"?'
_SQ_LINE = r"'[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*'?"
_DQ_MULTI = r'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\Z)'
_SQ_MULTI = r"'[^'\\]*(?:\\[\s\S][^'\\]*)*(?:'|\Z)"
_BACKTICK_ESCAPED = r"`[^`\\]*(?:\\[\s\S][^`\\]*)*(?:`|\Z)"
_CHAR = r"'(?:[^'\\\n]|\\[^\n][^'\n]{0,8})'"
_C_BLOCK = r"/\*[^*]*(?:\*+[^*/][^*]*)*(?:\*+/|\*+\Z|\Z)"
_SLASH_LINE = r"//[^\n]*"
_HASH_LINE = r"#[^\n]*"
_TRIPLE_SQ = r"'''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*(?:'''|\Z)"
_TRIPLE_DQ = r'"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*(?:"""|\Z)'


@dataclass(frozen=True)
class Language:
    """A language the bot reviews: its name, extensions and token syntax.

    ``tokens`` lists comment and literal fragments, leftmost-first (the leftmost token wins,
    which is how a lexer decides whether ``//`` sits inside a string); a token is a comment when
    it starts with one of ``comment_starts``.
    """

    name: str
    extensions: tuple[str, ...]
    comment_starts: tuple[str, ...]
    fragments: tuple[str, ...]
    tokens: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", re.compile("|".join(self.fragments)))


_C_LIKE = ("//", "/*")

# JavaScript and TypeScript lex alike (template literals included).
_JS_TOKENS = (_SLASH_LINE, _C_BLOCK, _BACKTICK_ESCAPED, _DQ_LINE, _SQ_LINE)

LANGUAGES: tuple[Language, ...] = (
    Language(
        "rust",
        (".rs",),
        _C_LIKE,
        (
            _SLASH_LINE,
            _C_BLOCK,
            # Raw strings r#"..."# are found at their first `#`; r"..." lexes like a plain string.
            r'#(?P<hashes>#*)"[\s\S]*?(?:"#(?P=hashes)|\Z)',
            _DQ_MULTI,
            # A char literal is one character or escape between quotes; `'a` alone is a lifetime.
            r"'(?:[^'\\\n]|\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|[^\n]))'",
        ),
    ),
    Language(
        "go",
        (".go",),
        _C_LIKE,
        (_SLASH_LINE, _C_BLOCK, r"`[^`]*(?:`|\Z)", _DQ_LINE, _CHAR),
    ),
    Language(
        "python",
        (".py",),
        ("#",),
        # String prefixes (r, b, f, u) do not change where a literal ends: match from the quote.
        (_HASH_LINE, _TRIPLE_SQ, _TRIPLE_DQ, _DQ_LINE, _SQ_LINE),
    ),
    Language(
        "javascript",
        (".js",),
        _C_LIKE,
        _JS_TOKENS,
    ),
    Language(
        "typescript",
        (".ts",),
        _C_LIKE,
        _JS_TOKENS,
    ),
    Language(
        "java",
        (".java",),
        _C_LIKE,
        (_SLASH_LINE, _C_BLOCK, _TRIPLE_DQ, _DQ_LINE, _CHAR),
    ),
    Language(
        "c",
        (".c",),
        _C_LIKE,
        (_SLASH_LINE, _C_BLOCK, _DQ_LINE, _CHAR),
    ),
    Language(
        "cpp",
        (".cpp",),
        _C_LIKE,
        (
            _SLASH_LINE,
            _C_BLOCK,
            r'R"(?P<delim>[^()\\\s"]{0,16})\([\s\S]*?(?:\)(?P=delim)"|\Z)',
            _DQ_LINE,
            _CHAR,
        ),
    ),
    Language(
        "csharp",
        (".cs",),
        _C_LIKE,
        (
            _SLASH_LINE,
            _C_BLOCK,
            r'@\$?"[^"]*(?:""[^"]*)*(?:"|\Z)',  # verbatim strings double their quotes
            r'\$@"[^"]*(?:""[^"]*)*(?:"|\Z)',
            r'\$"[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"?',
            _DQ_LINE,
            _CHAR,
        ),
    ),
    Language(
        "ruby",
        (".rb",),
        ("#", "=begin"),
        # =begin/=end only count at the start of a line (checked by the lookbehind).
        (r"=(?<![^\n]=)begin\b[\s\S]*?(?:\n=end\b[^\n]*|\Z)", _HASH_LINE, _DQ_MULTI, _SQ_MULTI),
    ),
    Language(
        "php",
        (".php",),
        ("//", "#", "/*"),
        (_SLASH_LINE, r"#(?!\[)[^\n]*", _C_BLOCK, _DQ_MULTI, _SQ_MULTI),
    ),
)

_BY_EXTENSION: dict[str, Language] = {
    extension: language for language in LANGUAGES for extension in language.extensions
}

# The extensions the workflow hands to the bot; a test checks that both lists agree.
REVIEWED_EXTENSIONS: tuple[str, ...] = tuple(_BY_EXTENSION)


def language_for(path: str) -> Language | None:
    """The language of a repository path by its extension, or None for any other file."""
    return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())

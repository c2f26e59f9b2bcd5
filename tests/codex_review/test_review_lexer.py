"""The lexer: what counts as a comment or a literal per language, and aligned views."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_review.languages import LANGUAGES, Language, language_for
from codex_review.lexer import scan

# (file, source, code view with runs of spaces shown as one): comments and literals become
# spaces, code stays. Exact alignment is the property test's job below.
MASKED = [
    ("a.rs", 'f("x // y"); // c', "f(         );     "),
    ("a.rs", "a /* b\nc */ d", "a     \n     d"),
    ("a.rs", 'r#"a "b" c"#; x', "r ; x"),
    ("a.rs", "fn f<'a>(s: &'a str) -> char { 'x' }", "fn f<'a>(s: &'a str) -> char {     }"),
    ("a.rs", "let c = '\\''; y", "let c =     ; y"),
    ("a.go", "s := `raw\n// not a comment` + x", "s :=     \n                  + x"),
    ("a.py", "x = 'a#b'  # c", "x =          "),
    ("a.py", 'd = """\nprint(1)\n"""\ny', "d =    \n        \n   \ny"),
    ("a.py", "s = r'\\d+' + f\"{x}\"", "s = r      + f     "),
    ("a.ts", "const t = `a ${b}\nc`; z", "const t =         \n  ; z"),
    ("a.js", "x = 'it\\'s' // end", "x =                "),
    ("A.java", 's = """\nblock\n"""; t', "s =    \n     \n   ; t"),
    ("a.c", 'char *s = "a\\"b"; /* c */', "char *s =       ;        "),
    ("a.cpp", 'auto s = R"(a "b" c)"; x', "auto s =              ; x"),
    ("A.cs", 'var s = @"a ""b"" c"; x', "var s =              ; x"),
    ("a.rb", "=begin\nputs 1\n=end\nputs 2 # c", "      \n      \n    \nputs 2    "),
    ("a.php", "#[Attr]\n$a = 1; # c", "#[Attr]\n$a = 1;    "),
]


@pytest.mark.parametrize(
    ("path", "source", "code"), MASKED, ids=[f"{p}:{s[:16]!r}" for p, s, _ in MASKED]
)
def test_comments_and_literals_are_blanked(path: str, source: str, code: str) -> None:
    assert re.sub(" +", " ", scan(source, language_for(path)).code) == re.sub(" +", " ", code)


def test_uncommented_keeps_literals_but_not_comments() -> None:
    views = scan('x("password") // password\n', language_for("a.rs"))

    assert views.uncommented(0, 25) == 'x("password")            '
    assert views.in_comment(len('x("password") //'))
    assert not views.in_comment(3)


def test_files_of_other_types_are_not_lexed() -> None:
    assert scan("a # b", None).code == "a # b"


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab \n\t'\"`#/*\\rR@$=()[]{}!")), max_size=80),
    language=st.sampled_from(LANGUAGES),
)
def test_views_keep_every_offset_and_line_break(text: str, language: Language) -> None:
    views = scan(text, language)

    assert len(views.code) == len(text)
    assert [i for i, ch in enumerate(views.code) if ch == "\n"] == [
        i for i, ch in enumerate(text) if ch == "\n"
    ]
    uncommented = views.uncommented(0, len(text))
    assert len(uncommented) == len(text)
    assert all(c in (" ", s) for c, s in zip(views.code, text, strict=True))

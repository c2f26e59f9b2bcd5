"""Per language, one case per syntax class a hand-written lexer got wrong: the code after (or
inside) the construct must be found, the look-alike inside comments and strings must not."""

from __future__ import annotations

import pytest

from codex_review.diff import ChangedFile, Hunk
from codex_review.guidelines import DEFAULT_POLICY
from codex_review.review import review_file


def _findings(path: str, text: str) -> set[tuple[int, str]]:
    """(line, rule) of every finding when the whole file is added and known."""
    lines = tuple(text.split("\n"))
    changed = ChangedFile(path, (Hunk(1, lines, tuple(range(1, len(lines) + 1))),))
    return {(f.line, f.rule) for f in review_file(changed, text, DEFAULT_POLICY)}


# (id, path, source, expected (line, rule) findings)
CASES = [
    # --- Rust
    ("rust-raw-string-ending-in-backslash", "a.rs",
     'fn f() {\n    let s = r"\\";\n    let v = x.unwrap();\n}', {(3, "rust-unwrap")}),
    ("rust-byte-raw-string-ending-in-backslash", "a.rs",
     'fn f() {\n    let s = br"\\"; let v = x.unwrap();\n}', {(2, "rust-unwrap")}),
    ("rust-nested-block-comment", "a.rs",
     "fn f() {\n    /* outer /* inner */ x.unwrap() */\n    let v = y.unwrap();\n}",
     {(3, "rust-unwrap")}),
    ("rust-code-in-macro-arguments", "a.rs",
     'fn f() {\n    println!("{} x.unwrap()", x.unwrap());\n}',
     {(2, "rust-println"), (2, "rust-unwrap")}),
    ("rust-chained-call-reports-the-method-line", "a.rs",
     "fn f() {\n    let v = x\n        .iter()\n        .unwrap();\n}", {(4, "rust-unwrap")}),
    # --- JavaScript
    ("js-regex-with-a-quote", "a.js", "s.replace(/'/g, '');\nconsole.log(s);",
     {(2, "js-console-log")}),
    ("js-regex-with-block-comment-opener", "a.js",
     's = s.replace(/\\/*$/, "");\nconsole.log(s);\n// */', {(2, "js-console-log")}),
    ("js-regex-with-a-backtick", "a.js", "const r = /`/; console.log(r);",
     {(1, "js-console-log")}),
    ("js-regex-with-line-comment-opener", "a.js", "const r = /\\/\\//; console.log(r);",
     {(1, "js-console-log")}),
    ("js-pattern-inside-a-regex", "a.js", "const r = /eval\\(x\\)/;", set()),
    ("js-nested-template", "a.js", "const s = `a ${`b ${eval(x)} console.log(y)`} c`;",
     {(1, "js-eval")}),
    ("js-jsx-text-with-an-apostrophe", "a.js",
     "const el = <p>Don't console.log(x)</p>;\nconsole.log(y);", {(2, "js-console-log")}),
    ("js-var-in-a-for-in-header", "a.js", "for (var k in o) {}\nconst s = 'var x';",
     {(1, "js-var")}),
    # --- TypeScript
    ("ts-regex-with-block-comment-opener", "a.ts",
     'let s: string = t.replace(/\\/*$/, "");\nconsole.log(s);\n// */',
     {(2, "js-console-log")}),
    ("ts-nested-template", "a.ts", "const s = `${`${eval(x)}`} eval(y)`;", {(1, "js-eval")}),
    ("ts-any-in-a-string-is-not-a-type", "a.ts", 'const s = "x as any";\nlet y = z as any;',
     {(2, "ts-any")}),
    # --- Python
    ("py-code-in-f-string-field", "a.py", 'x = f"{eval(s)} eval(t)"', {(1, "py-eval")}),
    ("py-312-quote-reuse-in-f-string", "a.py", 's = f"{d["k"]}"; print(s)',
     {(1, "py-print")}),
    ("py-triple-quoted-string", "a.py", 's = """\nprint(x)\n"""\nprint(y)', {(4, "py-print")}),
    # --- C and C++
    ("c-line-comment-continued-by-backslash", "a.c",
     "void f(void) {\n    // note \\\n    system(cmd);\n    system(x);\n}", {(4, "c-system")}),
    ("cpp-line-comment-continued-by-backslash", "a.cpp",
     "void f() {\n    // note \\\n    system(cmd);\n    std::system(x);\n}", {(4, "c-system")}),
    ("cpp-raw-string", "a.cpp",
     'void f() {\n    auto s = R"x(strcpy(a, b) )" )x";\n    strcpy(a, b);\n}',
     {(3, "c-unbounded-copy")}),
    # --- C#
    ("cs-multi-line-raw-string", "A.cs",
     'class A { void M() {\n    var s = """\n        Console.WriteLine(x)\n        """;\n'
     "    Console.WriteLine(y);\n} }", {(5, "cs-console-write")}),
    ("cs-code-in-interpolation", "A.cs",
     'class A { void M() {\n    var s = $"a {Console.Write(x)} Console.Write(y)";\n} }',
     {(2, "cs-console-write")}),
    ("cs-region-text", "A.cs",
     "class A {\n#region Console.WriteLine(x)\n#endregion\n}", set()),
    # --- Ruby
    ("rb-heredoc", "a.rb", "x = <<~EOS\n  eval(code)\nEOS\neval(y)", {(4, "rb-eval")}),
    ("rb-percent-literals", "a.rb",
     "a = %q(eval(x))\nb = %Q[eval(x)]\nc = %w[eval debugger]\nd = %i[eval]\ne = %r{eval\\(}\n"
     "eval(y)", {(6, "rb-eval")}),
    ("rb-regex-literal", "a.rb", "r = /eval\\(x\\)/\neval(y)", {(2, "rb-eval")}),
    ("rb-character-literal-quote", "a.rb", "c = ?'\neval(x)", {(2, "rb-eval")}),
    ("rb-post-match-global", "a.rb", "puts $'\neval(x)", {(2, "rb-eval")}),
    ("rb-code-in-interpolation", "a.rb", 's = "#{eval(x)} eval(y)"', {(1, "rb-eval")}),
    ("rb-end-section", "a.rb", "eval(x)\n__END__\neval(y)\nbinding.pry", {(1, "rb-eval")}),
    # --- PHP
    ("php-heredoc", "a.php", "<?php\n$s = <<<EOT\neval($x);\nEOT;\neval($y);",
     {(5, "php-eval")}),
    ("php-nowdoc", "a.php", "<?php\n$s = <<<'EOT'\nvar_dump($x);\nEOT;\nvar_dump($y);",
     {(5, "php-debug-output")}),
    ("php-inline-html", "a.php", "<p>eval($x)</p>\n<?php eval($y); ?>", {(2, "php-eval")}),
    ("php-backtick-shell-string", "a.php", "<?php\n$o = `var_dump $x`;\nvar_dump($o);",
     {(3, "php-debug-output")}),
    # --- Go and Java
    ("go-raw-string", "a.go", 'package p\nfunc f() {\n\ts := `fmt.Println("x")`\n\tpanic(s)\n}',
     {(4, "go-panic")}),
    ("go-rune-quote", "a.go", "package p\nfunc f() {\n\tc := '\"'; panic(c)\n}",
     {(3, "go-panic")}),
    ("java-text-block", "A.java",
     'class A { void m() {\n    String s = """\n        System.out.println(x);\n        """;\n'
     "    System.out.println(s);\n} }", {(5, "java-system-out")}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "source", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_code_is_found_and_lookalikes_in_comments_and_strings_are_not(
    path: str, source: str, expected: set[tuple[int, str]]
) -> None:
    assert _findings(path, source) == expected


# --- the four rules that could not be right as text ---------------------------------------------
UNSOUND = [
    ("go-password-format-matches-fmt-printf", "a.go",
     'package p\nfunc f() {\n\tfmt.Printf("password %s", pw)\n\tfmt.Printf("user %s", u)\n}',
     {(3, "go-fmt-print"), (3, "go-password-format"), (4, "go-fmt-print")}),
    ("go-password-format-matches-sprintf-and-errorf", "a.go",
     'package p\nfunc f() error {\n\t_ = fmt.Sprintf("%s", password)\n'
     '\treturn fmt.Errorf("bad passwd %q", p)\n}',
     {(3, "go-password-format"), (4, "go-password-format")}),
    ("yaml-loader-in-a-string-does-not-silence", "a.py",
     'c = yaml.load(x, "Loader=SafeLoader")', {(1, "py-yaml-load")}),
    ("yaml-safe-loader-argument-silences", "a.py",
     "a = yaml.load(x, Loader=yaml.SafeLoader)\nb = yaml.load(x, yaml.CSafeLoader)", set()),
    ("yaml-unsafe-loader-argument-does-not-silence", "a.py",
     "a = yaml.load(x, Loader=yaml.UnsafeLoader)", {(1, "py-yaml-load")}),
    ("mutable-default-on-a-later-line-of-the-signature", "a.py",
     "def f(\n    a,\n    b: list[int] = [],\n    c={},\n):\n    pass",
     {(3, "py-mutable-default"), (4, "py-mutable-default")}),
    ("mutable-default-in-a-string-is-not-one", "a.py", 'def f(a="[]", b=None):\n    pass',
     set()),
    ("rb-eval-only-as-a-call", "a.rb",
     "def eval(x)\nend\neval = 1\nx = :eval\ny = obj.eval\neval(code)\neval 'x'\n"
     "obj.instance_eval { run }", {(6, "rb-eval"), (7, "rb-eval"), (8, "rb-eval")}),
    ("rb-debugger-only-as-a-statement-or-call", "a.rb",
     "def debugger\nend\ndebugger = 1\nx = :debugger\ndebugger\nbyebug if ENV['X']\n"
     "binding.pry", {(5, "rb-debugger"), (6, "rb-debugger"), (7, "rb-debugger")}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "source", "expected"), [c[1:] for c in UNSOUND],
                         ids=[c[0] for c in UNSOUND])  # fmt: skip
def test_rules_that_were_unsound_as_text_match_syntax(
    path: str, source: str, expected: set[tuple[int, str]]
) -> None:
    assert _findings(path, source) == expected

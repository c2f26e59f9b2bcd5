"""The rule tables and the engine: what fires, what does not, and where it is silenced."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.workflows.workflow_files import load

from codex_review.diff import ChangedFile, Hunk
from codex_review.guidelines import DEFAULT_POLICY
from codex_review.languages import LANGUAGES, REVIEWED_EXTENSIONS
from codex_review.models import Finding, Severity
from codex_review.review import REDACTED, review_file
from codex_review.rules import RULES_BY_LANGUAGE, RUST, SECRETS, Rule, all_rules

# The extensions the review workflow hands the bot: each must have a language.
WORKFLOW_EXTENSIONS = load("codex-review.yml")["jobs"]["review"]["env"]["REVIEW_EXTENSIONS"].split()


def _file(path: str, text: str, added: set[int] | None = None) -> ChangedFile:
    lines = tuple(text.split("\n"))
    numbers = tuple(n for n in range(1, len(lines) + 1) if added is None or n in added)
    return ChangedFile(path, (Hunk(1, lines, numbers),))


def _rules_fired(path: str, text: str, source: str | None = None) -> list[str]:
    return [f.rule for f in review_file(_file(path, text), source, DEFAULT_POLICY)]


# (rule, file, line that fires it, a close line that must not)
EXAMPLES = [
    ("rust-unwrap", "a.rs", "let v = s.parse::<u8>().unwrap();", "let v = s.unwrap_or(0);"),
    ("rust-println", "a.rs", 'println!("hi {}", x);', "eprintln_helper(x);"),
    ("rust-vec-new-push", "a.rs", "Vec::new().push(1);", "Vec::with_capacity(1).push(1);"),
    ("rust-clone", "a.rs", "let b = a.clone();", "let b = a.clone_from(&c);"),
    ("rust-panic", "a.rs", 'panic!("boom");', "let panicked = true;"),
    ("rust-expect", "a.rs", 'let f = File::open(p).expect("open");', "fn expect(x: u8) {}"),
    ("rust-unsafe", "a.rs", "unsafe { ptr.read() }", "let unsafe_count = 1;"),
    ("rust-println-password", "a.rs", 'println!("password: {}", p);', 'println!("user: {}", u);'),
    ("rust-dbg-password", "a.rs", "dbg!(&password);", "dbg!(&user);"),
    ("go-fmt-print", "a.go", 'fmt.Println("hi")', 'log.Println("hi")'),
    ("go-defer-unchecked", "a.go", "\tdefer f.Close()", "\tdefer mu.Unlock()"),
    ("go-password-format", "a.go", 'msg := fmt.Sprintf("pw=%s", password)', 'fmt.Sprintf("%s", u)'),
    ("go-panic", "a.go", 'panic("no")', "t.panicked = true"),
    ("go-insecure-tls", "a.go", "cfg := &tls.Config{InsecureSkipVerify: true}", "Insecure: false"),
    ("py-print", "a.py", "print(value)", "pprint(value)"),
    ("py-breakpoint", "a.py", "breakpoint()", "set_breakpoint_handler()"),
    (
        "py-bare-except",
        "a.py",
        "try:\n    run()\nexcept:\n    pass",
        "try:\n    run()\nexcept ValueError:\n    pass",
    ),
    ("py-mutable-default", "a.py", "def f(x, items=[]):", "def f(x, items=None):"),
    ("py-eval", "a.py", "result = eval(expr)", "result = literal_eval(expr)"),
    ("py-shell-true", "a.py", "subprocess.run(cmd, shell=True)", "subprocess.run(cmd)"),
    ("py-pickle", "a.py", "obj = pickle.loads(data)", "obj = json.loads(data)"),
    ("py-yaml-load", "a.py", "cfg = yaml.load(f)", "cfg = yaml.load(f, Loader=yaml.SafeLoader)"),
    ("py-tls-verify-off", "a.py", "requests.get(u, verify=False)", "requests.get(u, verify=ca)"),
    ("py-print-password", "a.py", 'logger.info("password %s", pw)', 'logger.info("user %s", u)'),
    ("js-console-log", "a.js", "console.log(x);", "logger.info(x);"),
    ("js-debugger", "a.js", "debugger;", "const debuggerEnabled = true;"),
    ("js-eval", "a.js", "eval(code);", "evaluate(code);"),
    ("js-inner-html", "a.js", "el.innerHTML = html;", "el.textContent = html;"),
    ("js-var", "a.js", "var x = 1;", "let variance = 1;"),
    ("js-console-password", "a.js", "console.log('password', pw);", "console.log('user', u);"),
    ("ts-any", "a.ts", "let data: any = {};", "let company: Company = {};"),
    ("java-system-out", "A.java", 'System.out.println("x");', 'log.info("x");'),
    ("java-print-stack-trace", "A.java", "e.printStackTrace();", "log.error(e);"),
    ("java-log-password", "A.java", 'log.info("password " + pw);', 'log.info("user " + u);'),
    ("c-gets", "a.c", "gets(buf);", "fgets(buf, n, stdin);"),
    ("c-unbounded-copy", "a.cpp", "strcpy(dst, src);", "strncpy(dst, src, n);"),
    ("c-system", "a.c", "system(cmd);", "filesystem(cmd);"),
    ("cs-console-write", "A.cs", 'Console.WriteLine("x");', '_logger.LogInformation("x");'),
    ("cs-log-password", "A.cs", 'Console.WriteLine("password" + p);', "Console.Read();"),
    ("rb-debugger", "a.rb", "binding.pry", "binding_of(x)"),
    ("rb-eval", "a.rb", "eval(code)", "evaluate(code)"),
    ("php-debug-output", "a.php", "var_dump($x);", "dump_var($x);"),
    ("php-eval", "a.php", "eval($code);", "evaluate($code);"),
    ("secret-private-key", "k.py", 'K = """-----BEGIN RSA PRIVATE KEY-----', "BEGIN = 1"),
    ("secret-aws-access-key", "a.go", 'key := "AKIAIOSFODNN7EXAMPLE"', 'key := "AKIA-not"'),
    ("secret-github-token", "a.ts", f"const t = 'ghp_{'a' * 36}';", "const t = 'ghp_short';"),
    ("secret-password-assignment", "a.py", 'password = "hunter22"', 'password = os.environ["PW"]'),
]


@pytest.mark.parametrize(
    ("rule", "path", "firing", "quiet"), EXAMPLES, ids=[example[0] for example in EXAMPLES]
)
def test_each_rule_fires_on_its_pattern_and_not_on_a_lookalike(
    rule: str, path: str, firing: str, quiet: str
) -> None:
    assert rule in _rules_fired(path, firing)
    assert rule not in _rules_fired(path, quiet)


def test_every_enabled_rule_has_an_example() -> None:
    enabled = {rule.id for rule in all_rules() if rule.enabled}
    assert enabled <= {example[0] for example in EXAMPLES}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.id)
def test_every_rule_is_well_formed(rule: Rule) -> None:
    assert re.fullmatch(r"[a-z]+(?:-[a-z0-9]+)+", rule.id)
    assert rule.category in {"bugs", "security", "best_practices"}
    assert rule.needles, "the engine finds candidate files by needle"
    assert rule.message
    assert not rule.message.endswith(".")


@pytest.mark.parametrize("example", EXAMPLES, ids=[example[0] for example in EXAMPLES])
def test_a_firing_line_contains_one_of_the_rules_needles(
    example: tuple[str, str, str, str],
) -> None:
    # The engine only parses files holding a needle of an enabled rule: a needle-less match
    # would silently never be reported.
    rule = next(r for r in all_rules() if r.id == example[0])
    line = example[2].lower() if rule.ignore_case else example[2]
    assert any(needle in line for needle in rule.needles)


def test_the_seed_rust_rules_keep_the_seed_categories_and_messages() -> None:
    seed = {
        "rust-unwrap": (
            "best_practices",
            "Consider using proper error handling instead of unwrap()",
        ),
        "rust-println": ("best_practices", "Prefer logging over println! for production code"),
        "rust-vec-new-push": ("best_practices", "Use Vec::with_capacity() when size is known"),
        "rust-clone": ("best_practices", "Avoid unnecessary clones, consider references"),
        "rust-panic": ("bugs", "Avoid panic! in production code, use Result<T, E>"),
        "rust-expect": ("bugs", "Replace expect() with proper error handling"),
        "rust-unsafe": ("bugs", "Unsafe block detected - ensure it's necessary and safe"),
        "rust-println-password": ("security", "Don't log passwords or sensitive data"),
        "rust-dbg-password": ("security", "Don't include passwords in debug output"),
    }
    assert {rule.id: (rule.category, rule.message) for rule in RUST} == seed


@pytest.mark.parametrize(
    ("rule", "severity"),
    [
        ("rust-println-password", Severity.ERROR),
        ("rust-unwrap", Severity.WARNING),
        ("rust-clone", Severity.INFO),
        ("secret-aws-access-key", Severity.ERROR),
    ],
    ids=["printing-a-password-is-an-error", "unwrap-is-a-warning", "clone-is-info", "secret"],
)
def test_default_severities_are_meaningful(rule: str, severity: Severity) -> None:
    assert next(r for r in all_rules() if r.id == rule).severity is severity


def test_languages_cover_exactly_the_workflow_extensions() -> None:
    assert sorted(REVIEWED_EXTENSIONS) == sorted(WORKFLOW_EXTENSIONS)
    assert set(RULES_BY_LANGUAGE) == {language.name for language in LANGUAGES}


# --- comments and literals ------------------------------------------------------------------------
QUIET = [
    ("a.rs", "// x.unwrap() in a line comment"),
    ("a.rs", "/* x.unwrap() in a block comment */ let a = 1;"),
    ("a.rs", 'let s = "x.unwrap() in a string";'),
    ("a.rs", 'let s = r#"x.unwrap() and "quotes" in a raw string"#;'),
    ("a.rs", "let c = '\"'; // then x.unwrap()"),
    ("a.go", "s := `fmt.Println( in a raw string`"),
    ("a.py", "# print(x) in a comment"),
    ("a.py", "s = 'print(x) in a string'"),
    ("a.py", 's = f"{x} print(x) in an f-string"'),
    ("a.ts", "const s = `console.log( in a template`;"),
    ("a.js", "const s = 'a \\' console.log( after an escaped quote';"),
    ("a.php", "# var_dump($x) in a hash comment"),
    ("a.rb", "# binding.pry in a comment"),
    ("A.cs", '@"Console.WriteLine( in a verbatim ""string"""'),
]


@pytest.mark.parametrize(("path", "line"), QUIET, ids=[f"{p}:{line[:24]}" for p, line in QUIET])
def test_rules_do_not_fire_inside_comments_or_literals(path: str, line: str) -> None:
    assert _rules_fired(path, line) == []


def test_code_after_a_closed_string_is_still_reviewed() -> None:
    assert _rules_fired("a.rs", 'let s = "a"; let v = x.unwrap();') == ["rust-unwrap"]


def test_case_blind_rules_still_fire_below_letters_that_lower_casing_lengthens() -> None:
    # "İ".lower() is two characters: offsets from a lower-cased copy would miss the line below.
    text = "label = '" + "İ" * 41 + "'\n" + 'print("password", pw)\nz = 2'

    assert "py-print-password" in _rules_fired("a.py", text)


def test_a_block_comment_opened_above_the_hunk_is_known_from_the_post_image_file() -> None:
    source = "/*\n * usage:\n *   let v = x.unwrap();\n */\nfn main() {}\n"
    changed = ChangedFile("src/a.rs", (Hunk(3, (" *   let v = x.unwrap();",), (3,)),))

    assert review_file(changed, None, DEFAULT_POLICY)[0].rule == "rust-unwrap"  # hunk alone
    assert review_file(changed, source, DEFAULT_POLICY) == []  # whole file known


def test_a_post_image_file_that_disagrees_with_the_diff_is_not_trusted() -> None:
    source = "/*\nunrelated\n*/\n"
    changed = ChangedFile("src/a.rs", (Hunk(2, ("let v = x.unwrap();",), (2,)),))

    assert [f.rule for f in review_file(changed, source, DEFAULT_POLICY)] == ["rust-unwrap"]


def test_only_added_lines_are_reported() -> None:
    text = "let a = x.unwrap();\nlet b = y.unwrap();\nlet c = z.unwrap();"
    findings = review_file(_file("a.rs", text, added={2}), None, DEFAULT_POLICY)

    assert [(f.line, f.code) for f in findings] == [(2, "let b = y.unwrap();")]


# --- suppression ----------------------------------------------------------------------------------
SILENCED = [
    ("a.rs", "let v = x.unwrap(); // codex-review: ignore", []),
    ("a.rs", "// codex-review: ignore\nlet v = x.unwrap();", []),
    ("a.rs", "let v = x.unwrap(); // codex-review: ignore[rust-unwrap]", []),
    ("a.rs", "let v = x.clone().unwrap(); // codex-review: ignore[rust-unwrap]", ["rust-clone"]),
    ("a.rs", "let v = x.unwrap(); // codex-review: ignore[rust-clone]", ["rust-unwrap"]),
    ("a.py", "print(x)  # codex-review: ignore[py-print, py-eval]", []),
    ("a.rs", 'let v = x.unwrap(); let s = "codex-review: ignore";', ["rust-unwrap"]),
    ("a.rs", "// codex-review: ignore\n\nlet v = x.unwrap();", ["rust-unwrap"]),
    ("a.py", 'TIMEOUT = 5  # codex-review: ignore\nresult = eval(os.environ["X"])', ["py-eval"]),
    ("a.rs", "let a = 1; // codex-review: ignore\nlet v = x.unwrap();", ["rust-unwrap"]),
    ("a.rs", "/*\n * codex-review: ignore[rust-unwrap]\n */\nlet v = x.unwrap();", ["rust-unwrap"]),
    ("a.rs", "    /* codex-review: ignore */\n    let v = x.unwrap();", []),
    ("a.py", "    # codex-review: ignore[py-eval]\n    eval(x)", []),
]


@pytest.mark.parametrize(
    ("path", "text", "remaining"),
    SILENCED,
    ids=[
        "same-line",
        "line-above",
        "named-rule",
        "other-rule-still-fires",
        "wrong-rule-does-not-silence",
        "list-of-rules",
        "marker-in-a-string-does-not-count",
        "two-lines-above-does-not-count",
        "a-trailing-comment-does-not-silence-the-next-line",
        "a-trailing-comment-in-rust-neither",
        "a-block-comment-line-silences-only-the-line-after-it",
        "an-indented-block-comment-above",
        "an-indented-comment-above",
    ],
)
def test_inline_suppression_comments(path: str, text: str, remaining: list[str]) -> None:
    assert _rules_fired(path, text) == remaining


# --- secrets --------------------------------------------------------------------------------------
SECRET_LINES = [
    ('aws = "AKIAIOSFODNN7EXAMPLE"', "AKIAIOSFODNN7EXAMPLE"),
    (f"token = 'ghp_{'Z' * 36}'", f"ghp_{'Z' * 36}"),
    ('DB_PASSWORD := "s3cr3t-value"', "s3cr3t-value"),
    ('"password": "in-json-too"', "in-json-too"),
]


@pytest.mark.parametrize(
    ("line", "secret"), SECRET_LINES, ids=["aws", "github", "go-assign", "json"]
)
def test_secrets_are_errors_and_never_repeated_in_the_report(line: str, secret: str) -> None:
    findings: list[Finding] = review_file(_file("conf.go", line), None, DEFAULT_POLICY)

    assert findings
    assert {f.severity for f in findings} == {Severity.ERROR}
    assert all(f.category == "security" for f in findings)
    for finding in findings:
        assert secret not in finding.code
        assert secret not in finding.message
        assert REDACTED in finding.code


def test_secrets_are_found_in_comments_too() -> None:
    assert _rules_fired("a.rs", "// AKIAIOSFODNN7EXAMPLE") == ["secret-aws-access-key"]


def test_secrets_are_found_in_files_of_any_type() -> None:
    assert _rules_fired("deploy/values.yaml", "password: hunter2hunter2") == []
    assert _rules_fired("deploy/values.yaml", 'password: "hunter2"') == [
        "secret-password-assignment"
    ]


def test_other_findings_on_a_secret_line_are_redacted_too() -> None:
    findings = review_file(
        _file("a.rs", 'let k = cfg("AKIAIOSFODNN7EXAMPLE").unwrap();'), None, DEFAULT_POLICY
    )

    assert {f.rule for f in findings} == {"rust-unwrap", "secret-aws-access-key"}
    assert all("AKIAIOSFODNN7EXAMPLE" not in f.code for f in findings)


@pytest.mark.parametrize("rule", SECRETS, ids=lambda rule: rule.id)
def test_secret_rules_run_on_the_source_and_name_the_secret(rule: Rule) -> None:
    assert rule.on_source
    assert rule.regex is not None
    assert "secret" in rule.regex.groupindex


# Long, repetitive lines (minified or hostile code) are reviewed like any other; these inputs
# once made a backtracking pattern take quadratic time, so they stay here as regressions. The
# nested calls stop at 1,000 deep (0.03 s): 5,000 on one line took from 0.1 s to 6 s from one
# interpreter to the next, in-process, and past 2 s the time bound stops the file instead.
LONG_LINES = [
    ("a.rs", "x" * 50_000 + "password" * 2_000 + ".unwrap()" * 100, {"rust-unwrap"}),
    ("a.py", "yaml.load(" * 5_000 + ")" * 5_000, {"py-yaml-load"}),
    # Every call but the innermost has a safe Loader: each of the 1,000 matches is checked.
    ("a.py", "yaml.load(" * 1_000 + "x)" + ", Loader=yaml.SafeLoader)" * 999, {"py-yaml-load"}),
    ("a.py", "x.password" * 5_000 + ' = "leaked"', {"secret-password-assignment"}),
    ("a.go", "\tdefer " + "a." * 20_000 + "Close()", {"go-defer-unchecked"}),
    ("a.js", "var s = '" + "a\\'" * 20_000 + "'; console.log(1)", {"js-var", "js-console-log"}),
]


@pytest.mark.parametrize(
    ("path", "line", "rules"), LONG_LINES, ids=[f"{p}-{sorted(r)[0]}" for p, _, r in LONG_LINES]
)
def test_long_repetitive_lines_are_reviewed(path: str, line: str, rules: set[str]) -> None:
    assert set(_rules_fired(path, line)) == rules


def test_the_rule_docs_list_every_rule_with_its_category_and_severity() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "review-rules.md"
    section = page.read_text(encoding="utf-8")

    for rule in all_rules():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{rule.id}`"))
        assert f"| {rule.category} | {rule.severity.label}" in row

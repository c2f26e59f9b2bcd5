"""The review rules, as data: one table per language plus cross-language secret detection.

A rule's ``pattern`` runs on the *code* view of a line (comments and string literals blanked);
``requires``, when set, must also match the line with only comments blanked, which is how
"a print whose arguments mention a password" is expressed; ``unless``, when set, must not match
that line (``yaml.load`` is fine with ``Loader=SafeLoader``). ``needles`` are plain substrings,
one of which every match contains: the engine finds candidate lines with ``str.find`` and runs
the regular expressions on those lines only, which is what makes a review fast.
Secret rules run on the line as written (a key in a comment is leaked all the same) and name the
secret in group ``secret`` so that reports can redact it. ``names`` are the spellings an
AGENTS.md directive may use for the rule besides its id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from codex_review.models import Severity

# The seed's three categories, spelled as the seed's JSON spelled them.
BUGS = "bugs"
SECURITY = "security"
BEST = "best_practices"

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO

_SENSITIVE = r"(?i)passw(?:or)?d"
# Rules that need a password on the line find their candidate lines by that word: it is much
# rarer than "print(" or "log", and every match of theirs contains it.
_SENSITIVE_NEEDLES = ("passw",)


@dataclass(frozen=True)
class Rule:
    """One check: what it says, how bad it is, and the pattern that triggers it."""

    id: str
    category: str
    severity: Severity
    message: str
    pattern: str
    needles: tuple[str, ...]
    requires: str | None = None
    unless: str | None = None
    names: tuple[str, ...] = ()
    on_source: bool = False
    ignore_case: bool = False
    enabled: bool = True
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    requires_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    unless_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # MULTILINE: the engine searches a line inside a larger text (pos/endpos), where ^ and $
        # must mean the line's start and end.
        object.__setattr__(self, "regex", re.compile(self.pattern, re.MULTILINE))
        required = re.compile(self.requires, re.MULTILINE) if self.requires else None
        object.__setattr__(self, "requires_regex", required)
        unless = re.compile(self.unless) if self.unless else None
        object.__setattr__(self, "unless_regex", unless)


_LOG_MESSAGE = "Don't log passwords or sensitive data"


def _logs_password(
    rule_id: str, call: str, message: str = _LOG_MESSAGE, names: tuple[str, ...] = ()
) -> Rule:
    """A call (`call`, a regex) whose arguments mention a password. Its candidate lines are
    found by the word itself, in any case (it is much rarer than the call), so the needle, the
    requirement and ignore_case belong together."""
    return Rule(
        rule_id, SECURITY, ERROR, message, call, _SENSITIVE_NEEDLES,
        requires=_SENSITIVE, names=names, ignore_case=True,
    )  # fmt: skip


# --- Rust: the seed's nine rules, with the seed's categories and messages -----------------------
RUST: tuple[Rule, ...] = (
    Rule("rust-unwrap", BEST, WARNING,
         "Consider using proper error handling instead of unwrap()",
         r"\.unwrap\(\)", (".unwrap()",), names=("unwrap()", "unwrap", ".unwrap()")),
    Rule("rust-println", BEST, INFO,
         "Prefer logging over println! for production code",
         r"(?<![\w])println!\s*\(", ("println!",), names=("println!", "println")),
    Rule("rust-vec-new-push", BEST, INFO,
         "Use Vec::with_capacity() when size is known",
         r"\bVec::new\(\)\.push\(", ("Vec::new().push(",),
         names=("Vec::new().push(", "Vec::new().push()")),
    Rule("rust-clone", BEST, INFO,
         "Avoid unnecessary clones, consider references",
         r"\.clone\(\)", (".clone()",), names=(".clone()", "clone()", "clone")),
    Rule("rust-panic", BUGS, WARNING,
         "Avoid panic! in production code, use Result<T, E>",
         r"(?<![\w])panic!\s*[(\[{]", ("panic!",), names=("panic!", "panic")),
    Rule("rust-expect", BUGS, WARNING,
         "Replace expect() with proper error handling",
         r"\.expect\(", (".expect(",), names=("expect()", "expect(", ".expect()", "expect")),
    Rule("rust-unsafe", BUGS, WARNING,
         "Unsafe block detected - ensure it's necessary and safe",
         r"(?<![\w])unsafe\s*(?:\{|fn\b|impl\b|trait\b|extern\b)", ("unsafe",),
         names=("unsafe",)),
    _logs_password("rust-println-password", r"(?<![\w])e?println!\s*\("),
    _logs_password("rust-dbg-password", r"(?<![\w])dbg!\s*\(",
                   message="Don't include passwords in debug output", names=("dbg!", "dbg")),
)  # fmt: skip

# --- Go ------------------------------------------------------------------------------------------
GO: tuple[Rule, ...] = (
    Rule("go-fmt-print", BEST, INFO,
         "Use logging instead of fmt.Print",
         r"\bfmt\.Print(?:f|ln)?\(", ("fmt.Print",),
         names=("fmt.Print", "fmt.Println", "fmt.Printf")),
    Rule("go-defer-unchecked", BUGS, WARNING,
         "Check for errors before defer: the error returned by this deferred call is dropped",
         r"^[ \t]*defer\s+[\w.\[\]]+\.(?:Close|Flush|Sync|Commit)\(\)\s*;?\s*$", ("defer",),
         names=("defer", "defer Close()")),
    _logs_password("go-password-format",
                   r"\b(?:fmt\.(?:S|F|)print(?:f|ln)?|fmt\.Errorf"
                   r"|log\.(?:Print|Fatal|Panic)(?:f|ln)?|slog\.\w+|errors\.New)\s*\(",
                   message="Don't include passwords in formatted strings"),
    Rule("go-panic", BUGS, WARNING,
         "Avoid panic in production code, return an error",
         r"(?<![\w.])panic\(", ("panic(",), names=("panic()", "panic(")),
    Rule("go-insecure-tls", SECURITY, ERROR,
         "InsecureSkipVerify: true disables TLS certificate verification",
         r"\bInsecureSkipVerify\s*:\s*true\b", ("InsecureSkipVerify",),
         names=("InsecureSkipVerify",)),
    Rule("go-blank-error", BUGS, INFO,
         "A returned value (usually an error) is discarded with _ =",
         r"^[ \t]*_\s*=\s*[\w.]+\(", ("_ =", "_="), names=("_ =", "blank error"), enabled=False),
)  # fmt: skip

# --- Python --------------------------------------------------------------------------------------
PYTHON: tuple[Rule, ...] = (
    Rule("py-print", BEST, INFO,
         "Prefer logging over print() for production code",
         r"(?<![\w.])print\(", ("print(",), names=("print()", "print")),
    Rule("py-breakpoint", BUGS, ERROR,
         "Remove the debugger breakpoint before merging",
         r"(?<![\w.])breakpoint\(\)|\bi?pdb\.set_trace\(\)", ("breakpoint()", "set_trace()"),
         names=("breakpoint()", "pdb.set_trace()")),
    Rule("py-bare-except", BUGS, WARNING,
         "Bare except: also catches SystemExit and KeyboardInterrupt; catch Exception or narrower",
         r"^[ \t]*except\s*:", ("except",), names=("except:", "bare except")),
    Rule("py-mutable-default", BUGS, WARNING,
         "Mutable default argument is shared between calls; default to None",
         r"\bdef\s+\w+\s*\(.*=\s*(?:\[\]|\{\}|set\(\)|dict\(\)|list\(\))\s*[,)]", ("def ",),
         names=("mutable default",)),
    Rule("py-eval", SECURITY, ERROR,
         "eval()/exec() run arbitrary code; parse the input instead",
         r"(?<![\w.])(?:eval|exec)\(", ("eval(", "exec("),
         names=("eval()", "exec()", "eval", "exec")),
    Rule("py-shell-true", SECURITY, WARNING,
         "subprocess with shell=True is open to shell injection; pass an argument list",
         r"\bshell\s*=\s*True\b", ("shell",), names=("shell=True",)),
    Rule("py-pickle", SECURITY, WARNING,
         "pickle runs code while loading; never unpickle untrusted data",
         r"\b(?:c?pickle|dill)\.loads?\(", ("pickle.", "dill."),
         names=("pickle.load()", "pickle.loads()", "pickle")),
    Rule("py-yaml-load", SECURITY, WARNING,
         "yaml.load() without a safe Loader can construct arbitrary objects; use yaml.safe_load()",
         r"\byaml\.load\(", ("yaml.load(",), unless=r"\bLoader\s*=\s*(?:yaml\.)?C?SafeLoader\b",
         names=("yaml.load()", "yaml.load")),
    Rule("py-tls-verify-off", SECURITY, ERROR,
         "verify=False disables TLS certificate verification",
         r"\bverify\s*=\s*False\b", ("verify",), names=("verify=False",)),
    _logs_password("py-print-password",
                   r"(?<![\w.])print\(|\b(?:log|logger|logging)\.(?:debug|info|warning|error"
                   r"|critical|exception)\("),
)  # fmt: skip

# --- JavaScript and TypeScript -------------------------------------------------------------------
JAVASCRIPT: tuple[Rule, ...] = (
    Rule("js-console-log", BEST, INFO,
         "Remove console.log debugging output or use a logger",
         r"\bconsole\.(?:log|debug|trace|dir)\(", ("console.",),
         names=("console.log", "console.log()", "console")),
    Rule("js-debugger", BUGS, ERROR,
         "Remove the debugger statement before merging",
         r"(?<![\w$.])debugger\s*(?:;|$)", ("debugger",), names=("debugger",)),
    Rule("js-eval", SECURITY, ERROR,
         "eval()/new Function() run arbitrary code",
         r"(?<![\w$.])eval\(|\bnew\s+Function\(", ("eval(", "Function("),
         names=("eval()", "eval", "new Function()")),
    Rule("js-inner-html", SECURITY, WARNING,
         "Writing HTML from data enables XSS; use textContent or a sanitiser",
         r"\.(?:inner|outer)HTML\s*\+?=(?!=)|\bdangerouslySetInnerHTML\b|\bdocument\.write(?:ln)?\(",
         ("HTML", "document.write"),
         names=("innerHTML", "dangerouslySetInnerHTML", "document.write")),
    Rule("js-var", BEST, INFO,
         "Use let or const instead of var",
         r"(?<![\w$.])var\s+[\w$]", ("var",), names=("var",)),
    Rule("js-loose-equality", BUGS, INFO,
         "Use === and !== to avoid type coercion",
         r"(?<![=!<>])==(?!=)|!=(?!=)", ("==", "!="), names=("==", "loose equality"),
         enabled=False),
    _logs_password("js-console-password", r"\bconsole\.\w+\("),
)  # fmt: skip

TYPESCRIPT: tuple[Rule, ...] = (
    *JAVASCRIPT,
    Rule("ts-any", BEST, INFO,
         "Avoid any; use a precise type or unknown",
         r":\s*any\b(?![\w$])|\bas\s+any\b|<any>", ("any",), names=("any", ": any", "as any")),
    Rule("ts-non-null-assertion", BUGS, INFO,
         "Non-null assertion (!) hides a possible undefined; narrow the type instead",
         r"[\w$)\]]!\.(?=[\w$])", ("!.",), names=("non-null assertion", "!."), enabled=False),
)  # fmt: skip

# --- The other languages the workflow hands over: small, high-value sets -------------------------
JAVA: tuple[Rule, ...] = (
    Rule("java-system-out", BEST, INFO,
         "Use a logger instead of System.out/System.err",
         r"\bSystem\.(?:out|err)\.print", ("System.",),
         names=("System.out.println", "System.out")),
    Rule("java-print-stack-trace", BEST, WARNING,
         "printStackTrace() bypasses logging; log the exception instead",
         r"\.printStackTrace\(\)", (".printStackTrace()",), names=("printStackTrace()",)),
    _logs_password("java-log-password",
                   r"\b(?:System\.(?:out|err)\.print\w*|(?:log|logger|LOG|LOGGER)\.\w+)\("),
)  # fmt: skip

C_FAMILY: tuple[Rule, ...] = (
    Rule("c-gets", SECURITY, ERROR,
         "gets() cannot bound its input; use fgets()",
         r"(?<![\w.>])gets\(", ("gets(",), names=("gets()",)),
    Rule("c-unbounded-copy", SECURITY, WARNING,
         "Unbounded string copy; use a length-checked variant (snprintf, strncpy, strlcpy)",
         r"(?<![\w.>])(?:strcpy|strcat|sprintf|vsprintf)\(", ("strcpy(", "strcat(", "sprintf("),
         names=("strcpy()", "strcat()", "sprintf()")),
    Rule("c-system", SECURITY, WARNING,
         "system() runs a shell; avoid it with untrusted input",
         r"(?<![\w.>])system\(", ("system(",), names=("system()",)),
)  # fmt: skip

CSHARP: tuple[Rule, ...] = (
    Rule("cs-console-write", BEST, INFO,
         "Use ILogger instead of Console.Write",
         r"\bConsole\.Write(?:Line)?\(", ("Console.Write",),
         names=("Console.WriteLine", "Console.Write")),
    _logs_password("cs-log-password",
                   r"\b(?:Console\.Write(?:Line)?|_?[lL]ogger\.Log\w*)\("),
)  # fmt: skip

RUBY: tuple[Rule, ...] = (
    Rule("rb-debugger", BUGS, ERROR,
         "Remove the debugger call before merging",
         r"\bbinding\.(?:pry|irb)\b|(?<![\w.])byebug\b|(?<![\w.])debugger\b",
         ("binding.", "byebug", "debugger"), names=("binding.pry", "byebug")),
    Rule("rb-eval", SECURITY, ERROR,
         "eval runs arbitrary code",
         r"(?<![\w.])(?:instance_|class_)?eval[\s(]", ("eval",), names=("eval",)),
)  # fmt: skip

PHP: tuple[Rule, ...] = (
    Rule("php-debug-output", BEST, INFO,
         "Remove var_dump()/print_r() debugging output",
         r"(?<![\w>$])(?:var_dump|print_r)\(", ("var_dump(", "print_r("),
         names=("var_dump()", "print_r()")),
    Rule("php-eval", SECURITY, ERROR,
         "eval() runs arbitrary code",
         r"(?<![\w>$])eval\(", ("eval(",), names=("eval()",)),
)  # fmt: skip

# --- Secrets, on every file and on the line as written --------------------------------------------
SECRETS: tuple[Rule, ...] = (
    Rule("secret-private-key", SECURITY, ERROR,
         "Private key committed; remove it and rotate the key",
         r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<secret>)", ("PRIVATE KEY",),
         names=("private key",), on_source=True),
    Rule("secret-aws-access-key", SECURITY, ERROR,
         "AWS access key id committed; remove it and rotate the key",
         r"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16})"
         r"(?![A-Z0-9])", ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
         names=("aws key", "aws access key"), on_source=True),
    Rule("secret-github-token", SECURITY, ERROR,
         "GitHub token committed; revoke it and use a secret",
         r"(?<![\w])(?P<secret>gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
         ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
         names=("github token",), on_source=True),
    Rule("secret-password-assignment", SECURITY, ERROR,
         "Hard-coded password; read it from the environment or a secret store",
         # The key is one dotted word containing "passw", matched atomically so that a long
         # word cannot make the engine backtrack through every "passw" inside it.
         r"(?i)(?<![\w.\-])(?=[\w.\-]*?passw(?:or)?d)(?>[\w.\-]+)[\"']?\s*"
         r"(?::\s*[\w\[\]|.]+\s*)?(?::=|=(?!=)|:|=>)\s*[rbfu]{0,2}"
         r"(?P<q>[\"'`])(?!\$\{|\{\{)(?P<secret>(?:(?!(?P=q))[^\\\n]|\\.)+)(?P=q)",
         ("passw",), names=("password", "passwords", "hard-coded password"),
         on_source=True, ignore_case=True),
)  # fmt: skip

RULES_BY_LANGUAGE: Mapping[str, tuple[Rule, ...]] = {
    "rust": RUST,
    "go": GO,
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "java": JAVA,
    "c": C_FAMILY,
    "cpp": C_FAMILY,
    "csharp": CSHARP,
    "ruby": RUBY,
    "php": PHP,
}


def all_rules() -> tuple[Rule, ...]:
    """Every distinct rule, in table order (languages first, secrets last)."""
    seen: dict[str, Rule] = {}
    for table in (*RULES_BY_LANGUAGE.values(), SECRETS):
        for rule in table:
            seen.setdefault(rule.id, rule)
    return tuple(seen.values())

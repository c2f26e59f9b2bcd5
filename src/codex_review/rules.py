"""The review rules, as data: per language, tree-sitter queries over the syntax tree; plus
cross-language secret detection on the raw text.

A syntax rule's ``queries`` map a language to a tree-sitter query. Every pattern of a query
captures ``@match``, the node whose first line is the finding's line; text predicates
(``#eq?``, ``#match?``, ``#any-of?``) compare node text, so a call named ``unwrap`` is found
and the word in a comment or a string literal never is. Two checks run in Python on a match:

- ``mentions``: a regular expression the text of capture ``@args`` must match, with the comments
  inside it left out ("a print whose arguments mention a password");
- ``unless``: a query that silences the match when one of its matches captures the same
  ``@match`` node (``yaml.load`` with ``Loader=SafeLoader``).

Two prefilters keep a review fast without changing what it finds. ``needles`` are plain
substrings, one of which occurs in any file the rule can match in. ``line`` is a regular
expression that the finding's line (the first line of ``@match``) matches whenever the query
matches, written from the query: a ``@match`` whose text must equal ``unwrap`` is an identifier
token, so its line holds ``unwrap`` followed by no letter, digit or ``_``. A file is parsed only
when some enabled rule has a needle in it and its ``line`` on an added line; a test checks every
``line`` against the full engine on the corpus. ``keyword`` writes a query that captures one
keyword token by its parent out as data (``Keyword``), so that its rows are found by a
lookup per place instead of a query walk; the same test checks it against the query.

Secret rules (``pattern``) run on the line as written (a key in a comment is leaked all the
same) and name the secret in group ``secret`` so that reports can redact it. ``names`` are the
spellings an AGENTS.md directive may use for the rule besides its id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from codex_review.models import Severity

# The original review script's three categories, spelled as its JSON spelled them.
BUGS = "bugs"
SECURITY = "security"
BEST = "best_practices"

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO

SENSITIVE = r"(?i)passw(?:or)?d"
# Rules that need a password in the arguments find their candidate files by that word: it is
# much rarer than "print(" or "log".
_SENSITIVE_NEEDLES = ("passw",)
_NO_ARGUMENTS = r'"^\\(\\s*\\)$"'


@dataclass(frozen=True)
class Keyword:
    """A query every pattern of which captures, as ``@match``, one keyword token by the type of
    its parent node and the field it fills there (None: any child), written out as data: the
    rows on which such a query matches are found by looking up the node at each place of the
    keyword's text on a row, instead of a query walk over the rows (a third of the cost).
    ``(variable_declaration "var" @match)`` is ``Keyword("var", (("variable_declaration",
    None),))``. A test checks the rows against the query's on the corpus."""

    text: str
    parents: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, eq=False)
class Rule:
    """One check: what it says, how bad it is, and what triggers it.

    ``origin`` is where the rule comes from: ``built-in`` or the rule file that defined it.
    """

    id: str
    category: str
    severity: Severity
    message: str
    queries: Mapping[str, str] = field(default_factory=dict)
    needles: tuple[str, ...] = ()
    line: str | None = None
    names: tuple[str, ...] = ()
    mentions: str | None = None
    unless: Mapping[str, str] = field(default_factory=dict)
    pattern: str | None = None
    ignore_case: bool = False
    enabled: bool = True
    origin: str = "built-in"
    keyword: Keyword | None = None
    regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    mentions_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    line_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern) if self.pattern else None)
        mentions = re.compile(self.mentions) if self.mentions else None
        object.__setattr__(self, "mentions_regex", mentions)
        # MULTILINE: the engine searches all added lines of a file at once, joined by newlines.
        line = re.compile(self.line, re.MULTILINE) if self.line else None
        object.__setattr__(self, "line_regex", line)

    @property
    def on_source(self) -> bool:
        """Secret rules read the raw line; syntax rules read the tree."""
        return self.regex is not None


def _word(*names: str) -> str:
    """A ``line`` for a ``@match`` that is one identifier token whose whole text matches one of
    the regexes ``names``: the lexer takes the longest identifier, so an ASCII letter, digit or
    ``_`` never follows it. (Nothing is assumed about what precedes it: `1if` is two tokens.)"""
    return rf"(?:{'|'.join(names)})(?![A-Za-z0-9_])"


def _for(languages: tuple[str, ...], query: str) -> dict[str, str]:
    return dict.fromkeys(languages, query)


_LOG_MESSAGE = "Don't log passwords or sensitive data"


def _logs_password(
    rule_id: str,
    queries: Mapping[str, str],
    message: str = _LOG_MESSAGE,
    names: tuple[str, ...] = (),
    line: str | None = None,
) -> Rule:
    """A call whose arguments (capture ``@args``) mention a password. Its candidate files are
    found by the word itself, in any case, so the needle and ignore_case belong together;
    ``line`` (the called name) is None where any name can match (``slog.Anything``)."""
    return Rule(
        rule_id, SECURITY, ERROR, message, queries, _SENSITIVE_NEEDLES,
        line=line, names=names, mentions=SENSITIVE, ignore_case=True,
    )  # fmt: skip


# --- Rust ----------------------------------------------------------------------------------------
# Macro arguments are token trees, not expressions, to the grammar: `x.unwrap()` inside
# `format!(...)` is the tokens `x` `.` `unwrap` `()`. Each Rust rule has a pattern for both.


def _rust_method(name: str, *, no_arguments: bool) -> dict[str, str]:
    empty = f"(#match? @args {_NO_ARGUMENTS})" if no_arguments else ""
    return {
        "rust": f"""
(call_expression function: (field_expression field: (field_identifier) @match)
  arguments: (arguments) @args (#eq? @match "{name}") {empty})
(token_tree "." . (identifier) @match . (token_tree) @args (#eq? @match "{name}") {empty})
"""
    }


def _rust_macro(names: str, *, args: bool = False) -> dict[str, str]:
    """A macro call whose name matches the regex ``names``; ``@args`` its token tree."""
    capture = " @args" if args else ""
    return {
        "rust": f"""
(macro_invocation macro: [(identifier) @match (scoped_identifier name: (identifier) @match)]
  (token_tree){capture} (#match? @match "^(?:{names})$"))
(token_tree (identifier) @match . "!" . (token_tree){capture} (#match? @match "^(?:{names})$"))
"""
    }


RUST: tuple[Rule, ...] = (
    Rule("rust-unwrap", BEST, WARNING,
         "Consider using proper error handling instead of unwrap()",
         _rust_method("unwrap", no_arguments=True), ("unwrap",), line=_word("unwrap"),
         names=("unwrap()", "unwrap", ".unwrap()")),
    Rule("rust-println", BEST, INFO,
         "Prefer logging over println! for production code",
         _rust_macro("println"), ("println",), line=_word("println"),
         names=("println!", "println")),
    Rule("rust-vec-new-push", BEST, INFO,
         "Use Vec::with_capacity() when size is known",
         {"rust": """
(call_expression function: (field_expression
    value: (call_expression function: (scoped_identifier path: (identifier) @type
        name: (identifier) @new) arguments: (arguments) @empty)
    field: (field_identifier) @match)
  (#eq? @type "Vec") (#eq? @new "new") (#match? @empty "^\\\\(\\\\s*\\\\)$") (#eq? @match "push"))
"""}, ("push",), line=_word("push"), names=("Vec::new().push(", "Vec::new().push()")),
    Rule("rust-clone", BEST, INFO,
         "Avoid unnecessary clones, consider references",
         _rust_method("clone", no_arguments=True), ("clone",), line=_word("clone"),
         names=(".clone()", "clone()", "clone")),
    Rule("rust-panic", BUGS, WARNING,
         "Avoid panic! in production code, use Result<T, E>",
         _rust_macro("panic"), ("panic",), line=_word("panic"), names=("panic!", "panic")),
    Rule("rust-expect", BUGS, WARNING,
         "Replace expect() with proper error handling",
         _rust_method("expect", no_arguments=False), ("expect",), line=_word("expect"),
         names=("expect()", "expect(", ".expect()", "expect")),
    Rule("rust-unsafe", BUGS, WARNING,
         "Unsafe block detected - ensure it's necessary and safe",
         {"rust": '("unsafe" @match)'}, ("unsafe",), line="unsafe", names=("unsafe",)),
    _logs_password("rust-println-password", _rust_macro("e?println", args=True),
                   line=_word("e?println")),
    _logs_password("rust-dbg-password", _rust_macro("dbg", args=True),
                   message="Don't include passwords in debug output", names=("dbg!", "dbg"),
                   line=_word("dbg")),
)  # fmt: skip


# --- Go ------------------------------------------------------------------------------------------
def _go_call(package: str, names: str, *, args: bool = False) -> str:
    capture = " @args" if args else ""
    return f"""
(call_expression function: (selector_expression operand: (identifier) @package
    field: (field_identifier) @match) arguments: (argument_list){capture}
  (#eq? @package "{package}") (#match? @match "^(?:{names})$"))
"""


GO: tuple[Rule, ...] = (
    Rule("go-fmt-print", BEST, INFO,
         "Use logging instead of fmt.Print",
         {"go": _go_call("fmt", "Print|Printf|Println")}, ("Print",),
         line=_word("Print|Printf|Println"),
         names=("fmt.Print", "fmt.Println", "fmt.Printf")),
    Rule("go-defer-unchecked", BUGS, WARNING,
         "Check for errors before defer: the error returned by this deferred call is dropped",
         {"go": f"""
(defer_statement (call_expression function: (selector_expression field: (field_identifier) @match)
    arguments: (argument_list) @args)
  (#match? @match "^(?:Close|Flush|Sync|Commit)$") (#match? @args {_NO_ARGUMENTS}))
"""}, ("Close", "Flush", "Sync", "Commit"), line=_word("Close|Flush|Sync|Commit"),
         names=("defer", "defer Close()")),
    # Formerly a text pattern spelling fmt.Print in lower case, as no Go function is named.
    _logs_password("go-password-format", {"go": "".join((
        _go_call("fmt", "Print(?:f|ln)?|[SF]print(?:f|ln)?|Errorf", args=True),
        _go_call("log", "(?:Print|Fatal|Panic)(?:f|ln)?", args=True),
        _go_call("slog", "[A-Za-z]+", args=True),
        _go_call("errors", "New", args=True),
    ))}, message="Don't include passwords in formatted strings"),
    Rule("go-panic", BUGS, WARNING,
         "Avoid panic in production code, return an error",
         {"go": '(call_expression function: (identifier) @match (#eq? @match "panic"))'},
         ("panic",), line=_word("panic"), names=("panic()", "panic(")),
    Rule("go-insecure-tls", SECURITY, ERROR,
         "InsecureSkipVerify: true disables TLS certificate verification",
         {"go": """
(keyed_element . (literal_element (identifier) @match) . (literal_element (true))
  (#eq? @match "InsecureSkipVerify"))
"""}, ("InsecureSkipVerify",), line=_word("InsecureSkipVerify"), names=("InsecureSkipVerify",)),
    Rule("go-blank-error", BUGS, INFO,
         "A returned value (usually an error) is discarded with _ =",
         {"go": """
(assignment_statement left: (expression_list . (identifier) @match .)
  right: (expression_list . (call_expression) .) (#eq? @match "_"))
"""}, ("_",), line=_word("_"), names=("_ =", "blank error"), enabled=False),
)  # fmt: skip


# --- Python --------------------------------------------------------------------------------------
def _py_call(names: str, *, args: bool = False) -> str:
    capture = " @args" if args else ""
    return f"""
(call function: (identifier) @match arguments: (argument_list){capture}
  (#match? @match "^(?:{names})$"))
"""


def _py_method(objects: str, names: str, *, args: bool = False) -> str:
    capture = " @args" if args else ""
    return f"""
(call function: (attribute object: (identifier) @object attribute: (identifier) @match)
  arguments: (argument_list){capture}
  (#match? @object "^(?:{objects})$") (#match? @match "^(?:{names})$"))
"""


_MUTABLE = """[(list) (dictionary) (set) (list_comprehension) (dictionary_comprehension)
  (set_comprehension)
  (call function: (identifier) @constructor (#any-of? @constructor "list" "dict" "set"
    "bytearray"))]"""

# The value of a default parameter starts right after `=` and whitespace, or, when the `=` ends
# an earlier line (inside the parentheses, after a comment or a backslash), after indentation.
# Whitespace as the grammar's extras spell it: Unicode spaces, U+200B, U+2060, U+FEFF.
# Whitespace within one line, and where a token's line may end before the next token of its
# construct: at the end of the line, a comment or a backslash continuation (inside brackets the
# next token may be on a later line; the grammar also reads `except` and a `:` on the next line
# as a bare except).
_PY_SPACE = r"[^\S\n]|[\u200b\u2060\ufeff]"
_PY_LINE_ENDS = r"$|#|\\"
# A constructor default is a call: the name, then its `(` or the end of the line.
_DEFAULT_VALUE_LINE = (
    r"(?:^|=)[\s\u200b\u2060\ufeff]*(?:[\[{]|(?:list|dict|set|bytearray)"
    rf"(?:{_PY_SPACE})*(?:\(|{_PY_LINE_ENDS}))"
)
_PY_LOG_LEVELS = "debug|info|warning|error|critical|exception"

PYTHON: tuple[Rule, ...] = (
    Rule("py-print", BEST, INFO,
         "Prefer logging over print() for production code",
         {"python": _py_call("print")}, ("print",), line=_word("print"),
         names=("print()", "print")),
    Rule("py-breakpoint", BUGS, ERROR,
         "Remove the debugger breakpoint before merging",
         {"python": f"""
(call function: (identifier) @match arguments: (argument_list) @args
  (#eq? @match "breakpoint") (#match? @args {_NO_ARGUMENTS}))
{_py_method("i?pdb", "set_trace")}"""}, ("breakpoint", "set_trace"),
         line=_word("breakpoint", "set_trace"),
         names=("breakpoint()", "pdb.set_trace()")),
    Rule("py-bare-except", BUGS, WARNING,
         "Bare except: also catches SystemExit and KeyboardInterrupt; catch Exception or narrower",
         {"python": '(except_clause . "except" @match . ":")'}, ("except",),
         line=rf"except(?:{_PY_SPACE})*(?::|{_PY_LINE_ENDS})",
         names=("except:", "bare except")),
    # Any parameter of any parameter list, however many lines the signature spans.
    Rule("py-mutable-default", BUGS, WARNING,
         "Mutable default argument is shared between calls; default to None",
         {"python": f"""
(default_parameter value: {_MUTABLE} @match)
(typed_default_parameter value: {_MUTABLE} @match)
"""}, ("[", "{", "list", "dict", "set", "bytearray"), line=_DEFAULT_VALUE_LINE,
         names=("mutable default",)),
    Rule("py-eval", SECURITY, ERROR,
         "eval()/exec() run arbitrary code; parse the input instead",
         {"python": _py_call("eval|exec")}, ("eval", "exec"), line=_word("eval", "exec"),
         names=("eval()", "exec()", "eval", "exec")),
    Rule("py-shell-true", SECURITY, WARNING,
         "subprocess with shell=True is open to shell injection; pass an argument list",
         {"python": '(keyword_argument name: (identifier) @match value: (true) '
                    '(#eq? @match "shell"))'}, ("shell",), line=_word("shell"),
         names=("shell=True",)),
    Rule("py-pickle", SECURITY, WARNING,
         "pickle runs code while loading; never unpickle untrusted data",
         {"python": _py_method("c?[pP]ickle|dill", "loads?")}, ("ickle", "dill"),
         line=_word("loads?"),
         names=("pickle.load()", "pickle.loads()", "pickle")),
    # A safe Loader silences it only as an argument, never as text inside a string.
    Rule("py-yaml-load", SECURITY, WARNING,
         "yaml.load() without a safe Loader can construct arbitrary objects; use yaml.safe_load()",
         {"python": _py_method("yaml", "load")}, ("yaml",), line=_word("load"),
         unless={"python": """
(call function: (attribute attribute: (identifier) @match)
  arguments: (argument_list (keyword_argument name: (identifier) @name value: (_) @loader))
  (#eq? @name "Loader") (#match? @loader "^(?:yaml\\\\.)?C?SafeLoader$"))
(call function: (attribute attribute: (identifier) @match)
  arguments: (argument_list . (_) . [(identifier) (attribute)] @loader)
  (#match? @loader "^(?:yaml\\\\.)?C?SafeLoader$"))
"""}, names=("yaml.load()", "yaml.load")),
    Rule("py-tls-verify-off", SECURITY, ERROR,
         "verify=False disables TLS certificate verification",
         {"python": '(keyword_argument name: (identifier) @match value: (false) '
                    '(#eq? @match "verify"))'}, ("verify",),
         line=rf"verify(?:{_PY_SPACE})*(?:=(?:{_PY_SPACE})*(?:False|{_PY_LINE_ENDS})|{_PY_LINE_ENDS})",
         names=("verify=False",)),
    _logs_password("py-print-password", {"python": _py_call("print", args=True) + _py_method(
        "log|logger|logging", _PY_LOG_LEVELS, args=True)}, line=_word("print", _PY_LOG_LEVELS)),
)  # fmt: skip


# --- JavaScript and TypeScript -------------------------------------------------------------------
_JS = ("javascript", "typescript")


def _js_member_call(objects: str, names: str, *, args: bool = False) -> str:
    capture = " @args" if args else ""
    return f"""
(call_expression function: (member_expression object: (identifier) @object
    property: (property_identifier) @match) arguments: (arguments){capture}
  (#match? @object "^(?:{objects})$") (#match? @match "^(?:{names})$"))
"""


_INNER_HTML = """
(assignment_expression left: (member_expression property: (property_identifier) @match)
  (#any-of? @match "innerHTML" "outerHTML"))
(augmented_assignment_expression left: (member_expression property: (property_identifier) @match)
  (#any-of? @match "innerHTML" "outerHTML"))
(pair key: (property_identifier) @match (#eq? @match "dangerouslySetInnerHTML"))
""" + _js_member_call("document", "write|writeln")

JAVASCRIPT: tuple[Rule, ...] = (
    Rule("js-console-log", BEST, INFO,
         "Remove console.log debugging output or use a logger",
         _for(_JS, _js_member_call("console", "log|debug|trace|dir")), ("console",),
         line=_word("log|debug|trace|dir"),
         names=("console.log", "console.log()", "console")),
    Rule("js-debugger", BUGS, ERROR,
         "Remove the debugger statement before merging",
         _for(_JS, "(debugger_statement) @match"), ("debugger",), line="debugger",
         names=("debugger",)),
    Rule("js-eval", SECURITY, ERROR,
         "eval()/new Function() run arbitrary code",
         _for(_JS, """
(call_expression function: (identifier) @match (#eq? @match "eval"))
(new_expression constructor: (identifier) @match (#eq? @match "Function"))
"""), ("eval", "Function"), line=_word("eval", "Function"),
         names=("eval()", "eval", "new Function()")),
    Rule("js-inner-html", SECURITY, WARNING,
         "Writing HTML from data enables XSS; use textContent or a sanitiser",
         {"javascript": _INNER_HTML + """
(jsx_attribute (property_identifier) @match (#eq? @match "dangerouslySetInnerHTML"))
""", "typescript": _INNER_HTML}, ("HTML", "document"),
         line=_word("innerHTML|outerHTML|dangerouslySetInnerHTML", "write|writeln"),
         names=("innerHTML", "dangerouslySetInnerHTML", "document.write")),
    Rule("js-var", BEST, INFO,
         "Use let or const instead of var",
         _for(_JS, '(variable_declaration "var" @match)\n(for_in_statement kind: "var" @match)'),
         ("var",), line="var", names=("var",),
         keyword=Keyword("var", (("variable_declaration", None), ("for_in_statement", "kind")))),
    Rule("js-loose-equality", BUGS, INFO,
         "Use === and !== to avoid type coercion",
         _for(_JS, '(binary_expression operator: ["==" "!="] @match)'), ("==", "!="), line="[=!]=",
         names=("==", "loose equality"), enabled=False),
    _logs_password("js-console-password",
                   _for(_JS, _js_member_call("console", "[A-Za-z_$][\\\\w$]*", args=True))),
)  # fmt: skip

TYPESCRIPT: tuple[Rule, ...] = (
    *JAVASCRIPT,
    Rule("ts-any", BEST, INFO,
         "Avoid any; use a precise type or unknown",
         {"typescript": '((predefined_type) @match (#eq? @match "any"))'}, ("any",),
         line=_word("any"),
         names=("any", ": any", "as any")),
    Rule("ts-non-null-assertion", BUGS, INFO,
         "Non-null assertion (!) hides a possible undefined; narrow the type instead",
         {"typescript": '(member_expression object: (non_null_expression "!" @match))'},
         ("!",), line="!", names=("non-null assertion", "!."), enabled=False),
)  # fmt: skip


# --- The other languages the workflow hands over: small, high-value sets -------------------------
def _java_print(*, args: bool = False) -> str:
    capture = " @args" if args else ""
    return f"""
(method_invocation object: (field_access object: (identifier) @system field: (identifier) @stream)
  name: (identifier) @match arguments: (argument_list){capture}
  (#eq? @system "System") (#any-of? @stream "out" "err") (#match? @match "^print"))
"""


JAVA: tuple[Rule, ...] = (
    Rule("java-system-out", BEST, INFO,
         "Use a logger instead of System.out/System.err",
         {"java": _java_print()}, ("System",), line=_word("print[A-Za-z0-9_]*"),
         names=("System.out.println", "System.out")),
    Rule("java-print-stack-trace", BEST, WARNING,
         "printStackTrace() bypasses logging; log the exception instead",
         {"java": f"""
(method_invocation name: (identifier) @match arguments: (argument_list) @args
  (#eq? @match "printStackTrace") (#match? @args {_NO_ARGUMENTS}))
"""}, ("printStackTrace",), line=_word("printStackTrace"), names=("printStackTrace()",)),
    _logs_password("java-log-password", {"java": _java_print(args=True) + """
(method_invocation object: (identifier) @logger name: (identifier) @match
  arguments: (argument_list) @args (#any-of? @logger "log" "logger" "LOG" "LOGGER"))
"""}),
)  # fmt: skip


def _c_call(names: str) -> dict[str, str]:
    plain = f'(call_expression function: (identifier) @match (#match? @match "^(?:{names})$"))'
    qualified = (
        "(call_expression function: (qualified_identifier name: (identifier) @match)"
        f' (#match? @match "^(?:{names})$"))'
    )
    return {"c": plain, "cpp": plain + "\n" + qualified}


C_FAMILY: tuple[Rule, ...] = (
    Rule("c-gets", SECURITY, ERROR,
         "gets() cannot bound its input; use fgets()",
         _c_call("gets"), ("gets",), line=_word("gets"), names=("gets()",)),
    Rule("c-unbounded-copy", SECURITY, WARNING,
         "Unbounded string copy; use a length-checked variant (snprintf, strncpy, strlcpy)",
         _c_call("strcpy|strcat|sprintf|vsprintf"), ("strcpy", "strcat", "sprintf"),
         line=_word("strcpy|strcat|sprintf|vsprintf"),
         names=("strcpy()", "strcat()", "sprintf()")),
    Rule("c-system", SECURITY, WARNING,
         "system() runs a shell; avoid it with untrusted input",
         _c_call("system"), ("system",), line=_word("system"), names=("system()",)),
)  # fmt: skip


def _cs_call(objects: str, names: str, *, args: bool = False) -> str:
    capture = " @args" if args else ""
    return f"""
(invocation_expression function: (member_access_expression expression: (identifier) @object
    name: (identifier) @match) arguments: (argument_list){capture}
  (#match? @object "^(?:{objects})$") (#match? @match "^(?:{names})$"))
"""


CSHARP: tuple[Rule, ...] = (
    Rule("cs-console-write", BEST, INFO,
         "Use ILogger instead of Console.Write",
         {"csharp": _cs_call("Console", "Write|WriteLine")}, ("Console",),
         line=_word("Write|WriteLine"),
         names=("Console.WriteLine", "Console.Write")),
    _logs_password("cs-log-password", {"csharp": _cs_call("Console", "Write|WriteLine", args=True)
                   + _cs_call("_?[lL]ogger", "Log[A-Za-z]*", args=True)},
                   line=_word("Write|WriteLine", "Log[A-Za-z]*")),
)  # fmt: skip

# Ruby: a debugger is a call (binding.pry) or a bare statement (byebug); `def debugger`,
# `debugger = 1` and `:debugger` are not. eval is only a call with arguments or a block.
_RUBY_STATEMENT_PARENTS = ("program", "body_statement", "then", "else", "begin", "ensure",
                           "block_body", "do")  # fmt: skip
RUBY: tuple[Rule, ...] = (
    Rule("rb-debugger", BUGS, ERROR,
         "Remove the debugger call before merging",
         {"ruby": """
(call receiver: (identifier) @receiver method: (identifier) @match
  (#eq? @receiver "binding") (#any-of? @match "pry" "irb"))
(call !receiver method: (identifier) @match (#any-of? @match "byebug" "debugger"))
(if_modifier body: (identifier) @match (#any-of? @match "byebug" "debugger"))
(unless_modifier body: (identifier) @match (#any-of? @match "byebug" "debugger"))
""" + "".join(f'({parent} (identifier) @match (#any-of? @match "byebug" "debugger"))\n'
              for parent in _RUBY_STATEMENT_PARENTS)},
         ("binding", "byebug", "debugger"), line=_word("pry|irb|byebug|debugger"),
         names=("binding.pry", "byebug")),
    Rule("rb-eval", SECURITY, ERROR,
         "eval runs arbitrary code",
         {"ruby": """
(call method: (identifier) @match arguments: (argument_list)
  (#any-of? @match "eval" "instance_eval" "class_eval"))
(call method: (identifier) @match block: (_)
  (#any-of? @match "eval" "instance_eval" "class_eval"))
"""}, ("eval",), line=_word("eval|instance_eval|class_eval"), names=("eval",)),
)  # fmt: skip

PHP: tuple[Rule, ...] = (
    Rule("php-debug-output", BEST, INFO,
         "Remove var_dump()/print_r() debugging output",
         {"php": '(function_call_expression function: (name) @match '
                 '(#any-of? @match "var_dump" "print_r"))'}, ("var_dump", "print_r"),
         line=_word("var_dump|print_r"),
         names=("var_dump()", "print_r()")),
    Rule("php-eval", SECURITY, ERROR,
         "eval() runs arbitrary code",
         {"php": '(function_call_expression function: (name) @match (#eq? @match "eval"))'},
         ("eval",), line=_word("eval"), names=("eval()",)),
)  # fmt: skip


# --- Secrets, on every file and on the line as written --------------------------------------------
SECRETS: tuple[Rule, ...] = (
    Rule("secret-private-key", SECURITY, ERROR,
         "Private key committed; remove it and rotate the key",
         needles=("PRIVATE KEY",), names=("private key",),
         pattern=r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<secret>)"),
    Rule("secret-aws-access-key", SECURITY, ERROR,
         "AWS access key id committed; remove it and rotate the key",
         needles=("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
         names=("aws key", "aws access key"),
         pattern=r"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)"
                 r"[A-Z0-9]{16})(?![A-Z0-9])"),
    Rule("secret-github-token", SECURITY, ERROR,
         "GitHub token committed; revoke it and use a secret",
         needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), names=("github token",),
         pattern=r"(?<![\w])(?P<secret>gh[pousr]_[A-Za-z0-9]{36,255}"
                 r"|github_pat_[A-Za-z0-9_]{22,255})"),
    Rule("secret-password-assignment", SECURITY, ERROR,
         "Hard-coded password; read it from the environment or a secret store",
         needles=("passw",), names=("password", "passwords", "hard-coded password"),
         ignore_case=True,
         # The key is one dotted word containing "passw", matched atomically so that a long
         # word cannot make the engine backtrack through every "passw" inside it.
         pattern=r"(?i)(?<![\w.\-])(?=[\w.\-]*?passw(?:or)?d)(?>[\w.\-]+)[\"']?\s*"
                 r"(?::\s*[\w\[\]|.]+\s*)?(?::=|=(?!=)|:|=>)\s*[rbfu]{0,2}"
                 r"(?P<q>[\"'`])(?!\$\{|\{\{)(?P<secret>(?:(?!(?P=q))[^\\\n]|\\.)+)(?P=q)"),
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
    """Every distinct built-in rule, in table order (languages first, secrets last)."""
    seen: dict[str, Rule] = {}
    for table in (*RULES_BY_LANGUAGE.values(), SECRETS):
        for rule in table:
            seen.setdefault(rule.id, rule)
    return tuple(seen.values())

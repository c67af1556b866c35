"""CloudWatch Logs filter patterns (the FilterLogEvents `filterPattern`), case-sensitive.

Supported:
- the empty pattern (every event);
- terms: `ERROR Exception` (all must appear), `"exact phrase"`, `?ERROR ?WARN` (any of these),
  `-DEBUG` (must not appear);
- `%regex%`;
- JSON patterns on events whose message is a JSON object: `{ $.a.b = "x*" }`, `!=`, `<`, `<=`,
  `>`, `>=` on numbers, `IS TRUE|FALSE|NULL`, `EXISTS`, `NOT EXISTS`, combined with `&&`, `||`
  and parentheses.

Space-delimited patterns (`[ip, user, ...]`) are refused with InvalidParameterException.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from sagelocal.services.logs.common import contains, invalid

_MISSING = object()


@dataclass
class FilterPattern:
    """A compiled filter pattern: an exact `matches` and an optional SQL pre-filter."""

    all_terms: list[str] = field(default_factory=list)
    any_terms: list[str] = field(default_factory=list)
    none_terms: list[str] = field(default_factory=list)
    regex: re.Pattern[str] | None = None
    json_test: Callable[[Any], bool] | None = None

    @property
    def matches_everything(self) -> bool:
        return not (self.all_terms or self.any_terms or self.none_terms or self.regex or self.json_test)

    def matches(self, message: str) -> bool:
        if self.json_test is not None:
            try:
                doc = json.loads(message)
            except ValueError:
                return False
            return self.json_test(doc)
        if self.regex is not None:
            return self.regex.search(message) is not None
        if any(t not in message for t in self.all_terms):
            return False
        if any(t in message for t in self.none_terms):
            return False
        return not self.any_terms or any(t in message for t in self.any_terms)

    def sql(self, column: Any, is_sqlite: bool) -> ColumnElement[bool] | None:
        """A condition selecting exactly the term matches (None for regex/JSON/empty patterns)."""
        conds: list[ColumnElement[bool]] = [contains(column, t, is_sqlite) for t in self.all_terms]
        conds += [not_(contains(column, t, is_sqlite)) for t in self.none_terms]
        if self.any_terms:
            conds.append(or_(*(contains(column, t, is_sqlite) for t in self.any_terms)))
        return and_(*conds) if conds else None


def compile_pattern(text: str | None) -> FilterPattern:
    """Parse a filter pattern; InvalidParameterException if it is malformed or unsupported."""
    text = (text or "").strip()
    if not text:
        return FilterPattern()
    if text.startswith("{"):
        return FilterPattern(json_test=_JsonParser(text).parse())
    if text.startswith("["):
        raise invalid("Space-delimited filter patterns are not supported by sagelocal.")
    if len(text) >= 2 and text.startswith("%") and text.endswith("%"):
        try:
            return FilterPattern(regex=re.compile(text[1:-1]))
        except re.error:
            raise invalid("Invalid regex in the filter pattern.") from None
    pattern = FilterPattern()
    for prefix, term in _terms(text):
        {"?": pattern.any_terms, "-": pattern.none_terms, "": pattern.all_terms}[prefix].append(term)
    return pattern


def _terms(text: str) -> list[tuple[str, str]]:
    """Split `a "b c" ?d -"e f"` into (prefix, term) pairs; prefix is "", "?" or "-"."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        prefix = ""
        if text[i] in "?-" and i + 1 < n and not text[i + 1].isspace():
            prefix, i = text[i], i + 1
        if text[i] == '"':
            term, i = _quoted(text, i)
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            term, i = text[i:j], j
        if term:
            out.append((prefix, term))
    return out


def _quoted(text: str, i: int) -> tuple[str, int]:
    """The string literal starting at text[i] == '"' (backslash escapes), and the index after it."""
    chars: list[str] = []
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            chars.append(text[j + 1])
            j += 2
            continue
        if c == '"':
            return "".join(chars), j + 1
        chars.append(c)
        j += 1
    raise invalid("Invalid filter pattern: unterminated quoted string.")


# --- JSON patterns ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<re>%[^%]*%)
    | (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\)|\{|\})
    | (?P<sel>\$(?:\.[A-Za-z0-9_\-@]+|\[\d+\])*)
    | (?P<word>[^\s()&|=!<>{}"]+)
    )""",
    re.VERBOSE,
)


class _JsonParser:
    """Recursive descent over `{ cond (&& | ||) cond ... }` producing a predicate on the document."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise invalid("Invalid filter pattern.")
            kind = m.lastgroup or "word"
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens) or (expected is not None and self.tokens[self.i][1] != expected):
            raise invalid("Invalid filter pattern.")
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> Callable[[Any], bool]:
        self.take("{")
        test = self.or_expr()
        self.take("}")
        if self.i != len(self.tokens):
            raise invalid("Invalid filter pattern.")
        return test

    def or_expr(self) -> Callable[[Any], bool]:
        parts = [self.and_expr()]
        while self.peek() == "||":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else lambda d: any(p(d) for p in parts)

    def and_expr(self) -> Callable[[Any], bool]:
        parts = [self.atom()]
        while self.peek() == "&&":
            self.take()
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else lambda d: all(p(d) for p in parts)

    def atom(self) -> Callable[[Any], bool]:
        if self.peek() == "(":
            self.take()
            inner = self.or_expr()
            self.take(")")
            return inner
        kind, sel = self.take()
        if kind != "sel":
            raise invalid("Invalid filter pattern: expected a $. selector.")
        path = _selector(sel)
        word = self.peek()
        if word in ("IS", "EXISTS", "NOT"):
            return self.keyword_test(path)
        op = self.take()[1]
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise invalid("Invalid filter pattern: expected a comparison operator.")
        vkind, raw = self.take()
        return _comparison(path, op, vkind, raw)

    def keyword_test(self, path: list[str | int]) -> Callable[[Any], bool]:
        word = self.take()[1]
        if word == "EXISTS":
            return lambda d: _resolve(d, path) is not _MISSING
        if word == "NOT":
            self.take("EXISTS")
            return lambda d: _resolve(d, path) is _MISSING
        value = self.take()[1]
        expected = {"TRUE": True, "FALSE": False, "NULL": None}.get(value, _MISSING)
        if expected is _MISSING:
            raise invalid("Invalid filter pattern: IS takes TRUE, FALSE or NULL.")
        return lambda d: _resolve(d, path) is expected


def _selector(sel: str) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p[1:] for p in re.findall(r"\.[^.\[]+|\[\d+\]", sel[1:])]


def _resolve(doc: Any, path: list[str | int]) -> Any:
    for step in path:
        if (isinstance(step, int) and isinstance(doc, list) and step < len(doc)) or (
            isinstance(step, str) and isinstance(doc, dict) and step in doc
        ):
            doc = doc[step]
        else:
            return _MISSING
    return doc


def _number(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def _comparison(path: list[str | int], op: str, kind: str, raw: str) -> Callable[[Any], bool]:
    """The predicate `$.path op value` (numbers compare numerically, strings with * wildcards)."""
    number = _number(raw) if kind == "word" else None
    if number is not None:
        ops: dict[str, Callable[[float, float], bool]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        cmp = ops[op]

        def num_test(doc: Any) -> bool:
            v = _resolve(doc, path)
            return isinstance(v, int | float) and not isinstance(v, bool) and cmp(float(v), number)

        return num_test
    if op not in ("=", "!="):
        raise invalid("Invalid filter pattern: only = and != apply to strings.")
    if kind == "re":
        rx = re.compile(raw[1:-1])
        match: Callable[[str], bool] = lambda s: rx.search(s) is not None  # noqa: E731
    else:
        text = json.loads(raw) if kind == "str" else raw
        rx = re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)
        match = lambda s: rx.fullmatch(s) is not None  # noqa: E731

    def str_test(doc: Any) -> bool:
        v = _resolve(doc, path)
        if v is _MISSING or isinstance(v, dict | list):
            return False
        s = json.dumps(v) if not isinstance(v, str) else v
        return match(s) == (op == "=")

    return str_test

"""Policy variables (`${aws:username}`, `${key, 'default'}`, `${*}`, `${?}`, `${$}`) and glob patterns.

A value is split once into tokens: literal text, `Var` (a condition key, with an optional default)
and `Escaped` (the `${*}`/`${?}`/`${$}` spellings of a literal character). Variables are honoured
only in `Version: 2012-10-17` policies; in older ones the text is literal.

A variable whose key the request lacks (or holds several values for) and that has no default
has *no value*: the value it appears in then matches nothing (AWS: "if AWS cannot resolve a
variable this might cause the entire statement to be invalid").

Glob patterns (`*` any run of characters, `?` exactly one) compile to regular expressions. In a
Resource, `*` crosses `/` and `:`; in an ARN condition each of the six `:`-separated parts is
matched on its own, so there `*` and `?` stay within their part, except in the last.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagelocal.services.iam.policy.context import Context

VERSION_WITH_VARIABLES = "2012-10-17"

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s][^,]*?)\s*,\s*'((?:[^']|'')*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-case condition key
    default: str | None


@dataclass(frozen=True, slots=True)
class Escaped:
    char: str


Token = str | Var | Escaped


@lru_cache(maxsize=8192)
def tokenize(text: str) -> tuple[Token, ...]:
    """Split a policy value into literal text, variables and escaped characters."""
    tokens: list[Token] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            tokens.append(text[pos : m.start()])
        inner = m.group(1)
        stripped = inner.strip()
        if stripped in _ESCAPES:
            tokens.append(Escaped(_ESCAPES[stripped]))
        elif (d := _DEFAULT.match(inner)) is not None:
            tokens.append(Var(d.group(1).lower(), d.group(2).replace("''", "'")))
        elif stripped and "," not in stripped and " " not in stripped:
            tokens.append(Var(stripped.lower(), None))
        else:  # not a variable AWS would substitute: keep the text as written
            tokens.append(m.group(0))
        pos = m.end()
    if pos < len(text):
        tokens.append(text[pos:])
    return tuple(tokens)


def has_variables(text: str, version: str) -> bool:
    return (
        version == VERSION_WITH_VARIABLES
        and "${" in text
        and any(not isinstance(t, str) for t in tokenize(text))
    )


def _value(var: Var, ctx: Context) -> str | None:
    value = ctx.single(var.key)
    return var.default if value is None else value


def resolve_exact(tokens: tuple[Token, ...], ctx: Context) -> str | None:
    """The value with variables substituted (None: a variable has no value)."""
    out: list[str] = []
    for t in tokens:
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, Escaped):
            out.append(t.char)
        else:
            value = _value(t, ctx)
            if value is None:
                return None
            out.append(value)
    return "".join(out)


# --- glob patterns -------------------------------------------------------------------------------


def _glob_literal(text: str, star: str, one: str) -> str:
    return "".join(star if c == "*" else one if c == "?" else re.escape(c) for c in text)


def glob_source(text: str) -> str:
    """The regex source of a glob with no variables (`*` crosses everything)."""
    return _glob_literal(text, ".*", ".")


Fragments = tuple[str | Var, ...]


@lru_cache(maxsize=8192)
def glob_fragments(tokens: tuple[Token, ...]) -> Fragments:
    """A glob's tokens with the literal parts already turned into regex source."""
    return tuple(
        _glob_literal(t, ".*", ".")
        if isinstance(t, str)
        else re.escape(t.char)
        if isinstance(t, Escaped)
        else t
        for t in tokens
    )


def glob_tokens_source(fragments: Fragments, ctx: Context) -> str | None:
    """The regex source of a glob (as `glob_fragments`) with its variables substituted as literal text."""
    out: list[str] = []
    for f in fragments:
        if isinstance(f, str):
            out.append(f)
        else:
            value = _value(f, ctx)
            if value is None:
                return None
            out.append(re.escape(value))
    return "".join(out)


def glob_matcher(fragments: Fragments, ctx: Context) -> Callable[[str], re.Match[str] | None] | None:
    """The full-match function of a glob with variables, for this request (None: a variable has no
    value). Memoized on the request's context: many statements share a pattern."""
    memo = ctx.memo
    if fragments in memo:
        return memo[fragments]
    source = glob_tokens_source(fragments, ctx)
    matcher = None if source is None else regex(source)
    memo[fragments] = matcher
    return matcher


def arn_source(pieces: list[tuple[str, bool]]) -> str:
    """Regex source of an ARN pattern given as (text, is_glob) pieces: wildcards stay within
    their `:`-separated part for the first five parts; a pattern with fewer parts is a plain glob."""
    colons = sum(text.count(":") for text, _ in pieces)
    segmented = colons >= 5
    out: list[str] = []
    seen = 0
    for text, is_glob in pieces:
        for c in text:
            if is_glob and c in "*?":
                bounded = segmented and seen < 5
                if c == "*":
                    out.append("[^:]*" if bounded else ".*")
                else:
                    out.append("[^:]" if bounded else ".")
            else:
                if c == ":":
                    seen += 1
                out.append(re.escape(c))
    return "".join(out)


def arn_tokens_pieces(tokens: tuple[Token, ...], ctx: Context) -> list[tuple[str, bool]] | None:
    pieces: list[tuple[str, bool]] = []
    for t in tokens:
        if isinstance(t, str):
            pieces.append((t, True))
        elif isinstance(t, Escaped):
            pieces.append((t.char, False))
        else:
            value = _value(t, ctx)
            if value is None:
                return None
            pieces.append((value, False))
    return pieces


@lru_cache(maxsize=8192)
def regex(source: str, ignore_case: bool = False) -> Callable[[str], re.Match[str] | None]:
    """A full-match function for a regex source (cached: variable patterns recur per user)."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(source, flags).fullmatch

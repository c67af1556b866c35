"""AWS model patterns (Java regular expressions) compiled for Python's `re`, used as full matches.

The models use a few Java-isms `re` lacks. They are translated as follows:
- `\\p{Z}` -> the Unicode space separators, listed; `\\p{N}` -> `\\d` (decimal digits only);
  `\\p{L}` -> `[^\\W\\d_]` (letters; also takes the rare non-decimal numerals such as `²`);
- `\\p{M}`, `\\p{S}`, `\\p{P}` -> `[^\\w\\s<controls>]` (marks, symbols and punctuation together; used
  only in classes that allow all three, where the union is what matters);
- POSIX classes `\\p{ASCII}`, `\\p{Alnum}`, `\\p{Print}`, ... -> their ASCII ranges; `\\z` -> `\\Z`;
- a `-` right after a class escape (`[\\w-_]`) is literal, as in Java;
- a quantified end anchor (`${1,128}`) is the anchor;
- the surrogate-pair range `\\uD800\\uDC00-\\uDBFF\\uDFFF` -> `\\U00010000-\\U0010FFFF`.
A pattern that still does not compile (e.g. a negated class holding `\\p{L}`) is not
enforced: `compile_pattern` returns None and the validator skips only that pattern.
"""

from __future__ import annotations

import re

_INLINE = {
    "Z": r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
    "N": r"\d",
    "Nd": r"\d",
    "ASCII": r"\x00-\x7f",
    "Alnum": "a-zA-Z0-9",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Upper": "A-Z",
    "Lower": "a-z",
    "Print": r"\x20-\x7e",
    "Graph": r"\x21-\x7e",
    "Punct": r"!-/:-@\[-`{-~",
    "Space": r" \t\n\x0b\f\r",
    "XDigit": "0-9a-fA-F",
    "Cntrl": r"\x00-\x1f\x7f",
}
_NOT_WORD = r"[^\w\s\x00-\x1f\x7f-\x9f]"
_ALTERNATIVE = {"L": r"[^\W\d_]", "M": _NOT_WORD, "S": _NOT_WORD, "P": _NOT_WORD}
_CLASS_ESCAPES = set("wWdDsSpP")
_QUANTIFIED_END = re.compile(r"(?<!\\)\$\{\d+(?:,\d*)?\}")
_CACHE: dict[str, re.Pattern[str] | None] = {}


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The compiled (translated) pattern, or None when it cannot be expressed for `re`."""
    try:
        return _CACHE[pattern]
    except KeyError:
        pass
    translated = translate(pattern)
    compiled = None
    if translated is not None:
        try:
            compiled = re.compile(translated)
        except re.error:
            compiled = None
    _CACHE[pattern] = compiled
    return compiled


def translate(pattern: str) -> str | None:
    """The Python spelling of a Java pattern, or None when untranslatable."""
    p = pattern.replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\U00010000-\U0010FFFF")
    p = _QUANTIFIED_END.sub("$", p)  # Java accepts `${1,128}`: a repeated anchor is the anchor
    out: list[str] = []
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            nxt = p[i + 1]
            if nxt in "pP" and p.startswith("{", i + 2):
                end = p.find("}", i)
                if end == -1:
                    return None
                frag = _property_outside(p[i + 3 : end], negate=nxt == "P")
                if frag is None:
                    return None
                out.append(frag)
                i = end + 1
                continue
            out.append(r"\Z" if nxt == "z" else p[i : i + 2])
            i += 2
            continue
        if c == "[":
            parsed = _char_class(p, i)
            if parsed is None:
                return None
            frag, i = parsed
            out.append(frag)
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _property_outside(name: str, negate: bool) -> str | None:
    if name in _INLINE:
        return f"[{'^' if negate else ''}{_INLINE[name]}]"
    if name in _ALTERNATIVE and not negate:
        return _ALTERNATIVE[name]
    return None


def _char_class(p: str, start: int) -> tuple[str, int] | None:
    """Translate the class starting at `p[start] == '['`: (fragment, index after it)."""
    i = start + 1
    negate = p.startswith("^", i)
    if negate:
        i += 1
    pieces: list[str] = []
    alternatives: list[str] = []
    first = True
    while i < len(p):
        c = p[i]
        if c == "]" and not first:
            break
        first = False
        if c == "[":
            return None  # nested classes / intersections are not translated
        if c == "\\" and i + 1 < len(p):
            nxt = p[i + 1]
            if nxt in "pP" and p.startswith("{", i + 2):
                end = p.find("}", i)
                if end == -1 or nxt == "P":
                    return None
                name = p[i + 3 : end]
                if name in _INLINE:
                    pieces.append(_INLINE[name])
                elif name in _ALTERNATIVE:
                    alternatives.append(_ALTERNATIVE[name])
                else:
                    return None
                i = end + 1
            else:
                pieces.append(p[i : i + 2])
                i += 2
            if nxt in _CLASS_ESCAPES and p.startswith("-", i) and not p.startswith("-]", i):
                pieces.append(r"\-")
                i += 1
            continue
        pieces.append(c)
        i += 1
    else:
        return None  # unterminated class
    content = "".join(pieces)
    if not alternatives:
        return f"[{'^' if negate else ''}{content}]", i + 1
    if negate:
        return None
    if content:
        alternatives.append(f"[{content}]")
    return f"(?:{'|'.join(dict.fromkeys(alternatives))})", i + 1

"""The one grammar of citation markers and sentences, shared by the body parser and the linter.

`articles.body.parse()` renders bodies and collects claims; `articles.lint.uncited_claims()`
warns about claim-like sentences without a citation. Both install the markdown-it rules below and
split sentences with `sentence_ends()`, so a sentence the linter treats as cited is exactly one
in which `parse()` finds a citation, and the reverse.

Markers
    A marker opens with ``[@`` and closes at the next ``]``; inside are one or more ``@key``
    items separated by ``;``, each with an optional ``, locator``. Every other *bracket-at*
    form is an error reported with its position, never plain text:

    * ``[ @key]``, ``[-@key]``, ``[ - @key]``: something between ``[`` and ``@``
      (code ``bad_opening``);
    * ``\\[@key]``: a backslash that would make the marker literal text (``escaped_marker``).

    A marker in a code span or code block is code, in both the parser and the linter.

Sentences
    A sentence ends at ``.``, ``!``, ``?`` or an ellipsis (then any closing quotes or brackets)
    followed by whitespace and then something that is not a lower-case letter, at a CJK full
    stop, at a hard line break, and before a bullet glyph (•, ◦, ▪, ●, ■ ...) followed by a space,
    as in a list pasted from a web page. A full stop does not end a sentence after a known
    abbreviation (e.g., i.e., et al., Dr., vs., ...), after a single capital initial, or after
    "No."/"p."/"fig." before a number; decimals such as 2.5 never split because no space follows
    the point.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import StateInline

__all__ = [
    "CITATION_TOKENS",
    "HIDDEN_CONTENT_TAGS",
    "OPENING",
    "Cite",
    "ends_sentence",
    "install",
    "parse_marker",
    "sentence_ends",
]


@dataclass(frozen=True)
class Cite:
    """One study key inside a citation marker, with its optional locator ("" when none)."""

    key: str
    locator: str


# "[" then anything made of spaces and hyphens, then "@": every way of opening a marker that an
# author might type. Only "[@" with nothing between is well formed.
OPENING = re.compile(r"\[[\s-]*@")
KEY = re.compile(r"[A-Za-z0-9_-]+")
_BRACKET = re.compile(r"[\[\]]")
_KEY_IN_LOCATOR = re.compile(r"(?:^|[\s,])@[A-Za-z0-9_-]")

# Token types the rules below produce: a well-formed marker, and a malformed one.
CITATION_TOKENS = ("citation", "citation_error")

# Raw HTML elements whose content is not meant as readable text.
HIDDEN_CONTENT_TAGS = frozenset(
    {"script", "style", "template", "textarea", "iframe", "noscript", "title", "xmp"}
)


def _marker_end(src: str, after_at: int, end: int) -> tuple[int, bool]:
    """Where a marker whose "@" ends at `after_at` stops, and whether it is closed."""
    bracket = _BRACKET.search(src, after_at, end)
    if bracket is None or bracket.group() == "[":
        key = KEY.match(src, after_at, end)
        return (key.end() if key else after_at), False
    return bracket.end(), True


def _citation_rule(state: StateInline, silent: bool) -> bool:
    src, start, end = state.src, state.pos, state.posMax
    if src[start] != "[":
        return False
    opening = OPENING.match(src, start, end)
    if opening is None:
        return False
    stop, closed = _marker_end(src, opening.end(), end)
    if not closed:
        meta = {"code": "unclosed_marker", "detail": ""}
    elif opening.end() - start > 2:
        meta = {"code": "bad_opening", "detail": ""}
    else:
        meta = parse_marker(src[start + 1 : stop - 1])
    _push(state, silent, start, stop, meta)
    return True


def _escaped_citation_rule(state: StateInline, silent: bool) -> bool:
    """``\\[@key]`` would silently show patients bracket text that looks like a citation."""
    src, start, end = state.src, state.pos, state.posMax
    if src[start] != "\\" or start + 1 >= end:
        return False
    opening = OPENING.match(src, start + 1, end)
    if opening is None:
        return False
    stop, _closed = _marker_end(src, opening.end(), end)
    _push(state, silent, start, stop, {"code": "escaped_marker", "detail": ""})
    return True


def _push(state: StateInline, silent: bool, start: int, stop: int, meta: dict) -> None:
    if not silent:
        token = state.push("citation" if "cites" in meta else "citation_error", "", 0)
        token.content = state.src[start:stop]
        token.meta = {"offset": start, **meta}
    state.pos = stop


def parse_marker(inner: str) -> dict:
    """Parse the inside of ``[...]`` (starting with "@") into cites, or an error code."""
    if KEY.search(inner) is None:
        return {"code": "empty_marker", "detail": ""}
    cites = []
    for raw_item in inner.split(";"):
        item = raw_item.strip()
        if not item:
            return {"code": "empty_key", "detail": ""}
        if item[0] != "@":
            return {"code": "missing_at", "detail": " ".join(item.split())}
        key = KEY.match(item, 1)
        if key is None:
            return {"code": "empty_key", "detail": ""}
        rest = item[key.end() :].lstrip()
        if rest and rest[0] != ",":
            bad = " ".join(item[1:].split(",", 1)[0].split())
            return {"code": "bad_key", "detail": bad}
        locator = " ".join(rest[1:].split())
        if _KEY_IN_LOCATOR.search(locator):
            return {"code": "comma_between_keys", "detail": ""}
        cites.append(Cite(key=key.group(), locator=locator))
    seen = set()
    for cite in cites:
        if cite.key in seen:
            return {"code": "duplicate_key", "detail": cite.key}
        seen.add(cite.key)
    return {"cites": tuple(cites)}


def install(md: MarkdownIt) -> MarkdownIt:
    """Teach a markdown-it parser the citation markers (and the malformed ones)."""
    md.inline.ruler.before("escape", "escaped_citation", _escaped_citation_rule)
    md.inline.ruler.before("link", "citation", _citation_rule)
    return md


# -- Sentences ----------------------------------------------------------------------------------

# Bullet glyphs that text pasted from a web page or a word processor uses for list items: each
# item is its own sentence, though Markdown joins the lines into one paragraph.
BULLETS = "\u2022\u25e6\u25aa\u25ab\u2023\u2043\u25cf\u25cb\u25a0\u25a1"
_TERMINAL = re.compile(
    r"[.!?\u2026]+[\"'\u2019\u201d\u00bb)\]]*(?=\s|$)|[\u3002\uff01\uff1f]|\n|\u2029"
    rf"|\s+(?=[{BULLETS}]\s)"
)
_NEXT_CHAR = re.compile(r"\s*(\S)")
_WORD_BEFORE = re.compile(r"([^\s(\[\"'\u201c\u2018]+)\Z")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ABBREVIATIONS = _word_set(
    "e.g eg i.e ie al dr mr mrs ms mx prof st vs v viz approx ca cf dept jr sr mt inc ltd etc"
    " incl resp est"
)
_NUMBER_ABBREVIATIONS = _word_set("no nos p pp vol fig figs tab ch chap sec eq ref refs tel")


def ends_sentence(text: str, match: re.Match[str]) -> bool:
    """Whether a terminal punctuation `match` found by `sentence_ends` really ends a sentence."""
    if match.group() == "\n" or match.group().isspace():
        return True  # a hard break, a paragraph separator, or the space before a bullet
    following = _NEXT_CHAR.match(text, match.end())
    next_char = following.group(1) if following else ""
    if next_char.islower():
        return False
    if match.group().rstrip("\"'\u2019\u201d\u00bb)]") == ".":
        before = _WORD_BEFORE.search(text, max(0, match.start() - 24), match.start())
        word = before.group(1).lower() if before else ""
        if word in _ABBREVIATIONS:
            return False
        if word in _NUMBER_ABBREVIATIONS and next_char.isdigit():
            return False
        if len(word) == 1 and word.isalpha() and text[match.start() - 1].isupper():
            return False  # an initial, as in "J. Smith"
    return True


def sentence_ends(text: str) -> Iterator[re.Match[str]]:
    """Each terminal punctuation or hard break in `text` that ends a sentence."""
    for match in _TERMINAL.finditer(text):
        if ends_sentence(text, match):
            yield match

"""Parse an article body: Markdown with Pandoc-style citation markers.

Authors mark each health claim with the studies that support it::

    Acupuncture beat usual care at 8 weeks [@cherkin2009].
    Both trials agree [@haake2007, p. 1895; @cherkin2009, table 2].

A marker is ``[`` then one or more items separated by ``;``, then ``]``. Each item is ``@key``
optionally followed by ``,`` and a locator (a page, table or figure). Keys are slugs
(``[A-Za-z0-9_-]+``, like ``Study.key``). Markers in code spans or code blocks are plain code.
The grammar of markers and sentences lives in ``articles.citation_grammar``, which the claim
linter shares, so what the linter treats as cited is exactly what this parser cites.

``parse()`` is pure: no database, no Django. It returns the sanitised HTML, the claims and every
problem an author should fix, as ``BodyError`` with one of these codes:

``unclosed_marker``      ``[@key`` with no ``]`` (a marker cannot contain ``[``)
``empty_marker``         ``[@]``: no key at all
``bad_opening``          something between ``[`` and ``@``: ``[ @key]``, ``[-@key]``
``escaped_marker``       ``\\[@key]``: the backslash would show patients a fake citation
``empty_key``            an entry without a key: ``[@ key]``, ``[@a;; @b]``, ``[@key;]``
``missing_at``           an entry without ``@``: ``[@a; b]``
``bad_key``              a key with other characters, or text after it without a comma:
                         ``[@bad key!]``, ``[@café]``
``comma_between_keys``   ``[@a, @b]``, which would silently make ``@b`` a locator
``duplicate_key``        ``[@a; @a]``
``marker_without_claim`` a marker with no claim text before it: at the start of a paragraph,
                         list item, table cell or heading, or right after another marker
``marker_in_html``       a marker inside raw HTML, which is not rendered
``marker_in_image``      a marker inside an image description
``image_without_alt``    ``![](x.png)``: screen-reader users need a description
``unsafe_link``          a link or image address with a scheme other than http, https, mailto,
                         tel (``javascript:``, ``data:``...); the link is dropped, its text kept

Nothing is silently dropped: a malformed marker renders as its literal text, and a marker without
claim text is still listed in ``claims`` (with ``text=""``) and numbered as usual.

Positions are 1-based; columns count characters (code points), not bytes.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import autolink, image, link
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

from . import citation_grammar
from .citation_grammar import CITATION_TOKENS, HIDDEN_CONTENT_TAGS, OPENING, Cite, sentence_ends
from .lint import html_block_shown_text

__all__ = ["BodyError", "Cite", "Claim", "ParsedBody", "parse"]


@dataclass(frozen=True)
class Claim:
    """The text a citation marker supports, with the studies it cites and the marker's line."""

    text: str
    cites: tuple[Cite, ...]
    line: int

    @property
    def keys(self) -> tuple[str, ...]:
        """The cited keys, in the order written in the marker."""
        return tuple(cite.key for cite in self.cites)


@dataclass(frozen=True)
class BodyError:
    """A problem in the body, worded for the author, with its position in the source."""

    message: str
    line: int
    column: int
    marker: str
    code: str


@dataclass(frozen=True)
class ParsedBody:
    """The result of ``parse()``."""

    html: str
    claims: tuple[Claim, ...]
    errors: tuple[BodyError, ...]
    references: tuple[str, ...]

    @property
    def keys(self) -> frozenset[str]:
        """Every key cited in the body."""
        return frozenset(self.references)


_NEWLINE = re.compile(r"\n")
_NOT_NEWLINE = re.compile(r"[^\n]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL_AND_SPACE = re.compile(r"[\x00-\x20\x7f]+")
_OPENING_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)")
_CLOSING_TAG = re.compile(r"</\s*([A-Za-z][A-Za-z0-9-]*)")

URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
ALLOWED_TAGS = frozenset(
    {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "a", "img", "table",
     "thead", "tbody", "tr", "th", "td", "blockquote", "code", "pre", "hr", "br", "sup", "del"}
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
_EXTERNAL_REL = "noopener noreferrer"


def parse(text: str) -> ParsedBody:
    """Render an article body to safe HTML and collect its claims, references and errors.

    Each distinct key is numbered by its first appearance; every marker renders as
    ``<sup><a href="#ref-N">N</a></sup>`` per key, joined by ``<sup>,</sup>``. A claim's text runs
    from the start of its sentence, or from the previous marker in the same sentence, to the
    marker. If a marker directly follows the end of a sentence (``Works. [@a]``) it supports that
    sentence. Markdown ``#`` and ``##`` headings both render as ``<h2>`` (deeper levels as they
    are) because the page has its own ``<h1>``. Raw HTML never renders as HTML: inline tags
    are dropped, HTML blocks keep only their text, and script or style contents are removed.
    """
    text = _SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))
    # markdown-it normalises line endings too; doing it first keeps our line numbers in step.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tokens = _MD.parse(text)
    walker = _Walker(text.split("\n"))
    walker.walk(tokens)
    html = _MD.renderer.render(tokens, _MD.options, {})
    return ParsedBody(
        html=_sanitise(html),
        claims=tuple(walker.claims),
        errors=tuple(sorted(walker.errors, key=lambda error: (error.line, error.column))),
        references=tuple(walker.numbers),
    )


def _sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        # rel is set by us, only on links to other sites; raw HTML never gets this far.
        link_rel=None,
        strip_comments=True,
    )


# Markdown-it extension -----------------------------------------------------------------------


def _record_offset(rule):
    """Wrap a markdown-it inline rule so its link or image token remembers where it started."""

    def wrapped(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        matched = rule(state, silent)
        if matched and not silent:
            for token in state.tokens[count:]:
                if token.type in ("link_open", "image"):
                    token.meta["offset"] = start
                    break
        return matched

    return wrapped


def _render_citation(self, tokens: list[Token], idx: int, options, env) -> str:
    return "<sup>,</sup>".join(
        f'<sup><a href="#ref-{number}">{number}</a></sup>' for number in tokens[idx].meta["numbers"]
    )


def _render_literal(self, tokens: list[Token], idx: int, options, env) -> str:
    return escapeHtml(tokens[idx].content)


def _build_markdown() -> MarkdownIt:
    # html is on so raw HTML is recognised as tokens, which the walker then drops or strips;
    # with it off, <script> contents would show as text.
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    citation_grammar.install(md)
    md.inline.ruler.at("link", _record_offset(link))
    md.inline.ruler.at("image", _record_offset(image))
    md.inline.ruler.at("autolink", _record_offset(autolink))
    # Accept every address while parsing so that refused ones can be reported with a position.
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # markdown-it's documented hook
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("citation_error", _render_literal)
    return md


_MD = _build_markdown()


# Walking the tokens --------------------------------------------------------------------------


class _Walker:
    """One pass over the tokens in document order: numbers keys, finds claims, checks safety."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.numbers: dict[str, int] = {}
        self.claims: list[Claim] = []
        self.errors: list[BodyError] = []
        self._text: list[str] = []  # plain text since the last block boundary or marker
        self._cursor: dict[int, int] = {}
        self._prefix: dict[tuple[int, int], int] = {}

    def walk(self, tokens: list[Token]) -> None:
        for token in tokens:
            if token.type == "inline":
                self._inline(token)
                continue
            self._text.clear()
            if token.type in ("heading_open", "heading_close"):
                # The page title is the only <h1>: "#" and "##" are both sections (<h2>).
                token.tag = f"h{max(int(token.tag[1]), 2)}"
            elif token.type == "html_block":
                self._html_block(token)

    def _inline(self, block: Token) -> None:
        kept: list[Token] = []
        hidden_until = ""
        drop_link_close = False
        for token in block.children or []:
            kind = token.type
            if hidden_until and token.nesting == 0:
                if kind == "html_inline" and _tag_name(_CLOSING_TAG, token) == hidden_until:
                    hidden_until = ""
                elif kind in CITATION_TOKENS:
                    self._error(block, token.meta["offset"], "marker_in_html", token.content)
                continue
            if kind == "html_inline":
                name = _tag_name(_OPENING_TAG, token)
                if name in HIDDEN_CONTENT_TAGS and not token.content.endswith("/>"):
                    hidden_until = name
                continue
            if kind in ("text", "code_inline"):
                self._text.append(token.content)
            elif kind == "softbreak":
                self._text.append(" ")
            elif kind == "hardbreak":
                self._text.append("\n")  # a hard break ends a sentence, as in the linter
            elif kind == "citation":
                self._cite(block, token)
            elif kind == "citation_error":
                self._text.clear()
                meta = token.meta
                self._error(block, meta["offset"], meta["code"], token.content, meta["detail"])
            elif kind == "link_open":
                href = str(token.attrGet("href") or "")
                if not self._is_allowed_url(block, token, href):
                    drop_link_close = True
                    continue
                if href.lower().startswith(("http://", "https://", "//")):
                    token.attrSet("rel", _EXTERNAL_REL)
            elif kind == "link_close" and drop_link_close:
                drop_link_close = False
                continue
            elif kind == "image" and not self._image(block, token):
                continue
            elif kind in ("s_open", "s_close"):
                token.tag = "del"
            kept.append(token)
        block.children = kept

    def _cite(self, block: Token, token: Token) -> None:
        cites = token.meta["cites"]
        for cite in cites:
            self.numbers.setdefault(cite.key, len(self.numbers) + 1)
        token.meta["numbers"] = [self.numbers[cite.key] for cite in cites]
        text = self._take_claim_text()
        line, _ = self._position(block, token.meta["offset"], column=False)
        if not text:
            self._error(block, token.meta["offset"], "marker_without_claim", token.content)
        self.claims.append(Claim(text=text, cites=cites, line=line))

    def _take_claim_text(self) -> str:
        text = "".join(self._text)
        self._text.clear()
        start = 0
        for match in sentence_ends(text):
            # A sentence end with nothing after it means the marker follows a full stop: it
            # supports the sentence just ended, so keep looking from the previous boundary.
            if text[match.end() :].strip():
                start = match.end()
        claim = " ".join(text[start:].split()).lstrip(",;:.!?)]} ").rstrip("([{ ")
        return claim if any(char.isalnum() for char in claim) else ""

    def _image(self, block: Token, token: Token) -> bool:
        offset = token.meta.get("offset", 0)
        src = str(token.attrGet("src") or "")
        if not self._is_allowed_url(block, token, src):
            return False
        alt = []
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                alt.append(child.content)
            elif child.type in CITATION_TOKENS:
                self._error(block, offset, "marker_in_image", child.content)
        if not "".join(alt).strip():
            self._error(block, offset, "image_without_alt", _shorten(src), src)
        return True

    def _is_allowed_url(self, block: Token, token: Token, url: str) -> bool:
        scheme = _SCHEME.match(_CONTROL_AND_SPACE.sub("", url))
        if scheme is None or scheme.group(1).lower() in URL_SCHEMES:
            return True
        self._error(block, token.meta.get("offset", 0), "unsafe_link", _shorten(url), url)
        return False

    def _html_block(self, block: Token) -> None:
        visible = _blank_comments(block.content)
        for opening in OPENING.finditer(visible):
            position = opening.start()
            snippet = visible[position : position + 60].split("]", 1)[0].split("\n", 1)[0]
            snippet += "]" if visible.startswith("]", position + len(snippet)) else ""
            self._error(block, position, "marker_in_html", snippet)
        # Patients are shown the text the linter reads (tags skipped, the content of hidden
        # elements dropped), so nothing reaches them that it did not read; nh3 then escapes it.
        text = nh3.clean(html_block_shown_text(block.content), tags=set()).strip()
        block.content = f"<p>{text}</p>\n" if text else ""

    def _error(self, block: Token, offset: int, code: str, marker: str, detail: str = "") -> None:
        line, column = self._position(block, offset)
        marker = _shorten(marker)
        message = f"Line {line}: " + _MESSAGES[code].format(marker=marker, detail=detail)
        self.errors.append(
            BodyError(message=message, line=line, column=column, marker=marker, code=code)
        )

    def _position(self, block: Token, offset: int, column: bool = True) -> tuple[int, int]:
        """Map an offset in a block's content to a 1-based (line, column) in the source."""
        newlines = block.meta.get("newlines")
        if newlines is None:
            newlines = block.meta["newlines"] = [
                m.start() for m in _NEWLINE.finditer(block.content)
            ]
        row = bisect_left(newlines, offset)
        line_index = (block.map[0] if block.map else 0) + row
        if not column:
            return line_index + 1, 0
        # The content line is the source line minus container prefixes ("> ", "- ", "## "...);
        # find where it sits. Table cells share a source line, hence the per-line cursor.
        start = newlines[row - 1] + 1 if row else 0
        key = (id(block), row)
        prefix = self._prefix.get(key)
        if prefix is None:
            piece = block.content[start : newlines[row] if row < len(newlines) else None]
            source = self.lines[line_index] if line_index < len(self.lines) else ""
            prefix = source.find(piece, self._cursor.get(line_index, 0)) if piece else -1
            if prefix >= 0:
                self._cursor[line_index] = prefix + len(piece)
            else:  # content was rewritten (an escaped "|" in a table): best effort
                prefix = len(source) - len(source.lstrip())
            self._prefix[key] = prefix
        return line_index + 1, prefix + offset - start + 1


def _tag_name(pattern: re.Pattern, token: Token) -> str:
    match = pattern.match(token.content)
    return match.group(1).lower() if match else ""


def _blank_comments(html: str) -> str:
    """Replace HTML comments with spaces, keeping offsets, so commented-out markers are ignored."""
    parts = []
    position = 0
    while (begin := html.find("<!--", position)) >= 0:
        end = html.find("-->", begin + 4)
        end = len(html) if end < 0 else end + 3
        parts.append(html[position:begin])
        parts.append(_NOT_NEWLINE.sub(" ", html[begin:end]))
        position = end
    parts.append(html[position:])
    return "".join(parts)


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MESSAGES = {
    "unclosed_marker": 'citation marker "{marker}" is not closed with "]".',
    "empty_marker": 'citation marker "{marker}" has no study key; write it as "[@key]".',
    "bad_opening": (
        'citation marker "{marker}" has something between "[" and "@"; write it as "[@key]", '
        "with nothing in between."
    ),
    "escaped_marker": (
        '"{marker}" looks like a citation, but the backslash makes it plain text that patients '
        "would take for one; remove the backslash to cite, or put it in `code` to show it."
    ),
    "empty_key": (
        'citation marker "{marker}" has an entry without a study key; write each study as '
        '"@key" with no space after "@", separated by ";", as in "[@a; @b]".'
    ),
    "missing_at": (
        'in citation marker "{marker}", "{detail}" needs "@" before the key, as in "[@a; @b]".'
    ),
    "bad_key": (
        'citation key "{detail}" in "{marker}" is not valid: keys use only letters, digits, "-" '
        'and "_". Put a page or table after a comma, as in "[@key, p. 3]".'
    ),
    "comma_between_keys": (
        'citation marker "{marker}" separates studies with ","; use ";", as in "[@a; @b]".'
    ),
    "duplicate_key": 'citation marker "{marker}" cites "{detail}" twice.',
    "marker_without_claim": (
        'citation marker "{marker}" has no claim text before it. Put it after the sentence it '
        'supports, or combine neighbouring markers into one, as in "[@a; @b]".'
    ),
    "marker_in_html": (
        'citation marker "{marker}" is inside raw HTML, which is not shown to patients; '
        "use Markdown instead."
    ),
    "marker_in_image": (
        'citation marker "{marker}" is inside an image description; put it in the text instead.'
    ),
    "image_without_alt": (
        'image "{marker}" has no description. Write one between the brackets, as in '
        '"![X-ray of a knee](knee.png)", for patients who use screen readers.'
    ),
    "unsafe_link": (
        'address "{marker}" is not allowed; use an http or https address, mailto:, tel:, '
        "or a path on this site."
    ),
}

"""Warn about sentences in an article body that read like health claims but cite nothing.

`uncited_claims(text)` is pure: it reads Markdown and returns `Finding`s; it never touches the
database. Reviewers see each finding and either dismiss it ("not a claim") or send the article
back, so the rules below try to judge whole sentences rather than react to single words.

How the text is read
    The body is parsed with markdown-it-py (CommonMark, tables, strikethrough, raw HTML
    recognised). The inline content of paragraphs, list items, blockquotes, table cells and
    headings is read, and a block of raw HTML as the text patients see in it (its tags and
    comments skipped as inline HTML is, block-level tags ending sentences; a marker cannot
    cite there). Code blocks and fences are skipped, and
    inside a sentence code spans, inline HTML, autolinks, link destinations and images are not
    prose. Each prose
    character keeps its offset in the inline source, so a finding quotes the sentence as the
    author wrote it (emphasis markers and link syntax may remain) and knows its line.

Sentences
    A sentence ends at ``.``, ``!``, ``?`` or an ellipsis followed by whitespace and then
    something that is not a lower-case letter, at a hard line break, before a pasted bullet
    glyph ("• "), and at the end of a block.
    A full stop is not an ending after known abbreviations (e.g., i.e., et al., Dr., vs., ...),
    after a single capital initial, or after "No."/"p." before a number; decimals such as 2.5
    never split because no space follows the point. A marker written just after the full stop
    (``... back pain. [@key]``) still belongs to the sentence before it.

Cited sentences
    A sentence containing a marker such as ``[@key]``, ``[@a; @b]`` or ``[@key, table 2]``
    anywhere is cited and never flagged; so is every cell of a table row where any cell cites.
    A cited source note ("These figures come from ... [@key]", "Source: [@key]") also covers
    the percentages and statistics since the last citation or heading, as in a list of
    figures followed by where they come from; it does not cover any other kind of claim. In
    the same way, a paragraph whose first sentence cites covers the figures of a table just
    before it. A table's header row holds column labels and is not read.

What reads like a claim (in order of preference when a sentence matches several)
    evidence_appeal  "studies show", "a 2017 review found", "Smith et al. found", "clinically
                     proven", "evidence-based", "has been shown to", "NICE recommends"
    guarantee        "guaranteed", "always works", "never fails", "instant relief"
    cure_claim       "cure", "cures", "cured", "cure-all", "back pain gone for good"
    safety_claim     "completely safe", "is safe", "no side effects", "side effects are rare",
                     "risk-free", "painless"
    percentage       "40%", "40 per cent"
    statistic        "1 in 5", "three out of four", "twice as likely", "3 times more"
    comparison       "better than", "more effective than", "as good as", "outperforms",
                     "the most effective treatment"
    most_people      "most people", "many of our patients", "the majority of patients",
                     "almost everyone"
    efficacy_word    "effective", "works", "relieves", "lasting relief", "reduces pain",
                     "improves mobility", "heals", "treats sciatica", "helps back pain",
                     "pain-free", "my pain had gone", "rebalances qi"

Judging the sentence rather than the word
    * Questions are not claims, except "Did you know ...?" which asserts.
    * Headings are flagged only when declarative: a heading that is a question, ends with a
      colon, or opens with how/what/why/when/is/does/can/... is a topic, not a claim.
    * Verbs of effect need a health object ("reduces pain", "improves sleep", "treats
      sciatica"), so "we reduced our prices" is not a claim.
    * Words that are often about something else need a health or treatment word outside the
      matched words, in the sentence or the one before it (which may be a heading, and is what
      a pronoun such as "it" points to) or, in a table, elsewhere in the row: "works",
      "effective", safety words, guarantees and comparisons. Percentages and statistics need a
      health or treatment word in the same sentence, and generalisations a health outcome or
      condition, so "Most people book six sessions" and "10% off your first visit" are
      logistics, not claims. Percentages next to money words (discount, deposit, fee, ...) are
      prices.
    * "works" is not a claim after how/what ("how acupuncture works", "what works for you"), for
      a person ("she works on Tuesdays", "we work with your GP") or a time slot ("a time that
      works for you"); "work" needs a modal or "does" before it ("will work") or a group of
      patients after it ("painkillers work for some people").
    * Negation: a match right after a negator, with at most three filler words between ("is
      not a cure", "will not always work", "no known cure") is a warning, not a claim.
      "Not only" and "not just" do not negate, and patterns that contain their own negator ("no
      side effects", "never fails", "nothing works better than") still count.
    * Non-assertive frames cover the rest of the clause up to a contrast (but, however, ;, :):
      "we cannot promise that ...", "there is no guarantee ...", "there is little evidence
      ...", "it is not known whether ...", "it is a myth that ...". So in "We cannot promise it
      will work, but most patients feel better" the second half is still flagged.
    * A match in an if/whether/unless clause is not asserted ("ask us whether it works").
    * Hoping or looking for a cure is not offering one.
    * Calls to action (a clause opening with book, call, email, fill in, visit, ask, ...) are
      not flagged for effect wording or generalisations, but a statistic, guarantee, cure,
      safety, comparison or evidence claim inside one still is.
    * Logistics (hours, prices, what a session is like) need no special case: they rarely match,
      and the health-word requirement filters most of what does.

Every step is a bounded regular expression or a single pass over the text, so the run time is
linear in the size of the body.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.helpers import parseLinkDestination, parseLinkTitle
from markdown_it.token import Token

from . import citation_grammar, claim_model
from .citation_grammar import HIDDEN_CONTENT_TAGS, sentence_ends

_md = citation_grammar.install(
    MarkdownIt("commonmark", {"html": True})
    .enable(["table", "strikethrough"])
    # Keep escapes and entities as their own tokens so they can be found in the source.
    .disable("text_join")
)


@dataclass(frozen=True)
class Finding:
    sentence: str
    reason: str
    line: int
    code: str
    category: str = "efficacy"
    field: str = "body"  # which part of the article: "title", "summary" or "body"

    @property
    def where(self) -> str:
        """Where an editor finds the sentence: "Title", "Summary" or "Line N" of the body."""
        return self.field.capitalize() if self.field != "body" else f"Line {self.line}"

    @property
    def fingerprint(self) -> str:
        """A hash of the sentence's words, ignoring case, punctuation and Markdown markup."""
        words = _NON_WORD.sub(" ", unicodedata.normalize("NFKC", _plain(self.sentence)).casefold())
        return hashlib.sha256(words.strip().encode()).hexdigest()[:16]


def article_findings(title: str, summary: str, body: str) -> list[Finding]:
    """Findings for everything patients read: the title and summary first, then the body.

    The title is judged as a heading (a question or a topic is not a claim); the summary as a
    paragraph. Their findings have ``field`` "title" or "summary" and count in the publishing
    gate exactly like the body's.
    """
    return list(_article_findings(title, summary, body))


# The same text is linted several times over: each workflow step checks it, and the review
# screen shows the findings and its approval checklist. Linting is pure and its findings are
# frozen, so recent results are kept (a few texts, per process).
@functools.lru_cache(maxsize=8)
def _article_findings(title: str, summary: str, body: str) -> tuple[Finding, ...]:
    findings = [replace(f, field="title") for f in uncited_claims("# " + " ".join(title.split()))]
    findings += [replace(f, field="summary") for f in uncited_claims(summary)]
    return (*findings, *uncited_claims(body))


def revision_findings(revision: Any) -> list[Finding]:
    """`article_findings` for anything with ``title``, ``summary`` and ``body`` (a revision)."""
    return article_findings(revision.title, revision.summary, revision.body)


CITED_MARK = "\u27e6@\u27e7"  # how `cited_sentences` shows a well-formed marker: ⟦@⟧


def cited_sentences(text: str) -> list[str]:
    """The prose sentences of a body that the linter treats as cited (they hold a marker),
    each with its markers shown as ``⟦@⟧``; the property tests compare them with `parse()`."""
    cited = []
    lines = _SourceLines(text)
    for _kind, inlines in _blocks(_md.parse(text)):
        for inline in inlines:
            prose = _Prose(inline, lines)
            for start, end in _sentences(prose.text):
                sentence = prose.text[start:end]
                if _CITE in sentence:
                    cited.append(sentence.replace(_CITE, CITED_MARK))
    return cited


def uncited_claims(text: str) -> list[Finding]:
    """Findings for the sentences of a Markdown body that read like uncited health claims."""
    scan = _Scan()
    lines = _SourceLines(text)
    table_from: int | None = None  # where the findings of the table just read begin
    for kind, inlines in _blocks(_md.parse(text)):
        if kind == "header_row":
            continue  # column labels ("Share who improved") assert nothing
        if kind == "html":
            # Patients see a block of raw HTML as the text inside it (articles.body), where no
            # marker can cite: a claim there is always uncited.
            inlines, kind = [_html_block_text(inlines[0])], "paragraph"
        proses = [_Prose(inline, lines) for inline in inlines]
        if kind == "row" and table_from is None:
            table_from = len(scan.findings)
        elif kind != "row" and table_from is not None:
            if kind == "paragraph" and _opens_with_citation(proses[0].text):
                # A table of figures followed by the sentence that cites where they come from.
                pending = scan.findings[table_from:]
                del scan.findings[table_from:]
                scan.findings.extend(f for f in pending if not _is_figure(f))
            table_from = None
        if kind != "row":
            _check_block(proses[0], kind, scan)
        elif not any(_CITE in prose.text for prose in proses):
            # A table row is one statement: its other cells are the context of each cell, and
            # one citation anywhere in the row covers all of it.
            for prose in proses:
                others = " ".join(other.text for other in proses if other is not prose)
                _check_block(prose, kind, scan, previous=others)
    return scan.findings


# -- Reading Markdown ---------------------------------------------------------------------------

_WINDOW = 4096  # how far past the cursor a token's source is looked for
_PLACEHOLDER = "\ufffc"  # stands in for a code span or an autolink inside prose
_CITE = "\ue000"  # stands in for a well-formed citation marker (see articles.citation_grammar)
_TAG_NAME = re.compile(r"<(/?)\s*([A-Za-z][A-Za-z0-9-]*)")
_NON_WORD = re.compile(r"[\W_]+")


def _blocks(tokens: list[Token]) -> Iterator[tuple[str, list[Token]]]:
    """Yield ("paragraph" | "heading" | "row" | "header_row" | "html", tokens) for each block
    of prose (an "html" block yields its own token, not inline ones)."""
    row: list[Token] | None = None
    in_header = False
    for i, token in enumerate(tokens):
        if token.type in ("thead_open", "thead_close"):
            in_header = token.type == "thead_open"
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            if row:
                yield ("header_row" if in_header else "row"), row
            row = None
        elif token.type == "inline":
            if row is not None:
                row.append(token)
            elif i and tokens[i - 1].type == "paragraph_open":
                yield "paragraph", [token]
            elif i and tokens[i - 1].type == "heading_open":
                yield "heading", [token]
        elif token.type == "html_block":
            yield "html", [token]


# A block of raw HTML is read as the text it shows: its tags and comments are skipped as inline
# HTML is (the content of script-like elements hidden), a block-level tag ends a sentence, so the
# sentences of "<p>One</p><p>Two</p>" are read apart, and a line break is a space.
_HTML_PIECE = re.compile(r"<!--.*?(?:-->|\Z)|</?[A-Za-z][^>]*>|<![^>]*>|<\?[^>]*>", re.DOTALL)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|br|h[1-6]|tr|td|th|dd|dt|ul|ol|table|section|article|blockquote"
    r"|header|footer|aside|main|figcaption)\b",
    re.IGNORECASE,
)


def html_block_shown_text(content: str) -> str:
    """The text of a raw HTML block as the linter reads it: tags, comments and declarations
    skipped (`_HTML_PIECE`), the content of hidden elements (HIDDEN_CONTENT_TAGS) dropped.

    The body parser shows patients this same text (`articles.body`), so a real HTML parser can
    never find text in a block, say after a `>` inside a quoted attribute or an abrupt `<!-->`
    comment, that the linter did not read.
    """
    parts: list[str] = []
    hidden_until = ""
    position = 0
    for piece in _HTML_PIECE.finditer(content):
        if not hidden_until:
            parts.append(content[position : piece.start()])
        position = piece.end()
        was_hidden, hidden_until = hidden_until, _hidden_after(piece.group(), hidden_until)
        if not (was_hidden or hidden_until) and _BLOCK_TAG.match(piece.group()):
            parts.append("\n")
    if not hidden_until:
        parts.append(content[position:])
    return "".join(parts)


def _hidden_after(tag_text: str, hidden_until: str) -> str:
    """The hidden element (HIDDEN_CONTENT_TAGS) whose content follows this piece of HTML, or
    "": the one it opens, or the one still open unless it closes that one."""
    tag = _TAG_NAME.match(tag_text)
    if tag is None:
        return hidden_until
    name = tag.group(2).lower()
    if hidden_until:
        return "" if tag.group(1) and name == hidden_until else hidden_until
    if not tag.group(1) and name in HIDDEN_CONTENT_TAGS and not tag_text.endswith("/>"):
        return name
    return ""


def _html_block_text(block: Token) -> Token:
    """An inline token for a raw HTML block: its text, tags and breaks as inline tokens over
    the block's own source, so findings quote the source and know their lines."""
    children: list[Token] = []

    def add_text(text: str) -> None:
        for number, line in enumerate(text.split("\n")):
            if number:
                children.append(Token("softbreak", "br", 0))
            if line:
                children.append(Token("text", "", 0, content=line))

    position = 0
    for piece in _HTML_PIECE.finditer(block.content):
        add_text(block.content[position : piece.start()])
        kind = "html_break" if _BLOCK_TAG.match(piece.group()) else "html_inline"
        children.append(Token(kind, "", 0, content=piece.group()))
        position = piece.end()
    add_text(block.content[position:])
    inline = Token("inline", "", 0, content=block.content, map=block.map)
    inline.children = children
    return inline


class _SourceLines:
    """The body's lines as markdown-it numbers them, split only if needed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: list[str] | None = None

    def __getitem__(self, index: int) -> str:
        if self._lines is None:
            text = self.text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
            self._lines = text.split("\n")
        return self._lines[index] if index < len(self._lines) else ""


def _first_line(inline: Token, lines: _SourceLines) -> int:
    """The 1-based line of the first line of the token's content."""
    start, end = inline.map or (0, 1)
    # markdown-it strips the content, which can swallow leading lines that hold only Unicode
    # spaces (a no-break space pasted from a word processor, say).
    missing = end - start - inline.content.count("\n") - 1
    if missing > 0:
        head = inline.content.split("\n", 1)[0]
        for skipped in range(missing + 1):
            if head in lines[start + skipped]:
                return start + skipped + 1
    return start + 1


class _Prose:
    """The prose of one inline token, with each character's span in the token's source."""

    def __init__(self, inline: Token, lines: _SourceLines) -> None:
        self.first_line = _first_line(inline, lines)
        self.source = inline.content
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.cursor = 0
        self._walk(inline.children or [], visible=True)
        self.text = "".join(self.chars)

    def _find(self, needle: str) -> int:
        return self.source.find(needle, self.cursor, self.cursor + len(needle) + _WINDOW)

    def _emit(self, text: str, start: int, end: int, *, verbatim: bool) -> None:
        self.chars.append(text)
        if verbatim:
            self.starts.extend(range(start, start + len(text)))
            self.ends.extend(range(start + 1, start + len(text) + 1))
        else:
            self.starts.extend([start] * len(text))
            self.ends.extend([end] * len(text))

    def _walk(self, tokens: list[Token], *, visible: bool) -> None:
        in_autolink = False
        hidden_until = ""  # inside <script>...</script> and the like, as the body parser is
        for token in tokens:
            kind = token.type
            shown = visible and not hidden_until
            if in_autolink:
                in_autolink = kind != "link_close"
            elif kind in ("citation", "citation_error"):
                pos = self._find(token.content)
                if pos < 0:
                    continue
                if shown:
                    # A malformed marker is plain text: it cites nothing, as in parse().
                    cited = kind == "citation"
                    mark = _CITE if cited else token.content
                    self._emit(mark, pos, pos + len(token.content), verbatim=not cited)
                self.cursor = pos + len(token.content)
            elif kind == "text":
                pos = self._find(token.content)
                if pos < 0:  # not expected; keep the text, with no width in the source
                    if shown:
                        self._emit(token.content, self.cursor, self.cursor, verbatim=False)
                    continue
                if shown:
                    self._emit(token.content, pos, pos + len(token.content), verbatim=True)
                self.cursor = pos + len(token.content)
            elif kind == "text_special":  # an escape or an entity
                pos = self._find(token.markup)
                if pos >= 0:
                    if shown:
                        self._emit(token.content, pos, pos + len(token.markup), verbatim=False)
                    self.cursor = pos + len(token.markup)
            elif kind in ("softbreak", "hardbreak"):
                pos = self._find("\n")
                if pos >= 0:
                    if shown:
                        self._emit(
                            " " if kind == "softbreak" else "\n", pos, pos + 1, verbatim=False
                        )
                    self.cursor = pos + 1
            elif kind == "code_inline":
                start, end = self._code_span(token.markup)
                if shown:
                    self._emit(_PLACEHOLDER, start, end, verbatim=False)
                self.cursor = end
            elif kind == "html_break":  # a block-level tag inside a raw HTML block
                pos = self._find(token.content)
                if pos >= 0:
                    if shown:
                        self._emit("\u2029", pos, pos + len(token.content), verbatim=False)
                    self.cursor = pos + len(token.content)
            elif kind == "html_inline":
                pos = self._find(token.content)
                if pos >= 0:
                    self.cursor = pos + len(token.content)
                hidden_until = _hidden_after(token.content, hidden_until)
            elif kind == "link_open" and token.info == "auto":
                in_autolink = True
                start = self._find("<")
                end = self.source.find(">", start, start + _WINDOW) if start >= 0 else -1
                if end >= 0:
                    if shown:
                        self._emit(_PLACEHOLDER, start, end + 1, verbatim=False)
                    self.cursor = end + 1
            elif kind == "link_close":
                self._skip_link_tail()
            elif kind == "image":
                pos = self._find("![")
                if pos >= 0:
                    self.cursor = pos + 2
                self._walk(token.children or [], visible=False)
                self._skip_link_tail()

    def _code_span(self, markup: str) -> tuple[int, int]:
        start = self._find(markup)
        if start < 0:
            return self.cursor, self.cursor
        closing = re.compile(f"(?<!`){markup}(?!`)")
        match = closing.search(self.source, start + len(markup), start + _WINDOW)
        return start, match.end() if match else start + len(markup)

    def _skip_link_tail(self) -> None:
        """Move past the `]` that ends a link label and its destination or reference label."""
        close = self._find("]")
        if close < 0:
            return
        pos = close + 1
        self.cursor = pos
        source, limit = self.source, min(len(self.source), pos + _WINDOW)
        if source.startswith("(", pos):
            pos = _skip_space(source, pos + 1, limit)
            destination = parseLinkDestination(source, pos, limit)
            if destination.ok:
                pos = _skip_space(source, destination.pos, limit)
                title = parseLinkTitle(source, pos, limit)
                if title.ok:
                    pos = _skip_space(source, title.pos, limit)
            if source.startswith(")", pos):
                self.cursor = pos + 1
        elif source.startswith("[", pos):
            end = source.find("]", pos, limit)
            if end >= 0:
                self.cursor = end + 1


def _skip_space(source: str, pos: int, limit: int) -> int:
    while pos < limit and source[pos] in " \t\n":
        pos += 1
    return pos


def _plain(markdown: str) -> str:
    """The visible words of a piece of inline Markdown."""
    parts = []
    for token in _md.parseInline(markdown)[0].children or []:
        if token.type in ("text", "text_special", "code_inline", "citation_error"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


# -- Sentences ----------------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_MARKERS_AFTER = re.compile(rf"(?:\s*{_CITE})+[.!?]?")


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each sentence in `text`, trimmed of surrounding whitespace.

    Sentence ends are those of `articles.citation_grammar`; markers written just after a full
    stop (``... back pain. [@key]``) belong to the sentence before them, as in `parse()`.
    """
    start = 0
    for match in sentence_ends(text):
        end = match.end()
        if end <= start:
            continue  # inside markers already taken into the previous sentence
        after = _MARKERS_AFTER.match(text, end)
        if after:
            end = after.end()
        yield from _trimmed(text, start, end)
        start = end
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


# -- Judging a sentence -------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u00a0": " ",
    }
)

_TREATMENT = (
    r"acupunctur\w*|needl\w*|treatments?|therap\w+|physio\w*|massage|chiropract\w*|osteopath\w*"
    r"|exercises?|painkillers?|medications?|medicines?|drugs?|surgery|operations?|injections?"
    r"|placebo|sham|cupping|moxibustion|yoga|pilates|remed\w+|care"
)
_OUTCOME = (
    r"pain\w*|aches?|aching|backache|sciatica|migraines?|headaches?|arthritis|osteoarthritis"
    r"|injur\w+|symptoms?|stiff\w*|inflam\w+|swelling|tension|spasms?|cramps?|recover\w*|relie\w+"
    r"|heal\w*|health\w*|better|worse|improve\w*|results?|benefit\w*|effective\w*|side[- ]effects?"
    r"|risks?|safe\w*|sleep\w*|stress\w*|anxi\w+|depress\w+|mobility|flexib\w+|function\w*"
    r"|cure\w*|conditions?|disabilit\w+|well-?being|relax\w*|discomfort|sore\w*|numb\w*|nausea"
    r"|insomnia|fatigue|energy|mood|outcomes?|respond\w*|response|success\w*|difference"
    r"|quality of life|fertility|immun\w+|blood pressure|flare-ups?|complications"
)
_CONDITION = (
    r"pain|pains|aches?|aching|backache|sciatica|migraines?|headaches?|arthritis|osteoarthritis"
    r"|injur(?:y|ies)|conditions?|symptoms?|insomnia|anxiety|depression|infertility|stress"
    r"|fibromyalgia|tendinitis|tendonitis|tennis elbow|whiplash|nausea|asthma|allergies"
    r"|hay fever|fasciitis|stiffness|tension|spasms?|cramps?|inflammation|swelling|discomfort"
    r"|soreness|numbness|fatigue|hot flushes|flare-ups?|ibs|neuralgia|sprains?|strains?"
)
_REDUCIBLE = (
    _CONDITION + r"|painkillers?|medications?|medicines?|opioids?|sick days|recovery time|toxins"
    r"|cortisol|blood pressure|time off work"
)
_BENEFIT = (
    r"mobility|movement|flexibility|function|functioning|sleep|posture|circulation|blood flow"
    r"|well-?being|quality of life|energy|mood|range of motion|recovery|healing|strength"
    r"|immun\w+|health|fertility|digestion|outcomes?|endorphins|serotonin|symptoms|pain"
    r"|(?:athletic|sporting|sports)\s+performance|metabolism|vitality"
)
_GAP = r"(?:[\w'%-]+\s+){0,3}?"  # up to three words between a verb and its object

_HEALTH_CONTEXT = re.compile(rf"\b(?:{_TREATMENT}|{_OUTCOME})\b", re.IGNORECASE)
_OUTCOME_CONTEXT = re.compile(rf"\b(?:{_OUTCOME})\b", re.IGNORECASE)
_MONEY = re.compile(
    r"[£$€]|\b(?:off|discount\w*|deposit|vat|fees?|price\w*|costs?|refund\w*|charge[sd]?|pay\w*"
    r"|sav(?:e|es|ing|ings)|cashback|interest|concessions?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Rule:
    code: str
    pattern: re.Pattern[str]
    context: re.Pattern[str] | None = None  # a word from this must appear outside the match
    context_in_previous: bool = True  # whether the previous sentence may supply it
    accept: Callable[[_Reading, re.Match[str]], bool] | None = None


def _rule(code: str, pattern: str, **options: Any) -> _Rule:
    return _Rule(code, re.compile(pattern, re.IGNORECASE), **options)


_WORD_NUMBER = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten"


def _not_money(reading: _Reading, match: re.Match[str]) -> bool:
    return not _MONEY.search(reading.sentence, max(0, match.start() - 30), match.end() + 30)


_WORKS_PERSON = re.compile(
    r"(?:\b(?:how|what|whatever|who|we|i|you|they|he|she)\s+"
    r"|\b(?:time|day|slot|date|appointment|schedule|option|plan|arrangement)\s+(?:that|which)\s+)"
    r"(?:\w+\s+)?\Z",
    re.IGNORECASE,
)
_WORK_AUX = re.compile(
    r"\b(?:will|can|could|may|might|should|would|does|do|did|really|actually|genuinely|definitely"
    r"|also|still|often|usually)\s+\Z",
    re.IGNORECASE,
)
_PERSON_BEFORE_AUX = re.compile(
    r"\b(?:we|i|you|they|he|she|who|staff|team|practitioners?|acupuncturists?|physios?|doctors?"
    r"|gps?|receptionists?)\s+\w+\s+\Z",
    re.IGNORECASE,
)
_WORK_CLAIM_AFTER = re.compile(
    r"\s+(?:for\s+(?:some|many|most|people|patients|back|pain|sciatica|everyone|them)\b"
    r"|well\b(?!\s+together))",
    re.IGNORECASE,
)
_HOW_WHAT_BEFORE = re.compile(r"\b(?:how|what|whatever)\b", re.IGNORECASE)
_CLAUSE_WORD = r"(?:if|when|whether|because|before|after|while|unless|until|so|then)\b"
_NOUN_BEFORE = re.compile(
    r"\b(?:get|gets|got|getting|seek|seeking|find|need|needs|urgent|medical|emergency"
    r"|immediate|professional|expert|specialist|for|no|some|extra|more|your|our|the|a)\s+\Z",
    re.IGNORECASE,
)
_NEGATED_VERB = re.compile(r"\b(?:not|never|no|cannot|fail(?:ed|s)?\s+to)\b|n't\b", re.IGNORECASE)


def _evidence_is_asserted(reading: _Reading, match: re.Match[str]) -> bool:
    """ "Reviews do not all agree" and "what studies found" report no finding."""
    if _NEGATED_VERB.search(match.group()):
        return False
    clause_start = reading.clause_start(match.start())
    return not reading.occurs_between(_HOW_WHAT_BEFORE, clause_start, match.start())


def _is_a_verb(reading: _Reading, match: re.Match[str]) -> bool:
    """ "Get urgent help" and "the treatment" are nouns, not something a therapy does."""
    before = reading.sentence[max(0, match.start() - 30) : match.start()]
    return not _NOUN_BEFORE.search(before)


def _works_is_claim(reading: _Reading, match: re.Match[str]) -> bool:
    text = reading.sentence
    before = text[max(0, match.start() - 60) : match.start()]
    if reading.occurs_between(_HOW_WHAT_BEFORE, reading.clause_start(match.start()), match.start()):
        return False
    if _WORKS_PERSON.search(before):
        return False
    if match.group().lower() == "work":
        if _WORK_CLAIM_AFTER.match(text, match.end()):
            return True
        return bool(_WORK_AUX.search(before)) and not _PERSON_BEFORE_AUX.search(before)
    return True


_RULES = (
    _rule(
        "evidence_appeal",
        r"(?:\b(?:studies|study|research|researchers|scientists|(?:clinical\s+)?trials?|evidence"
        r"|science|reviews?|meta-analys[ie]s)\b|\bet\s+al\b\.?)"
        r"(?:\s+[\w%,'-]+){0,6}?\s+"  # "A 2009 study of 600 adults found"
        r"(?:show|shows|showed|shown|prove|proves|proved|proven|demonstrate[sd]?|confirm(?:s|ed)?"
        r"|found|finds?"
        r"|suggest(?:s|ed)?|indicate[sd]?|support(?:s|ed)?|reported|agree[sd]?)\b",
        accept=_evidence_is_asserted,
    ),
    _rule(
        "evidence_appeal",
        r"\b(?:scientifically|clinically|medically|research|evidence|science|proven)[- ]"
        r"(?:proven|tested|backed|based|validated|approved)\b"
        r"|\b(?:been|is|are|was|were)\s+(?:\w+ly\s+)?(?:shown|proven|proved|demonstrated)\s+to\b"
        r"|\bproven\s+(?:to|treatment|therapy|results?|relief|method|technique|way|benefits?)\b"
        r"|\bbacked\s+by\s+(?:\w+\s+)?(?:science|research|evidence|studies|trials|doctors)\b"
        r"|\baccording\s+to\s+(?:\w+\s+)?(?:research|studies|scientists|experts|doctors"
        r"|evidence|a\s+study)\b"
        r"|\b(?:doctors|experts|gps|scientists|physiotherapists|guidelines|nice|the\s+nhs"
        r"|the\s+who|world\s+health\s+organi[sz]ation)\s+(?:now\s+|all\s+)?(?:recommend|agree"
        r"|endorse|approve|recogni[sz]e|accept)s?\b"
        r"|\b(?:is|are)\s+(?:\w+ly\s+)?proven(?=\s*[.!,;:]|\s*$)",
    ),
    _rule(
        "guarantee",
        r"\bguarantee[sd]?\b|\bwe\s+promise\b|\b100\s*%\s*(?:effective|success\w*|results?)"
        r"|\balways\s+(?:works?|helps?|relieves?|effective)\b|\bnever\s+fails?\b"
        r"|\bworks?\s+every\s+time\b"
        r"|\b(?:instant|immediate|permanent|guaranteed)\s+(?:pain\s+)?(?:relief|results?|fix)\b",
        context=_HEALTH_CONTEXT,
    ),
    _rule("cure_claim", r"\b(?:cures?|cured|curing|cure-all|curative)\b"),
    _rule(
        "cure_claim",
        r"\b(?:for\s+good|once\s+and\s+for\s+all|permanently)\b",
        context=_OUTCOME_CONTEXT,
        context_in_previous=False,
    ),
    _rule(
        "safety_claim",
        r"\b(?:completely|perfectly|totally|entirely|absolutely|100\s*%|very|extremely"
        r"|incredibly|always|inherently|naturally)\s+safe\b"
        r"|(?:\b(?:is|are|be|been|being|considered|deemed)|'s|'re)\s+(?:\w+ly\s+)?(?:a\s+)?safe\b"
        r"|\bsafe\s+(?:and|&)\s+(?:effective|natural|gentle)\b"
        r"|\bsafe\s+(?:for\s+(?:everyone|all|anyone|children|pregnant)|in\s+pregnancy"
        r"|during\s+pregnancy)\b"
        r"|\b(?:no|zero|without|free\s+(?:of|from))\s+(?:\w+\s+)?(?:risks?|downsides?"
        r"|drawbacks?)\b"
        r"|\brisk[- ]free\b|\bharmless\b|\bpainless\b|\bnon-toxic\b",
        context=_HEALTH_CONTEXT,
    ),
    _rule(
        "safety_claim",
        r"\b(?:side[- ]effects?|complications|adverse\s+(?:effects?|events?|reactions?))\s+"
        r"(?:[\w'-]+\s+){0,3}?(?:are|is)\s+(?:\w+\s+)?(?:rare|uncommon|unusual|mild|minimal|minor|negligible)\b"
        r"|\b(?:rarely|seldom)\s+(?:\w+\s+)?(?:side[- ]effects?|complications|harm)\b"
        r"|\b(?:no|zero|without|free\s+(?:of|from))\s+(?:\w+\s+)?(?:side[- ]effects?"
        r"|complications|adverse\s+(?:effects?|events?|reactions?))\b|\bside[- ]effect[- ]free\b",
    ),
    _rule(
        "percentage",
        r"\b\d+(?:[.,]\d+)?\s*(?:%|per\s?cent\b|percent\b)",
        context=_HEALTH_CONTEXT,
        context_in_previous=False,
        accept=_not_money,
    ),
    _rule(
        "statistic",
        rf"\b(?:{_WORD_NUMBER})\s+(?:in|out\s+of)\s+(?:(?!(?:19|20)\d\d\b)\d+(?:,\d{{3}})*"
        r"|two|three|four|five|six|seven|eight|nine|ten|a\s+hundred|a\s+thousand)\b"
        r"|\b(?:\d+(?:\.\d+)?|two|three|four|five|ten)\s*(?:times|x|-?fold)\s+(?:more|less|fewer"
        r"|better|faster|greater|higher|lower|as|likely)\b"
        r"|\b(?:twice|half|three\s+times)\s+as\s+(?:likely|effective|fast|quickly|many|much)\b"
        r"|\b(?:halve[sd]?|double[sd]?|triple[sd]?)\b"
        r"|\bby\s+(?:half|a\s+third|a\s+quarter|two-thirds|three-quarters)\b",
        context=_HEALTH_CONTEXT,
        context_in_previous=False,
    ),
    _rule(
        "comparison",
        r"\b(?:better|more\s+(?:effective|successful|beneficial|powerful|reliable)|safer|faster"
        r"|quicker|stronger|longer[- ]lasting|less\s+(?:painful|risky|invasive)"
        r"|fewer\s+side[- ]effects)\s+than\b"
        r"|\b(?:superior|equivalent|comparable)\s+to\b"
        r"|\bas\s+(?:good|effective|successful|beneficial|powerful|safe)\s+as\b"
        r"|\b(?:works?|performs?|worked|performed)\s+(?:just\s+)?as\s+well\s+as\b"
        r"|\boutperform(?:s|ed|ing)?\b|\bworks?\s+better\b"
        r"|\b(?:best|most\s+effective|safest|most\s+successful|leading|number\s+one)\s+"
        r"(?:\w+\s+)?(?:treatment|therapy|remedy|solution|option|approach)\b",
        context=_HEALTH_CONTEXT,
    ),
    _rule(
        "most_people",
        r"\b(?:most|many|countless|nearly\s+all|almost\s+all|virtually\s+all"
        r"|(?:the\s+)?(?:vast\s+)?majority"
        r"\s+of)\s+(?:of\s+)?(?:our\s+|the\s+|these\s+)?(?:people|patients|clients|sufferers"
        r"|adults|users|women|men|children|participants|cases|individuals|back\s+pain)\b"
        r"|\b(?:almost|nearly|virtually)\s+(?:everyone|everybody|all\s+of\s+them)\b"
        r"|\b(?:everyone|everybody)\b",
        context=_OUTCOME_CONTEXT,
        context_in_previous=False,
    ),
    _rule(
        "efficacy_word",
        r"(?<![\w-])(?:(?:highly\s+)?effective|efficacious)\b"
        r"(?!\s+(?:from|immediately|as\s+of|date))",
        context=_HEALTH_CONTEXT,
    ),
    _rule(
        "efficacy_word",
        r"\b(?:relieves?|relieved|relieving|alleviates?|alleviated|alleviating|soothes|eases"
        r"|eased)\b"
        rf"|\bease\s+{_GAP}(?:{_CONDITION})\b"
        r"|\b(?:provides?|provided|offers?|gives?|brings?|delivers?|gets?|got|finds?|found"
        r"|experienced?|feel|felt|achieved?|lasting|fast|instant|quick|rapid|immediate|long-term"
        rf"|effective|real|significant|genuine|natural|noticeable|complete|total|full)\s+{_GAP}relief\b"
        rf"|\b(?:reduces?|reduced|reducing|reduction\s+in|lowers?|lowered|lowering|decreases?"
        r"|decreased|decreasing|eliminates?|eliminated|eliminating|gets?\s+rid\s+of|banish(?:es)?"
        r"|melts?\s+away|melting\s+away|washes\s+away|dissolves?|flush(?:es)?\s+out"
        rf"|prevents?|prevented|preventing|stops?)\s+{_GAP}(?:{_REDUCIBLE})\b"
        r"|\b(?:improves?|improved|improving|improvements?\s+in|boosts?|boosted|boosting"
        rf"|enhances?|enhanced|restores?|restored|restoring|increases?|increased|releases?"
        rf"|stimulates?|strengthens?)\s+{_GAP}(?:{_BENEFIT})\b"
        r"|\b(?:notice[sd]?|noticing|see|sees|seeing|saw|feel|feels|felt|experience[sd]?"
        r"|expect|report(?:s|ed)?|show(?:s|ed)?)\s+(?:an?\s+|some\s+|real\s+|significant\s+"
        r"|big\s+|great\s+|lasting\s+|fast\s+|quick\s+){0,2}(?:improvements?|difference|results)\b"
        rf"|\b(?:{_CONDITION})\s+(?:(?:had|has|have|was|were|is|will|should|may|can|could)"
        r"\s+)?(?:gone|disappeared|vanished|went\s+away|cleared(?:\s+up)?|improved?|eased"
        r"|got\s+better|get\s+better|settled|go\s+away)\b"
        rf"|\b(?:fewer|less|reduced|lower)\s+(?:\w+\s+)?(?:{_REDUCIBLE})\b"
        r"|\b(?:be|been|is|are|was|were)\s+(?:\w+ly\s+)?(?:treated|managed|helped|eased"
        r"|relieved|cured|improved)\s+(?:with|by)\b"
        r"|\brespond(?:s|ed)?\s+(?:\w+ly\s+)?(?:well|quickly|positively)\s+to\b"
        r"|\bswear\s+by\b|\broot\s+causes?\b"
        rf"|\b(?:say\s+goodbye\s+to|no\s+more|end\s+your|beat|banish|conquer)\s+{_GAP}"
        rf"(?:{_CONDITION})\b"
        rf"|\bfix(?:es|ed)?\s+{_GAP}(?:back|neck|{_CONDITION})\b"
        r"|\b(?:avoid|delay|prevent|come\s+off|get\s+off|cut\s+down\s+on|need\s+less|wean\s+off)"
        r"\s+(?:\w+\s+)?(?:surgery|an\s+operation|operations|injections|painkillers|medication"
        r"|medicines|tablets|pills|opioids)\b"
        r"|\bpain[- ]free\b|\bfeel(?:s|ing)?\s+better\b|\brecover\w*\s+(?:faster|quicker|sooner)\b"
        r"|\bspeeds?\s+up\s+(?:\w+\s+)?(?:recovery|healing)\b"
        r"|\b(?:(?:re)?balances?|unblocks?|unblocking)\s+(?:\w+\s+){0,3}?(?:qi|chi|energy"
        r"|meridians|hormones|channels)\b"
        r"|\bdetox\w*\b|\bworks?\s+wonders\b|\bbenefit(?:s|ed|ing)?\s+from\b"
        r"|\b(?:draws?|drawing|pulls?|pulling|releases?|releasing|removes?|removing|clears?"
        r"|clearing|expels?|flush(?:es|ing)?)\s+(?:out\s+)?(?:\w+\s+){0,2}?toxins\b"
        r"|\btoxins\s+(?:\w+\s+){0,2}?(?:stuck|stored|trapped|built\s+up|released|drawn)\b"
        r"|\b(?:heals?|healed)\b",
    ),
    _rule(
        "efficacy_word",
        r"\b(?:treats?|treated|treating|helps?|helped|helping)\s+"
        rf"(?:(?!{_CLAUSE_WORD})[\w'%-]+\s+){{0,5}}?(?:{_CONDITION})\b"
        r"|\bhelp(?:s|ed)?\s+(?:\w+\s+){0,2}?(?:get\s+)?back\s+(?:to\s+(?:work|normal|sport"
        r"|running|everyday)|on\s+(?:my|your|their)\s+feet)\b",
        accept=_is_a_verb,
    ),
    _rule(
        "efficacy_word",
        r"\b(?:works?|worked)\b(?!\s+(?:with|at|on|in|as|for\s+(?:us|a\s+"
        r"living|the\s+nhs)|closely|alongside|together|out|through|hours|shifts|days|part-time"
        r"|full-time|from|under|around|here|there|wonders))|\bwork\b(?=\s+(?:for|well|fast"
        r"|quickly|by|on\s+(?:pain|back|the\s+nerves)|\.|,|$))",
        context=_HEALTH_CONTEXT,
        accept=_works_is_claim,
    ),
)

_REASONS = {
    "evidence_appeal": 'Says "{}" without a citation.',
    "guarantee": 'Promises a result ("{}") without a citation.',
    "cure_claim": 'Claims a cure ("{}") without a citation.',
    "safety_claim": 'Makes a safety claim ("{}") without a citation.',
    "percentage": 'Gives a percentage ("{}") without a citation.',
    "statistic": 'Gives a statistic ("{}") without a citation.',
    "comparison": 'Compares ("{}") without a citation.',
    "most_people": 'Generalises ("{}") without a citation.',
    "efficacy_word": 'Claims an effect ("{}") without a citation.',
}

# Words that may sit between a negator and what it negates: "not a miracle cure".
_FILLER = _word_set(
    "a an the always necessarily yet entirely fully completely totally quite simply magically"
    " instantly immediately suddenly miraculously permanently miracle magic quick instant"
    " permanent guaranteed going to be been being able likely certain sure proven shown all any"
    " single one everyone everybody for you your really actually automatically ever known"
    " get make have has it this that treatment overnight work works help helps"
)
_NEGATORS = _word_set(
    "not no never cannot can't won't don't doesn't isn't aren't wasn't weren't didn't shouldn't"
    " wouldn't couldn't mustn't hardly nor neither without unlikely"
)
_NOT_NEGATING = _word_set("only just merely simply longer doubt question wonder")
_WORDS = re.compile(r"[\w'-]+")
_FRAME = re.compile(
    r"\b(?:cannot|can't|can\s+not|won't|will\s+not|do\s+not|don't|does\s+not|doesn't|not)\s+"
    r"(?:\w+\s+)?(?:promise|guarantee|claim|say|predict|know|tell|be\s+sure|be\s+certain"
    r"|assume|pretend|suggest|imply|show|prove|mean|establish)\b"
    r"|\bno\s+(?:\w+\s+)?(?:guarantee|promise|evidence|proof|way\s+of\s+knowing)\b"
    r"|\b(?:little|limited|weak|insufficient|inconclusive|mixed|conflicting|not\s+enough|poor"
    r"|low-quality|low\s+quality|no\s+good|no\s+reliable|no\s+strong|no\s+clear)\s+"
    r"(?:\w+\s+)?evidence\b"
    r"|\b(?:unclear|uncertain|unknown|unproven|not\s+(?:yet\s+)?(?:clear|known|proven"
    r"|established|certain))\b"
    r"|\b(?:myths?|misconceptions?|false|untrue|not\s+true)\b",
    re.IGNORECASE,
)
_CONDITIONAL = re.compile(r"\b(?:whether|if|unless)\b", re.IGNORECASE)
_SEEKING = re.compile(
    r"\b(?:hope|hopes|hoping|hoped|looking|look|search|searching|seek|seeking|wish|wishing)\s+"
    r"(?:for\s+)?(?:an?\s+|the\s+)?(?:\w+\s+)?\Z",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(
    r"[,;:()\u2014]|\s-\s|\b(?:but|however|although|though|whereas|yet|while|and\s+so)\b",
    re.IGNORECASE,
)
_CONTRAST = re.compile(
    r"[;:\u2014]|\s-\s|\b(?:but|however|although|though|whereas|yet)\b", re.IGNORECASE
)
_CALL_TO_ACTION = re.compile(
    r"(?:please\s+|simply\s+|just\s+|to\s+|you\s+can\s+|feel\s+free\s+to\s+)?"
    r"(?:book|call|phone|ring|e-?mail|contact|(?:text|message|follow)\s+us|fill"
    r"|complete\s+(?:our|the|your|a|this)|visit|come\s+(?:in|and|to|along)|bring|arrive|wear"
    r"|let\s+us|ask|speak|talk|get\s+in\s+touch|schedule|sign|register|join|click|tap"
    r"|download|print|choose\s+(?:a|your|from)|check|cancel|reschedule|tell|read|see\s+our"
    r"|find\s+out|don't\s+hesitate)\b",
    re.IGNORECASE,
)
_WEAK_IN_CALL_TO_ACTION = frozenset({"efficacy_word", "most_people"})
_HEADING_TOPIC = re.compile(
    r"(?:how|what|what's|why|when|where|who|which|is|are|does|do|can|could|should|will|would"
    r"|about|faqs?|frequently|understanding|questions)\b",
    re.IGNORECASE,
)
_DID_YOU_KNOW = re.compile(r"\W*did\s+you\s+know\b", re.IGNORECASE)


@dataclass
class _Scan:
    findings: list[Finding] = field(default_factory=list)
    previous: str = ""  # the sentence before, which may name what "it" is
    uncited_from: int = 0  # findings from here on come after the last citation or heading


# "These figures come from a survey of 9,000 patients [@key]." cites the numbers before it.
_SOURCE_NOTE = re.compile(
    r"\W*(?:(?:these|those|the|all\s+these|all)\s+(?:figures|numbers|statistics|rates|data"
    r"|results|findings|percentages)\b|sources?\b)",
    re.IGNORECASE,
)
_NUMERIC = frozenset({"percentage", "statistic"})
_FIGURE = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|half)\b", re.I)


def _opens_with_citation(text: str) -> bool:
    """Whether the first sentence of a block's prose cites."""
    first = next(_sentences(text), None)
    return first is not None and _CITE in text[first[0] : first[1]]


def _is_figure(finding: Finding) -> bool:
    """Whether a finding is a figure that a following source note cites."""
    if finding.code in _NUMERIC:
        return True
    is_numeric = finding.category in ("statistics", "prevalence")
    return finding.code == "health_claim" and is_numeric and bool(_FIGURE.search(finding.sentence))


def _check_block(prose: _Prose, kind: str, scan: _Scan, previous: str | None = None) -> None:
    """Add a finding for each uncited claim in one block; `previous` overrides the context."""
    text = prose.text
    line, counted_to = prose.first_line, 0
    if kind == "heading":
        scan.uncited_from = len(scan.findings)
    for start, end in _sentences(text):
        sentence = text[start:end]
        if _CITE in sentence:
            if _SOURCE_NOTE.match(sentence):
                pending = scan.findings[scan.uncited_from :]
                del scan.findings[scan.uncited_from :]
                scan.findings.extend(f for f in pending if not _is_figure(f))
            scan.uncited_from = len(scan.findings)
        else:
            context = scan.previous if previous is None else previous
            verdict = _judge(sentence.translate(_QUOTES), context, is_heading=kind == "heading")
            if verdict:
                code, category, reason = verdict
                raw_start, raw_end = prose.starts[start], prose.ends[end - 1]
                line += prose.source.count("\n", counted_to, raw_start)
                counted_to = raw_start
                finding = Finding(
                    sentence=_quote(prose, raw_start, raw_end, kind, fallback=sentence),
                    reason=reason,
                    line=line,
                    code=code,
                    category=category,
                )
                scan.findings.append(finding)
        if previous is None:
            scan.previous = sentence


_OPENING_MARKUP = frozenset("*_~[")
_CLOSING_MARKUP = frozenset("*_~")


def _quote(prose: _Prose, start: int, end: int, kind: str, *, fallback: str) -> str:
    """The sentence as written, with its whitespace collapsed."""
    source = prose.source
    # Take in emphasis and link brackets that open or close right at the sentence's edges.
    while start > 0 and source[start - 1] in _OPENING_MARKUP:
        start -= 1
    while end < len(source) and source[end] in _CLOSING_MARKUP:
        end += 1
    sentence = " ".join(source[start:end].split()) or " ".join(fallback.split())
    if kind == "row":
        # The table parser unescapes `\|` in cells; every pipe left in a cell was escaped.
        sentence = sentence.replace("|", "\\|")
    return sentence


def _judge(sentence: str, previous: str, *, is_heading: bool) -> tuple[str, str, str] | None:
    """Return (code, category, reason) when `sentence` reads like an uncited health claim."""
    stripped = sentence.rstrip("\"')]} \u00bb")
    if stripped.endswith(("?", "\uff1f")) and not _DID_YOU_KNOW.match(sentence):
        return None
    if stripped.endswith(":"):
        return None  # a lead-in to a list or table, which is judged line by line
    if is_heading and _HEADING_TOPIC.match(sentence.lstrip("*_ ")):
        return None
    scored = claim_model.score(sentence)
    probability = scored.probability
    # The patterns are run only where they can change the outcome or name the reason.
    if probability < claim_model.rule_floor() and not _CONTRAST.search(sentence):
        return None
    verdict = _rule_verdict(sentence, previous)
    if probability < claim_model.rule_floor():
        # "Not a cure, but it relieves back pain": judge what follows the last contrast alone.
        contrasts = list(_CONTRAST.finditer(sentence))
        clause = sentence[contrasts[-1].end() :] if contrasts else ""
        clause_verdict = _rule_verdict(clause, previous) if clause.strip() else None
        if clause_verdict and clause_verdict[0] != "negated":
            verdict = clause_verdict
            probability = claim_model.score(clause).probability
    code = verdict[0] if verdict else None
    matched = code is not None and code != "negated"
    if probability < (claim_model.rule_floor() if matched else claim_model.threshold()):
        return None
    if code == "negated" and (probability < _SURE_DESPITE_NEGATION or _FRAME.search(sentence)):
        return None  # "cannot show that it is safe": the model must be near certain
    if (
        is_heading
        and not matched
        and (len(_WORDS.findall(sentence)) < _HEADING_WORDS or probability < _SURE_FOR_HEADING)
    ):
        return None  # a topic such as "Acupuncture and back pain" asserts nothing
    if matched and verdict is not None:
        return (
            verdict[0],
            scored.category,
            _REASONS[verdict[0]].format(" ".join(verdict[1].split())),
        )
    because = ", ".join(scored.because) or "its wording"
    kind = _CATEGORY_NAMES.get(scored.category, "health")
    article = "an" if kind[0] in "aeiou" else "a"
    reason = f"Reads as {article} {kind} claim ({because})."
    return "health_claim", scored.category, reason


# Where a claim pattern matched only under negation or a hedge, 19 of 20 such sentences in the
# development corpus were not claims.
_SURE_DESPITE_NEGATION = 0.95
# Headings and titles are often topics without a verb, which the model (trained on sentences)
# rates too high: unless a claim pattern matches, one needs this many words and this certainty.
_HEADING_WORDS = 4
_SURE_FOR_HEADING = 0.9

_CATEGORY_NAMES = {
    "bodyprocess": "body-process",
    "comparison": "comparison or endorsement",
    "efficacy": "treatment-effect",
    "evidence": "evidence",
    "mechanism": "mechanism",
    "prevalence": "prevalence",
    "prognosis": "prognosis",
    "safety": "safety",
    "statistics": "statistical",
    "testimonial": "personal-outcome",
    "tradition": "tradition or energy",
}


def rule_code(sentence: str) -> str | None:
    """The code of the hand-written rule that matches a sentence on its own, if any."""
    verdict = _rule_verdict(sentence.translate(_QUOTES), "")
    return verdict[0] if verdict else None


def _rule_verdict(sentence: str, previous: str) -> tuple[str, str, int] | None:
    """(code, matched words, start of its clause) for the first hand-written claim pattern
    that matches `sentence`; the code is "negated" when patterns matched only under negation,
    a hedge or a non-assertive frame."""
    reading = _Reading(sentence, previous)
    negated = None
    action_end = 0
    if _CALL_TO_ACTION.match(sentence.lstrip("*_ \"'")):
        contrasts = reading.spans(_CONTRAST)
        action_end = contrasts[0][0] if contrasts else len(sentence)
    for rule in _RULES:
        for match in rule.pattern.finditer(sentence):
            if rule.code in _WEAK_IN_CALL_TO_ACTION and match.start() < action_end:
                continue
            if rule.accept and not rule.accept(reading, match):
                continue
            if rule.context and not reading.has_context(rule, match):
                continue
            if reading.is_negated(match.start()):
                negated = negated or ("negated", match.group(), 0)
                continue
            return rule.code, match.group(), reading.last_end_before(_CONTRAST, match.start())
    return negated


class _Reading:
    """One sentence, with the positions of clause breaks, frames and health words found once,
    so that judging each match costs a few binary searches rather than a rescan."""

    def __init__(self, sentence: str, previous: str) -> None:
        self.sentence = sentence
        self.previous = previous
        self._spans: dict[re.Pattern[str], list[tuple[int, int]]] = {}
        self._starts: dict[re.Pattern[str], list[int]] = {}
        self._in_previous: dict[re.Pattern[str], bool] = {}

    def spans(self, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        spans = self._spans.get(pattern)
        if spans is None:
            spans = [match.span() for match in pattern.finditer(self.sentence)]
            self._spans[pattern] = spans
            self._starts[pattern] = [start for start, _ in spans]
        return spans

    def last_end_before(self, pattern: re.Pattern[str], pos: int) -> int:
        """Where the last match of `pattern` ending by `pos` ends, or 0."""
        spans = self.spans(pattern)
        i = bisect.bisect_left(self._starts[pattern], pos)
        while i > 0:
            i -= 1
            if spans[i][1] <= pos:
                return spans[i][1]
        return 0

    def occurs_between(self, pattern: re.Pattern[str], start: int, end: int) -> bool:
        spans = self.spans(pattern)
        i = bisect.bisect_left(self._starts[pattern], start)
        return i < len(spans) and spans[i][1] <= end

    def has_context(self, rule: _Rule, match: re.Match[str]) -> bool:
        """Whether a word of the rule's context appears outside the match."""
        assert rule.context is not None
        spans = self.spans(rule.context)
        # Spans do not overlap, so the first ends earliest and the last starts latest.
        if spans and (spans[0][1] <= match.start() or spans[-1][0] >= match.end()):
            return True
        if not rule.context_in_previous:
            return False
        if rule.context not in self._in_previous:
            self._in_previous[rule.context] = bool(rule.context.search(self.previous))
        return self._in_previous[rule.context]

    def clause_start(self, pos: int) -> int:
        return self.last_end_before(_CLAUSE_BREAK, pos)

    def is_negated(self, pos: int) -> bool:
        """Whether the words before `pos` negate, hedge or merely report what follows."""
        sentence = self.sentence
        clause_start = self.clause_start(pos)
        if self.occurs_between(_CONDITIONAL, clause_start, pos):
            return True
        if self.occurs_between(_FRAME, self.last_end_before(_CONTRAST, pos), pos):
            return True
        near = max(clause_start, pos - _REACH)
        if _SEEKING.search(sentence, near, pos):
            return True
        words = _WORDS.findall(sentence, near, pos)
        if near > clause_start and sentence[near - 1].isalnum():
            words = words[1:]  # the window cut a word in two
        for i in range(len(words) - 1, max(-1, len(words) - 5), -1):
            word = words[i].lower()
            if word in _NEGATORS or word.endswith("n't"):
                following = words[i + 1].lower() if i + 1 < len(words) else ""
                return following not in _NOT_NEGATING
            if word not in _FILLER:
                return False
        return False


# How far back from a match the word-by-word negation check looks.
_REACH = 80

"""How hard an article body is to read, for authors: patients in pain need plain words.

Measured with textstat on the body's plain text: the HTML that `articles.body.parse` renders,
without citation numbers (``<sup>``), code, or markup. Each block (paragraph, list item,
heading, table cell) counts as a sentence even without a full stop, so headings and bullet
points do not run into one long "sentence". Pure: no database, no Django.
"""

import functools
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import textstat

# A US school grade plus five is roughly the reading age in years.
GRADE_TO_AGE = 5

_BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "blockquote"})
_SKIPPED = frozenset({"sup", "pre", "code"})
_SENTENCE_ENDS = (".", "!", "?", ":", ";")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")


@dataclass(frozen=True)
class Readability:
    """Scores for one text: Flesch-Kincaid grade, reading age, Flesch reading ease, counts."""

    grade: float
    reading_age: float
    ease: float
    words: int
    sentences: int

    def is_harder_than(self, max_grade: float) -> bool:
        return self.grade > max_grade


class _PlainText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._current: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self._end_block()

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self._end_block()

    def handle_data(self, data):
        if not self._skipping:
            self._current.append(data)

    def _end_block(self):
        # Citation numbers leave a space before the punctuation that followed them.
        text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join("".join(self._current).split()))
        self._current.clear()
        if text:
            self.blocks.append(text if text.endswith(_SENTENCE_ENDS) else text + ".")


def plain_text(html: str) -> str:
    """The readable words of rendered body HTML: one block per line, each ending a sentence."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    parser._end_block()
    return "\n".join(parser.blocks)


# The change page measures the same revision at every visit; the result is frozen.
@functools.lru_cache(maxsize=16)
def measure(html: str) -> Readability | None:
    """Readability of rendered body HTML, or None when it has no words."""
    text = plain_text(html)
    words = textstat.lexicon_count(text)
    if not words:
        return None
    grade = round(textstat.flesch_kincaid_grade(text), 1)
    return Readability(
        grade=grade,
        reading_age=round(grade + GRADE_TO_AGE),
        ease=round(textstat.flesch_reading_ease(text), 1),
        words=words,
        sentences=textstat.sentence_count(text),
    )

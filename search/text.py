"""Text going into and out of the search: cleaning queries and indexed text, highlighting.

The engines mark matches with two private-use characters instead of HTML; `highlighted`
escapes the whole snippet first and only then turns the markers into <mark> elements, so
indexed text can never inject markup. Both markers are removed from anything indexed or
searched for, so they only ever come from the engine.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 20
START, STOP = "\ue000", "\ue001"

# Runs of letters and digits: what both engines index as words (an underscore separates)
_WORD = re.compile(r"[^\W_]+")
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"?|([^\W_]+)')


def clean_text(text):
    """Text without control characters (NUL included) or highlight markers."""
    return "".join(
        " " if unicodedata.category(char) in ("Cc", "Cs") and char not in "\n\t" else char
        for char in text or ""
        if char not in (START, STOP)
    )


@dataclass(frozen=True)
class Query:
    """What a patient typed, made safe to search for."""

    text: str  # cleaned, shortened, shown back in the search box
    was_shortened: bool = False

    @classmethod
    def parse(cls, raw):
        # Composed, as the indexed text mostly is: "re\u0301duction" pasted from a PDF is one
        # word, "réduction", not "re" and "duction".
        text = " ".join(unicodedata.normalize("NFC", clean_text(raw)).split())
        shortened = len(text) > MAX_QUERY_LENGTH
        if shortened:
            text = text[:MAX_QUERY_LENGTH].rstrip()
        return cls(text=text, was_shortened=shortened)

    def has_words(self):
        """True when there is at least one letter or digit to look for."""
        return bool(_WORD.search(self.text))

    def fts5_expression(self):
        """An FTS5 MATCH expression: every word must appear; "quoted phrases" stay together.

        Only quoted strings of word characters are emitted, so nothing a patient types can be
        read as FTS5 syntax (operators, column filters, prefixes).
        """
        terms = []
        for phrase, word in _PHRASE_OR_WORD.findall(self.text):
            words = _WORD.findall(phrase) if phrase else [word] if word else []
            if words:
                terms.append('"' + " ".join(words) + '"')
        return " AND ".join(terms[:MAX_QUERY_WORDS])


def highlighted(text):
    """Escaped text with the engine's match markers turned into <mark> elements."""
    html = escape(text).replace(START, "<mark>").replace(STOP, "</mark>")
    return mark_safe(html)  # noqa: S308  (escaped above; only our own tags added)


def has_match(text):
    return START in text

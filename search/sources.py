"""What the site search covers: one `Source` per kind of result.

Each source says how to list its live items (for a full rebuild) and how to turn one item
into the text that is indexed. To add a kind of result (e.g. published answers to patient
questions): write a `Source`, add it to `SOURCES`, and call `search.index.update(source, item)`
when an item goes live or changes and `search.index.remove(source, item)` when it is
withdrawn (from a signal receiver in `search/receivers.py`, or one call in that workflow).
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from articles.models import Article, Study
from questions.models import PublicAnswer


@dataclass(frozen=True)
class Document:
    """The text of one item as the index stores it."""

    url: str
    title: str
    summary: str = ""
    body: str = ""


@dataclass(frozen=True)
class Source:
    """One kind of search result."""

    kind: str  # stored in SearchEntry.kind; keep it stable
    label: str  # shown to patients beside each result
    live: Any  # () -> QuerySet of the items patients can see now
    document: Any  # (item) -> Document, or None when the item is not live

    def all_documents(self):
        for item in self.live().iterator(chunk_size=500):
            document = self.document(item)
            if document is not None:
                yield item.pk, document


# Elements that separate words; inline ones (em, a…) must not split "re<em>lief</em>".
_BLOCKS = frozenset(
    {
        "address",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)


_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([.,;:!?)])")


class _TextOfHTML(HTMLParser):
    """Collects the text of sanitised HTML, leaving out <sup> (reference numbers)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.in_sup = 0

    def handle_starttag(self, tag, attrs):
        if tag == "sup":
            self.in_sup += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag == "sup":
            self.in_sup = max(0, self.in_sup - 1)

    def handle_data(self, data):
        if not self.in_sup:
            self.parts.append(data)


def text_of_html(html):
    """Plain text of the body HTML the site renders, as patients read it (no reference numbers)."""
    parser = _TextOfHTML()
    parser.feed(html)
    parser.close()
    text = " ".join("".join(parser.parts).split())
    # "eased pain [@key]." renders as "eased pain ¹.": without the number, close the gap.
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)


def live_articles():
    return Article.objects.published().select_related("live_revision")


def article_document(article):
    revision = article.live_revision
    if revision is None:
        return None
    return Document(
        url=article.get_absolute_url(),
        title=revision.title,
        summary=revision.summary,
        body=text_of_html(revision.rendered_html),
    )


def study_document(study):
    """A study patients can open in the library: one a reviewer has described (an imported
    study has no type or finding until then, and its page is not found)."""
    if not study.is_described():
        return None
    return Document(url=study.get_absolute_url(), title=study.title, summary=study.finding)


def live_answers():
    return PublicAnswer.objects.live().select_related("question__article__live_revision")


def answer_document(answer):
    """A published answer under a live article; the question in its redacted, public form."""
    if not answer.is_live() or not answer.question.article.is_published():
        return None
    return Document(
        url=answer.get_absolute_url(),
        title=answer.question_text,
        summary=answer.question.article.live_revision.title,
        body=text_of_html(answer.rendered_html),
    )


ARTICLES = Source("article", "Article", live_articles, article_document)
STUDIES = Source("study", "Study", Study.objects.described, study_document)
ANSWERS = Source("answer", "Question from a patient", live_answers, answer_document)

SOURCES = {source.kind: source for source in (ARTICLES, STUDIES, ANSWERS)}

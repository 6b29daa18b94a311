"""The two search engines behind `/search/`: PostgreSQL full-text search and SQLite FTS5.

Both return the same `Hit`s, best first: PostgreSQL ranks with `ts_rank` over the weighted
vector (title A, summary B, body C) and English stemming; SQLite ranks with FTS5's `bm25`
with the same column order of importance and the Porter stemmer.
"""

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import F

from .models import SearchEntry
from .sources import SOURCES
from .text import START, STOP, has_match, highlighted

SNIPPET_WORDS = 30
# bm25 column weights for title, summary and body: the same order as PostgreSQL's A > B > C.
FTS5_WEIGHTS = (10.0, 4.0, 1.0)


@dataclass(frozen=True)
class Hit:
    """One search result, ready for the template."""

    kind: str
    url: str
    title_html: str
    snippet_html: str

    @property
    def label(self):
        source = SOURCES.get(self.kind)
        return source.label if source else self.kind

    @classmethod
    def from_engine(cls, kind, url, title, summary, body_snippet):
        # The body snippet when the body matched, else the (highlighted) summary.
        snippet = body_snippet if has_match(body_snippet) or not summary else summary
        return cls(kind, url, highlighted(title), highlighted(snippet))


class Results:
    """The hits for one query, counted and sliced lazily so a Paginator can page them."""

    def __init__(self, query):
        self.query = query
        self.engine = PostgresEngine() if connection.vendor == "postgresql" else SqliteEngine()
        self._count = None

    def count(self):
        if self._count is None:
            self._count = self.engine.count(self.query) if self.query.has_words() else 0
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, window):
        start = window.start or 0
        if not self.query.has_words() or start == window.stop:
            return []
        return self.engine.hits(self.query, start, window.stop)


class PostgresEngine:
    def _matches(self, query):
        search_query = SearchQuery(query.text, search_type="websearch", config="english")
        return SearchEntry.objects.filter(search_vector=search_query), search_query

    def count(self, query):
        return self._matches(query)[0].count()

    def hits(self, query, start, stop):
        entries, search_query = self._matches(query)
        highlight = {"start_sel": START, "stop_sel": STOP, "config": "english"}
        rows = (
            entries.annotate(
                rank=SearchRank(F("search_vector"), search_query),
                title_hl=SearchHeadline("title", search_query, highlight_all=True, **highlight),
                summary_hl=SearchHeadline("summary", search_query, highlight_all=True, **highlight),
                body_hl=SearchHeadline(
                    "body",
                    search_query,
                    max_words=SNIPPET_WORDS,
                    min_words=SNIPPET_WORDS // 2,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                    **highlight,
                ),
            )
            .order_by("-rank", "title", "pk")
            .values_list("kind", "url", "title_hl", "summary_hl", "body_hl")[start:stop]
        )
        return [Hit.from_engine(*row) for row in rows]


class SqliteEngine:
    _FROM = (
        "FROM search_searchentry_fts JOIN search_searchentry entry "
        "ON entry.id = search_searchentry_fts.rowid WHERE search_searchentry_fts MATCH %s"
    )

    def count(self, query):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) {self._FROM}", [query.fts5_expression()])
            return cursor.fetchone()[0]

    def hits(self, query, start, stop):
        limit = -1 if stop is None else stop - start
        sql = (
            "SELECT entry.kind, entry.url,"
            " highlight(search_searchentry_fts, 0, %s, %s),"
            " highlight(search_searchentry_fts, 1, %s, %s),"
            f" snippet(search_searchentry_fts, 2, %s, %s, ' … ', {SNIPPET_WORDS}) "
            f"{self._FROM} "
            "ORDER BY bm25(search_searchentry_fts, %s, %s, %s), entry.title, entry.id "
            "LIMIT %s OFFSET %s"
        )
        params = [START, STOP] * 3 + [query.fts5_expression(), *FTS5_WEIGHTS, limit, start]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [Hit.from_engine(*row) for row in cursor.fetchall()]

"""Keeping the search index in step with live content.

`update` and `remove` are called at the moments content goes live, changes or is withdrawn
(see `search/receivers.py`), inside the same transaction, so the index never shows a state
the site did not publish. `rebuild` recreates everything from the sources.
"""

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction

from clinic.page_cache import content_changed

from .models import SearchEntry
from .sources import SOURCES
from .text import clean_text


def _vector():
    # Weights rank a title match above a summary match above a body match.
    return (
        SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("body", weight="C", config="english")
    )


def _fields(document):
    return {
        "url": document.url,
        "title": clean_text(document.title),
        "summary": clean_text(document.summary),
        "body": clean_text(document.body),
    }


def update(source, item):
    """Index `item` as it is now, or drop it when its source says it is not live."""
    document = source.document(item)
    if document is None:
        remove(source, item)
        return
    fields = _fields(document)
    # One upsert (INSERT … ON CONFLICT DO UPDATE) instead of a read, a write and two
    # savepoints: every study saved and every publication passes here.
    SearchEntry.objects.bulk_create(
        [SearchEntry(kind=source.kind, object_id=item.pk, **fields)],
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=[*fields, "updated_at"],
    )
    if connection.vendor == "postgresql":
        SearchEntry.objects.filter(kind=source.kind, object_id=item.pk).update(
            search_vector=_vector()
        )
    # On SQLite the FTS5 triggers have already followed the row (SQLite fires the update
    # trigger for the DO UPDATE of an upsert).


def remove(source, item):
    """Take `item` out of the index (it was withdrawn or deleted)."""
    SearchEntry.objects.filter(kind=source.kind, object_id=item.pk).delete()


def rebuild(sources=None):
    """Recreate the index from the live content of every source; returns rows written."""
    sources = sources or SOURCES.values()
    written = 0
    with transaction.atomic():
        for source in sources:
            SearchEntry.objects.filter(kind=source.kind).delete()
            entries = (
                SearchEntry(kind=source.kind, object_id=pk, **_fields(document))
                for pk, document in source.all_documents()
            )
            written += len(SearchEntry.objects.bulk_create(entries, batch_size=500))
        if connection.vendor == "postgresql":
            SearchEntry.objects.update(search_vector=_vector())
        elif connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # Rebuild the FTS5 table from its content table, in case triggers were lost.
                cursor.execute(
                    "INSERT INTO search_searchentry_fts(search_searchentry_fts) VALUES ('rebuild')"
                )
        # bulk_create sends no signals: the search pages show the new index.
        content_changed()
    return written

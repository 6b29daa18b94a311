"""The search index: one row per thing patients can find, kept in step with what is live."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class SearchEntry(models.Model):
    """A searchable copy of one live item (an article's live revision, a study…).

    Rows exist only for live content: `search.index` writes a row when an item goes live or
    changes and deletes it when the item is withdrawn, so a search never needs to ask
    whether a hit may be shown.

    On PostgreSQL `search_vector` holds the weighted document (title A, summary B, body C)
    behind a GIN index. On SQLite the column stays empty: an FTS5 table
    (`search_searchentry_fts`, created by migration 0001) mirrors title, summary and body
    through triggers. Django rebuilds a SQLite table when a later migration alters it, which
    drops those triggers: such a migration must re-create them (see 0001).
    """

    kind = models.CharField(
        max_length=20, help_text="Which source this came from (search.sources)."
    )
    object_id = models.PositiveBigIntegerField()
    url = models.CharField(max_length=500)
    title = models.CharField(max_length=500)
    summary = models.TextField(blank=True)
    body = models.TextField(
        blank=True, help_text="Plain text, without markup or reference numbers."
    )
    search_vector = SearchVectorField(null=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "search entries"
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="searchentry_unique_source"),
        ]
        indexes = [GinIndex(fields=["search_vector"], name="searchentry_vector_gin")]

    def __str__(self):
        return f"{self.kind} {self.object_id}: {self.title[:60]}"

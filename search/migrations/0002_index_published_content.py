"""Index what is already live when search is first installed."""

from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.urls import reverse

from search.sources import text_of_html
from search.text import clean_text


def index_live_content(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Study = apps.get_model("articles", "Study")
    SearchEntry = apps.get_model("search", "SearchEntry")
    entries = [
        SearchEntry(
            kind="article",
            object_id=article.pk,
            url=reverse("articles:detail", args=[article.slug]),
            title=clean_text(article.live_revision.title),
            summary=clean_text(article.live_revision.summary),
            body=clean_text(text_of_html(article.live_revision.rendered_html)),
        )
        for article in Article.objects.filter(live_revision__isnull=False).select_related(
            "live_revision"
        )
    ]
    entries += [
        SearchEntry(
            kind="study",
            object_id=study.pk,
            url=reverse("articles:study_detail", args=[study.key]),
            title=clean_text(study.title),
            summary=clean_text(study.finding),
        )
        for study in Study.objects.all()
    ]
    SearchEntry.objects.bulk_create(entries, batch_size=500)
    if schema_editor.connection.vendor == "postgresql":
        SearchEntry.objects.update(
            search_vector=SearchVector("title", weight="A", config="english")
            + SearchVector("summary", weight="B", config="english")
            + SearchVector("body", weight="C", config="english")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0009_remove_unused_archived_status"),
        ("search", "0001_search_entry"),
    ]

    operations = [
        migrations.RunPython(index_live_content, migrations.RunPython.noop),
    ]

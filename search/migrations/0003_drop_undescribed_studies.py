"""Search entries for studies patients cannot open yet (imported, with no type or finding) go:
the index lists only what a patient can open, and such a study's page is not found. They come
back when a reviewer describes the study (its save reindexes it)."""

from django.db import migrations
from django.db.models import Q


def drop_undescribed(apps, schema_editor):
    db = schema_editor.connection.alias
    Study = apps.get_model("articles", "Study")
    SearchEntry = apps.get_model("search", "SearchEntry")
    undescribed = Study.objects.using(db).filter(Q(study_type="") | Q(finding=""))
    SearchEntry.objects.using(db).filter(
        kind="study", object_id__in=list(undescribed.values_list("pk", flat=True))
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0016_reviewflag_notified_at_help_text"),
        ("search", "0002_index_published_content"),
    ]

    operations = [migrations.RunPython(drop_undescribed, migrations.RunPython.noop)]

"""Rename the topic "Evidence" to "Research explained": patients met "Evidence" twice in the
navigation, once as a topic and once as the study library (/evidence/)."""

from django.db import migrations

OLD = {"name": "Evidence", "slug": "evidence"}
NEW = {"name": "Research explained", "slug": "research-explained"}


def rename(apps, source, target):
    Topic = apps.get_model("articles", "Topic")
    topic = Topic.objects.filter(slug=source["slug"]).first() or Topic.objects.filter(
        name=source["name"]
    ).first()
    if topic is None:
        return
    existing = Topic.objects.filter(slug=target["slug"]).exclude(pk=topic.pk).first()
    if existing is None:
        existing = Topic.objects.filter(name=target["name"]).exclude(pk=topic.pk).first()
    if existing is not None:
        # A clinic that already made the new topic: its articles join it.
        topic.articles.update(topic=existing)
        topic.delete()
        return
    topic.name, topic.slug = target["name"], target["slug"]
    topic.save(update_fields=["name", "slug"])


def forwards(apps, schema_editor):
    rename(apps, OLD, NEW)


def backwards(apps, schema_editor):
    rename(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_study_import_and_notices")]

    operations = [migrations.RunPython(forwards, backwards)]

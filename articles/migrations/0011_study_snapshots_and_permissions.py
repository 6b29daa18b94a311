"""Backfill the study-as-reviewed copy on submitted citations; let staff see study changes
and review flags (accepting a change needs `verify_study`, which reviewers already have)."""

from importlib import import_module

from django.db import migrations

create_permissions_now = import_module("articles.migrations.0002_staff_groups").create_permissions_now

SNAPSHOT_FIELDS = (
    "key",
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "url",
    "sample_size",
)
GRANTS = {
    "Authors": ["view_studychange", "view_reviewflag"],
    "Medical reviewers": ["view_studychange", "view_reviewflag"],
}


def forwards(apps, schema_editor):
    Citation = apps.get_model("articles", "Citation")
    # The best record of what was reviewed before this migration is the library as it is now.
    citations = list(
        Citation.objects.filter(claim__revision__submitted_at__isnull=False).select_related(
            "study"
        )
    )
    for citation in citations:
        study = citation.study
        citation.bibliography_as_reviewed = {name: getattr(study, name) for name in SNAPSHOT_FIELDS}
        citation.study_type_as_reviewed = citation.study_type_as_reviewed or study.study_type
        citation.finding_as_reviewed = citation.finding_as_reviewed or study.finding
    Citation.objects.bulk_update(
        citations,
        ["bibliography_as_reviewed", "study_type_as_reviewed", "finding_as_reviewed"],
        batch_size=500,
    )
    create_permissions_now(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="articles", codename__in=codenames
                )
            )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="articles", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [("articles", "0010_studies_stay_as_reviewed")]

    operations = [migrations.RunPython(forwards, backwards)]

"""Backfill the study-as-reviewed copy on submitted citations. (Who may see study changes and
review flags is declared in `clinic.roles`.)"""

from django.db import migrations

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



class Migration(migrations.Migration):
    dependencies = [("articles", "0010_studies_stay_as_reviewed")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

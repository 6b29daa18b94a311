"""Ask Crossref whether library studies were retracted, corrected or given a notice."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from articles.models import NoticeSource, Study
from articles.study_changes import record_notice
from articles.study_lookup import LookupFailed, crossmark_updates, crossref_work


class Command(BaseCommand):
    help = (
        "For each library study with a DOI, read Crossref's `updated-by` relations (Crossmark) "
        "and record each retraction, correction or expression of concern, as the Retraction "
        "Watch import does. Needs the network; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="*", help="Only these study keys (default: all).")

    def handle(self, *args, keys, verbosity, **options):
        studies = Study.objects.exclude(doi="").order_by("key")
        if keys:
            studies = studies.filter(key__in=keys)
        checked = recorded = failed = 0
        for study in studies.iterator():
            try:
                work = crossref_work(study.doi)
            except LookupFailed as exc:
                failed += 1
                self.stderr.write(f"  ! {study.key}: {exc}")
                if checked == 0 and failed == 1 and "offline" in str(exc):
                    raise CommandError("Crossref cannot be reached; nothing was checked.") from exc
                continue
            checked += 1
            if work.get("update-to"):
                self.stdout.write(
                    self.style.WARNING(
                        f"  {study.key}: this DOI is itself a notice about another paper "
                        f"({', '.join(u.get('DOI', '') for u in work['update-to'])})."
                    )
                )
            for update in crossmark_updates(work):
                parts = update["date"]
                notice, _flags = record_notice(
                    study,
                    nature=update["nature"],
                    source=NoticeSource.CROSSREF,
                    source_id=update["doi"] or f"{update['nature']}-{parts}",
                    notice_on=_date(parts),
                    notice_doi=update["doi"],
                )
                if notice is not None:
                    recorded += 1
                    self.stdout.write(f"  {study.key}: {notice.get_nature_display()} recorded")
        self.stdout.write(
            f"{checked} study(ies) checked, {recorded} notice(s) recorded, {failed} failed."
        )


def _date(parts):
    try:
        return date(*([*list(parts), 1, 1])[:3]) if parts else None
    except (TypeError, ValueError):
        return None

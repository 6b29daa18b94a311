"""Import the Retraction Watch database CSV and act on notices about library studies."""

from django.core.management.base import BaseCommand, CommandError

from articles.retractions import RetractionFileError, import_retractions


class Command(BaseCommand):
    help = (
        "Read the Retraction Watch CSV (as Crossref distributes it), match rows to library "
        "studies by the original paper's DOI or PMID, record each retraction, correction, "
        "expression of concern or reinstatement, mark retractions, and flag the live articles "
        "citing those studies for review. Safe to run again: known records are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be recorded; change nothing."
        )

    def handle(self, *args, file, dry_run, verbosity, **options):
        try:
            # newline="" as the csv module asks: quoted fields may hold line breaks.
            with open(file, encoding="utf-8-sig", errors="replace", newline="") as lines:
                report = import_retractions(lines, dry_run=dry_run)
        except FileNotFoundError as exc:
            raise CommandError(f"{file}: no such file.") from exc
        except RetractionFileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        if verbosity >= 1:
            for key in report.retracted:
                self.stdout.write(self.style.WARNING(f"  retracted: {key}"))
            for error in report.errors:
                self.stderr.write(f"  ! {file}, {error}")
        self.stdout.write(report.summary())

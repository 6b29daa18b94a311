"""Import studies from BibTeX, RIS, PubMed MEDLINE/nbib and CSL-JSON files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.study_import import decode_reference_file, import_records, read


class Command(BaseCommand):
    help = (
        "Add studies to the library from reference files (.bib, .ris, .nbib/.txt, .json). "
        "Duplicates (same DOI, PMID, or title and year) are reported and skipped; malformed "
        "records are reported with file and line, and the rest is imported. Imported studies "
        "have no type and no finding until a reviewer sets them."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; save nothing."
        )
        parser.add_argument(
            "--atomic",
            action="store_true",
            help="Import nothing if any record is malformed or invalid.",
        )

    def handle(self, *args, files, dry_run, atomic, verbosity, **options):
        records, errors = [], []
        for name in files:
            path = Path(name)
            try:
                text, encoding = decode_reference_file(path.read_bytes())
            except FileNotFoundError as exc:
                raise CommandError(f"{name}: no such file.") from exc
            if encoding not in ("UTF-8", "UTF-16"):
                self.stderr.write(
                    f"  ! {name}: not UTF-8; read as {encoding}. Check accented names, or "
                    "export the file as UTF-8."
                )
            found, problems = read(path.name, text)
            records += found
            errors += problems
        report = import_records(records, errors, dry_run=dry_run, atomic=atomic)
        if verbosity >= 2:
            for study in report.created:
                self.stdout.write(f"  + {study.key}: {study.title}")
        if verbosity >= 1:
            for duplicate in report.duplicates:
                self.stdout.write(self.style.WARNING(f"  = {duplicate}"))
            for error in report.errors:
                self.stderr.write(f"  ! {error}")
        self.stdout.write(report.summary())
        if report.errors:
            raise CommandError(f"{len(report.errors)} record(s) could not be imported.")

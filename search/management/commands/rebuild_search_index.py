"""Recreate the site search index from live content."""

from django.core.management.base import BaseCommand

from search.index import rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the search index from what is live now (after a restore, a bulk import "
        "that bypassed the workflow, or the first deploy of search)."
    )

    def handle(self, *args, **options):
        written = rebuild()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Indexed {written} item(s).")

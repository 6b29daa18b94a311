"""Time `import_retractions` on a generated 50,000-row Retraction Watch CSV.

    uv run python benchmarks/retraction_import_benchmark.py [ROWS]

Uses the test settings and a throwaway test database (SQLite in memory unless DATABASE_URL
points elsewhere). The library holds 500 studies; 100 rows name one of them (a mix of
retractions, corrections and expressions of concern), and one live article cites each of
ten retracted studies, so the timing includes flagging. Prints figures; asserts nothing.
"""

import csv
import os
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

COLUMNS = [
    "Record ID", "Title", "Subject", "Institution", "Journal", "Publisher", "Country", "Author",
    "URLS", "ArticleType", "RetractionDate", "RetractionDOI", "RetractionPubMedID",
    "OriginalPaperDate", "OriginalPaperDOI", "OriginalPaperPubMedID", "RetractionNature",
    "Reason", "Paywalled", "Notes",
]  # fmt: skip
NATURES = ["Retraction", "Correction", "Expression of concern"]


def write_csv(path, rows, library_dois):
    rng = random.Random(11)
    hits = set(rng.sample(range(rows), 100))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(rows):
            doi = library_dois[number % len(library_dois)] if number in hits else ""
            writer.writerow(
                [
                    100000 + number,
                    f"Generated title number {number} about an invented subject",
                    "(HSC) Medicine;",
                    "An institution, a city, a country",
                    "Journal of Generated Papers",
                    "Generated Press",
                    "Nowhere",
                    "Author A;Author B;Author C",
                    "",
                    "Research Article;",
                    "3/14/2023 0:00",
                    f"10.7777/notice.{number}",
                    "0",
                    "1/5/2019 0:00",
                    doi or f"10.8888/unrelated.{number}",
                    "0",
                    NATURES[number % 3] if doi else rng.choice(NATURES),
                    "+Concerns/Issues About Data;+Error in Analyses;",
                    "No",
                    "",
                ]
            )


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        from articles import workflow
        from articles.models import Article, Citation, Claim, ReviewerProfile, Study
        from articles.retractions import import_retractions

        studies = Study.objects.bulk_create(
            Study(
                key=f"bench{n}",
                authors="Bench A",
                title=f"Benchmark study {n}",
                year=2019,
                doi=f"10.6666/bench.{n}",
                study_type="rct",
                finding="It helped a little.",
            )
            for n in range(500)
        )
        users = get_user_model().objects
        author = users.create_user("bench-author", password="x", is_superuser=True)  # noqa: S106
        reviewer = users.create_user("bench-reviewer", password="x", is_superuser=True)  # noqa: S106
        ReviewerProfile.objects.create(
            user=reviewer,
            display_name="Dr Bench",
            qualification="MBBS",
            registration_body="GMC",
            registration_number="1",
            verified_on=django.utils.timezone.localdate(),
        )
        for study in studies[:10]:
            article = Article.objects.create(slug=f"bench-{study.key}", author=author)
            workflow.save_draft(
                article, title="Bench", summary="Bench.", body=f"It helped [@{study.key}].",
                by=author,
            )  # fmt: skip
            workflow.submit_for_review(article, by=author)
            article.refresh_from_db()
            Citation.objects.filter(claim__revision=article.draft).update(verdict="supports")
            Claim.objects.filter(revision=article.draft).update(
                kind="effect", certainty="moderate", certainty_wording="small benefit on average"
            )
            workflow.approve(article, by=reviewer)
            workflow.publish(Article.objects.get(pk=article.pk), by=reviewer)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "retraction_watch.csv"
            write_csv(path, rows, [s.doi for s in studies[:50]])
            size = path.stat().st_size
            start = time.perf_counter()
            with open(path, encoding="utf-8-sig", newline="") as lines:
                report = import_retractions(lines)
            seconds = time.perf_counter() - start
            # Memory measured on a second run (all rows already known), as tracing slows it.
            tracemalloc.start()
            with open(path, encoding="utf-8-sig", newline="") as lines:
                again = import_retractions(lines)
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        print(f"rows: {report.rows} ({size / 1e6:.1f} MB)")
        print(report.summary())
        print(f"seconds: {seconds:.2f}")
        print(f"second run: {again.summary()}")
        print(f"peak memory on the second run (tracemalloc): {peak / 1e6:.1f} MB")
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()

"""Print speed and memory figures: body parsing, linting and the article page.

    uv run python benchmarks/run.py

Uses the test settings and a throwaway test database (SQLite in memory unless DATABASE_URL
points elsewhere). Prints figures; it asserts nothing.
"""

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
    teardown_databases,
)


def timed(function, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def big_body(markers=20_000):
    """About 250 KB: short claims, each with a marker, 40 to a paragraph."""
    parts = []
    for n in range(markers):
        parts.append(f"Eased [@s{n % 50}].")
        if n % 40 == 39:
            parts.append("\n\n")
    return " ".join(parts)


def parsing_figures():
    from articles.body import parse
    from articles.lint import uncited_claims

    body = big_body()
    parsed, seconds = timed(lambda: parse(body), repeat=3)
    tracemalloc.start()
    parse(body)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"parse: {len(body.encode()) / 1024:.0f} KB, {len(parsed.claims)} markers: "
        f"{seconds:.2f} s median, peak {peak / 2**20:.0f} MiB"
    )
    prose = ("Acupuncture is more effective than painkillers for most people. " * 4000)[:250_000]
    findings, seconds = timed(lambda: uncited_claims(prose), repeat=3)
    print(f"lint: {len(prose) / 1024:.0f} KB, {len(findings)} findings: {seconds:.2f} s median")


def page_figures():
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from articles import workflow
    from articles.models import (
        Article,
        Citation,
        Claim,
        ReviewerProfile,
        Study,
        StudyType,
        Verdict,
    )

    author = User.objects.create_user("bench-author", is_staff=True)
    author.groups.add(Group.objects.get(name="Authors"))
    reviewer = User.objects.create_user("bench-reviewer", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Medical reviewers"))
    ReviewerProfile.objects.create(
        user=reviewer,
        display_name="Dr Bench",
        qualification="MBBS",
        registration_body="GMC",
        registration_number="1",
        verified_on=timezone.localdate(),
    )
    client = Client()
    for citations in (3, 60, 600):
        keys = []
        for n in range(citations):
            key = f"b{citations}-{n}"
            Study.objects.create(
                key=key,
                authors="A B",
                title=f"Study {n}",
                year=2020,
                study_type=StudyType.RCT,
                finding="Small benefit.",
            )
            keys.append(key)
        body = "\n\n".join(f"Claim {n} about back pain [@{key}]." for n, key in enumerate(keys))
        article = Article.objects.create(slug=f"bench-{citations}", author=author)
        workflow.save_draft(article, title="Bench", summary="s", body=body, by=author)
        workflow.submit_for_review(article, by=author)
        article.refresh_from_db()
        Citation.objects.filter(claim__revision=article.draft).update(verdict=Verdict.SUPPORTS)
        Claim.objects.filter(revision=article.draft).update(certainty="moderate")
        workflow.approve(article, by=reviewer)
        workflow.publish(article, by=reviewer)
        url = article.get_absolute_url()
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        # Read the count now: the next request resets Django's query log.
        query_count = len(queries)
        _, seconds = timed(lambda url=url: client.get(url), repeat=10)
        assert response.status_code == 200, response.status_code
        print(
            f"article page, {citations} citations: {query_count} queries, "
            f"{seconds * 1000:.1f} ms median, {len(response.content) / 1024:.0f} KB HTML"
        )


def main():
    # As in Django's own test cases: keep one connection for the run, so query counts hold.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    print(f"database: {connection.vendor}")
    parsing_figures()
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        page_figures()
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()

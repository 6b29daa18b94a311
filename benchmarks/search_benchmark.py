"""Print search speed over a generated corpus of 1,000 live articles (and 300 studies).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_search \
        uv run python benchmarks/search_benchmark.py [--articles 1000] [--runs 50]

Uses the test settings and a throwaway test database (SQLite in memory unless DATABASE_URL
points elsewhere). For each query it prints the median and 95th percentile, in milliseconds,
of the search itself (count + first page of hits with snippets: what the view runs) and of
the whole `/search/` page through Django's test client. It asserts nothing.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

# Words for generated prose (invented for this benchmark).
VOCABULARY = (  # noqa: SIM905
    "back pain spine muscle nerve stiffness posture walking exercise stretching sleep heat "
    "massage session clinic patient treatment week month trial review guideline evidence "
    "relief benefit harm risk bruising soreness dizziness needle acupuncture sham usual care "
    "physiotherapy medicine painkiller doctor nurse appointment booking cost insurance result "
    "study group average small moderate large short long term follow lasting chronic acute "
    "lower upper neck shoulder hip knee leg foot numbness tingling weakness bladder fever"
).split()
RARE_WORDS = ["moxibustion", "cupping", "electroacupuncture", "auricular", "trigger"]
QUERIES = [
    ("common word", "pain"),
    ("two words", "needles sleep"),
    ("stemmed", "stretches"),
    ("phrase", '"usual care"'),
    ("rare word", "moxibustion"),
    ("no match", "xylophone"),
]


def sentence(rng, words=14):
    text = " ".join(rng.choice(VOCABULARY) for _ in range(words))
    return text.capitalize() + "."


def paragraph(rng, sentences=6):
    return " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(sentences))


def generate_corpus(articles, studies, seed=2024):
    """Live articles (bulk-created, as publish would leave them) and studies, then index."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from articles.models import Article, ArticleRevision, Status, Study, StudyType
    from search.index import rebuild

    rng = random.Random(seed)
    author = User.objects.create_user("bench-author", is_staff=True)
    now = timezone.now()
    Study.objects.bulk_create(
        Study(
            key=f"bench{n}",
            authors="Author A, Author B",
            title=sentence(rng, 10)[:-1],
            year=2000 + n % 25,
            study_type=StudyType.RCT,
            finding=paragraph(rng, 2),
        )
        for n in range(studies)
    )
    created = Article.objects.bulk_create(
        Article(slug=f"bench-{n}", author=author, status=Status.PUBLISHED) for n in range(articles)
    )
    revisions = []
    for article in created:
        paragraphs = [paragraph(rng) for _ in range(rng.randint(4, 8))]
        if rng.random() < 0.05:
            paragraphs.append(f"Some clinics also offer {rng.choice(RARE_WORDS)}.")
        html = "".join(f"<p>{text}<sup><a href='#ref-1'>1</a></sup></p>\n" for text in paragraphs)
        revisions.append(
            ArticleRevision(
                article=article,
                number=1,
                title=sentence(rng, rng.randint(3, 8))[:-1],
                summary=sentence(rng, 20),
                body="\n\n".join(paragraphs),
                rendered_html=html,
                created_by=author,
                published_at=now,
            )
        )
    ArticleRevision.objects.bulk_create(revisions)
    for article, revision in zip(created, revisions, strict=True):
        article.live_revision = revision
    Article.objects.bulk_update(created, ["live_revision"], batch_size=500)
    started = time.perf_counter()
    written = rebuild()
    seconds = time.perf_counter() - started
    body_kb = sum(len(r.body) for r in revisions) / len(revisions) / 1024
    print(
        f"corpus: {articles} articles (mean body {body_kb:.1f} KB), {studies} studies; "
        f"full index rebuild of {written} entries: {seconds * 1000:.0f} ms"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchentry")


def percentiles(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def backend_cpu_seconds():
    """CPU time used so far by this connection's PostgreSQL backend (same machine only)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(function, runs):
    """Median and p95 wall time, and mean CPU time (Python + database backend), in ms.

    On a busy machine wall time includes waiting for a CPU; the CPU time does not.
    """
    function()  # warm caches and the connection
    samples = []
    cpu_before = time.process_time() + backend_cpu_seconds()
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    cpu = (time.process_time() + backend_cpu_seconds() - cpu_before) / runs * 1000
    return (*percentiles(samples), cpu)


def search_figures(runs):
    from search.engines import Results
    from search.text import Query
    from search.views import RESULTS_PER_PAGE

    client = Client()
    print(
        f"{'query':<28} {'hits':>5}   search: median / p95 / CPU ms   page: median / p95 / CPU ms"
    )
    for name, text in QUERIES:

        def run_search(text=text):
            results = Results(Query.parse(text))
            return results.count(), results[0:RESULTS_PER_PAGE]

        count, _hits = run_search()
        search = measure(run_search, runs)
        page = measure(lambda text=text: client.get("/search/", {"q": text}), runs)
        print(
            f"{f'{name} ({text})':<28} {count:>5}   "
            + " / ".join(f"{value:5.1f}" for value in search)
            + "      "
            + " / ".join(f"{value:5.1f}" for value in page)
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--studies", type=int, default=300)
    parser.add_argument("--runs", type=int, default=50)
    options = parser.parse_args()
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"database: {connection.vendor}; load average {load} on {os.cpu_count()} CPUs")
        generate_corpus(options.articles, options.studies)
        search_figures(options.runs)
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()

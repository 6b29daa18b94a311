"""Query counts of the pages the HTTP benchmark drives (benchmarks/http_benchmark.py): they must
not grow with the content, and a page served again reuses its rendered parts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening.models import IntakeSubmission

pytestmark = pytest.mark.django_db


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url, most",
    [("/", 2), ("/articles/", 4), ("/evidence/", 3), ("/intake/", 4)],
)
def test_public_pages_have_a_fixed_query_count(client, make_article, questionnaire, url, most):
    make_article(citations=3)
    first = queries_for(client, url)
    make_article(citations=12)
    make_article(citations=12)
    queries_for(client, url)  # renders what is kept per generation
    assert queries_for(client, url) <= most
    assert first >= queries_for(client, url)


def test_admin_submission_list_query_count_does_not_grow(
    client, submit, clinician, settings, monkeypatch
):
    from screening.admin import IntakeSubmissionAdmin

    settings.INTAKE_RATE_LIMIT = "1000/h"
    # Several pages, so that the list is paged as at 100,000 rows (screening.admin.QueuePaginator).
    monkeypatch.setattr(IntakeSubmissionAdmin, "list_per_page", 5)
    client.force_login(clinician)
    for number in range(6):
        submit(email=f"patient{number}@example.org")
    url = "/admin/screening/intakesubmission/"
    queries_for(client, url)  # reads what is kept per content generation
    few = queries_for(client, url)
    for number in range(6, 30):
        submit(email=f"patient{number}@example.org", full_name=f"Patient {number}")
    assert IntakeSubmission.objects.count() == 30
    queries_for(client, url)
    many = queries_for(client, url)
    assert many == few == queries_for(client, f"{url}?p=3")
    # The session; the user; their groups and permissions (one query, clinic.auth_backends);
    # the assignee filter's choices; the count; the page; the access log entry; the session's
    # last-seen time, which the test transaction wraps in a savepoint and its release. In
    # production, with sessions in Redis and no test transaction, 9 on SQLite (with BEGIN) and
    # 8 on PostgreSQL, as `benchmarks/render_profile.py --admin-rows 100000` prints them.
    assert many <= 10

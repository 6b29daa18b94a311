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


def test_admin_submission_list_query_count_does_not_grow(client, submit, clinician, settings):
    settings.INTAKE_RATE_LIMIT = "1000/h"
    client.force_login(clinician)
    for number in range(3):
        submit(email=f"patient{number}@example.org")
    queries_for(client, "/admin/screening/intakesubmission/")  # reads what is kept per generation
    few = queries_for(client, "/admin/screening/intakesubmission/")
    for number in range(3, 12):
        submit(email=f"patient{number}@example.org", full_name=f"Patient {number}")
    assert IntakeSubmission.objects.count() == 12
    many = queries_for(client, "/admin/screening/intakesubmission/")
    assert many == few
    # Session, user, second factor and the list itself; the same at 100,000 rows.
    assert many <= 13

"""What pages keep per content generation (clinic.page_cache): the clinic's details, the active
questionnaire, the article page's parts. Each is read once per generation, and any change
patients see, made on any server, shows at once."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic import page_cache
from clinic.models import ClinicDetails
from screening.models import Questionnaire, QuestionnaireStatus

pytestmark = pytest.mark.django_db


def text(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_clinic_details_are_read_once_per_generation(client, make_article):
    article = make_article()
    text(client, article.get_absolute_url())
    again = queries(client, article.get_absolute_url())
    assert not any("clinic_clinicdetails" in sql for sql in again)
    # The article page now asks the database only which revision is live.
    assert len(again) == 1


def test_a_clinic_details_edit_shows_at_once_in_the_kept_copy(client, make_article):
    article = make_article()
    assert "Harbour Street Spine Clinic" not in text(client, article.get_absolute_url())
    details = ClinicDetails.load()
    details.name = "Harbour Street Spine Clinic"
    details.phone = "01632 960999"
    details.save()
    for url in (article.get_absolute_url(), "/", "/intake/"):
        assert "Harbour Street Spine Clinic" in text(client, url)
    assert "01632 960999" in text(client, "/intake/")


def test_a_clinic_details_edit_on_server_a_shows_at_once_on_server_b(
    client, make_article, two_servers
):
    article = make_article()
    two_servers("b")
    assert "Harbour Street Spine Clinic" not in text(client, article.get_absolute_url())
    two_servers("a")
    details = ClinicDetails.load()
    details.name = "Harbour Street Spine Clinic"
    details.save()
    two_servers("b")
    assert "Harbour Street Spine Clinic" in text(client, article.get_absolute_url())


def test_the_content_generation_is_read_once_per_request(client, make_article, monkeypatch):
    article = make_article()
    text(client, article.get_absolute_url())
    cache = page_cache._cache()
    reads = []
    real_get = cache.get

    def counting_get(key, *args, **kwargs):
        reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counting_get)
    text(client, article.get_absolute_url())
    # Read by the fragments and the clinic's details, from the cache only once.
    assert reads.count(page_cache.GENERATION_KEY) == 1


def test_without_the_cache_every_request_reads_the_database(client, make_article, monkeypatch):
    article = make_article()
    text(client, article.get_absolute_url())

    def unreachable():
        raise ConnectionError("cache down")

    monkeypatch.setattr(page_cache, "_cache", unreachable)
    details = ClinicDetails.load()
    ClinicDetails.objects.filter(pk=details.pk).update(name="Read Without The Cache")
    assert "Read Without The Cache" in text(client, article.get_absolute_url())


def test_the_intake_form_page_reads_nothing_until_a_version_is_activated(
    client, questionnaire, clinician, django_assert_num_queries
):
    text(client, "/intake/")
    with django_assert_num_queries(0):
        first = text(client, "/intake/")
    assert f'name="version" value="{questionnaire.version}"' in first
    draft = questionnaire.clone_as_draft()
    draft.title = "Back pain questionnaire, new version"
    draft.save()
    draft.activate(by=clinician)
    assert Questionnaire.objects.get(pk=questionnaire.pk).status == QuestionnaireStatus.RETIRED
    page = text(client, "/intake/")
    assert f'name="version" value="{draft.version}"' in page
    assert "Back pain questionnaire, new version" in page


def test_the_review_box_follows_the_reviewer_and_the_review_date(
    client, make_article, make_reviewer
):
    reviewer = make_reviewer(display_name="Dr Pat Kim")
    article = make_article(reviewer=reviewer)
    assert "Dr Pat Kim" in text(client, article.get_absolute_url())
    profile = reviewer.reviewer_profile
    profile.display_name = "Dr Patricia Kim"
    profile.save()
    article.refresh_from_db()
    article.next_review_due_on = date(2031, 5, 1)
    article.save()
    html = text(client, article.get_absolute_url())
    assert "Dr Patricia Kim" in html and "Dr Pat Kim<" not in html
    assert "May 2031" in html


def test_the_blank_intake_form_is_the_same_with_its_questions_kept(client, questionnaire):
    def page():
        client.cookies.clear()
        html = text(client, "/intake/")
        return re.sub(r'name="(csrfmiddlewaretoken|token)" value="[^"]+"', "", html)

    rendered_now = page()
    assert rendered_now == page()
    assert rendered_now.count('type="radio"') > 50

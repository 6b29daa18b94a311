"""The shared page cache: every change patients can see invalidates it, on every server; staff,
forms and CSRF tokens never go into it; HTTP caching headers, conditional requests, gzip."""

import gzip
import runpy
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.urls import reverse

from articles import workflow
from articles.models import Article, ArticleRevision, Topic
from articles.study_changes import accept_change, propose_change, record_notice
from clinic import page_cache
from clinic.models import ClinicDetails
from questions import answering
from questions.models import PatientQuestion
from search import index
from tests.conftest import redis_cache, refresh, review_everything
from tests.html_tree import tree

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


def text(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response.content.decode()


def retitle_without_signals(article, title):
    """Change what the page shows behind the cache's back (no signal, no invalidation)."""
    ArticleRevision.objects.filter(pk=article.live_revision_id).update(title=title)


def republish(article, author, reviewer, **changes):
    revision = article.live_revision
    values = {"title": revision.title, "summary": revision.summary, "body": revision.body}
    workflow.save_draft(article, **{**values, **changes}, by=author)
    workflow.submit_for_review(refresh(article), by=author)
    review_everything(refresh(article), reviewer)
    workflow.approve(refresh(article), by=reviewer)
    return workflow.publish(refresh(article), by=reviewer)


# The cache itself --------------------------------------------------------------------------


def test_second_anonymous_request_is_answered_from_the_cache_without_queries(
    client, make_article, django_assert_num_queries
):
    article = make_article(title="Needles and backs")
    assert "Needles and backs" in text(client, article.get_absolute_url())
    retitle_without_signals(article, "Changed behind the cache")
    with django_assert_num_queries(0):
        html = text(client, article.get_absolute_url())
    assert "Needles and backs" in html


def test_page_cache_seconds_zero_switches_it_off(client, make_article, settings):
    settings.PAGE_CACHE_SECONDS = 0
    article = make_article(title="Needles and backs")
    text(client, article.get_absolute_url())
    retitle_without_signals(article, "Changed behind the cache")
    assert "Changed behind the cache" in text(client, article.get_absolute_url())


def test_page_cache_seconds_is_read_from_the_environment(monkeypatch):
    # The settings module run afresh, as a server starting with this environment would.
    monkeypatch.setenv("SECRET_KEY", "x")
    for value in ("0", "42"):
        monkeypatch.setenv("PAGE_CACHE_SECONDS", value)
        settings = runpy.run_path(str(ROOT / "clinic" / "settings.py"))
        assert settings["PAGE_CACHE_SECONDS"] == int(value)


# Every event that changes what patients see -------------------------------------------------


def test_publishing_shows_the_article_in_the_list_and_home(client, make_article, reviewer):
    article = make_article(title="Freshly approved", status="approved", reviewer=reviewer)
    assert "Freshly approved" not in text(client, "/articles/")
    assert "Freshly approved" not in text(client, "/")
    workflow.publish(refresh(article), by=reviewer)
    assert "Freshly approved" in text(client, "/articles/")
    assert "Freshly approved" in text(client, "/")


def test_unpublishing_removes_the_page_at_once(client, make_article, reviewer):
    article = make_article(title="Soon withdrawn", reviewer=reviewer)
    assert "Soon withdrawn" in text(client, article.get_absolute_url())
    workflow.unpublish(refresh(article), by=reviewer)
    assert client.get(article.get_absolute_url()).status_code == 404
    assert "Soon withdrawn" not in text(client, "/articles/")


def test_a_new_live_revision_replaces_the_page(client, make_article, make_user, reviewer):
    author = make_user(groups=["Authors"])
    article = make_article(title="First wording", author=author, reviewer=reviewer)
    assert "First wording" in text(client, article.get_absolute_url())
    republish(refresh(article), author, reviewer, title="Second wording")
    html = text(client, article.get_absolute_url())
    assert "Second wording" in html and "First wording" not in html


def test_an_accepted_study_change_shows_in_the_library(
    client, make_article, make_study, make_user, reviewer
):
    study = make_study("cherkin2009", title="Original reviewed title")
    make_article(body="Needling beat usual care [@cherkin2009].", reviewer=reviewer)
    assert "Original reviewed title" in text(client, study.get_absolute_url())
    change = propose_change(study, {"title": "Corrected title"}, by=make_user(groups=["Authors"]))
    assert "Corrected title" not in text(client, study.get_absolute_url())
    accept_change(change, by=reviewer)
    assert "Corrected title" in text(client, study.get_absolute_url())


def test_saving_a_study_starts_one_new_generation(
    make_study, monkeypatch, django_capture_on_commit_callbacks
):
    # Its search entry is written without a signal of its own, so the cache is cleared once:
    # at the save and again at the commit (see content_changed), not twice over.
    study = make_study()
    bumps = []
    monkeypatch.setattr(page_cache, "new_generation", lambda: bumps.append("bump"))
    with django_capture_on_commit_callbacks(execute=True):
        study.title = "A retitled trial"
        study.save()
    assert bumps == ["bump", "bump"]


def test_a_retraction_notice_shows_on_the_article(client, make_article, make_study, reviewer):
    study = make_study("hartwell2011")
    article = make_article(body="Needling helped necks [@hartwell2011].", reviewer=reviewer)
    assert "retraction-notice" not in text(client, article.get_absolute_url())
    record_notice(
        study, nature="retraction", source="retraction_watch", source_id="1", reason="Bad data"
    )
    assert "retraction-notice" in text(client, article.get_absolute_url())


def test_a_retraction_import_shows_on_the_article(client, make_article, make_study, reviewer):
    make_study("hartwell2011", doi="10.5555/jit.2011.0101", pmid="21000001")
    article = make_article(body="Needling helped necks [@hartwell2011].", reviewer=reviewer)
    assert "retraction-notice" not in text(client, article.get_absolute_url())
    csv = ROOT / "tests" / "data" / "retraction_watch.csv"
    call_command("import_retractions", str(csv), stdout=StringIO(), stderr=StringIO())
    assert "retraction-notice" in text(client, article.get_absolute_url())


def test_a_clinic_details_edit_shows_in_every_footer(client, make_article):
    article = make_article()
    assert "Harbour Street Spine Clinic" not in text(client, article.get_absolute_url())
    details = ClinicDetails.load()
    details.name = "Harbour Street Spine Clinic"
    details.save()
    assert "Harbour Street Spine Clinic" in text(client, article.get_absolute_url())
    assert "Harbour Street Spine Clinic" in text(client, "/")


def test_a_topic_rename_shows_on_the_article_and_list(client, make_article):
    article = make_article()
    assert "Sciatica explained" not in text(client, article.get_absolute_url())
    topic = Topic.objects.get(pk=article.topic_id)
    topic.name = "Sciatica explained"
    topic.save()
    assert "Sciatica explained" in text(client, article.get_absolute_url())
    assert "Sciatica explained" in text(client, "/articles/")


def test_a_patient_answer_shows_when_published_and_goes_when_withdrawn(
    client, make_article, make_study, make_user, reviewer
):
    article = make_article(reviewer=reviewer)
    author = make_user(groups=["Authors"])
    question = PatientQuestion.objects.create(
        article=article,
        text="Does it help long term?",
        consent_to_publish=True,
        public_text="Does acupuncture help in the long term?",
    )
    make_study("longterm")
    answer = answering.save_answer(
        question, body="Benefits fade over months [@longterm].", by=author
    )
    answering.submit_answer(answer, by=author)
    for citation in answer.claims.get().citations.all():
        answering.record_verdict(citation, verdict="supports", by=reviewer)
    for claim in answer.claims.all():
        answering.set_certainty(claim, certainty="moderate", kind="effect", by=reviewer)
    answering.approve_answer(answer, by=reviewer)
    assert "help in the long term" not in text(client, article.get_absolute_url())
    answering.publish_answer(answer, by=reviewer)
    assert "help in the long term" in text(client, article.get_absolute_url())
    answering.withdraw_answer(answer, by=reviewer)
    assert "help in the long term" not in text(client, article.get_absolute_url())


def test_a_search_index_rebuild_shows_in_results(client, make_article):
    article = make_article(title="Needling for sciatica")
    assert article.get_absolute_url() in text(client, "/search/?q=sciatica")
    retitle_without_signals(article, "Needling explained, revised")
    assert "revised" not in text(client, "/search/?q=sciatica")
    index.rebuild()
    # The cached results for "sciatica" go: the index no longer has the word.
    assert article.get_absolute_url() not in text(client, "/search/?q=sciatica")


def test_queryset_update_of_review_dates_invalidates(client, make_article, make_study, reviewer):
    """Flagging articles for review moves their review date with a queryset update."""
    study = make_study("cited")
    article = make_article(body="A claim [@cited].", reviewer=reviewer)
    before = text(client, article.get_absolute_url())
    record_notice(study, nature="correction", source="retraction_watch", source_id="2")
    shown = f'Next review due <time datetime="{refresh(article).next_review_due_on:%Y-%m-%d}"'
    assert shown in text(client, article.get_absolute_url())
    assert shown not in before


# Two servers sharing one Redis --------------------------------------------------------------


def test_a_publish_on_server_a_is_seen_at_once_on_server_b(
    client, make_article, reviewer, two_servers, django_assert_num_queries
):
    article = make_article(title="Shared between servers", reviewer=reviewer)
    url = article.get_absolute_url()
    two_servers("b")
    assert "Shared between servers" in text(client, url)
    with django_assert_num_queries(0):
        # Server B answers from the page it stored in Redis.
        text(client, url)
    two_servers("a")
    with django_assert_num_queries(0):
        # Server A reads the same Redis: the page B stored is served on A too.
        text(client, url)
    workflow.unpublish(refresh(article), by=reviewer)
    two_servers("b")
    assert client.get(url).status_code == 404


def test_generation_bumped_by_one_client_is_read_by_the_other(two_servers):
    two_servers("a")
    before = page_cache.generation()
    two_servers("b")
    assert page_cache.generation() == before
    page_cache.content_changed()
    two_servers("a")
    assert page_cache.generation() != before


# What must never be cached -------------------------------------------------------------------


def test_signed_in_staff_are_never_served_from_the_cache(client, make_article, make_user):
    article = make_article(title="Cached for patients")
    text(client, article.get_absolute_url())
    retitle_without_signals(article, "Fresh for staff")
    client.force_login(make_user(groups=["Authors"], is_staff=True))
    response = client.get(article.get_absolute_url())
    assert "Fresh for staff" in response.content.decode()
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_a_page_rendered_for_staff_is_not_stored(
    client, make_article, make_user, django_assert_max_num_queries
):
    article = make_article()
    client.force_login(make_user(groups=["Authors"], is_staff=True))
    client.get(article.get_absolute_url())
    client.logout()
    client.cookies.clear()
    retitle_without_signals(article, "Only the database knows")
    assert "Only the database knows" in text(client, article.get_absolute_url())


@pytest.mark.parametrize("url", ["/intake/", "/admin/login/"])
def test_pages_with_forms_are_never_cached_or_compressed(client, url, questionnaire):
    first = client.get(url, headers={"accept-encoding": "gzip"})
    second = client.get(url, headers={"accept-encoding": "gzip"})
    assert "csrfmiddlewaretoken" in second.content.decode()
    assert "public" not in second.get("Cache-Control", "")
    assert "ETag" not in second
    assert "Content-Encoding" not in first and "Content-Encoding" not in second


def test_ask_page_is_never_cached(client, make_article):
    article = make_article()
    url = reverse("questions:ask", args=[article.slug])
    response = client.get(url, headers={"accept-encoding": "gzip"})
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "Content-Encoding" not in response


def test_public_pages_carry_no_csrf_token_and_search_is_a_get_form(client, make_article):
    article = make_article()
    for url in ("/", "/articles/", article.get_absolute_url(), "/evidence/"):
        response = client.get(url)
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert "Set-Cookie" not in str(response.cookies) and not response.cookies
        form = tree(response).find(".//form[@role='search']")
        assert form is not None and form.get("method") == "get"


def test_a_public_view_that_uses_a_csrf_token_is_not_stored():
    calls = []

    @page_cache.public_page
    def view(request):
        calls.append(1)
        return HttpResponse(f"token {get_token(request)}" * 20)

    middleware = page_cache.PublicPageMiddleware(view)
    for _ in range(2):
        middleware(RequestFactory().get("/with-token/"))
    assert len(calls) == 2


def test_a_public_view_that_sets_a_cookie_is_not_stored():
    calls = []

    @page_cache.public_page
    def view(request):
        calls.append(1)
        response = HttpResponse("hello " * 100)
        response.set_cookie("visitor", "someone")
        return response

    middleware = page_cache.PublicPageMiddleware(view)
    for _ in range(2):
        middleware(RequestFactory().get("/with-cookie/"))
    assert len(calls) == 2


# HTTP caching ------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 300])
def test_public_pages_send_cache_control_and_answer_304(client, make_article, settings, seconds):
    settings.PAGE_CACHE_SECONDS = seconds
    article = make_article()
    for url in ("/", "/articles/", article.get_absolute_url(), "/evidence/"):
        response = client.get(url)
        control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert "public" in control
        assert {"max-age=60", "s-maxage=120", "stale-while-revalidate=60"} <= control
        assert "Cookie" not in response.get("Vary", "")
        etag = response["ETag"]
        again = client.get(url, headers={"if-none-match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag
        other = client.get(url, headers={"if-none-match": 'W/"something-else"'})
        assert other.status_code == 200


def test_the_etag_changes_with_the_page(client, make_article, make_user, reviewer):
    author = make_user(groups=["Authors"])
    article = make_article(author=author, reviewer=reviewer)
    etag = client.get(article.get_absolute_url())["ETag"]
    republish(refresh(article), author, reviewer, title="A new title")
    response = client.get(article.get_absolute_url(), headers={"if-none-match": etag})
    assert response.status_code == 200 and response["ETag"] != etag


@pytest.mark.parametrize("seconds", [0, 300])
def test_public_html_is_gzipped_for_clients_that_accept_it(client, make_article, settings, seconds):
    settings.PAGE_CACHE_SECONDS = seconds
    article = make_article(title="Compressed page")
    for _ in range(2):  # a miss, then (with the cache on) a hit
        response = client.get(article.get_absolute_url(), headers={"accept-encoding": "gzip"})
        assert response["Content-Encoding"] == "gzip"
        assert "Compressed page" in gzip.decompress(response.content).decode()
        assert "Accept-Encoding" in response["Vary"]
    plain = client.get(article.get_absolute_url())
    assert "Content-Encoding" not in plain and b"Compressed page" in plain.content


def test_drafts_stay_404_and_are_not_cached_as_pages(client, make_article):
    draft = make_article(status="draft")
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert not Article.objects.published().filter(pk=draft.pk).exists()


def test_redis_backend_keeps_one_client_per_pool_and_still_shares_values(two_servers):
    server_a, server_b = (redis_cache("test-reuse") for _ in range(2))
    client = server_a._cache.get_client(write=True)
    assert server_a._cache.get_client(write=True) is client  # not rebuilt per call
    server_a.set("shared", "from a", 30)
    assert server_b.get("shared") == "from a"  # another process's client sees it
    server_b.delete("shared")
    assert server_a.get("shared") is None

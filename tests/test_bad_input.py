"""Bad input the issue found: each gets a clear 4xx or is refused before storing, never a 500,
and nothing is stored mangled."""

import html
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from articles import workflow
from articles.models import Article, Citation, Claim, ReviewComment, Verdict
from screening.models import IntakeSubmission
from tests.conftest import review_post, review_url

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def text(response):
    return html.unescape(response.content.decode())


# Query strings --------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["topic=%00", "topic=a%00b", "%00=1", "topic=%ED%A0%80"])
def test_article_list_refuses_unreadable_topic_with_a_clear_400(client, make_article, query):
    make_article()
    response = client.get(f"/articles/?{query}")
    assert response.status_code == 400
    assert "We could not read that address" in text(response)


def test_clinicians_submission_search_with_nul_is_a_clear_400(client, clinician):
    client.force_login(clinician)
    url = reverse("admin:screening_intakesubmission_changelist")
    response = client.get(url + "?q=%00")
    assert response.status_code == 400
    assert "NUL character" in text(response)
    assert client.get(url + "?q=Alex").status_code == 200


def test_an_overlong_admin_search_is_a_clear_400_not_a_database_error(client, clinician):
    # SQLite refuses a LIKE pattern over 50,000 bytes: this search was a 500.
    client.force_login(clinician)
    url = reverse("admin:screening_intakesubmission_changelist")
    response = client.get(url, {"q": "x" * 60_000})
    assert response.status_code == 400
    assert "The search is 60,000 characters long" in text(response)
    assert "at most 10,000" in text(response)
    # The longest accepted search, in the widest characters and ones the search escapes.
    assert client.get(url, {"q": "🙂%" * 5_000}).status_code == 200


def test_links_that_carry_a_long_search_still_open(client, admin_user):
    # The admin copies the list's address, search included and encoded, into its links.
    client.force_login(admin_user)
    search = "é" * 10_000
    listing = client.get(reverse("admin:articles_study_changelist"), {"q": search})
    assert listing.status_code == 200
    add = reverse("admin:articles_study_add")
    filters = urlencode({"q": search})
    assert len(filters) > 50_000
    assert client.get(add, {"_changelist_filters": filters}).status_code == 200


def test_dossier_refuses_a_date_too_early_to_convert(client, reviewer, make_article):
    article = make_article(reviewer=reviewer)
    client.force_login(reviewer)
    url = reverse("admin:articles_article_dossier", args=[article.pk])
    for at in ["0001-01-01T00:00:00-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01"]:
        response = client.get(url, {"at": at})
        assert response.status_code == 400, at
        assert "Choose a date after 1900" in text(response)


# The review screen ------------------------------------------------------------------------------


@pytest.fixture
def in_review(make_article, reviewer):
    article = make_article(status="in_review", citations=1)
    return article, Citation.objects.get(claim__revision=article.draft)


def test_nul_in_a_review_note_is_refused_and_the_other_answers_kept(client, reviewer, in_review):
    article, citation = in_review
    client.force_login(reviewer)
    response = review_post(
        client,
        article,
        {
            citation.study.key: {
                "verdict": Verdict.OVERSTATED,
                "verdict_note": "Short\x00term only",
            },
            citation.claim.ordinal: {"certainty": "low", "wording_text": "two small trials"},
        },
    )
    assert response.status_code == 400
    assert "NUL character" in text(response)
    assert "two small trials" in text(response)  # the reviewer's typing is kept
    citation.refresh_from_db()
    assert citation.verdict == "" and citation.verdict_note == ""


def test_nul_in_certainty_wording_is_refused(client, reviewer, in_review):
    article, citation = in_review
    client.force_login(reviewer)
    response = review_post(
        client,
        article,
        {citation.claim.ordinal: {"certainty": "low", "wording_text": "only\x00 two trials"}},
    )
    assert response.status_code == 400
    assert "NUL character" in text(response)
    assert Claim.objects.get(pk=citation.claim_id).certainty_wording == ""


def test_overlong_review_note_is_refused(client, reviewer, in_review):
    article, citation = in_review
    client.force_login(reviewer)
    response = review_post(
        client,
        article,
        {
            citation.study.key: {
                "verdict": Verdict.OVERSTATED,
                "verdict_note": "x" * (workflow.NOTE_MAX_LENGTH + 1),
            }
        },
    )
    assert response.status_code == 400
    assert f"Keep the note under {workflow.NOTE_MAX_LENGTH} characters" in text(response)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Please\x00 check", "NUL character"),
        ("x" * (workflow.COMMENT_MAX_LENGTH + 1), "Keep the comment under"),
    ],
)
def test_bad_comment_is_refused_with_a_message(client, reviewer, in_review, body, message):
    article, _citation = in_review
    client.force_login(reviewer)
    response = client.post(review_url(article), {"_comment": "Add", "body": body})
    assert response.status_code == 400  # refused, shown again with the message
    assert message in text(response)
    assert not ReviewComment.objects.exists()


def test_request_changes_comment_with_nul_is_refused(reviewer, in_review):
    article, _citation = in_review
    with pytest.raises(workflow.WorkflowRefused, match="NUL character"):
        workflow.request_changes(article, by=reviewer, comment="Fix\x00 this")
    assert not ReviewComment.objects.exists()


# Creating an article ----------------------------------------------------------------------------


def test_author_cannot_create_an_article_for_someone_else(client, make_user, make_study):
    make_study("cherkin2009")
    author = make_user("writer", groups=["Authors"])
    other = make_user("other", groups=["Authors"])
    client.force_login(author)
    response = client.post(
        reverse("admin:articles_article_add"),
        {
            "title": "Heat packs",
            "slug": "heat-packs",
            "summary": "What studies found.",
            "body": "Heat eased pain a little [@cherkin2009].",
            "topic": "",
            "author": other.pk,  # crafted: the add page offers no author field to authors
        },
    )
    assert response.status_code == 302
    assert Article.objects.get(slug="heat-packs").author == author


def test_superuser_may_create_an_article_for_an_author(client, make_user, make_study):
    make_study("cherkin2009")
    boss = make_user("boss", is_superuser=True)
    author = make_user("writer", groups=["Authors"])
    client.force_login(boss)
    response = client.post(
        reverse("admin:articles_article_add"),
        {
            "title": "Heat packs",
            "slug": "heat-packs",
            "summary": "What studies found.",
            "body": "Heat eased pain a little [@cherkin2009].",
            "topic": "",
            "author": author.pk,
        },
    )
    assert response.status_code == 302
    assert Article.objects.get(slug="heat-packs").author == author


# The feed ----------------------------------------------------------------------------------------


def test_feed_summary_is_html_escaped_plain_text(client, make_article):
    summary = "Pain < 6 weeks & <b>not</b> bold"
    make_article(summary=summary)
    root = ET.fromstring(client.get("/feed/").content)  # noqa: S314 (our own feed)
    element = root.find(f"{ATOM}entry/{ATOM}summary")
    assert element.get("type") == "html"
    # A feed reader parses the element's text as HTML: it must read back as the plain text.
    assert html.unescape(element.text) == summary
    assert "<b>" not in element.text


# The intake form --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Utf\ufffd\ufffdTest", "not valid UTF-8"),
        ("Alex\x00Example", "NUL character"),
    ],
)
def test_intake_refuses_an_unreadable_name_and_keeps_other_answers(
    client, intake_data, screening_cache, name, message
):
    response = client.post("/intake/", intake_data(full_name=name, q_tried_notes="Yoga helps."))
    assert response.status_code == 400
    assert message in text(response)
    assert "Yoga helps." in text(response)
    assert not IntakeSubmission.objects.exists()


def test_intake_refuses_invalid_utf8_bytes_in_the_raw_body(client, intake_data, screening_cache):
    data = intake_data(q_tried_notes="Yoga helps.")
    body = urlencode(data, doseq=True).replace("full_name=Alex", "full_name=Utf%FF%FETest")
    response = client.post("/intake/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in text(response)
    assert "Yoga helps." in text(response)
    assert not IntakeSubmission.objects.exists()


def test_intake_over_the_upload_limit_keeps_what_it_can(client, intake_data, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_500_000
    data = intake_data(q_tried_notes="Yoga helps.", q_anything_else="x" * 3_000_000)
    # Sent as the browser sends the form.
    body = urlencode(data, doseq=True)
    response = client.post("/intake/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    page = text(response)
    assert "Your form was too large to send" in page
    assert "Yoga helps." in page  # the other answers are kept
    assert "x" * 3000 not in page
    assert 'name="full_name"' in page and "Alex Example" in page
    assert not IntakeSubmission.objects.exists()


def test_intake_far_over_the_limit_still_gets_the_form_and_a_message(client, intake_data, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/intake/", intake_data(q_anything_else="x" * 10_000))
    assert response.status_code == 413
    assert "too large for us to read any of your answers" in text(response)
    assert not IntakeSubmission.objects.exists()

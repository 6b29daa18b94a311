"""Revisions, comparison, preview and the audit dossier in the admin: who did what when,
what changed, what was live on a past date, and who may see it."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import Article, ArticleRevision, ReviewComment
from tests import html_tree
from tests.conftest import create_reviewer, create_study, create_user, refresh, review_everything
from tests.html_tree import citation_links, page_text, row_value, texts, tree

pytestmark = pytest.mark.django_db

FIRST = (
    "First text: needling eased back pain at 8 weeks [@cherkin2009].\n\n"
    "Sham needling did about as well [@haake2007]."
)
SECOND = (
    "Second text: needling eased back pain for a few months [@cherkin2009].\n\n"
    "Sham needling did about as well [@haake2007].\n\n"
    "Acupuncture cures back pain for most people."
)
THIRD = (
    "Third text: needling eased back pain for a few months [@cherkin2009].\n\n"
    "Sham needling did about as well [@haake2007]."
)


def text(response):
    """The page's text as a reader sees it, whitespace collapsed."""
    return page_text(response)


def url(name, article, *args):
    return reverse(f"admin:articles_article_{name}", args=[article.pk, *args])


def publish_text(article, body, *, author, reviewer, publisher, at, title="Back pain"):
    """Take `body` through the whole workflow, published at `at` (earlier steps just before).

    The admin history and the comment are dated as if written then, too."""
    logged = set(LogEntry.objects.values_list("pk", flat=True))
    article = refresh(article)
    workflow.save_draft(article, title=title, summary="What studies found.", body=body, by=author)
    workflow.submit_for_review(refresh(article), by=author, now=at - timedelta(days=2))
    article = refresh(article)
    review_everything(article, reviewer)
    comment = workflow.add_comment(article, body=f"Checked {title}.", by=reviewer)
    ReviewComment.objects.filter(pk=comment.pk).update(created_at=at - timedelta(days=1))
    workflow.approve(article, by=reviewer, now=at - timedelta(days=1))
    article = workflow.publish(refresh(article), by=publisher, now=at)
    LogEntry.objects.exclude(pk__in=logged).update(action_time=at)
    return article


@pytest.fixture(scope="module", autouse=True)
def people_studies_and_history(django_db_setup, django_db_blocker):
    """The people, the two studies and the article with a history that most tests here read,
    created once for the module (taking an article through the workflow twice is slow) and
    rolled back after it. Each test runs in a savepoint inside, so its own changes are undone
    before the next test.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        author = create_user("writer", groups=["Authors"])
        reviewer = create_reviewer("drlee", registration_number="GMC7654321")
        publisher = create_user("editor", groups=["Medical reviewers"])
        create_study("cherkin2009")
        create_study("haake2007")
        # r1 was live from 200 to 100 days ago, and r2 since.
        now = timezone.now()
        article = Article.objects.create(slug="back-pain", author=author)
        people = {"author": author, "reviewer": reviewer, "publisher": publisher}
        publish_text(
            article, FIRST, at=now - timedelta(days=200), title="Back pain, first", **people
        )
        publish_text(
            article, SECOND, at=now - timedelta(days=100), title="Back pain, second", **people
        )
        yield
        transaction.set_rollback(True)


@pytest.fixture
def author(db, django_user_model):
    return django_user_model.objects.get(username="writer")


@pytest.fixture
def reviewer(db, django_user_model):
    """A medical reviewer, registration number GMC7654321."""
    return django_user_model.objects.get(username="drlee")


@pytest.fixture
def publisher(db, django_user_model):
    return django_user_model.objects.get(username="editor")


@pytest.fixture
def history(db):
    """The article whose r1 was live from 200 to 100 days ago, and r2 since."""
    return refresh(Article.objects.get(slug="back-pain"))


def days_ago(days):
    return timezone.localdate() - timedelta(days=days)


# The dossier ---------------------------------------------------------------------------------


def test_dossier_for_a_past_date_shows_the_revision_live_then(client, reviewer, history):
    client.force_login(reviewer)
    response = client.get(url("dossier", history), {"at": days_ago(150).isoformat()})
    assert response.status_code == 200
    page = text(response)
    assert "Revision 1 was the live text at that moment." in page
    assert "First text: needling eased back pain at 8 weeks" in page
    assert texts(tree(response), "//h1") == ["Back pain, first"]
    assert "Second text" not in page


def test_dossier_for_a_recent_date_shows_the_current_revision(client, reviewer, history):
    client.force_login(reviewer)
    page = text(client.get(url("dossier", history), {"at": days_ago(50).isoformat()}))
    assert "Revision 2 was the live text at that moment." in page
    assert "Second text: needling eased back pain" in page
    assert "First text" not in page


def test_dossier_accepts_a_date_time(client, reviewer, history):
    switch = history.live_revision.published_at
    client.force_login(reviewer)
    local = timezone.localtime(switch)
    before = (local - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    after = (local + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert "Revision 1 was the live" in text(client.get(url("dossier", history), {"at": before}))
    assert "Revision 2 was the live" in text(client.get(url("dossier", history), {"at": after}))


def test_dossier_before_the_first_publication_says_nothing_was_live(client, reviewer, history):
    client.force_login(reviewer)
    day = days_ago(300).isoformat()
    response = client.get(url("dossier", history), {"at": day})
    assert response.status_code == 200
    page = text(response)
    assert f"Nothing was live on {day}" in page
    assert "First text" not in page
    assert "r1: Back pain, first" in page and "r2: Back pain, second" in page  # the periods


def test_dossier_after_unpublishing_says_nothing_was_live(client, reviewer, publisher, history):
    workflow.unpublish(history, by=publisher)
    client.force_login(reviewer)
    page = text(client.get(url("dossier", history)))
    assert "Nothing was live on" in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/03/2026", "“31/03/2026” is not a date. Use the form YYYY-MM-DD"),
        ("2026-02-30", "is not a date"),
        ("9999-12-31", "is in the future"),
    ],
)
def test_dossier_with_an_invalid_date_says_so(client, reviewer, history, value, message):
    client.force_login(reviewer)
    response = client.get(url("dossier", history), {"at": value})
    assert response.status_code == 400
    page = text(response)
    assert "Invalid date." in page and message in page
    assert "First text" not in page and "Second text" not in page


def test_dossier_records_who_did_what_and_the_evidence(
    client, author, reviewer, publisher, history
):
    client.force_login(author)
    response = client.get(url("dossier", history))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    # A standalone document, not a page inside the admin's frame.
    assert response.content.startswith(b"<!DOCTYPE html>")
    doc = tree(response)
    assert not doc.xpath("//*[@id='header']")
    page = text(response)
    assert row_value(doc, "Revision written by").startswith("Writer Tester, ")
    assert row_value(doc, "Submitted for review").startswith("Writer Tester, ")
    assert row_value(doc, "Approved").startswith("Drlee Tester, ")
    assert row_value(doc, "Published").startswith("Editor Tester, ")
    assert row_value(doc, "Integrity check").startswith("Match: ")
    content_hash = row_value(doc, "Content hash (SHA-256 of title, summary and body)")
    assert content_hash == history.live_revision.content_hash
    assert "GMC7654321" in page and "General Medical Council" in page
    assert "Supports the claim" in page and "Recorded by Drlee Tester" in page
    assert "Moderate certainty" in page and "small benefit on average" in page
    assert "Tester A, Example B." in page  # the studies' references
    # The linter's warning in r2 and its dismissal, with who and when.
    assert "Acupuncture cures back pain for most people." in page
    assert "By Drlee Tester" in page
    assert "Checked Back pain, second." in page  # comments
    assert "Published revision 2." in page  # the admin's history
    # The rendered text (with citation links) and the raw Markdown appendix.
    assert citation_links(doc)[0] == "ref-1"
    assert "[@cherkin2009]" in page


def test_dossier_for_a_past_date_leaves_out_later_history(client, reviewer, history):
    client.force_login(reviewer)
    page = text(client.get(url("dossier", history), {"at": days_ago(150).isoformat()}))
    assert "Published revision 1." in page and "Checked Back pain, first." in page
    assert "Published revision 2." not in page and "Checked Back pain, second." not in page


def test_dossier_shows_a_hash_mismatch(client, reviewer, history):
    ArticleRevision.objects.filter(pk=history.live_revision_id).update(body="Tampered text.")
    client.force_login(reviewer)
    assert "Mismatch" in text(client.get(url("dossier", history)))


def test_dossier_escapes_the_markdown_source(client, author, reviewer, publisher):
    article = Article.objects.create(slug="escaped", author=author)
    publish_text(
        article,
        "Needling <script>alert(1)</script> eased pain [@cherkin2009].",
        author=author,
        reviewer=reviewer,
        publisher=publisher,
        at=timezone.now() - timedelta(hours=1),
    )
    client.force_login(reviewer)
    doc = tree(client.get(url("dossier", article)))
    assert not doc.xpath("//script[contains(., 'alert')]")
    # The Markdown source is shown as typed, as text.
    assert "Needling <script>alert(1)</script> eased pain [@cherkin2009]." in html_tree.text(doc)


def test_dossier_can_be_downloaded(client, reviewer, history):
    client.force_login(reviewer)
    day = days_ago(150).isoformat()
    response = client.get(url("dossier", history), {"at": day, "download": "1"})
    assert response["Content-Disposition"] == (
        f'attachment; filename="dossier-back-pain-{day}-r1.html"'
    )


# Revisions -----------------------------------------------------------------------------------


def test_revisions_page_lists_who_submitted_approved_and_published(client, author, history):
    client.force_login(author)
    response = client.get(url("revisions", history))
    assert response.status_code == 200
    page = text(response)
    links = tree(response).xpath("//a/@href")
    assert "Writer Tester" in page and "Drlee Tester" in page and "Editor Tester" in page
    assert "Live" in page and "Was live" in page
    first, second = sorted(history.revisions.all(), key=lambda revision: revision.number)
    assert first.content_hash[:12] in page and second.content_hash[:12] in page
    assert any(link.endswith("?from=1&to=2") for link in links)
    assert url("preview_revision", history, 1) in links
    assert "Submitted revision 1 for review." in page and "Published revision 2." in page
    assert "Acupuncture cures back pain for most people." in page  # the dismissal
    assert "Checked Back pain, first." in page  # a comment


def test_revisions_page_shows_a_draft_in_review(client, author, make_article):
    article = make_article(status="in_review", author=author)
    client.force_login(author)
    page = text(client.get(url("revisions", article)))
    assert "In review" in page


# Compare -------------------------------------------------------------------------------------


def test_compare_shows_added_and_removed_lines(client, reviewer, history):
    client.force_login(reviewer)
    response = client.get(url("compare", history), {"from": 1, "to": 2})
    assert response.status_code == 200
    doc = tree(response)
    assert doc.xpath("//tr[@class='diff-removed']") and doc.xpath("//tr[@class='diff-added']")
    removed, added = texts(doc, "//del"), texts(doc, "//ins")
    assert "First text: needling eased back pain at 8 weeks [@cherkin2009]." in removed
    assert any(line.startswith("Second text: needling eased back pain for a few") for line in added)
    assert "Acupuncture cures back pain for most people." in added
    assert "Back pain, first" in removed and "Back pain, second" in added


def test_compare_defaults_to_the_latest_and_the_one_before(client, reviewer, history):
    client.force_login(reviewer)
    page = text(client.get(url("compare", history)))
    assert "Changes from r1 to r2." in page


def test_compare_defaults_to_the_draft_against_the_live_text(client, reviewer, author, history):
    workflow.save_draft(
        refresh(history),
        title="Back pain, third",
        summary="What studies found.",
        body=THIRD,
        by=author,
    )
    client.force_login(reviewer)
    response = client.get(url("compare", history))
    assert "Changes from r2 (live) to r3 (working draft)." in text(response)
    page = text(response)
    assert "Acupuncture cures back pain for most people." in texts(tree(response), "//del")
    # The unchanged claim keeps its verdict; the reworded one needs review.
    assert "haake2007: kept: Supports the claim" in page
    assert "Reworded" in page


def test_compare_escapes_the_text(client, reviewer, make_article):
    article = make_article(
        status="draft", body="Needling <img src=x onerror=alert(1)> [@cherkin2009]."
    )
    client.force_login(reviewer)
    doc = tree(client.get(url("compare", article)))
    assert not doc.xpath("//img[@onerror]")
    assert "Needling <img src=x onerror=alert(1)> [@cherkin2009]." in html_tree.text(doc)


@pytest.mark.parametrize("query", [{"to": 9}, {"from": 9}, {"from": "abc"}, {"to": "1x"}])
def test_compare_404s_for_a_revision_the_article_does_not_have(client, reviewer, history, query):
    client.force_login(reviewer)
    assert client.get(url("compare", history), query).status_code == 404


def test_compare_never_shows_another_articles_revision(
    client, reviewer, author, history, make_article
):
    other = make_article(status="draft", author=author, body="Secret other text [@haake2007].")
    for body in (
        "First secret [@haake2007].",
        "Second secret [@haake2007].",
        "Third [@haake2007].",
    ):
        workflow.save_draft(other, title="Other", summary="S.", body=body, by=author)
        workflow.submit_for_review(refresh(other), by=author)
        workflow.request_changes(refresh(other), by=reviewer)
        other = refresh(other)
    assert other.revisions.count() == 3 and history.revisions.count() == 2
    client.force_login(reviewer)
    response = client.get(url("compare", history), {"from": 2, "to": 3})
    assert response.status_code == 404
    assert "secret" not in text(response).lower()


# Permissions ---------------------------------------------------------------------------------

STAFF_PAGES = [
    ("review", ()),
    ("revisions", ()),
    ("compare", ()),
    ("dossier", ()),
    ("preview", ()),
    ("preview_revision", (1,)),
]


@pytest.fixture(params=["clinical", "no_permissions"])
def outsider(request, make_user):
    if request.param == "clinical":
        assert Group.objects.filter(name="Clinical staff").exists()
        return make_user("nurse", groups=["Clinical staff"])
    return make_user("temp")


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_staff_without_view_permission_get_403(client, outsider, history, name, args):
    client.force_login(outsider)
    assert client.get(url(name, history, *args)).status_code == 403


def test_staff_without_view_permission_cannot_post_a_review(client, outsider, make_article):
    article = make_article(status="in_review")
    client.force_login(outsider)
    response = client.post(url("review", article), {"_comment": "x", "body": "Hello"})
    assert response.status_code == 403
    assert not article.comments.exists()


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_anonymous_users_are_sent_to_the_login_page(client, history, name, args):
    target = url(name, history, *args)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_non_staff_users_are_sent_to_the_login_page(client, make_user, history, name, args):
    client.force_login(make_user("patient", is_staff=False))
    response = client.get(url(name, history, *args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", ["author", "reviewer"])
@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_editorial_staff_see_every_page_uncached(client, request, history, role, name, args):
    client.force_login(request.getfixturevalue(role))
    response = client.get(url(name, history, *args))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


def test_preview_is_never_indexed(client, reviewer, history):
    client.force_login(reviewer)
    response = client.get(url("preview_revision", history, 1))
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "First text" in text(response)


def test_change_form_links_to_the_staff_pages(client, reviewer, history):
    client.force_login(reviewer)
    content = client.get(reverse("admin:articles_article_change", args=[history.pk])).content
    for name in ("review", "revisions", "compare", "dossier"):
        assert url(name, history).encode() in content


def test_dossier_shows_the_hash_of_the_revision_live_then(client, reviewer, history):
    r1 = history.revisions.get(number=1)
    client.force_login(reviewer)
    page = text(client.get(url("dossier", history), {"at": days_ago(150).isoformat()}))
    assert r1.content_hash in page
    assert history.live_revision.content_hash not in page


def test_compare_against_nothing_shows_everything_as_added(client, reviewer, history):
    client.force_login(reviewer)
    response = client.get(url("compare", history), {"from": "", "to": 1})
    assert response.status_code == 200
    assert "Compared with nothing: everything in r1 is shown as added." in text(response)
    doc = tree(response)
    assert "First text: needling eased back pain at 8 weeks [@cherkin2009]." in texts(doc, "//ins")
    assert not doc.xpath("//tr[@class='diff-removed']")


def test_dossier_shows_the_study_finding_as_it_stood_at_review(client, make_article, make_user):
    from articles.models import Study

    article = make_article(citations=1)
    study = Study.objects.get(citations__claim__revision=article.live_revision)
    original = study.finding
    Study.objects.filter(pk=study.pk).update(finding="A later rewrite of the finding.")
    client.force_login(make_user(is_superuser=True))
    url = reverse("admin:articles_article_dossier", args=[article.pk])
    page = text(client.get(url))
    assert original in page
    assert "The library's entry has changed since" in page
    assert "A later rewrite of the finding." in page

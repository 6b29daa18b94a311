"""Shared fixtures: factories for studies, articles and staff users."""

import itertools
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone

from articles import workflow
from articles.models import (
    Article,
    Certainty,
    Citation,
    Claim,
    ReviewerProfile,
    Study,
    StudyType,
    Topic,
    Verdict,
)

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _password_alone_signs_staff_in(request, monkeypatch):
    """Most tests sign staff in with `force_login` and test something else; let the password
    do. Tests marked `second_factor` get the production rule (clinic.two_factor)."""
    if request.node.get_closest_marker("second_factor") is None:
        monkeypatch.setattr("clinic.two_factor.second_factor_required", lambda user: False)


@pytest.fixture
def make_user(django_user_model):
    """Create a staff user, optionally in named groups (created by the migrations)."""

    def make(username=None, groups=(), **fields):
        username = username or f"user{next(_numbers)}"
        fields.setdefault("is_staff", True)
        fields.setdefault("first_name", username.title())
        fields.setdefault("last_name", "Tester")
        fields.setdefault("email", f"{username}@clinic.example")
        user = django_user_model.objects.create_user(
            username=username, password="pw-for-tests", **fields
        )
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        return user

    return make


@pytest.fixture
def make_study():
    def make(key=None, **fields):
        number = next(_numbers)
        fields.setdefault("authors", "Tester A, Example B")
        fields.setdefault("title", f"A trial of something number {number}")
        fields.setdefault("journal", "Journal of Tests")
        fields.setdefault("year", 2020)
        fields.setdefault("study_type", StudyType.RCT)
        fields.setdefault("finding", "It helped a little, for a short time.")
        return Study.objects.create(key=key or f"study{number}", **fields)

    return make


@pytest.fixture
def make_reviewer(make_user):
    """A medical reviewer with a profile verified today."""

    def make(username=None, **profile):
        user = make_user(username, groups=["Medical reviewers"])
        profile.setdefault("display_name", f"Dr {user.first_name} {user.last_name}")
        profile.setdefault("qualification", "MBBS")
        profile.setdefault("registration_body", "General Medical Council")
        profile.setdefault("registration_number", f"GMC{user.pk:06d}")
        profile.setdefault("verified_on", timezone.localdate())
        ReviewerProfile.objects.create(user=user, **profile)
        return user

    return make


@pytest.fixture
def reviewer(make_reviewer):
    """The medical reviewer most tests need."""
    return make_reviewer("drlee")


def refresh(article):
    """The article as stored now, with its revisions."""
    return Article.objects.select_related("draft", "live_revision").get(pk=article.pk)


def review_everything(article, reviewer):
    """Record 'supports' for every citation, a certainty for every claim, dismiss lint."""
    revision = article.draft
    Citation.objects.filter(claim__revision=revision).update(
        verdict=Verdict.SUPPORTS, verdict_by=reviewer, verdict_at=timezone.now()
    )
    Claim.objects.filter(revision=revision).update(
        certainty=Certainty.MODERATE, certainty_wording="small benefit on average"
    )
    for finding in workflow.open_lint_findings(article, revision):
        workflow.dismiss_lint_finding(article, fingerprint=finding.fingerprint, by=reviewer)


@pytest.fixture
def make_article(make_user, make_study, make_reviewer):
    """Create an article through the real workflow; `citations=N` writes N cited claims."""

    def make(
        slug=None,
        *,
        title="Acupuncture and back pain",
        summary="What studies found.",
        body=None,
        citations=3,
        status="published",
        author=None,
        reviewer=None,
        topic=None,
        approval=None,
        **fields,
    ):
        """`status` is how far through the workflow to take it: draft, in_review,
        approved or published (the default)."""
        approval = approval or {}
        author = author or make_user(groups=["Authors"])
        if body is None:
            studies = [make_study() for _ in range(citations)]
            body = "\n\n".join(
                f"Claim number {i} about back pain [@{study.key}]."
                for i, study in enumerate(studies, start=1)
            )
        if topic is None:
            topic, _ = Topic.objects.get_or_create(
                slug="research-explained", defaults={"name": "Research explained"}
            )
        article = Article.objects.create(
            slug=slug or f"article-{next(_numbers)}", author=author, topic=topic, **fields
        )
        workflow.save_draft(article, title=title, summary=summary, body=body, by=author)
        if status in ("in_review", "approved", "published"):
            workflow.submit_for_review(article, by=author)
        if status in ("approved", "published"):
            reviewer = reviewer or make_reviewer()
            article.refresh_from_db()
            review_everything(article, reviewer)
            workflow.approve(article, by=reviewer, **approval)
        if status == "published":
            workflow.publish(article, by=reviewer)
        article.refresh_from_db()
        return article

    return make


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(settings):
    """Debian's Chromium driven by Playwright (downloaded browsers do not work here).

    Function-scoped: Playwright's event loop must not outlive the test's database setup.
    Use with `live_server` and `django_db(transaction=True, serialized_rollback=True)`.
    """
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    # Playwright's event loop would make Django refuse ORM calls made by the test itself.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # ORM calls made while Playwright runs get their own connection (greenlets carry
        # their own context); close it here, or PostgreSQL cannot drop the test database.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_scan():
    """A function that runs axe-core (WCAG 2.x A and AA, and best practices) on a Playwright
    page and returns the violations found, shortened for a readable assertion.

    axe-core comes from npm (`npm install --no-save axe-core@4` in the project folder; `.ci/run`
    does it); without it the test is skipped with the reason. It is injected through the
    DevTools protocol (`page.evaluate`), which the page's Content Security Policy does not
    govern: the pages under test keep their real CSP, with no inline script allowed.
    """
    if not AXE.exists():
        pytest.skip("needs axe-core: run `npm install --no-save axe-core@4` in the project folder")
    source = AXE.read_text()

    def scan(page) -> list[dict]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        result = page.evaluate("async () => await axe.run(document)")
        return [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [node["target"] for node in violation["nodes"]][:10],
            }
            for violation in result["violations"]
        ]

    return scan

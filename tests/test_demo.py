"""`manage.py demo`: loads content once, creates staff accounts, refuses production settings."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from articles import workflow
from articles.models import Article, Citation, Claim, Status, Study, Verdict
from tests.conftest import refresh
from tests.html_tree import citation_links, text, tree

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_content(django_db_setup, django_db_blocker):
    """The demo, loaded once for this module (loading takes seconds) and rolled back after it.

    Each test runs in a savepoint inside this transaction, so what one test changes is undone
    before the next.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):
            call_command("demo", "--no-serve", verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_content, db):
    """The demo content, for a test that uses the database."""


def counts():
    return (
        Study.objects.count(),
        Article.objects.count(),
        Claim.objects.count(),
        Citation.objects.count(),
        get_user_model().objects.count(),
    )


def test_demo_loads_content_once(demo, settings):
    settings.DEBUG = True
    before = counts()
    call_command("demo", "--no-serve", verbosity=0)
    assert counts() == before
    published = Article.objects.published()
    assert published.count() >= 4
    assert Article.objects.filter(status=Status.DRAFT, live_revision__isnull=True).exists()
    live_claims = Claim.objects.filter(revision__in=published.values("live_revision"))
    assert live_claims.filter(citations__isnull=False).distinct().count() >= 25


def test_demo_creates_one_account_per_group_and_an_admin(demo):
    users = {user.username: user for user in get_user_model().objects.all()}
    assert users["admin"].is_superuser
    assert set(users["author"].groups.values_list("name", flat=True)) == {"Authors"}
    assert set(users["reviewer"].groups.values_list("name", flat=True)) == {"Medical reviewers"}
    assert set(users["clinician"].groups.values_list("name", flat=True)) == {"Clinical staff"}


def test_every_cited_claim_on_demo_articles_links_to_a_named_study(demo, client):
    for article in Article.objects.published().select_related("live_revision"):
        doc = tree(client.get(article.get_absolute_url()))
        links = set(citation_links(doc))
        items = {item.get("id"): text(item) for item in doc.xpath("//ol[@class='references']/li")}
        assert links and links == set(items), article.slug
        keys = Citation.objects.filter(claim__revision=article.live_revision).values_list(
            "study__key", flat=True
        )
        for key in set(keys):
            study = Study.objects.get(key=key)
            assert any(study.title.rstrip(".") in item for item in items.values()), key


def test_linter_flags_uncited_claims_in_the_demo_draft(demo, client):
    draft = Article.objects.get(status=Status.DRAFT, live_revision__isnull=True)
    findings = workflow.open_lint_findings(draft)
    sentences = " ".join(finding.sentence for finding in findings)
    assert len(findings) >= 3
    assert "Most people feel better after a few sessions." in sentences
    # The author sees the warnings on the change page while writing.
    client.force_login(draft.author)
    html = client.get(reverse("admin:articles_article_change", args=[draft.pk])).content.decode()
    assert "read like health claims but have no citation" in html


def test_demo_article_in_review_has_mixed_verdicts_and_linter_warnings(demo):
    article = Article.objects.get(status=Status.IN_REVIEW)
    verdicts = set(
        Citation.objects.filter(claim__revision=article.draft).values_list("verdict", flat=True)
    )
    assert {Verdict.SUPPORTS, Verdict.OVERSTATED} <= verdicts
    assert len(workflow.open_lint_findings(article)) >= 1
    reviewer = article.reviewer
    problems = workflow.APPROVE.check(refresh(article), reviewer)
    assert "unsupported_citation" in {problem.code for problem in problems}


def test_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development mode"):
        call_command("demo", "--no-serve")


def test_manage_py_demo_refuses_when_debug_is_explicitly_off(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "demo", "--no-serve"],
        env={"DEBUG": "off", "PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Refusing to run the demo" in result.stderr
    assert not (tmp_path / "x").exists()


def test_settings_without_secret_key_fail_loudly_when_debug_is_off(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_demo_never_touches_the_configured_database(tmp_path):
    from clinic import devmode

    env = {"DATABASE_URL": "postgres://clinic@db.example/production"}
    devmode.enable_development_mode(env, env_file=tmp_path / "missing.env")
    assert env["DATABASE_URL"] == devmode.DEMO_DATABASE_URL and env["DEBUG"] == "on"


def test_demo_refuses_when_dotenv_sets_debug_off(tmp_path, monkeypatch):
    from clinic import devmode

    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=off\nSECRET_KEY=real-secret\n")
    for name in ("DEBUG", "SECRET_KEY", "DATABASE_URL"):
        # Set then delete, so monkeypatch restores whatever was there after the test.
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    with pytest.raises(SystemExit) as refused:
        devmode.enable_development_mode(os.environ, env_file=env_file)
    assert refused.value.code == 2


def test_demo_intake_queue_runs_on_version_2(demo, settings):
    settings.DEBUG = True  # the demo runs only in development mode
    from screening.models import IntakeSubmission, Questionnaire

    live = Questionnaire.objects.active().get()
    assert live.version == 2
    forms = IntakeSubmission.objects.all()
    assert forms.count() == 6 and all(form.questionnaire == live for form in forms)
    outcomes = {form.full_name: form.outcome for form in forms}
    assert outcomes["Dana Whitfield"] == "urgent"  # new sexual problems, both legs
    assert outcomes["Eli Hartmann"] == "urgent"  # sudden severe pain, heart problems
    assert outcomes["Indy Achebe"] == "routine"
    warfarin = forms.get(full_name="Frankie Osei")
    assert (warfarin.outcome, warfarin.flags[0]["detail"]) == ("review", "names warfarin")
    assert not forms.filter(notified_at__isnull=True).exists()
    call_command("demo", "--no-serve", verbosity=0)
    assert IntakeSubmission.objects.count() == 6


def test_demo_has_an_answered_waiting_and_emergency_patient_question(demo, client):
    from questions.models import PatientQuestion, published_answers

    statuses = sorted(PatientQuestion.objects.values_list("status", "is_emergency"))
    assert statuses == [("new", False), ("new", True), ("published", False)]
    (answer,) = published_answers()
    assert answer.approved_by.username == "reviewer" and answer.created_by.username == "author"
    page = client.get(answer.question.article.get_absolute_url()).content.decode()
    assert "does the effect wear off once the sessions stop?" in page
    assert "struggling to pee" not in page  # nothing unpublished reaches patients

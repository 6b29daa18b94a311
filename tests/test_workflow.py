"""The editorial workflow through the admin, as each role: the gate, revisions, locking."""

from datetime import date, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import Article, Citation, Claim, ReviewerProfile, Status, Study, Verdict
from tests.conftest import refresh, review_everything

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:articles_article_changelist")


def run_action(client, action, *articles):
    response = client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [article.pk for article in articles]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def in_review(make_article):
    """An article in review whose claims have verdicts and certainty: ready to approve."""
    article = make_article(status="in_review", title="Ready for approval")
    return article


def test_author_cannot_approve_or_publish(client, make_article):
    article = make_article(status="in_review")
    client.force_login(article.author)
    run_action(client, "approve", article)
    assert refresh(article).status == Status.IN_REVIEW
    approved = make_article(status="approved", author=article.author)
    run_action(client, "publish", approved)
    assert not refresh(approved).is_published()
    with pytest.raises(workflow.WorkflowRefused, match="permission to approve"):
        workflow.approve(article, by=article.author)


def test_reviewer_cannot_approve_their_own_article(make_article, reviewer):
    reviewer.groups.add(Group.objects.get(name="Authors"))
    article = make_article(status="in_review", author=reviewer)
    review_everything(article, reviewer)
    with pytest.raises(workflow.WorkflowRefused, match="cannot approve an article they wrote"):
        workflow.approve(refresh(article), by=reviewer)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("no_verdict", "lack a “supports” verdict"),
        ("overstated", "claim 1 → "),
        ("retracted", "cites retracted studies"),
        ("no_certainty", "have no certainty rating"),
        ("lint", "linter warning(s) are neither cited nor dismissed"),
        ("no_profile", "You have no reviewer profile"),
        ("expired", "more than 12 months ago"),
        ("body_error", "marker or Markdown error"),
    ],
)
def test_each_gate_rule_refuses_approval_with_its_message(
    client, make_article, reviewer, breakage, message
):
    body = "Needling eased pain at 8 weeks [@{k}]."
    if breakage == "lint":
        body += "\n\nStudies show acupuncture cures back pain in most people."
    article = make_article(status="draft")
    key = Citation.objects.filter(claim__revision=article.draft).first().study.key
    workflow.save_draft(
        article,
        title="Gate test",
        summary="s",
        body=body.format(k=key),
        by=article.author,
    )
    workflow.submit_for_review(refresh(article), by=article.author)
    article = refresh(article)
    revision = article.draft
    if breakage != "lint":
        review_everything(article, reviewer)
    else:
        Citation.objects.filter(claim__revision=revision).update(verdict=Verdict.SUPPORTS)
        Claim.objects.filter(revision=revision).update(certainty="moderate")
    citations = Citation.objects.filter(claim__revision=revision)
    if breakage == "no_verdict":
        citations.update(verdict="")
    elif breakage == "overstated":
        citations.update(verdict=Verdict.OVERSTATED, verdict_note="Too strong.")
    elif breakage == "retracted":
        Study.objects.filter(key=key).update(is_retracted=True)
    elif breakage == "no_certainty":
        Claim.objects.filter(revision=revision).update(certainty="")
    elif breakage == "no_profile":
        ReviewerProfile.objects.filter(user=reviewer).delete()
    elif breakage == "expired":
        ReviewerProfile.objects.filter(user=reviewer).update(
            verified_on=timezone.localdate() - timedelta(days=400)
        )
    elif breakage == "body_error":
        # Only possible if the text was changed behind the admin's back: still refused.
        type(revision).objects.filter(pk=revision.pk).update(body=revision.body + " [@broken")
    client.force_login(reviewer)
    messages = run_action(client, "approve", article)
    assert refresh(article).status == Status.IN_REVIEW
    assert len(messages) == 1 and messages[0].startswith("Approve refused for “Gate test”")
    assert message in messages[0]


def test_approval_records_who_when_hash_and_review_dates(in_review, reviewer):
    review_everything(in_review, reviewer)
    workflow.approve(refresh(in_review), by=reviewer, next_review_due_on=date(2027, 6, 1))
    article = refresh(in_review)
    revision = article.draft
    assert article.status == Status.APPROVED
    assert revision.approved_by == reviewer and revision.approved_at is not None
    assert revision.approved_hash == revision.compute_content_hash()
    assert revision.next_review_due_on == date(2027, 6, 1)
    assert LogEntry.objects.filter(object_id=str(article.pk), change_message__startswith="Approved")
    # The byline and dates patients see change only when this text goes live.
    assert article.reviewer is None and article.last_reviewed_on is None
    workflow.publish(article, by=reviewer)
    article = refresh(article)
    assert article.reviewer == reviewer
    assert article.last_reviewed_on == timezone.localdate()
    assert article.next_review_due_on == date(2027, 6, 1)


def test_approving_a_new_draft_leaves_the_live_byline_alone(client, make_article, make_reviewer):
    first, second = make_reviewer("first"), make_reviewer("second")
    article = make_article(reviewer=first)
    live_dates = (article.last_reviewed_on, article.next_review_due_on)
    workflow.save_draft(
        refresh(article),
        title="New",
        summary="s",
        body=article.live_revision.body,
        by=article.author,
    )
    workflow.submit_for_review(refresh(article), by=article.author)
    workflow.approve(refresh(article), by=second, next_review_due_on=date(2030, 1, 1))
    article = refresh(article)
    assert article.reviewer == first
    assert (article.last_reviewed_on, article.next_review_due_on) == live_dates
    html = client.get(article.get_absolute_url()).content.decode()
    assert first.reviewer_profile.display_name in html
    assert second.reviewer_profile.display_name not in html


def test_next_review_date_is_chosen_at_approval_and_checked(client, in_review, reviewer):
    review_everything(in_review, reviewer)
    client.force_login(reviewer)
    change_url = reverse("admin:articles_article_change", args=[in_review.pk])
    response = client.post(
        change_url, {"_transition_approve": "1", "next_review_due_on": "2020-01-01"}, follow=True
    )
    assert "next review date must be a future date" in response.content.decode()
    assert refresh(in_review).status == Status.IN_REVIEW
    client.post(change_url, {"_transition_approve": "1", "next_review_due_on": "2027-02-28"})
    assert refresh(in_review).draft.next_review_due_on == date(2027, 2, 28)


def test_default_next_review_is_twelve_months(in_review, reviewer):
    review_everything(in_review, reviewer)
    workflow.approve(refresh(in_review), by=reviewer)
    expected = timezone.localdate() + timedelta(days=365)
    assert refresh(in_review).draft.next_review_due_on == expected


def test_edit_to_published_article_stays_private_until_approved_and_published(
    client, make_article, reviewer
):
    article = make_article(title="Version one")
    url = article.get_absolute_url()
    first_claim = article.live_revision.claims.first()
    workflow.save_draft(
        refresh(article),
        title="Version two",
        summary="new",
        body=article.live_revision.body + "\n\nA new paragraph of plain text.",
        by=article.author,
    )
    assert "Version one" in client.get(url).content.decode()
    workflow.submit_for_review(refresh(article), by=article.author)
    assert "Version one" in client.get(url).content.decode()
    draft = refresh(article).draft
    # Unchanged claims kept their verdicts and certainty; nothing needs re-review.
    kept = draft.claims.get(text=first_claim.text)
    assert kept.certainty == first_claim.certainty
    assert all(citation.verdict == Verdict.SUPPORTS for citation in kept.citations.all())
    workflow.approve(refresh(article), by=reviewer)
    assert "Version one" in client.get(url).content.decode()
    workflow.publish(refresh(article), by=reviewer)
    html = client.get(url).content.decode()
    assert "Version two" in html and "Version one" not in html
    old = article.live_revision
    old.refresh_from_db()
    assert old.retired_at is not None


def test_changed_claim_needs_review_again(make_article, reviewer):
    article = make_article()
    study = Citation.objects.filter(claim__revision=article.live_revision).first().study
    workflow.save_draft(
        refresh(article),
        title="t",
        summary="s",
        body=f"A reworded and stronger claim [@{study.key}].",
        by=article.author,
    )
    citation = Citation.objects.get(claim__revision=refresh(article).draft)
    assert citation.verdict == "" and citation.claim.certainty == ""


def test_publish_refuses_text_changed_after_approval(make_article, reviewer):
    article = make_article(status="approved", reviewer=reviewer)
    revision = article.draft
    type(revision).objects.filter(pk=revision.pk).update(title="Sneaky new title")
    with pytest.raises(workflow.WorkflowRefused, match="differs from what was approved"):
        workflow.publish(refresh(article), by=reviewer)


def test_bulk_actions_apply_to_good_articles_and_name_the_failures(client, make_article, reviewer):
    good = [make_article(status="in_review", title=f"Good {n}") for n in range(3)]
    bad = make_article(status="in_review", title="Missing verdicts")
    for article in good:
        review_everything(refresh(article), reviewer)
    client.force_login(reviewer)
    messages = run_action(client, "approve", *good, bad)
    assert any(m.startswith("Approve: done for 3 article(s)") for m in messages)
    assert any(m.startswith("Approve refused for “Missing verdicts”") for m in messages)
    assert [refresh(a).status for a in good] == [Status.APPROVED] * 3
    assert refresh(bad).status == Status.IN_REVIEW
    messages = run_action(client, "publish", *good, bad)
    assert any(m.startswith("Publish: done for 3 article(s)") for m in messages)
    assert any("Only an approved revision can be published" in m for m in messages)


def test_request_changes_returns_to_author_with_comment(client, make_article, reviewer):
    article = make_article(status="in_review", title="Needs work")
    client.force_login(reviewer)
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    client.post(change_url, {"_transition_request_changes": "1", "comment": "Soften claim 2."})
    article = refresh(article)
    assert article.status == Status.CHANGES_REQUESTED
    client.force_login(article.author)
    html = client.get(change_url).content.decode()
    assert "Soften claim 2." in html
    # Editing creates a new draft revision; the reviewed one stays frozen.
    reviewed = article.draft
    workflow.save_draft(article, title="Better", summary="s", body="Plain.", by=article.author)
    article = refresh(article)
    assert article.status == Status.DRAFT and article.draft.number == reviewed.number + 1
    reviewed.refresh_from_db()
    assert reviewed.title == "Needs work"


def test_change_page_buttons_respect_roles(client, make_article, reviewer):
    article = make_article(status="draft")
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    client.force_login(reviewer)
    html = client.get(change_url).content.decode()
    assert "_transition_submit_for_review" not in html
    # A crafted POST is refused on the server, not just hidden.
    client.post(change_url, {"_transition_submit_for_review": "1"})
    assert refresh(article).status == Status.DRAFT
    client.force_login(article.author)
    assert "_transition_submit_for_review" in client.get(change_url).content.decode()
    response = client.post(change_url, {"_transition_submit_for_review": "1"}, follow=True)
    assert refresh(article).status == Status.IN_REVIEW
    assert "Submit for review: done for 1 article(s)" in response.content.decode()


def test_text_in_review_cannot_be_edited_in_place(client, make_article):
    article = make_article(status="in_review", title="Frozen")
    client.force_login(article.author)
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    response = client.post(
        change_url,
        {
            "title": "Changed",
            "slug": article.slug,
            "summary": "s",
            "body": "Plain.",
            "author": article.author.pk,
            "base_version": refresh(article).version,
        },
    )
    assert response.status_code == 403
    assert refresh(article).draft.title == "Frozen"


def test_concurrent_edit_is_refused_and_keeps_the_typed_text(client, make_article, make_user):
    article = make_article(status="draft", body="First line of the text.")
    other = make_user(groups=["Authors"])
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    started_at = refresh(article).version

    def form(body, version):
        return {
            "title": "Same title",
            "slug": article.slug,
            "summary": "s",
            "body": body,
            "author": article.author.pk,
            "base_version": version,
        }

    client.force_login(other)
    assert client.post(change_url, form("Their edit.", started_at)).status_code == 302
    client.force_login(article.author)
    response = client.post(change_url, form("My careful edit.", started_at))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this article while you were editing it" in html
    assert "My careful edit." in html  # the typed text is still in the form
    assert "-Their edit." in html and "+My careful edit." in html  # both sides shown
    assert refresh(article).draft.body == "Their edit."
    # Having seen the other changes, saving again (with the refreshed version) works.
    version = response.context["adminform"].form.data["base_version"]
    assert client.post(change_url, form("Merged edit.", version)).status_code == 302
    assert refresh(article).draft.body == "Merged edit."


def test_review_due_filters_and_reminders(client, make_article, reviewer):
    today = timezone.localdate()
    overdue = make_article(title="Old one", reviewer=reviewer)
    soon = make_article(title="Soon one", reviewer=reviewer)
    later = make_article(title="Later one", reviewer=reviewer)
    Article.objects.filter(pk=overdue.pk).update(next_review_due_on=today - timedelta(days=3))
    Article.objects.filter(pk=soon.pk).update(next_review_due_on=today + timedelta(days=10))
    Article.objects.filter(pk=later.pk).update(next_review_due_on=today + timedelta(days=200))
    client.force_login(reviewer)
    html = client.get(CHANGELIST, {"review": "overdue"}).content.decode()
    assert "Old one" in html and "Soon one" not in html
    html = client.get(CHANGELIST, {"review": "soon"}).content.decode()
    assert "Soon one" in html and "Old one" not in html and "Later one" not in html
    # Overdue articles stay visible to patients.
    assert client.get(overdue.get_absolute_url()).status_code == 200

    call_command("review_reminders")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [reviewer.email]
    assert "Old one" in mail.outbox[0].body and "Soon one" in mail.outbox[0].body
    assert "Later one" not in mail.outbox[0].body
    mail.outbox.clear()
    call_command("review_reminders", "--dry-run")
    assert mail.outbox == []


def test_author_cannot_set_the_reviewer_or_move_a_published_article(client, make_article):
    article = make_article(title="Live one")
    author = article.author
    client.force_login(author)
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    html = client.get(change_url).content.decode()
    assert 'name="reviewer"' not in html and 'name="slug"' not in html
    assert 'name="author"' not in html
    response = client.post(
        change_url,
        {
            "title": "Live one",
            "slug": "somewhere-else",
            "summary": "s",
            "body": article.live_revision.body,
            "reviewer": author.pk,
            "author": author.pk,
            "base_version": refresh(article).version,
        },
    )
    assert response.status_code == 302
    article = refresh(article)
    assert article.reviewer != author and article.slug != "somewhere-else"


def test_unpublishing_during_review_keeps_the_review_going(client, make_article, reviewer):
    article = make_article(reviewer=reviewer)
    workflow.save_draft(
        refresh(article),
        title="v2",
        summary="s",
        body=article.live_revision.body,
        by=article.author,
    )
    workflow.submit_for_review(refresh(article), by=article.author)
    workflow.unpublish(refresh(article), by=reviewer)
    article = refresh(article)
    assert article.status == Status.IN_REVIEW and not article.is_published()
    workflow.approve(article, by=reviewer)
    workflow.publish(refresh(article), by=reviewer)
    assert client.get(article.get_absolute_url()).status_code == 200


def test_a_stale_form_cannot_undo_a_submission(client, make_article):
    article = make_article(status="draft", title="Draft text")
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    started_at = refresh(article).version
    workflow.submit_for_review(refresh(article), by=article.author)
    client.force_login(article.author)
    # The text is frozen now, so the stale edit is refused outright.
    response = client.post(
        change_url,
        {
            "title": "Draft text",
            "slug": article.slug,
            "summary": "s",
            "body": "Changed.",
            "base_version": started_at,
        },
    )
    assert response.status_code == 403
    assert refresh(article).status == Status.IN_REVIEW
    assert refresh(article).draft.submitted_at is not None


def test_each_step_checks_with_coded_problems(make_article, reviewer):
    article = make_article(status="in_review")
    assert [p.code for p in workflow.APPROVE.check(article, article.author)] == ["permission"]
    codes = {p.code for p in workflow.APPROVE.check(article, reviewer)}
    assert {"unsupported_citation", "unrated_claim"} <= codes
    assert [p.code for p in workflow.PUBLISH.check(article, reviewer)] == ["state"]
    # The buttons ask the same check: approve stays offered while rules remain to fix.
    offered = [step.name for step in workflow.available_transitions(article, reviewer)]
    assert offered == ["request_changes", "approve"]
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.approve(article, by=reviewer)
    assert refused.value.codes == codes


def test_save_draft_takes_permission_and_refuses_frozen_text(make_article, make_user):
    article = make_article(status="draft")
    outsider = make_user(groups=["Clinical staff"])
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.save_draft(article, title="t", summary="s", body="Plain.", by=outsider)
    assert refused.value.codes == {"permission"}
    workflow.submit_for_review(article, by=article.author)
    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.save_draft(article, title="t", summary="s", body="Plain.", by=article.author)
    assert refused.value.codes == {"state"}
    assert refresh(article).draft.title == "Acupuncture and back pain"


def test_every_step_bumps_the_version_once(make_article, reviewer):
    article = make_article(status="in_review")
    before = refresh(article).version
    workflow.add_comment(article, body="Looks fine.", by=reviewer)
    workflow.request_changes(refresh(article), by=reviewer)
    assert refresh(article).version == before + 2

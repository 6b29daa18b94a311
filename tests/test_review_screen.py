"""The review screen in the admin, as each role: verdicts, certainty, linter dismissals,
comments, the approval checklist and the decision buttons."""

import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from articles import workflow
from articles.models import (
    CERTAINTY_WORDINGS,
    Certainty,
    Citation,
    Claim,
    ClaimKind,
    LintDismissal,
    ReviewComment,
    Status,
    Verdict,
)
from tests.conftest import refresh, review_post, review_url

pytestmark = pytest.mark.django_db

BODY = (
    "Acupuncture eased back pain at 8 weeks [@cherkin2009].\n\n"
    "Sham needling did about as well as real needling [@haake2007, table 2].\n\n"
    "Acupuncture cures back pain for most people.\n\n"
    "Call us to book your first session."
)
LINT_SENTENCE = "Acupuncture cures back pain for most people."


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def author(make_user):
    return make_user("writer", groups=["Authors"])


@pytest.fixture
def article(make_article, make_study, author):
    make_study("cherkin2009", finding="Needling beat usual care at 8 weeks, not at a year.")
    make_study("haake2007")
    return make_article(status="in_review", body=BODY, author=author)


def citations(article):
    return {
        citation.study.key: citation
        for citation in Citation.objects.filter(claim__revision=article.draft).select_related(
            "study"
        )
    }


def claims(article):
    return list(Claim.objects.filter(revision=article.draft).order_by("ordinal"))


def test_reviewer_sees_claims_beside_their_studies(client, reviewer, article):
    client.force_login(reviewer)
    response = client.get(review_url(article))
    assert response.status_code == 200
    page = text(response)
    assert "Acupuncture eased back pain at 8 weeks" in page
    assert "Needling beat usual care at 8 weeks, not at a year." in page  # the finding
    assert "Randomised controlled trial" in page
    assert "table 2" in page
    assert "Tester A, Example B." in page  # the AMA reference
    assert 'name="citation-0-verdict"' in page and 'name="citation-1-verdict_note"' in page
    assert 'name="claim-0-certainty"' in page and 'name="claim-1-wording_text"' in page
    assert LINT_SENTENCE in page
    assert "Call us to book" not in page  # a call to book is not a claim


def test_study_fields_are_escaped(client, reviewer, make_article, make_study):
    make_study("evil2020", finding="<script>alert(1)</script>", title="<b>Bold</b> title")
    article = make_article(status="in_review", body="Needles help back pain [@evil2020].")
    client.force_login(reviewer)
    content = client.get(review_url(article)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<b>Bold</b>" not in content


def test_retracted_study_is_flagged(client, reviewer, make_article, make_study):
    make_study("gone2019", is_retracted=True, retraction_note="Data fabricated.")
    article = make_article(status="in_review", body="Needles help back pain [@gone2019].")
    client.force_login(reviewer)
    page = text(client.get(review_url(article)))
    assert "Retracted study." in page and "Data fabricated." in page
    assert "It cites retracted studies: gone2019." in page


def test_reviewer_records_verdicts_and_certainty_in_one_post(client, reviewer, article):
    client.force_login(reviewer)
    response = review_post(
        client,
        article,
        {
            "cherkin2009": {"verdict": Verdict.SUPPORTS},
            "haake2007": {"verdict": Verdict.OVERSTATED, "verdict_note": "Only in the short term."},
            1: {
                "kind": ClaimKind.EFFECT,
                "certainty": Certainty.MODERATE,
                "wording": CERTAINTY_WORDINGS[0],
            },
            2: {
                "certainty": Certainty.LOW,
                "wording": CERTAINTY_WORDINGS[0],
                "wording_text": "only two small trials",
            },
        },
    )
    assert response.status_code == 200
    assert "Saved 4 change(s)" in text(response)
    cited = citations(article)
    assert cited["cherkin2009"].verdict == Verdict.SUPPORTS
    assert cited["cherkin2009"].verdict_by == reviewer and cited["cherkin2009"].verdict_at
    assert cited["haake2007"].verdict == Verdict.OVERSTATED
    assert cited["haake2007"].verdict_note == "Only in the short term."
    first, second = claims(article)
    assert (first.certainty, first.certainty_wording) == ("moderate", CERTAINTY_WORDINGS[0])
    # The reviewer's own words win over the list.
    assert (second.certainty, second.certainty_wording) == ("low", "only two small trials")


def test_resaving_unchanged_values_keeps_who_and_when(client, reviewer, make_reviewer, article):
    citation = citations(article)["cherkin2009"]
    workflow.record_verdict(citation, verdict=Verdict.SUPPORTS, by=reviewer)
    citation.refresh_from_db()
    other = make_reviewer("drkim")
    client.force_login(other)
    response = review_post(client, article, {"cherkin2009": {"verdict": Verdict.SUPPORTS}})
    assert "Nothing had changed" in text(response)
    unchanged = Citation.objects.get(pk=citation.pk)
    assert (unchanged.verdict_by, unchanged.verdict_at) == (reviewer, citation.verdict_at)


def assert_nothing_saved(article):
    assert not Citation.objects.filter(claim__revision=article.draft).exclude(verdict="").exists()
    assert not Claim.objects.filter(revision=article.draft).exclude(certainty="").exists()


@pytest.mark.parametrize(
    ("bad", "message", "code"),
    [
        (
            {"haake2007": {"verdict": "maybe"}},
            "Claim 2 → haake2007: “maybe” is not a verdict.",
            "invalid_choice",
        ),
        (
            {"haake2007": {"verdict": Verdict.DOES_NOT_SUPPORT}},
            "Claim 2 → haake2007: Say in a note why",
            "note_required",
        ),
        (
            {1: {"certainty": "certain"}},
            "Claim 1: “certain” is not a GRADE certainty.",
            "invalid_choice",
        ),
        (
            {1: {"wording": "works wonders"}},
            "Claim 1: “works wonders” is not one of the wordings.",
            "invalid_choice",
        ),
        (
            {2: {"wording_text": "only two trials"}},
            "Claim 2: Choose a certainty",
            "wording_without_certainty",
        ),
        (
            {"haake2007": {"verdict": "", "verdict_note": "A note alone"}},
            "Claim 2 → haake2007: Choose a verdict",
            "note_without_verdict",
        ),
    ],
)
@pytest.mark.parametrize("button", [{"_save_review": "Save"}, {"_transition": "approve"}])
def test_invalid_post_saves_nothing_and_keeps_everything_typed(
    client, reviewer, article, bad, message, code, button
):
    changes = {
        "cherkin2009": {
            "verdict": Verdict.OVERSTATED,
            "verdict_note": "Typed with care: benefit faded by 12 months.",
        },
        "haake2007": {"verdict": Verdict.SUPPORTS},
        1: {"certainty": Certainty.HIGH},
    }
    for row, fields in bad.items():
        changes[row] = {**changes.get(row, {}), **fields}
    client.force_login(reviewer)
    response = review_post(client, article, changes, **button, comment="Typed decision note")
    assert response.status_code == 400
    page = text(response)
    assert "Nothing was saved" in page
    assert message in page
    assert "Typed with care: benefit faded by 12 months." in page
    assert "Typed decision note" in page
    forms = response.context["forms"]
    codes = {
        error.code
        for formset in (forms.citations, forms.claims)
        for form in formset
        for errors in form.errors.as_data().values()
        for error in errors
    }
    assert code in codes
    assert_nothing_saved(article)
    assert refresh(article).status == Status.IN_REVIEW


def test_citation_of_another_article_is_refused(client, reviewer, article, make_article):
    other = make_article(status="in_review")
    foreign = Citation.objects.filter(claim__revision=other.draft).first()
    client.force_login(reviewer)
    forms = client.get(review_url(article)).context["forms"]
    data = {
        "citation-TOTAL_FORMS": "1",
        "citation-INITIAL_FORMS": "1",
        "citation-0-id": str(foreign.pk),
        "citation-0-verdict": Verdict.SUPPORTS,
        "claim-TOTAL_FORMS": "0",
        "claim-INITIAL_FORMS": "0",
        "_save_review": "Save",
    }
    assert forms is not None
    response = client.post(review_url(article), data)
    assert response.status_code == 400
    assert "not in the revision under review" in text(response)
    assert_nothing_saved(article)
    assert Citation.objects.get(pk=foreign.pk).verdict == ""


def test_a_recorded_verdict_cannot_be_blanked(client, reviewer, article):
    citation = citations(article)["cherkin2009"]
    workflow.record_verdict(citation, verdict=Verdict.SUPPORTS, by=reviewer)
    client.force_login(reviewer)
    response = review_post(client, article, {"cherkin2009": {"verdict": ""}})
    assert response.status_code == 400
    assert "A recorded verdict cannot be cleared" in text(response)
    assert Citation.objects.get(pk=citation.pk).verdict == Verdict.SUPPORTS


def test_every_button_saves_what_was_typed_first(client, reviewer, article):
    [finding] = workflow.open_lint_findings(article)
    client.force_login(reviewer)
    response = review_post(
        client,
        article,
        {"cherkin2009": {"verdict": Verdict.SUPPORTS}, 1: {"certainty": Certainty.LOW}},
        _dismiss=finding.fingerprint,
        **{f"reason-{finding.fingerprint}": "A patient's words"},
    )
    assert "Saved 2 change(s)" in text(response)
    assert citations(article)["cherkin2009"].verdict == Verdict.SUPPORTS
    assert claims(article)[0].certainty == Certainty.LOW
    assert LintDismissal.objects.get(article=article).reason == "A patient's words"
    # Approve saves first too, then is refused for what is still missing, keeping the note.
    response = review_post(
        client,
        article,
        {"haake2007": {"verdict": Verdict.SUPPORTS}},
        _transition="approve",
        comment="Kept for later",
    )
    page = text(response)
    assert "Saved 1 change(s)" in page and "Approve refused" in page
    assert "Kept for later" in page
    assert citations(article)["haake2007"].verdict == Verdict.SUPPORTS


def test_verdicts_cannot_be_saved_once_the_article_left_review(client, reviewer, article):
    workflow.request_changes(article, by=reviewer)
    citation = citations(article)["cherkin2009"]
    client.force_login(reviewer)
    response = client.post(
        review_url(article),
        {
            "citation-TOTAL_FORMS": "1",
            "citation-INITIAL_FORMS": "1",
            "citation-0-id": str(citation.pk),
            "citation-0-verdict": Verdict.SUPPORTS,
            "_save_review": "Save",
        },
        follow=True,
    )
    assert "Nothing was saved" in text(response) and "is not in review" in text(response)
    assert Citation.objects.get(pk=citation.pk).verdict == ""


def test_reviewer_dismisses_a_linter_warning_with_who_and_when(client, reviewer, article):
    [finding] = workflow.open_lint_findings(article)
    client.force_login(reviewer)
    response = client.post(
        review_url(article),
        {
            "_dismiss": finding.fingerprint,
            f"reason-{finding.fingerprint}": "Quoted from a patient's story",
        },
        follow=True,
    )
    dismissal = LintDismissal.objects.get(article=article)
    assert dismissal.dismissed_by == reviewer and dismissal.dismissed_at
    assert dismissal.reason == "Quoted from a patient's story"
    page = text(response)
    assert f"Recorded as not a claim: “{LINT_SENTENCE}”" in page
    assert "dismissed by Drlee Tester on" in page
    assert workflow.open_lint_findings(refresh(article)) == []


def test_dismissing_an_unknown_warning_is_refused(client, reviewer, article):
    client.force_login(reviewer)
    response = client.post(review_url(article), {"_dismiss": "0" * 16}, follow=True)
    assert "That warning is not on the revision under review." in text(response)
    assert not LintDismissal.objects.exists()


def test_reviewer_comments_on_the_article(client, reviewer, article):
    client.force_login(reviewer)
    response = client.post(
        review_url(article), {"_comment": "Add", "body": "Please cite the 2017 guideline."}
    )
    assert response.status_code == 302
    comment = ReviewComment.objects.get(article=article)
    assert (comment.author, comment.body) == (reviewer, "Please cite the 2017 guideline.")
    assert "Please cite the 2017 guideline." in text(client.get(review_url(article)))


def test_empty_comment_is_refused(client, reviewer, article):
    client.force_login(reviewer)
    response = client.post(review_url(article), {"_comment": "Add", "body": "  "}, follow=True)
    assert "A comment cannot be empty." in text(response)
    assert not ReviewComment.objects.exists()


def test_author_reads_the_review_but_cannot_post(client, author, article):
    client.force_login(author)
    response = client.get(review_url(article))
    assert response.status_code == 200
    page = text(response)
    assert "Acupuncture eased back pain" in page
    assert 'name="citation-0-verdict' not in page and "_transition" not in page
    citation = citations(article)["cherkin2009"]
    for data in [
        {
            "citation-TOTAL_FORMS": "1",
            "citation-INITIAL_FORMS": "1",
            "citation-0-id": str(citation.pk),
            "citation-0-verdict": Verdict.SUPPORTS,
            "_save_review": "Save",
        },
        {"_dismiss": workflow.open_lint_findings(article)[0].fingerprint},
        {"_comment": "Add", "body": "I approve of myself"},
        {"_transition": "approve"},
        {"_transition": "request_changes"},
    ]:
        assert client.post(review_url(article), data).status_code == 403
    assert_nothing_saved(article)
    assert refresh(article).status == Status.IN_REVIEW
    assert not ReviewComment.objects.exists() and not LintDismissal.objects.exists()


def test_author_sees_verdicts_and_comments_after_changes_are_requested(
    client, reviewer, author, article
):
    client.force_login(reviewer)
    review_post(
        client,
        article,
        {"haake2007": {"verdict": Verdict.OVERSTATED, "verdict_note": "Sham did as well; say so."}},
    )
    response = client.post(
        review_url(article),
        {"_transition": "request_changes", "comment": "Reword claim 2, please."},
        follow=True,
    )
    assert "Request changes: done for 1 article(s)" in text(response)
    assert refresh(article).status == Status.CHANGES_REQUESTED

    client.force_login(author)
    page = text(client.get(review_url(article)))
    assert "Claim overstates the study" in page
    assert "Sham did as well; say so." in page
    assert "by Drlee Tester" in page
    assert "Reword claim 2, please." in page
    assert "read-only" in page


def test_checklist_lists_each_failing_rule(client, reviewer, article):
    client.force_login(reviewer)
    page = text(client.get(review_url(article)))
    assert "Approval is blocked by 3 problems" in page
    assert "2 citation(s) lack a “supports” verdict" in page
    assert "Claim(s) 1, 2 have no certainty rating." in page
    assert f"1 linter warning(s) are neither cited nor dismissed, e.g. “{LINT_SENTENCE}”." in page


def test_checklist_for_an_author_leaves_out_checks_about_the_approver(client, author, article):
    client.force_login(author)
    page = text(client.get(review_url(article)))
    assert "have no certainty rating" in page
    assert "cannot approve an article they wrote" not in page
    assert "You have no reviewer profile" not in page


def test_checklist_shows_self_review(client, make_reviewer, make_article, make_user):
    reviewer = make_reviewer("drown")
    reviewer.groups.add(*make_user(groups=["Authors"]).groups.all())
    article = make_article(status="in_review", author=reviewer)
    client.force_login(reviewer)
    assert "A reviewer cannot approve an article they wrote." in text(
        client.get(review_url(article))
    )


def test_approve_refuses_until_every_rule_passes_then_succeeds(client, reviewer, article):
    client.force_login(reviewer)
    response = client.post(review_url(article), {"_transition": "approve"}, follow=True)
    page = text(response)
    assert "Approve refused for “Acupuncture and back pain”:" in page
    assert "lack a “supports” verdict" in page
    assert "have no certainty rating" in page
    assert "linter warning(s) are neither cited nor dismissed" in page
    assert refresh(article).status == Status.IN_REVIEW

    review_post(
        client,
        article,
        {
            "cherkin2009": {"verdict": Verdict.SUPPORTS},
            "haake2007": {"verdict": Verdict.SUPPORTS},
            1: {
                "kind": ClaimKind.EFFECT,
                "certainty": Certainty.MODERATE,
                "wording": CERTAINTY_WORDINGS[0],
            },
            2: {"certainty": Certainty.LOW, "wording": "results differ between studies"},
        },
    )
    page = text(client.post(review_url(article), {"_transition": "approve"}, follow=True))
    assert "Approve refused" in page and "linter warning(s)" in page
    assert "have no certainty rating" not in page

    [finding] = workflow.open_lint_findings(article)
    client.post(review_url(article), {"_dismiss": finding.fingerprint})
    assert "Nothing blocks approval by you." in text(client.get(review_url(article)))
    page = text(client.post(review_url(article), {"_transition": "approve"}, follow=True))
    assert "Approve: done for 1 article(s)" in page
    approved = refresh(article)
    assert approved.status == Status.APPROVED
    assert approved.draft.approved_by == reviewer
    assert approved.draft.approved_hash == approved.draft.content_hash
    assert LogEntry.objects.filter(object_id=str(article.pk), user=reviewer).exists()


def test_unknown_transition_changes_nothing(client, reviewer, article):
    client.force_login(reviewer)
    response = client.post(review_url(article), {"_transition": "publish"}, follow=True)
    assert "was not understood" in text(response)
    assert refresh(article).status == Status.IN_REVIEW


def test_review_posts_need_a_csrf_token(reviewer, article):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    response = client.post(review_url(article), {"_comment": "Add", "body": "Hello"})
    assert response.status_code == 403
    assert not ReviewComment.objects.exists()


def test_published_article_shows_the_live_revision_read_only(client, reviewer, make_article):
    article = make_article(status="published")
    client.force_login(reviewer)
    response = client.get(review_url(article))
    assert response.status_code == 200
    page = text(response)
    assert f"Revision {article.live_revision.number}" in page
    assert "Supports the claim" in page
    assert 'name="citation-0-verdict' not in page


def test_review_screen_queries_do_not_grow_with_citations(
    client, reviewer, make_article, django_assert_max_num_queries
):
    article = make_article(status="in_review", citations=30)
    client.force_login(reviewer)
    client.get(review_url(article))  # warm caches that are not per request
    # 26: one of them finds systematic reviews that include the cited trials (freshness hints).
    with django_assert_max_num_queries(26):
        response = client.get(review_url(article))
    assert response.status_code == 200
    assert len(re.findall(r'name="citation-\d+-verdict"', text(response))) == 30


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def test_reviewer_notes_reach_the_author_and_survive_a_new_draft(client, reviewer, author, article):
    workflow.record_verdict(
        citations(article)["haake2007"],
        verdict=Verdict.OVERSTATED,
        note="Sham did as well; say so.",
        by=reviewer,
    )
    workflow.request_changes(article, by=reviewer, comment="Reword claim 2, please.")
    client.force_login(author)
    page = text(client.get(change_url(article)))
    assert "Sham did as well; say so." in page and "Reword claim 2, please." in page
    # The author rewords claim 2 and saves a new draft: the notes stay beside it.
    body = BODY.replace("did about as well as real needling", "matched real needling")
    workflow.save_draft(refresh(article), title="t", summary="s", body=body, by=author)
    page = text(client.get(change_url(article)))
    assert "matched real needling" in page
    assert "Sham did as well; say so." in page and "Reword claim 2, please." in page
    # Until the next review starts.
    workflow.submit_for_review(refresh(article), by=author)
    page = text(client.get(change_url(article)))
    assert "Sham did as well; say so." not in page and "Reword claim 2, please." not in page

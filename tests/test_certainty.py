"""Honest certainty: wordings offered and accepted only where they fit the claim and its studies."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from articles import workflow
from articles.certainty import (
    FEW_PATIENTS_BELOW,
    WORDINGS,
    StudyFacts,
    wording_choices,
    wording_problem,
)
from articles.models import Certainty, ClaimKind, Study, StudyType
from tests.conftest import refresh, review_post

SHAM = "real and sham acupuncture did about as well"
FEW = "based on few patients"
SMALL = "small benefit on average"
GUIDELINES = "guidelines disagree"


def offered(studies, kind):
    return [value for value, _label in wording_choices(studies, kind)]


def test_sham_wording_only_where_a_study_compared_with_sham():
    assert SHAM not in offered([StudyFacts("rct", 262, sham_controlled=False)], "effect")
    assert SHAM not in offered([StudyFacts("rct", 262, sham_controlled=None)], "effect")
    assert SHAM in offered([StudyFacts("rct", 638, sham_controlled=True)], "effect")


def test_few_patients_only_below_the_threshold_and_when_known():
    assert FEW in offered([StudyFacts("case_series", 1)], "safety")
    assert FEW not in offered([StudyFacts("cohort", 229_230)], "safety")
    assert FEW not in offered([StudyFacts("cohort", None)], "safety")
    # Counted across every cited study, and an unknown count rules it out.
    assert FEW not in offered([StudyFacts("rct", 60), StudyFacts("rct", 60)], "effect")
    assert FEW not in offered([StudyFacts("rct", 10), StudyFacts("agency")], "effect")


def test_small_benefit_never_on_safety_claims():
    trial = [StudyFacts("rct", 500, sham_controlled=True)]
    assert SMALL in offered(trial, "effect")
    assert SMALL not in offered(trial, "safety")
    assert "serious harms are rare" in offered(trial, "safety")
    assert "serious harms are rare" not in offered(trial, "effect")


def test_kind_specific_wordings_need_a_kind():
    trial = [StudyFacts("rct", 500, sham_controlled=True)]
    assert SMALL not in offered(trial, "")
    assert "results differ between studies" in offered(trial, "")
    assert "needs the claim's kind" in wording_problem(SMALL, trial, "")


def test_guidelines_disagree_needs_a_guideline():
    assert GUIDELINES not in offered([StudyFacts("agency")], "other")
    assert GUIDELINES in offered([StudyFacts("guideline"), StudyFacts("agency")], "other")


def test_own_words_that_repeat_a_listed_wording_meet_its_conditions():
    big = [StudyFacts("cohort", 229_230)]
    assert wording_problem("  Based on FEW   patients ", big, "safety")
    assert (
        wording_problem("about 2 in 100 needed treatment for a side effect", big, "safety") is None
    )


facts = st.builds(
    StudyFacts,
    study_type=st.sampled_from(StudyType.values),
    participants=st.none() | st.integers(min_value=1, max_value=300_000),
    sham_controlled=st.none() | st.booleans(),
    stated_grade=st.sampled_from(["", "high", "moderate", "low", "very_low"]),
)


@settings(max_examples=80, deadline=None)
@given(studies=st.lists(facts, min_size=1, max_size=4), kind=st.sampled_from(["", *ClaimKind]))
def test_offered_exactly_when_accepted(studies, kind):
    choices = offered(studies, kind)
    for wording in WORDINGS:
        assert (wording.text in choices) == (wording_problem(wording.text, studies, kind) is None)
    if FEW in choices:
        assert sum(study.participants for study in studies) < FEW_PATIENTS_BELOW
    if SHAM in choices:
        assert kind == "effect" and any(study.sham_controlled for study in studies)


# Database: validation on save and the review screen --------------------------------------


@pytest.fixture
def in_review(make_article, make_study):
    make_study("witt2009", study_type=StudyType.COHORT, participants=229_230)
    make_study(
        "mu2020",
        study_type=StudyType.SYSTEMATIC_REVIEW,
        participants=8270,
        sham_controlled=True,
        stated_grade="low",
    )
    return make_article(
        status="in_review",
        body="Serious harms were rare in a big survey [@witt2009].\n\n"
        "Acupuncture helped a little more than sham [@mu2020].",
    )


def claims_of(article):
    return list(refresh(article).draft.claims.order_by("ordinal"))


@pytest.mark.django_db
def test_set_certainty_refuses_a_wording_that_does_not_fit(in_review, reviewer):
    safety, effect = claims_of(in_review)
    with pytest.raises(workflow.WorkflowRefused, match="do not all give a number of participants"):
        workflow.set_certainty(
            safety, certainty=Certainty.LOW, wording=FEW, kind=ClaimKind.SAFETY, by=reviewer
        )
    with pytest.raises(workflow.WorkflowRefused, match="must be about an effect"):
        workflow.set_certainty(
            safety, certainty=Certainty.LOW, wording=SMALL, kind=ClaimKind.SAFETY, by=reviewer
        )
    workflow.set_certainty(
        effect, certainty=Certainty.LOW, wording=SHAM, kind=ClaimKind.EFFECT, by=reviewer
    )
    effect.refresh_from_db()
    assert (effect.kind, effect.certainty, effect.certainty_wording) == ("effect", "low", SHAM)


@pytest.mark.django_db
def test_a_wording_carried_into_a_new_revision_is_judged_again_at_approval(
    make_article, make_study, make_user, reviewer
):
    make_study("small2019", participants=40)
    author = make_user("writer", groups=["Authors"])
    article = make_article(body="Needling eased pain [@small2019].", author=author)
    [claim] = refresh(article).live_revision.claims.all()
    # The live revision says "based on few patients", which fits a study of 40 people.
    claim.kind, claim.certainty, claim.certainty_wording = ClaimKind.EFFECT, Certainty.LOW, FEW
    claim.full_clean()
    claim.save()
    # A correction: the study had 4,000 participants. The next revision carries the wording.
    Study.objects.filter(key="small2019").update(participants=4000)
    live = refresh(article).live_revision
    workflow.save_draft(
        refresh(article), title=live.title, summary=live.summary, body=live.body, by=author
    )
    workflow.submit_for_review(refresh(article), by=author)
    [carried] = refresh(article).draft.claims.all()
    assert carried.certainty_wording == FEW
    for citation in carried.citations.all():
        workflow.record_verdict(citation, verdict="supports", by=reviewer)

    problems = workflow.APPROVE.check(refresh(article), reviewer)
    [unfit] = [problem for problem in problems if problem.code == "unfit_wording"]
    assert unfit.message.startswith(
        f"Choose the patient wording of claim(s) 1 again: “{FEW}” does not fit this claim:"
    )
    with pytest.raises(workflow.WorkflowRefused, match="Choose the patient wording"):
        workflow.approve(refresh(article), by=reviewer)
    workflow.set_certainty(carried, certainty=Certainty.LOW, wording="", by=reviewer)
    workflow.approve(refresh(article), by=reviewer)


@pytest.mark.django_db
def test_review_screen_offers_fitting_wordings_and_shows_stated_grade(client, in_review, reviewer):
    safety, effect = claims_of(in_review)
    client.force_login(reviewer)
    page = client.get(reverse("admin:articles_article_review", args=[in_review.pk]))
    html = page.content.decode()

    prefixes = {form.instance.pk: form.prefix for form in page.context["forms"].claims}

    def options(claim):
        name = f"{prefixes[claim.pk]}-wording"
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
        return re.findall(r'<option value="([^"]+)"', select.group(0))

    assert FEW not in options(safety) and SHAM not in options(safety)
    assert "serious harms are rare" in options(safety)
    assert SHAM in options(effect) and SMALL in options(effect)
    assert "mu2020: Low" in html  # the review's own GRADE rating, beside the reviewer's choice


@pytest.mark.django_db
def test_review_screen_post_with_an_unfit_wording_saves_nothing(client, in_review, reviewer):
    safety, _effect = claims_of(in_review)
    client.force_login(reviewer)
    response = review_post(
        client,
        in_review,
        {
            safety.ordinal: {
                "kind": ClaimKind.SAFETY,
                "certainty": Certainty.MODERATE,
                "wording": SMALL,
            }
        },
    )
    assert response.status_code == 400
    assert "must be about an effect" in response.content.decode()
    safety.refresh_from_db()
    assert (safety.kind, safety.certainty, safety.certainty_wording) == ("", "", "")


@pytest.mark.django_db
def test_stated_grade_only_for_reviews_and_guidelines(make_study):
    study = make_study(study_type=StudyType.RCT)
    study.stated_grade = "low"
    with pytest.raises(ValidationError) as error:
        study.full_clean()
    assert error.value.error_dict["stated_grade"][0].code == "grade_needs_review"
    assert not Study.objects.filter(stated_grade="low").exists()

"""Demo certainty ratings agree with the facts of the studies each claim cites (no database)."""

import pytest

from articles.body import parse
from articles.certainty import StudyFacts, wording_problem
from articles.demo_content import certainty_for, load_articles, load_certainty, load_studies

GRADE_ORDER = ["very_low", "low", "moderate", "high"]
RATED_STATUSES = {"published", "in_review"}


@pytest.fixture(scope="module")
def facts():
    return {
        study["key"]: StudyFacts(
            study_type=study["study_type"],
            participants=study["participants"],
            sham_controlled=study["sham_controlled"],
            stated_grade=study["stated_grade"],
        )
        for study in load_studies()
    }


def rated_claims():
    """(article slug, status, claim) for every claim a demo reviewer rates."""
    return [
        (article["slug"], article["status"], claim)
        for article in load_articles()
        if article["status"] in RATED_STATUSES
        for claim in parse(article["body"]).claims
    ]


def test_every_published_claim_has_exactly_one_rating():
    ratings = load_certainty()
    for slug, status, claim in rated_claims():
        matches = [r for r in ratings if r["article"] == slug and r["claim_contains"] in claim.text]
        if status == "published":
            assert len(matches) == 1, (slug, claim.text)
        else:
            assert len(matches) <= 1, (slug, claim.text)


def test_every_rating_belongs_to_a_claim():
    claims = rated_claims()
    for rating in load_certainty():
        assert any(
            slug == rating["article"] and rating["claim_contains"] in claim.text
            for slug, _status, claim in claims
        ), rating


def test_each_wording_fits_the_claim_and_its_studies(facts):
    ratings = load_certainty()
    checked = 0
    for slug, _status, claim in rated_claims():
        rating = certainty_for(slug, claim.text, ratings)
        if rating is None:
            continue
        studies = [facts[key] for key in claim.keys]
        problem = wording_problem(rating["wording"], studies, rating["kind"])
        assert problem is None, (slug, claim.text, problem)
        checked += 1
    assert checked >= 90


def test_certainty_never_above_what_a_cited_review_or_guideline_states(facts):
    ratings = load_certainty()
    for slug, _status, claim in rated_claims():
        rating = certainty_for(slug, claim.text, ratings)
        stated = [facts[key].stated_grade for key in claim.keys if facts[key].stated_grade]
        if rating is None or not stated:
            continue
        ceiling = max(GRADE_ORDER.index(grade) for grade in stated)
        assert GRADE_ORDER.index(rating["certainty"]) <= ceiling, (slug, claim.text)


def test_the_contradictions_once_published_are_gone(facts):
    """The four statements the evidence contradicted (issue 7) appear nowhere."""
    ratings = load_certainty()
    for slug, _status, claim in rated_claims():
        rating = certainty_for(slug, claim.text, ratings)
        if rating is None:
            continue
        studies = [facts[key] for key in claim.keys]
        wording = rating["wording"]
        if wording == "based on few patients":
            assert all(s.participants is not None and s.participants < 100 for s in studies)
        if wording == "real and sham acupuncture did about as well":
            assert any(s.sham_controlled for s in studies), claim.text
        if wording == "small benefit on average":
            assert rating["kind"] == "effect", claim.text
        if "mu2020" in claim.keys:
            assert rating["certainty"] in ("low", "very_low"), claim.text


def test_main_evidence_article_states_the_nice_acp_disagreement():
    [article] = [a for a in load_articles() if a["slug"] == "acupuncture-back-pain-evidence"]
    section = article["body"].split("## Guidelines disagree", 1)[1].split("\n## ", 1)[0]
    assert "2016" in section and "2017" in section
    assert "should not be offered" in section and "first treatments to try" in section
    cited = {key for claim in parse(section).claims for key in claim.keys}
    assert {"nice2016", "qaseem2017"} <= cited

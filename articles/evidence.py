"""How an article's citations become its numbered reference list and its evidence summary."""

from dataclasses import dataclass, field

from .models import WEAKER_STUDY_TYPES, Claim, Study, StudyType


@dataclass
class Reference:
    """One entry of an article's reference list, numbered by first appearance in the body."""

    number: int
    study: Study
    locators: list[str] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    # Anchor ids of the places in the text that cite it (set by the page, see navigation.py).
    cited_at: tuple[str, ...] = ()

    @property
    def certainty_statements(self):
        """The reviewer's certainty ratings for the claims citing this study, without repeats:
        e.g. 'Moderate certainty: short-term relief only'."""
        statements = []
        for claim in self.claims:
            if not claim.certainty:
                continue
            statement = claim.get_certainty_display()
            if claim.certainty_wording:
                statement += f": {claim.certainty_wording}"
            if statement not in statements:
                statements.append(statement)
        return statements


def build_references(citations):
    """Number the studies cited, in the order of `citations` (claim order, then position).

    The body renderer numbers keys by first appearance too, so the numbers match its links.
    """
    references = {}
    for citation in citations:
        reference = references.get(citation.study_id)
        if reference is None:
            # The study as the revision was reviewed, not as the library reads today.
            reference = references[citation.study_id] = Reference(
                number=len(references) + 1, study=citation.study_as_reviewed()
            )
        if citation.locator and citation.locator not in reference.locators:
            reference.locators.append(citation.locator)
        if citation.claim not in reference.claims:
            reference.claims.append(citation.claim)
    return list(references.values())


def retracted_references(references):
    """References to studies retracted since the revision was reviewed: patients are told
    until the article is re-reviewed (which cannot approve a retracted study)."""
    return [reference for reference in references if reference.study.is_retracted]


@dataclass
class EvidenceSummary:
    """Counts behind an article's claims, for a plain-words summary."""

    claims: int
    guidelines: int
    reviews: int
    trials: int
    weaker: int

    @property
    def sentence(self):
        """E.g. 'This article makes 8 health claims, resting on 2 clinical guidelines, ...'."""
        if not self.claims:
            return "This article makes no health claims that need a study behind them."
        parts = [
            _count(self.guidelines, "clinical guideline", "clinical guidelines"),
            _count(self.reviews, "systematic review", "systematic reviews"),
            _count(self.trials, "randomised trial", "randomised trials"),
            _count(
                self.weaker,
                "weaker source (an observational study, survey, agency statement or opinion)",
                "weaker sources (observational studies, surveys, agency statements or opinion)",
            ),
        ]
        parts = [part for part in parts if part]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        claims = _count(self.claims, "health claim", "health claims")
        return f"This article makes {claims}, resting on {listed}."


def _count(number, singular, plural):
    if not number:
        return ""
    return f"{number} {singular if number == 1 else plural}"


def summarise(references):
    """Summarise the kinds of study behind the claims of one article."""
    studies = [reference.study for reference in references]
    claim_ids = {claim.pk for reference in references for claim in reference.claims}
    return EvidenceSummary(
        claims=len(claim_ids),
        guidelines=sum(study.study_type == StudyType.GUIDELINE for study in studies),
        reviews=sum(study.study_type == StudyType.SYSTEMATIC_REVIEW for study in studies),
        trials=sum(study.study_type == StudyType.RCT for study in studies),
        weaker=sum(study.study_type in WEAKER_STUDY_TYPES for study in studies),
    )

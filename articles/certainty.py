"""Which plain wordings of a claim's certainty fit the claim and the studies behind it.

A reviewer rates each claim's certainty (GRADE) and may add a short wording patients read
beside the reference, e.g. "Moderate certainty: short-term relief only". A wording is a
statement of fact about the evidence, so it must be true of the studies cited:

- "real and sham acupuncture did about as well" only where a cited study compared with sham;
- "based on few patients" only where every cited study says how many took part and together
  they had fewer than FEW_PATIENTS_BELOW;
- "guidelines disagree" only where a guideline is cited;
- wordings about benefit only for claims about a treatment's effect, and "serious harms are
  rare" only for claims about safety.

Pure: it reads `StudyFacts`, never the database, so the review screen, `Claim.clean()` and the
tests share one rule. Nothing here picks a certainty: that is the reviewer's judgement.
"""

from dataclasses import dataclass

# Fewer people than this across the cited studies is "few patients": below about 100, one
# trial's result can swing on a handful of people, and GRADE usually rates down for
# imprecision.
FEW_PATIENTS_BELOW = 100

EFFECT, SAFETY, OTHER = "effect", "safety", "other"
ANY_KIND = frozenset({EFFECT, SAFETY, OTHER})


@dataclass(frozen=True)
class StudyFacts:
    """What the wording rules need to know about one cited study."""

    study_type: str
    participants: int | None = None
    sham_controlled: bool | None = None
    stated_grade: str = ""


@dataclass(frozen=True)
class Wording:
    text: str
    kinds: frozenset = ANY_KIND  # fits a claim of any kind, or of none said yet
    needs: str = ""  # "sham", "few", "guideline" or "" (no condition on the studies)
    why_not: str = ""


WORDINGS = [
    Wording(
        "short-term relief only",
        kinds=frozenset({EFFECT}),
        why_not="it describes a treatment's benefit, so the claim must be about an effect",
    ),
    Wording(
        "small benefit on average",
        kinds=frozenset({EFFECT}),
        why_not="it describes a treatment's benefit, so the claim must be about an effect",
    ),
    Wording(
        "benefit lasted at least a year",
        kinds=frozenset({EFFECT}),
        why_not="it describes a treatment's benefit, so the claim must be about an effect",
    ),
    Wording(
        "real and sham acupuncture did about as well",
        kinds=frozenset({EFFECT}),
        needs="sham",
        why_not="no cited study compared real with sham treatment",
    ),
    Wording("results differ between studies"),
    Wording(
        "based on few patients",
        needs="few",
        why_not=(
            f"the cited studies do not all give a number of participants under "
            f"{FEW_PATIENTS_BELOW} together"
        ),
    ),
    Wording(
        "serious harms are rare",
        kinds=frozenset({SAFETY}),
        why_not="it is about harms, so the claim must be about safety",
    ),
    Wording(
        "guidelines disagree",
        needs="guideline",
        why_not="the claim cites no clinical guideline",
    ),
]
BY_TEXT = {wording.text: wording for wording in WORDINGS}


def _condition_met(needs: str, studies: list[StudyFacts]) -> bool:
    if needs == "sham":
        return any(study.sham_controlled for study in studies)
    if needs == "few":
        counts = [study.participants for study in studies]
        known = [count for count in counts if count is not None]
        # Every count must be known: an unknown size could be large.
        return bool(counts) and len(known) == len(counts) and sum(known) < FEW_PATIENTS_BELOW
    if needs == "guideline":
        return any(study.study_type == "guideline" for study in studies)
    return True


def wording_problem(text: str, studies: list[StudyFacts], kind: str) -> str | None:
    """Why `text` does not fit a claim of `kind` citing `studies`, or None if it fits.

    A reviewer's own words are free, except that typing a listed wording by hand meets the
    same conditions as choosing it.
    """
    wording = BY_TEXT.get(" ".join(text.split()).casefold())
    if wording is None:
        return None
    if wording.kinds != ANY_KIND and kind not in wording.kinds:
        if not kind:
            return f"“{wording.text}” needs the claim's kind: choose what the claim is about."
        return f"“{wording.text}” does not fit this claim: {wording.why_not}."
    if not _condition_met(wording.needs, studies):
        return f"“{wording.text}” does not fit this claim: {wording.why_not}."
    return None


def wording_choices(studies: list[StudyFacts], kind: str) -> list[tuple[str, str]]:
    """The listed wordings a reviewer may choose for a claim of `kind` citing `studies`."""
    return [
        (wording.text, wording.text)
        for wording in WORDINGS
        if wording_problem(wording.text, studies, kind) is None
    ]


def facts_of(studies) -> list[StudyFacts]:
    """StudyFacts for Study rows (or anything with the same attributes)."""
    return [
        StudyFacts(
            study_type=str(study.study_type),
            participants=study.participants,
            sham_controlled=study.sham_controlled,
            stated_grade=study.stated_grade,
        )
        for study in studies
    ]

"""Freshness hints for the review screen: reasons a cited study may be out of date.

Hints, not gate rules: they never block approval. Only what the library records is used:

- a guideline published more than `GUIDELINE_MAX_AGE_YEARS` years ago (by publication year);
- a trial that a systematic review in the library includes (staff list a review's included
  studies on the review's entry) where the review was published later: the newer synthesis
  may be the better source.

The library cannot know about reviews it does not hold, or that a review includes a trial
unless staff say so; no hint means nothing was detected, not that the study is current.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from .models import Study, StudyType

GUIDELINE_MAX_AGE_YEARS = 5


@dataclass(frozen=True)
class Hint:
    code: str
    message: str


def freshness_hints(studies: Iterable[Study], today: date | None = None) -> dict[int, list[Hint]]:
    """Hints per study primary key, for `studies`, in two queries."""
    today = today or timezone.localdate()
    by_pk = {study.pk: study for study in studies}
    hints: dict[int, list[Hint]] = {pk: [] for pk in by_pk}
    for pk, study in by_pk.items():
        if (
            study.study_type == StudyType.GUIDELINE
            and study.year
            and today.year - study.year > GUIDELINE_MAX_AGE_YEARS
        ):
            hints[pk].append(
                Hint(
                    "old_guideline",
                    f"Guideline from {study.year}, more than {GUIDELINE_MAX_AGE_YEARS} years "
                    "old: check whether it has been updated or replaced.",
                )
            )
    trials = [pk for pk, study in by_pk.items() if study.study_type == StudyType.RCT]
    if trials:
        inclusions = (
            Study.included_studies.through.objects.filter(
                to_study_id__in=trials,
                from_study__study_type=StudyType.SYSTEMATIC_REVIEW,
                from_study__is_retracted=False,
            )
            .select_related("from_study")
            .order_by("-from_study__year", "from_study__key")
        )
        for inclusion in inclusions:
            trial, review = by_pk[inclusion.to_study_id], inclusion.from_study
            if review.year and (trial.year is None or review.year > trial.year):
                hints[trial.pk].append(
                    Hint(
                        "newer_review",
                        f"A later systematic review in the library, {review.key} "
                        f"({review.year}), includes this trial: consider citing the review.",
                    )
                )
    return hints

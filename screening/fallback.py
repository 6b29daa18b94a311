"""What the intake pages stand on when the database fails: no patient is left without advice.

- `active_questionnaire()` reads the active version with its questions and flag rules, and
  remembers them (in this process, and in the cache). While the database is unreachable the
  remembered copy serves the form, so the triage outcome can still be computed from the answers.
  Active versions are never edited in place, so the copy cannot drift from what it stands for.
- `advice_token(...)` / `read_advice_token(...)`: the result page's address carries the outcome
  and the flags' explanations, signed, so a form that was stored still shows its advice when the
  page cannot reach the database afterwards.
"""

import logging
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from clinic import page_cache

from .models import FlagRule, Outcome, Question, Questionnaire

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
REMEMBERED_CACHE_KEY = "screening:active-questionnaire"
ADVICE_SALT = "screening.result-advice"
# Matches how long the result page opens for the browser that sent the form.
ADVICE_MAX_AGE = 24 * 60 * 60


class QuestionnaireUnavailable(Exception):
    """The database is unreachable and no copy of the active questionnaire was ever kept."""


@dataclass
class ActiveQuestionnaire:
    questionnaire: Questionnaire
    questions: list[Question]
    rules: list[FlagRule]
    from_memory: bool = False


_remembered: ActiveQuestionnaire | None = None


def active_questionnaire(*, fresh_rules: bool = True) -> ActiveQuestionnaire | None:
    """The active version (None if there is none); a remembered copy if the database fails.

    `fresh_rules=False` (the form page, which only shows questions) reads nothing while the
    content generation is unchanged (activating a version saves it, which starts a new one; see
    `clinic.page_cache`), and otherwise reuses the remembered questions and flag rules of the
    same version instead of reading them again.
    """
    global _remembered
    try:
        if fresh_rules:
            active = _read_active(reuse_remembered=False)
        else:
            active = page_cache.per_generation(
                "screening.active-questionnaire", lambda: _read_active(reuse_remembered=True)
            )
    except DATABASE_DOWN:
        logger.warning("Database unreachable: intake form served from the remembered copy")
        remembered = remembered_questionnaire()
        if remembered is None:
            raise QuestionnaireUnavailable from None
        return ActiveQuestionnaire(
            remembered.questionnaire, remembered.questions, remembered.rules, from_memory=True
        )
    if active is None:
        return None
    if _remembered is None or _remembered.questionnaire.pk != active.questionnaire.pk:
        try:
            cache.set(REMEMBERED_CACHE_KEY, active, timeout=None)
        except Exception:
            logger.warning("Could not keep a copy of the active questionnaire in the cache")
    _remembered = active
    return active


def _read_active(*, reuse_remembered: bool) -> ActiveQuestionnaire | None:
    questionnaire = Questionnaire.objects.active().first()
    if questionnaire is None:
        return None
    if (
        reuse_remembered
        and _remembered is not None
        and _remembered.questionnaire.pk == questionnaire.pk
    ):
        # An active version's questions and rules are never edited in place (only drafts
        # are), so the copy of the same version is exact.
        return ActiveQuestionnaire(questionnaire, _remembered.questions, _remembered.rules)
    questions = list(Question.objects.filter(questionnaire=questionnaire).order_by("position"))
    rules = list(FlagRule.objects.filter(questionnaire=questionnaire))
    return ActiveQuestionnaire(questionnaire, questions, rules)


def remembered_questionnaire() -> ActiveQuestionnaire | None:
    if _remembered is not None:
        return _remembered
    try:
        return cache.get(REMEMBERED_CACHE_KEY)
    except Exception:
        return None


def forget() -> None:
    """Drop the remembered copy (tests, and after a change of questionnaire in this process)."""
    global _remembered
    _remembered = None
    page_cache.forget_per_generation("screening.active-questionnaire")
    cache.delete(REMEMBERED_CACHE_KEY)


@dataclass(frozen=True)
class Advice:
    outcome: str
    explanations: list[str]


def advice_token(public_id, outcome: str, explanations: list[str]) -> str:
    """A signed, compressed note of the advice a stored form calls for, for its result URL."""
    return signing.dumps(
        {"id": str(public_id), "o": outcome, "e": explanations}, salt=ADVICE_SALT, compress=True
    )


def read_advice_token(token: str | None, public_id) -> Advice | None:
    """The advice in a result URL's token, if it is genuine, recent and for this form."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=ADVICE_SALT, max_age=ADVICE_MAX_AGE)
    except signing.BadSignature:
        return None
    if (
        not isinstance(data, dict)
        or data.get("id") != str(public_id)
        or data.get("o") not in Outcome.values
    ):
        return None
    return Advice(data["o"], [str(text) for text in data.get("e", [])])

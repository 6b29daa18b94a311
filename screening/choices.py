"""The screening app's choice lists, importable without Django settings or the app registry.

The triage rules (screening/triage.py) need these values and must stay pure, so they live here
rather than in models.py. TextChoices and lazy translations need no settings at import time.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class QuestionnaireStatus(TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class Kind(TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    CHOICE = "choice", _("Single choice")
    MULTI = "multi", _("Multiple choice")
    SCALE = "scale", _("0-10 scale")
    NUMBER = "number", _("Number")
    SHORT_TEXT = "short_text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    DATE = "date", _("Date")


class Level(TextChoices):
    URGENT = "urgent", _("Urgent: seek medical care now")
    REVIEW = "review", _("Review: a clinician calls first")


class Outcome(TextChoices):
    URGENT = "urgent", _("Urgent")
    REVIEW = "review", _("Clinician review")
    ROUTINE = "routine", _("Routine")


# Keyed by plain strings too: callers pass the stored value of an outcome field.
OUTCOME_RANK: dict[str, int] = {Outcome.ROUTINE: 0, Outcome.REVIEW: 1, Outcome.URGENT: 2}


def is_more_urgent(outcome: str, than: str) -> bool:
    """Whether `outcome` calls for quicker action than `than` (an empty `than` is least urgent)."""
    return OUTCOME_RANK[outcome] > OUTCOME_RANK.get(than, -1)


class Operator(TextChoices):
    IS = "is", _("answer is")
    INCLUDES = "includes", _("answers include")
    AT_LEAST = "at_least", _("number is at least")
    AT_MOST = "at_most", _("number is at most")
    AGE_UNDER = "age_under", _("date is less than this many years ago")
    AGE_OVER = "age_over", _("date is more than this many years ago")
    # Free text: the rule's value is unused; the names come from the questionnaire version.
    NAMES_BLOOD_THINNER = "thinner", _("text names a blood thinner from this version's list")


class SubmissionStatus(TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    BOOKED = "booked", _("Booked")
    DECLINED = "declined", _("Declined")
    REFERRED = "referred", _("Referred elsewhere")


class PreferredContact(TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class AccessKind(TextChoices):
    VIEWED = "viewed", _("Viewed")
    EXPORTED_CSV = "csv", _("Exported as CSV")
    EXPORTED_FHIR = "fhir", _("Exported as FHIR")
    LISTED = "listed", _("Opened the list")
    SEARCHED = "searched", _("Searched")

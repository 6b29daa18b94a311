"""Storing a patient's form once, and what happens when the same form comes back.

Each form page carries an idempotency token. The first valid POST with a token stores the
submission; a later POST with the same token (double click, refresh, back and resend) stores
nothing new. If the later answers differ they are kept as an automatic staff note, and if they
give a more urgent outcome that outcome is recorded on the submission (`escalated_outcome`): the
patient is shown the more urgent advice and staff see the submission among the urgent ones.

A browser can carry a token into a form filled in by someone else (a shared computer, while the
form page reuses its token: see `views.form_token`). A resent token whose name, email and phone
all differ from the stored form's is therefore a new form, stored under a token derived from
both, so that person's own resends still collapse into one submission.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import triage
from .forms import IntakeForm
from .models import (
    FlagRule,
    IntakeSubmission,
    Outcome,
    PreferredContact,
    SubmissionNote,
    is_more_urgent,
)
from .tasks import queue_notification

CONTACT_FIELDS = ["full_name", "email", "phone", "preferred_contact"]


def identity(full_name: str, email: str, phone: str) -> tuple[str, str, str]:
    """Name, email and phone written the same way whatever the spacing, case or punctuation."""
    return (
        " ".join(full_name.split()).casefold(),
        email.strip().casefold(),
        "".join(char for char in phone if char.isdigit()),
    )


def is_same_person(submission: IntakeSubmission, data: Mapping[str, Any]) -> bool:
    """Same name, email or phone: a patient correcting one of them is still the same patient."""
    stored = identity(submission.full_name, submission.email, submission.phone)
    sent = identity(data["full_name"], data["email"], data["phone"])
    return any(mine and mine == theirs for mine, theirs in zip(stored, sent, strict=True))


# Longer than a sent form page's token is reused for (`views.RESEND_WINDOW`), and a resend.
SAME_PAGE_LOOKBACK = timedelta(hours=2)


def derived_token(token: uuid.UUID, full_name: str, email: str, phone: str) -> uuid.UUID:
    """The token a form is stored under when its page's token already stored someone else's."""
    return uuid.uuid5(token, "|".join(identity(full_name, email, phone)))


def find_previous(form: IntakeForm) -> tuple[uuid.UUID, IntakeSubmission | None]:
    """The token to store this form under, and the submission already stored with it, if any."""
    data = form.cleaned_data
    token = data["token"]
    previous = IntakeSubmission.objects.filter(token=token).first()
    if previous is None or is_same_person(previous, data):
        return token, previous
    derived = derived_token(token, data["full_name"], data["email"], data["phone"])
    previous = IntakeSubmission.objects.filter(token=derived).first()
    if previous is None:
        # A second patient on a shared form page who corrected their name, email or phone
        # and sent it again: their form was stored under the details they first sent.
        previous = _stored_from_the_same_page_by(token, data)
    return (derived if previous is None else previous.token), previous


def _stored_from_the_same_page_by(
    token: uuid.UUID, data: Mapping[str, Any]
) -> IntakeSubmission | None:
    recent = IntakeSubmission.objects.filter(
        submitted_at__gte=timezone.now() - SAME_PAGE_LOOKBACK
    ).values_list("pk", "token", "full_name", "email", "phone")
    sent = identity(data["full_name"], data["email"], data["phone"])
    for pk, stored_token, full_name, email, phone in recent:
        if stored_token != derived_token(token, full_name, email, phone):
            continue
        # Two of the three details must still match: one corrected is that patient putting a
        # typo right, while someone else on the same device may share a phone or a surname.
        stored = identity(full_name, email, phone)
        if sum(bool(a) and a == b for a, b in zip(stored, sent, strict=True)) >= 2:
            return IntakeSubmission.objects.get(pk=pk)
    return None


def evaluate(form: IntakeForm) -> tuple[dict, triage.Triage]:
    """The answers and their triage; no database access when the form carries its rules."""
    answers = form.answers()
    rules: Iterable[FlagRule] | None = form.rules
    if rules is None:
        rules = FlagRule.objects.filter(questionnaire=form.questionnaire)
    names = triage.name_list(form.questionnaire.blood_thinner_names)
    return answers, triage.evaluate(form.questions, rules, answers, timezone.localdate(), names)


def flag_records(result: triage.Triage) -> list[dict]:
    """The flags as stored on the submission; `detail` (for staff) only when there is one."""
    return [
        {
            "level": flag.level,
            "key": flag.question_key,
            "explanation": flag.explanation,
            **({"detail": flag.detail} if flag.detail else {}),
        }
        for flag in result.flags
    ]


def flag_label(flag: dict) -> str:
    """ "level: question key", with what the answer matched when the rule says (for example
    the blood thinner a medicines list names), as the admin shows it."""
    label = f"{flag['level']}: {flag['key']}"
    return f"{label} ({flag['detail']})" if flag.get("detail") else label


def store(
    form: IntakeForm, token: uuid.UUID, evaluated: tuple[dict, triage.Triage] | None = None
) -> tuple[IntakeSubmission, bool]:
    """Store the form under `token`, with its triage (`evaluated`, computed if not given) and
    its queued notification.

    Returns the submission and whether this call stored it (False when a concurrent request
    with the same token got there first).
    """
    answers, result = evaluated or evaluate(form)
    now = timezone.now()
    data = form.cleaned_data
    try:
        with transaction.atomic():
            submission = IntakeSubmission.objects.create(
                token=token,
                questionnaire=form.questionnaire,
                submitted_at=now,
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
                preferred_contact=data["preferred_contact"],
                answers=form.answer_snapshot(answers),
                flags=flag_records(result),
                outcome=result.outcome,
                consent_text=form.consent_text(),
                consented_at=now,
            )
            queue_notification(submission)
    except IntegrityError:
        # The same form arrived twice at once (double click): the other request stored it.
        stored = IntakeSubmission.objects.filter(token=token).first()
        if stored is None:
            raise
        return stored, False
    return submission, True


def changes(
    submission: IntakeSubmission, form: IntakeForm, answers: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """(what, stored, sent now) for each contact detail and answer that differs."""
    not_answered = _("(not answered)")
    rows = []
    for name in CONTACT_FIELDS:
        stored, sent = getattr(submission, name), form.cleaned_data[name]
        if stored != sent:
            if name == "preferred_contact":
                stored, sent = PreferredContact(stored).label, PreferredContact(sent).label
            rows.append(
                (str(form.fields[name].label), stored or not_answered, sent or not_answered)
            )
    before = {answer["key"]: answer for answer in submission.answers}
    after = {answer["key"]: answer for answer in form.answer_snapshot(answers)}
    for key in [*after, *(key for key in before if key not in after)]:
        old, new = before.get(key), after.get(key)
        if old and new and old["value"] == new["value"]:
            continue
        rows.append(
            (
                (new or before[key])["question"],
                old["display"] if old else not_answered,
                new["display"] if new else not_answered,
            )
        )
    return rows


def record_changed_resend(
    submission: IntakeSubmission,
    result: triage.Triage,
    changed: list[tuple[str, str, str]],
    questions_by_key: dict[str, str],
) -> None:
    """Keep what a resend changed as an automatic note, and a more urgent outcome on the form."""
    more_urgent = is_more_urgent(result.outcome, submission.outcome)
    lines = [
        _(
            "Automatic note: this form was sent again from the same form page with different "
            "answers. Nothing new was stored."
        ),
        _("Outcome of the new answers: %(new)s (this form: %(stored)s).")
        % {"new": Outcome(result.outcome).label, "stored": submission.get_outcome_display()},
        _(
            "The patient was shown the advice for the new answers' outcome and asked to call "
            "the clinic to update their answers."
        )
        if more_urgent
        else _(
            "The patient was shown this form's result and asked to call the clinic to update "
            "their answers."
        ),
        "",
        _("What changed:"),
        *(f"- {what}: {stored} → {sent}" for what, stored, sent in changed),
    ]
    if result.flags:
        lines += ["", _("Flags the new answers raise:")]
        lines += [
            f"- {flag.level.upper()}: {questions_by_key.get(flag.question_key, flag.question_key)}"
            for flag in result.flags
        ]
    with transaction.atomic():
        # The same resend twice (a double click) leaves one note.
        SubmissionNote.objects.get_or_create(
            submission=submission, author=None, text="\n".join(lines)
        )
        if more_urgent:
            less_urgent = ["", *(o for o in Outcome.values if is_more_urgent(result.outcome, o))]
            escalated = IntakeSubmission.objects.filter(
                pk=submission.pk, escalated_outcome__in=less_urgent
            ).update(
                escalated_outcome=result.outcome,
                escalated_at=timezone.now(),
                escalated_flags=flag_records(result),
                # Staff are emailed again, at the new outcome: an email already sent, or being
                # sent, gave the old one (the send in flight loses its claim, so it does not
                # record itself as the last word).
                notified_at=None,
                notify_claimed_at=None,
            )
            if escalated:
                queue_notification(submission)

"""Background work for intake: announcing new submissions to the clinic by email.

Tasks run in `manage.py run_worker` (django-tasks-db's worker, see `screening.worker`). The
email names the triage outcome and links to the admin; it never carries the patient's name or
answers, because email is not a safe place for health data.

Several tasks may exist for one submission (a retry chain, and a re-queue by
`send_intake_notifications`), so a task first claims the submission with a conditional UPDATE
and sends only if the claim succeeded. A claim is a lease: if the worker dies while holding it,
another may take over after the lease (the email may then go out twice, never not at all).
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from clinic.models import ClinicDetails

from .models import IntakeSubmission, Outcome

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# How long to keep trying to record a sent email while the database is unreachable (a restart
# takes seconds). Giving up would let the lease expire and the email go out a second time.
RECORD_SENT_FOR = timedelta(minutes=2)


def claim_lease() -> timedelta:
    """Longer than sending one email can take (connection and SMTP timeouts included); the
    same lease after which a task left RUNNING is requeued (`screening.worker`)."""
    return timedelta(seconds=settings.TASK_LEASE_SECONDS)


def retry_delay(attempt: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes between attempts."""
    return timedelta(minutes=2 ** (attempt - 1))


def recipient() -> str:
    return ClinicDetails.load().intake_email or settings.INTAKE_NOTIFY_EMAIL


def compose(submission: IntakeSubmission) -> tuple[str, str]:
    """The staff email: the most urgent advice the patient has been given for the form (a resend
    with more urgent answers may have come before the email went), and nothing personal."""
    current = submission.current_outcome()
    outcome = Outcome(current).label
    link = settings.SITE_URL + reverse(
        "admin:screening_intakesubmission_change", args=[submission.pk]
    )
    if current != submission.outcome:
        subject = f"Intake form #{submission.pk}: now {outcome} (answers sent again)"
        lines = [
            f"An intake form was sent again with more urgent answers (#{submission.pk}).",
            f"Triage outcome: {outcome} (first sent as {submission.get_outcome_display()}); "
            "see the automatic note on the form.",
        ]
    else:
        subject = f"New intake form #{submission.pk}: {outcome}"
        lines = [
            f"A new intake form has arrived (#{submission.pk}).",
            f"Triage outcome: {outcome}.",
        ]
    if current == Outcome.URGENT:
        lines.append(
            "The patient was told to seek urgent medical care now. Please follow up today."
        )
    elif current == Outcome.REVIEW:
        lines.append("The patient was told a clinician will call before any appointment.")
    lines += [
        "",
        f"Open it in the admin (sign-in needed): {link}",
        "",
        "This email deliberately contains no personal or health details.",
    ]
    return subject, "\n".join(lines)


def claim(submission_id: int) -> datetime | None:
    """Take on sending the email for this submission; None if it is sent or another task has it.

    The UPDATE is atomic on its own (PostgreSQL re-checks the WHERE clause after waiting for a
    competing update's lock), and commits at once so other workers see the claim while this one
    sends.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            IntakeSubmission.objects.filter(pk=submission_id, notified_at__isnull=True)
            .filter(
                Q(notify_claimed_at__isnull=True) | Q(notify_claimed_at__lt=now - claim_lease())
            )
            .update(notify_claimed_at=now)
        )
    return now if claimed else None


def release(submission_id: int, claimed_at: datetime) -> None:
    IntakeSubmission.objects.filter(pk=submission_id, notify_claimed_at=claimed_at).update(
        notify_claimed_at=None
    )


@task()
def notify_new_submission(submission_id: int, attempt: int = 1) -> str:
    submission = IntakeSubmission.objects.filter(pk=submission_id).first()
    if submission is None:
        return "gone"  # purged before the worker reached it
    if submission.notified_at is not None:
        return "already sent"
    to = recipient()
    if not to:
        logger.warning(
            "Intake #%s: no intake email address is set (clinic details or INTAKE_NOTIFY_EMAIL).",
            submission_id,
        )
        return "no recipient"
    claimed_at = claim(submission_id)
    if claimed_at is None:
        return "already sent or being sent"
    # Written after claiming, from the form as it is now: a resend with more urgent answers
    # before the claim would otherwise be reported at the old outcome and marked as told.
    submission.refresh_from_db()
    subject, body = compose(submission)
    try:
        send_mail(subject, body, None, [to])
    except Exception:
        # Queue the retry before releasing the claim, so the sweeper never sees this submission
        # as neither queued nor claimed and starts a second chain.
        try:
            if attempt < MAX_ATTEMPTS:
                notify_new_submission.using(
                    run_after=timezone.now() + retry_delay(attempt)
                ).enqueue(submission_id, attempt + 1)
        finally:
            release(submission_id, claimed_at)
        logger.exception("Intake #%s: notification attempt %s failed", submission_id, attempt)
        raise
    record_sent(submission_id, timezone.now(), claimed_at)
    return "sent"


def record_sent(submission_id: int, sent_at: datetime, claimed_at: datetime) -> None:
    """Mark the email sent, waiting out a database restart rather than losing the fact.

    Only while this send's claim stands: a resend with more urgent answers takes the claim
    away (`submissions.record_changed_resend`), and the email that says so must still go."""
    give_up_at = time.monotonic() + RECORD_SENT_FOR.total_seconds()
    wait = 0.5
    while True:
        try:
            IntakeSubmission.objects.filter(pk=submission_id, notify_claimed_at=claimed_at).update(
                notified_at=sent_at, notify_claimed_at=None
            )
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() > give_up_at:
                raise
            logger.warning(
                "Intake #%s: email sent; waiting for the database to record it", submission_id
            )
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()
            time.sleep(wait)
            wait = min(wait * 2, 5.0)


def queue_notification(submission: IntakeSubmission) -> bool:
    """Queue the email inside the caller's transaction; never let a failure here undo the form.

    The task row is written in the same database transaction as the submission, so the worker
    sees it only once the submission has committed, and a submission never commits without its
    notification queued unless queueing itself failed (logged; `notified_at` stays empty and
    `manage.py send_intake_notifications` queues it again).
    """
    try:
        with transaction.atomic():
            notify_new_submission.enqueue(submission.pk)
    except Exception:
        logger.exception("Intake #%s: could not queue the notification", submission.pk)
        return False
    return True

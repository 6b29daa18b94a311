"""Background work for intake: announcing new submissions to the clinic by email.

Tasks run in `manage.py db_worker` (django-tasks-db). The email names the triage outcome and links
to the admin; it never carries the patient's name or answers, because email is not a safe place
for health data.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from clinic.models import ClinicDetails

from .models import IntakeSubmission, Outcome

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


def retry_delay(attempt: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes between attempts."""
    return timedelta(minutes=2 ** (attempt - 1))


def recipient() -> str:
    return ClinicDetails.load().intake_email or settings.INTAKE_NOTIFY_EMAIL


def compose(submission: IntakeSubmission) -> tuple[str, str]:
    outcome = submission.get_outcome_display()
    link = settings.SITE_URL + reverse(
        "admin:screening_intakesubmission_change", args=[submission.pk]
    )
    subject = f"New intake form #{submission.pk}: {outcome}"
    lines = [
        f"A new intake form has arrived (#{submission.pk}).",
        f"Triage outcome: {outcome}.",
    ]
    if submission.outcome == Outcome.URGENT:
        lines.append(
            "The patient was told to seek urgent medical care now. Please follow up today."
        )
    elif submission.outcome == Outcome.REVIEW:
        lines.append("The patient was told a clinician will call before any appointment.")
    lines += [
        "",
        f"Open it in the admin (sign-in needed): {link}",
        "",
        "This email deliberately contains no personal or health details.",
    ]
    return subject, "\n".join(lines)


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
    subject, body = compose(submission)
    try:
        send_mail(subject, body, None, [to])
    except Exception:
        if attempt < MAX_ATTEMPTS:
            notify_new_submission.using(run_after=timezone.now() + retry_delay(attempt)).enqueue(
                submission_id, attempt + 1
            )
        logger.exception("Intake #%s: notification attempt %s failed", submission_id, attempt)
        raise
    IntakeSubmission.objects.filter(pk=submission_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    return "sent"


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

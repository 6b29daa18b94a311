"""Private replies to patients' questions, sent by the task worker (`manage.py db_worker`).

The email holds the patient's own question and the clinician's reply, nothing else: no other
record of the patient (intake answers, triage) ever goes into it. As for intake notifications,
a task claims the question with a conditional UPDATE so that two tasks never both send, and a
claim older than CLAIM_LEASE (a worker that died) may be taken over.
"""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from clinic.models import ClinicDetails

from .models import PatientQuestion, QuestionStatus

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=15)


def compose(question: PatientQuestion) -> tuple[str, str]:
    clinic = ClinicDetails.load()
    greeting = f"Dear {question.name}," if question.name else "Hello,"
    advice = (
        f", or {clinic.urgent_advice_phone} for urgent advice" if clinic.urgent_advice_phone else ""
    )
    body = "\n".join(
        [
            greeting,
            "",
            f"Thank you for your question about “{question.article.title}”. You asked:",
            "",
            *(f"> {line}" for line in question.text.splitlines()),
            "",
            question.private_reply.strip(),
            "",
            "This reply is general information, not a diagnosis. If you are very unwell, call "
            f"{clinic.emergency_phone}{advice}.",
            "",
            clinic.name,
        ]
    )
    return f"Your question to {clinic.name}", body


@task()
def send_private_reply(question_id: int) -> str:
    question = PatientQuestion.objects.select_related("article").filter(pk=question_id).first()
    if question is None or not question.email:
        return "gone"  # purged before the worker reached it
    if question.reply_sent_at is not None:
        return "already sent"
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            PatientQuestion.objects.filter(pk=question_id, reply_sent_at__isnull=True)
            .filter(Q(reply_claimed_at__isnull=True) | Q(reply_claimed_at__lt=now - CLAIM_LEASE))
            .update(reply_claimed_at=now)
        )
    if not claimed:
        return "already sent or being sent"
    subject, body = compose(question)
    try:
        send_mail(subject, body, None, [question.email])
    except Exception:
        PatientQuestion.objects.filter(pk=question_id, reply_claimed_at=now).update(
            reply_claimed_at=None
        )
        logger.exception("Question #%s: the private reply could not be sent", question_id)
        raise
    PatientQuestion.objects.filter(pk=question_id).update(
        reply_sent_at=timezone.now(), reply_claimed_at=None
    )
    return "sent"


def queue_private_reply(question: PatientQuestion, *, reply: str, by) -> None:
    """Record the reply and queue its email in one transaction (the task row commits with it)."""
    with transaction.atomic():
        question.private_reply = reply.strip()
        question.replied_by = by
        question.reply_queued_at = timezone.now()
        if question.status != QuestionStatus.PUBLISHED:
            question.status = QuestionStatus.ANSWERED_PRIVATELY
        question.save(update_fields=["private_reply", "replied_by", "reply_queued_at", "status"])
        send_private_reply.enqueue(question.pk)

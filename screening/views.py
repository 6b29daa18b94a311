"""The public intake form and the patient's result page."""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.csrf import csrf_protect
from django_ratelimit.core import is_ratelimited

from . import triage
from .forms import IntakeForm
from .models import FlagRule, IntakeSubmission, Outcome, Question, Questionnaire
from .tasks import queue_notification

logger = logging.getLogger(__name__)

SESSION_KEY = "screening_results"
# How long the browser that sent a form can come back to its result page.
RESULT_VISIBLE_FOR = timedelta(hours=24)
RESULTS_KEPT_IN_SESSION = 5


def intake_rate(group, request):
    return settings.INTAKE_RATE_LIMIT


@csrf_protect
def intake(request):
    questionnaire = Questionnaire.objects.active().first()
    if questionnaire is None:
        return private(render(request, "screening/unavailable.html", status=503))
    questions = Question.objects.filter(questionnaire=questionnaire).order_by("position")

    if request.method != "POST":
        form = IntakeForm(
            initial={"token": uuid.uuid4(), "version": questionnaire.version},
            questionnaire=questionnaire,
            questions=questions,
        )
        return private(render(request, "screening/intake_form.html", {"form": form}))

    if is_ratelimited(
        request, group="screening.intake", key="ip", rate=intake_rate, method="POST", increment=True
    ):
        logger.warning("Intake form rate limit reached")
        return private(render(request, "screening/rate_limited.html", status=429))

    if request.POST.get("website"):
        # A person cannot see the honeypot field; only a bot fills it in. Store nothing, and
        # answer as if all went well so the bot learns nothing.
        logger.info("Intake form honeypot filled in; nothing stored")
        return redirect("screening:received")

    form = IntakeForm(request.POST, questionnaire=questionnaire, questions=questions)
    if not form.is_valid():
        return private(render(request, "screening/intake_form.html", {"form": form}, status=400))

    submission, created = save_submission(form, questionnaire)
    if not created and str(submission.public_id) not in request.session.get(SESSION_KEY, {}):
        # A resent form from another browser: confirm receipt, but never show its result.
        return redirect("screening:received")
    remember_result(request, submission)
    return redirect("screening:result", public_id=submission.public_id)


def save_submission(
    form: IntakeForm, questionnaire: Questionnaire
) -> tuple[IntakeSubmission, bool]:
    """Store the form once per token, with its triage and its queued notification."""
    token = form.cleaned_data["token"]
    if existing := IntakeSubmission.objects.filter(token=token).first():
        return existing, False
    answers = form.answers()
    rules = FlagRule.objects.filter(questionnaire=questionnaire)
    result = triage.evaluate(form.questions, rules, answers, timezone.localdate())
    now = timezone.now()
    data = form.cleaned_data
    try:
        with transaction.atomic():
            submission = IntakeSubmission.objects.create(
                token=token,
                questionnaire=questionnaire,
                submitted_at=now,
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
                preferred_contact=data["preferred_contact"],
                answers=form.answer_snapshot(answers),
                flags=[
                    {
                        "level": flag.level,
                        "key": flag.question_key,
                        "explanation": flag.explanation,
                    }
                    for flag in result.flags
                ],
                outcome=result.outcome,
                consent_text=form.consent_text(),
                consented_at=now,
            )
            queue_notification(submission)
    except IntegrityError:
        # The same form arrived twice at once (double click): the other request stored it.
        submission = IntakeSubmission.objects.filter(token=token).first()
        if submission is None:
            raise
        return submission, False
    return submission, True


def remember_result(request, submission: IntakeSubmission) -> None:
    results = request.session.get(SESSION_KEY, {})
    results[str(submission.public_id)] = timezone.now().isoformat()
    newest = sorted(results.items(), key=lambda item: item[1])[-RESULTS_KEPT_IN_SESSION:]
    request.session[SESSION_KEY] = dict(newest)


def result(request, public_id):
    """What to do next. Only the browser session that sent the form can open it."""
    sent_at = request.session.get(SESSION_KEY, {}).get(str(public_id))
    if sent_at is None or timezone.now() - datetime.fromisoformat(sent_at) > (RESULT_VISIBLE_FOR):
        raise Http404("No such result in this browser session")
    submission = (
        IntakeSubmission.objects.filter(public_id=public_id).only("outcome", "flags").first()
    )
    if submission is None:
        raise Http404("No such result")
    context = {
        "outcome": submission.outcome,
        "Outcome": Outcome,
        "explanations": list(dict.fromkeys(flag["explanation"] for flag in submission.flags)),
    }
    return private(render(request, "screening/result.html", context))


def received(request):
    return private(render(request, "screening/received.html"))


def private(response):
    """Health forms and results must not be cached by browsers or proxies, nor indexed."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response

"""The public intake form and the patient's result page."""

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.csrf import csrf_protect
from django_ratelimit.core import get_usage

from . import submissions
from .forms import IntakeForm
from .models import IntakeSubmission, Outcome, Question, Questionnaire

logger = logging.getLogger(__name__)

SESSION_KEY = "screening_results"
# How long the browser that sent a form can come back to its result page.
RESULT_VISIBLE_FOR = timedelta(hours=24)
RESULTS_KEPT_IN_SESSION = 5
# The form page's idempotency token, kept in the session: a page opened again (Back refetches
# it, as the page is never cached) carries the same token, so sending it again stores nothing.
# After a successful send the token is reused for RESEND_WINDOW, then a fresh form starts.
FORM_SESSION_KEY = "screening_form"
RESEND_WINDOW = timedelta(minutes=30)
UNSENT_TOKEN_KEPT_FOR = timedelta(days=1)


def intake_rate(group, request):
    return settings.INTAKE_RATE_LIMIT


def rate_limit_usage(request, *, increment: bool = False) -> dict | None:
    """How many forms this address has stored in the current window (None: no limit applies)."""
    return get_usage(
        request,
        group="screening.intake",
        key="ip",
        rate=intake_rate,
        method="POST",
        increment=increment,
    )


@csrf_protect
def intake(request):
    questionnaire = Questionnaire.objects.active().first()
    if questionnaire is None:
        return private(render(request, "screening/unavailable.html", status=503))
    questions = Question.objects.filter(questionnaire=questionnaire).order_by("position")

    if request.method != "POST":
        token, sent_at = form_token(request, fresh="new" in request.GET)
        form = IntakeForm(
            initial={"token": token, "version": questionnaire.version},
            questionnaire=questionnaire,
            questions=questions,
        )
        return form_page(request, form, sent_at=sent_at)

    if request.POST.get("website"):
        # A person cannot see the honeypot field; only a bot fills it in. Store nothing, and
        # answer as if all went well so the bot learns nothing.
        logger.info("Intake form honeypot filled in; nothing stored")
        return redirect("screening:received")

    # Only stored forms count towards the limit: a patient correcting mistakes, or resending a
    # form already stored, must not lock out everyone behind the same address.
    usage = rate_limit_usage(request)
    limited = usage is not None and usage["count"] >= usage["limit"]
    form = IntakeForm(request.POST, questionnaire=questionnaire, questions=questions)
    if not form.is_valid():
        if limited:
            return rate_limited(request, form, usage)
        return form_page(request, form, status=400)

    token, previous = submissions.find_previous(form)
    if previous is None:
        if limited:
            logger.warning("Intake form rate limit reached; answers shown again, not stored")
            return rate_limited(request, form, usage)
        submission, created = submissions.store(form, token)
        if created:
            rate_limit_usage(request, increment=True)
            mark_sent(request, form.cleaned_data["token"])
            remember_result(request, submission)
            return redirect("screening:result", public_id=submission.public_id)
        previous = submission
    return resent(request, form, previous)


def resent(request, form: IntakeForm, submission: IntakeSubmission):
    """The same form again: store nothing, but never hide advice its new answers call for."""
    answers, result = submissions.evaluate(form)
    changed = submissions.changes(submission, form, answers)
    if changed:
        questions = {question.key: question.text for question in form.questions}
        submissions.record_changed_resend(submission, result, changed, questions)
    if can_see_result(request, submission.public_id):
        url = reverse("screening:result", kwargs={"public_id": submission.public_id})
        return redirect(f"{url}?changed=1" if changed else url)
    if changed and result.outcome == Outcome.URGENT:
        # Another browser resent this form with urgent answers: show the advice its own answers
        # call for, and nothing of the stored form.
        context = result_context(result.outcome, submissions.flag_records(result), changed=True)
        return private(render(request, "screening/result.html", context))
    # Another browser resent the form: confirm receipt, but never show the stored result.
    return redirect("screening:received")


def form_token(request, *, fresh: bool) -> tuple[uuid.UUID, datetime | None]:
    """The token for a form page, and when a form with it was sent (None if not yet)."""
    now = timezone.now()
    entry = request.session.get(FORM_SESSION_KEY)
    if entry and not fresh:
        if entry["sent_at"] is None:
            if now - datetime.fromisoformat(entry["issued_at"]) < UNSENT_TOKEN_KEPT_FOR:
                return uuid.UUID(entry["token"]), None
        elif now - (sent_at := datetime.fromisoformat(entry["sent_at"])) < RESEND_WINDOW:
            return uuid.UUID(entry["token"]), sent_at
    token = uuid.uuid4()
    request.session[FORM_SESSION_KEY] = {
        "token": str(token),
        "issued_at": now.isoformat(),
        "sent_at": None,
    }
    return token, None


def mark_sent(request, token: uuid.UUID) -> None:
    now = timezone.now().isoformat()
    request.session[FORM_SESSION_KEY] = {"token": str(token), "issued_at": now, "sent_at": now}


def remember_result(request, submission: IntakeSubmission) -> None:
    results = request.session.get(SESSION_KEY, {})
    results[str(submission.public_id)] = timezone.now().isoformat()
    newest = sorted(results.items(), key=lambda item: item[1])[-RESULTS_KEPT_IN_SESSION:]
    request.session[SESSION_KEY] = dict(newest)


def form_page(request, form: IntakeForm, *, status=200, sent_at=None, is_rate_limited=False):
    context = {"form": form, "sent_at": sent_at, "rate_limited": is_rate_limited}
    return private(render(request, "screening/intake_form.html", context, status=status))


def rate_limited(request, form: IntakeForm, usage: dict[str, Any]) -> HttpResponse:
    """The filled-in form again, nothing stored, with the clinic's phone number at the top."""
    response = form_page(request, form, status=429, is_rate_limited=True)
    if usage["time_left"] > 0:
        response["Retry-After"] = str(usage["time_left"])
    return response


def can_see_result(request, public_id) -> bool:
    sent_at = request.session.get(SESSION_KEY, {}).get(str(public_id))
    return (
        sent_at is not None
        and timezone.now() - datetime.fromisoformat(sent_at) <= RESULT_VISIBLE_FOR
    )


def result(request, public_id):
    """What to do next. Only the browser session that sent the form can open it."""
    if not can_see_result(request, public_id):
        raise Http404("No such result in this browser session")
    submission = (
        IntakeSubmission.objects.filter(public_id=public_id)
        .only("outcome", "flags", "escalated_outcome", "escalated_flags", "submitted_at")
        .first()
    )
    if submission is None:
        raise Http404("No such result")
    outcome = submission.current_outcome()
    escalated = outcome != submission.outcome
    context = result_context(
        outcome,
        submission.escalated_flags if escalated else submission.flags,
        changed=escalated or request.GET.get("changed") == "1",
        sent_at=submission.submitted_at,
    )
    return private(render(request, "screening/result.html", context))


def result_context(outcome: str, flags: list[dict], *, changed: bool, sent_at=None) -> dict:
    return {
        "outcome": outcome,
        "Outcome": Outcome,
        "explanations": list(dict.fromkeys(flag["explanation"] for flag in flags)),
        "changed": changed,
        "sent_at": sent_at,
    }


def received(request):
    return private(render(request, "screening/received.html"))


def private(response):
    """Health forms and results must not be cached by browsers or proxies, nor indexed."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response

"""The public intake form and the patient's result page."""

import logging
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_protect

from clinic import page_cache
from clinic.models import ClinicDetails
from clinic.stored_limit import stored_usage

from . import fallback, submissions
from .forms import IntakeForm
from .models import IntakeSubmission, Outcome

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)

SESSION_KEY = "screening_results"
# How long the browser that sent a form can come back to its result page.
RESULT_VISIBLE_FOR = timedelta(hours=24)
RESULTS_KEPT_IN_SESSION = 5
# The form page's idempotency token, kept in a signed cookie rather than the session, so that
# opening the form writes nothing to the database: a page opened again (Back refetches it, as
# the page is never cached) carries the same token, so sending it again stores nothing. After a
# successful send the token is reused for RESEND_WINDOW, then a fresh form starts. The signature
# stops a browser from choosing its own token; the unique token on IntakeSubmission still
# decides that one token stores one form.
FORM_COOKIE = "intake_form"
FORM_COOKIE_SALT = "screening.views.form-token"
RESEND_WINDOW = timedelta(minutes=30)
UNSENT_TOKEN_KEPT_FOR = timedelta(days=1)


def intake_rate(group, request):
    return settings.INTAKE_RATE_LIMIT


def rate_limit_usage(request, *, increment: bool = False) -> dict | None:
    """How many forms this address has stored in the current window (None: no limit applies)."""
    return stored_usage(request, group="screening.intake", rate=intake_rate, increment=increment)


def load_form_questionnaire(request):
    """(active questionnaire, None), or (None, the 503 page saying the form is unavailable)."""
    try:
        active = fallback.active_questionnaire(fresh_rules=request.method == "POST")
    except fallback.QuestionnaireUnavailable:
        active = None
    if active is None:
        return None, private(render(request, "screening/unavailable.html", status=503))
    return active, None


def bound_form(active, data=None, **kwargs) -> IntakeForm:
    return IntakeForm(
        data,
        questionnaire=active.questionnaire,
        questions=active.questions,
        rules=active.rules,
        **kwargs,
    )


@csrf_protect
def intake(request):
    active, unavailable = load_form_questionnaire(request)
    if unavailable:
        return unavailable

    if request.method != "POST":
        token, sent_at, entry = form_token(request, fresh="new" in request.GET)
        response = blank_form_page(request, active, token, sent_at=sent_at)
        if entry is not None:
            set_form_cookie(response, entry)
        return response

    if request.POST.get("website"):
        # A person cannot see the honeypot field; only a bot fills it in. Store nothing, and
        # answer as if all went well so the bot learns nothing.
        logger.info("Intake form honeypot filled in; nothing stored")
        return redirect("screening:received")

    # Only stored forms count towards the limit: a patient correcting mistakes, or resending a
    # form already stored, must not lock out everyone behind the same address.
    usage = rate_limit_usage(request)
    limited = usage is not None and usage["count"] >= usage["limit"]
    form = bound_form(active, request.POST)
    if not form.is_valid():
        if limited:
            return rate_limited(request, form, usage)
        return form_page(request, form, status=400)

    # The advice comes from the answers alone, before anything touches the database, so a
    # patient whose form cannot be stored still learns what their answers call for.
    evaluated = submissions.evaluate(form)
    try:
        token, previous = submissions.find_previous(form)
        if previous is None:
            if limited:
                logger.warning("Intake form rate limit reached; answers shown again, not stored")
                return rate_limited(request, form, usage)
            submission, created = submissions.store(form, token, evaluated)
            if created:
                rate_limit_usage(request, increment=True)
                remember_result(request, submission)
                response = redirect(result_url(submission))
                set_form_cookie(response, sent_entry(form.cleaned_data["token"]))
                return response
            previous = submission
        return resent(request, form, previous, evaluated)
    except DATABASE_DOWN:
        logger.exception("Intake form could not be stored: database unreachable")
        return not_saved(request, form, evaluated[1])


def not_saved(request, form: IntakeForm, result):
    """The form again with what was typed, the advice the answers call for, and a way to reach
    the clinic (503: the patient should try again; nothing was stored)."""
    context = {
        "form": form,
        "not_saved": True,
        **result_context(result.outcome, submissions.flag_records(result), changed=False),
    }
    response = private(render(request, "screening/intake_form.html", context, status=503))
    response["Retry-After"] = "30"
    return response


def too_large(request, data, dropped: list[str], length: int):
    """An intake POST over DATA_UPLOAD_MAX_MEMORY_SIZE (see `screening.oversized`): the form
    again with every answer of a sensible size, under 413. Nothing is stored."""
    active, unavailable = load_form_questionnaire(request)
    if unavailable:
        return unavailable
    form = bound_form(active, data)
    form.is_valid()
    labels = [str(form.fields[name].label) for name in dropped if name in form.fields]
    context = {
        "form": form,
        "too_large": {
            "size_mb": f"{length / 1_000_000:.1f}",
            "limit_mb": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000:.1f}",
            "dropped": labels,
            "lost_everything": not data,
        },
    }
    return private(render(request, "screening/intake_form.html", context, status=413))


def result_url(submission: IntakeSubmission, *, changed: bool = False) -> str:
    """The result page's address, carrying the advice signed (see `fallback`)."""
    outcome = submission.current_outcome()
    flags = submission.escalated_flags if outcome != submission.outcome else submission.flags
    explanations = list(dict.fromkeys(flag["explanation"] for flag in flags))
    url = reverse("screening:result", kwargs={"public_id": submission.public_id})
    query = {"advice": fallback.advice_token(submission.public_id, outcome, explanations)}
    if changed:
        query["changed"] = "1"
    return f"{url}?{urlencode(query)}"


def resent(request, form: IntakeForm, submission: IntakeSubmission, evaluated):
    """The same form again: store nothing, but never hide advice its new answers call for."""
    answers, result = evaluated
    changed = submissions.changes(submission, form, answers)
    if changed:
        questions = {question.key: question.text for question in form.questions}
        submissions.record_changed_resend(submission, result, changed, questions)
        submission.refresh_from_db(fields=["escalated_outcome", "escalated_flags"])
    if can_see_result(request, submission.public_id):
        return redirect(result_url(submission, changed=bool(changed)))
    if changed and result.outcome != Outcome.ROUTINE:
        # Another browser resent this form with answers that call for urgent care or a
        # clinician's call: show the advice its own answers call for, and nothing of the
        # stored form.
        context = result_context(result.outcome, submissions.flag_records(result), changed=True)
        return private(render(request, "screening/result.html", context))
    # Another browser resent the form: confirm receipt, but never show the stored result.
    return redirect("screening:received")


def form_token(request, *, fresh: bool) -> tuple[uuid.UUID, datetime | None, dict | None]:
    """The token for a form page, when a form with it was sent (None if not yet), and the
    new cookie entry to send when the token is new (None when the browser's is still good)."""
    now = timezone.now()
    entry = read_form_cookie(request)
    if entry and not fresh:
        if entry["sent_at"] is None:
            if now - datetime.fromisoformat(entry["issued_at"]) < UNSENT_TOKEN_KEPT_FOR:
                return uuid.UUID(entry["token"]), None, None
        elif now - (sent_at := datetime.fromisoformat(entry["sent_at"])) < RESEND_WINDOW:
            return uuid.UUID(entry["token"]), sent_at, None
    token = uuid.uuid4()
    return token, None, {"token": str(token), "issued_at": now.isoformat(), "sent_at": None}


def sent_entry(token: uuid.UUID) -> dict:
    now = timezone.now().isoformat()
    return {"token": str(token), "issued_at": now, "sent_at": now}


def read_form_cookie(request) -> dict | None:
    """The browser's form entry, or None if it has none or it was tampered with."""
    try:
        return signing.loads(
            request.COOKIES.get(FORM_COOKIE, ""),
            salt=FORM_COOKIE_SALT,
            max_age=UNSENT_TOKEN_KEPT_FOR,
        )
    except signing.BadSignature:
        return None


def form_cookie_value(entry: dict) -> str:
    return signing.dumps(entry, salt=FORM_COOKIE_SALT, compress=True)


def set_form_cookie(response, entry: dict) -> None:
    response.set_cookie(
        FORM_COOKIE,
        form_cookie_value(entry),
        max_age=int(UNSENT_TOKEN_KEPT_FOR.total_seconds()),
        path=reverse("screening:intake"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def remember_result(request, submission: IntakeSubmission) -> None:
    results = request.session.get(SESSION_KEY, {})
    results[str(submission.public_id)] = timezone.now().isoformat()
    newest = sorted(results.items(), key=lambda item: item[1])[-RESULTS_KEPT_IN_SESSION:]
    request.session[SESSION_KEY] = dict(newest)


def form_page(request, form: IntakeForm, *, status=200, is_rate_limited=False):
    """The form again with what the patient sent, and why it was not stored."""
    context = {"form": form, "rate_limited": is_rate_limited}
    return private(render(request, "screening/intake_form.html", context, status=status))


def blank_form_page(request, active, token: uuid.UUID, *, sent_at=None):
    """The form as first opened. Its questions, about a hundred inputs, cost far more to render
    than the rest of the page: they are rendered once per questionnaire and content generation,
    and only then built as form fields. The token and the CSRF token are outside that part, so
    it holds nothing personal. The rest of the page reads only the questionnaire, the token and
    the honeypot's label, which a form without the questions gives.

    The part is rendered without the request, so that no visitor's data can reach it; the
    clinic's phone numbers, which the urgent advice beside a warning-sign answer gives, are
    passed in (a change to them starts a new content generation)."""
    questionnaire = active.questionnaire
    initial = {"token": token, "version": questionnaire.version}
    fields_html = page_cache.fragment(
        ("intake-fields", questionnaire.pk, questionnaire.version),
        lambda: render_to_string(
            "screening/_intake_fields.html",
            {"form": bound_form(active, initial=initial), "clinic": ClinicDetails.current()},
        ),
    )
    context = {
        "form": IntakeForm(questionnaire=questionnaire, questions=(), rules=(), initial=initial),
        "sent_at": sent_at,
        "fields_html": mark_safe(fields_html),  # noqa: S308  (our own template's output)
    }
    return private(render(request, "screening/intake_form.html", context))


def rate_limited(request, form: IntakeForm, usage: dict):
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
    """What to do next. Only the browser that sent the form can open it: its session says so,
    or the signed advice in the address it was sent to (which also serves the page when the
    database cannot be reached)."""
    advice = None
    if not can_see_result(request, public_id):
        # The signed advice opens the page only while the session cannot be read (the database
        # is down); otherwise the session alone decides, so a copied link shows nothing.
        if getattr(request.session, "unreadable", False):
            advice = fallback.read_advice_token(request.GET.get("advice"), public_id)
        if advice is None:
            raise Http404("No such result in this browser session")
    else:
        advice = fallback.read_advice_token(request.GET.get("advice"), public_id)
    changed = request.GET.get("changed") == "1"
    try:
        submission = (
            IntakeSubmission.objects.filter(public_id=public_id)
            .only("outcome", "flags", "escalated_outcome", "escalated_flags", "submitted_at")
            .first()
        )
    except DATABASE_DOWN:
        if advice is None:
            logger.exception("Result page without its signed advice: database unreachable")
            return private(render(request, "screening/unavailable.html", status=503))
        logger.warning("Result page served from its signed advice: database unreachable")
        flags = [{"explanation": text} for text in advice.explanations]
        return private(
            render(
                request,
                "screening/result.html",
                result_context(advice.outcome, flags, changed=changed),
            )
        )
    if submission is None:
        raise Http404("No such result")
    outcome = submission.current_outcome()
    escalated = outcome != submission.outcome
    context = result_context(
        outcome,
        submission.escalated_flags if escalated else submission.flags,
        changed=escalated or changed,
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

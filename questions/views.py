"""The "Ask a question about this article" page and its confirmation.

The form lives on its own page, never on the article page, so that article pages hold no CSRF
token or session and can be served from a shared page cache.
"""

import logging

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_protect

from articles.models import Article
from clinic.stored_limit import stored_usage
from screening.views import private

from .emergency import emergency_terms
from .forms import AskForm
from .models import PatientQuestion

logger = logging.getLogger(__name__)

SESSION_KEY = "question_urgent"


def question_rate(group, request):
    return settings.QUESTION_RATE_LIMIT


def rate_limit_usage(request, *, increment: bool = False) -> dict | None:
    """Questions stored from this address in the current window (None: no limit applies)."""
    return stored_usage(request, group="questions.ask", rate=question_rate, increment=increment)


@csrf_protect
def ask(request, slug):
    article = get_object_or_404(Article.objects.published().with_live_content(), slug=slug)
    if request.method != "POST":
        return page(request, article, AskForm())
    if request.POST.get("website"):
        # Only a bot fills in the hidden field: store nothing, answer as if all went well.
        logger.info("Question form honeypot filled in; nothing stored")
        return redirect("questions:sent", slug=article.slug)
    form = AskForm(request.POST)
    # Only stored questions count towards the limit, as on the intake form.
    usage = rate_limit_usage(request)
    limited = usage is not None and usage["count"] >= usage["limit"]
    # Read before anything else: a patient describing an emergency gets the advice at once,
    # also when the form is sent back for a missing email or consent.
    terms = emergency_terms(request.POST.get("question", ""))
    if not form.is_valid():
        return page(
            request,
            article,
            form,
            status=429 if limited else 400,
            limited=limited,
            urgent=bool(terms),
        )
    if limited:
        logger.warning("Question rate limit reached; question shown again, not stored")
        return page(request, article, form, status=429, limited=True, urgent=bool(terms))
    PatientQuestion.objects.create(
        article=article,
        text=form.cleaned_data["question"],
        name=form.cleaned_data["name"].strip(),
        email=form.cleaned_data["email"],
        consent_to_publish=form.cleaned_data["consent_to_publish"],
        is_emergency=bool(terms),
        emergency_terms=terms,
    )
    rate_limit_usage(request, increment=True)
    request.session[SESSION_KEY] = bool(terms)
    return redirect("questions:sent", slug=article.slug)


def page(request, article, form, *, status=200, limited=False, urgent=False):
    context = {
        "article": article,
        "revision": article.live_revision,
        "form": form,
        "rate_limited": limited,
        "urgent": urgent,
    }
    return private(render(request, "questions/ask.html", context, status=status))


def sent(request, slug):
    """The confirmation, with the clinic's urgent-care text; the urgent advice first when the
    question read like an emergency (known from this browser's session only)."""
    article = get_object_or_404(Article.objects.published().with_live_content(), slug=slug)
    urgent = request.session.pop(SESSION_KEY, False)
    context = {"article": article, "revision": article.live_revision, "urgent": urgent}
    return private(render(request, "questions/sent.html", context))
